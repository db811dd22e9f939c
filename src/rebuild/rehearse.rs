//! The rehearsal: replay every retained source record (or a slice of partitions), fold each
//! customer, and compare the rebuilt profile with the store's latest version, field by field,
//! classifying each difference (see [`super::classify`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use super::classify::{Class, Evidence, classify};
use super::replay::{Projection, Replay, Replayed, Slim};
use crate::cluster::{CancelToken, ClusterError, ScanProgress};
use crate::freshness::{Links, store_latest};
use crate::profile::{MASK, SourceDecoder, Spec, fold};
use crate::source::Source;

#[derive(Debug, Clone, Default)]
pub struct RehearseRequest {
    /// Rehearse only the customers of these partitions (and read the partitions their
    /// linked ids hash to); `None`: everything.
    pub partitions: Option<Vec<i32>>,
    /// Example customers kept per field and class.
    pub examples: usize,
    /// Show `pii` fields' values in the examples.
    pub reveal_pii: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    pub key: String,
    pub class: Class,
    pub rebuilt: Option<Value>,
    pub served: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FieldResult {
    pub store_ahead: usize,
    pub store_behind: usize,
    pub different: usize,
    pub examples: Vec<Example>,
}

/// Counts scaled from a slice to the whole store.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Whole {
    pub customers: f64,
    pub matches: f64,
    pub fields: BTreeMap<String, [f64; 3]>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Rehearsal {
    /// Customers compared: those with retained events or a store version.
    pub customers: usize,
    /// Customers whose every field matches the store.
    pub matches: usize,
    pub fields: BTreeMap<String, FieldResult>,
    /// Source records replayed (what `records_per_s` and `mb_per_s` measure).
    pub records: u64,
    /// Store versions read to compare with (not replayed).
    pub store_records: u64,
    /// Link-source records read once more to map linked ids to customers (not replayed).
    pub link_records: u64,
    /// Bytes of the source records replayed.
    pub bytes: u64,
    pub seconds: f64,
    pub records_per_s: f64,
    pub mb_per_s: f64,
    /// The slice rehearsed; `None`: everything.
    pub partitions: Option<Vec<i32>>,
    pub extrapolated: bool,
    /// The share of the customers the slice stands for (1 for everything).
    pub share: f64,
    /// With a slice: its counts scaled to the whole store.
    pub whole: Option<Whole>,
    /// Customers the store serves with no retained event.
    pub store_only: usize,
    /// Customers whose latest store version is a tombstone.
    pub store_deleted: usize,
    pub undecodable_records: u64,
    pub keyless_records: u64,
    pub undecodable_store_versions: u64,
    pub cancelled: bool,
    /// Every differing (customer, field, class), for tests and the GUI.
    #[serde(skip)]
    pub differences: Vec<(String, String, Class)>,
}

#[derive(Debug, thiserror::Error)]
pub enum RehearseError {
    #[error("the spec has no [store]: there is nothing to compare a rebuild with")]
    NoStore,
    #[error("the spec defines no fields: there is nothing to rebuild")]
    NoFields,
    #[error(
        "partition {partition} is not in {topic} ({count} partitions): --partitions takes \
         partitions of the source topics"
    )]
    NoSuchPartition {
        topic: String,
        partition: i32,
        count: i32,
    },
    #[error(
        "{topic} has {count} partitions and {first} has {expected}: a slice of partitions holds \
         whole customers only where every source and the store are partitioned alike"
    )]
    NotCoPartitioned {
        topic: String,
        count: i32,
        first: String,
        expected: i32,
    },
    #[error(
        "the spec's partitioner is \"{0}\", not one hash: a slice of partitions holds whole \
         customers only where one named hash placed every key (`freshlens keys` says which); \
         name it, or rehearse everything"
    )]
    NoSliceWithoutPartitioner(&'static str),
    #[error(
        "a slice of partitions needs the spec's partitioner to be the one the data was written \
         with: {0}. Fix the spec, or rehearse everything"
    )]
    SliceByAnotherHash(String),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// Rehearses a rebuild of `spec`'s store as of now.
