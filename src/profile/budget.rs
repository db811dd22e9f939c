//! The freshness budget: how long a source event may take to reach the serving store and still
//! count as fresh. One type, so that "past the budget" means the same comparison in every
//! census, chart and colour (past is strictly more than the budget; at it is still within).

use std::fmt;
use std::time::Duration;

/// The longest budget a spec may set: times are i64 milliseconds, and ten years is already
/// no budget at all.
pub const MAX_BUDGET: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A freshness budget, in whole milliseconds (more than 0, at most [`MAX_BUDGET`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Budget {
    ms: i64,
}

/// Where an age stands against the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Not behind at all.
    Current,
    /// Behind, but no more than the budget: worth a look, not a breach.
    Within,
    /// Behind by more than the budget: a breach.
    Past,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("must be more than 0 and at most 10 years")]
pub struct BudgetOutOfRange;

impl Budget {
    /// A spec's budget when it names none: five minutes.
    pub const DEFAULT: Budget = Budget { ms: 300_000 };

    /// A budget of `duration`, refused when zero or past [`MAX_BUDGET`].
    pub fn new(duration: Duration) -> Result<Budget, BudgetOutOfRange> {
        if duration.is_zero() || duration > MAX_BUDGET {
            return Err(BudgetOutOfRange);
        }
        // At least 1 ms: a budget of a few microseconds is the tightest one there is.
        Ok(Budget {
            ms: (duration.as_millis() as i64).max(1),
        })
    }

    pub fn ms(self) -> i64 {
        self.ms
    }

    pub fn secs_f64(self) -> f64 {
        self.ms as f64 / 1000.0
    }

    pub fn duration(self) -> Duration {
        Duration::from_millis(self.ms as u64)
    }

    /// Whether something `behind_ms` old breaks the budget.
    pub fn is_past(self, behind_ms: i64) -> bool {
        behind_ms > self.ms
    }

    /// Where something `behind_ms` old stands.
    pub fn standing(self, behind_ms: i64) -> Standing {
        match behind_ms {
            b if b <= 0 => Standing::Current,
            b if self.is_past(b) => Standing::Past,
            _ => Standing::Within,
        }
    }
}

/// As its milliseconds: the number every JSON output calls `budget_ms`.
impl serde::Serialize for Budget {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.ms)
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::DEFAULT
    }
}

/// As every other duration is said: `5m00s`, `15m00s`, `1h00m`.
impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::time::format_duration_ms(self.ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_is_strictly_more_than_the_budget() {
        let budget = Budget::new(Duration::from_secs(60)).unwrap();
        assert_eq!(budget.standing(0), Standing::Current);
        assert_eq!(budget.standing(-5), Standing::Current);
        assert_eq!(budget.standing(1), Standing::Within);
        assert_eq!(budget.standing(60_000), Standing::Within);
        assert_eq!(budget.standing(60_001), Standing::Past);
        assert!(!budget.is_past(60_000));
        assert!(budget.is_past(60_001));
    }

    #[test]
    fn out_of_range_budgets_are_refused() {
        assert_eq!(Budget::new(Duration::ZERO), Err(BudgetOutOfRange));
        assert_eq!(
            Budget::new(MAX_BUDGET + Duration::from_secs(1)),
            Err(BudgetOutOfRange)
        );
        assert_eq!(Budget::new(Duration::from_micros(10)).unwrap().ms(), 1);
        assert_eq!(Budget::new(MAX_BUDGET).unwrap().duration(), MAX_BUDGET);
        assert_eq!(Budget::DEFAULT.to_string(), "5m00s");
        assert_eq!(Budget::default(), Budget::DEFAULT);
    }
}
