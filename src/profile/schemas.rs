//! Which schemas each source's records were written with: per schema id, when and where it
//! was seen, and which of the spec's paths its records carry. A path the newest schema no
//! longer carries is a schema change (the cause of a profile that silently stopped changing);
//! on schemaless JSON, a path missing from a topic's newest records is a warning.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cluster::{CancelToken, ClusterError, ScanEvent, ScanRequest, StartAt};
use crate::source::Source as DataSource;

use super::schema_change::SchemaChange;
use super::spec::{Source, SourceFormat};
use super::{SourceDecoder, Spec};

/// How many of a schemaless topic's newest records must lack a path it carried before.
pub const NEWEST_RECORDS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OffsetRange {
    pub first_offset: i64,
    pub last_offset: i64,
}

/// The records of one schema id (`None`: records without a schema id).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaVersion {
    pub schema_id: Option<u32>,
    pub subject: Option<String>,
    pub version: Option<u32>,
    pub first_ms: i64,
    pub last_ms: i64,
    /// Records read with this schema id, the undecodable among them included.
    pub records: u64,
    /// Of `records`, those that did not decode.
    pub undecodable: u64,
    pub partitions: BTreeMap<i32, OffsetRange>,
    /// Each spec path of the topic: whether any decoded record of this schema carries it.
    pub paths: BTreeMap<String, bool>,
}

