//! Will a lagging partition catch up, and when; will retention delete records before the group
//! reads them. Rates come from the commit window (consume) and the high watermarks at those
//! commits or sampled since (produce).

use serde::Serialize;

use super::interpolate::OffsetTimeTable;
use super::status::{Commit, Rules, Status};
use crate::time::format_duration_ms;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Drain {
    /// Records committed per second over the window.
    pub consume_per_sec: Option<f64>,
    /// Records written per second over the same stretch.
    pub produce_per_sec: Option<f64>,
    /// When the lag is projected to be gone: lag / (consume - produce). `None` when not
    /// draining or not known.
    pub eta_ms: Option<i64>,
    /// Consuming faster than records arrive; `None` when the rates are not known.
    pub draining: Option<bool>,
    #[serde(rename = "drain")]
    pub text: String,
}

impl Drain {
    /// The ETA in a word or two, for tables: `-` when caught up, `never` when not draining,
    /// `?` when unknown.
    pub fn eta_text(eta_ms: Option<i64>, draining: Option<bool>) -> String {
        match (eta_ms, draining) {
            (Some(0), _) => "-".into(),
            (Some(ms), _) => format_duration_ms(ms),
            (None, Some(false)) => "never".into(),
            (None, _) => "?".into(),
        }
    }
}

/// Records per second between two (offset, time) points; `None` without elapsed time.
fn rate(from: (i64, i64), to: (i64, i64)) -> Option<f64> {
    let elapsed_ms = to.1 - from.1;
    (elapsed_ms > 0).then(|| (to.0 - from.0) as f64 * 1000.0 / elapsed_ms as f64)
}

fn per_sec(rate: f64) -> String {
    if rate >= 10.0 || rate == 0.0 {
        format!("{rate:.0}/s")
    } else {
        format!("{rate:.2}/s")
    }
}

/// The drain of one partition judged `status` with `lag` records behind now. `window` is the
/// commit window the status was judged on, `table` the sampled high watermarks.
pub fn drain(
    window: &[Commit],
    table: Option<&OffsetTimeTable>,
    lag: i64,
    status: Status,
    rules: &Rules,
) -> Drain {
    if lag <= rules.allowed_lag {
        return Drain {
            eta_ms: Some(0),
            text: "caught up".into(),
            ..Drain::default()
        };
    }
    let ends = window.first().zip(window.last());
    let consume =
        ends.and_then(|(first, last)| rate((first.offset, first.at_ms), (last.offset, last.at_ms)));
    let from_commits = ends.and_then(|(first, last)| match (first.lag, last.lag) {
        (Some(a), Some(b)) => rate(
            (first.offset + a, first.at_ms),
            (last.offset + b, last.at_ms),
        ),
        _ => None,
    });
    let produce = from_commits.or_else(|| {
        let points: Vec<(i64, i64)> = table?.points().collect();
        rate(*points.first()?, *points.last()?)
    });
    if matches!(status, Status::Stop | Status::Stall) {
        return Drain {
            consume_per_sec: Some(0.0),
            produce_per_sec: produce,
            eta_ms: None,
            draining: Some(false),
            text: format!("not catching up: {status}, nothing consumed"),
        };
    }
    let (Some(consume), Some(produce)) = (consume, produce) else {
        return Drain {
            consume_per_sec: consume,
            produce_per_sec: produce,
            text: "rates not known yet: too few commits or samples".into(),
            ..Drain::default()
        };
    };
    // A consumer reading about as fast as records arrive (within 10%), with no more behind
    // than arrive between two of its commits, is keeping up: its lag is the batch in flight,
    // and "draining" it at the tiny net rate would read as hours. It reads what is there now
    // at its own rate.
    let commits = window.len().max(2) as f64 - 1.0;
    let span_s = ends.map_or(0.0, |(f, l)| (l.at_ms - f.at_ms) as f64 / 1000.0);
    let per_commit = produce * span_s / commits;
    let steady = (consume - produce).abs() <= 0.1 * consume.max(produce);
    if status == Status::Ok && steady && consume > 0.0 && lag as f64 <= per_commit.ceil() + 1.0 {
        let eta_ms = (lag as f64 / consume * 1000.0).round() as i64;
        return Drain {
            consume_per_sec: Some(consume),
            produce_per_sec: Some(produce),
            eta_ms: Some(eta_ms),
            draining: Some(true),
            text: format!(
                "keeping up: {lag} behind is less than arrives between commits; consumes {}, \
                 produced {}",
                per_sec(consume),
                per_sec(produce)
            ),
        };
    }
    let net = consume - produce;
    if net > 0.0 {
        let eta_ms = (lag as f64 / net * 1000.0).round() as i64;
        Drain {
            consume_per_sec: Some(consume),
            produce_per_sec: Some(produce),
            eta_ms: Some(eta_ms),
            draining: Some(true),
            text: format!(
                "drains in {}: consumes {}, produced {}",
                format_duration_ms(eta_ms),
                per_sec(consume),
                per_sec(produce)
            ),
        }
    } else {
        Drain {
            consume_per_sec: Some(consume),
            produce_per_sec: Some(produce),
            eta_ms: None,
            draining: Some(false),
            text: format!(
                "not catching up: consumes {}, produced {}",
                per_sec(consume),
                per_sec(produce)
            ),
        }
    }
}

