//! The scorecard rows a trial can fill for one platform: compatibility, freshness, elasticity
//! (the burst and the restart) and rebuild throughput, judged against the spec's contract.

use serde_json::json;

use crate::freshness::wilson_95;
use crate::profile::Spec;
use crate::scorecard::{Row, RowKind, evidence};
use crate::time::format_latency_ms;

use super::result::{ProbeResult, Side};

pub fn rows(side: &Side, spec: &Spec, budget_ms: i64) -> Vec<Row> {
    vec![
        compatibility(side),
        freshness(side, spec, budget_ms),
        elasticity(side, spec),
        rebuild(side, spec),
    ]
}

fn compatibility(side: &Side) -> Row {
    let c = &side.compatibility;
    let mut failures: Vec<String> = c
        .apis
        .iter()
        .filter(|a| a.required && !a.supported)
        .map(|a| match a.max {
            None => format!("the broker does not serve {}", a.name),
            Some(max) => format!("{} up to v{max}, v{} needed", a.name, a.needed),
        })
        .collect();
    failures.extend(
        c.probes
            .iter()
            .filter(|p| p.result == ProbeResult::Fail)
            .map(|p| format!("{}: {}", p.name, p.detail)),
    );
    let passed = c
        .probes
        .iter()
        .filter(|p| p.result == ProbeResult::Pass)
        .count();
    let unknown = c
        .apis
        .is_empty()
        .then(|| "the broker's API versions could not be read".to_owned());
    Row::judged(
        RowKind::Compatibility,
        "every request a profile pipeline sends served, every probe as Apache Kafka answers".into(),
        evidence([
            (
                "apis_supported",
                json!(c.apis.iter().filter(|a| a.supported).count()),
            ),
            ("apis_asked", json!(c.apis.len())),
            ("probes_passed", json!(passed)),
            ("probes", json!(c.probes.len())),
        ]),
        failures,
        unknown,
    )
}

fn freshness(side: &Side, spec: &Spec, budget_ms: i64) -> Row {
    let l = &side.latency;
    let share = spec.contract.fresh_share;
    let [low, high] = wilson_95(l.within_budget as usize, l.applied as usize);
    let mut failures = Vec::new();
    let mut unknown = Vec::new();
    match share {
        None => unknown.push("the contract sets no fresh_share".to_owned()),
        Some(_) if l.applied == 0 => unknown.push("no event reached the store".to_owned()),
        Some(share) if high < share => failures.push(format!(
            "{} of {} events reached the store within {} (95% interval {:.3}–{:.3}, below {share})",
            l.within_budget,
            l.applied,
            format_latency_ms(budget_ms),
            low,
            high
        )),
        Some(share) if low < share => unknown.push(format!(
            "the 95% interval {low:.3}–{high:.3} of the share within the budget straddles {share}"
        )),
        Some(_) => {}
    }
    Row::judged(
        RowKind::Freshness,
        format!(
            "events produced → store version acknowledged within {}, for at least the \
             contract's fresh_share of them",
            format_latency_ms(budget_ms)
        ),
        evidence([
            ("applied", json!(l.applied)),
            ("within_budget", json!(l.within_budget)),
            ("p50_ms", json!(l.p50_ms)),
            ("p95_ms", json!(l.p95_ms)),
            ("p99_ms", json!(l.p99_ms)),
            ("ci95", json!([low, high])),
        ]),
        failures,
        unknown,
    )
}

fn elasticity(side: &Side, spec: &Spec) -> Row {
    let within = spec
        .contract
        .recover_within
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let mut failures = Vec::new();
    let mut unknown = Vec::new();
    if within.is_none() {
        unknown.push("the contract sets no recover_within".to_owned());
    }
    let mut judge = |what: &str, back: Option<i64>| match (back, within) {
        (None, _) => failures.push(format!(
            "after {what}, latency was still over the budget when the trial ended"
        )),
        (Some(b), Some(w)) if b > w => failures.push(format!(
            "after {what}, back within the budget in {} (recover_within {})",
            format_latency_ms(b),
            format_latency_ms(w)
        )),
        _ => {}
    };
    match &side.burst {
        Some(burst) => judge(
            &format!("the ×{} burst", burst.factor),
            burst.back_within_budget_ms,
        ),
        None => unknown.push("the burst did not run".to_owned()),
    }
    if let Some(restart) = &side.restart {
        judge("the broker restart", restart.back_within_budget_ms);
        if restart.lost > 0 {
            failures.push(format!(
                "{} of {} records acknowledged before the restart were gone after it (first: {})",
                restart.lost,
                restart.acknowledged,
                restart.lost_offsets.join(", ")
            ));
        }
    }
    Row::judged(
        RowKind::Elasticity,
        "back within the budget within recover_within after the burst (and a broker restart), \
         nothing acknowledged lost"
            .into(),
        evidence([
            ("burst", json!(side.burst)),
            ("restart", json!(side.restart)),
        ]),
        failures,
        unknown,
    )
}

fn rebuild(side: &Side, spec: &Spec) -> Row {
    let consumers = spec.contract.rebuild_consumers.unwrap_or(1);
    // The measured reader count closest to the contract's, not above it.
    let best = side
        .replay
        .iter()
        .filter(|r| r.consumers <= consumers)
        .max_by_key(|r| r.consumers)
        .or_else(|| side.replay.first());
    let mut unknown = Vec::new();
    let mut failures = Vec::new();
    let within = spec.contract.rebuild_within;
    match (best, within) {
        (None, _) => unknown.push("the replay did not run".to_owned()),
        (_, None) => unknown.push("the contract sets no rebuild_within".to_owned()),
        (Some(r), Some(w)) if r.seconds > w.as_secs_f64() => failures.push(format!(
            "the trial's {} records took {:.1} s with {} reader(s), over rebuild_within",
            r.records, r.seconds, r.consumers
        )),
        _ => {}
    }
    let capacity_gb = match (best, within) {
        (Some(r), Some(w)) => Some(r.mb_per_s * w.as_secs_f64() / 1e3),
        _ => None,
    };
    Row::judged(
        RowKind::Rebuild,
        "the trial's records replayed within rebuild_within; the throughput says how much a \
         rebuild could replay in it"
            .into(),
        evidence([
            ("replay", json!(side.replay)),
            ("gb_replayable_within_rebuild_within", json!(capacity_gb)),
        ]),
        failures,
        unknown,
    )
}
