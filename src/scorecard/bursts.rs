//! Bursts in a source's produce rate and the builder's time lag through them, computed from
//! what was written and committed (pure: the gathering is in `elasticity`).
//!
//! A burst is a run of whole minutes (aligned to the epoch's) in which a topic's records, by
//! timestamp, are more than twice its median minute over the window, and more than chance
//! explains (see [`bursts`]).
//! The builder's time lag at an instant is, over its partitions, the worst age of the first
//! record its last commit had not read: `t - timestamp(committed offset)` where that record
//! was written by `t`, else 0.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

pub const MINUTE_MS: i64 = 60_000;
/// Fewer records than this in a minute load no builder: not a burst whatever the median.
pub const MIN_BURST: u64 = 10;

/// Records per epoch minute of one topic.
pub type MinuteCounts = BTreeMap<i64, u64>;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Burst {
    pub topic: String,
    pub start_ms: i64,
    /// The end of its last minute.
    pub end_ms: i64,
    pub records: u64,
    /// Records in the topic's median minute over the window.
    pub median_per_minute: f64,
    /// The builder's worst time lag at its commits from the start until back within budget
    /// (or now); `None` with no commit in that time.
    pub worst_lag_ms: Option<i64>,
    /// When, after the burst's end, the builder was first seen within budget again; 0 when
    /// it never left it; `None` when it has not been seen back yet.
    pub recovered_after_ms: Option<i64>,
    /// `recovered_at_ms` of the commit that showed it back.
    pub back_at_ms: Option<i64>,
}

/// The median of the records per minute over `[from_ms, to_ms)`, silent minutes included.
pub fn median_minute(counts: &MinuteCounts, from_ms: i64, to_ms: i64) -> f64 {
    let first = from_ms.div_euclid(MINUTE_MS);
    let last = (to_ms - 1).div_euclid(MINUTE_MS);
    if last < first {
        return 0.0;
    }
    let mut sorted: Vec<u64> = (first..=last)
        .map(|m| counts.get(&m).copied().unwrap_or(0))
        .collect();
    sorted.sort_unstable();
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2] as f64
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0
    }
}

/// Runs of minutes above twice the median, over `[from_ms, to_ms)` (zero minutes count).
pub fn bursts(topic: &str, counts: &MinuteCounts, from_ms: i64, to_ms: i64) -> Vec<Burst> {
    let first = from_ms.div_euclid(MINUTE_MS);
    let last = (to_ms - 1).div_euclid(MINUTE_MS);
    if last < first {
        return Vec::new();
    }
    let minutes: Vec<(i64, u64)> = (first..=last)
        .map(|m| (m, counts.get(&m).copied().unwrap_or(0)))
        .collect();
    let median = median_minute(counts, from_ms, to_ms);
    // Records arrive at random: a topic with a median of 2 a minute sees 5 in some minute by
    // chance every hour or so. Chance is put aside as Poisson counts allow (five standard
    // deviations above the median), and a burst has at least `MIN_BURST` records a minute.
    let threshold = (2.0 * median)
        .max(median + 5.0 * median.sqrt())
        .max(MIN_BURST as f64 - 1.0);
    let mut out = Vec::new();
    let mut run: Option<(i64, i64, u64)> = None;
    for (m, c) in minutes.iter().copied().chain([(last + 1, 0)]) {
        if c as f64 > threshold {
            let r = run.get_or_insert((m, m, 0));
            r.1 = m;
            r.2 += c;
        } else if let Some((s, e, records)) = run.take() {
            out.push(Burst {
                topic: topic.to_owned(),
                start_ms: s * MINUTE_MS,
                end_ms: (e + 1) * MINUTE_MS,
                records,
                median_per_minute: median,
                worst_lag_ms: None,
                recovered_after_ms: None,
                back_at_ms: None,
            });
        }
    }
    out
}

/// A partition's commits, oldest first: (commit time, offset committed).
pub type PartitionCommits = Vec<(i64, i64)>;

/// The builder's commits per (topic, partition) and, for each committed offset, the timestamp
/// of the first record at or after it (absent where none was written yet: the group had read
/// everything; a transaction marker or a compacted-away record leaves a gap to skip).
#[derive(Debug, Clone, Default)]
pub struct CommitTrail {
    pub commits: HashMap<(String, i32), PartitionCommits>,
    pub written_ms: HashMap<(String, i32, i64), i64>,
}

impl CommitTrail {
    /// Every commit time, sorted, without repeats.
    pub fn times(&self) -> Vec<i64> {
        let mut times: Vec<i64> = self.commits.values().flatten().map(|(t, _)| *t).collect();
        times.sort_unstable();
        times.dedup();
        times
    }