pub fn rehearse(
    source: &dyn Source,
    spec: &Spec,
    decoder: &SourceDecoder,
    request: &RehearseRequest,
    cancel: &CancelToken,
    on_progress: &(dyn Fn(ScanProgress) + Sync),
) -> Result<Rehearsal, RehearseError> {
    let store = spec.store.as_ref().ok_or(RehearseError::NoStore)?;
    if spec.fields.is_empty() {
        return Err(RehearseError::NoFields);
    }
    let started = Instant::now();
    let slice = match &request.partitions {
        Some(partitions) => Some(Slice::new(source, spec, partitions, cancel)?),
        None => None,
    };
    // The link sources are read whole even for a slice: an id that hashes into the slice may
    // belong to a customer outside it, which only the whole identity map can tell.
    let links = Links::read(source, spec, decoder, None, cancel)?;
    let mut reads: HashMap<String, Option<Vec<i32>>> = HashMap::new();
    if let Some(slice) = &slice {
        let mut wanted: BTreeSet<i32> = slice.partitions.iter().copied().collect();
        for (id, customer) in &links.alias {
            if slice.holds(spec, customer) {
                wanted.extend(spec.partitioner.partitions_for(id.as_bytes(), slice.count));
            }
        }
        for src in &spec.sources {
            reads.insert(src.topic.clone(), Some(wanted.iter().copied().collect()));
        }
    }
    let keep = |customer: &str| slice.as_ref().is_none_or(|s| s.holds(spec, customer));
    let replayed = Replay {
        source,
        spec,
        decoder,
        links: &links,
        keep: &keep,
        cancel,
        on_progress,
    }
    .run(&reads)?;
    // The whole store even for a slice: the share of its customers the slice holds is what
    // the slice's counts scale by (keys do not spread evenly over a few partitions).
    let latest = store_latest(source, store, None, cancel)?;
    let share = slice.as_ref().map_or(1.0, |s| {
        let kept = latest
            .latest
            .keys()
            .filter(|k| keep(&String::from_utf8_lossy(k)))
            .count();
        match latest.latest.len() {
            0 => s.share(),
            all => kept as f64 / all as f64,
        }
    });
    let committed = builder_offsets(source, spec, &replayed)?;

    let mut rehearsal = Rehearsal {
        partitions: request.partitions.clone(),
        extrapolated: slice.is_some(),
        share,
        undecodable_records: replayed.undecodable,
        keyless_records: replayed.keyless,
        cancelled: replayed.cancelled || latest.cancelled,
        records: replayed.records,
        store_records: latest.records_read,
        link_records: links.records,
        bytes: replayed.bytes,
        ..Rehearsal::default()
    };
    // The store's latest version of each kept customer, decoded: its fields, or a tombstone.
    let as_source = store.as_source();
    let mut served: HashMap<String, Option<Map<String, Value>>> = HashMap::new();
    let mut unreadable: BTreeSet<String> = BTreeSet::new();
    for (key, version) in latest.latest {
        let key = String::from_utf8_lossy(&key).into_owned();
        if !keep(&key) {
            continue;
        }
        let fields = match version.value {
            None => None,
            Some(bytes) => match decoder.decode(&as_source, &bytes) {
                Ok(value) => Some(
                    crate::profile::pointer(&value, &store.fields)
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default(),
                ),
                Err(_) => {
                    // Not compared at all: "no store value" would class every field behind.
                    rehearsal.undecodable_store_versions += 1;
                    unreadable.insert(key);
                    continue;
                }
            },
        };
        served.insert(key, fields);
    }
    let Replayed {
        by_customer,
        strings,
        ..
    } = replayed;
    let mut customers: BTreeSet<&String> = by_customer.keys().collect();
    customers.extend(served.keys());
    customers.retain(|c| !unreadable.contains(*c));
    let projection = Projection::new(spec);
    let judged: Vec<(String, Vec<Diff>)> = customers
        .par_iter()
        .map(|key| {
            let slims = by_customer.get(*key).map_or(&[][..], |v| &v[..]);
            let here = served.get(*key);
            let diffs = judge(spec, (&projection, &strings), slims, here, &committed);
            ((*key).clone(), diffs)
        })
        .collect();
    rehearsal.customers = judged.len();
    rehearsal.store_only = customers
        .iter()
        .filter(|k| !by_customer.contains_key(**k))
        .count();
    rehearsal.store_deleted = served.values().filter(|f| f.is_none()).count();
    for field in &spec.fields {
        rehearsal
            .fields
            .insert(field.name.clone(), FieldResult::default());
    }
    for (key, diffs) in judged {
        if diffs.is_empty() {
            rehearsal.matches += 1;
        }
        for (field, class, rebuilt, served) in diffs {
            let result = rehearsal.fields.entry(field.clone()).or_default();
            match class {
                Class::StoreAhead => result.store_ahead += 1,
                Class::StoreBehind => result.store_behind += 1,
                Class::Different => result.different += 1,
            }
            let shown = result.examples.iter().filter(|e| e.class == class).count();
            if shown < request.examples {
                let pii = spec.fields.iter().any(|f| f.name == field && f.pii);
                let mask = |v: Option<Value>| match v {
                    Some(_) if pii && !request.reveal_pii => Some(Value::from(MASK)),
                    v => v,
                };
                result.examples.push(Example {
                    key: key.clone(),
                    class,
                    rebuilt: mask(rebuilt),
                    served: mask(served),
                });
            }
            rehearsal.differences.push((key.clone(), field, class));
        }
    }
    if slice.is_some() {
        rehearsal.whole = Some(scale(&rehearsal));
    }
    rehearsal.seconds = started.elapsed().as_secs_f64();
    rehearsal.records_per_s = rehearsal.records as f64 / rehearsal.seconds.max(1e-3);
    rehearsal.mb_per_s = rehearsal.bytes as f64 / 1e6 / rehearsal.seconds.max(1e-3);
    Ok(rehearsal)
}

