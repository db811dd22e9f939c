//! One customer on both sides of a migration: the lookup on each cluster (targeted partitions
//! on each, which differ where partition counts differ), events on one side only, events whose
//! payload differs, order differences within a key, and the two folded profiles' field diff.
//! Payloads are never printed: events are named by where they sit, and `pii` field values are
//! masked unless revealed.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::topics::Rename;
use crate::cluster::ClusterError;
use crate::profile::{Event, LookupRequest, MASK, SourceDecoder, Spec, fold, lookup, same_value};
use crate::source::Source;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRef {
    /// The source-side topic name (the target's is mapped back).
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub id: String,
    pub event_ms: i64,
}

impl EventRef {
    fn of(event: &Event, topic: &str) -> Self {
        Self {
            topic: topic.to_owned(),
            partition: event.partition,
            offset: event.offset,
            id: event.id.clone(),
            event_ms: event.event_ms,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDiff {
    pub field: String,
    pub source: Option<Value>,
    pub target: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerDiff {
    pub key: String,
    pub only_source: Vec<EventRef>,
    pub only_target: Vec<EventRef>,
    /// The same event (topic, id, event time) with another payload: (source, target).
    pub different: Vec<(EventRef, EventRef)>,
    /// Keys whose shared events come in another order on the target, in words.
    pub order: Vec<String>,
    pub fields: Vec<FieldDiff>,
    /// Both timelines side by side in time order, a row per event (matched where both hold it).
    pub rows: Vec<AlignedRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlignedRow {
    pub source: Option<EventRef>,
    pub target: Option<EventRef>,
    /// `same`, `different`, `only source` or `only target`.
    pub status: &'static str,
}

impl CustomerDiff {
    pub fn is_same(&self) -> bool {
        self.only_source.is_empty()
            && self.only_target.is_empty()
            && self.different.is_empty()
            && self.order.is_empty()
            && self.fields.is_empty()
    }
}

/// `spec` as the target names its topics.
pub fn renamed_spec(spec: &Spec, rename: &Rename) -> Spec {
    let mut target = spec.clone();
    for source in &mut target.sources {
        source.topic = rename.target_name(&source.topic);
    }
    for field in &mut target.fields {
        field.topic = rename.target_name(&field.topic);
    }
    if let Some(store) = &mut target.store {
        store.topic = rename.target_name(&store.topic);
    }
    target
}

/// Looks `key` up on both sides and compares.
pub fn diff_customer(
    (source, target): (&dyn Source, &dyn Source),
    spec: &Spec,
    decoder: &SourceDecoder,
    key: &str,
    rename: &Rename,
    reveal_pii: bool,
) -> Result<CustomerDiff, ClusterError> {
    let target_spec = renamed_spec(spec, rename);
    let target_decoder = decoder.renamed(|t| rename.target_name(t));
    let here = lookup(
        source,
        &LookupRequest::new(spec, decoder, key, source.now_ms()),
    )?;
    let there = lookup(
        target,
        &LookupRequest::new(&target_spec, &target_decoder, key, target.now_ms()),
    )?;
    // Target topics back to their source names.
    let back: BTreeMap<String, String> = spec
        .sources
        .iter()
        .map(|s| (rename.target_name(&s.topic), s.topic.clone()))
        .collect();
    let source_name = |e: &Event| {
        back.get(&e.topic)
            .cloned()
            .unwrap_or_else(|| e.topic.clone())
    };
    type Id = (String, String, i64);
    let index = |events: &[Event], name: &dyn Fn(&Event) -> String| {
        let mut by: BTreeMap<Id, Vec<Event>> = BTreeMap::new();
        for e in events {
            by.entry((name(e), e.id.clone(), e.event_ms))
                .or_default()
                .push(e.clone());
        }
        by
    };
    let same_name = |e: &Event| e.topic.clone();
    let mine = index(&here.timeline.events, &same_name);
    let theirs = index(&there.timeline.events, &source_name);
    let mut diff = CustomerDiff {
        key: key.to_owned(),
        only_source: Vec::new(),
        only_target: Vec::new(),
        different: Vec::new(),
        order: Vec::new(),
        fields: Vec::new(),
        rows: Vec::new(),
    };
    for (id, events) in &mine {
        let others = theirs.get(id).map_or(&[][..], |v| &v[..]);
        let mut unmatched: Vec<&Event> = others.iter().collect();
        for e in events {
            let mine = EventRef::of(e, &id.0);
            if let Some(i) = unmatched.iter().position(|o| o.value == e.value) {
                let o = unmatched.remove(i);
                diff.rows.push(AlignedRow {
                    source: Some(mine),
                    target: Some(EventRef::of(o, &id.0)),
                    status: "same",
                });
            } else if let Some(o) = unmatched.pop() {
                let theirs = EventRef::of(o, &id.0);
                diff.different.push((mine.clone(), theirs.clone()));
                diff.rows.push(AlignedRow {
                    source: Some(mine),
                    target: Some(theirs),
                    status: "different",
                });
            } else {
                diff.only_source.push(mine.clone());
                diff.rows.push(AlignedRow {
                    source: Some(mine),
                    target: None,
                    status: "only source",
                });
            }
        }
        for o in unmatched {
            let theirs = EventRef::of(o, &id.0);
            diff.only_target.push(theirs.clone());
            diff.rows.push(AlignedRow {
                source: None,
                target: Some(theirs),
                status: "only target",
            });
        }
    }
    for (id, others) in &theirs {
        if !mine.contains_key(id) {
            for o in others {
                let theirs = EventRef::of(o, &id.0);
                diff.only_target.push(theirs.clone());
                diff.rows.push(AlignedRow {
                    source: None,
                    target: Some(theirs),
                    status: "only target",
                });
            }
        }
    }
    let time = |r: &AlignedRow| {
        r.source
            .as_ref()
            .or(r.target.as_ref())
            .map_or(0, |e| e.event_ms)
    };
    diff.rows.sort_by_key(time);
    diff.order = order_differences(&here.timeline.events, &there.timeline.events, &source_name);
    let (a, b) = (
        fold(spec, &here.timeline.events, None),
        fold(&target_spec, &there.timeline.events, None),
    );
    for field in &spec.fields {
        let (x, y) = (
            a.fields.get(&field.name).map(|f| &f.value),
            b.fields.get(&field.name).map(|f| &f.value),
        );
        let same = match (x, y) {
            (Some(x), Some(y)) => same_value(x, y),
            (None, None) => true,
            _ => false,
        };
        if !same {
            let shown = |v: Option<&Value>| {
                v.map(|v| {
                    if field.pii && !reveal_pii {
                        Value::from(MASK)
                    } else {
                        v.clone()
                    }
                })
            };
            diff.fields.push(FieldDiff {
                field: field.name.clone(),
                source: shown(x),
                target: shown(y),
            });
        }
    }
    Ok(diff)
}

/// Per (topic, id), whether the events both sides hold come in the same order (by offset).
fn order_differences(
    here: &[Event],
    there: &[Event],
    source_name: &dyn Fn(&Event) -> String,
) -> Vec<String> {
    let sequence = |events: &[Event], name: &dyn Fn(&Event) -> String| {
        let mut by: BTreeMap<(String, String), Vec<(i64, i64)>> = BTreeMap::new();
        for e in events {
            by.entry((name(e), e.id.clone()))
                .or_default()
                .push((e.offset, e.event_ms));
        }
        by.into_iter()
            .map(|(k, mut v)| {
                v.sort();
                (k, v.into_iter().map(|(_, t)| t).collect::<Vec<i64>>())
            })
            .collect::<BTreeMap<_, _>>()
    };
    let mine = sequence(here, &|e| e.topic.clone());
    let theirs = sequence(there, source_name);
    let mut out = Vec::new();
    for (key, times) in &mine {
        let Some(other) = theirs.get(key) else {
            continue;
        };
        let shared: Vec<i64> = times
            .iter()
            .copied()
            .filter(|t| other.contains(t))
            .collect();
        let other_shared: Vec<i64> = other
            .iter()
            .copied()
            .filter(|t| times.contains(t))
            .collect();
        if shared != other_shared {
            out.push(format!(
                "{} key {}: the events both sides hold are in another order on the target",
                key.0, key.1
            ));
        }
    }
    out
}
