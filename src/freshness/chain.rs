//! The freshness chain of a spec, one hop after another: each source topic (produce rate, ingest
//! delay), the builder group (time lag, status, drain ETA), the store (how long since it was last
//! written, and its age), then any connectors. The verdict names the first hop past the budget.

use serde::Serialize;

use super::{Census, GroupWatch, Rules, StoreAge};
use crate::cluster::{CancelToken, ClusterError};
use crate::profile::{SourceDecoder, Spec};
use crate::source::Source;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hop {
    pub hop: String,
    /// `source`, `builder`, `store` or `connector`.
    pub kind: &'static str,
    /// How far behind this hop is; `None` where it cannot be measured (said in `detail`).
    pub value_ms: Option<i64>,
    /// False only when a measured value is past the budget (or a connector has failed).
    pub within_budget: bool,
    /// What was measured, in words.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub produce_per_sec: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta_ms: Option<i64>,
    /// The store only: profiles older than the budget. A store written a second ago can still
    /// serve many stale profiles: the hop is within the budget, its profiles are not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profiles_over_budget: Option<usize>,
}

impl Hop {
    fn new(
        hop: impl Into<String>,
        kind: &'static str,
        value_ms: Option<i64>,
        budget_ms: i64,
    ) -> Self {
        Self {
            hop: hop.into(),
            kind,
            value_ms,
            within_budget: value_ms.is_none_or(|v| v <= budget_ms),
            detail: String::new(),
            produce_per_sec: None,
            status: None,
            eta_ms: None,
            profiles_over_budget: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainVerdict {
    pub within_budget: bool,
    /// The first hop in chain order past the budget.
    pub breaking_hop: Option<String>,
}

pub fn verdict(chain: &[Hop]) -> ChainVerdict {
    let breaking = chain.iter().find(|h| !h.within_budget);
    ChainVerdict {
        within_budget: breaking.is_none(),
        breaking_hop: breaking.map(|h| h.hop.clone()),
    }
}

/// The window the produce rate and the ingest delay are measured over.
const RECENT_MS: i64 = 5 * 60_000;
/// The newest records per partition the ingest delay and produce rate are measured from.
const INGEST_SAMPLE: i64 = 500;

/// The chain's source, builder and store hops as of `now_ms` (the store's from `store`, read
/// by the caller). With the `census`, the builder's time lag is at least its oldest unconsumed
/// event's wait: read from the records themselves, it holds where the group's time lag cannot
/// be measured.
pub fn chain(
    source: &dyn Source,
    spec: &Spec,
    store: Option<&StoreAge>,
    census: Option<&Census>,
    decoder: &SourceDecoder,
    now_ms: i64,
    cancel: &CancelToken,
) -> Result<Vec<Hop>, ClusterError> {
    let budget_ms = spec.budget.ms();
    let window = (now_ms - RECENT_MS, now_ms);
    // Each source's newest records are read by a client of their own, all at once.
    let answers = crate::cluster::in_parallel(&spec.sources, "a chain reader", |_, src| {
        super::recent(source, src, decoder, window, INGEST_SAMPLE, cancel)
    });
    let mut hops = Vec::new();
    for (src, answer) in spec.sources.iter().zip(answers) {
        let recent = answer?;
        let mut hop = Hop::new(&src.topic, "source", recent.delay_p95_ms, budget_ms);
        hop.produce_per_sec = recent.per_sec;
        hop.detail = match (&src.event_time, recent.delay_p95_ms) {
            (None, _) => "no event_time in the spec: ingest delay is not measurable".into(),
            (Some(_), None) => "no records with an event time in the last 5 minutes".into(),
            (Some(_), Some(p95)) => format!(
                "ingest delay p95 {} over {} records of the last 5 minutes (the newest {INGEST_SAMPLE} per partition read)",
                crate::time::format_duration_ms(p95),
                recent.in_window
            ),
        };
        if recent.undated > 0 {
            hop.detail.push_str(&format!(
                "; {} records without a readable event time skipped",
                recent.undated
            ));
        }
        hops.push(hop);
    }
    if let Some(group) = spec.store.as_ref().and_then(|s| s.builder_group.as_deref()) {
        let mut watch = GroupWatch::new(Rules::default());
        let look = watch.look(source, Some(group))?;
        let hop = match look.groups.into_iter().find(|g| g.group == group) {
            Some(lag) => {
                let oldest = census.and_then(|c| c.customers.iter().map(|p| p.behind_ms).max());
                let value = match (lag.max_time_lag_ms, oldest) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
                let mut hop = Hop::new(group, "builder", value, budget_ms);
                hop.detail = format!(
                    "{} records behind{}; {}",
                    lag.lag,
                    match (lag.max_time_lag_ms, oldest) {
                        (None, Some(_)) if lag.lag > 0 =>
                            " (time lag from the oldest unconsumed event)",
                        (None, None) if lag.lag > 0 => " (time lag unknown)",
                        _ => "",
                    },
                    if lag.status_reason.is_empty() {
                        lag.status.to_string()
                    } else {
                        lag.status_reason.clone()
                    }
                );
                hop.status = Some(lag.status.to_string());
                hop.eta_ms = lag.eta_ms;
                hop
            }
            None => {
                let mut hop = Hop::new(group, "builder", None, budget_ms);
                hop.detail = "the group has committed nothing".into();
                hop.within_budget = false;
                hop
            }
        };
        hops.push(hop);
    }
    if let (Some(spec_store), Some(age)) = (&spec.store, store) {
        // The store is behind when nothing was written to it for longer than the budget; its
        // age percentiles say how old profiles are, which a quiet customer makes old anyway.
        let newest = age.ages_ms.first().copied();
        let mut hop = Hop::new(&spec_store.topic, "store", newest, budget_ms);
        hop.detail = match newest {
            Some(ms) => format!(
                "last written {} ago; profile age p95 {}, {} of {} profiles older than the budget",
                crate::time::format_duration_ms(ms),
                crate::time::format_duration_ms(age.age_p95_ms),
                age.over_budget,
                age.keys
            ),
            None => "no profiles in the store".into(),
        };
        hop.profiles_over_budget = Some(age.over_budget);
        hops.push(hop);
    }
    Ok(hops)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(name: &str, value: Option<i64>) -> Hop {
        Hop::new(name, "source", value, 1000)
    }

    #[test]
    fn the_verdict_names_the_first_hop_past_the_budget() {
        let chain = [
            hop("a", Some(10)),
            hop("b", None),
            hop("c", Some(5000)),
            hop("d", Some(9000)),
        ];
        assert!(chain[1].within_budget, "unmeasured is not a breach");
        assert_eq!(
            verdict(&chain),
            ChainVerdict {
                within_budget: false,
                breaking_hop: Some("c".into())
            }
        );
        assert!(verdict(&chain[..2]).within_budget);
    }
}
