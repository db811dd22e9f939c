//! When a builder group is projected back within the budget: from each partition's drain rate,
//! the partition that takes longest, or the one that is not catching up. The Freshness tab and
//! `freshlens freshness` say the same sentence.

use serde::Serialize;

use super::{GroupLag, back_within_budget_ms};
use crate::time::format_duration_ms;

/// A group's projection back within a budget.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackWithinBudget {
    pub group: String,
    pub status: String,
    /// How long until every partition is within the budget (0: it is now); `None` where a
    /// partition is not projected back at all (`not_projected` says which and why).
    pub in_ms: Option<i64>,
    /// The partition that takes longest, `topic/partition`.
    pub last_partition: Option<String>,
    /// The partition that is not catching up, and its drain in words.
    pub not_projected: Option<String>,
}

/// `group`'s projection back within `budget_ms`, from its partitions' drain.
pub fn back_within_budget(group: &GroupLag, budget_ms: i64) -> BackWithinBudget {
    let mut projection = BackWithinBudget {
        group: group.group.clone(),
        status: group.status.to_string(),
        in_ms: Some(0),
        last_partition: None,
        not_projected: None,
    };
    for p in &group.partitions {
        match back_within_budget_ms(&p.drain, p.lag, p.time_lag_ms, budget_ms) {
            None => {
                projection.in_ms = None;
                projection.last_partition = None;
                projection.not_projected =
                    Some(format!("{}/{} {}", p.topic, p.partition, p.drain.text));
                return projection;
            }
            Some(ms) if projection.in_ms.is_some_and(|longest| ms > longest) => {
                projection.in_ms = Some(ms);
                projection.last_partition = Some(format!("{}/{}", p.topic, p.partition));
            }
            Some(_) => {}
        }
    }
    projection
}

impl std::fmt::Display for BackWithinBudget {
    /// "profile-builder (STALL): not projected back within budget: orders/1 not catching up",
    /// "… back within budget in 4m10s (orders/1 is the last)" or "… within budget now".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self { group, status, .. } = self;
        match (&self.not_projected, self.in_ms, &self.last_partition) {
            (Some(why), ..) => write!(
                f,
                "{group} ({status}): not projected back within budget: {why}"
            ),
            (None, Some(ms), Some(last)) if ms > 0 => write!(
                f,
                "{group} ({status}): back within budget in {} ({last} is the last)",
                format_duration_ms(ms)
            ),
            _ => write!(f, "{group} ({status}): within budget now"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_projection_names_the_last_partition_back_within_budget() {
        use crate::freshness::{Drain, PartitionLag};
        let part = |partition, lag, time_lag_ms, consume, produce| PartitionLag {
            topic: "orders".into(),
            partition,
            lag,
            time_lag_ms: Some(time_lag_ms),
            drain: Drain {
                consume_per_sec: Some(consume),
                produce_per_sec: Some(produce),
                draining: Some(consume > produce),
                ..Drain::default()
            },
            ..PartitionLag::default()
        };
        let mut group = GroupLag {
            group: "profile-builder".into(),
            partitions: vec![
                part(0, 10, 1_000, 2.0, 1.0),
                part(1, 4_000, 600_000, 120.0, 80.0),
            ],
            ..GroupLag::default()
        };
        group.summarize();
        // Partition 1: 4,000 behind over 10 minutes. A 15-minute budget holds all of it.
        assert_eq!(
            back_within_budget(&group, 900_000).to_string(),
            "profile-builder (OK): within budget now"
        );
        // A 1-minute budget: the 3,600 records older than it, at 40/s net.
        assert_eq!(
            back_within_budget(&group, 60_000).to_string(),
            "profile-builder (OK): back within budget in 1m30s (orders/1 is the last)"
        );
        group.partitions[1].drain.draining = Some(false);
        group.partitions[1].drain.text = "not catching up".into();
        assert!(
            back_within_budget(&group, 60_000)
                .to_string()
                .contains("not projected back within budget")
        );
    }
}
