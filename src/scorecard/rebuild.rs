//! The rebuild row: every field rebuildable exactly from what the sources retain, and a replay
//! with the contract's readers inside `rebuild_within`.

use serde_json::json;

use super::row::{Row, RowKind, evidence};
use crate::profile::Spec;
use crate::rebuild::{Readiness, Rehearsal};

/// With a `rehearsal`, a field the replay rebuilt differently from what the store serves fails
/// the row: the builder and the spec disagree.
pub fn rebuild_row(spec: &Spec, readiness: &Readiness, rehearsal: Option<&Rehearsal>) -> Row {
    let contract = &spec.contract;
    let mut failures: Vec<String> = readiness
        .fields
        .iter()
        .filter(|f| !f.exact)
        .map(|f| format!("field {} is not rebuilt exactly: {}", f.field, f.reason))
        .collect();
    let mut cannot_pass = Vec::new();
    if let Some(r) = rehearsal {
        for (field, found) in r.fields.iter().filter(|(_, f)| f.different > 0) {
            failures.push(format!(
                "the rehearsal rebuilt field {field} differently from the store for {} of {} \
                 customers: the builder and the spec disagree",
                found.different, r.customers
            ));
        }
        if r.cancelled {
            cannot_pass.push("the rehearsal was cancelled before it compared everything".into());
        }
    }
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
    match (contract.rebuild_within, estimate.read_records_per_s > 0.0) {
        (None, _) => cannot_pass.push(
            "no rebuild_within in the spec's [contract]: nothing to hold the replay to".into(),
        ),
        (_, false) => cannot_pass.push(format!(
            "no read throughput could be measured ({})",
            estimate.measured
        )),
        _ => {}
    }
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
                "rehearsal",
                json!(rehearsal.map(|r| json!({
                    "customers": r.customers,
                    "matches": r.matches,
                    "records": r.records,
                    "records_per_s": r.records_per_s,
                    "fields": r.fields.iter().map(|(name, f)| (name.clone(), json!({
                        "store_ahead": f.store_ahead,
                        "store_behind": f.store_behind,
                        "different": f.different,
                    }))).collect::<serde_json::Map<_, _>>(),
                    "cancelled": r.cancelled,
                }))),
            ),
            (
                "rebuild_within_ms",
                json!(contract.rebuild_within.map(|d| d.as_millis() as u64)),
            ),
        ]),
        failures,
        cannot_pass,
    )
}
