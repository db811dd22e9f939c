//! Partition-key forensics: which partitioner wrote a topic and which keys it misplaced, how
//! evenly records spread and which keys are hot, whose order within a key is broken, and (with
//! a spec) which customers a topic keyed by linked ids splits over several partitions.

mod order;
mod skew;
mod split;

use serde::Serialize;

pub use order::{KeyInversions, Order, Timed, order};
pub use skew::{HotKey, Skew, gini, records_per_partition, skew};
pub use split::{SplitExample, SplitSource, split_source};

use crate::cluster::{CancelToken, ClusterError, Record, ScanProgress};
use crate::freshness::Links;
use crate::profile::infer::{Candidates, Inference, Misplaced, Second, infer, sample};
use crate::profile::placement::disagreement;
use crate::profile::{SourceDecoder, Spec, parse_event_time};
use crate::source::Source;

/// The partitioner verdict as the `keys` JSON gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionerVerdict {
    /// murmur2, crc32, fnv1a, random or undetermined.
    pub best: &'static str,
    pub explained: f64,
    pub candidates: Candidates,
    pub second: Option<Second>,
    pub null_keys: u64,
    pub verdict: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicKeys {
    pub topic: String,
    pub partitions: i32,
    /// Records sampled (keyed or not).
    pub sampled: u64,
    pub partitioner: PartitionerVerdict,
    /// Keys on a partition the best partitioner does not put them in (the first 100).
    pub misplaced: Vec<Misplaced>,
    pub misplaced_keys: u64,
    pub misplaced_records: u64,
    pub skew: Skew,
    pub order: Order,
    /// Where the spec's partitioner reads this topic wrongly (a spec source, a hash partitioner).
    pub spec_disagrees: Option<String>,
    pub cancelled: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SpecKeys {
    pub sources: Vec<SplitSource>,
    /// Link-source records that could not be decoded (their links are missing from the map).
    pub undecodable_link_records: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KeysReport {
    pub topics: Vec<TopicKeys>,
    pub spec: Option<SpecKeys>,
}

/// A spec and its decoder, for event times and the customer map.
#[derive(Clone, Copy)]
pub struct WithSpec<'a> {
    pub spec: &'a Spec,
    pub decoder: &'a SourceDecoder,
}

/// One sampled record's event time: the spec's `event_time` where the topic is a source that
/// names one, else the record timestamp.
fn event_time_of(record: &Record, with: Option<WithSpec<'_>>) -> Option<i64> {
    let source = with.and_then(|w| w.spec.source(&record.topic).map(|s| (w, s)));
    match source {
        Some((with, src)) if src.event_time.is_some() => {
            let bytes = record.value.as_deref()?;
            let value = with.decoder.decode(src, bytes).ok()?;
            crate::profile::pointer(&value, src.event_time.as_deref()?).and_then(parse_event_time)
        }
        _ => record
            .timestamp_ms
            .filter(|ms| crate::time::plausible_ms(*ms)),
    }
}

/// Samples `topic` (about `n` records, spread over its partitions) and looks at its keys.
pub fn topic_keys(
    source: &dyn Source,
    topic: &str,
    n: usize,
    with: Option<WithSpec<'_>>,
    cancel: &CancelToken,
) -> Result<TopicKeys, ClusterError> {
    let info = source.topic(topic)?;
    let (partitions, records) = sample(source, &info, n, cancel)?;
    let inference: Inference = infer(
        records.iter().map(|r| (r.key.as_deref(), r.partition)),
        partitions,
    );
    let event_time = match with.and_then(|w| w.spec.source(topic)) {
        Some(src) if src.event_time.is_some() => {
            format!("event time ({})", src.event_time.as_deref().unwrap_or(""))
        }
        _ => "record timestamp".to_owned(),
    };
    let timed = records
        .iter()
        .filter_map(|r| {
            Some(Timed {
                key: r.key.as_deref()?,
                partition: r.partition,
                offset: r.offset,
                event_ms: event_time_of(r, with),
            })
        })
        .collect();
    let spec_disagrees = with
        .filter(|w| w.spec.source(topic).is_some())
        .and_then(|w| disagreement(topic, w.spec.partitioner, &inference));
    Ok(TopicKeys {
        topic: topic.to_owned(),
        partitions,
        sampled: records.len() as u64,
        partitioner: PartitionerVerdict {
            best: inference.best.name(),
            explained: inference.explained,
            candidates: inference.candidates,
            second: inference.second.clone(),
            null_keys: inference.null_keys,
            verdict: inference.verdict.clone(),
        },
        misplaced: inference.misplaced,
        misplaced_keys: inference.misplaced_keys,
        misplaced_records: inference.misplaced_records,
        skew: skew(&info.partitions, &records),
        order: order(timed, &event_time),
        spec_disagrees,
        cancelled: cancel.is_cancelled(),
    })
}

/// Every source topic of the spec: its customers split over partitions. The link sources are
/// read whole first (they map linked ids to customers), then every source at once.
pub fn spec_keys(
    source: &dyn Source,
    with: WithSpec<'_>,
    cancel: &CancelToken,
    on_progress: &(dyn Fn(ScanProgress) + Sync),
) -> Result<SpecKeys, ClusterError> {
    let links = Links::read(source, with.spec, with.decoder, None, cancel)?;
    let progress = std::sync::Mutex::new(vec![ScanProgress::default(); with.spec.sources.len()]);
    let sources = crate::cluster::in_parallel(&with.spec.sources, "a key scan", |index, src| {
        let report = |p: ScanProgress| {
            if let Ok(mut all) = progress.lock() {
                all[index] = p;
                on_progress(ScanProgress::sum(&all));
            }
        };
        split_source(source, &src.topic, &links, cancel, &report)
    })
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    Ok(SpecKeys {
        sources,
        undecodable_link_records: links.undecodable,
    })
}

/// One topic's split customers, where the spec has it as a source (`None` otherwise): the
/// link sources read whole, then the topic's keys.
pub fn topic_split(
    source: &dyn Source,
    with: WithSpec<'_>,
    topic: &str,
    cancel: &CancelToken,
) -> Result<Option<SplitSource>, ClusterError> {
    if with.spec.source(topic).is_none() {
        return Ok(None);
    }
    let links = Links::read(source, with.spec, with.decoder, None, cancel)?;
    split_source(source, topic, &links, cancel, &|_| {}).map(Some)
}

/// What `freshlens keys` asks for.
pub struct KeysRequest<'a> {
    pub topics: Vec<String>,
    pub sample: usize,
    pub with: Option<WithSpec<'a>>,
}

/// Looks at every topic asked for (at once), then, with a spec, at its sources' split customers.
pub fn look_at_keys(
    source: &dyn Source,
    request: &KeysRequest<'_>,
    cancel: &CancelToken,
    on_progress: &(dyn Fn(ScanProgress) + Sync),
) -> Result<KeysReport, ClusterError> {
    let topics = crate::cluster::in_parallel(&request.topics, "a key sample", |_, topic| {
        topic_keys(source, topic, request.sample, request.with, cancel)
    })
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    let spec = match request.with {
        Some(with) if !cancel.is_cancelled() => Some(spec_keys(source, with, cancel, on_progress)?),
        _ => None,
    };
    Ok(KeysReport { topics, spec })
}
