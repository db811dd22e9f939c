//! The rebuild row: every field rebuildable exactly from what the sources retain, and a replay
//! with the contract's readers inside `rebuild_within`.

use serde_json::json;

use super::{Row, RowKind, evidence};
use crate::profile::Spec;
use crate::rebuild::Readiness;

pub fn rebuild_row(spec: &Spec, readiness: &Readiness) -> Row {
    let contract = &spec.contract;
    let mut failures: Vec<String> = readiness
        .fields
        .iter()
        .filter(|f| !f.exact)
        .map(|f| format!("field {} is not rebuilt exactly: {}", f.field, f.reason))
        .collect();
    let estimate = &readiness.estimate;
    let consumers = contract
        .rebuild_consumers
        .map_or(estimate.consumers, |n| n as usize);
    let seconds = estimate.seconds_for(consumers);
    if let Some(within) = contract.rebuild_within
        && seconds > within.as_secs_f64()
    {
        failures.push(format!(
            "a replay of {} records with {consumers} reader(s) takes {}, over rebuild_within {}",
            estimate.records,
            crate::time::format_seconds(seconds),
            crate::time::format_seconds(within.as_secs_f64())
        ));
    }
    let cannot_pass = match (contract.rebuild_within, estimate.read_records_per_s > 0.0) {
        (None, _) => {
            Some("no rebuild_within in the spec's [contract]: nothing to hold the replay to".into())
        }
        (_, false) => Some(format!(
            "no read throughput could be measured ({})",
            estimate.measured
        )),
        _ => None,
    };
    Row::judged(
        RowKind::Rebuild,
        format!(
            "every field rebuilt exactly from the retained log, and a replay with {consumers} \
             reader(s) within {}",
            contract
                .rebuild_within
                .map_or("rebuild_within".into(), |d| crate::time::format_seconds(
                    d.as_secs_f64()
                ))
        ),
        evidence([
            ("fields", json!(readiness.fields)),
            ("records", json!(estimate.records)),
            ("bytes", json!(estimate.bytes)),
            ("read_records_per_s", json!(estimate.read_records_per_s)),
            ("measured", json!(estimate.measured)),
            ("consumers", json!(consumers)),
            ("replay_seconds", json!(seconds)),
            (
                "rebuild_within_ms",
                json!(contract.rebuild_within.map(|d| d.as_millis() as u64)),
            ),
        ]),
        failures,
        cannot_pass,
    )
}
