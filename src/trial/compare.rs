//! The differences between the candidate and the baseline worth calling out: probes that
//! answer differently, APIs one serves and the other not, and figures apart by more than a
//! quarter.

use std::collections::BTreeMap;

use super::result::Side;
use crate::time::format_latency_ms;

/// How far apart two figures must be to be called out: a quarter of the larger.
const APART: f64 = 0.25;

fn apart(a: f64, b: f64) -> bool {
    let larger = a.abs().max(b.abs());
    larger > 0.0 && (a - b).abs() / larger > APART
}

pub fn differences(candidate: &Side, baseline: &Side) -> Vec<String> {
    let mut out = Vec::new();
    let base: BTreeMap<&str, _> = baseline
        .compatibility
        .probes
        .iter()
        .map(|p| (p.name.as_str(), p.result))
        .collect();
    for p in &candidate.compatibility.probes {
        if let Some(&b) = base.get(p.name.as_str())
            && b != p.result
        {
            out.push(format!(
                "probe {}: {:?} on the candidate, {:?} on the baseline",
                p.name, p.result, b
            ));
        }
    }
    for a in &candidate.compatibility.apis {
        if let Some(b) = baseline.compatibility.apis.iter().find(|b| b.key == a.key)
            && a.supported != b.supported
        {
            out.push(format!(
                "{}: {} on the candidate, {} on the baseline",
                a.name,
                if a.supported { "served" } else { "not served" },
                if b.supported { "served" } else { "not served" }
            ));
        }
    }
    let ms = |v: Option<i64>| v.map(|v| v as f64);
    for (what, a, b) in [
        (
            "latency p50",
            ms(candidate.latency.p50_ms),
            ms(baseline.latency.p50_ms),
        ),
        (
            "latency p99",
            ms(candidate.latency.p99_ms),
            ms(baseline.latency.p99_ms),
        ),
        (
            "worst lag in the burst",
            ms(candidate.burst.as_ref().map(|b| b.worst_lag_ms)),
            ms(baseline.burst.as_ref().map(|b| b.worst_lag_ms)),
        ),
    ] {
        if let (Some(a), Some(b)) = (a, b)
            && apart(a, b)
        {
            out.push(format!(
                "{what}: {} on the candidate, {} on the baseline",
                format_latency_ms(a as i64),
                format_latency_ms(b as i64)
            ));
        }
    }
    for r in &candidate.replay {
        if let Some(b) = baseline.replay.iter().find(|b| b.consumers == r.consumers)
            && apart(r.records_per_s, b.records_per_s)
        {
            out.push(format!(
                "replay with {} reader(s): {:.0} records/s on the candidate, {:.0} on the baseline",
                r.consumers, r.records_per_s, b.records_per_s
            ));
        }
    }
    for (a, b) in candidate.rows.iter().zip(&baseline.rows) {
        if a.verdict != b.verdict {
            out.push(format!(
                "{}: {} on the candidate, {} on the baseline",
                a.row.title(),
                a.verdict.word(),
                b.verdict.word()
            ));
        }
    }
    out
}
