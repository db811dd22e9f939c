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
    let budget_ms = spec.budget.as_millis() as i64;
    ProfileFreshness {
        budget_ms,
        from_ms,
        until_ms: until,
        store_versions: found.versions.len(),
        staleness: staleness(&deliveries, from_ms, until, budget_ms),
        events,
    }
}

impl ProfileFreshness {
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
