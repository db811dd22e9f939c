//! Burrow's consumer status rules over the last N commits of one partition, as Burrow's
//! current evaluator applies them (`core/internal/evaluator/caching.go`), plus two verdicts
//! Burrow does not need: PENDING while the window is still filling, INVALID when the broker's
//! watermarks contradict the group's position.

use serde::Serialize;

use crate::time::format_duration_ms;

/// Ordered from best to worst, so the group's status is the partitions' maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    #[default]
    Ok,
    /// Not enough commits seen yet to judge: never read as OK.
    Pending,
    /// The offsets advance but the lag never decreases across the window.
    Warn,
    /// The watermarks cannot be right (committed past the high watermark).
    Invalid,
    /// The committed offset went backwards within the window.
    Rewind,
    /// Commits keep coming with the same offset while there is lag.
    Stall,
    /// No commit for longer than the window spans, with lag.
    Stop,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            Self::Ok => "OK",
            Self::Pending => "PENDING",
            Self::Warn => "WARN",
            Self::Invalid => "INVALID",
            Self::Rewind => "REWIND",
            Self::Stall => "STALL",
            Self::Stop => "STOP",
        };
        f.write_str(text)
    }
}

/// One commit of a group on a partition: the offset, when it was committed, and the lag at
/// that moment (the high watermark then minus the offset; `None` where nobody knows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Commit {
    pub offset: i64,
    pub at_ms: i64,
    pub lag: Option<i64>,
}

/// How verdicts are reached: the window length in commits and the lag that counts as none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub window: usize,
    /// A lag at or below this counts as zero (records a healthy consumer is always behind by).
    pub allowed_lag: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            window: 10,
            allowed_lag: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub status: Status,
    /// The verdict in words, for hover text and `status_reason`.
    pub reason: String,
}

impl Verdict {
    fn new(status: Status, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
        }
    }
}

/// Evaluates one partition. `commits` are the partition's commits oldest first (only the last
/// `rules.window` are used); `broker_offsets` are recently sampled high watermarks (Burrow's
/// broker offset ring, newest first or in any order); `current_lag` is the lag now.
pub fn evaluate(
    commits: &[Commit],
    broker_offsets: &[i64],
    current_lag: i64,
    now_ms: i64,
    rules: &Rules,
) -> Verdict {
    let window = &commits[commits.len().saturating_sub(rules.window.max(1))..];
    let lagging = |lag: i64| lag > rules.allowed_lag;
    if !lagging(current_lag) {
        return Verdict::new(
            Status::Ok,
            if current_lag == 0 {
                "caught up".to_owned()
            } else {
                format!(
                    "lag {current_lag} is within the allowed {}",
                    rules.allowed_lag
                )
            },
        );
    }
    if window.len() < rules.window.max(2) {
        let mut reason = format!(
            "warming up: {} of {} commits seen",
            window.len(),
            rules.window
        );
        if let Some(last) = window.last() {
            reason += &format!(
                ", the last {} ago",
                format_duration_ms((now_ms - last.at_ms).max(0))
            );
        }
        return Verdict::new(Status::Pending, reason);
    }
    let first = window[0];
    let last = window[window.len() - 1];
    let span_ms = last.at_ms - first.at_ms;
    let since_ms = now_ms - last.at_ms;
    // Burrow checks STOP before the zero-lag rule: a window of old commits can hold zero lags
    // long after the consumer died. Recent broker offsets at or below the last commit mean it
    // was caught up moments ago (Burrow #303), so not stopped yet.
    if offsets_stopped(window, now_ms) && !recent_lag_zero(window, broker_offsets, rules) {
        return Verdict::new(
            Status::Stop,
            format!(
                "no commit for {}; the window of {} commits spans {}",
                format_duration_ms(since_ms),
                window.len(),
                format_duration_ms(span_ms)
            ),
        );
    }
    // Burrow checks REWIND before the zero-lag rule (a consumer caught up, then rewound to the
    // earliest offset, still has zero lags in its window) and only until the offsets climb back
    // to where they were before the rewind: a rebalance can recommit a slightly older offset, and
    // a consumer that is past it again is judged by the other rules.
    if let Some(index) = offsets_rewind(window)
        && !rewind_recovered(window, index)
    {
        return Verdict::new(
            Status::Rewind,
            format!(
                "the committed offset went back from {} to {} and has not reached {} again",
                window[index - 1].offset,
                window[index].offset,
                window[index - 1].offset
            ),
        );
    }
    if !lag_always_not_zero(window, rules) {
        return Verdict::new(Status::Ok, "the lag was zero within the window");
    }
    if offsets_stalled(window) {
        return Verdict::new(
            Status::Stall,
            format!(
                "{} commits over {} all at offset {}, lag {current_lag}",
                window.len(),
                format_duration_ms(span_ms),
                first.offset
            ),
        );
    }
    if lag_not_decreasing(window) {
        return Verdict::new(
            Status::Warn,
            format!(
                "the offset advances but the lag never fell over {} commits",
                window.len()
            ),
        );
    }
    Verdict::new(Status::Ok, "the lag is falling")
}

/// Burrow's rule 1, negated: no commit in the window saw zero lag (unknown lags count as not
/// zero).
fn lag_always_not_zero(window: &[Commit], rules: &Rules) -> bool {
    !window
        .iter()
        .any(|c| c.lag.is_some_and(|lag| lag <= rules.allowed_lag))
}

/// Burrow's rule 2 (`checkIfOffsetsRewind`): the index of the first commit whose offset is
/// below the one before it (Burrow's -1 is `None`).
fn offsets_rewind(window: &[Commit]) -> Option<usize> {
    (1..window.len()).find(|&i| window[i].offset < window[i - 1].offset)
}

/// Burrow's rule 2, part 2 (`checkIfRewindRecovered`): a commit from the rewind at `index` on
/// is at or past the offset committed just before it.
fn rewind_recovered(window: &[Commit], index: usize) -> bool {
    let before = window[index - 1].offset;
    window[index..].iter().any(|c| c.offset >= before)
}

/// Burrow's rule 3: the time since the last commit is longer than the window spans.
fn offsets_stopped(window: &[Commit], now_ms: i64) -> bool {
    let first = window[0].at_ms;
    let last = window[window.len() - 1].at_ms;
    now_ms - last > last - first
}

/// Burrow's rule 4: every commit in the window is at the same offset.
fn offsets_stalled(window: &[Commit]) -> bool {
    window.windows(2).all(|p| p[1].offset == p[0].offset)
}

/// Burrow's rule 5: no known lag is below the known lag before it (unknown lags are skipped).
fn lag_not_decreasing(window: &[Commit]) -> bool {
    let lags: Vec<i64> = window.iter().filter_map(|c| c.lag).collect();
    lags.windows(2).all(|p| p[1] >= p[0])
}

/// Burrow's `checkIfRecentLagZero`: a recently sampled high watermark at or below the last
/// committed offset (within the allowed lag).
fn recent_lag_zero(window: &[Commit], broker_offsets: &[i64], rules: &Rules) -> bool {
    let last = window[window.len() - 1].offset;
    broker_offsets
        .iter()
        .any(|high| *high - last <= rules.allowed_lag)
}

/// The watermarks contradict the group: it committed past the high watermark.
pub fn inconsistency(committed: Option<i64>, high: i64) -> Option<Verdict> {
    let committed = committed?;
    (committed > high).then(|| {
        Verdict::new(
            Status::Invalid,
            format!(
                "committed offset {committed} is past the high watermark {high}: \
                 the broker under-reports its watermark, or the topic was recreated"
            ),
        )
    })
}

#[cfg(test)]
mod tests;
