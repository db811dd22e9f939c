//! Looking at consumer groups over time: one look at the cluster, then the commits it knows
//! (the commit log, a capture's recording, or the moves it saw) judged by the status rules.
//! The CLI keeps one for a look or a `--watch`; the GUI's sampler keeps one for the session.

use std::collections::HashMap;

use super::backfill::{PastLag, past_lags};
use super::commit_log::CommitLog;
use super::drain::Retention;
use super::history::LagHistory;
use super::lag::{GroupLag, Steps, look_at_groups_timed};
use super::offsets_topic::OffsetCommit;
use super::status::{Commit, Rules};
use crate::cluster::ClusterError;
use crate::source::Source;

/// Commits kept per group partition: well beyond any window (older ones fall out).
const COMMITS_KEPT: usize = 256;

#[derive(Debug)]
pub struct GroupWatch {
    pub log: CommitLog,
    pub history: LagHistory,
    pub rules: Rules,
}

impl Default for GroupWatch {
    fn default() -> Self {
        Self::new(Rules::default())
    }
}

/// One look at the groups, judged.
#[derive(Debug, Default)]
pub struct Look {
    /// Worst first.
    pub groups: Vec<GroupLag>,
    /// Each group's lag at the commits first seen in this look, for plots.
    pub past: HashMap<String, Vec<PastLag>>,
    /// How long each step took.
    pub steps: Steps,
}

impl GroupWatch {
    pub fn new(rules: Rules) -> Self {
        Self {
            log: CommitLog::default(),
            history: LagHistory::new(COMMITS_KEPT),
            rules,
        }
    }

    /// Looks at every group (or `only`), takes in new commits with the lag at each, and
    /// judges every partition at the source's "now".
    pub fn look(&mut self, cluster: &dyn Source, only: Option<&str>) -> Result<Look, ClusterError> {
        let now_ms = cluster.now_ms();
        let mut steps = Steps::default();
        let mut groups = look_at_groups_timed(cluster, only, &mut self.log, &mut steps)?;
        let past = steps.time("lag at new commits", || {
            self.take_in_commits(cluster, &groups, now_ms)
        })?;
        for lag in &groups {
            self.history.observe(lag, now_ms);
        }
        steps.time("retention", || self.learn_retention(cluster, &groups));
        steps.time("verdicts", || {
            for lag in &mut groups {
                self.history.judge(lag, now_ms, &self.rules);
            }
            groups.sort_by(GroupLag::worst_first);
        });
        log::debug!("{} groups: {:?}", groups.len(), steps.0);
        Ok(Look {
            groups,
            past,
            steps,
        })
    }

    /// Commits the log holds that the history does not, with the lag at each (the high
    /// watermark at the commit's time, where the cluster can tell).
    fn take_in_commits(
        &mut self,
        cluster: &dyn Source,
        groups: &[GroupLag],
        now_ms: i64,
    ) -> Result<HashMap<String, Vec<PastLag>>, ClusterError> {
        let mut fresh: HashMap<String, Vec<OffsetCommit>> = HashMap::new();
        for lag in groups {
            let mut commits = self.log.commits(&lag.group);
            commits.retain(|c| {
                !self
                    .history
                    .knows(&c.group, &c.topic, c.partition, c.offset, c.commit_ms)
            });
            if !commits.is_empty() {
                fresh.insert(lag.group.clone(), commits);
            }
        }
        if fresh.is_empty() {
            return Ok(HashMap::new());
        }
        let past = past_lags(cluster, groups, &fresh, now_ms)?;
        for (group, points) in &past {
            for p in points {
                let commit = Commit {
                    offset: p.committed,
                    at_ms: p.at_ms,
                    lag: p.lag,
                };
                self.history
                    .add_commit(group, &p.topic, p.partition, commit);
            }
        }
        Ok(past)
    }

    /// Reads the retention of topics where a group lags, once per topic.
    fn learn_retention(&mut self, cluster: &dyn Source, groups: &[GroupLag]) {
        let mut topics: Vec<&str> = groups
            .iter()
            .flat_map(|g| &g.partitions)
            .filter(|p| p.lag > 0 && !p.topic_deleted)
            .map(|p| p.topic.as_str())
            .filter(|t| !self.history.knows_retention(t))
            .collect();
        topics.sort_unstable();
        topics.dedup();
        if topics.is_empty() {
            return;
        }
        // A cluster that will not describe configs leaves the retention unknown, as it says.
        let answers = cluster.topics_configs(&topics).unwrap_or_default();
        for topic in topics {
            let retention = match answers.get(topic) {
                Some(Ok(configs)) => Retention::from_configs(configs),
                _ => Retention::Unknown,
            };
            self.history.set_retention(topic, retention);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{Record, TimestampKind};
    use crate::freshness::Status;
    use crate::source::{Capture, CapturedGroup, RecordedCommit};

    fn record(offset: i64, timestamp_ms: i64) -> Record {
        Record {
            topic: "orders".into(),
            partition: 0,
            offset,
            timestamp_ms: Some(timestamp_ms),
            timestamp_kind: TimestampKind::CreateTime,
            key: Some(b"k".to_vec()),
            value: Some(b"{}".to_vec()),
            headers: Vec::new(),
        }
    }

    /// Retention deleted records 0..100 of a topic a group had read only up to 40: 60 records
    /// were lost before it read them (a capture stands in for a broker whose DeleteRecords
    /// works; Tansu 0.6.0 closes the connection on it).
    #[test]
    fn a_commit_below_the_low_watermark_counts_lost_records() {
        let now = 10_000_000;
        let mut capture = Capture::new("retention", now);
        capture.add_topic("orders", 1);
        for offset in 100..150 {
            capture.push(record(offset, now - 3_600_000 + offset * 1_000));
        }
        capture.set_watermarks("orders", 0, 100, 150);
        capture.configs.insert(
            "orders".into(),
            vec![("retention.ms".into(), "7200000".into())],
        );
        let commits = (0..3)
            .map(|i| RecordedCommit {
                topic: "orders".into(),
                partition: 0,
                offset: 40,
                commit_ms: now - 3_600_000 + i * 60_000,
            })
            .collect();
        capture.groups.push(CapturedGroup {
            name: "slow".into(),
            state: "Empty".into(),
            offsets: [(("orders".to_owned(), 0), 40)].into_iter().collect(),
            commits,
        });
        let mut watch = GroupWatch::new(Rules {
            window: 3,
            allowed_lag: 0,
        });
        let look = watch.look(&capture, Some("slow")).unwrap();
        let g = &look.groups[0];
        let p = &g.partitions[0];
        assert_eq!(p.retention.lost_records, 60);
        assert_eq!(g.lost_records, 60);
        assert!(p.retention.at_risk);
        assert!(
            p.retention
                .text
                .starts_with("60 records deleted before the group read them"),
            "{}",
            p.retention.text
        );
        // No commit for 58 minutes; the window spans 2: stopped, so it never drains.
        assert_eq!(p.status, Status::Stop, "{}", p.status_reason);
        assert_eq!(p.drain.draining, Some(false));
        // The oldest unread record (offset 100) is 100 s younger than an hour: 2 h retention
        // leaves it 1 h 01 m 40 s.
        assert_eq!(
            p.retention.margin_ms,
            Some(7_200_000 - (3_600_000 - 100_000))
        );
    }
}
