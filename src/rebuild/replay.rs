//! The replay: every retained record of every source topic (or of a slice of partitions), each
//! topic read by a client of its own, routed to its customer through the identity map. A
//! customer's events arrive interleaved across topics and, with late arrivals, out of time
//! order, while the fold is order-dependent (erasures and nulls reset fields, `first` keeps the
//! earliest): so each event is kept until the end, projected to what the fold reads (its times
//! and the values at the spec's pointers for its topic, about 100 bytes), never its payload.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::Value;

use crate::cluster::{CancelToken, ClusterError, ScanEvent, ScanProgress, ScanRequest};
use crate::freshness::Links;
use crate::profile::spec::Source as SourceSpec;
use crate::profile::{Event, SourceDecoder, Spec, parse_event_time};
use crate::source::Source;

/// An event as the fold needs it: where it sits in time and the values at its topic's
/// pointers, kept inline (72 bytes an event, no allocation of its own).
#[derive(Debug, Clone)]
pub struct Slim {
    pub event_ms: i64,
    pub broker_ms: i64,
    pub offset: i64,
    pub partition: i32,
    /// Index into the spec's sources.
    pub source: u16,
    pub values: smallvec::SmallVec<[Compact; 2]>,
}

/// A JSON value in 16 bytes: strings interned per source (a click stream repeats a few pages
/// a million times), anything else boxed.
#[derive(Debug, Clone)]
pub enum Compact {
    Absent,
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(u32),
    Json(Box<Value>),
}

/// One source's strings, each kept once.
#[derive(Debug, Default)]
pub struct Interner {
    ids: HashMap<Arc<str>, u32>,
    strings: Vec<Arc<str>>,
}

impl Interner {
    fn compact(&mut self, value: Option<&Value>) -> Compact {
        match value {
            None => Compact::Absent,
            Some(Value::Null) => Compact::Null,
            Some(Value::Bool(b)) => Compact::Bool(*b),
            Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Compact::Int(i),
                (None, Some(f)) if !n.is_u64() => Compact::Float(f),
                _ => Compact::Json(Box::new(Value::Number(n.clone()))),
            },
            Some(Value::String(text)) => {
                if let Some(id) = self.ids.get(text.as_str()) {
                    return Compact::Str(*id);
                }
                let id = self.strings.len() as u32;
                let shared: Arc<str> = Arc::from(text.as_str());
                self.strings.push(Arc::clone(&shared));
                self.ids.insert(shared, id);
                Compact::Str(id)
            }
            Some(other) => Compact::Json(Box::new(other.clone())),
        }
    }

    fn value(&self, compact: &Compact) -> Option<Value> {
        Some(match compact {
            Compact::Absent => return None,
            Compact::Null => Value::Null,
            Compact::Bool(b) => Value::Bool(*b),
            Compact::Int(i) => Value::from(*i),
            Compact::Float(f) => Value::from(*f),
            Compact::Str(id) => Value::String(self.strings[*id as usize].to_string()),
            Compact::Json(v) => (**v).clone(),
        })
    }
}

/// The pointers the fold reads from each source's payloads: its fields' paths and its erasure
/// condition's.
pub struct Projection {
    pub pointers: Vec<Vec<String>>,
}

impl Projection {
    pub fn new(spec: &Spec) -> Self {
        let pointers = spec
            .sources
            .iter()
            .map(|src| {
                let mut here: BTreeSet<String> = spec
                    .fields
                    .iter()
                    .filter(|f| f.topic == src.topic)
                    .map(|f| f.path.clone())
                    .collect();
                if let Some(erase) = &src.erase_when {
                    here.insert(erase.path.clone());
                }
                here.into_iter().collect()
            })
            .collect();
        Self { pointers }
    }

    /// The slim event back as a timeline event whose payload holds only the projected values.
    pub fn event(&self, spec: &Spec, strings: &[Interner], slim: &Slim) -> Event {
        let source = slim.source as usize;
        let mut value = Value::Object(Default::default());
        for (pointer, v) in self.pointers[source].iter().zip(&slim.values) {
            if let Some(v) = strings[source].value(v) {
                set_pointer(&mut value, pointer, v);
            }
        }
        Event {
            topic: spec.sources[slim.source as usize].topic.clone(),
            partition: slim.partition,
            offset: slim.offset,
            broker_ms: slim.broker_ms,
            event_ms: slim.event_ms,
            id: String::new(),
            value: Arc::new(value),
            schema_id: None,
        }
    }
}

/// Sets `v` at a JSON pointer, creating the objects on the way.
pub fn set_pointer(root: &mut Value, pointer: &str, v: Value) {
    let mut here = root;
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, path)) = tokens.split_last() else {
        *here = v;
        return;
    };
    for token in path {
        if !here.is_object() {
            *here = Value::Object(Default::default());
        }
        here = here
            .as_object_mut()
            .expect("made an object above")
            .entry(token.clone())
            .or_insert_with(|| Value::Object(Default::default()));
    }
    if !here.is_object() {
        *here = Value::Object(Default::default());
    }
    here.as_object_mut()
        .expect("made an object above")
        .insert(last.clone(), v);
}

/// What the replay read.
#[derive(Debug, Default)]
pub struct Replayed {
    pub by_customer: HashMap<String, Vec<Slim>>,
    pub records: u64,
    pub bytes: u64,
    /// Records that could not be decoded, or had no key: counted, not folded.
    pub undecodable: u64,
    pub keyless: u64,
    /// Per (topic, partition), the highest offset read plus one.
    pub read_to: HashMap<(String, i32), i64>,
    /// Per source, the strings its events' values refer to.
    pub strings: Vec<Interner>,
    pub cancelled: bool,
}

