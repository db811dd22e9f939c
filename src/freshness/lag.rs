//! How far behind a consumer group is, per partition, in offsets and in time.

use crate::source::Source;
use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::Serialize;

use crate::cluster::{CancelToken, ClusterError, GroupInfo, TopicInfo};

use super::commit_log::CommitLog;
use super::offsets_topic::OffsetCommit;
use super::status::Status;

#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// Time lag interpolated from sampled high watermarks (kafka-lag-exporter style); needs a
    /// few samples of history.
    pub estimated_time_lag_ms: Option<i64>,
    pub status: Status,
    /// When the group last committed here, where `__consumer_offsets` tells.
    pub last_commit_ms: Option<i64>,
    /// The group has commits on a topic that no longer exists.
    pub topic_deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupLag {
    pub group: String,
    pub state: String,
    pub status: Status,
    pub lag: i64,
    pub max_time_lag_ms: Option<i64>,
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
        self.lag = self.partitions.iter().map(|p| p.lag).sum();
        self.max_time_lag_ms = self.partitions.iter().filter_map(|p| p.time_lag_ms).max();
        self.status = self
            .partitions
            .iter()
            .map(|p| p.status)
            .max()
            .unwrap_or_default();
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
            let lag = (p.high - commit.unwrap_or(p.low)).max(0);
            rows.push(PartitionLag {
                topic: topic.name.clone(),
                partition: p.id,
                committed: commit,
                low: p.low,
                high: p.high,
                lag,
                time_lag_ms: (lag == 0).then_some(0),
                estimated_time_lag_ms: None,
                status: Status::Ok,
                last_commit_ms: None,
                topic_deleted: false,
            });
        }
    }
    rows
}

/// One look at a group's lag. Reads committed offsets (OffsetFetch) and one record per lagging
/// partition; never joins the group or moves its offsets. `topics` are the cluster's topics
/// with watermarks, read once for all the groups looked at together. Time lags are measured
/// against the wall clock at the moment each record is read.
pub fn group_lag(
    cluster: &dyn Source,
    group: &GroupInfo,
    topics: &[TopicInfo],
) -> Result<GroupLag, ClusterError> {
    let assigned: Vec<(String, i32)> = group
        .members
        .iter()
        .flat_map(|m| {
            m.assignment
                .iter()
                .flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p)))
        })
        .collect();
    // Without members there is no assignment to go by: ask about every partition of every
    // topic, and keep those the group has committed on.
    let topics: Vec<TopicInfo> = topics
        .iter()
        .filter(|t| assigned.is_empty() || assigned.iter().any(|(name, _)| *name == t.name))
        .cloned()
        .collect();
    let partitions: Vec<(String, i32)> = topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(move |p| (t.name.clone(), p.id)))
        .collect();
    let committed = if partitions.is_empty() {
        Default::default()
    } else {
        cluster.committed_offsets(&group.name, &partitions)?
    };

    let mut rows = partition_rows(&topics, &committed, &assigned);

    let mut lagging: BTreeMap<&str, Vec<(i32, i64)>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.lag > 0) {
        lagging
            .entry(row.topic.as_str())
            .or_default()
            .push((row.partition, row.committed.unwrap_or(row.low).max(row.low)));
    }
    let mut times = BTreeMap::new();
    for (topic, positions) in lagging {
        let answers = cluster.timestamps_at(topic, &positions)?;
        // Time lag is measured when the record was read, not when the look began: looking at
        // many groups takes a while.
        let read_at = cluster.now_ms();
        for (partition, ts) in answers {
            times.insert(
                (topic.to_owned(), partition),
                ts.map(|ts| (read_at - ts).max(0)),
            );
        }
    }
    for row in &mut rows {
        if row.lag > 0 {
            row.time_lag_ms = times
                .get(&(row.topic.clone(), row.partition))
                .copied()
                .flatten();
        }
    }
    let mut lag = GroupLag {
        group: group.name.clone(),
        state: group.state.clone(),
        status: Status::Ok,
        lag: 0,
        max_time_lag_ms: None,
        partitions: rows,
    };
    lag.summarize();
    Ok(lag)
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
            low: 0,
            high: 0,
            lag: 0,
            time_lag_ms: None,
            estimated_time_lag_ms: None,
            status: Status::Ok,
            last_commit_ms: Some(commit.commit_ms),
            topic_deleted: true,
        });
    }
    lag.summarize();
}

/// One look at consumer groups (one group when `only` names it), worst first. Where the
/// cluster exposes its commit log, commits get their times (Burrow's STOP rule) and commits on
/// deleted topics show up; `log` keeps what was read for the next look.
/// Groups looked at concurrently: each needs its own client for the group's committed
/// offsets (a coordinator lookup and an offset fetch), which is mostly waiting, so more threads
/// than cores.
const GROUPS_AT_ONCE: usize = 8;

fn group_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(GROUPS_AT_ONCE)
            .thread_name(|i| format!("freshlens-groups-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

pub fn look_at_groups(
    cluster: &dyn Source,
    only: Option<&str>,
    log: &mut CommitLog,
) -> Result<Vec<GroupLag>, ClusterError> {
    let groups = match only {
        Some(name) => vec![cluster.group(name)?],
        None => cluster.groups()?,
    };
    let topics = cluster.topics(false)?;
    let groups: Vec<&GroupInfo> = groups
        .iter()
        .filter(|g| g.protocol_type.is_empty() || g.protocol_type == "consumer")
        .collect();
    let lag_of = |g: &&GroupInfo| group_lag(cluster, g, &topics);
    let mut lags = match group_pool() {
        Some(pool) => pool.install(|| groups.par_iter().map(lag_of).collect::<Result<Vec<_>, _>>()),
        None => groups.iter().map(lag_of).collect(),
    }?;
    let names: Vec<&str> = lags.iter().map(|l| l.group.as_str()).collect();
    if log
        .refresh(cluster, &names, &CancelToken::default())?
        .is_some()
    {
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
            status: Status::Ok,
            lag: 0,
            max_time_lag_ms: None,
            partitions: partition_rows(&topics, &committed, &[]),
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
}
