//! Demo data: a deterministic, realistic Customer 360 workload (five source streams, a profile
//! store written by an imperfect builder, committed group offsets), built in memory as a
//! [`Capture`] for `--demo`, or written to a cluster by `demo seed`.

mod builder;
mod config;
pub mod live;
mod placed;
pub mod seed;
mod workload;

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::Serialize;

use crate::cluster::{Record, TimestampKind};
use crate::profile::{LookupRequest, Partitioner, Spec, SpecError, StaleField, lookup};
use crate::source::{Capture, CapturedGroup, RecordedCommit};

pub use builder::STALL_MS;
pub use config::{BUILDER_GROUP, DemoConfig, PREFIX, RISK_GROUP, under_prefix};
pub use workload::{SOURCES, customer_id};

use placed::Placed;

/// How long ago the risk-features group stopped.
pub const RISK_STALLED_MS: i64 = 3 * 3_600_000;
const SPEC: &str = include_str!("../../assets/demo/c360.toml");

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaleCustomer {
    pub key: String,
    /// (field, cause) of each stale field.
    pub fields: Vec<(String, String)>,
}

pub struct Demo {
    pub config: DemoConfig,
    pub capture: Capture,
    pub spec: Spec,
    pub spec_text: String,
    /// A few customers whose stored profile is stale, and why, as a lookup reports it.
    pub stale: Vec<StaleCustomer>,
    /// The generator's own data, being freed in the background.
    freeing: Option<std::thread::JoinHandle<()>>,
}

impl Demo {
    /// Waits until the generator's own data is freed, for measuring memory.
    pub fn settle(&mut self) {
        if let Some(freeing) = self.freeing.take() {
            let _ = freeing.join();
        }
    }
}

/// The demo spec with its topics under `prefix` and the store built by `builder_group`.
pub fn spec_text(prefix: &str, builder_group: &str) -> String {
    // The asset's names are under `c360`, its builder group too: renamed under the prefix
    // first, the builder group is then the one renamed under it.
    let builder = format!("{:?}", under_prefix(prefix, BUILDER_GROUP));
    // The contract's readers name the builder's principal after its group.
    let reader = format!("\"User:{PREFIX}.{BUILDER_GROUP}\"");
    SPEC.replace(&reader, &format!("\"User:{builder_group}\""))
        .replace(&format!("\"{PREFIX}."), &format!("\"{prefix}."))
        .replace(&builder, &format!("{builder_group:?}"))
}

/// The workload placed in its partitions and what the builder consumed of it: everything the
/// demo's data is built from, and enough to build one customer's partitions alone.
pub struct Prepared {
    config: DemoConfig,
    spec: Spec,
    spec_text: String,
    placed: Vec<Placed>,
    consumed: Vec<Option<i64>>,
    committed: builder::Committed,
    /// Each customer's placed events, in customer order.
    customers: Vec<(usize, Vec<usize>)>,
}

/// The first stale customer, explained from its own partitions before the rest of the demo
/// data is built: a lookup there reads exactly what it reads in the whole demo.
pub struct FirstStale {
    pub stale: StaleCustomer,
    pub lookup: crate::profile::Lookup,
    pub spec: Spec,
}

/// Fails only if the demo's own spec does not parse: a freshlens bug.
pub fn prepare(config: &DemoConfig) -> Result<Prepared, SpecError> {
    let spec_text = spec_text(&config.prefix, &config.builder_group);
    let spec = Spec::parse(&spec_text, "c360.toml")?;
    let placed = place(config, workload::generate(config));
    let (consumed, committed) = builder::consume(config, &placed);
    let customers = builder::by_customer(&placed);
    Ok(Prepared {
        config: config.clone(),
        spec,
        spec_text,
        placed,
        consumed,
        committed,
        customers,
    })
}

pub fn generate(config: &DemoConfig) -> Result<Demo, SpecError> {
    Ok(finish(prepare(config)?))
}

