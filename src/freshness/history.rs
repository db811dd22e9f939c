//! What verdicts are judged on: each group partition's commits (from the commit log, a
//! capture's recorded commits, or the commit changes a sampler saw), each partition's sampled
//! high watermarks, and each topic's retention; and the judging itself.

use std::collections::{HashMap, VecDeque};

use super::drain::{Retention, drain, retention_risk};
use super::interpolate::OffsetTimeTable;
use super::lag::GroupLag;
use super::status::{Commit, Rules, Verdict, evaluate, inconsistency};

/// How long the record at a still committed offset must have waited before a look at it counts
/// as a commit seen, where commit times are unknown.
const STUCK_MS: i64 = 5 * 60_000;
/// Points kept per partition for interpolating time lag.
const TABLE_POINTS: usize = 120;
/// Burrow keeps its broker offsets for a couple of minutes ("intervals * offset-refresh"):
/// high watermarks sampled this recently can say the group was caught up moments ago.
const RECENT_BROKER_MS: i64 = 120_000;

type GroupPartition = (String, String, i32);

#[derive(Debug, Clone)]
pub struct LagHistory {
    capacity: usize,
    commits: HashMap<GroupPartition, VecDeque<Commit>>,
    /// Sampled high watermarks per topic partition, shared by every group reading it.
    watermarks: HashMap<(String, i32), OffsetTimeTable>,
    retention: HashMap<String, Retention>,
    /// Broker time of the record at each (topic, partition, offset) a group was seen at: a
    /// look whose read of it failed still knows the time lag (the record has not changed).
    positions: HashMap<(String, i32, i64), i64>,
}

