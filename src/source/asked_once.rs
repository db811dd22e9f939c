//! A side that stopped answering is not asked again. A command that reads a cluster in many
//! steps (compare reads topics, settings, checkpoints, offsets and watermarks) would otherwise
//! wait `--timeout` at each step after the cluster went away; behind this wrapper the first
//! wait is the only one, and every later question fails at once with the first failure.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{ConfigsAnswer, GroupOffsetsAnswer, RecordedCommit, Sink, Source};
use crate::cluster::{
    AclAnswer, CancelToken, ClusterError, FailureKind, GroupInfo, RecordAt, ScanRequest,
    ScanSummary, TopicInfo,
};

pub struct AskedOnce<'a> {
    inner: &'a dyn Source,
    /// The failure that showed the side stopped answering.
    gone: Mutex<Option<ClusterError>>,
}

/// Whether `error` says the cluster could not be reached or did not answer in time (as
/// opposed to an answer, such as an unknown topic).
fn stopped_answering(error: &ClusterError) -> bool {
    match error {
        ClusterError::Unreachable { .. } => true,
        ClusterError::Kafka(message) => {
            crate::cluster::classify(message) == Some(FailureKind::Network)
        }
        _ => false,
    }
}

impl<'a> AskedOnce<'a> {
    pub fn new(inner: &'a dyn Source) -> Self {
        Self {
            inner,
            gone: Mutex::new(None),
        }
    }

    /// The failure after which the side was not asked again, if it stopped answering.
    pub fn gone(&self) -> Option<ClusterError> {
        self.gone.lock().ok()?.clone()
    }

    fn not_asked(&self) -> Result<(), ClusterError> {
        match self.gone() {
            Some(first) => Err(ClusterError::Kafka(format!(
                "{} was not asked again after it stopped answering ({first})",
                self.inner.name()
            ))),
            None => Ok(()),
        }
    }

    fn remember(&self, error: &ClusterError) {
        if stopped_answering(error)
            && let Ok(mut gone) = self.gone.lock()
        {
            gone.get_or_insert_with(|| error.clone());
        }
    }

    fn ask<T>(
        &self,
        question: impl FnOnce() -> Result<T, ClusterError>,
    ) -> Result<T, ClusterError> {
        self.not_asked()?;
        let answer = question();
        if let Err(e) = &answer {
            self.remember(e);
        }
        answer
    }

    /// Like `ask`, for answers that carry a result per item: any item that timed out counts.
    fn ask_each<V>(
        &self,
        question: impl FnOnce() -> Result<HashMap<String, Result<V, ClusterError>>, ClusterError>,
    ) -> Result<HashMap<String, Result<V, ClusterError>>, ClusterError> {
        let answer = self.ask(question)?;
        for error in answer.values().filter_map(|a| a.as_ref().err()) {
            self.remember(error);
        }
        Ok(answer)
    }
}

impl Source for AskedOnce<'_> {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn now_ms(&self) -> i64 {
        self.inner.now_ms()
    }
    fn is_capture(&self) -> bool {
        self.inner.is_capture()
    }
    fn topics(&self, include_internal: bool) -> Result<Vec<TopicInfo>, ClusterError> {
        self.ask(|| self.inner.topics(include_internal))
    }
    fn topic(&self, name: &str) -> Result<TopicInfo, ClusterError> {
        self.ask(|| self.inner.topic(name))
    }
    fn topics_named(&self, names: &[&str]) -> Result<Vec<TopicInfo>, ClusterError> {
        self.ask(|| self.inner.topics_named(names))
    }
    fn topic_configs(&self, topic: &str) -> Result<Vec<(String, String)>, ClusterError> {
        self.ask(|| self.inner.topic_configs(topic))
    }
    fn topics_configs(&self, topics: &[&str]) -> Result<ConfigsAnswer, ClusterError> {
        self.ask_each(|| self.inner.topics_configs(topics))
    }
    fn scan(
        &self,
        request: &ScanRequest,
        cancel: &CancelToken,
        sink: &mut Sink<'_>,
    ) -> Result<ScanSummary, ClusterError> {
        self.ask(|| self.inner.scan(request, cancel, sink))
    }
    fn describe_acls(&self) -> Result<AclAnswer, ClusterError> {
        self.ask(|| self.inner.describe_acls())
    }
    fn groups(&self) -> Result<Vec<GroupInfo>, ClusterError> {
        self.ask(|| self.inner.groups())
    }
    fn group(&self, name: &str) -> Result<GroupInfo, ClusterError> {
        self.ask(|| self.inner.group(name))
    }
    fn committed_offsets(
        &self,
        group: &str,
        partitions: &[(String, i32)],
    ) -> Result<HashMap<(String, i32), Option<i64>>, ClusterError> {
        self.ask(|| self.inner.committed_offsets(group, partitions))
    }
    fn group_offsets(&self, groups: &[&str]) -> Result<GroupOffsetsAnswer, ClusterError> {
        self.ask_each(|| self.inner.group_offsets(groups))
    }
    fn records_at(
        &self,
        positions: &[(String, i32, i64)],
    ) -> Result<HashMap<(String, i32, i64), RecordAt>, ClusterError> {
        self.ask(|| self.inner.records_at(positions))
    }
    fn recorded_commits(&self, group: &str) -> Option<Vec<RecordedCommit>> {
        self.inner.recorded_commits(group)
    }
    fn offsets_at_time(
        &self,
        partitions: &[(String, i32)],
        at_ms: i64,
    ) -> Result<HashMap<(String, i32), i64>, ClusterError> {
        self.ask(|| self.inner.offsets_at_time(partitions, at_ms))
    }
}
