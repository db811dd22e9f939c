//! `freshlens rebuild --rehearse` on a scripted world whose store the test builds itself from
//! the events it writes, then breaks three ways: some customers' profiles were built from
//! orders never put on the source topic (history the log no longer holds: Tansu 0.6.0 has no
//! DeleteRecords, so "deleted" history is history never written), the builder stalled halfway
//! through one orders partition (its customers' profiles lack what follows), and one profile's
//! page was tampered with. The rehearsal must name exactly those customers, by class; a slice
//! of partitions must give exactly the full run's answers for its customers. Runs on the broker
//! (Tansu in CI) or an in-memory capture.

use std::collections::{BTreeMap, BTreeSet};

use freshlens::profile::Partitioner;
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Value, json};

use crate::fixtures::{Target, TestRecord, freshlens_json, t0, unique_topic};

const PARTITIONS: i32 = 4;

fn partition(key: &str) -> i32 {
    Partitioner::Murmur2.partitions_for(key.as_bytes(), PARTITIONS)[0]
}

/// An order or a click the test wrote: (topic, partition, offset, customer, value).
struct Written {
    topic: String,
    partition: i32,
    offset: i64,
    customer: String,
    value: Value,
}

struct World {
    target: Target,
    spec: std::path::PathBuf,
    _dir: tempfile::TempDir,
    customers: Vec<String>,
    ahead: BTreeSet<String>,
    behind: BTreeSet<String>,
    tampered: String,
}

