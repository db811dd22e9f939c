//! How far behind a consumer group is, per partition, in offsets and in time.

use crate::source::Source;
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::cluster::{CancelToken, ClusterError, GroupInfo, TopicInfo};

use super::commit_log::CommitLog;
use super::drain::{Drain, RetentionRisk};
use super::offsets_topic::OffsetCommit;
use super::status::Status;

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct PartitionLag {
    pub topic: String,
    pub partition: i32,
    /// `None`: the group has this partition assigned but never committed on it.
    pub committed: Option<i64>,
    pub low: i64,
    pub high: i64,
    /// high - committed; from the low watermark when there is no commit.
    pub lag: i64,
    /// now - timestamp of the record at the committed offset (0 when caught up); `None` when
    /// that record is gone (retention, compaction).
    pub time_lag_ms: Option<i64>,
    /// Broker time of the record at the committed offset, where it was read: the time lag is
    /// measured from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position_ms: Option<i64>,
    /// Time lag interpolated from sampled high watermarks (kafka-lag-exporter style); needs a
    /// few samples of history.
    pub estimated_time_lag_ms: Option<i64>,
    pub status: Status,
    /// The status in words: which rule, over which commits.
    pub status_reason: String,
    /// Commits the status was judged on (up to the window).
    pub window: usize,
    /// When the group last committed here, where `__consumer_offsets` tells.
    pub last_commit_ms: Option<i64>,
    /// The group has commits on a topic that no longer exists.
    pub topic_deleted: bool,
    /// Rates and the projected time to catch up.
    #[serde(flatten)]
    pub drain: Drain,
    /// The topic's retention: -1 for never, `None` when the cluster does not say.
    pub retention_ms: Option<i64>,
    /// Records lost before the group read them, and how long until more are.
    #[serde(flatten)]
    pub retention: RetentionRisk,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct GroupLag {
    pub group: String,
    pub state: String,
    pub status: Status,
    /// The worst partition's reason, with its name.
    pub status_reason: String,
    pub lag: i64,
    pub max_time_lag_ms: Option<i64>,
    /// The worst partition's ETA; `None` when any lagging partition is not draining or unknown.
    pub eta_ms: Option<i64>,
    /// Every lagging partition drains (`Some(false)` when one does not; `None` when unknown).
    pub draining: Option<bool>,
    pub lost_records: i64,
    /// The smallest retention margin of its partitions.
    pub retention_margin_ms: Option<i64>,
    /// The status window, in commits per partition.
    pub window: usize,
    pub partitions: Vec<PartitionLag>,
}

impl GroupLag {
    /// Worst status first, then the largest time lag, then the largest offset lag, then name.
    pub fn worst_first(a: &Self, b: &Self) -> std::cmp::Ordering {
        b.status
            .cmp(&a.status)
            .then(b.max_time_lag_ms.cmp(&a.max_time_lag_ms))
            .then(b.lag.cmp(&a.lag))
            .then(a.group.cmp(&b.group))
    }

    /// Recomputes the group's totals from its partitions.
    pub fn summarize(&mut self) {
        let parts = &self.partitions;
        self.lag = parts.iter().map(|p| p.lag).fold(0, i64::saturating_add);
        // Over the lagging partitions only: where their time lags are unknown (Tansu cannot
        // fetch inside a multi-record batch) the caught-up partitions' zeros must not make a
        // group hours behind read "0s". Unknown when no lagging partition's is known; a lower
        // bound when some are.
        let lagging: Vec<&PartitionLag> = parts.iter().filter(|p| p.lag > 0).collect();
        self.max_time_lag_ms = if lagging.is_empty() {
            parts.iter().filter_map(|p| p.time_lag_ms).max()
        } else {
            lagging.iter().filter_map(|p| p.time_lag_ms).max()
        };
        let worst = parts.iter().max_by_key(|p| (p.status, p.lag));
        self.status = worst.map(|p| p.status).unwrap_or_default();
        self.status_reason = worst
            .filter(|p| p.status > Status::Ok)
            .map(|p| format!("{}/{}: {}", p.topic, p.partition, p.status_reason))
            .unwrap_or_default();
        let etas: Option<Vec<i64>> = parts.iter().map(|p| p.drain.eta_ms).collect();
        self.eta_ms = etas.and_then(|etas| etas.into_iter().max());
        self.draining = if parts.iter().any(|p| p.drain.draining == Some(false)) {
            Some(false)
        } else if parts
            .iter()
            .any(|p| p.drain.draining.is_none() && p.drain.eta_ms != Some(0))
        {
            None
        } else {
            Some(true)
        };
        self.lost_records =
            (parts.iter().map(|p| p.retention.lost_records)).fold(0, i64::saturating_add);
        self.retention_margin_ms = parts.iter().filter_map(|p| p.retention.margin_ms).min();
    }
}

/// A row per partition the group has committed on or is assigned; offset lag from the commit,
/// or from the low watermark where an assigned partition has none. Time lag is 0 when caught
/// up and filled in later otherwise.
fn partition_rows(
    topics: &[TopicInfo],
    committed: &HashMap<(String, i32), Option<i64>>,
    assigned: &[(String, i32)],
) -> Vec<PartitionLag> {
    let mut rows = Vec::new();
    for topic in topics {
        for p in &topic.partitions {
            let key = (topic.name.clone(), p.id);
            let commit = committed.get(&key).copied().flatten();
            if commit.is_none() && !assigned.contains(&key) {
                continue;
            }
            let lag = p.high.saturating_sub(commit.unwrap_or(p.low)).max(0);
            rows.push(PartitionLag {
                topic: topic.name.clone(),
                partition: p.id,
                committed: commit,
                low: p.low,
                high: p.high,
                lag,
                // Caught up is no time behind; committed past the end is no known time at all.
                time_lag_ms: (lag == 0 && commit.is_none_or(|c| c <= p.high)).then_some(0),
                ..PartitionLag::default()
            });
        }
    }
    rows
}

/// The rows of one group: a row per partition it committed on (`committed`, every partition
/// it has a commit for) or is assigned, lag from the listed watermarks.
fn group_rows(
    group: &GroupInfo,
    topics: &[TopicInfo],
    committed: &HashMap<(String, i32), i64>,
) -> Vec<PartitionLag> {
    let assigned: Vec<(String, i32)> = group
        .members
        .iter()
        .flat_map(|m| {
            m.assignment
                .iter()
                .flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p)))
        })
        .collect();
    let committed: HashMap<(String, i32), Option<i64>> = committed
        .iter()
        .map(|(tp, offset)| (tp.clone(), Some(*offset)))
        .collect();
    partition_rows(topics, &committed, &assigned)
}

