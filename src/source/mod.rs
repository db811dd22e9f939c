//! Where the engine reads from: a live cluster, or a capture (a file, or the built-in demo
//! data). Every read feature goes through [`Source`], so it works on both.

mod asked_once;
mod capture;
mod capture_file;
mod recording;

use std::collections::HashMap;

use crate::cluster::{
    CancelToken, Cluster, ClusterError, GroupInfo, GroupOffsets, RecordAt, ScanEvent, ScanRequest,
    ScanSummary, TopicInfo,
};

pub use asked_once::AskedOnce;
pub use capture::{Capture, CapturedGroup};
pub use capture_file::{
    CaptureFormat, load_capture, partial_path, read_capture, save_capture, write_capture,
};
pub use recording::Recording;

pub type Sink<'a> = dyn FnMut(ScanEvent) -> bool + 'a;

/// Each topic's configuration entries, or why they could not be read.
pub type ConfigsAnswer = HashMap<String, Result<Vec<(String, String)>, ClusterError>>;

/// Each group's committed offsets, or why they could not be read.
pub type GroupOffsetsAnswer = HashMap<String, Result<GroupOffsets, ClusterError>>;

/// One commit of a group as a capture records it: where and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCommit {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub commit_ms: i64,
}

pub trait Source: Send + Sync {
    /// What the data comes from, for titles and messages.
    fn name(&self) -> String;
    /// "Now" for lag and staleness: the wall clock, or when a capture was taken.
    fn now_ms(&self) -> i64 {
        crate::time::now_ms()
    }
    /// Whether this is recorded data rather than a live cluster.
    fn is_capture(&self) -> bool {
        false
    }
    /// All topics, sorted by name, with watermarks. Internal topics only when asked for.
    fn topics(&self, include_internal: bool) -> Result<Vec<TopicInfo>, ClusterError>;
    fn topic(&self, name: &str) -> Result<TopicInfo, ClusterError>;
    /// The named topics that exist (internal ones too), sorted by name, with watermarks.
    fn topics_named(&self, names: &[&str]) -> Result<Vec<TopicInfo>, ClusterError> {
        let mut topics = self.topics(true)?;
        topics.retain(|t| names.contains(&t.name.as_str()));
        Ok(topics)
    }
    fn topic_configs(&self, topic: &str) -> Result<Vec<(String, String)>, ClusterError>;
    /// Many topics' configurations at once (one answer per topic).
    fn topics_configs(&self, topics: &[&str]) -> Result<ConfigsAnswer, ClusterError> {
        Ok(topics
            .iter()
            .map(|t| ((*t).to_owned(), self.topic_configs(t)))
            .collect())
    }
    /// Streams records and progress to `sink`; `sink` returns `false` to stop early.
    fn scan(
        &self,
        request: &ScanRequest,
        cancel: &CancelToken,
        sink: &mut Sink<'_>,
    ) -> Result<ScanSummary, ClusterError>;
    /// The cluster's ACL bindings; a capture holds none.
    fn describe_acls(&self) -> Result<crate::cluster::AclAnswer, ClusterError> {
        Ok(crate::cluster::AclAnswer::Unavailable(self.name()))
    }
    fn groups(&self) -> Result<Vec<GroupInfo>, ClusterError>;
    fn group(&self, name: &str) -> Result<GroupInfo, ClusterError>;
    /// The group's committed offset per partition asked for; `None` where it has no commit.
    fn committed_offsets(
        &self,
        group: &str,
        partitions: &[(String, i32)],
    ) -> Result<HashMap<(String, i32), Option<i64>>, ClusterError>;
    /// Every committed offset of each of `groups` (one answer, or error, per group).
    fn group_offsets(&self, groups: &[&str]) -> Result<GroupOffsetsAnswer, ClusterError>;
    /// The record at each (topic, partition, offset): its timestamp (`None` where there is
    /// none) and the high watermark the read saw.
    fn records_at(
        &self,
        positions: &[(String, i32, i64)],
    ) -> Result<HashMap<(String, i32, i64), RecordAt>, ClusterError>;
    /// The commits recorded with the data for `group`, oldest first: a capture's. `None` for a
    /// live cluster, whose history (where it keeps one) is `__consumer_offsets`.
    fn recorded_commits(&self, _group: &str) -> Option<Vec<RecordedCommit>> {
        None
    }
    /// The first offset written at or after `at_ms` per partition; left out where every record
    /// is older.
    fn offsets_at_time(
        &self,
        partitions: &[(String, i32)],
        at_ms: i64,
    ) -> Result<HashMap<(String, i32), i64>, ClusterError>;
}

impl Source for Cluster {
    fn name(&self) -> String {
        self.config().bootstrap.clone()
    }
    fn describe_acls(&self) -> Result<crate::cluster::AclAnswer, ClusterError> {
        Cluster::describe_acls(self)
    }

    fn topics(&self, include_internal: bool) -> Result<Vec<TopicInfo>, ClusterError> {
        Cluster::topics(self, include_internal)
    }

    fn topic(&self, name: &str) -> Result<TopicInfo, ClusterError> {
        Cluster::topic(self, name)
    }

    fn topics_named(&self, names: &[&str]) -> Result<Vec<TopicInfo>, ClusterError> {
        Cluster::topics_named(self, names)
    }

    fn topic_configs(&self, topic: &str) -> Result<Vec<(String, String)>, ClusterError> {
        Cluster::topic_configs(self, topic)
    }

    fn topics_configs(&self, topics: &[&str]) -> Result<ConfigsAnswer, ClusterError> {
        Cluster::topics_configs(self, topics)
    }

    fn scan(
        &self,
        request: &ScanRequest,
        cancel: &CancelToken,
        sink: &mut Sink<'_>,
    ) -> Result<ScanSummary, ClusterError> {
        Cluster::scan(self, request, cancel, sink)
    }

    fn groups(&self) -> Result<Vec<GroupInfo>, ClusterError> {
        Cluster::groups(self)
    }

    fn group(&self, name: &str) -> Result<GroupInfo, ClusterError> {
        Cluster::group(self, name)
    }

    fn committed_offsets(
        &self,
        group: &str,
        partitions: &[(String, i32)],
    ) -> Result<HashMap<(String, i32), Option<i64>>, ClusterError> {
        Cluster::committed_offsets(self, group, partitions)
    }

    fn group_offsets(&self, groups: &[&str]) -> Result<GroupOffsetsAnswer, ClusterError> {
        Cluster::group_offsets(self, groups)
    }

    fn records_at(
        &self,
        positions: &[(String, i32, i64)],
    ) -> Result<HashMap<(String, i32, i64), RecordAt>, ClusterError> {
        Cluster::records_at(self, positions)
    }

    fn offsets_at_time(
        &self,
        partitions: &[(String, i32)],
        at_ms: i64,
    ) -> Result<HashMap<(String, i32), i64>, ClusterError> {
        self.list_offsets(partitions, rdkafka::Offset::Offset(at_ms))
    }
}
