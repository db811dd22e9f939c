//! Lag history from before freshlens started: where each group stood at each of its past
//! commits, with the high watermarks the cluster reports for those times (ListOffsets by
//! timestamp), so the Groups plots reach back as far as the commit log does.

use crate::source::Source;
use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::commit_log::CommitLog;
use super::interpolate::OffsetTimeTable;
use super::lag::{GroupLag, look_at_groups};
use super::offsets_topic::OffsetCommit;
use super::series::{LagPoint, merge_partitions};
use crate::cluster::ClusterError;

/// A group's lag over time as far back as its commits go, up to a look at it now: offset lags
/// summed over its partitions, the worst time lag.
pub fn group_time_lag_history(
    cluster: &dyn Source,
    group: &str,
    now_ms: i64,
) -> Result<Vec<LagPoint>, ClusterError> {
    let mut log = CommitLog::default();
    let lags = look_at_groups(cluster, Some(group), &mut log)?;
    let commits = HashMap::from([(group.to_owned(), log.commits(group))]);
    let mut past = past_lags(cluster, &lags, &commits, now_ms)?;
    let mut parts: HashMap<TopicPartition, Vec<LagPoint>> = HashMap::new();
    for p in past.remove(group).unwrap_or_default() {
        if let Some(lag) = p.lag {
            parts
                .entry((p.topic, p.partition))
                .or_default()
                .push((p.at_ms, lag, p.time_lag_ms));
        }
    }
    for p in lags.iter().flat_map(|l| &l.partitions) {
        parts
            .entry((p.topic.clone(), p.partition))
            .or_default()
            .push((now_ms, p.lag, p.time_lag_ms.or(p.estimated_time_lag_ms)));
    }
    let parts: Vec<Vec<LagPoint>> = parts.into_values().collect();
    Ok(merge_partitions(&parts))
}

/// Times at which past high watermarks are asked for: each commit's time when there are no
/// more than this many, else this many spread over the commit history.
const WATERMARK_POINTS: usize = 64;

type TopicPartition = (String, i32);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PastLag {
    pub at_ms: i64,
    pub topic: String,
    pub partition: i32,
    pub committed: i64,
    /// `None` where the cluster cannot say where the high watermark was at that time.
    pub lag: Option<i64>,
    pub time_lag_ms: Option<i64>,
}

/// Each group's lag at each of its commits in `commits` (group name to commits, oldest first).
pub fn past_lags(
    cluster: &dyn Source,
    groups: &[GroupLag],
    commits: &HashMap<String, Vec<OffsetCommit>>,
    now_ms: i64,
) -> Result<HashMap<String, Vec<PastLag>>, ClusterError> {
    let mut current: HashMap<TopicPartition, i64> = HashMap::new();
    for lag in groups {
        for p in lag.partitions.iter().filter(|p| !p.topic_deleted) {
            current.insert((p.topic.clone(), p.partition), p.high);
        }
    }
    let wanted: BTreeSet<TopicPartition> = commits
        .values()
        .flatten()
        .map(|c| (c.topic.clone(), c.partition))
        .filter(|tp| current.contains_key(tp))
        .collect();
    let times: BTreeSet<i64> = commits.values().flatten().map(|c| c.commit_ms).collect();
    let tables = if wanted.is_empty() || times.is_empty() {
        HashMap::new()
    } else {
        let pairs: Vec<TopicPartition> = wanted.into_iter().collect();
        watermark_history(cluster, &pairs, &current, &times, now_ms)?
    };
    Ok(commits
        .iter()
        .map(|(group, commits)| (group.clone(), lag_at_commits(commits, &tables)))
        .collect())
}