/// Reads the record at each lagging row's committed offset, all groups at once, and sets each
/// row's time lag from it.
fn read_positions(cluster: &dyn Source, lags: &mut [GroupLag]) -> Result<(), ClusterError> {
    let mut positions: Vec<(String, i32, i64)> = lags
        .iter()
        .flat_map(|g| &g.partitions)
        .filter_map(|row| {
            // Only lagging rows: a commit past the high watermark is INVALID as it stands,
            // the high watermark being the fetch's already (`cluster::watermarks`).
            let committed = row.committed.unwrap_or(row.low);
            (row.lag > 0).then(|| (row.topic.clone(), row.partition, committed.max(row.low)))
        })
        .collect();
    positions.sort_unstable();
    positions.dedup();
    if positions.is_empty() {
        return Ok(());
    }
    let answers = cluster.records_at(&positions)?;
    // Time lag is measured when the records were read, not when the look began.
    let read_at = cluster.now_ms();
    for row in lags.iter_mut().flat_map(|g| &mut g.partitions) {
        let committed = row.committed.unwrap_or(row.low);
        let Some(at) = answers.get(&(row.topic.clone(), row.partition, committed.max(row.low)))
        else {
            continue;
        };
        row.position_ms = at.timestamp_ms;
        row.time_lag_ms = if row.lag > 0 {
            at.timestamp_ms.map(|ts| (read_at - ts).max(0))
        } else {
            (committed <= row.high).then_some(0)
        };
    }
    Ok(())
}

