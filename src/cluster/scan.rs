//! Streaming message scans over one topic's partitions. A scan reads from a start position up to
//! the high watermark it saw when it started (or a count, or an end timestamp), hands records
//! over in batches while it runs, reports progress, and stops promptly when cancelled. It holds
//! no records itself, so memory stays bounded whatever the topic size.

use std::collections::HashMap;
use std::ffi::CString;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer as _;
use rdkafka::error::KafkaError;
use rdkafka::{Offset, TopicPartitionList};
use regex::bytes::Regex;

use super::{Cluster, ClusterError, Record, explain};

/// What [`ScanRequest::judge`] says of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judged {
    Keep,
    Skip,
    /// Past the end time: nothing more of this partition is wanted.
    PartitionDone,
}

/// Where each partition's read begins, as kcat's `-o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    Beginning,
    End,
    Offset(i64),
    /// The last N records of each partition.
    Tail(i64),
    /// The first record at or after this time (ms since the epoch).
    Timestamp(i64),
}

impl FromStr for StartAt {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || format!("start {s:?}: expected beginning, end, OFFSET, -N or @TIMESTAMP_MS");
        match s {
            "beginning" | "earliest" | "start" => Ok(Self::Beginning),
            "end" | "latest" => Ok(Self::End),
            _ => {
                // Times before 1970, "the last 0 records" and negative offsets mean nothing a
                // broker can answer: refused here, not surfaced as librdkafka's InvalidArgument.
                if let Some(ts) = s.strip_prefix('@') {
                    let ts: i64 = ts.parse().map_err(|_| bad())?;
                    (ts >= 0).then_some(Self::Timestamp(ts)).ok_or_else(bad)
                } else if let Some(n) = s.strip_prefix('-') {
                    let n: i64 = n.parse().map_err(|_| bad())?;
                    (n >= 1).then_some(Self::Tail(n)).ok_or_else(bad)
                } else {
                    s.parse::<i64>()
                        .ok()
                        .filter(|o| *o >= 0)
                        .map(Self::Offset)
                        .ok_or_else(bad)
                }
            }
        }
    }
}

/// Which records a scan hands over. Records that do not match are still counted as scanned.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// Records whose key is one of these (any key when empty).
    /// A set: a batched lookup filters by hundreds of ids.
    pub keys: std::collections::BTreeSet<Vec<u8>>,
    pub contains: Option<Vec<u8>>,
    pub regex: Option<Regex>,
}

impl RecordFilter {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.contains.is_none() && self.regex.is_none()
    }

    pub fn matches(&self, record: &Record) -> bool {
        let key = record.key.as_deref();
        let value = record.value.as_deref();
        if !self.keys.is_empty() && !key.is_some_and(|k| self.keys.contains(k)) {
            return false;
        }
        if let Some(needle) = &self.contains {
            let finder = memchr::memmem::Finder::new(needle);
            let found = [key, value]
                .into_iter()
                .flatten()
                .any(|h| finder.find(h).is_some());
            if !found {
                return false;
            }
        }
        if let Some(regex) = &self.regex
            && ![key, value]
                .into_iter()
                .flatten()
                .any(|h| regex.is_match(h))
        {
            return false;
        }
        true
    }
}

#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub topic: String,
    /// `None` reads every partition.
    pub partitions: Option<Vec<i32>>,
    pub start: StartAt,
    /// Where to pick up per partition, overriding `start`: the offsets after those an earlier
    /// scan already read.
    pub resume: HashMap<i32, i64>,
    /// Stop after this many matching records in all.
    pub max_records: Option<u64>,
    /// Skip records after this time; a partition stops at its first record past it.
    pub end_timestamp_ms: Option<i64>,
    pub filter: RecordFilter,
}