/// A capture of the prepared data: the source records of the (source, partition)s `keep`
/// holds, the store `versions` of the partitions `keep_store` holds, the builder's committed
/// offsets and the topics' configurations.
fn assemble(
    p: &Prepared,
    versions: Vec<builder::Version>,
    keep: &(dyn Fn(usize, i32) -> bool + Sync),
    keep_store: &dyn Fn(i32) -> bool,
) -> Capture {
    let config = &p.config;
    let mut capture = Capture::new(format!("demo data ({})", config.prefix), config.end_ms);
    for name in SOURCES.iter().chain(["profiles"].iter()) {
        capture.add_topic(&config.topic(name), config.partitions);
    }
    let kept: Vec<&Placed> = p
        .placed
        .iter()
        .filter(|e| keep(e.event.source, e.partition))
        .collect();
    let values: Vec<Vec<u8>> = kept
        .par_iter()
        .map(|e| framed(e.event.schema_id, e.event.value.as_ref()))
        .collect();
    for (e, value) in kept.iter().zip(values) {
        capture.push(record(
            &e.topic,
            e.partition,
            e.offset,
            e.event.broker_ms,
            &e.event.key,
            value,
        ));
    }
    let profiles = config.topic("profiles");
    let mut store: BTreeMap<i32, Vec<(i64, String, Vec<u8>)>> = BTreeMap::new();
    for (key, value, written) in versions {
        let partition = partition_of(&key, config.partitions);
        if keep_store(partition) {
            store
                .entry(partition)
                .or_default()
                .push((written, key, value));
        }
    }
    for (partition, mut versions) in store {
        versions.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        for (offset, (written, key, value)) in versions.into_iter().enumerate() {
            capture.push(record(
                &profiles,
                partition,
                offset as i64,
                written,
                &key,
                value,
            ));
        }
    }
    capture.finish();
    capture.groups.push(CapturedGroup {
        name: config.builder_group.clone(),
        state: "Empty".into(),
        offsets: p.committed.clone(),
        commits: Vec::new(),
    });
    for (name, configs) in topic_configs(config) {
        capture.configs.insert(name, configs);
    }
    capture
}

/// The first customer the demo suggests, built and looked up from its own partitions alone:
/// the store partition its id hashes to (every customer there built) and, in every source
/// topic, the partitions its ids hash to. The same customer, with the same answer, as the
/// whole demo's first stale customer.
pub fn first_stale(p: &Prepared) -> Option<FirstStale> {
    let config = &p.config;
    let decoder = crate::profile::SourceDecoder::new(&p.spec, None).ok()?;
    let budget_ms = p.spec.budget.ms();
    for (c, indices) in &p.customers {
        let reason = builder::behind(config, budget_ms, &p.placed, &p.consumed, indices);
        if reason != Some(builder::Behind::Stalled) {
            continue;
        }
        let key = customer_id(*c);
        let store_partition = partition_of(&key, config.partitions);
        // Every id a lookup of it reads: its events' keys and the ids their links name (an
        // anonymous id with no clicks of its own is still read).
        let mut partitions = std::collections::BTreeSet::new();
        for &i in indices {
            let event = &p.placed[i];
            partitions.insert(partition_of(&event.event.key, config.partitions));
            let links = p
                .spec
                .source(&event.topic)
                .map_or(&[][..], |s| &s.links[..]);
            for pointer in links {
                if let Some(id) = crate::profile::pointer(&event.event.value, pointer)
                    .and_then(crate::profile::id_text)
                {
                    partitions.insert(partition_of(&id, config.partitions));
                }
            }
        }
        partitions.insert(store_partition);
        let neighbours: Vec<(usize, Vec<usize>)> = p
            .customers
            .iter()
            .filter(|(other, _)| {
                partition_of(&customer_id(*other), config.partitions) == store_partition
            })
            .cloned()
            .collect();
        let (versions, _) = builder::build(config, &p.spec, &p.placed, &p.consumed, &neighbours);
        let capture = assemble(
            p,
            versions,
            &|_, partition| partitions.contains(&partition),
            &|partition| partition == store_partition,
        );
        if let Some((stale, lookup)) = explain(
            config,
            &capture,
            &p.spec,
            &decoder,
            *c,
            builder::Behind::Stalled,
        ) {
            return Some(FirstStale {
                stale,
                lookup,
                spec: p.spec.clone(),
            });
        }
    }
    None
}

