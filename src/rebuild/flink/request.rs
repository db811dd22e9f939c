//! What a job is emitted from, and what is refused.

use std::collections::BTreeMap;

use super::avro::AvroValue;
use super::tables::Tables;
use crate::cluster::ClusterError;
use crate::profile::Spec;
use crate::source::Source;

/// What the job is made for.
#[derive(Debug, Clone)]
pub struct EmitRequest<'a> {
    pub spec: &'a Spec,
    /// How the spec was named on the command line, for the script's header.
    pub spec_name: String,
    pub tables: Tables,
    /// Also write the rebuilt profiles to this topic (upsert by key, the store's layout).
    pub sink_topic: Option<String>,
    /// The builder group's committed offset per (topic, partition) when the job was emitted:
    /// the "consumed" fold, which tells a store behind from one that differs.
    pub committed: BTreeMap<(String, i32), i64>,
    /// Keep `pii` fields' values in the differences (masked otherwise).
    pub reveal_pii: bool,
    /// The value schema of each Avro topic (source or store), from the registry.
    pub avro: BTreeMap<String, AvroValue>,
}

/// The builder group's committed offsets on every partition of the spec's source topics.
pub fn builder_committed(
    source: &dyn Source,
    spec: &Spec,
) -> Result<BTreeMap<(String, i32), i64>, ClusterError> {
    let Some(group) = spec.store.as_ref().and_then(|s| s.builder_group.as_deref()) else {
        return Ok(BTreeMap::new());
    };
    let mut partitions = Vec::new();
    for src in &spec.sources {
        for p in source.topic(&src.topic)?.partitions {
            partitions.push((src.topic.clone(), p.id));
        }
    }
    Ok(source
        .committed_offsets(group, &partitions)?
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect())
}
