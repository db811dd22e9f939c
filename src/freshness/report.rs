//! One customer's freshness over a window, from a finished lookup: each source event's applied
//! time and lags, staleness over time and its budget breaches. The CLI and the GUI share it.

use super::applied::{EventFreshness, applied_times};
use super::staleness::{Delivery, Staleness, staleness};
use crate::profile::{Lookup, Spec};

#[derive(Debug, Clone, PartialEq)]
pub struct ProfileFreshness {
    pub budget_ms: i64,
    pub from_ms: i64,
    pub until_ms: i64,
    /// Versions of the key still in the store (compaction may have removed others).
    pub store_versions: usize,
    pub events: Vec<EventFreshness>,
    pub staleness: Staleness,
    /// Events the builder group has not consumed yet: the same count and time behind the
    /// Profile tab, the Overview and `stale` give for this customer.
    pub not_consumed: crate::profile::Pending,
}

/// `since` defaults to the first event's broker time.
pub fn profile_freshness(
    spec: &Spec,
    found: &Lookup,
    since: Option<i64>,
    until: i64,
) -> ProfileFreshness {
    let watermark = spec.store.as_ref().is_some_and(|s| s.watermark.is_some());
    let events = applied_times(spec, &found.timeline.events, &found.versions, watermark);
    let deliveries: Vec<Delivery> = events
        .iter()
        .map(|e| Delivery {
            broker_ms: e.broker_time_ms,
            applied_ms: e.applied_ms,
        })
        .collect();
    let from_ms = since
        .or_else(|| deliveries.iter().map(|d| d.broker_ms).min())
        .unwrap_or(until);
    let budget_ms = spec.budget.ms();
    ProfileFreshness {
        budget_ms,
        from_ms,
        until_ms: until,
        store_versions: found.versions.len(),
        staleness: staleness(&deliveries, from_ms, until, budget_ms),
        events,
        not_consumed: found
            .store
            .as_ref()
            .map(|s| s.not_consumed)
            .unwrap_or_default(),
    }
}

impl ProfileFreshness {
    /// Events the store has not applied (by matching values or the builder's watermark):
    /// those not consumed yet and those consumed but not applied.
    pub fn not_applied(&self) -> usize {
        self.events
            .iter()
            .filter(|e| e.applied_ms.is_none())
            .count()
    }

    /// The same events over another window, e.g. the part of a plot in view.
    pub fn rewindow(&self, from_ms: i64, until_ms: i64) -> Staleness {
        let deliveries: Vec<Delivery> = self
            .events
            .iter()
            .map(|e| Delivery {
                broker_ms: e.broker_time_ms,
                applied_ms: e.applied_ms,
            })
            .collect();
        staleness(&deliveries, from_ms, until_ms, self.budget_ms)
    }
}