impl LagHistory {
    /// Keeps up to `capacity` commits per group partition.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(2),
            commits: HashMap::new(),
            watermarks: HashMap::new(),
            retention: HashMap::new(),
            positions: HashMap::new(),
        }
    }

    /// Adds a commit in time order; one already known (same offset and time) is skipped.
    pub fn add_commit(&mut self, group: &str, topic: &str, partition: i32, commit: Commit) {
        let ring = self
            .commits
            .entry((group.to_owned(), topic.to_owned(), partition))
            .or_default();
        let at = ring.partition_point(|c| c.at_ms <= commit.at_ms);
        if ring
            .range(..at)
            .rev()
            .take_while(|c| c.at_ms == commit.at_ms)
            .any(|c| c.offset == commit.offset)
        {
            return;
        }
        ring.insert(at, commit);
        if ring.len() > self.capacity {
            ring.pop_front();
        }
    }

    /// Whether this commit is already known.
    pub fn knows(&self, group: &str, topic: &str, partition: i32, offset: i64, at_ms: i64) -> bool {
        self.commits(group, topic, partition)
            .is_some_and(|ring| ring.iter().any(|c| c.at_ms == at_ms && c.offset == offset))
    }

    /// Every commit known of `group`, as the commit log would give them: for a source without
    /// one (Tansu), the moves a sampler saw.
    pub fn group_commits(&self, group: &str) -> Vec<super::OffsetCommit> {
        let mut out: Vec<super::OffsetCommit> = self
            .commits
            .iter()
            .filter(|((g, _, _), _)| g == group)
            .flat_map(|((g, topic, partition), ring)| {
                ring.iter().map(move |c| super::OffsetCommit {
                    group: g.clone(),
                    topic: topic.clone(),
                    partition: *partition,
                    offset: c.offset,
                    leader_epoch: None,
                    metadata: String::new(),
                    commit_ms: c.at_ms,
                    expire_ms: None,
                })
            })
            .collect();
        out.sort_by_key(|c| c.commit_ms);
        out
    }

    pub fn commits(&self, group: &str, topic: &str, partition: i32) -> Option<&VecDeque<Commit>> {
        self.commits
            .get(&(group.to_owned(), topic.to_owned(), partition))
    }

    /// Takes in one look at the group: each partition's high watermark as a sample, and its
    /// committed offset as a commit where it moved since the last commit known (a source
    /// without a commit log shows only moves; the commit's time is when the log says, or now).
    pub fn observe(&mut self, lag: &GroupLag, now_ms: i64) {
        for p in lag.partitions.iter().filter(|p| !p.topic_deleted) {
            self.watermarks
                .entry((p.topic.clone(), p.partition))
                .or_insert_with(|| OffsetTimeTable::new(TABLE_POINTS))
                .add(p.high, now_ms);
            let Some(committed) = p.committed else {
                continue;
            };
            if let Some(ts) = p.position_ms {
                // Bounded: offsets a long watch moved past are dropped wholesale now and then.
                if self.positions.len() > 100_000 {
                    self.positions.clear();
                }
                self.positions
                    .insert((p.topic.clone(), p.partition, committed), ts);
            }
            let last = self
                .commits(&lag.group, &p.topic, p.partition)
                .and_then(|ring| ring.back().copied());
            // Without commit times (no commit log), a look at an offset that has not moved
            // counts as a commit seen (as Burrow sees a stuck consumer commit the same offset
            // again) once the record waiting there is older than the group ever takes to move
            // (at least STUCK_MS): a sink that commits every minute is not stuck between
            // commits, a group hours behind on a still offset is. A capture's "now" never
            // moves, so looking at it again adds nothing.
            let moved = last.is_none_or(|c| c.offset != committed);
            let waited = p.time_lag_ms.or_else(|| {
                self.positions
                    .get(&(p.topic.clone(), p.partition, committed))
                    .map(|ts| (now_ms - ts).max(0))
            });
            let stuck = p.last_commit_ms.is_none()
                && waited.is_some_and(|waited| {
                    waited
                        > self
                            .longest_move_ms(&lag.group, &p.topic, p.partition)
                            .max(STUCK_MS)
                });
            if moved || stuck {
                let commit = Commit {
                    offset: committed,
                    at_ms: p.last_commit_ms.unwrap_or(now_ms),
                    lag: Some(p.high.saturating_sub(committed).max(0)),
                };
                self.add_commit(&lag.group, &p.topic, p.partition, commit);
            }
        }
    }

    /// The longest time between two commits at different offsets.
    fn longest_move_ms(&self, group: &str, topic: &str, partition: i32) -> i64 {
        self.commits(group, topic, partition)
            .map(|ring| {
                let moves: Vec<&Commit> = ring
                    .iter()
                    .zip(ring.iter().skip(1))
                    .filter(|(a, b)| a.offset != b.offset)
                    .map(|(_, b)| b)
                    .collect();
                moves
                    .windows(2)
                    .map(|w| w[1].at_ms - w[0].at_ms)
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0)
    }

    pub fn knows_retention(&self, topic: &str) -> bool {
        self.retention.contains_key(topic)
    }

    pub fn set_retention(&mut self, topic: &str, retention: Retention) {
        self.retention.insert(topic.to_owned(), retention);
    }

    /// Judges every partition of the group from what is known: status and its reason (Burrow's
    /// rules over the last `rules.window` commits, INVALID where the watermarks contradict the
    /// group), estimated time lag, drain rates and ETA, retention risk; then the group's.
    pub fn judge(&self, lag: &mut GroupLag, now_ms: i64, rules: &Rules) {
        for p in &mut lag.partitions {
            if p.time_lag_ms.is_none()
                && p.lag > 0
                && let Some(committed) = p.committed
                && let Some(ts) = self
                    .positions
                    .get(&(p.topic.clone(), p.partition, committed))
            {
                // Known from an earlier look at the same record: it never turns unknown.
                p.time_lag_ms = Some((now_ms - ts).max(0));
            }
            let table = self.watermarks.get(&(p.topic.clone(), p.partition));
            if let Some(table) = table {
                p.estimated_time_lag_ms =
                    table.time_lag_ms(p.committed.unwrap_or(p.low), p.high, now_ms);
            }
            let commits: Vec<Commit> = self
                .commits(&lag.group, &p.topic, p.partition)
                .map(|ring| ring.iter().copied().collect())
                .unwrap_or_default();
            let window = &commits[commits.len().saturating_sub(rules.window.max(1))..];
            p.window = window.len();
            let recent: Vec<i64> = table
                .into_iter()
                .flat_map(|t| t.points())
                .filter(|(_, at)| now_ms - at <= RECENT_BROKER_MS)
                .map(|(offset, _)| offset)
                .collect();
            let verdict = if p.topic_deleted {
                Verdict {
                    status: super::Status::Ok,
                    reason: "the topic no longer exists; its commits remain".into(),
                }
            } else if let Some(invalid) = inconsistency(p.committed, p.high) {
                invalid
            } else {
                evaluate(window, &recent, p.lag, now_ms, rules)
            };
            p.status = verdict.status;
            p.status_reason = verdict.reason;
            if p.last_commit_ms.is_none() && p.committed.is_some() {
                // Without commit times the window holds looks at the committed offset.
                match p.status {
                    super::Status::Pending => {
                        p.status_reason = format!(
                            "warming up: {} of {} looks at the committed offset (this cluster \
                             keeps no commit times)",
                            window.len(),
                            rules.window
                        );
                    }
                    super::Status::Stall => {
                        p.status_reason += " (looks at the committed offset: this cluster keeps \
                                             no commit times, so a group that stopped reads as \
                                             stalled)";
                    }
                    _ => {}
                }
            }
            p.drain = drain(window, table, p.lag, p.status, rules);
            let retention = self
                .retention
                .get(&p.topic)
                .copied()
                .unwrap_or(Retention::Unknown);
            p.retention_ms = retention.as_ms();
            p.retention = retention_risk(
                p.committed,
                p.low,
                p.lag,
                p.time_lag_ms,
                retention,
                &p.drain,
            );
        }
        lag.window = rules.window;
        lag.summarize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freshness::{PartitionLag, Status};

    fn look(committed: i64, high: i64) -> GroupLag {
        GroupLag {
            group: "g".into(),
            state: "Stable".into(),
            partitions: vec![PartitionLag {
                topic: "t".into(),
                partition: 0,
                committed: Some(committed),
                high,
                lag: high.saturating_sub(committed).max(0),
                ..PartitionLag::default()
            }],
            ..GroupLag::default()
        }
    }

    const RULES: Rules = Rules {
        window: 3,
        allowed_lag: 0,
    };

    /// Looks every 5 s at a group whose offset never moves, the record waiting there
    /// `waited_ms` old at the first look, on a cluster without commit times.
    fn still_group(waited_ms: i64) -> GroupLag {
        let mut history = LagHistory::new(64);
        let rules = Rules {
            window: 10,
            allowed_lag: 0,
        };
        let mut now = look(10, 15);
        for i in 0..12 {
            let at = 1_000_000 + i * 5_000;
            now = look(10, 15);
            now.partitions[0].time_lag_ms = Some(waited_ms + i * 5_000);
            history.observe(&now, at);
            history.judge(&mut now, at, &rules);
        }
        now
    }

    #[test]
    fn a_still_offset_hours_behind_is_judged_from_looks() {
        let g = still_group(3 * 3_600_000);
        assert_eq!(g.status, Status::Stall, "{}", g.status_reason);
        assert!(
            g.status_reason.contains("no commit times"),
            "{}",
            g.status_reason
        );
    }

    #[test]
    fn a_still_offset_a_minute_behind_waits_for_the_group_to_move() {
        // A sink committing every minute is not stuck between its commits.
        let g = still_group(60_000);
        assert_eq!(g.status, Status::Pending, "{}", g.status_reason);
    }

    #[test]
    fn a_frozen_snapshot_looked_at_again_is_not_motion() {
        // The same capture sampled every 5 s: the committed offset never changes, so only one
        // commit is known and the verdict waits; it never turns STALL from re-sampling.
        let mut history = LagHistory::new(10);
        for i in 0..20 {
            let mut now = look(10, 15);
            history.observe(&now, 1_000);
            history.judge(&mut now, 1_000 + i, &RULES);
            assert_eq!(
                now.status,
                Status::Pending,
                "{}",
                now.partitions[0].status_reason
            );
        }
    }

    #[test]
    fn observed_commit_changes_fill_the_window() {
        let mut history = LagHistory::new(10);
        for (i, (committed, high)) in [(10, 20), (20, 30), (30, 40), (40, 50)].iter().enumerate() {
            let now = look(*committed, *high);
            history.observe(&now, i as i64 * 5_000);
        }
        assert_eq!(history.commits("g", "t", 0).unwrap().len(), 4);
        let mut now = look(40, 50);
        history.judge(&mut now, 15_000, &RULES);
        // Lag 10 at every commit, offsets advancing: Burrow's WARN (lag not decreasing).
        assert_eq!(
            now.status,
            Status::Warn,
            "{}",
            now.partitions[0].status_reason
        );
        assert_eq!(now.partitions[0].window, 3);
        assert_eq!(now.window, 3);
        assert_eq!(now.partitions[0].drain.consume_per_sec, Some(2.0));
        assert_eq!(now.partitions[0].drain.draining, Some(false));
    }

    #[test]
    fn committed_past_the_high_watermark_is_flagged_not_ok() {
        let mut history = LagHistory::new(10);
        let mut now = look(12, 10);
        history.observe(&now, 0);
        history.judge(&mut now, 0, &RULES);
        assert_eq!(now.status, Status::Invalid);
        assert!(now.status_reason.contains("12"), "{}", now.status_reason);
    }

    #[test]
    fn commits_are_kept_in_time_order_without_repeats() {
        let mut history = LagHistory::new(3);
        for (offset, at_ms) in [(5, 50), (1, 10), (3, 30), (3, 30), (4, 40)] {
            let commit = Commit {
                offset,
                at_ms,
                lag: None,
            };
            history.add_commit("g", "t", 0, commit);
        }
        let kept: Vec<i64> = history
            .commits("g", "t", 0)
            .unwrap()
            .iter()
            .map(|c| c.offset)
            .collect();
        assert_eq!(kept, vec![3, 4, 5]);
        assert!(history.knows("g", "t", 0, 4, 40));
    }
}