/// Which customers the replay keeps: every one, or those of a slice.
pub trait Keep: Sync {
    fn keep(&self, customer: &str) -> bool;
}

impl<F: Fn(&str) -> bool + Sync> Keep for F {
    fn keep(&self, customer: &str) -> bool {
        self(customer)
    }
}

/// A replay: what it reads with (the source, the spec and its decoder, the identity map),
/// which customers it keeps, and who hears its progress.
pub struct Replay<'a> {
    pub source: &'a dyn Source,
    pub spec: &'a Spec,
    pub decoder: &'a SourceDecoder,
    pub links: &'a Links,
    pub keep: &'a dyn Keep,
    pub cancel: &'a CancelToken,
    pub on_progress: &'a (dyn Fn(ScanProgress) + Sync),
}

impl Replay<'_> {
    /// Reads `partitions` of every source (all of each where `None`), each topic by a thread of
    /// its own, keeping the events of the customers `keep` keeps.
    pub fn run(
        &self,
        partitions: &HashMap<String, Option<Vec<i32>>>,
    ) -> Result<Replayed, ClusterError> {
        let Self {
            spec, on_progress, ..
        } = *self;
        let projection = Projection::new(spec);
        let progress = std::sync::Mutex::new(vec![ScanProgress::default(); spec.sources.len()]);
        let report = |index: usize, p: ScanProgress| {
            if let Ok(mut all) = progress.lock() {
                all[index] = p;
                let sum = ScanProgress::sum(&all);
                on_progress(sum);
            }
        };
        let parts = crate::cluster::in_parallel(&spec.sources, "a replay reader", |index, src| {
            let wanted = partitions.get(&src.topic).cloned().flatten();
            self.read_topic((index, src), &projection, wanted, &|p| report(index, p))
        });
        let mut all = Replayed::default();
        for part in parts {
            let mut part = part?;
            all.strings.append(&mut part.strings);
            all.records += part.records;
            all.bytes += part.bytes;
            all.undecodable += part.undecodable;
            all.keyless += part.keyless;
            all.cancelled |= part.cancelled;
            all.read_to.extend(part.read_to);
            for (customer, events) in part.by_customer {
                all.by_customer.entry(customer).or_default().extend(events);
            }
        }
        Ok(all)
    }

    fn read_topic(
        &self,
        (index, src): (usize, &SourceSpec),
        projection: &Projection,
        partitions: Option<Vec<i32>>,
        on_progress: &dyn Fn(ScanProgress),
    ) -> Result<Replayed, ClusterError> {
        let Self {
            source,
            decoder,
            links,
            keep,
            cancel,
            ..
        } = *self;
        let mut part = Replayed::default();
        let mut strings = Interner::default();
        let pointers = &projection.pointers[index];
        let request = ScanRequest {
            partitions,
            ..ScanRequest::new(src.topic.clone())
        };
        let summary = source.scan(&request, cancel, &mut |event| {
            let records = match event {
                ScanEvent::Records(records) => records,
                ScanEvent::Progress(p) => {
                    on_progress(p);
                    return true;
                }
            };
            for record in records {
                let to = part
                    .read_to
                    .entry((record.topic.clone(), record.partition))
                    .or_insert(0);
                *to = (*to).max(record.offset + 1);
                let Some(key) = record.key.as_deref() else {
                    part.keyless += 1;
                    continue;
                };
                let key = String::from_utf8_lossy(key);
                let customer = links.customer_of(&key).unwrap_or_else(|| key.into_owned());
                if !keep.keep(&customer) {
                    continue;
                }
                let Some(bytes) = record.value.as_deref() else {
                    // A tombstone on a source topic carries no event.
                    continue;
                };
                let Ok(value) = decoder.decode(src, bytes) else {
                    part.undecodable += 1;
                    continue;
                };
                let broker_ms = record
                    .timestamp_ms
                    .filter(|ms| crate::time::plausible_ms(*ms))
                    .unwrap_or(0);
                let event_ms = src
                    .event_time
                    .as_deref()
                    .and_then(|p| crate::profile::pointer(&value, p))
                    .and_then(parse_event_time)
                    .unwrap_or(broker_ms);
                let values = pointers
                    .iter()
                    .map(|p| strings.compact(crate::profile::pointer(&value, p)))
                    .collect();
                part.by_customer.entry(customer).or_default().push(Slim {
                    event_ms,
                    broker_ms,
                    offset: record.offset,
                    partition: record.partition,
                    source: index as u16,
                    values,
                });
            }
            true
        })?;
        part.records = summary.progress.scanned;
        part.bytes = summary.progress.bytes;
        part.cancelled = summary.cancelled;
        part.strings = vec![strings];
        Ok(part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_value_set_at_a_pointer_is_found_there() {
        let mut root = json!({});
        set_pointer(&mut root, "/a/b~1c", json!(1));
        set_pointer(&mut root, "/a/d", json!("x"));
        set_pointer(&mut root, "/e", json!(null));
        assert_eq!(root, json!({"a": {"b/c": 1, "d": "x"}, "e": null}));
        assert_eq!(crate::profile::pointer(&root, "/a/b~1c"), Some(&json!(1)));
    }
}
