//! The freshness chain of a spec, one hop after another: each source topic (produce rate, ingest
//! delay), the builder group (time lag, status, drain ETA), the store (how long since it was last
//! written, and its age), then any connectors. The verdict names the first hop past the budget.

use serde::Serialize;

use super::{Census, GroupWatch, Rules, StoreAge, sample_ingest};
use crate::cluster::{CancelToken, ClusterError};
use crate::profile::Spec;
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
/// Records per partition the ingest delay is sampled from.
const INGEST_SAMPLE: u64 = 500;

/// The chain's source, builder and store hops as of `now_ms` (the store's from `store`, read
/// by the caller). With the `census`, the builder's time lag is at least its oldest unconsumed
/// event's wait: read from the records themselves, it holds where the group's time lag cannot
/// be measured.
pub fn chain(
    source: &dyn Source,
    spec: &Spec,
    store: Option<&StoreAge>,
    census: Option<&Census>,
    now_ms: i64,
    cancel: &CancelToken,
) -> Result<Vec<Hop>, ClusterError> {
    let budget_ms = spec.budget.as_millis() as i64;
    let mut hops = Vec::new();
    for src in &spec.sources {
        let since = now_ms - RECENT_MS;
        let delay = match &src.event_time {
            Some(pointer) => {
                let sample = sample_ingest(
                    source,
                    &src.topic,
                    pointer,
                    (Some(since), Some(now_ms)),
                    INGEST_SAMPLE,
                    i64::MAX / 4,
                    cancel,
                )?;
                sample.buckets.first().map(|b| (b.p95_ms, b.count))
            }
            None => None,
        };
        let rate = produce_rate(source, &src.topic, since, now_ms)?;
        let mut hop = Hop::new(&src.topic, "source", delay.map(|d| d.0), budget_ms);
        hop.produce_per_sec = rate;
        hop.detail = match (&src.event_time, delay) {
            (None, _) => "no event_time in the spec: ingest delay is not measurable".into(),
            (Some(_), None) => "no records in the last 5 minutes".into(),
            (Some(_), Some((p95, n))) => format!(
                "ingest delay p95 {} over {n} records of the last 5 minutes",
                crate::time::format_duration_ms(p95)
            ),
        };
        if rate.is_none() {
            hop.detail
                .push_str("; produce rate unknown (the broker cannot find offsets by time)");
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
                "last written {} ago; profile age p95 {}",
                crate::time::format_duration_ms(ms),
                crate::time::format_duration_ms(age.age_p95_ms)
            ),
            None => "no profiles in the store".into(),
        };
        hops.push(hop);
    }
    Ok(hops)
}

/// Records per second written to `topic` between `since` and `now_ms`, from the first offset at
/// or after `since` per partition. `None` where the broker's answer is wrong: an offset whose
/// record is older than `since` (Tansu 0.6.0 answers 0 to ListOffsets by time).
fn produce_rate(
    source: &dyn Source,
    topic: &str,
    since: i64,
    now_ms: i64,
) -> Result<Option<f64>, ClusterError> {
    let info = source.topic(topic)?;
    let partitions: Vec<(String, i32)> = info
        .partitions
        .iter()
        .map(|p| (topic.to_owned(), p.id))
        .collect();
    let found = source.offsets_at_time(&partitions, since)?;
    let positions: Vec<(String, i32, i64)> = found
        .iter()
        .filter(|((_, p), offset)| {
            info.partitions
                .iter()
                .any(|i| i.id == *p && **offset < i.high)
        })
        .map(|((t, p), o)| (t.clone(), *p, *o))
        .collect();
    let at = source.records_at(&positions)?;
    let mut records = 0i64;
    for (t, p, offset) in &positions {
        let stamp = at
            .get(&(t.clone(), *p, *offset))
            .and_then(|r| r.timestamp_ms);
        if stamp.is_some_and(|ms| ms < since) {
            return Ok(None);
        }
        let high = info
            .partitions
            .iter()
            .find(|i| i.id == *p)
            .map_or(0, |i| i.high);
        records += high - offset;
    }
    let secs = ((now_ms - since) as f64 / 1000.0).max(1.0);
    Ok(Some(records as f64 / secs))
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