/// The whole demo from what was prepared.
pub fn finish(p: Prepared) -> Demo {
    let started = std::time::Instant::now();
    let (versions, behind) =
        builder::build(&p.config, &p.spec, &p.placed, &p.consumed, &p.customers);
    let folded = started.elapsed();
    let mut capture = assemble(&p, versions, &|_, _| true, &|_| true);
    let config = &p.config;
    let start = config.end_ms - config.span_ms;
    let batch = config.batch_ms.max(1_000);
    let batches: Vec<i64> = (1..)
        .map(|i| start + i * batch)
        .take_while(|t| *t <= config.end_ms)
        .collect();
    let consumed = &p.consumed;
    let builder_commits =
        commit_history(&p.placed, &batches, |i, _| consumed[i].unwrap_or(i64::MAX));
    if let Some(group) = capture.groups.first_mut() {
        group.commits = builder_commits;
    }
    // risk-features reads orders and clicks as they arrive, committing every batch, until it
    // stopped.
    let stopped = config.end_ms - RISK_STALLED_MS;
    let read = [config.topic("orders"), config.topic("clicks")];
    let risk_batches: Vec<i64> = batches.iter().copied().filter(|t| *t <= stopped).collect();
    let mut risk_commits = commit_history(&p.placed, &risk_batches, |_, e| e.event.broker_ms);
    risk_commits.retain(|c| read.contains(&c.topic));
    capture.groups.push(CapturedGroup {
        name: config.risk_group.clone(),
        state: "Empty".into(),
        offsets: risk_offsets(config, &p.placed),
        commits: risk_commits,
    });
    let captured = started.elapsed();
    let stale = stale_customers(config, &capture, &p.spec, &behind, 6);
    log::debug!(
        "demo data: builder {folded:?}, capture {:?}, stale customers {:?}",
        captured - folded,
        started.elapsed() - captured
    );
    let Prepared {
        config,
        spec,
        spec_text,
        placed,
        ..
    } = p;
    // Freeing every generated payload takes a while; whoever waits for the demo need not.
    let freeing = Some(std::thread::spawn(move || drop(placed)));
    Demo {
        config,
        capture,
        spec,
        spec_text,
        stale,
        freeing,
    }
}

fn partition_of(key: &str, partitions: i32) -> i32 {
    Partitioner::Murmur2.partitions_for(key.as_bytes(), partitions)[0]
}

/// Partitions by key, then numbers each partition's records in broker-time order.
fn place(config: &DemoConfig, events: Vec<workload::SourceEvent>) -> Vec<Placed> {
    let partitions: Vec<i32> = events
        .par_iter()
        .map(|e| partition_of(&e.key, config.partitions))
        .collect();
    // Sorting indices, not the events: moving 200,000 events around costs more than comparing.
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.par_sort_unstable_by(|&a, &b| {
        let (x, y) = (&events[a], &events[b]);
        (x.source, partitions[a], x.broker_ms, &x.key, a).cmp(&(
            y.source,
            partitions[b],
            y.broker_ms,
            &y.key,
            b,
        ))
    });
    let topics: Vec<String> = SOURCES.iter().map(|s| config.topic(s)).collect();
    let mut events: Vec<Option<workload::SourceEvent>> = events.into_iter().map(Some).collect();
    let mut next: HashMap<(usize, i32), i64> = HashMap::new();
    order
        .into_iter()
        .filter_map(|i| {
            let event = events[i].take()?;
            let n = next.entry((event.source, partitions[i])).or_insert(0);
            let offset = *n;
            *n += 1;
            Some(Placed {
                topic: topics[event.source].clone(),
                partition: partitions[i],
                offset,
                event,
            })
        })
        .collect()
}