/// How long until a partition's oldest unread record is younger than `budget_ms` again. Of the
/// `lag` records behind, spread over the `time_lag_ms` since the oldest was written, those older
/// than the budget must be read at the net rate (consume - produce): `lag * (T - B) / T` records.
/// With steady production that is `lag - B * produce`. `Some(0)` when already within budget,
/// `None` when the group is not draining or its rates are unknown.
pub fn back_within_budget_ms(
    drain: &Drain,
    lag: i64,
    time_lag_ms: Option<i64>,
    budget_ms: i64,
) -> Option<i64> {
    let time_lag_ms = time_lag_ms?;
    if lag == 0 || time_lag_ms <= budget_ms {
        return Some(0);
    }
    let (consume, produce) = (drain.consume_per_sec?, drain.produce_per_sec?);
    if drain.draining != Some(true) || consume <= produce {
        return None;
    }
    let older = lag as f64 * (time_lag_ms - budget_ms) as f64 / time_lag_ms as f64;
    Some((older / (consume - produce) * 1000.0).round() as i64)
}

/// How long a topic keeps records before deleting them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// The cluster did not say (Tansu answers only the configs set at creation).
    Unknown,
    /// `retention.ms = -1`, or compaction without time-based deletion.
    Never,
    Ms(i64),
}