    /// The group's time lag at `t`, from each partition's last commit at or before `t`;
    /// `None` when no partition had committed yet.
    pub fn lag_at(&self, t: i64) -> Option<i64> {
        let mut worst = None;
        for ((topic, partition), commits) in &self.commits {
            let before = commits.partition_point(|(at, _)| *at <= t);
            let Some((_, offset)) = before.checked_sub(1).map(|i| commits[i]) else {
                continue;
            };
            let lag = match self.written_ms.get(&(topic.clone(), *partition, offset)) {
                Some(&written) if written <= t => t - written,
                _ => 0,
            };
            worst = Some(worst.map_or(lag, |w: i64| w.max(lag)));
        }
        worst
    }

    /// The lag at each commit time.
    pub fn series(&self) -> Vec<(i64, i64)> {
        self.times()
            .into_iter()
            .filter_map(|t| Some((t, self.lag_at(t)?)))
            .collect()
    }
}

/// Fills in each burst's worst lag and recovery from the builder's lag `series` (at its
/// commits), against `budget_ms`. The builder often falls behind after a burst has ended (it
/// is still reading it), so a burst answers for the lag from its start until `horizon_ms` after
/// its end or the next burst's start: when a commit in that span is past the budget, the
/// builder is back at the first commit after that (and after the end) within it.
pub fn judge_bursts(bursts: &mut [Burst], series: &[(i64, i64)], budget_ms: i64, horizon_ms: i64) {
    let starts: Vec<i64> = bursts.iter().map(|b| b.start_ms).collect();
    for burst in bursts.iter_mut() {
        let next = starts
            .iter()
            .copied()
            .filter(|s| *s >= burst.end_ms)
            .min()
            .unwrap_or(i64::MAX);
        let limit = next.min(burst.end_ms.saturating_add(horizon_ms));
        let first_past = series
            .iter()
            .find(|(t, lag)| *t >= burst.start_ms && *t < limit && *lag > budget_ms);
        let back = match first_past {
            // Never past the budget: back at its end, if a point after the end says so (a
            // builder that stopped committing shows nothing either way).
            None => series
                .iter()
                .any(|(t, _)| *t >= burst.end_ms && *t < limit)
                .then_some(burst.end_ms),
            Some(&(left_at, _)) => series
                .iter()
                .find(|(t, lag)| *t > left_at && *t >= burst.end_ms && *lag <= budget_ms)
                .map(|(t, _)| *t),
        };
        // At least up to the first commit after the end: what the builder had read of it.
        let after_end = series
            .iter()
            .find(|(t, _)| *t >= burst.end_ms)
            .map_or(burst.end_ms, |(t, _)| *t);
        let until = back.unwrap_or(i64::MAX).max(after_end);
        burst.worst_lag_ms = series
            .iter()
            .filter(|(t, _)| *t >= burst.start_ms && *t <= until)
            .map(|(_, lag)| *lag)
            .max();
        burst.back_at_ms = back;
        burst.recovered_after_ms = back.map(|b| (b - burst.end_ms).max(0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_040_000; // a whole minute

    fn counts(per_minute: &[u64]) -> MinuteCounts {
        per_minute
            .iter()
            .enumerate()
            .map(|(i, c)| (T0 / MINUTE_MS + i as i64, *c))
            .collect()
    }

    #[test]
    fn a_run_above_twice_the_median_is_a_burst_from_its_first_minute_to_its_last() {
        let mut minutes = vec![100; 30];
        minutes[12] = 201; // above twice 100 (and 100 + 5 sqrt(100) = 150)
        minutes[13] = 500;
        minutes[14] = 200; // exactly twice: not above
        minutes[20] = 1000;
        let found = bursts("t", &counts(&minutes), T0, T0 + 30 * MINUTE_MS);
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].start_ms, found[0].end_ms, found[0].records),
            (T0 + 12 * MINUTE_MS, T0 + 14 * MINUTE_MS, 701)
        );
        assert_eq!(found[0].median_per_minute, 100.0);
        assert_eq!(
            (found[1].start_ms, found[1].end_ms),
            (T0 + 20 * MINUTE_MS, T0 + 21 * MINUTE_MS)
        );
    }

    #[test]
    fn what_chance_explains_on_a_quiet_topic_is_no_burst() {
        let mut minutes = vec![4; 40];
        minutes[3] = 9; // twice 4 and more, but under 4 + 5 * 2 = 14
        minutes[9] = 15;
        minutes[39] = 400; // the window's last minute: a burst still under way
        let found = bursts("t", &counts(&minutes), T0, T0 + 40 * MINUTE_MS);
        let starts: Vec<i64> = found
            .iter()
            .map(|b| (b.start_ms - T0) / MINUTE_MS)
            .collect();
        assert_eq!(starts, [9, 39]);
        // A topic silent most minutes: nine records in a minute are still too few.
        let mut quiet = vec![0; 20];
        quiet[5] = 9;
        quiet[6] = 10;
        let found = bursts("t", &counts(&quiet), T0, T0 + 20 * MINUTE_MS);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].start_ms, T0 + 6 * MINUTE_MS);
    }

    fn trail() -> CommitTrail {
        // One partition: records 0..=9 written a minute apart from T0; the builder reads the
        // first five on time, then stalls at offset 5 for 20 minutes, then catches up.
        let mut trail = CommitTrail::default();
        let tp = ("t".to_owned(), 0);
        for offset in 0..10 {
            trail
                .written_ms
                .insert(("t".into(), 0, offset), T0 + offset * MINUTE_MS);
        }
        trail.commits.insert(
            tp,
            vec![
                (T0 + 5 * MINUTE_MS, 5),
                (T0 + 15 * MINUTE_MS, 5),
                (T0 + 25 * MINUTE_MS, 5),
                (T0 + 30 * MINUTE_MS, 10),
            ],
        );
        trail
    }

    #[test]
    fn the_lag_at_a_commit_is_the_age_of_the_first_record_not_read() {
        let trail = trail();
        assert_eq!(trail.lag_at(T0), None);
        assert_eq!(trail.lag_at(T0 + 5 * MINUTE_MS), Some(0)); // offset 5 is written at +5
        assert_eq!(trail.lag_at(T0 + 15 * MINUTE_MS), Some(10 * MINUTE_MS));
        assert_eq!(trail.lag_at(T0 + 27 * MINUTE_MS), Some(22 * MINUTE_MS));
        assert_eq!(trail.lag_at(T0 + 30 * MINUTE_MS), Some(0)); // offset 10: not yet written
    }

    fn burst(start_min: i64, end_min: i64) -> Burst {
        Burst {
            topic: "t".into(),
            start_ms: T0 + start_min * MINUTE_MS,
            end_ms: T0 + end_min * MINUTE_MS,
            records: 0,
            median_per_minute: 1.0,
            worst_lag_ms: None,
            recovered_after_ms: None,
            back_at_ms: None,
        }
    }

    #[test]
    fn recovery_counts_from_the_bursts_end_to_the_first_commit_back_within_budget() {
        // Lags at the commits: 0 (+5), 10m (+15), 20m (+25), 0 (+30). The builder falls
        // behind after the burst (+5..+10) has ended: the lag after it is still the burst's.
        let series = trail().series();
        let mut found = vec![burst(5, 10)];
        judge_bursts(&mut found, &series, 5 * MINUTE_MS, 3_600_000);
        assert_eq!(found[0].worst_lag_ms, Some(20 * MINUTE_MS));
        assert_eq!(found[0].back_at_ms, Some(T0 + 30 * MINUTE_MS));
        assert_eq!(found[0].recovered_after_ms, Some(20 * MINUTE_MS));
        // Within a 30m budget it never left: back at its end.
        judge_bursts(&mut found, &series, 30 * MINUTE_MS, 3_600_000);
        assert_eq!(found[0].recovered_after_ms, Some(0));
        // A horizon that ends before the next commit: nothing after the end says where the
        // builder was, so it is not called back.
        judge_bursts(&mut found, &series, 5 * MINUTE_MS, 4 * MINUTE_MS);
        assert_eq!(found[0].recovered_after_ms, None);
    }

    #[test]
    fn a_builder_never_seen_back_has_no_recovery_and_the_next_burst_bounds_the_last() {
        let series = vec![(T0, 0), (T0 + 10 * MINUTE_MS, 40 * MINUTE_MS)];
        let mut found = vec![burst(0, 2), burst(8, 9)];
        judge_bursts(&mut found, &series, 15 * MINUTE_MS, 3_600_000);
        // The +10 lag is the second's; no commit between the first's end and the second's
        // start says where the builder was.
        assert_eq!(found[0].recovered_after_ms, None);
        assert_eq!(found[1].recovered_after_ms, None);
        assert_eq!(found[1].worst_lag_ms, Some(40 * MINUTE_MS));
    }
}