/// Each partition's high watermark at the commit times (or, when there are many, at evenly
/// spread times over their span): at each time, the first offset written at or after it.
/// Partitions whose broker does not answer by timestamp are left out: asked for a time past
/// every record, Apache Kafka answers "end", while such a broker names an offset below the
/// high watermark (Tansu answers 0).
fn watermark_history(
    cluster: &dyn Source,
    pairs: &[TopicPartition],
    current: &HashMap<TopicPartition, i64>,
    commit_times: &BTreeSet<i64>,
    to_ms: i64,
) -> Result<HashMap<TopicPartition, OffsetTimeTable>, ClusterError> {
    let far_future = to_ms + 365 * 24 * 3_600_000;
    let probe = cluster.offsets_at_time(pairs, far_future)?;
    let trusted: Vec<TopicPartition> = pairs
        .iter()
        .filter(|tp| match probe.get(*tp) {
            None => true,
            Some(offset) => *offset >= current.get(*tp).copied().unwrap_or(0),
        })
        .cloned()
        .collect();
    let mut tables: HashMap<TopicPartition, OffsetTimeTable> = trusted
        .iter()
        .map(|tp| (tp.clone(), OffsetTimeTable::new(WATERMARK_POINTS + 1)))
        .collect();
    if trusted.is_empty() {
        return Ok(tables);
    }
    // Exact at each commit where there are few, so a commit that had read everything shows
    // lag 0 (Burrow's first rule needs it); spread over the span where there are many.
    let times: Vec<i64> = if commit_times.len() <= WATERMARK_POINTS {
        commit_times.iter().copied().collect()
    } else {
        let from_ms = commit_times.first().copied().unwrap_or(to_ms);
        let step = ((to_ms - from_ms) / WATERMARK_POINTS as i64).max(1);
        (0..WATERMARK_POINTS as i64)
            .map(|i| from_ms + i * step)
            .collect()
    };
    for at in times.into_iter().filter(|at| *at < to_ms) {
        let answers = cluster.offsets_at_time(&trusted, at)?;
        for tp in &trusted {
            // No record at or after `at`: everything there is now was already written.
            let high = answers
                .get(tp)
                .or(current.get(tp))
                .copied()
                .unwrap_or_default();
            if let Some(table) = tables.get_mut(tp) {
                table.add(high, at);
            }
        }
    }
    for (tp, table) in &mut tables {
        table.add(current.get(tp).copied().unwrap_or_default(), to_ms);
    }
    Ok(tables)
}

/// The lag at each commit: the high watermark then minus the committed offset, and how long
/// before the commit the next record to read was written.
fn lag_at_commits(
    commits: &[OffsetCommit],
    tables: &HashMap<TopicPartition, OffsetTimeTable>,
) -> Vec<PastLag> {
    commits
        .iter()
        .map(|c| {
            let table = tables.get(&(c.topic.clone(), c.partition));
            // A group cannot have read past the high watermark, so a lower estimate is clamped.
            let high = table
                .and_then(|t| t.offset_at(c.commit_ms))
                .map(|h| h.max(c.offset));
            let time_lag_ms = match (table, high) {
                (Some(table), Some(high)) => table.time_lag_ms(c.offset, high, c.commit_ms),
                _ => None,
            };
            PastLag {
                at_ms: c.commit_ms,
                topic: c.topic.clone(),
                partition: c.partition,
                committed: c.offset,
                lag: high.map(|h| h - c.offset),
                time_lag_ms,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(offset: i64, commit_ms: i64) -> OffsetCommit {
        OffsetCommit {
            group: "g".into(),
            topic: "t".into(),
            partition: 0,
            offset,
            leader_epoch: None,
            metadata: String::new(),
            commit_ms,
            expire_ms: None,
        }
    }

    #[test]
    fn lag_at_each_commit_from_past_watermarks() {
        // 10 records a second from t=0 (offset 0) to t=100 s (offset 1000).
        let mut table = OffsetTimeTable::new(10);
        table.add(0, 0);
        table.add(1_000, 100_000);
        let tables = HashMap::from([(("t".to_owned(), 0), table)]);
        let past = lag_at_commits(&[commit(100, 30_000), commit(1_000, 100_000)], &tables);
        // At 30 s the watermark was 300: 200 records behind, the record at 100 written at 10 s.
        assert_eq!(
            (past[0].lag, past[0].time_lag_ms, past[0].committed),
            (Some(200), Some(20_000), 100)
        );
        assert_eq!((past[1].lag, past[1].time_lag_ms), (Some(0), Some(0)));
    }

    #[test]
    fn unknown_watermarks_keep_the_commit_without_a_lag() {
        let past = lag_at_commits(&[commit(5, 1_000)], &HashMap::new());
        assert_eq!(
            (
                past[0].at_ms,
                past[0].committed,
                past[0].lag,
                past[0].time_lag_ms
            ),
            (1_000, 5, None, None)
        );
    }
}