impl Retention {
    /// From a topic's configuration entries.
    pub fn from_configs(configs: &[(String, String)]) -> Self {
        let get = |key: &str| {
            configs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim())
        };
        if let Some(policy) = get("cleanup.policy")
            && !policy.split(',').any(|p| p.trim() == "delete")
        {
            return Self::Never;
        }
        match get("retention.ms").map(str::parse::<i64>) {
            Some(Ok(ms)) if ms < 0 => Self::Never,
            Some(Ok(ms)) => Self::Ms(ms),
            _ => Self::Unknown,
        }
    }

    /// As `retention_ms` prints it: -1 for never, `None` when unknown.
    pub fn as_ms(self) -> Option<i64> {
        match self {
            Self::Unknown => None,
            Self::Never => Some(-1),
            Self::Ms(ms) => Some(ms),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RetentionRisk {
    /// Records deleted before the group read them: the committed offset is below the low
    /// watermark.
    pub lost_records: i64,
    /// How long until the oldest unread record expires; `None` when unknown or never.
    #[serde(rename = "retention_margin_ms")]
    pub margin_ms: Option<i64>,
    /// The margin is shorter than the time to drain (or the group is not draining).
    #[serde(rename = "retention_risk")]
    pub at_risk: bool,
    #[serde(rename = "retention_text")]
    pub text: String,
}

/// Retention risk of one partition: `committed` and `low` now, `age_ms` the age of the oldest
/// unread record (the time lag), `drain` from [`drain`].
pub fn retention_risk(
    committed: Option<i64>,
    low: i64,
    lag: i64,
    age_ms: Option<i64>,
    retention: Retention,
    drain: &Drain,
) -> RetentionRisk {
    // A negative "commit" is Kafka's "none" (-1), never records lost.
    let lost_records = committed
        .filter(|c| *c >= 0)
        .map_or(0, |c| low.saturating_sub(c).max(0));
    let margin_ms = match (retention, age_ms) {
        (Retention::Ms(keep), Some(age)) if lag > 0 => Some(keep - age),
        _ => None,
    };
    let at_risk = margin_ms.is_some_and(|margin| match (drain.draining, drain.eta_ms) {
        (Some(true), Some(eta)) => eta > margin,
        _ => true,
    });
    let mut text = match (retention, margin_ms) {
        (Retention::Unknown, _) if lag > 0 => "retention unknown".to_owned(),
        (Retention::Never, _) if lag > 0 => "records are kept (no time-based deletion)".into(),
        (_, Some(margin)) if at_risk => format!(
            "will lose data in {} at this rate: the oldest unread record expires then",
            format_duration_ms(margin)
        ),
        (_, Some(margin)) => format!(
            "the oldest unread record expires in {}",
            format_duration_ms(margin)
        ),
        _ => String::new(),
    };
    if lost_records > 0 {
        text = format!(
            "{lost_records} records deleted before the group read them (committed {} < low \
             watermark {low}); {text}",
            committed.unwrap_or_default()
        );
    }
    RetentionRisk {
        lost_records,
        margin_ms,
        at_risk: at_risk || lost_records > 0,
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commits(points: &[(i64, i64, Option<i64>)]) -> Vec<Commit> {
        points
            .iter()
            .map(|&(offset, at_ms, lag)| Commit { offset, at_ms, lag })
            .collect()
    }

    const RULES: Rules = Rules {
        window: 3,
        allowed_lag: 0,
    };

    #[test]
    fn draining_partitions_get_an_eta() {
        // 120 records/s consumed, the high watermark moving 80/s: 4,000 behind drains in 100 s.
        let window = commits(&[(0, 0, Some(4_000)), (12_000, 100_000, Some(0))]);
        let d = drain(&window, None, 4_000, Status::Ok, &RULES);
        assert_eq!(d.consume_per_sec, Some(120.0));
        assert_eq!(d.produce_per_sec, Some(80.0));
        assert_eq!((d.eta_ms, d.draining), (Some(100_000), Some(true)));
        assert_eq!(d.text, "drains in 1m40s: consumes 120/s, produced 80/s");
    }

    #[test]
    fn not_catching_up_says_both_rates() {
        let window = commits(&[(0, 0, Some(100)), (12_000, 100_000, Some(6_100))]);
        let d = drain(&window, None, 6_100, Status::Warn, &RULES);
        assert_eq!((d.eta_ms, d.draining), (None, Some(false)));
        assert_eq!(d.text, "not catching up: consumes 120/s, produced 180/s");
    }

    #[test]
    fn produce_rate_from_sampled_watermarks_when_commit_lags_are_unknown() {
        let window = commits(&[(0, 0, None), (1_000, 10_000, None)]);
        let mut table = OffsetTimeTable::new(10);
        table.add(500, 0);
        table.add(1_000, 10_000);
        let d = drain(&window, Some(&table), 500, Status::Ok, &RULES);
        assert_eq!(d.produce_per_sec, Some(50.0));
        assert_eq!(d.eta_ms, Some(10_000));
    }

    #[test]
    fn a_consumer_keeping_up_reads_its_batch_in_flight() {
        // 60 records a minute arrive and are read; 12 behind is less than arrives between two
        // commits a minute apart: keeping up, not "draining in hours" at a net rate near zero.
        let window = commits(&[
            (0, 0, Some(10)),
            (60, 60_000, Some(12)),
            (119, 120_000, Some(13)),
        ]);
        let d = drain(&window, None, 12, Status::Ok, &RULES);
        assert_eq!(d.draining, Some(true));
        assert_eq!(d.eta_ms, Some(12_101));
        assert!(d.text.starts_with("keeping up"), "{}", d.text);
        // The same rates with 500 behind is not keeping up.
        let behind = drain(&window, None, 500, Status::Ok, &RULES);
        assert_eq!(behind.draining, Some(false));
    }

    #[test]
    fn stopped_caught_up_and_unknown() {
        let window = commits(&[(0, 0, Some(5)), (0, 1_000, Some(9))]);
        let stopped = drain(&window, None, 9, Status::Stop, &RULES);
        assert_eq!((stopped.draining, stopped.eta_ms), (Some(false), None));
        let caught_up = drain(&[], None, 0, Status::Ok, &RULES);
        assert_eq!((caught_up.eta_ms, caught_up.draining), (Some(0), None));
        let unknown = drain(&[], None, 10, Status::Pending, &RULES);
        assert_eq!((unknown.eta_ms, unknown.draining), (None, None));
    }

    #[test]
    fn back_within_budget_projects_the_drain() {
        // 120/s consumed, 80/s produced, 4,000 behind over 50 s (steady), 10 s budget: the 800
        // newest records are within budget, so 3,200 to gain at 40/s net: 80 s.
        let d = Drain {
            consume_per_sec: Some(120.0),
            produce_per_sec: Some(80.0),
            eta_ms: Some(100_000),
            draining: Some(true),
            text: String::new(),
        };
        assert_eq!(
            back_within_budget_ms(&d, 4_000, Some(50_000), 10_000),
            Some(80_000)
        );
        assert_eq!(
            back_within_budget_ms(&d, 4_000, Some(5_000), 10_000),
            Some(0)
        );
        let stuck = Drain {
            draining: Some(false),
            ..d
        };
        assert_eq!(
            back_within_budget_ms(&stuck, 4_000, Some(60_000), 10_000),
            None
        );
    }

    fn configs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn retention_from_topic_configs() {
        let of = |pairs: &[(&str, &str)]| Retention::from_configs(&configs(pairs));
        assert_eq!(of(&[("retention.ms", "3600000")]), Retention::Ms(3_600_000));
        assert_eq!(of(&[("retention.ms", "-1")]), Retention::Never);
        assert_eq!(
            of(&[("cleanup.policy", "compact"), ("retention.ms", "1000")]),
            Retention::Never
        );
        assert_eq!(
            of(&[
                ("cleanup.policy", "compact,delete"),
                ("retention.ms", "1000")
            ]),
            Retention::Ms(1_000)
        );
        assert_eq!(of(&[]), Retention::Unknown);
        assert_eq!(Retention::Never.as_ms(), Some(-1));
    }

    #[test]
    fn retention_margin_against_the_eta() {
        let slow = Drain {
            eta_ms: Some(3 * 3_600_000),
            draining: Some(true),
            ..Drain::default()
        };
        // Keeps 8 h, the oldest unread record is 5 h 50 m old: 2 h 10 m left, draining takes 3 h.
        let risk = retention_risk(
            Some(100),
            0,
            50,
            Some(5 * 3_600_000 + 50 * 60_000),
            Retention::Ms(8 * 3_600_000),
            &slow,
        );
        assert_eq!(risk.margin_ms, Some(2 * 3_600_000 + 10 * 60_000));
        assert!(risk.at_risk);
        assert!(
            risk.text.starts_with("will lose data in 2h10m"),
            "{}",
            risk.text
        );
        let fast = Drain {
            eta_ms: Some(60_000),
            draining: Some(true),
            ..Drain::default()
        };
        let safe = retention_risk(Some(100), 0, 50, Some(0), Retention::Ms(3_600_000), &fast);
        assert!(!safe.at_risk);
        let never = retention_risk(Some(100), 0, 50, Some(0), Retention::Never, &slow);
        assert_eq!((never.margin_ms, never.at_risk), (None, false));
    }

    #[test]
    fn commits_below_the_low_watermark_lost_records() {
        let risk = retention_risk(
            Some(40),
            100,
            60,
            None,
            Retention::Unknown,
            &Drain::default(),
        );
        assert_eq!(risk.lost_records, 60);
        assert!(risk.at_risk);
        assert!(risk.text.starts_with("60 records deleted"), "{}", risk.text);
        let none = retention_risk(None, 100, 60, None, Retention::Unknown, &Drain::default());
        assert_eq!(
            none.lost_records, 0,
            "no commit reads from the low watermark"
        );
    }
}
