//! Many customers looked up at once, each answer the same as its own [`lookup`] would give.
//! Customers hash to the same few partitions, so looking 200 up one by one reads each partition
//! dozens of times; here every identity hop reads each source partition once for all of them
//! (one key filter holding every customer's ids) and routes each event to the customers whose
//! ids it carries. The store is read once for all keys and the builder's position asked once.
//!
//! [`lookup`]: super::lookup

use std::collections::{BTreeSet, HashMap};

use crate::cluster::{CancelToken, ClusterError};
use crate::source::Source;

use super::lookup::compared;
use super::timeline::{ProgressFn, read_hop, warnings_of};
use super::{
    BuilderPosition, Lookup, LookupRequest, MAX_HOPS, SourceDecoder, Spec, Timeline, id_text,
    sort_timeline, store_versions_of,
};

/// Looks every one of `keys` up as of `now_ms`; the answers in key order. `on_progress`
/// hears each hop's reading, every source summed. A cluster error fails the whole batch:
/// no customer gets a partial answer.
pub fn lookup_many(
    cluster: &dyn Source,
    spec: &Spec,
    decoder: &SourceDecoder,
    keys: &BTreeSet<String>,
    now_ms: i64,
    cancel: &CancelToken,
    on_progress: ProgressFn<'_>,
) -> Result<Vec<(String, Lookup)>, ClusterError> {
    let request = LookupRequest {
        cancel: cancel.clone(),
        ..LookupRequest::new(spec, decoder, "", now_ms)
    };
    let placements = super::placement::placements(cluster, spec, cancel)?;
    let mut warnings = warnings_of(spec, &placements);
    // Many customers read by the wrong hash look like many customers with missing events: the
    // data's own partitioner is checked once for the batch (a sample of each source topic).
    warnings.extend(super::placement::disagreements(cluster, spec, cancel)?);
    let mut timelines: HashMap<&str, Timeline> = keys
        .iter()
        .map(|key| {
            let timeline = Timeline {
                key: key.clone(),
                identities: vec![key.clone()],
                placement_warnings: warnings.clone(),
                ..Timeline::default()
            };
            (key.as_str(), timeline)
        })
        .collect();
    // Per customer, the ids whose records this hop reads for it.
    let mut frontier: HashMap<&str, Vec<String>> = keys
        .iter()
        .map(|key| (key.as_str(), vec![key.clone()]))
        .collect();
    for _hop in 0..=MAX_HOPS {
        if frontier.is_empty() || cancel.is_cancelled() {
            break;
        }
        // id → the customers reading it this hop (a linked id two customers claim is read for
        // both, as each one's own lookup would).
        let mut readers: HashMap<&str, Vec<&str>> = HashMap::new();
        for (customer, ids) in &frontier {
            for id in ids {
                readers.entry(id.as_str()).or_default().push(customer);
            }
        }
        let ids: Vec<String> = readers.keys().map(|id| (*id).to_owned()).collect();
        let parts = read_hop(cluster, &request, &placements, &ids, on_progress)?;
        let mut found: HashMap<&str, BTreeSet<String>> = HashMap::new();
        // The partitions a customer's own lookup reads this hop: only records there are its,
        // as a record keyed by its id on another partition (written before the topic grew)
        // is read here only because another customer's id hashes there.
        let own = |customer: &str, topic: &str| -> BTreeSet<i32> {
            let Some(placement) = placements.get(topic) else {
                return BTreeSet::new();
            };
            frontier[customer]
                .iter()
                .flat_map(|id| placement.partitions_for(id.as_bytes()))
                .collect()
        };
        let cancelled = parts.iter().any(|p| p.cancelled);
        if cancelled {
            // A cancelled hop leaves every customer's timeline incomplete, events or not.
            for timeline in timelines.values_mut() {
                timeline.cancelled = true;
            }
        }
        for part in parts {
            for event in part.events {
                let Some(customers) = readers.get(event.id.as_str()) else {
                    continue;
                };
                let links = spec.source(&event.topic).map_or(&[][..], |s| &s.links[..]);
                for customer in customers {
                    if !own(customer, &event.topic).contains(&event.partition) {
                        continue;
                    }
                    for pointer in links {
                        if let Some(id) = super::pointer(&event.value, pointer).and_then(id_text) {
                            found.entry(customer).or_default().insert(id);
                        }
                    }
                    let timeline = timelines.get_mut(customer).expect("a reader is a customer");
                    timeline.events.push(event.clone());
                    timeline.cancelled |= part.cancelled;
                    if !event_time_read(spec, &event) {
                        *timeline
                            .unreadable_event_times
                            .entry(part.topic.clone())
                            .or_default() += 1;
                    }
                }
            }
            for bad in part.undecodable {
                for customer in readers.get(bad.id.as_str()).into_iter().flatten() {
                    if !own(customer, &bad.topic).contains(&bad.partition) {
                        continue;
                    }
                    let timeline = timelines.get_mut(customer).expect("a reader is a customer");
                    timeline.undecodable.push(bad.clone());
                }
            }
        }
        frontier.clear();
        for (customer, ids) in found {
            let timeline = timelines.get_mut(customer).expect("a reader is a customer");
            let next = timeline.adopt(ids);
            if !next.is_empty() {
                frontier.insert(customer, next);
            }
        }
    }
    let Some(store) = &spec.store else {
        return Ok(keys
            .iter()
            .map(|key| {
                let mut timeline = timelines.remove(key.as_str()).unwrap_or_default();
                sort_timeline(&mut timeline.events);
                let found = Lookup {
                    timeline,
                    ..Lookup::default()
                };
                (key.clone(), found)
            })
            .collect());
    };
    let mut versions = store_versions_of(cluster, spec, store, decoder, keys, cancel)?;
    let every_event: Vec<super::Event> = timelines
        .values()
        .flat_map(|t| {
            // Only the partitions matter to the builder's position: one event of each.
            let mut seen = BTreeSet::new();
            t.events
                .iter()
                .filter(move |e| seen.insert((e.topic.clone(), e.partition)))
                .cloned()
                .collect::<Vec<_>>()
        })
        .collect();
    let builder = BuilderPosition::read(cluster, store.builder_group.as_deref(), &every_event)?;
    Ok(keys
        .iter()
        .map(|key| {
            let mut timeline = timelines.remove(key.as_str()).unwrap_or_default();
            sort_timeline(&mut timeline.events);
            let versions = versions.remove(key).unwrap_or_default();
            let found = compared(spec, decoder, timeline, versions, &builder, now_ms);
            (key.clone(), found)
        })
        .collect())
}

/// Whether the event's time came from its `event_time` pointer (not the broker's time).
fn event_time_read(spec: &Spec, event: &super::Event) -> bool {
    let Some(pointer) = spec
        .source(&event.topic)
        .and_then(|s| s.event_time.as_deref())
    else {
        return true;
    };
    super::pointer(&event.value, pointer)
        .and_then(super::parse_event_time)
        .is_some()
}
