//! The freshness row: every hop of the chain within the budget, no partition of the spec's
//! topics offline or under-replicated, and enough sampled customers served within the budget.

use serde_json::json;

use super::{Row, RowKind, evidence};
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
    let lower = wilson_95(within, sample.n)[0];
    let target = spec.contract.fresh_share;
    if let (Some(target), true) = (target, sample.n > 0)
        && lower < target
    {
        failures.push(format!(
            "{within} of {} sampled customers served within the budget: the 95% lower bound \
             {:.1}% is under fresh_share {:.1}% ({} past the budget)",
            sample.n,
            lower * 100.0,
            target * 100.0,
            sample.past_budget
        ));
    }
    let cannot_pass = match (target, sample.n) {
        (None, _) => {
            Some("no fresh_share in the spec's [contract]: nothing to hold the share to".into())
        }
        (_, 0) => Some(format!("no customer was sampled: {}", sample.summary())),
        _ => None,
    };
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
             the 95% lower bound of sampled customers served within the budget at least {}",
            target.map_or("fresh_share".into(), |t| format!("{:.1}%", t * 100.0))
        ),
        row_evidence,
        failures,
        cannot_pass,
    )
}