/// Folds the group's commit history into one look: each partition's last commit time, and a
/// row for every partition of a topic that no longer exists but still has the group's commits.
pub fn apply_commit_history(lag: &mut GroupLag, commits: &[OffsetCommit], topics: &[TopicInfo]) {
    let mut latest: BTreeMap<(&str, i32), &OffsetCommit> = BTreeMap::new();
    for commit in commits.iter().filter(|c| c.group == lag.group) {
        let slot = latest
            .entry((commit.topic.as_str(), commit.partition))
            .or_insert(commit);
        if commit.commit_ms >= slot.commit_ms {
            *slot = commit;
        }
    }
    for row in &mut lag.partitions {
        row.last_commit_ms = latest
            .get(&(row.topic.as_str(), row.partition))
            .map(|c| c.commit_ms);
    }
    for ((topic, partition), commit) in latest {
        if topics.iter().any(|t| t.name == topic) {
            continue;
        }
        lag.partitions.push(PartitionLag {
            topic: topic.to_owned(),
            partition,
            committed: Some(commit.offset),
            last_commit_ms: Some(commit.commit_ms),
            topic_deleted: true,
            ..PartitionLag::default()
        });
    }
    lag.summarize();
}

/// One look at consumer groups (one group when `only` names it), worst first: every group's
/// committed offsets from one client (ListConsumerGroupOffsets), the record at each lagging
/// position read once for all groups. Where the cluster exposes its commit log, commits get
/// their times and commits on deleted topics show up; `log` keeps what was read for the next
/// look. Nothing joins a group or moves its offsets.
pub fn look_at_groups(
    cluster: &dyn Source,
    only: Option<&str>,
    log: &mut CommitLog,
) -> Result<Vec<GroupLag>, ClusterError> {
    look_at_groups_timed(cluster, only, log, &mut Steps::default())
}