fn world() -> World {
    let target = Target::new();
    let prefix = unique_topic("rebuild");
    let (identity, clicks, orders, profiles) = (
        format!("{prefix}.identity"),
        format!("{prefix}.clicks"),
        format!("{prefix}.orders"),
        format!("{prefix}.profiles"),
    );
    for topic in [&identity, &clicks, &orders, &profiles] {
        target.create_topic(topic, PARTITIONS);
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(16);
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
    target.produce(&identity, &identities);
    let mut written = Vec::new();
    for n in 0..90 {
        let customer = customers[rng.random_range(0..customers.len())].clone();
        let at = start + 60_000 + n * 1000;
        let (topic, key, value) = if rng.random_bool(0.5) {
            let page = ["/", "/help", "/cart", "/p/shoes"][rng.random_range(0..4)];
            (&clicks, anon(&customer), json!({"ts": at, "page": page}))
        } else {
            let amount = rng.random_range(1..500) as f64 / 4.0;
            (
                &orders,
                customer.clone(),
                json!({"ts": at, "order": n, "amount": amount}),
            )
        };
        let record = TestRecord::new(partition(&key), &key, &value.to_string(), at);
        let (p, offset) = target.produce(topic, &[record])[0];
        written.push(Written {
            topic: topic.clone(),
            partition: p,
            offset,
            customer,
            value,
        });
    }
    // The builder stalled halfway through the busiest orders partition.
    let busiest = (0..PARTITIONS)
        .max_by_key(|p| {
            written
                .iter()
                .filter(|w| w.topic == orders && w.partition == *p)
                .count()
        })
        .unwrap();
    let end = |topic: &str, p: i32| {
        written
            .iter()
            .filter(|w| w.topic == topic && w.partition == p)
            .map(|w| w.offset + 1)
            .max()
            .unwrap_or(0)
    };
    let mut commits = Vec::new();
    for topic in [&clicks, &orders] {
        for p in 0..PARTITIONS {
            let at = if *topic == orders && p == busiest {
                end(topic, p) / 2
            } else {
                end(topic, p)
            };
            commits.push((topic.clone(), p, at));
        }
    }
    let committed: BTreeMap<(String, i32), i64> = commits
        .iter()
        .map(|(t, p, o)| ((t.clone(), *p), *o))
        .collect();
    let consumed = |w: &Written| w.offset < committed[&(w.topic.clone(), w.partition)];
    let behind: BTreeSet<String> = written
        .iter()
        .filter(|w| w.topic == orders && !consumed(w))
        .map(|w| w.customer.clone())
        .collect();
    assert!(!behind.is_empty(), "the stalled partition holds orders");
    // Ahead and tampered customers are picked away from the stall, and must have orders.
    let with_orders: BTreeSet<String> = written
        .iter()
        .filter(|w| w.topic == orders)
        .map(|w| w.customer.clone())
        .collect();
    let with_clicks: BTreeSet<String> = written
        .iter()
        .filter(|w| w.topic == clicks)
        .map(|w| w.customer.clone())
        .collect();
    let calm: Vec<&String> = customers
        .iter()
        .filter(|c| !behind.contains(*c) && with_orders.contains(*c))
        .collect();
    let ahead: BTreeSet<String> = calm.iter().take(3).map(|c| (*c).clone()).collect();
    let tampered = customers
        .iter()
        .find(|c| !behind.contains(*c) && !ahead.contains(*c) && with_clicks.contains(*c))
        .unwrap()
        .clone();
    // The store, as the builder wrote it: everything it consumed, plus, for `ahead`, two
    // orders of 100 the log never held.
    let stored: Vec<TestRecord> = customers
        .iter()
        .map(|c| {
            let mine = written.iter().filter(|w| &w.customer == c && consumed(w));
            let (mut orders_n, mut spent, mut page) = (0u64, 0f64, None);
            for w in mine {
                if w.topic == orders {
                    orders_n += 1;
                    spent += w.value["amount"].as_f64().unwrap();
                } else {
                    page = Some(w.value["page"].clone());
                }
            }
            if ahead.contains(c) {
                orders_n += 2;
                spent += 200.0;
            }
            if *c == tampered {
                page = Some(json!("/tampered"));
            }
            let mut profile = json!({});
            if orders_n > 0 {
                profile["orders"] = json!(orders_n);
                profile["spent"] = json!(spent);
            }
            if let Some(page) = page {
                profile["page"] = page;
            }
            let value = json!({"updated_at": start + 200_000, "profile": profile});
            TestRecord::new(partition(c), c, &value.to_string(), start + 200_000)
        })
        .collect();
    target.produce(&profiles, &stored);
    let group = format!("{prefix}-builder");
    let borrowed: Vec<(&str, i32, i64)> = commits
        .iter()
        .map(|(t, p, o)| (t.as_str(), *p, *o))
        .collect();
    target.commit(&group, &borrowed);

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
path = "/order"
rule = "count"
[[field]]
name = "spent"
topic = "{orders}"
path = "/amount"
rule = "sum"
[[field]]
name = "page"
topic = "{clicks}"
path = "/page"
rule = "last"
[store]
topic = "{profiles}"
updated_at = "/updated_at"
fields = "/profile"
builder_group = "{group}"
"#
        ),
    )
    .unwrap();
    World {
        target,
        spec,
        _dir: dir,
        customers,
        ahead,
        behind,
        tampered,
    }
}

fn rehearse(world: &World, extra: &[&str]) -> Value {
    let mut args = world.target.args();
    args.extend(
        [
            "rebuild",
            "--spec",
            world.spec.to_str().unwrap(),
            "--rehearse",
            "--json",
            "--examples",
            "100",
        ]
        .map(String::from),
    );
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    freshlens_json(&args)
}

/// (field, class) → the customers the rehearsal names.
fn named(doc: &Value) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for (field, result) in doc["rehearsal"]["fields"].as_object().unwrap() {
        for e in result["examples"].as_array().unwrap() {
            out.entry((field.clone(), e["class"].as_str().unwrap().to_owned()))
                .or_default()
                .insert(e["key"].as_str().unwrap().to_owned());
        }
    }
    out
}