/// A group's commits at each of `times`: per partition, the first offset it had not read by
/// then (`read_at(i, event)`: when placed event `i` counts as read; `i64::MAX` for never).
fn commit_history(
    placed: &[Placed],
    times: &[i64],
    read_at: impl Fn(usize, &Placed) -> i64,
) -> Vec<RecordedCommit> {
    let mut by_partition: BTreeMap<(&str, i32), Vec<(i64, i64)>> = BTreeMap::new();
    for (i, p) in placed.iter().enumerate() {
        by_partition
            .entry((p.topic.as_str(), p.partition))
            .or_default()
            .push((p.offset, read_at(i, p)));
    }
    let mut commits = Vec::new();
    for ((topic, partition), mut events) in by_partition {
        events.sort_unstable();
        // A record counts as read only once every record before it is: the position is the
        // first record not read, whatever came after it.
        let mut read_by = Vec::with_capacity(events.len());
        let mut latest = i64::MIN;
        for (_, at) in &events {
            latest = latest.max(*at);
            read_by.push(latest);
        }
        let high = events.last().map_or(0, |(offset, _)| offset + 1);
        for &t in times {
            let i = read_by.partition_point(|at| *at <= t);
            commits.push(RecordedCommit {
                topic: topic.to_owned(),
                partition,
                offset: events.get(i).map_or(high, |(offset, _)| *offset),
                commit_ms: t,
            });
        }
    }
    commits.sort_by_key(|c| c.commit_ms);
    commits
}

/// How long each demo topic keeps its records, as its topic configuration says: identity and
/// the store are compacted, consent kept forever, clicks for 8 hours, the rest a week.
pub fn topic_configs(config: &DemoConfig) -> Vec<(String, Vec<(String, String)>)> {
    let entry = |name: &str, pairs: &[(&str, &str)]| {
        let pairs = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        (config.topic(name), pairs)
    };
    let week = "604800000";
    vec![
        entry("identity", &[("cleanup.policy", "compact")]),
        entry(
            "consent",
            &[("cleanup.policy", "delete"), ("retention.ms", "-1")],
        ),
        entry(
            "orders",
            &[("cleanup.policy", "delete"), ("retention.ms", week)],
        ),
        entry(
            "clicks",
            &[("cleanup.policy", "delete"), ("retention.ms", "28800000")],
        ),
        entry(
            "support",
            &[("cleanup.policy", "delete"), ("retention.ms", week)],
        ),
        entry("profiles", &[("cleanup.policy", "compact")]),
    ]
}

/// The risk-features group stopped committing hours ago, on orders and clicks.
fn risk_offsets(config: &DemoConfig, placed: &[Placed]) -> BTreeMap<(String, i32), i64> {
    let stopped = config.end_ms - RISK_STALLED_MS;
    let read = [config.topic("orders"), config.topic("clicks")];
    let mut offsets = BTreeMap::new();
    for p in placed.iter().filter(|p| read.contains(&p.topic)) {
        let slot = offsets.entry((p.topic.clone(), p.partition)).or_insert(0);
        if p.event.broker_ms <= stopped {
            *slot = (*slot).max(p.offset + 1);
        }
    }
    offsets
}

/// A value as its producer writes it: JSON, behind Confluent's header where it has a schema id.
fn framed(schema_id: Option<u32>, value: &serde_json::Value) -> Vec<u8> {
    let mut bytes = match schema_id {
        Some(id) => [&[crate::codec::CONFLUENT_MAGIC][..], &id.to_be_bytes()].concat(),
        None => Vec::new(),
    };
    serde_json::to_writer(&mut bytes, value).unwrap_or_default();
    bytes
}

fn record(
    topic: &str,
    partition: i32,
    offset: i64,
    timestamp_ms: i64,
    key: &str,
    value: Vec<u8>,
) -> Record {
    Record {
        topic: topic.to_owned(),
        partition,
        offset,
        timestamp_ms: Some(timestamp_ms),
        timestamp_kind: TimestampKind::CreateTime,
        key: Some(key.as_bytes().to_vec()),
        value: Some(value),
        headers: Vec::new(),
    }
}

/// Looks candidates up the way a user would and names the fields the lookup finds stale for
/// the reason the customer was picked: half behind a stalled partition for longer than the
/// budget, half with a consent change the builder dropped.
fn stale_customers(
    config: &DemoConfig,
    capture: &Capture,
    spec: &Spec,
    candidates: &[(usize, builder::Behind)],
    want: usize,
) -> Vec<StaleCustomer> {
    let Ok(decoder) = crate::profile::SourceDecoder::new(spec, None) else {
        return Vec::new();
    };
    let mut found_customers = Vec::new();
    for reason in [builder::Behind::Stalled, builder::Behind::Dropped] {
        let explained = candidates
            .iter()
            .filter(|(_, r)| *r == reason)
            .filter_map(|&(c, _)| explain(config, capture, spec, &decoder, c, reason))
            .take(want.div_ceil(2));
        found_customers.extend(explained.map(|(stale, _)| stale));
    }
    found_customers
}

