//! A source that keeps every record read through it, so a lookup can be saved as a capture of
//! exactly what it saw.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::{Capture, CapturedGroup, Sink, Source};
use crate::cluster::{
    CancelToken, ClusterError, GroupInfo, RecordAt, ScanEvent, ScanRequest, ScanSummary, TopicInfo,
};

pub struct Recording<'a> {
    inner: &'a dyn Source,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    capture: Capture,
    groups: HashMap<String, CapturedGroup>,
}

impl<'a> Recording<'a> {
    pub fn new(inner: &'a dyn Source) -> Self {
        Self {
            inner,
            seen: Mutex::new(Seen::default()),
        }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn remember_topic(&self, topic: &TopicInfo) {
        let mut seen = self.seen();
        for p in &topic.partitions {
            seen.capture
                .set_watermarks(&topic.name, p.id, p.low, p.high);
        }
    }

    /// Everything read so far, with the watermarks and group offsets asked for.
    pub fn into_capture(self) -> Capture {
        let name = self.inner.name();
        let now = self.inner.now_ms();
        let seen = self
            .seen
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let mut capture = seen.capture;
        capture.name = name;
        capture.captured_at_ms = now;
        capture.groups = seen.groups.into_values().collect();
        capture.groups.sort_by(|a, b| a.name.cmp(&b.name));
        capture.finish();
        capture
    }
}

impl Source for Recording<'_> {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn now_ms(&self) -> i64 {
        self.inner.now_ms()
    }

    fn topics(&self, include_internal: bool) -> Result<Vec<TopicInfo>, ClusterError> {
        let topics = self.inner.topics(include_internal)?;
        for topic in &topics {
            self.remember_topic(topic);
        }
        Ok(topics)
    }

    fn topic(&self, name: &str) -> Result<TopicInfo, ClusterError> {
        let topic = self.inner.topic(name)?;
        self.remember_topic(&topic);
        Ok(topic)
    }

    fn topics_named(&self, names: &[&str]) -> Result<Vec<TopicInfo>, ClusterError> {
        let topics = self.inner.topics_named(names)?;
        for topic in &topics {
            self.remember_topic(topic);
        }
        Ok(topics)
    }

    fn topic_configs(&self, topic: &str) -> Result<Vec<(String, String)>, ClusterError> {
        let configs = self.inner.topic_configs(topic)?;
        self.seen()
            .capture
            .configs
            .insert(topic.to_owned(), configs.clone());
        Ok(configs)
    }

    fn topics_configs(&self, topics: &[&str]) -> Result<super::ConfigsAnswer, ClusterError> {
        let answers = self.inner.topics_configs(topics)?;
        let mut seen = self.seen();
        for (topic, answer) in &answers {
            if let Ok(configs) = answer {
                seen.capture.configs.insert(topic.clone(), configs.clone());
            }
        }
        Ok(answers)
    }

    fn scan(
        &self,
        request: &ScanRequest,
        cancel: &CancelToken,
        sink: &mut Sink<'_>,
    ) -> Result<ScanSummary, ClusterError> {
        self.topic(&request.topic)?;
        self.inner.scan(request, cancel, &mut |event| {
            if let ScanEvent::Records(records) = &event {
                let mut seen = self.seen();
                for record in records {
                    seen.capture.push(record.clone());
                }
            }
            sink(event)
        })
    }

    fn groups(&self) -> Result<Vec<GroupInfo>, ClusterError> {
        self.inner.groups()
    }

    fn group(&self, name: &str) -> Result<GroupInfo, ClusterError> {
        self.inner.group(name)
    }

    fn committed_offsets(
        &self,
        group: &str,
        partitions: &[(String, i32)],
    ) -> Result<HashMap<(String, i32), Option<i64>>, ClusterError> {
        let answer = self.inner.committed_offsets(group, partitions)?;
        let state = self
            .inner
            .group(group)
            .map_or_else(|_| "Empty".to_owned(), |g| g.state);
        let mut seen = self.seen();
        let entry = seen
            .groups
            .entry(group.to_owned())
            .or_insert_with(|| CapturedGroup {
                name: group.to_owned(),
                state,
                ..CapturedGroup::default()
            });
        for (tp, offset) in &answer {
            if let Some(offset) = offset {
                entry.offsets.insert(tp.clone(), *offset);
            }
        }
        Ok(answer)
    }

    fn group_offsets(&self, groups: &[&str]) -> Result<super::GroupOffsetsAnswer, ClusterError> {
        let answers = self.inner.group_offsets(groups)?;
        let mut seen = self.seen();
        for (group, answer) in &answers {
            if let Ok(offsets) = answer {
                let entry = seen
                    .groups
                    .entry(group.clone())
                    .or_insert_with(|| CapturedGroup {
                        name: group.clone(),
                        state: "Empty".into(),
                        ..CapturedGroup::default()
                    });
                entry
                    .offsets
                    .extend(offsets.iter().map(|(tp, o)| (tp.clone(), *o)));
            }
        }
        Ok(answers)
    }

    fn records_at(
        &self,
        positions: &[(String, i32, i64)],
    ) -> Result<HashMap<(String, i32, i64), RecordAt>, ClusterError> {
        self.inner.records_at(positions)
    }

    fn recorded_commits(&self, group: &str) -> Option<Vec<super::RecordedCommit>> {
        self.inner.recorded_commits(group)
    }

    fn offsets_at_time(
        &self,
        partitions: &[(String, i32)],
        at_ms: i64,
    ) -> Result<HashMap<(String, i32), i64>, ClusterError> {
        self.inner.offsets_at_time(partitions, at_ms)
    }
}
