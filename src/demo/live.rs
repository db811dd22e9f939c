//! The demo workload as records to produce live, in the order they happened: what `trial`
//! writes at a steady rate, a burst and across a restart, so the live builder folds the same
//! profile events `--demo` shows.

use super::config::DemoConfig;
use super::{framed, place, spec_text, workload};
use crate::profile::{Spec, SpecError};

/// One source record to produce: where, and its key and value as the producer writes them.
#[derive(Debug, Clone)]
pub struct LiveRecord {
    pub topic: String,
    pub partition: i32,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

/// The workload's source records in broker-time order, and the spec (text and parsed) naming
/// its topics and builder group under the config's prefix.
pub fn live_records(config: &DemoConfig) -> Result<(Spec, String, Vec<LiveRecord>), SpecError> {
    let text = spec_text(&config.prefix, &config.builder_group);
    let spec = Spec::parse(&text, "c360.toml")?;
    let mut placed = place(config, workload::generate(config));
    placed.sort_by_key(|p| (p.event.broker_ms, p.offset));
    let records = placed
        .into_iter()
        .map(|p| LiveRecord {
            value: framed(p.event.schema_id, p.event.value.as_ref()),
            key: p.event.key.into_bytes(),
            topic: p.topic,
            partition: p.partition,
        })
        .collect();
    Ok((spec, text, records))
}
