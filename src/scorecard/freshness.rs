//! The freshness row: every hop of the chain within the budget, no partition of the spec's
//! topics offline or under-replicated, and enough sampled customers served within the budget.

use serde_json::json;

use super::row::{Row, RowKind, evidence};
use crate::cluster::TopicInfo;
use crate::freshness::{Domain, wilson_95};
use crate::profile::Spec;

/// Scores `domain` (the census, chain, store age and sample of `spec`'s domain) and the
/// health of `topics` (the spec's sources and store) against the contract's `fresh_share`.
pub fn freshness_row(spec: &Spec, domain: &Domain, topics: &[TopicInfo]) -> Row {
    let budget = spec.budget;
    let mut failures = Vec::new();
    for hop in domain.chain.iter().filter(|h| !h.within_budget) {
        failures.push(format!(
            "{} {}: {}{} (budget {budget})",
            hop.kind,
            hop.hop,
            hop.value_ms
                .map_or("?".into(), crate::time::format_duration_ms),
            hop.status
                .as_deref()
                .map(|s| format!(" {s}"))
                .unwrap_or_default()
        ));
    }
    let (mut offline, mut under_replicated) = (Vec::new(), Vec::new());
    for topic in topics {
        for p in &topic.partitions {
            let name = format!("{}/{}", topic.name, p.id);
            if p.leader < 0 || p.error.is_some() {
                offline.push(name);
            } else if p.isr.len() < p.replicas.len() {
                under_replicated.push(format!(
                    "{name} (ISR {} of {})",
                    p.isr.len(),
                    p.replicas.len()
                ));
            }
        }
    }
    for name in &offline {
        failures.push(format!("partition {name} is offline"));
    }
    for name in &under_replicated {
        failures.push(format!("partition {name} is under-replicated"));
    }
    let sample = &domain.sample;
    let within = sample.n.saturating_sub(sample.past_budget);
    let [lower, upper] = wilson_95(within, sample.n);
    let target = spec.contract.fresh_share;
    let mut cannot_pass = Vec::new();
    // Passes when the interval is all at or above the target, fails when it is all below; in
    // between the sample cannot tell, and says how many customers would.
    match target {
        None => cannot_pass
            .push("no fresh_share in the spec's [contract]: nothing to hold the share to".into()),
        Some(_) if sample.n == 0 => {
            cannot_pass.push(format!("no customer was sampled: {}", sample.summary()))
        }
        Some(target) if upper < target => failures.push(format!(
            "{within} of {} sampled customers served within the budget: even the 95% upper \
             bound {:.1}% is under fresh_share {:.1}% ({} past the budget)",
            sample.n,
            upper * 100.0,
            target * 100.0,
            sample.past_budget
        )),
        Some(target) if lower < target => cannot_pass.push(format!(
            "{within} of {} sampled customers served within the budget: the 95% interval \
             {:.1}%–{:.1}% straddles fresh_share {:.1}%{}",
            sample.n,
            lower * 100.0,
            upper * 100.0,
            target * 100.0,
            needed_sample(within, sample.n, target)
                .map(|n| format!("; at this share {n} sampled customers would tell (--sample)"))
                .unwrap_or_default()
        )),
        Some(_) => {}
    }
    for hop in domain.chain.iter().filter(|h| h.value_ms.is_none()) {
        cannot_pass.push(format!(
            "{} {} could not be measured: {}",
            hop.kind, hop.hop, hop.detail
        ));
    }
    for kind in ["builder", "store"] {
        if !domain.chain.iter().any(|h| h.kind == kind) {
            cannot_pass.push(format!(
                "the chain has no {kind} hop: the spec's [store] names no {}",
                if kind == "builder" {
                    "builder_group"
                } else {
                    "topic"
                }
            ));
        }
    }
    let census = &domain.census;
    let row_evidence = evidence([
        ("chain", json!(domain.chain)),
        ("customers_unconsumed", json!(census.customers.len())),
        ("customers_over_budget", json!(census.over_budget)),
        ("sampled", json!(sample.n)),
        ("sampled_within_budget", json!(within)),
        (
            "within_share_ci95",
            json!(if sample.n > 0 {
                Some(wilson_95(within, sample.n))
            } else {
                None
            }),
        ),
        (
            "consumed_but_not_applied",
            json!(sample.consumed_but_not_applied),
        ),
        ("consumed_but_not_applied_ci95", json!(sample.ci95)),
        ("store_age_p95_ms", json!(domain.store.age_p95_ms)),
        (
            "store_profiles_over_budget",
            json!(domain.store.over_budget),
        ),
        ("offline_partitions", json!(offline)),
        ("under_replicated_partitions", json!(under_replicated)),
        ("fresh_share", json!(target)),
    ]);
    Row::judged(
        RowKind::Freshness,
        format!(
            "no hop past the {budget} budget, no partition offline or under-replicated, and \
             the 95% interval of the share of sampled customers served within the budget at \
             or above {}",
            target.map_or("fresh_share".into(), |t| format!("{:.1}%", t * 100.0))
        ),
        row_evidence,
        failures,
        cannot_pass,
    )
}

/// How many sampled customers would put the 95% interval on one side of `target`, at the
/// share seen; `None` where the share is the target itself or no sample up to 100,000 would.
fn needed_sample(within: usize, n: usize, target: f64) -> Option<usize> {
    let share = within as f64 / n.max(1) as f64;
    let mut m = n.max(1);
    while m <= 100_000 {
        m *= 2;
        let k = (share * m as f64).round() as usize;
        let [lower, upper] = wilson_95(k, m);
        if lower >= target || upper < target {
            return Some(m);
        }
    }
    None
}