/// Customer `c` looked up as a user would, with the fields the lookup finds stale for
/// `reason`; `None` when the lookup does not show it (fields only seconds behind, events in
/// flight, are left out; a stalled example shows one cause only, so it does not read as two
/// problems).
fn explain(
    config: &DemoConfig,
    capture: &Capture,
    spec: &Spec,
    decoder: &crate::profile::SourceDecoder,
    c: usize,
    reason: builder::Behind,
) -> Option<(StaleCustomer, crate::profile::Lookup)> {
    let budget_ms = spec.budget.ms();
    let consent = config.topic("consent");
    let key = customer_id(c);
    let request = LookupRequest::new(spec, decoder, &key, capture.captured_at_ms);
    let found = lookup(capture, &request).ok()?;
    let stale: Vec<&StaleField> = found.store.iter().flat_map(|s| &s.stale).collect();
    if reason == builder::Behind::Stalled && stale.iter().any(|f| f.cause.consumed_not_applied()) {
        return None;
    }
    let fields: Vec<(String, String)> = stale
        .into_iter()
        .filter(|f| match reason {
            builder::Behind::Stalled => f.behind_ms >= budget_ms && f.cause.not_consumed(),
            builder::Behind::Dropped => {
                f.pending.topic == consent && f.cause.consumed_not_applied()
            }
        })
        .map(|f| (f.field.clone(), f.cause.to_string()))
        .collect();
    (!fields.is_empty()).then_some((StaleCustomer { key, fields }, found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{CaptureFormat, write_capture};

    fn small(seed: u64) -> DemoConfig {
        DemoConfig {
            customers: 60,
            events: 3_000,
            seed,
            ..DemoConfig::new(1_800_000_000_000)
        }
    }

    fn bytes(demo: &Demo) -> Vec<u8> {
        let mut out = Vec::new();
        write_capture(&demo.capture, &mut out, CaptureFormat::Freshlens, false).unwrap();
        out
    }

    /// The customer explained first, from its own partitions, is the whole demo's first stale
    /// customer, and its lookup there answers exactly as in the whole demo.
    #[test]
    fn the_first_stale_customer_alone_answers_as_in_the_whole_demo() {
        for seed in [7, 11, 23, 42] {
            let config = DemoConfig {
                customers: 400,
                events: 30_000,
                seed,
                ..DemoConfig::new(1_800_000_000_000)
            };
            let first = first_stale(&prepare(&config).unwrap()).expect("a stale customer");
            let demo = generate(&config).unwrap();
            assert_eq!(Some(&first.stale), demo.stale.first(), "seed {seed}");
            let decoder = crate::profile::SourceDecoder::new(&demo.spec, None).unwrap();
            let whole = lookup(
                &demo.capture,
                &LookupRequest::new(&demo.spec, &decoder, &first.stale.key, config.end_ms),
            )
            .unwrap();
            let alone = &first.lookup;
            assert_eq!(alone.timeline.identities, whole.timeline.identities);
            assert_eq!(alone.timeline.events, whole.timeline.events);
            assert_eq!(
                alone.timeline.scanned.records,
                whole.timeline.scanned.records
            );
            assert_eq!(alone.timeline.scanned.bytes, whole.timeline.scanned.bytes);
            assert_eq!(
                alone.timeline.scanned.partitions,
                whole.timeline.scanned.partitions
            );
            assert_eq!(alone.versions, whole.versions);
            assert_eq!(format!("{:?}", alone.store), format!("{:?}", whole.store));
        }
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = generate(&small(1)).unwrap();
        let b = generate(&small(1)).unwrap();
        assert_eq!(bytes(&a), bytes(&b));
        assert_ne!(bytes(&a), bytes(&generate(&small(2)).unwrap()));
        assert_eq!(a.stale, b.stale);
    }

    #[test]
    fn only_dropped_consent_changes_read_as_consumed_but_not_applied() {
        let demo = generate(&small(5)).unwrap();
        let decoder = crate::profile::SourceDecoder::new(&demo.spec, None).unwrap();
        let consent = demo.config.topic("consent");
        let (mut unread, mut renamed) = (0, 0);
        for customer in 0..demo.config.customers {
            let key = workload::customer_id(customer);
            let request =
                LookupRequest::new(&demo.spec, &decoder, &key, demo.capture.captured_at_ms);
            let found = lookup(&demo.capture, &request).unwrap();
            for field in found.store.iter().flat_map(|s| &s.stale) {
                if field.cause.not_consumed() {
                    unread += 1;
                } else if let crate::profile::Cause::SchemaChange(change) = &field.cause {
                    // The one producer that renamed `email`: named as such, not as dropped.
                    assert_eq!(
                        (field.field.as_str(), change.schema_id, customer % 50),
                        ("email", workload::RENAMED_SCHEMA, 17),
                        "{key}: {field:?}"
                    );
                    renamed += 1;
                } else {
                    // The builder skips consent changes only; everything else it reads, it
                    // applies, so any other stale field is one it has not read yet.
                    assert_eq!(field.pending.topic, consent, "{key}: {field:?}");
                }
            }
        }
        assert!(
            unread > 0,
            "the stalled partitions leave some fields unread"
        );
        assert!(renamed > 0, "the renamed e-mail is named a schema change");
    }

    /// Groups are named under the prefix as topics are, and the spec written for a prefix reads
    /// the builder group the data commits; a builder group named otherwise is kept as named.
    #[test]
    fn groups_are_named_under_the_prefix_as_topics_are() {
        for prefix in ["c360", "p2"] {
            let demo = generate(&DemoConfig {
                customers: 30,
                events: 800,
                partitions: 2,
                ..DemoConfig::under(prefix, 1_800_000_000_000)
            })
            .unwrap();
            let names: Vec<&str> = demo
                .capture
                .groups
                .iter()
                .map(|g| g.name.as_str())
                .collect();
            assert_eq!(
                names,
                [
                    format!("{prefix}.profile-builder"),
                    format!("{prefix}.risk-features")
                ]
            );
            let store = demo.spec.store.as_ref().unwrap();
            assert_eq!(store.builder_group.as_deref(), Some(names[0]));
            // The contract lets the builder's principal read the e-mail, under its own name.
            let readers = &demo.spec.contract.readers["email"];
            assert!(
                readers.contains(&format!("User:{}", names[0])),
                "{readers:?}"
            );
            for group in &demo.capture.groups {
                for (topic, _) in group.offsets.keys() {
                    assert!(topic.starts_with(&format!("{prefix}.")), "{topic}");
                }
            }
        }
        let text = spec_text("p2", "c360.other");
        assert!(text.contains("builder_group = \"c360.other\""), "{text}");
        assert!(text.contains("\"User:c360.other\""), "{text}");
        assert!(text.contains("topic = \"p2.orders\""), "{text}");
        assert!(!text.contains("\"c360.orders\""), "{text}");
    }

    #[test]
    fn the_workload_has_what_the_demo_promises() {
        let demo = generate(&small(3)).unwrap();
        let sources: usize = SOURCES
            .iter()
            .map(|s| {
                demo.capture.topics[&demo.config.topic(s)]
                    .values()
                    .map(|p| p.records.len())
                    .sum::<usize>()
            })
            .sum();
        // The workload's events, and one in forty more for the burst.
        assert!(
            sources > 2_900 && sources <= 3_000 + 3_000 / 40,
            "{sources} source events"
        );
        let store = &demo.capture.topics["c360.profiles"];
        assert!(store.values().map(|p| p.records.len()).sum::<usize>() > 60);
        assert_eq!(demo.capture.groups.len(), 2);
        let builder = &demo.capture.groups[0];
        // A stalled partition: the builder's commit is below its high watermark.
        let orders = &demo.capture.topics["c360.orders"][&3];
        assert!(builder.offsets[&("c360.orders".to_owned(), 3)] < orders.high);
        assert!(!demo.stale.is_empty(), "some customers are stale");
        assert!(
            demo.stale.iter().any(|c| c
                .fields
                .iter()
                .any(|(_, cause)| cause.starts_with("not consumed yet"))),
            "{:?}",
            demo.stale
        );
    }
}