#[test]
fn the_rehearsal_names_ahead_behind_and_different_customers_exactly() {
    let world = world();
    let doc = rehearse(&world, &[]);
    let r = &doc["rehearsal"];
    assert_eq!(r["customers"], json!(world.customers.len()));
    let got = named(&doc);
    let set = |field: &str, class: &str| {
        got.get(&(field.to_owned(), class.to_owned()))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(set("orders", "store_ahead"), world.ahead);
    assert_eq!(set("spent", "store_ahead"), world.ahead);
    assert_eq!(set("orders", "store_behind"), world.behind);
    assert_eq!(set("spent", "store_behind"), world.behind);
    assert_eq!(
        set("page", "different"),
        BTreeSet::from([world.tampered.clone()])
    );
    for field in ["orders", "spent"] {
        assert!(set(field, "different").is_empty(), "{field}: {got:?}");
        assert_eq!(r["fields"][field]["store_ahead"], json!(world.ahead.len()));
        assert_eq!(
            r["fields"][field]["store_behind"],
            json!(world.behind.len())
        );
    }
    assert!(set("page", "store_ahead").is_empty() && set("page", "store_behind").is_empty());
    let mut broken = world.ahead.clone();
    broken.extend(world.behind.iter().cloned());
    broken.insert(world.tampered.clone());
    assert_eq!(r["matches"], json!(world.customers.len() - broken.len()));
    assert_eq!(r["extrapolated"], json!(false));
    assert!(r["records_per_s"].as_f64().unwrap() > 0.0);
    // Readiness: every source topic, nothing lost to retention, every field exact.
    let topics = doc["topics"].as_array().unwrap();
    assert_eq!(topics.len(), 3);
    for t in topics {
        assert_eq!(t["partitions"], json!(PARTITIONS));
        for key in [
            "records",
            "bytes",
            "cleanup_policy",
            "retention_ms",
            "retention_bytes",
            "oldest_ms",
        ] {
            assert!(t.get(key).is_some(), "{key} in {t}");
        }
    }
    assert!(
        doc["fields"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["exact"] == json!(true))
    );
    let estimate = &doc["estimate"];
    for key in [
        "records",
        "bytes",
        "read_records_per_s",
        "seconds",
        "seconds_with_consumers",
    ] {
        assert!(estimate.get(key).is_some(), "{key} in {estimate}");
    }
    // One consumer per partition at most: 3 topics of 4 partitions.
    assert!(
        estimate["seconds_with_consumers"].get("12").is_some(),
        "{estimate}"
    );
}

/// A slice of partitions answers for the customers whose key hashes there exactly as the full
/// rehearsal does, including those whose clicks are keyed by anonymous ids hashing elsewhere.
#[test]
fn a_slice_of_partitions_answers_exactly_for_its_customers() {
    let world = world();
    let full = named(&rehearse(&world, &[]));
    for slice in [vec![0], vec![1, 3]] {
        let list: Vec<String> = slice.iter().map(i32::to_string).collect();
        let doc = rehearse(&world, &["--partitions", &list.join(",")]);
        let mine: BTreeSet<&String> = world
            .customers
            .iter()
            .filter(|c| slice.contains(&partition(c)))
            .collect();
        let r = &doc["rehearsal"];
        assert_eq!(r["customers"], json!(mine.len()), "slice {slice:?}");
        assert_eq!(r["extrapolated"], json!(true));
        let expected: BTreeMap<(String, String), BTreeSet<String>> = full
            .iter()
            .map(|(k, keys)| {
                let here = keys.iter().filter(|c| mine.contains(c)).cloned().collect();
                (k.clone(), here)
            })
            .filter(|(_, keys): &(_, BTreeSet<String>)| !keys.is_empty())
            .collect();
        assert_eq!(named(&doc), expected, "slice {slice:?}");
        let share = r["share"].as_f64().unwrap();
        assert!((share - slice.len() as f64 / PARTITIONS as f64).abs() < 1e-9);
        let whole = r["whole"]["customers"].as_f64().unwrap();
        assert!((whole - mine.len() as f64 / share).abs() < 1e-6);
    }
}