impl ScanRequest {
    /// Where a partition's read starts: where an earlier read stopped (`resume`), else where
    /// `start` put it, always within the partition's watermarks. One rule for every source.
    pub fn first_offset(&self, partition: i32, start: Option<i64>, low: i64, high: i64) -> i64 {
        self.resume
            .get(&partition)
            .copied()
            .or(start)
            .unwrap_or(low)
            .clamp(low, high.max(low))
    }

    /// What a scan does with a record it read, the same for a cluster and a capture: past
    /// `end_timestamp_ms` the partition is done; before a `@timestamp` start, or not matching
    /// the filter, it is skipped.
    pub fn judge(&self, record: &Record) -> Judged {
        if let (Some(end), Some(ts)) = (self.end_timestamp_ms, record.timestamp_ms)
            && ts > end
        {
            return Judged::PartitionDone;
        }
        let before_start = matches!(
            (self.start, record.timestamp_ms),
            (StartAt::Timestamp(start), Some(ts)) if ts < start
        );
        if before_start || !self.filter.matches(record) {
            Judged::Skip
        } else {
            Judged::Keep
        }
    }

    /// Whether `matched` records are all that was asked for.
    pub fn has_enough(&self, matched: u64) -> bool {
        self.max_records.is_some_and(|max| matched >= max)
    }