/// A differing field: (field, class, rebuilt, served).
type Diff = (String, Class, Option<Value>, Option<Value>);

/// The differing fields of one customer.
fn judge(
    spec: &Spec,
    (projection, strings): (&Projection, &[super::replay::Interner]),
    slims: &[Slim],
    served: Option<&Option<Map<String, Value>>>,
    committed: &HashMap<(String, i32), i64>,
) -> Vec<Diff> {
    let mut ordered: Vec<&Slim> = slims.iter().collect();
    ordered.sort_by(|a, b| {
        let key = |s: &Slim| {
            (
                s.event_ms,
                s.broker_ms,
                spec.sources[s.source as usize].topic.as_str(),
                s.offset,
            )
        };
        key(a).cmp(&key(b))
    });
    let events: Vec<crate::profile::Event> = ordered
        .iter()
        .map(|s| projection.event(spec, strings, s))
        .collect();
    let rebuilt = fold(spec, &events, None);
    let consumed_events: Vec<crate::profile::Event> = events
        .iter()
        .filter(|e| {
            committed
                .get(&(e.topic.clone(), e.partition))
                .is_some_and(|c| *c > e.offset)
        })
        .cloned()
        .collect();
    let consumed = fold(spec, &consumed_events, None);
    let served = served.and_then(|s| s.as_ref());
    let mut diffs = Vec::new();
    for field in &spec.fields {
        let retained: Vec<Value> = events
            .iter()
            .filter(|e| e.topic == field.topic)
            .filter_map(|e| crate::profile::pointer(&e.value, &field.path))
            .filter(|v| !v.is_null())
            .cloned()
            .collect();
        let r = rebuilt.fields.get(&field.name).map(|f| &f.value);
        let s = served.and_then(|m| m.get(&field.name));
        let evidence = Evidence {
            rule: field.rule,
            rebuilt: r,
            consumed: consumed.fields.get(&field.name).map(|f| &f.value),
            served: s,
            retained: &retained,
        };
        if let Some(class) = classify(&evidence) {
            diffs.push((field.name.clone(), class, r.cloned(), s.cloned()));
        }
    }
    diffs
}

