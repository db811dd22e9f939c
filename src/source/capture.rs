//! A capture held in memory: records per topic partition, the watermarks and committed group
//! offsets at capture time. It answers every [`Source`] call the way the cluster did then.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use super::{RecordedCommit, Sink, Source};
use crate::cluster::{
    CancelToken, ClusterError, GroupInfo, Judged, PartitionInfo, Record, RecordAt, ScanEvent,
    ScanProgress, ScanRequest, ScanSummary, StartAt, TopicInfo, is_internal_topic,
};

const BATCH_RECORDS: usize = 512;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CapturedPartition {
    pub low: i64,
    pub high: i64,
    /// Sorted by offset.
    pub records: Vec<Record>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CapturedGroup {
    pub name: String,
    pub state: String,
    pub offsets: BTreeMap<(String, i32), i64>,
    /// The group's commits before capture time, oldest first, where they were recorded: the
    /// status rules judge a group by its commits, and a capture is evaluated once from them.
    pub commits: Vec<RecordedCommit>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Capture {
    pub name: String,
    pub captured_at_ms: i64,
    pub topics: BTreeMap<String, BTreeMap<i32, CapturedPartition>>,
    pub groups: Vec<CapturedGroup>,
    /// Topic configurations as the cluster described them (`retention.ms`, `cleanup.policy`).
    pub configs: BTreeMap<String, Vec<(String, String)>>,
    /// `masked` or `revealed` when a spec's `pii` values were masked in the records or
    /// deliberately kept; written in the header so whoever opens the file knows.
    pub pii: Option<String>,
}

impl Capture {
    pub fn new(name: impl Into<String>, captured_at_ms: i64) -> Self {
        Self {
            name: name.into(),
            captured_at_ms,
            ..Self::default()
        }
    }

    /// Declares a topic's partitions, so empty ones exist too.
    pub fn add_topic(&mut self, topic: &str, partitions: i32) {
        let entry = self.topics.entry(topic.to_owned()).or_default();
        for id in 0..partitions {
            entry.entry(id).or_default();
        }
    }

    pub fn set_watermarks(&mut self, topic: &str, partition: i32, low: i64, high: i64) {
        let p = self
            .topics
            .entry(topic.to_owned())
            .or_default()
            .entry(partition)
            .or_default();
        p.low = low;
        p.high = high;
    }

    /// Adds a record; call [`Capture::finish`] after records that came out of order.
    pub fn push(&mut self, record: Record) {
        if !self.topics.contains_key(&record.topic) {
            self.topics.insert(record.topic.clone(), BTreeMap::new());
        }
        let Some(partitions) = self.topics.get_mut(&record.topic) else {
            return;
        };
        let p = partitions.entry(record.partition).or_default();
        if p.records.is_empty() && p.high == 0 {
            // No watermarks were declared: the log starts where its records do.
            p.low = record.offset;
        }
        p.high = p.high.max(record.offset + 1);
        p.records.push(record);
    }

    /// Sorts each partition by offset, drops repeated offsets and makes the watermarks cover
    /// the records.
    pub fn finish(&mut self) {
        for partitions in self.topics.values_mut() {
            for p in partitions.values_mut() {
                p.records.sort_by_key(|r| r.offset);
                p.records.dedup_by_key(|r| r.offset);
                if let (Some(first), Some(last)) = (p.records.first(), p.records.last()) {
                    p.low = p.low.min(first.offset);
                    p.high = p.high.max(last.offset + 1);
                }
            }
        }
    }

    pub fn record_count(&self) -> usize {
        self.topics
            .values()
            .flat_map(|t| t.values())
            .map(|p| p.records.len())
            .sum()
    }

    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.topics
            .values()
            .flat_map(|t| t.values())
            .flat_map(|p| p.records.iter())
    }

    fn partition(&self, topic: &str, partition: i32) -> Option<&CapturedPartition> {
        self.topics.get(topic)?.get(&partition)
    }

    fn info(&self, name: &str, partitions: &BTreeMap<i32, CapturedPartition>) -> TopicInfo {
        TopicInfo {
            name: name.to_owned(),
            error: None,
            partitions: partitions
                .iter()
                .map(|(id, p)| PartitionInfo {
                    id: *id,
                    leader: 0,
                    replicas: vec![0],
                    isr: vec![0],
                    low: p.low,
                    high: p.high,
                    listed_high: p.high,
                    high_confirmed: true,
                    error: None,
                })
                .collect(),
        }
    }

    fn start(p: &CapturedPartition, start: StartAt) -> i64 {
        match start {
            StartAt::Beginning => p.low,
            StartAt::End => p.high,
            StartAt::Offset(offset) => offset.clamp(p.low, p.high.max(p.low)),
            StartAt::Tail(n) => (p.high - n).max(p.low),
            StartAt::Timestamp(ts) => p
                .records
                .iter()
                .find(|r| r.timestamp_ms.is_some_and(|t| t >= ts))
                .map_or(p.high, |r| r.offset),
        }
    }
}

impl Source for Capture {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn now_ms(&self) -> i64 {
        self.captured_at_ms
    }

    fn is_capture(&self) -> bool {
        true
    }

    fn topics(&self, include_internal: bool) -> Result<Vec<TopicInfo>, ClusterError> {
        Ok(self
            .topics
            .iter()
            .filter(|(name, _)| include_internal || !is_internal_topic(name))
            .map(|(name, partitions)| self.info(name, partitions))
            .collect())
    }

    fn topic(&self, name: &str) -> Result<TopicInfo, ClusterError> {
        match self.topics.get(name) {
            Some(partitions) if !partitions.is_empty() => Ok(self.info(name, partitions)),
            _ => Err(ClusterError::UnknownTopic(name.to_owned())),
        }
    }

    fn topic_configs(&self, topic: &str) -> Result<Vec<(String, String)>, ClusterError> {
        self.topic(topic)?;
        Ok(self.configs.get(topic).cloned().unwrap_or_default())
    }

    fn recorded_commits(&self, group: &str) -> Option<Vec<RecordedCommit>> {
        let group = self.groups.iter().find(|g| g.name == group)?;
        (!group.commits.is_empty()).then(|| group.commits.clone())
    }

    fn scan(
        &self,
        request: &ScanRequest,
        cancel: &CancelToken,
        sink: &mut Sink<'_>,
    ) -> Result<ScanSummary, ClusterError> {
        let started = Instant::now();
        let topic = self.topic(&request.topic)?;
        let ids: Vec<i32> = match &request.partitions {
            None => topic.partitions.iter().map(|p| p.id).collect(),
            Some(wanted) => wanted.clone(),
        };
        let mut plan = Vec::with_capacity(ids.len());
        for id in ids {
            let p =
                self.partition(&topic.name, id)
                    .ok_or_else(|| ClusterError::UnknownPartition {
                        topic: topic.name.clone(),
                        partition: id,
                    })?;
            let start =
                request.first_offset(id, Some(Self::start(p, request.start)), p.low, p.high);
            plan.push((p, start));
        }
        let mut progress = ScanProgress {
            partitions: plan.len(),
            to_scan: plan
                .iter()
                .map(|(p, start)| (p.high - start).max(0) as u64)
                .sum(),
            ..ScanProgress::default()
        };
        let mut cancelled = false;
        let mut batch = Vec::new();
        'partitions: for (p, start) in plan {
            let from = p.records.partition_point(|r| r.offset < start);
            for record in &p.records[from..] {
                if cancel.is_cancelled() {
                    cancelled = true;
                    break 'partitions;
                }
                progress.scanned += 1;
                progress.bytes += record.size_bytes() as u64;
                match request.judge(record) {
                    Judged::PartitionDone => break,
                    Judged::Skip => continue,
                    Judged::Keep => {}
                }
                progress.matched += 1;
                batch.push(record.clone());
                let full = request.has_enough(progress.matched);
                if (batch.len() >= BATCH_RECORDS || full)
                    && !sink(ScanEvent::Records(std::mem::take(&mut batch)))
                {
                    break 'partitions;
                }
                if full {
                    break 'partitions;
                }
            }
            progress.partitions_done += 1;
        }
        if !batch.is_empty() {
            sink(ScanEvent::Records(batch));
        }
        progress.elapsed = started.elapsed();
        sink(ScanEvent::Progress(progress.clone()));
        Ok(ScanSummary {
            progress,
            cancelled,
            warnings: Vec::new(),
        })
    }

    fn groups(&self) -> Result<Vec<GroupInfo>, ClusterError> {
        Ok(self
            .groups
            .iter()
            .map(|g| GroupInfo {
                name: g.name.clone(),
                state: g.state.clone(),
                protocol_type: "consumer".into(),
                protocol: String::new(),
                members: Vec::new(),
            })
            .collect())
    }

    fn group(&self, name: &str) -> Result<GroupInfo, ClusterError> {
        self.groups()?
            .into_iter()
            .find(|g| g.name == name)
            .ok_or_else(|| ClusterError::UnknownGroup(name.to_owned()))
    }

    fn committed_offsets(
        &self,
        group: &str,
        partitions: &[(String, i32)],
    ) -> Result<HashMap<(String, i32), Option<i64>>, ClusterError> {
        let offsets = self
            .groups
            .iter()
            .find(|g| g.name == group)
            .map(|g| &g.offsets);
        Ok(partitions
            .iter()
            .map(|tp| (tp.clone(), offsets.and_then(|o| o.get(tp).copied())))
            .collect())
    }

    fn group_offsets(&self, groups: &[&str]) -> Result<super::GroupOffsetsAnswer, ClusterError> {
        Ok(groups
            .iter()
            .map(|name| {
                let answer = self
                    .groups
                    .iter()
                    .find(|g| g.name == *name)
                    .map(|g| g.offsets.iter().map(|(tp, o)| (tp.clone(), *o)).collect())
                    .ok_or_else(|| ClusterError::UnknownGroup((*name).to_owned()));
                ((*name).to_owned(), answer)
            })
            .collect())
    }

    fn records_at(
        &self,
        positions: &[(String, i32, i64)],
    ) -> Result<HashMap<(String, i32, i64), RecordAt>, ClusterError> {
        Ok(positions
            .iter()
            .map(|(topic, partition, offset)| {
                let p = self.partition(topic, *partition);
                let timestamp_ms = p.and_then(|p| {
                    p.records
                        .binary_search_by_key(offset, |r| r.offset)
                        .ok()
                        .and_then(|i| p.records[i].timestamp_ms)
                });
                let high = p.map(|p| p.high);
                (
                    (topic.clone(), *partition, *offset),
                    RecordAt { timestamp_ms, high },
                )
            })
            .collect())
    }

    fn offsets_at_time(
        &self,
        partitions: &[(String, i32)],
        at_ms: i64,
    ) -> Result<HashMap<(String, i32), i64>, ClusterError> {
        Ok(partitions
            .iter()
            .filter_map(|(topic, partition)| {
                let p = self.partition(topic, *partition)?;
                let r = p
                    .records
                    .iter()
                    .find(|r| r.timestamp_ms.is_some_and(|t| t >= at_ms))?;
                Some(((topic.clone(), *partition), r.offset))
            })
            .collect())
    }
}
