//! The latency figures from what the builder applied and the producer had acknowledged:
//! percentiles per interval and overall, when a disturbance was over, the longest silence.

use super::builder::Applied;
use super::result::{Interval, Latency};

/// Nearest-rank percentile of sorted `values` (`q` in 0..=100); `None` for none.
pub fn percentile(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

/// Latency over the run in intervals of `step_ms` from `start_ms`, with the produce
/// acknowledgement times (`produced`) counted per interval.
pub fn latency(
    applied: &[Applied],
    produced: &[i64],
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    budget_ms: i64,
) -> Latency {
    let step = step_ms.max(1);
    let count = usize::try_from((end_ms - start_ms).max(0) / step + 1).unwrap_or(1);
    let mut latencies: Vec<Vec<i64>> = vec![Vec::new(); count];
    let mut made = vec![0_u64; count];
    // Before the start is in no slot (integer division would round -0.1 to slot 0).
    let slot = |at: i64| {
        (at >= start_ms)
            .then(|| usize::try_from((at - start_ms) / step).ok())
            .flatten()
            .filter(|&i| i < count)
    };
    for a in applied {
        if let Some(i) = slot(a.at_ms) {
            latencies[i].push(a.latency_ms);
        }
    }
    for &at in produced {
        if let Some(i) = slot(at) {
            made[i] += 1;
        }
    }
    let intervals = latencies
        .iter_mut()
        .zip(&made)
        .enumerate()
        .map(|(i, (values, &produced))| {
            values.sort_unstable();
            Interval {
                start_ms: start_ms + i as i64 * step,
                p50_ms: percentile(values, 50.0),
                p95_ms: percentile(values, 95.0),
                p99_ms: percentile(values, 99.0),
                produced,
                applied: values.len() as u64,
            }
        })
        .collect();
    let mut all: Vec<i64> = applied.iter().map(|a| a.latency_ms).collect();
    all.sort_unstable();
    Latency {
        intervals,
        offered: 0,
        produced: produced.len() as u64,
        p50_ms: percentile(&all, 50.0),
        p95_ms: percentile(&all, 95.0),
        p99_ms: percentile(&all, 99.0),
        applied: all.len() as u64,
        within_budget: all.iter().filter(|&&l| l <= budget_ms).count() as u64,
    }
}

/// From `since_ms` until the last record over the budget was applied, once records applied
/// after it show latency back within the budget (0 when none after `since_ms` was over it);
/// `None` when no record applied after the last breach (or after `since_ms` at all, up to
/// `observed_until_ms`) shows it back: the run ended, or the builder stopped, still behind.
pub fn back_within_budget(
    applied: &[Applied],
    since_ms: i64,
    observed_until_ms: i64,
    budget_ms: i64,
) -> Option<i64> {
    let after: Vec<&Applied> = applied
        .iter()
        .filter(|a| a.at_ms >= since_ms && a.at_ms <= observed_until_ms)
        .collect();
    let last_over = after
        .iter()
        .filter(|a| a.latency_ms > budget_ms)
        .map(|a| a.at_ms)
        .max();
    let seen_back = |from: i64| {
        after
            .iter()
            .any(|a| a.at_ms >= from && a.latency_ms <= budget_ms)
    };
    match last_over {
        None => seen_back(since_ms).then_some(0),
        Some(at) => after
            .iter()
            .any(|a| a.at_ms > at && a.latency_ms <= budget_ms)
            .then_some(at - since_ms),
    }
}

/// The worst latency of records applied at or after `since_ms`.
pub fn worst_since(applied: &[Applied], since_ms: i64) -> i64 {
    applied
        .iter()
        .filter(|a| a.at_ms >= since_ms)
        .map(|a| a.latency_ms)
        .max()
        .unwrap_or(0)
}

/// The longest stretch within [`from_ms`, `until_ms`] with no event in `times` (sorted or
/// not): from `from_ms` to the first, between two, from the last to `until_ms`.
pub fn longest_gap(times: &[i64], from_ms: i64, until_ms: i64) -> i64 {
    let mut inside: Vec<i64> = times
        .iter()
        .copied()
        .filter(|&t| t >= from_ms && t <= until_ms)
        .collect();
    inside.sort_unstable();
    let mut previous = from_ms;
    let mut longest = 0;
    for t in inside.iter().chain(std::iter::once(&until_ms)) {
        longest = longest.max(t - previous);
        previous = *t;
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(pairs: &[(i64, i64)]) -> Vec<Applied> {
        pairs
            .iter()
            .map(|&(at_ms, latency_ms)| Applied { at_ms, latency_ms })
            .collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50.0), Some(50));
        assert_eq!(percentile(&values, 95.0), Some(95));
        assert_eq!(percentile(&values, 99.0), Some(99));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
        // Nearest rank never interpolates: 3 values, p50 is the 2nd.
        assert_eq!(percentile(&[1, 10, 100], 50.0), Some(10));
    }

    #[test]
    fn intervals_count_what_was_applied_and_produced_in_them() {
        let a = applied(&[(1_000, 10), (1_500, 30), (2_100, 5000), (3_999, 20)]);
        let l = latency(&a, &[900, 1_100, 2_000, 2_001], 1_000, 3_999, 1_000, 2_000);
        assert_eq!(l.intervals.len(), 3);
        assert_eq!(l.intervals[0].applied, 2);
        assert_eq!(l.intervals[0].produced, 1, "900 is before the start");
        assert_eq!(l.intervals[0].p99_ms, Some(30));
        assert_eq!(l.intervals[1].p50_ms, Some(5000));
        assert_eq!(l.intervals[2].p50_ms, Some(20));
        assert_eq!((l.applied, l.within_budget), (4, 3));
    }

    #[test]
    fn back_within_budget_is_the_last_breach_after_the_disturbance() {
        let a = applied(&[(500, 9000), (1_200, 3000), (1_800, 2500), (2_500, 100)]);
        assert_eq!(back_within_budget(&a, 1_000, 10_000, 2_000), Some(800));
        // Nothing over the budget after it: back at once.
        assert_eq!(back_within_budget(&a, 2_000, 10_000, 2_000), Some(0));
        // Nothing applied after the last breach within what was watched: not back.
        assert_eq!(back_within_budget(&a, 1_000, 2_000, 2_000), None);
        // Nothing applied at all after it (a builder that stopped): not back either.
        assert_eq!(back_within_budget(&a, 3_000, 10_000, 2_000), None);
        assert_eq!(worst_since(&a, 1_000), 3000);
    }

    #[test]
    fn the_longest_gap_counts_the_edges() {
        assert_eq!(longest_gap(&[120, 100, 900], 0, 1_000), 780);
        assert_eq!(longest_gap(&[], 0, 1_000), 1_000);
        assert_eq!(longest_gap(&[10, 990], 0, 1_000), 980);
    }
}