/// Where a path was last seen in a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastSeen {
    pub partition: i32,
    pub offset: i64,
    pub ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceSchemas {
    pub topic: String,
    pub format: &'static str,
    /// Oldest first (by the first record seen).
    pub versions: Vec<SchemaVersion>,
    /// The registry's compatibility level for the newest version's subject (or its global
    /// one); `None` without a registry or a subject.
    pub compatibility: Option<String>,
    /// Why the compatibility level is unknown, where it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatibility_unread: Option<String>,
    /// Per spec path, the last record that carried it.
    pub last_seen: BTreeMap<String, Option<LastSeen>>,
    /// Paths the newest schema dropped (schema-framed topics).
    pub changes: Vec<SchemaChange>,
    /// Paths missing from the topic's newest records that earlier ones carried (schemaless).
    pub warnings: Vec<String>,
    /// Records read in all.
    pub records: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaReport {
    pub sources: Vec<SourceSchemas>,
}

/// The spec's paths into `source`'s records: its fields', event time's and links'.
fn paths_of(spec: &Spec, source: &Source) -> Vec<String> {
    let mut paths: Vec<String> = spec
        .fields
        .iter()
        .filter(|f| f.topic == source.topic)
        .map(|f| f.path.clone())
        .chain(source.event_time.clone())
        .chain(source.links.iter().cloned())
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// Reads every retained record of each source (or the newest `tail` of each partition).
pub fn schemas(
    cluster: &dyn DataSource,
    spec: &Spec,
    decoder: &SourceDecoder,
    tail: Option<i64>,
    cancel: &CancelToken,
) -> Result<SchemaReport, ClusterError> {
    let mut sources = Vec::new();
    for source in &spec.sources {
        sources.push(source_schemas(
            cluster, spec, source, decoder, tail, cancel,
        )?);
    }
    Ok(SchemaReport { sources })
}

/// One record, as the census of a source needs it.
struct Seen {
    schema_id: Option<u32>,
    partition: i32,
    offset: i64,
    ms: i64,
    /// The paths it carries, or `None` when it did not decode.
    carries: Option<Vec<bool>>,
}

fn source_schemas(
    cluster: &dyn DataSource,
    spec: &Spec,
    source: &Source,
    decoder: &SourceDecoder,
    tail: Option<i64>,
    cancel: &CancelToken,
) -> Result<SourceSchemas, ClusterError> {
    let paths = paths_of(spec, source);
    let framed = source.format.registry_framed();
    let request = ScanRequest {
        topic: source.topic.clone(),
        partitions: None,
        start: tail.map_or(StartAt::Beginning, StartAt::Tail),
        resume: Default::default(),
        max_records: None,
        end_timestamp_ms: None,
        filter: Default::default(),
    };
    let mut seen = Vec::new();
    cluster.scan(&request, cancel, &mut |event| {
        if let ScanEvent::Records(records) = event {
            for record in records {
                let Some(bytes) = record.value.as_deref() else {
                    continue;
                };
                let schema_id = framed
                    .then(|| crate::codec::confluent_frame(bytes).map(|(id, _)| id))
                    .flatten();
                let carries = decoder.decode(source, bytes).ok().map(|value| {
                    paths
                        .iter()
                        .map(|p| super::pointer(&value, p).is_some())
                        .collect()
                });
                seen.push(Seen {
                    schema_id,
                    partition: record.partition,
                    offset: record.offset,
                    ms: record.timestamp_ms.unwrap_or(0),
                    carries,
                });
            }
        }
        true
    })?;
    // Written order: broker time, then partition and offset.
    seen.sort_by_key(|s| (s.ms, s.partition, s.offset));
    let mut versions: Vec<SchemaVersion> = Vec::new();
    let mut last_seen: BTreeMap<String, Option<LastSeen>> =
        paths.iter().map(|p| (p.clone(), None)).collect();
    for s in &seen {
        let at = match versions.iter().position(|v| v.schema_id == s.schema_id) {
            Some(at) => at,
            None => {
                let (subject, version) = s
                    .schema_id
                    .and_then(|id| decoder.subject_version(id))
                    .map_or((None, None), |(s, v)| (Some(s), Some(v)));
                versions.push(SchemaVersion {
                    schema_id: s.schema_id,
                    subject,
                    version,
                    first_ms: s.ms,
                    last_ms: s.ms,
                    records: 0,
                    undecodable: 0,
                    partitions: BTreeMap::new(),
                    paths: paths.iter().map(|p| (p.clone(), false)).collect(),
                });
                versions.len() - 1
            }
        };
        let v = &mut versions[at];
        v.records += 1;
        v.last_ms = v.last_ms.max(s.ms);
        v.partitions
            .entry(s.partition)
            .and_modify(|r| {
                r.first_offset = r.first_offset.min(s.offset);
                r.last_offset = r.last_offset.max(s.offset);
            })
            .or_insert(OffsetRange {
                first_offset: s.offset,
                last_offset: s.offset,
            });
        match &s.carries {
            None => v.undecodable += 1,
            Some(carries) => {
                for (path, carried) in paths.iter().zip(carries) {
                    if *carried {
                        v.paths.insert(path.clone(), true);
                        last_seen.insert(
                            path.clone(),
                            Some(LastSeen {
                                partition: s.partition,
                                offset: s.offset,
                                ms: s.ms,
                            }),
                        );
                    }
                }
            }
        }
    }
    let changes = if framed {
        changes_of(source, &paths, &seen, &versions)
    } else {
        Vec::new()
    };
    let warnings = if framed {
        Vec::new()
    } else {
        schemaless_warnings(source, &paths, &seen, &last_seen)
    };
    let (compatibility, compatibility_unread) = compatibility_of(source, decoder, &versions);
    Ok(SourceSchemas {
        topic: source.topic.clone(),
        format: source.format.name(),
        versions,
        compatibility,
        compatibility_unread,
        last_seen,
        changes,
        warnings,
        records: seen.len() as u64,
    })
}

/// The paths a schema id's records all lack that an earlier id's records carried (schema ids
/// in the order they first appeared; producers on old and new schemas may write side by
/// side), each with the new id's first record.
fn changes_of(
    source: &Source,
    paths: &[String],
    seen: &[Seen],
    versions: &[SchemaVersion],
) -> Vec<SchemaChange> {
    let mut changes = Vec::new();
    for (at, newer) in versions.iter().enumerate() {
        let (Some(id), true) = (newer.schema_id, newer.records > newer.undecodable) else {
            continue;
        };
        let Some(first) = seen.iter().find(|s| s.schema_id == Some(id)) else {
            continue;
        };
        for path in paths {
            if newer.paths.get(path).copied().unwrap_or(true) {
                continue;
            }
            let Some(earlier) = versions[..at]
                .iter()
                .rev()
                .find(|v| v.schema_id.is_some() && v.paths.get(path).copied().unwrap_or(false))
            else {
                continue;
            };
            changes.push(SchemaChange {
                path: path.clone(),
                schema_id: id,
                previous_schema_id: earlier.schema_id.unwrap_or_default(),
                subject: newer.subject.clone(),
                version: newer.version,
                topic: source.topic.clone(),
                partition: first.partition,
                since_offset: first.offset,
            });
        }
    }
    changes
}

/// Schemaless: a path none of the newest [`NEWEST_RECORDS`] records carries, where an earlier
/// record did.
fn schemaless_warnings(
    source: &Source,
    paths: &[String],
    seen: &[Seen],
    last_seen: &BTreeMap<String, Option<LastSeen>>,
) -> Vec<String> {
    if seen.len() <= NEWEST_RECORDS {
        return Vec::new();
    }
    let newest = &seen[seen.len() - NEWEST_RECORDS..];
    paths
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            !newest
                .iter()
                .any(|s| s.carries.as_ref().is_some_and(|c| c[*i]))
        })
        .filter_map(|(_, path)| {
            let last = last_seen.get(path)?.as_ref()?;
            Some(format!(
                "{path} absent from the newest {NEWEST_RECORDS} records of {}, last at {}/{}@{} \
                 ({})",
                source.topic,
                source.topic,
                last.partition,
                last.offset,
                crate::time::format_timestamp(Some(last.ms))
            ))
        })
        .collect()
}

/// The compatibility level of the newest version's subject (TopicNameStrategy's
/// `<topic>-value` where the registry named none), or why it is unknown.
fn compatibility_of(
    source: &Source,
    decoder: &SourceDecoder,
    versions: &[SchemaVersion],
) -> (Option<String>, Option<String>) {
    let Some(registry) = decoder.registry() else {
        return (None, None);
    };
    if !matches!(
        source.format,
        SourceFormat::Avro | SourceFormat::Protobuf | SourceFormat::JsonSchema
    ) {
        return (None, None);
    }
    let subject = versions
        .iter()
        .rev()
        .find_map(|v| v.subject.clone())
        .unwrap_or_else(|| format!("{}-value", source.topic));
    match registry.compatibility(&subject) {
        Ok(level) => (Some(level), None),
        Err(e) => (None, Some(e.to_string())),
    }
}
