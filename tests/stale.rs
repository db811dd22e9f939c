//! `freshlens stale` on a seeded workload with the builder stalled on two partitions: the
//! census names exactly the customers with records after the builder's committed offsets,
//! computed here from the records produced and the group's offsets, linked ids resolved, and
//! counts per partition exact. Runs on the broker (Tansu in CI) or an in-memory capture.
//! Tansu 0.6.0 answers 0 to ListOffsets by time, so the sources' produce rate is not asserted.

use std::collections::{BTreeMap, BTreeSet};

use freshlens::profile::Partitioner;
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Value, json};

use crate::fixtures::{Target, TestRecord, freshlens_json, t0, unique_topic};

const PARTITIONS: i32 = 4;

fn partition(key: &str) -> i32 {
    Partitioner::Murmur2.partitions_for(key.as_bytes(), PARTITIONS)[0]
}

#[test]
fn the_census_names_exactly_the_customers_after_the_builders_commits() {
    let target = Target::new();
    let prefix = unique_topic("stale");
    let (identity, clicks, orders, profiles) = (
        format!("{prefix}.identity"),
        format!("{prefix}.clicks"),
        format!("{prefix}.orders"),
        format!("{prefix}.profiles"),
    );
    for topic in [&identity, &clicks, &orders, &profiles] {
        target.create_topic(topic, PARTITIONS);
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(15);
    let start = t0();
    let customers: Vec<String> = (0..24).map(|i| format!("cust-{i:02}")).collect();
    let anon = |c: &str| c.replace("cust", "anon");
    let identities: Vec<TestRecord> = customers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let value = json!({"anonymous_id": anon(c)}).to_string();
            TestRecord::new(partition(c), c, &value, start + i as i64 * 1000)
        })
        .collect();
    let identity_ends = target.produce(&identity, &identities);
    // (topic, partition, offset) → customer, for every event written.
    let mut written: Vec<(String, i32, i64, String)> = Vec::new();
    for n in 0..80 {
        let customer = &customers[rng.random_range(0..customers.len())];
        let at = start + 60_000 + n * 1000;
        let (topic, key) = if rng.random_bool(0.6) {
            (&clicks, anon(customer))
        } else {
            (&orders, customer.clone())
        };
        let value = json!({"ts": at, "n": n}).to_string();
        let placed = target.produce(topic, &[TestRecord::new(partition(&key), &key, &value, at)]);
        let (p, offset) = placed[0];
        written.push((topic.clone(), p, offset, customer.clone()));
    }
    let stored: Vec<TestRecord> = customers
        .iter()
        .map(|c| {
            let value = json!({"updated_at": start + 200_000, "profile": {"orders": 0}});
            TestRecord::new(partition(c), c, &value.to_string(), start + 200_000)
        })
        .collect();
    target.produce(&profiles, &stored);

    // The builder read everything but two partitions, where it stopped halfway.
    let high = |topic: &str, p: i32| {
        written
            .iter()
            .filter(|w| w.0 == topic && w.1 == p)
            .map(|w| w.2 + 1)
            .max()
            .unwrap_or(0)
    };
    let stalled = [(clicks.clone(), 1), (orders.clone(), 2)];
    let mut commits: Vec<(String, i32, i64)> = Vec::new();
    for topic in [&clicks, &orders] {
        for p in 0..PARTITIONS {
            let end = high(topic, p);
            let at = if stalled.contains(&(topic.clone(), p)) {
                end / 2
            } else {
                end
            };
            commits.push((topic.clone(), p, at));
        }
    }
    for p in 0..PARTITIONS {
        let end = identity_ends
            .iter()
            .filter(|(q, _)| *q == p)
            .map(|(_, o)| o + 1)
            .max();
        commits.push((identity.clone(), p, end.unwrap_or(0)));
    }
    let group = format!("{prefix}-builder");
    let borrowed: Vec<(&str, i32, i64)> = commits
        .iter()
        .map(|(t, p, o)| (t.as_str(), *p, *o))
        .collect();
    target.commit(&group, &borrowed);

    let committed: BTreeMap<(String, i32), i64> = commits
        .iter()
        .map(|(t, p, o)| ((t.clone(), *p), *o))
        .collect();
    let mut expected = BTreeSet::new();
    let mut per_partition: BTreeMap<(String, i32), BTreeSet<String>> = BTreeMap::new();
    for (topic, p, offset, customer) in &written {
        if *offset >= committed[&(topic.clone(), *p)] {
            expected.insert(customer.clone());
            per_partition
                .entry((topic.clone(), *p))
                .or_default()
                .insert(customer.clone());
        }
    }
    assert!(
        !expected.is_empty(),
        "the stalled partitions hold pending events"
    );

    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("c.toml");
    std::fs::write(
        &spec,
        format!(
            r#"name = "customer"
budget = "1m"
[[source]]
topic = "{identity}"
links = ["/anonymous_id"]
[[source]]
topic = "{clicks}"
event_time = "/ts"
[[source]]
topic = "{orders}"
event_time = "/ts"
[[field]]
name = "orders"
topic = "{orders}"
path = "/n"
rule = "count"
[store]
topic = "{profiles}"
updated_at = "/updated_at"
fields = "/profile"
builder_group = "{group}"
"#
        ),
    )
    .unwrap();
    let mut args = target.args();
    args.extend(
        [
            "stale",
            "--spec",
            spec.to_str().unwrap(),
            "--json",
            "--sample",
            "8",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let doc = freshlens_json(&args);

    let got: BTreeSet<String> = doc["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, expected, "linked anon ids resolve to their customer");
    for c in doc["customers"].as_array().unwrap() {
        assert_eq!(c["cause"], "not consumed yet");
        for field in [
            "pending_since_ms",
            "behind_ms",
            "topic",
            "partition",
            "offset",
        ] {
            assert!(!c[field].is_null(), "{field} in {c}");
        }
    }
    let by_partition: BTreeMap<(String, i32), u64> = doc["not_consumed"]["by_partition"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let key = (
                t["topic"].as_str().unwrap().to_owned(),
                t["partition"].as_i64().unwrap() as i32,
            );
            (key, t["customers"].as_u64().unwrap())
        })
        .collect();
    let wanted: BTreeMap<(String, i32), u64> = per_partition
        .iter()
        .map(|(k, v)| (k.clone(), v.len() as u64))
        .collect();
    assert_eq!(by_partition, wanted);
    assert_eq!(doc["not_consumed"]["customers"], json!(expected.len()));
    assert_eq!(doc["not_consumed"]["unresolved_keys"], json!([]));
    // Events are hours old against a 1m budget: every pending customer is over it.
    assert_eq!(doc["not_consumed"]["over_budget"], json!(expected.len()));
    assert_eq!(doc["store"]["keys"], json!(customers.len()));
    assert_eq!(doc["sample"]["n"], json!(8));
    let verdict = &doc["verdict"];
    assert_eq!(verdict["within_budget"], Value::Bool(false));
    assert_eq!(verdict["breaking_hop"], json!(group));
    for hop in doc["chain"].as_array().unwrap() {
        for field in ["hop", "kind", "within_budget"] {
            assert!(!hop[field].is_null(), "{field} in {hop}");
        }
    }
}

/// The demo's world, small: its builder is stalled on some partitions and drops some consent
/// changes.
fn small_demo() -> freshlens::demo::Demo {
    let config = freshlens::demo::DemoConfig {
        customers: 150,
        events: 12_000,
        ..freshlens::demo::DemoConfig::new(1_795_000_000_000)
    };
    freshlens::demo::generate(&config).unwrap()
}

/// The small demo, its decoder and its store's age.
fn small_demo_store() -> (
    freshlens::demo::Demo,
    freshlens::profile::SourceDecoder,
    freshlens::freshness::StoreAge,
) {
    let demo = small_demo();
    let decoder = freshlens::profile::SourceDecoder::new(&demo.spec, None).unwrap();
    let cancel = freshlens::cluster::CancelToken::default();
    let now = demo.capture.captured_at_ms;
    let age =
        freshlens::freshness::store_age(&demo.capture, &demo.spec, &decoder, now, &cancel).unwrap();
    (demo, decoder, age)
}

/// On the demo: the census names exactly the customers with records after the builder's
/// committed offsets, computed here from the capture's records and the group's offsets, with
/// linked ids mapped through the identity records.
#[test]
fn the_demo_census_is_the_records_after_the_commits() {
    let demo = small_demo();
    let (capture, spec) = (&demo.capture, &demo.spec);
    let builder = spec.store.as_ref().unwrap().builder_group.clone().unwrap();
    let offsets = &capture
        .groups
        .iter()
        .find(|g| g.name == builder)
        .unwrap()
        .offsets;
    let mut alias = std::collections::HashMap::new();
    for src in spec.sources.iter().filter(|s| !s.links.is_empty()) {
        for record in capture.records().filter(|r| r.topic == src.topic) {
            let key = String::from_utf8(record.key.clone().unwrap()).unwrap();
            // The identity topic is JSON behind Confluent's header (its JSON Schema id).
            let bytes = record.value.as_deref().unwrap();
            let body = freshlens::codec::confluent_frame(bytes).map_or(bytes, |(_, body)| body);
            let value: Value = serde_json::from_slice(body).unwrap();
            for pointer in &src.links {
                if let Some(id) = value.pointer(pointer).and_then(Value::as_str) {
                    alias.insert(id.to_owned(), key.clone());
                }
            }
        }
    }
    let mut expected = BTreeSet::new();
    let mut per_partition: BTreeMap<(String, i32), BTreeSet<String>> = BTreeMap::new();
    for src in &spec.sources {
        for record in capture.records().filter(|r| r.topic == src.topic) {
            let tp = (record.topic.clone(), record.partition);
            if record.offset < offsets.get(&tp).copied().unwrap_or(0) {
                continue;
            }
            let key = String::from_utf8(record.key.clone().unwrap()).unwrap();
            let customer = alias.get(&key).cloned().unwrap_or(key);
            per_partition
                .entry(tp)
                .or_default()
                .insert(customer.clone());
            expected.insert(customer);
        }
    }
    assert!(
        !expected.is_empty(),
        "the demo's builder is behind somewhere"
    );
    let decoder = freshlens::profile::SourceDecoder::new(spec, None).unwrap();
    let cancel = freshlens::cluster::CancelToken::default();
    let census =
        freshlens::freshness::census(capture, spec, &decoder, capture.captured_at_ms, &cancel)
            .unwrap();
    let got: BTreeSet<String> = census.customers.iter().map(|c| c.key.clone()).collect();
    assert_eq!(got, expected);
    let counted: BTreeMap<(String, i32), usize> = census
        .by_partition
        .iter()
        .map(|t| ((t.topic.clone(), t.partition), t.customers))
        .collect();
    let wanted: BTreeMap<(String, i32), usize> = per_partition
        .into_iter()
        .map(|(tp, c)| (tp, c.len()))
        .collect();
    assert_eq!(counted, wanted);
    assert!(
        census.unresolved_keys.is_empty(),
        "{:?}",
        census.unresolved_keys
    );
}

/// Sampling every customer of the demo finds each one the demo dropped a consent change for
/// (its own list of stale customers, from the builder that dropped them).
#[test]
fn the_sample_finds_the_demos_dropped_consent_customers() {
    let (demo, decoder, age) = small_demo_store();
    let now = demo.capture.captured_at_ms;
    let cancel = freshlens::cluster::CancelToken::default();
    let keys = freshlens::freshness::pick_keys(&age.profile_keys, usize::MAX, 1);
    let sample = freshlens::freshness::sample_store(
        &demo.capture,
        &demo.spec,
        &decoder,
        &keys,
        now,
        &cancel,
        &|_| {},
    );
    let dropped: Vec<&String> = demo
        .stale
        .iter()
        .filter(|c| {
            c.fields
                .iter()
                .any(|(_, cause)| cause.contains("not applied"))
        })
        .map(|c| &c.key)
        .collect();
    assert!(!dropped.is_empty(), "the demo drops some consent changes");
    for key in dropped {
        assert!(sample.keys.contains(key), "{key} not in {:?}", sample.keys);
    }
    assert_eq!(sample.n, age.keys);
    assert!(sample.failed.is_empty(), "{:?}", sample.failed);
    let [lo, hi] = sample.ci95;
    assert!(lo <= sample.share && sample.share <= hi);
}

/// On the demo the builder is stalled for hours: the chain breaks at the builder, and the
/// sources are measured.
#[test]
fn the_demo_chain_breaks_at_its_builder() {
    let (demo, decoder, age) = small_demo_store();
    let now = demo.capture.captured_at_ms;
    let cancel = freshlens::cluster::CancelToken::default();
    let hops = freshlens::freshness::chain(
        &demo.capture,
        &demo.spec,
        Some(&age),
        None,
        &decoder,
        now,
        &cancel,
    )
    .unwrap();
    let kinds: Vec<&str> = hops.iter().map(|h| h.kind).collect();
    let sources = kinds.iter().filter(|k| **k == "source").count();
    assert_eq!(sources, demo.spec.sources.len());
    assert_eq!(&kinds[kinds.len() - 2..], ["builder", "store"]);
    let builder = &hops[kinds.len() - 2];
    let budget = demo.spec.budget.ms();
    assert!(builder.value_ms.unwrap() > budget, "{builder:?}");
    // Every source has a produce rate and an ingest delay: the demo's events reach the broker
    // about 2 s after they happen, on every topic, up to its last minute.
    for hop in hops.iter().filter(|h| h.kind == "source") {
        assert!(hop.produce_per_sec.is_some(), "{hop:?}");
        assert!(hop.value_ms.is_some_and(|ms| ms < 60_000), "{hop:?}");
    }
    assert!(
        hops.iter()
            .any(|h| h.produce_per_sec.is_some_and(|r| r > 0.0)),
        "{hops:?}"
    );
    let verdict = freshlens::freshness::verdict(&hops);
    assert_eq!(verdict.breaking_hop.as_deref(), Some(builder.hop.as_str()));
}

/// Looking many customers up at once gives each the answer its own lookup gives: the same
/// events in the same order, the same identities, store versions and store diff. Tried on
/// every customer of the demo (linked ids and shared partitions included) and on customers
/// no record names.
#[test]
fn a_batched_lookup_answers_each_customer_as_its_own_lookup_does() {
    let (demo, decoder, age) = small_demo_store();
    let now = demo.capture.captured_at_ms;
    let cancel = freshlens::cluster::CancelToken::default();
    let mut keys: std::collections::BTreeSet<String> = age.profile_keys.iter().cloned().collect();
    keys.insert("cust-nobody".into());
    let batch = freshlens::profile::lookup_many(
        &demo.capture,
        &demo.spec,
        &decoder,
        &keys,
        now,
        &cancel,
        &|_| {},
    )
    .unwrap();
    assert_eq!(batch.len(), keys.len());
    let mut linked = 0;
    for (key, many) in &batch {
        let request = freshlens::profile::LookupRequest::new(&demo.spec, &decoder, key, now);
        let one = freshlens::profile::lookup(&demo.capture, &request).unwrap();
        assert_eq!(many.timeline.events, one.timeline.events, "{key}");
        let sorted = |ids: &[String]| {
            let mut ids = ids.to_vec();
            ids.sort();
            ids
        };
        assert_eq!(
            sorted(&many.timeline.identities),
            sorted(&one.timeline.identities),
            "{key}"
        );
        assert_eq!(many.timeline.undecodable, one.timeline.undecodable, "{key}");
        assert_eq!(
            many.timeline.unreadable_event_times, one.timeline.unreadable_event_times,
            "{key}"
        );
        assert_eq!(many.versions, one.versions, "{key}");
        assert_eq!(many.store, one.store, "{key}");
        linked += usize::from(one.timeline.identities.len() > 1);
    }
    assert!(linked > 10, "the demo links anonymous and device ids");
}
