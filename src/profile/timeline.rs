//! Reconstructing one customer's timeline: read only the partitions each identity hashes to, in
//! every source topic at once, follow identity links up to three hops, and decode as we go.

use crate::source::Source as DataSource;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::cluster::{
    ClusterError, Record, RecordFilter, ScanEvent, ScanProgress, ScanRequest, StartAt,
};

use super::spec::Source;
use super::{Event, parse_event_time, sort_timeline};
use crate::profile::SourceDecoder;
use crate::profile::placement::Placement;

pub const MAX_HOPS: usize = 3;
pub const MAX_IDENTITIES: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Undecodable {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScanStats {
    /// Partitions read (a partition read in two hops counts twice).
    pub partitions: usize,
    pub records: u64,
    pub bytes: u64,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timeline {
    pub key: String,
    pub identities: Vec<String>,
    pub events: Vec<Event>,
    pub undecodable: Vec<Undecodable>,
    /// Per source topic, records whose event time could not be read (missing, not a time, or
    /// outside 1970-9999): their broker time stands in, and the count says so.
    pub unreadable_event_times: std::collections::BTreeMap<String, u64>,
    pub scanned: ScanStats,
    /// True when the identity set hit its cap and some links were not followed.
    pub identities_capped: bool,
    /// Sources read by more than one partitioner, or whole, under `partitioner = "auto"`: why;
    /// and sources where nothing was found whose sampled records the spec's hash does not place.
    pub placement_warnings: Vec<String>,
    pub cancelled: bool,
}

impl Timeline {
    /// Adds the ids not yet among the identities, up to the cap (saying when it was hit), and
    /// returns them: the next hop reads their records.
    pub(super) fn adopt(&mut self, found: impl IntoIterator<Item = String>) -> Vec<String> {
        let mut new = Vec::new();
        for id in found {
            if self.identities.contains(&id) {
                continue;
            }
            if self.identities.len() >= MAX_IDENTITIES {
                self.identities_capped = true;
                break;
            }
            self.identities.push(id.clone());
            new.push(id);
        }
        new
    }
}

/// Called from the scan threads with the progress of the current hop, all sources summed.
pub type ProgressFn<'a> = &'a (dyn Fn(ScanProgress) + Sync);

/// Builds the timeline of the request's key; `on_events` sees events as each source's scan
/// delivers them, `on_progress` the records scanned so far.
pub fn load_timeline(
    cluster: &dyn DataSource,
    request: &super::LookupRequest<'_>,
    on_events: &mut dyn FnMut(&[Event]),
    on_progress: ProgressFn<'_>,
) -> Result<Timeline, ClusterError> {
    let super::LookupRequest {
        spec,
        key,
        ref cancel,
        ..
    } = *request;
    let started = Instant::now();
    let placements = super::placement::placements(cluster, spec, cancel)?;
    let mut timeline = Timeline {
        key: key.to_owned(),
        identities: vec![key.to_owned()],
        placement_warnings: warnings_of(spec, &placements),
        ..Timeline::default()
    };
    let mut frontier = vec![key.to_owned()];
    // Progress of the lookup as a whole: the hops before this one, plus this one's so far, so
    // the last report says what the timeline's `scanned` says.
    let before = Mutex::new(ScanProgress::default());
    let this_hop = Mutex::new(ScanProgress::default());
    let cumulative = |p: ScanProgress| {
        let Ok(before) = before.lock() else { return };
        if let Ok(mut hop) = this_hop.lock() {
            hop.clone_from(&p);
        }
        let mut sum = ScanProgress::sum(&[before.clone(), p]);
        sum.elapsed = started.elapsed();
        on_progress(sum);
    };
    for _hop in 0..=MAX_HOPS {
        if frontier.is_empty() || cancel.is_cancelled() {
            break;
        }
        let results = read_hop(cluster, request, &placements, &frontier, &cumulative);
        if let (Ok(mut before), Ok(mut hop)) = (before.lock(), this_hop.lock()) {
            *before = ScanProgress::sum(&[before.clone(), std::mem::take(&mut *hop)]);
        }
        let mut found = BTreeSet::new();
        for part in results? {
            on_events(&part.events);
            timeline.scanned.partitions += part.partitions;
            timeline.scanned.records += part.records;
            timeline.scanned.bytes += part.bytes;
            timeline.cancelled |= part.cancelled;
            if part.unreadable_times > 0 {
                *timeline
                    .unreadable_event_times
                    .entry(part.topic.clone())
                    .or_default() += part.unreadable_times;
            }
            for event in &part.events {
                if let Some(source) = spec.source(&event.topic) {
                    for pointer in &source.links {
                        if let Some(id) = super::pointer(&event.value, pointer).and_then(id_text) {
                            found.insert(id);
                        }
                    }
                }
            }
            timeline.events.extend(part.events);
            timeline.undecodable.extend(part.undecodable);
        }
        frontier = timeline.adopt(found);
    }
    sort_timeline(&mut timeline.events);
    if !timeline.cancelled {
        let empty: Vec<&str> = spec
            .sources
            .iter()
            .map(|s| s.topic.as_str())
            .filter(|topic| !timeline.events.iter().any(|e| e.topic == *topic))
            .collect();
        timeline
            .placement_warnings
            .extend(super::placement::disagreements_of_empty(
                cluster, spec, &empty, cancel,
            )?);
    }
    timeline.scanned.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(timeline)
}

/// The placements' warnings, in the spec's source order.
pub(super) fn warnings_of(
    spec: &super::Spec,
    placements: &HashMap<String, Placement>,
) -> Vec<String> {
    spec.sources
        .iter()
        .filter_map(|s| placements.get(&s.topic)?.warning.clone())
        .collect()
}

/// One hop: every source's partitions that `ids` hash to, each source read by a thread of its
/// own; `on_progress` hears the hop's progress, all sources summed.
pub(super) fn read_hop(
    cluster: &dyn DataSource,
    request: &super::LookupRequest<'_>,
    placements: &HashMap<String, Placement>,
    ids: &[String],
    on_progress: ProgressFn<'_>,
) -> Result<Vec<SourcePart>, ClusterError> {
    let spec = request.spec;
    let hop_progress = Mutex::new(vec![ScanProgress::default(); spec.sources.len()]);
    let report = |index: usize, progress: ScanProgress| {
        if let Ok(mut all) = hop_progress.lock() {
            all[index] = progress;
            on_progress(ScanProgress::sum(&all));
        }
    };
    crate::cluster::in_parallel(&spec.sources, "a scan thread", |index, source| {
        let progress = |p: ScanProgress| report(index, p);
        read_source(
            cluster,
            request,
            source,
            ids,
            &placements[&source.topic],
            &progress,
        )
    })
    .into_iter()
    .collect()
}

/// The schema id a registry-framed source's payload carries.
fn framed_schema_id(source: &Source, bytes: &[u8]) -> Option<u32> {
    use super::spec::SourceFormat;
    matches!(
        source.format,
        SourceFormat::Avro | SourceFormat::Protobuf | SourceFormat::JsonSchema
    )
    .then(|| crate::codec::confluent_frame(bytes).map(|(id, _)| id))
    .flatten()
}

/// A linked id as text: a non-empty string or a number.
pub fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[derive(Default)]
pub(super) struct SourcePart {
    pub topic: String,
    pub events: Vec<Event>,
    pub undecodable: Vec<Undecodable>,
    pub unreadable_times: u64,
    pub partitions: usize,
    pub records: u64,
    pub bytes: u64,
    pub cancelled: bool,
}

/// Reads `source`'s partitions that `ids` hash to, keeping their records as events.
fn read_source(
    cluster: &dyn DataSource,
    request: &super::LookupRequest<'_>,
    source: &Source,
    ids: &[String],
    placement: &Placement,
    on_progress: &dyn Fn(ScanProgress),
) -> Result<SourcePart, ClusterError> {
    let super::LookupRequest {
        decoder,
        ref window,
        ref cancel,
        ..
    } = *request;
    let mut wanted = BTreeSet::new();
    for id in ids {
        wanted.extend(placement.partitions_for(id.as_bytes()));
    }
    let mut part = SourcePart {
        topic: source.topic.clone(),
        partitions: wanted.len(),
        ..SourcePart::default()
    };
    if wanted.is_empty() {
        return Ok(part);
    }
    let request = ScanRequest {
        topic: source.topic.clone(),
        partitions: Some(wanted.into_iter().collect()),
        start: window
            .since_ms
            .map_or(StartAt::Beginning, StartAt::Timestamp),
        resume: Default::default(),
        max_records: None,
        end_timestamp_ms: window.until_ms,
        filter: RecordFilter {
            keys: ids.iter().map(|id| id.as_bytes().to_vec()).collect(),
            ..RecordFilter::default()
        },
    };
    let summary = cluster.scan(&request, cancel, &mut |event| {
        if let ScanEvent::Progress(progress) = &event {
            on_progress(progress.clone());
        }
        if let ScanEvent::Records(records) = event {
            for record in records {
                match to_event(source, decoder, &record) {
                    Ok((event, time_read)) => {
                        part.unreadable_times += u64::from(!time_read);
                        part.events.push(event);
                    }
                    Err(reason) => part.undecodable.push(Undecodable {
                        topic: record.topic.clone(),
                        partition: record.partition,
                        offset: record.offset,
                        id: key_string(&record),
                        reason: reason.to_string(),
                    }),
                }
            }
        }
        true
    })?;
    part.records = summary.progress.scanned;
    part.bytes = summary.progress.bytes;
    part.cancelled = summary.cancelled;
    Ok(part)
}

fn key_string(record: &Record) -> String {
    record
        .key
        .as_deref()
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .unwrap_or_default()
}

/// A record as a timeline event, and whether its event time could be read (with no
/// `event_time` pointer the broker time is the event time, as the spec says); `Err` says why it
/// cannot be an event.
pub fn to_event(
    source: &Source,
    decoder: &SourceDecoder,
    record: &Record,
) -> Result<(Event, bool), super::DecodeError> {
    let bytes = record
        .value
        .as_deref()
        .ok_or(super::DecodeError::Tombstone)?;
    let value = decoder.decode(source, bytes)?;
    let broker_ms = record
        .timestamp_ms
        .filter(|ms| crate::time::plausible_ms(*ms))
        .unwrap_or(0);
    let parsed = source
        .event_time
        .as_deref()
        .map(|p| super::pointer(&value, p).and_then(parse_event_time));
    let event_ms = parsed.flatten().unwrap_or(broker_ms);
    let time_read = parsed.is_none_or(|p| p.is_some());
    let event = Event {
        topic: record.topic.clone(),
        partition: record.partition,
        offset: record.offset,
        broker_ms,
        event_ms,
        id: key_string(record),
        value: value.into(),
        schema_id: framed_schema_id(source, bytes),
    };
    Ok((event, time_read))
}