    pub fn new(topic: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
            partitions: None,
            start: StartAt::Beginning,
            resume: HashMap::new(),
            max_records: None,
            end_timestamp_ms: None,
            filter: RecordFilter::default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanProgress {
    pub scanned: u64,
    pub to_scan: u64,
    pub matched: u64,
    pub bytes: u64,
    pub partitions_done: usize,
    pub partitions: usize,
    pub elapsed: Duration,
}

impl ScanProgress {
    /// Several reads' progress as one (the slowest one's time).
    pub fn sum(all: &[ScanProgress]) -> ScanProgress {
        all.iter().fold(ScanProgress::default(), |mut sum, p| {
            sum.scanned += p.scanned;
            sum.to_scan += p.to_scan;
            sum.matched += p.matched;
            sum.bytes += p.bytes;
            sum.partitions += p.partitions;
            sum.partitions_done += p.partitions_done;
            sum.elapsed = sum.elapsed.max(p.elapsed);
            sum
        })
    }

    pub fn records_per_sec(&self) -> f64 {
        self.scanned as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }

    pub fn bytes_per_sec(&self) -> f64 {
        self.bytes as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }

    pub fn fraction(&self) -> f32 {
        if self.to_scan == 0 {
            1.0
        } else {
            (self.scanned as f64 / self.to_scan as f64).min(1.0) as f32
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScanSummary {
    pub progress: ScanProgress,
    pub cancelled: bool,
    /// Non-fatal problems met on the way (a broker that dropped and came back, for instance).
    pub warnings: Vec<String>,
}

pub enum ScanEvent {
    Records(Vec<Record>),
    Progress(ScanProgress),
}

/// Shared flag that stops a scan at its next poll.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

const BATCH_RECORDS: usize = 512;
const BATCH_INTERVAL: Duration = Duration::from_millis(50);
const POLL_INTERVAL: Duration = Duration::from_millis(100);

struct PartitionState {
    /// Offset past the last record to read: the high watermark at scan start.
    end: i64,
    next: i64,
    done: bool,
    end_refreshed: bool,
    low: i64,
    /// Where the fetch was last asked to start (at or before `next`, see `watermarks`).
    asked: i64,
    /// Whether a record at or before `next` has come back, so nothing between the offset
    /// asked for and the first record was skipped by a broker that serves whole batches only.
    covered: bool,
}

impl Cluster {
    /// Runs a scan, handing batches of matching records and progress to `sink` as it goes.
    /// `sink` returns `false` to stop early (a closed pipe, a full view).
    pub fn scan(
        &self,
        request: &ScanRequest,
        cancel: &CancelToken,
        sink: &mut dyn FnMut(ScanEvent) -> bool,
    ) -> Result<ScanSummary, ClusterError> {
        let started = Instant::now();
        let topic = self.topic(&request.topic)?;
        let ids: Vec<i32> = match &request.partitions {
            None => topic.partitions.iter().map(|p| p.id).collect(),
            Some(wanted) => {
                for id in wanted {
                    if !topic.partitions.iter().any(|p| p.id == *id) {
                        return Err(ClusterError::UnknownPartition {
                            topic: topic.name.clone(),
                            partition: *id,
                        });
                    }
                }
                wanted.clone()
            }
        };
        let starts = self.start_offsets(&topic, &ids, request.start)?;
        let mut states: HashMap<i32, PartitionState> = HashMap::new();
        for info in topic.partitions.iter().filter(|p| ids.contains(&p.id)) {
            let start = starts.get(&info.id).copied();
            let next = request.first_offset(info.id, start, info.low, info.high);
            states.insert(
                info.id,
                PartitionState {
                    end: info.high,
                    next,
                    done: next >= info.high,
                    end_refreshed: false,
                    low: info.low,
                    asked: super::watermarks::probe_start(next, info.low, info.listed_high),
                    covered: false,
                },
            );
        }

        let mut progress = ScanProgress {
            partitions: states.len(),
            to_scan: states
                .values()
                .map(|s| (s.end - s.next).max(0) as u64)
                .sum(),
            ..ScanProgress::default()
        };
        let mut summary = ScanSummary {
            progress: progress.clone(),
            cancelled: false,
            warnings: Vec::new(),
        };
        let mut assignment = TopicPartitionList::new();
        for (id, state) in states.iter().filter(|(_, s)| !s.done) {
            assignment
                .add_partition_offset(&topic.name, *id, Offset::Offset(state.asked))
                .map_err(|e| self.explain(e))?;
        }
        if assignment.count() == 0 {
            progress.partitions_done = states.len();
            progress.elapsed = started.elapsed();
            sink(ScanEvent::Progress(progress.clone()));
            summary.progress = progress;
            return Ok(summary);
        }

        let consumer = self.take_reader(&topic.name)?;
        consumer.assign(&assignment).map_err(|e| self.explain(e))?;
        let topic_c = CString::new(topic.name.clone()).map_err(|_| ClusterError::Config {
            reason: "topic name contains a NUL byte".into(),
        })?;

        let mut batch = Vec::with_capacity(BATCH_RECORDS);
        let mut last_flush = Instant::now();
        let mut last_progress_at = Instant::now();
        // Below the high watermark there is always data to fetch, so a long silence means the
        // cluster went away; librdkafka would retry forever.
        let mut last_data = Instant::now();
        let mut keep_going = true;

        while keep_going && states.values().any(|s| !s.done) {
            if cancel.is_cancelled() {
                summary.cancelled = true;
                break;
            }
            if last_data.elapsed() >= self.config().timeout {
                flush(&mut batch, sink);
                let error = KafkaError::MessageConsumption(
                    rdkafka::types::RDKafkaErrorCode::OperationTimedOut,
                );
                return Err(match explain(self.config(), consumer.context(), error) {
                    ClusterError::Kafka(_) => ClusterError::Unreachable {
                        bootstrap: self.config().bootstrap.clone(),
                        timeout: self.config().timeout,
                        detail: format!(
                            "no data for {:?} with {} records still to read",
                            self.config().timeout,
                            progress.to_scan.saturating_sub(progress.scanned)
                        ),
                    },
                    explained => explained,
                });
            }
            match consumer.poll(POLL_INTERVAL) {
                None => {}
                Some(Err(KafkaError::PartitionEOF(partition))) => {
                    last_data = Instant::now();
                    if let Some(state) = states.get_mut(&partition) {
                        state.done = true;
                    }
                }
                Some(Err(error)) => {
                    let text = explain(self.config(), consumer.context(), error).to_string();
                    if !summary.warnings.contains(&text) {
                        summary.warnings.push(text);
                    }
                }
                Some(Ok(message)) => {
                    last_data = Instant::now();
                    let record = Record::from_message(&message);
                    let Some(state) = states.get_mut(&record.partition) else {
                        continue;
                    };
                    if state.done {
                        continue;
                    }
                    if !state.covered {
                        // The first record past the offset wanted: on a broker that serves
                        // only batches starting at or after the offset asked, the batch
                        // holding it began earlier. Ask again from further back.
                        if record.offset > state.next
                            && self.lists_low()
                            && let Some(back) = super::watermarks::step_back(
                                state.next,
                                state.asked,
                                record.offset,
                                state.low,
                            )
                            && consumer
                                .seek(
                                    &topic.name,
                                    record.partition,
                                    Offset::Offset(back),
                                    self.config().timeout,
                                )
                                .is_ok()
                        {
                            state.asked = back;
                            continue;
                        }
                        state.covered = true;
                    }
                    if record.offset < state.next {
                        // Read from further back than wanted: not part of this scan.
                        continue;
                    }
                    if !state.end_refreshed {
                        // Some brokers (Tansu) under-report the high watermark in ListOffsets; the
                        // fetch response that brought this record carries the true one.
                        state.end_refreshed = true;
                        if let Some(high) = super::watermarks::cached_high_watermark(
                            &consumer,
                            &topic_c,
                            record.partition,
                        ) && high > state.end
                        {
                            progress.to_scan += (high - state.end) as u64;
                            state.end = high;
                        }
                    }
                    if record.offset >= state.end {
                        state.done = true;
                        continue;
                    }
                    state.next = record.offset + 1;
                    if state.next >= state.end {
                        state.done = true;
                    }
                    progress.scanned += 1;
                    progress.bytes += record.size_bytes() as u64;
                    match request.judge(&record) {
                        Judged::PartitionDone => {
                            state.done = true;
                            continue;
                        }
                        Judged::Skip => continue,
                        Judged::Keep => {}
                    }
                    progress.matched += 1;
                    batch.push(record);
                    if request.has_enough(progress.matched) {
                        break;
                    }
                }
            }
            if batch.len() >= BATCH_RECORDS || last_flush.elapsed() >= BATCH_INTERVAL {
                keep_going = flush(&mut batch, sink);
                last_flush = Instant::now();
            }
            if last_progress_at.elapsed() >= BATCH_INTERVAL {
                progress.partitions_done = states.values().filter(|s| s.done).count();
                progress.elapsed = started.elapsed();
                keep_going = keep_going && sink(ScanEvent::Progress(progress.clone()));
                last_progress_at = Instant::now();
            }
        }
        flush(&mut batch, sink);
        self.give_back_reader(&topic.name, consumer);
        progress.partitions_done = states.values().filter(|s| s.done).count();
        progress.elapsed = started.elapsed();
        sink(ScanEvent::Progress(progress.clone()));
        summary.progress = progress;
        Ok(summary)
    }

    fn start_offsets(
        &self,
        info: &super::TopicInfo,
        ids: &[i32],
        start: StartAt,
    ) -> Result<HashMap<i32, i64>, ClusterError> {
        let topic = info.name.as_str();
        let bounds = |id: i32| {
            info.partitions
                .iter()
                .find(|p| p.id == id)
                .map_or((0, 0), |p| (p.low, p.high))
        };
        Ok(match start {
            StartAt::Beginning => ids.iter().map(|&id| (id, bounds(id).0)).collect(),
            StartAt::End => ids.iter().map(|&id| (id, bounds(id).1)).collect(),
            StartAt::Offset(offset) => ids.iter().map(|&id| (id, offset)).collect(),
            StartAt::Tail(n) => ids
                .iter()
                .map(|&id| {
                    let (low, high) = bounds(id);
                    (id, (high - n).max(low))
                })
                .collect(),
            StartAt::Timestamp(ts) => {
                // The broker's answer is only trusted to skip ahead: records before `ts` are
                // filtered out client-side, so a broker that answers 0 (Tansu) still gives the
                // right records, just more slowly.
                let pairs: Vec<(String, i32)> =
                    ids.iter().map(|&id| (topic.to_owned(), id)).collect();
                let answers = self.list_offsets(&pairs, Offset::Offset(ts))?;
                ids.iter()
                    .map(|&id| {
                        let (low, high) = bounds(id);
                        let offset = answers
                            .get(&(topic.to_owned(), id))
                            .copied()
                            .unwrap_or(high);
                        (id, offset.max(low))
                    })
                    .collect()
            }
        })
    }
}

fn flush(batch: &mut Vec<Record>, sink: &mut dyn FnMut(ScanEvent) -> bool) -> bool {
    if batch.is_empty() {
        return true;
    }
    sink(ScanEvent::Records(std::mem::take(batch)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, value: &str) -> Record {
        Record {
            topic: "t".into(),
            partition: 0,
            offset: 0,
            timestamp_ms: Some(1),
            timestamp_kind: super::super::TimestampKind::CreateTime,
            key: Some(key.as_bytes().to_vec()),
            value: Some(value.as_bytes().to_vec()),
            headers: vec![],
        }
    }

    #[test]
    fn parses_start_positions() {
        assert_eq!("beginning".parse(), Ok(StartAt::Beginning));
        assert_eq!("end".parse(), Ok(StartAt::End));
        assert_eq!("42".parse(), Ok(StartAt::Offset(42)));
        assert_eq!("-10".parse(), Ok(StartAt::Tail(10)));
        assert_eq!(
            "@1700000000000".parse(),
            Ok(StartAt::Timestamp(1_700_000_000_000))
        );
        assert!("@soon".parse::<StartAt>().is_err());
        assert!("later".parse::<StartAt>().is_err());
    }

    #[test]
    fn filter_combines_key_substring_and_regex() {
        let filter = RecordFilter {
            keys: [b"c-1".to_vec()].into(),
            contains: Some(b"gold".to_vec()),
            regex: Some(Regex::new(r#""amount":\s*\d{3}"#).unwrap()),
        };
        assert!(filter.matches(&record("c-1", r#"{"tier":"gold","amount": 120}"#)));
        assert!(!filter.matches(&record("c-2", r#"{"tier":"gold","amount": 120}"#)));
        assert!(!filter.matches(&record("c-1", r#"{"tier":"silver","amount": 120}"#)));
        assert!(!filter.matches(&record("c-1", r#"{"tier":"gold","amount": 12}"#)));
        assert!(RecordFilter::default().matches(&record("x", "y")));
    }

    #[test]
    fn one_rule_for_where_a_read_starts_and_what_it_keeps() {
        let mut request = ScanRequest::new("t");
        request.resume.insert(0, 500);
        request.resume.insert(1, -3);
        assert_eq!(
            request.first_offset(0, Some(5), 10, 100),
            100,
            "resume past the end"
        );
        assert_eq!(
            request.first_offset(1, Some(5), 10, 100),
            10,
            "resume before the start"
        );
        assert_eq!(request.first_offset(2, Some(50), 10, 100), 50);
        assert_eq!(request.first_offset(2, None, 10, 100), 10);
        request.start = StartAt::Timestamp(1_000);
        request.end_timestamp_ms = Some(2_000);
        let at = |ts: i64| {
            let mut r = record("k", "v");
            r.timestamp_ms = Some(ts);
            r
        };
        assert_eq!(request.judge(&at(999)), Judged::Skip);
        assert_eq!(request.judge(&at(1_500)), Judged::Keep);
        assert_eq!(request.judge(&at(2_001)), Judged::PartitionDone);
        request.max_records = Some(2);
        assert!(!request.has_enough(1) && request.has_enough(2));
    }

    #[test]
    fn substring_matches_key_too() {
        let filter = RecordFilter {
            contains: Some(b"cust".to_vec()),
            ..RecordFilter::default()
        };
        assert!(filter.matches(&record("customer-9", "{}")));
    }
}
