//! The commit log (`__consumer_offsets`) read incrementally: each refresh picks up where the
//! last one stopped, so a sampler polling every few seconds reads only the new commits.

use crate::source::Source;
use std::collections::{HashMap, VecDeque};

use super::offsets_topic::{OFFSETS_TOPIC, OffsetCommit, OffsetsRecord, decode_offsets_record};
use crate::cluster::{CancelToken, ClusterError, ScanEvent, ScanRequest, StartAt};

/// Commits kept per group partition: hours of history at a commit every few seconds.
const COMMITS_KEPT: usize = 2_000;

type GroupPartition = (String, String, i32);

#[derive(Debug, Default)]
pub struct CommitLog {
    /// Partitions of `__consumer_offsets`; `None` until the cluster was asked.
    partitions: Option<i32>,
    /// Next offset to read per partition of `__consumer_offsets`.
    next: HashMap<i32, i64>,
    commits: HashMap<GroupPartition, VecDeque<OffsetCommit>>,
    /// Groups whose recorded commits (a capture's) were taken in.
    recorded: std::collections::HashSet<String>,
    /// Whether the source records commits itself instead of exposing `__consumer_offsets`.
    has_recorded: bool,
    /// Records of `__consumer_offsets` that could not be decoded, and the first reason.
    unreadable: u64,
    first_problem: Option<String>,
}

impl CommitLog {
    /// How many commit records could not be read, and why the first one could not: shown
    /// beside the verdicts, never dropped silently.
    pub fn unreadable(&self) -> (u64, Option<&str>) {
        (self.unreadable, self.first_problem.as_deref())
    }

    fn keep(commits: &mut HashMap<GroupPartition, VecDeque<OffsetCommit>>, commit: OffsetCommit) {
        let ring = commits
            .entry((commit.group.clone(), commit.topic.clone(), commit.partition))
            .or_default();
        if ring.len() == COMMITS_KEPT {
            ring.pop_front();
        }
        ring.push_back(commit);
    }

    /// Takes in the commits the source recorded for `groups` (once per group).
    fn take_recorded(&mut self, cluster: &dyn Source, groups: &[&str]) -> u64 {
        let mut taken = 0;
        for group in groups {
            if !self.recorded.insert((*group).to_owned()) {
                continue;
            }
            for c in cluster.recorded_commits(group).into_iter().flatten() {
                self.has_recorded = true;
                taken += 1;
                let commit = OffsetCommit {
                    group: (*group).to_owned(),
                    topic: c.topic,
                    partition: c.partition,
                    offset: c.offset,
                    leader_epoch: None,
                    metadata: String::new(),
                    commit_ms: c.commit_ms,
                    expire_ms: None,
                };
                Self::keep(&mut self.commits, commit);
            }
        }
        taken
    }

    /// Reads the commits of `groups` added since the last refresh. `Ok(None)` when the cluster
    /// does not expose its commit log (Tansu, some managed services); otherwise how many
    /// records were read.
    pub fn refresh(
        &mut self,
        cluster: &dyn Source,
        groups: &[&str],
        cancel: &CancelToken,
    ) -> Result<Option<u64>, ClusterError> {
        let recorded = self.take_recorded(cluster, groups);
        if self.has_recorded {
            return Ok(Some(recorded));
        }
        let count = match self.partitions {
            Some(count) => count,
            None => match cluster.topic(OFFSETS_TOPIC) {
                Ok(topic) => *self.partitions.insert(topic.partitions.len() as i32),
                Err(ClusterError::UnknownTopic(_)) => return Ok(None),
                Err(e) => return Err(e),
            },
        };
        let mut wanted: Vec<i32> = groups
            .iter()
            .map(|g| super::offsets_partition(g, count))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(Some(0));
        }
        let mut request = ScanRequest::new(OFFSETS_TOPIC);
        request.partitions = Some(wanted);
        request.start = StartAt::Beginning;
        request.resume = self.next.clone();
        let mut read = 0;
        let (next, commits) = (&mut self.next, &mut self.commits);
        let (unreadable, first_problem) = (&mut self.unreadable, &mut self.first_problem);
        cluster.scan(&request, cancel, &mut |event| {
            if let ScanEvent::Records(records) = event {
                for record in records {
                    read += 1;
                    next.insert(record.partition, record.offset + 1);
                    let Some(key) = record.key.as_deref() else {
                        *unreadable += 1;
                        first_problem.get_or_insert_with(|| {
                            format!(
                                "{}/{}: a record without a key",
                                record.partition, record.offset
                            )
                        });
                        continue;
                    };
                    // Every group's commits are kept, not only those asked for: they share
                    // the partition, and asking for them later must not re-read it.
                    match decode_offsets_record(key, record.value.as_deref()) {
                        Ok(OffsetsRecord::Commit(commit)) => Self::keep(commits, commit),
                        Ok(_) => {}
                        Err(problem) => {
                            *unreadable += 1;
                            first_problem.get_or_insert_with(|| {
                                format!("{}/{}: {problem}", record.partition, record.offset)
                            });
                        }
                    }
                }
            }
            true
        })?;
        Ok(Some(read))
    }

    /// Every commit of `group` read so far, oldest first.
    pub fn commits(&self, group: &str) -> Vec<OffsetCommit> {
        let mut all: Vec<OffsetCommit> = self
            .commits
            .iter()
            .filter(|((g, _, _), _)| g == group)
            .flat_map(|(_, ring)| ring.iter().cloned())
            .collect();
        all.sort_by_key(|c| c.commit_ms);
        all
    }
}