/// The builder group's committed offset on every partition the replay read.
fn builder_offsets(
    source: &dyn Source,
    spec: &Spec,
    replayed: &Replayed,
) -> Result<HashMap<(String, i32), i64>, ClusterError> {
    let Some(group) = spec.store.as_ref().and_then(|s| s.builder_group.as_deref()) else {
        return Ok(HashMap::new());
    };
    let partitions: Vec<(String, i32)> = replayed.read_to.keys().cloned().collect();
    if partitions.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(source
        .committed_offsets(group, &partitions)?
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect())
}

/// A slice of partitions: the customers whose key hashes into them.
struct Slice {
    partitions: Vec<i32>,
    count: i32,
}

impl Slice {
    fn new(
        source: &dyn Source,
        spec: &Spec,
        partitions: &[i32],
        cancel: &CancelToken,
    ) -> Result<Self, RehearseError> {
        if !crate::profile::Partitioner::HASHES.contains(&spec.partitioner) {
            return Err(RehearseError::NoSliceWithoutPartitioner(
                spec.partitioner.name(),
            ));
        }
        // A slice chosen by a hash the data was not written with holds pieces of customers:
        // every one of them would read "store behind".
        let disagree = crate::profile::placement::disagreements(source, spec, cancel)?;
        if !disagree.is_empty() {
            return Err(RehearseError::SliceByAnotherHash(disagree.join("; ")));
        }
        let mut count = None;
        let topics = spec
            .sources
            .iter()
            .map(|s| &s.topic)
            .chain(spec.store.as_ref().map(|s| &s.topic));
        for topic in topics {
            let here = source.topic(topic)?.partitions.len() as i32;
            match &count {
                None => count = Some((topic.clone(), here)),
                Some((first, expected)) if *expected != here => {
                    return Err(RehearseError::NotCoPartitioned {
                        topic: topic.clone(),
                        count: here,
                        first: first.clone(),
                        expected: *expected,
                    });
                }
                Some(_) => {}
            }
        }
        let (first, count) = count.unwrap_or_default();
        if let Some(&bad) = partitions.iter().find(|p| **p < 0 || **p >= count) {
            return Err(RehearseError::NoSuchPartition {
                topic: first,
                partition: bad,
                count,
            });
        }
        let mut partitions = partitions.to_vec();
        partitions.sort_unstable();
        partitions.dedup();
        Ok(Self { partitions, count })
    }

    fn holds(&self, spec: &Spec, customer: &str) -> bool {
        spec.partitioner
            .partitions_for(customer.as_bytes(), self.count)
            .first()
            .is_some_and(|p| self.partitions.contains(p))
    }

    /// Where the store holds no key to count: keys hashing evenly over partitions, the
    /// slice's share of the partitions.
    fn share(&self) -> f64 {
        self.partitions.len() as f64 / self.count.max(1) as f64
    }
}

/// A slice's counts scaled to the whole store by the share of the store's customers it holds.
fn scale(r: &Rehearsal) -> Whole {
    let by = 1.0 / r.share.max(1e-9);
    Whole {
        customers: r.customers as f64 * by,
        matches: r.matches as f64 * by,
        fields: r
            .fields
            .iter()
            .map(|(name, f)| {
                let counts = [f.store_ahead, f.store_behind, f.different].map(|n| n as f64 * by);
                (name.clone(), counts)
            })
            .collect(),
    }
}