/// How long each step of a look took, in order: for `bench --groups` and the debug log.
#[derive(Debug, Clone, Default)]
pub struct Steps(pub Vec<(&'static str, std::time::Duration)>);

impl Steps {
    /// Runs `step`, keeping how long it took under `name`.
    pub fn time<T>(&mut self, name: &'static str, step: impl FnOnce() -> T) -> T {
        let started = std::time::Instant::now();
        let answer = step();
        self.0.push((name, started.elapsed()));
        answer
    }
}

/// [`look_at_groups`], each step timed into `steps`.
pub fn look_at_groups_timed(
    cluster: &dyn Source,
    only: Option<&str>,
    log: &mut CommitLog,
    steps: &mut Steps,
) -> Result<Vec<GroupLag>, ClusterError> {
    let groups = steps.time("list and describe groups", || match only {
        Some(name) => Ok(vec![cluster.group(name)?]),
        None => cluster.groups(),
    })?;
    let groups: Vec<&GroupInfo> = groups
        .iter()
        .filter(|g| g.protocol_type.is_empty() || g.protocol_type == "consumer")
        .collect();
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    let mut offsets = steps.time("committed offsets", || cluster.group_offsets(&names))?;
    // Watermarks of the topics the groups read only, not of every topic on the cluster.
    let mut read: Vec<&str> = offsets
        .values()
        .flat_map(|answer| {
            answer
                .iter()
                .flat_map(|o| o.keys().map(|(t, _)| t.as_str()))
        })
        .chain(
            groups
                .iter()
                .flat_map(|g| &g.members)
                .flat_map(|m| m.assignment.iter().map(|(t, _)| t.as_str())),
        )
        .collect();
    read.sort_unstable();
    read.dedup();
    let topics = steps.time("watermarks", || cluster.topics_named(&read))?;
    let read: Vec<String> = read.into_iter().map(str::to_owned).collect();
    let mut lags = Vec::with_capacity(groups.len());
    for group in groups {
        let committed = match offsets.remove(&group.name) {
            Some(Ok(committed)) => committed,
            Some(Err(e)) => return Err(e),
            None => HashMap::new(),
        };
        lags.push(GroupLag {
            group: group.name.clone(),
            state: group.state.clone(),
            partitions: group_rows(group, &topics, &committed),
            ..GroupLag::default()
        });
    }
    steps.time("records at lagging positions", || {
        read_positions(cluster, &mut lags)
    })?;
    for lag in &mut lags {
        lag.summarize();
    }
    let history = steps.time("commit log", || {
        log.refresh(cluster, &names, &CancelToken::default())
    })?;
    if history.is_some() {
        // Topics the commit log names that no committed offset does: whether they still
        // exist decides whether their commits are on a deleted topic.
        let mut more: Vec<String> = lags
            .iter()
            .flat_map(|lag| log.commits(&lag.group))
            .map(|c| c.topic)
            .filter(|t| !read.contains(t))
            .collect();
        more.sort_unstable();
        more.dedup();
        let mut topics = topics;
        if !more.is_empty() {
            let more: Vec<&str> = more.iter().map(String::as_str).collect();
            topics.extend(cluster.topics_named(&more)?);
        }
        for lag in &mut lags {
            apply_commit_history(lag, &log.commits(&lag.group), &topics);
        }
    }
    lags.sort_by(GroupLag::worst_first);
    Ok(lags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::PartitionInfo;

    fn topic(name: &str, bounds: &[(i64, i64)]) -> TopicInfo {
        TopicInfo {
            name: name.into(),
            error: None,
            partitions: bounds
                .iter()
                .enumerate()
                .map(|(id, &(low, high))| PartitionInfo {
                    id: id as i32,
                    leader: 1,
                    replicas: vec![1],
                    isr: vec![1],
                    low,
                    high,
                    listed_high: high,
                    high_confirmed: true,
                    error: None,
                })
                .collect(),
        }
    }

    #[test]
    fn no_commit_on_an_assigned_partition_lags_from_the_low_watermark() {
        let topics = [topic("orders", &[(5, 20), (0, 7), (0, 3)])];
        let committed = HashMap::from([
            (("orders".to_owned(), 0), Some(12)),
            (("orders".to_owned(), 1), None),
            (("orders".to_owned(), 2), None),
        ]);
        let assigned = [("orders".to_owned(), 1)];
        let rows = partition_rows(&topics, &committed, &assigned);
        let got: Vec<(i32, Option<i64>, i64)> = rows
            .iter()
            .map(|r| (r.partition, r.committed, r.lag))
            .collect();
        // Partition 2: neither committed nor assigned, so not this group's.
        assert_eq!(got, vec![(0, Some(12), 8), (1, None, 7)]);
        assert_eq!(
            rows[1].time_lag_ms, None,
            "unknown until the record is read, never zero"
        );
    }

    #[test]
    fn commit_history_dates_commits_and_finds_deleted_topics() {
        let topics = [topic("orders", &[(0, 10)])];
        let committed = HashMap::from([(("orders".to_owned(), 0), Some(8))]);
        let mut lag = GroupLag {
            group: "builder".into(),
            state: "Empty".into(),
            partitions: partition_rows(&topics, &committed, &[]),
            ..GroupLag::default()
        };
        let commit = |topic: &str, offset: i64, commit_ms: i64| OffsetCommit {
            group: "builder".into(),
            topic: topic.into(),
            partition: 0,
            offset,
            leader_epoch: None,
            metadata: String::new(),
            commit_ms,
            expire_ms: None,
        };
        let history = [
            commit("orders", 5, 1_000),
            commit("orders", 8, 2_000),
            commit("gone", 3, 1_500),
        ];
        apply_commit_history(&mut lag, &history, &topics);
        assert_eq!(lag.partitions[0].last_commit_ms, Some(2_000));
        let gone = &lag.partitions[1];
        assert_eq!(
            (gone.topic.as_str(), gone.committed, gone.topic_deleted),
            ("gone", Some(3), true)
        );
        assert_eq!(lag.lag, 2);
    }

    #[test]
    fn caught_up_is_zero_time_lag() {
        let topics = [topic("t", &[(0, 4)])];
        let committed = HashMap::from([(("t".to_owned(), 0), Some(4))]);
        let rows = partition_rows(&topics, &committed, &[]);
        assert_eq!((rows[0].lag, rows[0].time_lag_ms), (0, Some(0)));
    }

    /// A group whose lagging partitions' time lags are unknown does not read "0s" from its
    /// caught-up ones; with some known, the largest known lagging one counts.
    #[test]
    fn the_groups_time_lag_comes_from_its_lagging_partitions() {
        let part = |lag: i64, time_lag_ms: Option<i64>| PartitionLag {
            lag,
            time_lag_ms,
            ..PartitionLag::default()
        };
        let mut group = GroupLag {
            partitions: vec![part(0, Some(0)), part(22_278, None), part(0, Some(0))],
            ..GroupLag::default()
        };
        group.summarize();
        assert_eq!(group.max_time_lag_ms, None);
        group.partitions.push(part(5, Some(90_000)));
        group.summarize();
        assert_eq!(group.max_time_lag_ms, Some(90_000));
        group.partitions = vec![part(0, Some(0)), part(0, None)];
        group.summarize();
        assert_eq!(group.max_time_lag_ms, Some(0), "caught up everywhere");
    }
}
