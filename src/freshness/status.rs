//! Burrow's consumer status rules over a sliding window of samples of one partition.

use serde::Serialize;

/// Ordered from best to worst, so the group's status is the partitions' maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    #[default]
    Ok,
    /// Lag not decreasing across the window while the group commits.
    Warn,
    /// The committed offset went backwards.
    Rewind,
    /// The committed offset does not move while there is lag.
    Stall,
    /// No commit for longer than the window spans.
    Stop,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            Self::Ok => "OK",
            Self::Warn => "WARN",
            Self::Rewind => "REWIND",
            Self::Stall => "STALL",
            Self::Stop => "STOP",
        };
        f.write_str(text)
    }
}

/// One observation of a partition: the group's committed offset and its lag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sample {
    pub at_ms: i64,
    pub committed: Option<i64>,
    pub lag: i64,
    /// When the group last committed, where the cluster tells (`__consumer_offsets`).
    pub commit_ms: Option<i64>,
}

/// Evaluates the samples of one partition, oldest first, that fall within `window_ms` of `now_ms`.
pub fn evaluate(samples: &[Sample], now_ms: i64, window_ms: i64) -> Status {
    let window: Vec<&Sample> = samples
        .iter()
        .filter(|s| now_ms - s.at_ms <= window_ms)
        .collect();
    let Some(last) = window.last() else {
        return Status::Ok;
    };
    if last.lag > 0
        && let Some(commit_ms) = samples.iter().filter_map(|s| s.commit_ms).max()
        && now_ms - commit_ms > window_ms
    {
        return Status::Stop;
    }
    let offsets: Vec<i64> = window.iter().filter_map(|s| s.committed).collect();
    if offsets.windows(2).any(|pair| pair[1] < pair[0]) {
        return Status::Rewind;
    }
    if window.iter().any(|s| s.lag == 0) || window.len() < 2 {
        return Status::Ok;
    }
    // The window must actually span time for "not moving" to mean anything.
    let spans = last.at_ms - window[0].at_ms > 0;
    if spans && offsets.len() == window.len() && offsets.windows(2).all(|pair| pair[0] == pair[1]) {
        return Status::Stall;
    }
    if spans && window.windows(2).all(|pair| pair[1].lag >= pair[0].lag) {
        return Status::Warn;
    }
    Status::Ok
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: i64 = 60_000;

    fn script(points: &[(i64, i64, i64)]) -> Vec<Sample> {
        points
            .iter()
            .map(|&(at_ms, committed, lag)| Sample {
                at_ms,
                committed: Some(committed),
                lag,
                commit_ms: None,
            })
            .collect()
    }

    #[test]
    fn ok_when_caught_up_or_catching_up() {
        let caught_up = script(&[(0, 10, 5), (10_000, 15, 0), (20_000, 20, 3)]);
        assert_eq!(evaluate(&caught_up, 20_000, WINDOW), Status::Ok);
        let catching_up = script(&[(0, 10, 50), (10_000, 30, 40), (20_000, 60, 20)]);
        assert_eq!(evaluate(&catching_up, 20_000, WINDOW), Status::Ok);
        assert_eq!(evaluate(&[], 0, WINDOW), Status::Ok);
    }

    #[test]
    fn warn_when_lag_never_decreases() {
        let falling_behind = script(&[
            (0, 10, 5),
            (10_000, 20, 8),
            (20_000, 30, 8),
            (30_000, 40, 12),
        ]);
        assert_eq!(evaluate(&falling_behind, 30_000, WINDOW), Status::Warn);
    }

    #[test]
    fn stall_when_the_offset_does_not_move_with_lag() {
        let stalled = script(&[(0, 10, 5), (10_000, 10, 9), (20_000, 10, 12)]);
        assert_eq!(evaluate(&stalled, 20_000, WINDOW), Status::Stall);
        // Without lag, a still offset is just an idle topic.
        let idle = script(&[(0, 10, 0), (10_000, 10, 0)]);
        assert_eq!(evaluate(&idle, 10_000, WINDOW), Status::Ok);
    }

    #[test]
    fn rewind_when_the_offset_goes_back() {
        let rewound = script(&[(0, 100, 5), (10_000, 40, 65), (20_000, 50, 60)]);
        assert_eq!(evaluate(&rewound, 20_000, WINDOW), Status::Rewind);
    }

    #[test]
    fn stop_when_no_commit_for_longer_than_the_window() {
        let mut samples = script(&[(100_000, 10, 5), (110_000, 10, 9)]);
        for s in &mut samples {
            s.commit_ms = Some(20_000);
        }
        // The mock clock: at 110 s the last commit (20 s) is 90 s old, the window 60 s.
        assert_eq!(evaluate(&samples, 110_000, WINDOW), Status::Stop);
        assert_eq!(evaluate(&samples, 70_000, WINDOW), Status::Stall);
    }

    #[test]
    fn old_samples_fall_out_of_the_window() {
        let samples = script(&[
            (0, 100, 5),
            (10_000, 40, 65),
            (100_000, 50, 0),
            (110_000, 60, 0),
        ]);
        assert_eq!(
            evaluate(&samples, 110_000, WINDOW),
            Status::Ok,
            "the rewind is older than the window"
        );
    }

    #[test]
    fn statuses_order_from_best_to_worst() {
        let worst = [Status::Warn, Status::Ok, Status::Stall].into_iter().max();
        assert_eq!(worst, Some(Status::Stall));
        assert_eq!(Status::Stop.to_string(), "STOP");
    }
}
