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
}

impl CommitLog {
    /// Reads the commits of `groups` added since the last refresh. `Ok(None)` when the cluster
    /// does not expose its commit log (Tansu, some managed services); otherwise how many
    /// records were read.
    pub fn refresh(
        &mut self,
        cluster: &dyn Source,
        groups: &[&str],
        cancel: &CancelToken,
    ) -> Result<Option<u64>, ClusterError> {
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
        cluster.scan(&request, cancel, &mut |event| {
            if let ScanEvent::Records(records) = event {
                for record in records {
                    read += 1;
                    next.insert(record.partition, record.offset + 1);
                    let Some(key) = record.key.as_deref() else {
                        continue;
                    };
                    // Every group's commits are kept, not only those asked for: they share
                    // the partition, and asking for them later must not re-read it.
                    if let Ok(OffsetsRecord::Commit(commit)) =
                        decode_offsets_record(key, record.value.as_deref())
                    {
                        let ring = commits
                            .entry((commit.group.clone(), commit.topic.clone(), commit.partition))
                            .or_default();
                        if ring.len() == COMMITS_KEPT {
                            ring.pop_front();
                        }
                        ring.push_back(commit);
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
