//! Partition-key forensics on topics written here with each partitioner (the test places every
//! record itself with the same formulas the clients use), a topic two producers share, three
//! misplaced keys and known event-time inversions; `partitioner = "auto"` finding a customer
//! that murmur2 misses. Runs on the broker (Tansu in CI, one record per batch so watermarks are
//! exact: Tansu's ListOffsets reads low for batches of several) or an in-memory capture.

use std::collections::{BTreeMap, BTreeSet};

use freshlens::profile::Partitioner;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::fixtures::{Target, TestRecord, freshlens_json, t0, unique_topic};

const P: i32 = 6;

fn place(hash: Partitioner, key: &str) -> i32 {
    hash.partition_of(key.as_bytes(), P).unwrap()
}

fn record(partition: i32, key: &str, ts: i64) -> TestRecord {
    TestRecord::new(
        partition,
        key,
        &json!({ "ts": ts, "amount": 1 }).to_string(),
        ts,
    )
}

fn keyed_by(hash: Partitioner, keys: impl Iterator<Item = String>) -> Vec<TestRecord> {
    keys.enumerate()
        .map(|(i, k)| record(place(hash, &k), &k, t0() + i as i64))
        .collect()
}

fn customers(range: std::ops::Range<usize>) -> impl Iterator<Item = String> {
    range.map(|i| format!("cust-{i:03}"))
}

/// The share of `records` each hash explains, as the test computes it.
fn share(records: &[TestRecord], hash: Partitioner) -> f64 {
    let hits = records
        .iter()
        .filter(|r| {
            let key = String::from_utf8(r.key.clone().unwrap()).unwrap();
            place(hash, &key) == r.partition
        })
        .count();
    hits as f64 / records.len() as f64
}

/// Runs freshlens on the target with `args`: one JSON document.
fn cli(target: &Target, args: &[&str]) -> Value {
    let mut all = target.args();
    all.extend(args.iter().map(|s| (*s).to_owned()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    freshlens_json(&all)
}

fn topic<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["topic"] == json!(name))
        .unwrap_or_else(|| panic!("{name} in {doc}"))
}

fn assert_close(got: &Value, want: f64, what: &str) {
    let got = got.as_f64().unwrap_or_else(|| panic!("{what}: {got}"));
    assert!((got - want).abs() < 1e-9, "{what}: {got} != {want}");
}

#[test]
fn every_partitioner_misplaced_key_skew_and_inversion_is_exact() {
    let target = Target::new();
    let names: BTreeMap<&str, String> = ["murmur2", "crc32", "fnv1a", "random", "mixed"]
        .into_iter()
        .map(|n| (n, unique_topic(&format!("keys-{n}"))))
        .collect();
    for name in names.values() {
        target.create_topic(name, P);
    }
    let start = t0();

    // murmur2: 120 customers once each, a hot key with two late events, a key whose second
    // event is older than its first, and three keys on the partition after murmur2's.
    let mut m = keyed_by(Partitioner::Murmur2, customers(0..120));
    let hot_partition = place(Partitioner::Murmur2, "hot");
    for i in 0..30 {
        let ts = match i {
            10 => start + 5_000,  // 4 s older than the 9 s before it
            20 => start + 12_000, // 7 s older than the 19 s before it
            _ => start + i * 1_000,
        };
        m.push(record(hot_partition, "hot", ts));
    }
    let late_partition = place(Partitioner::Murmur2, "late");
    m.push(record(late_partition, "late", start + 50_000));
    m.push(record(late_partition, "late", start + 20_000));
    let strays = ["stray-a", "stray-b", "stray-c"];
    for key in strays {
        m.push(record(
            (place(Partitioner::Murmur2, key) + 1) % P,
            key,
            start,
        ));
    }
    let c = keyed_by(Partitioner::Crc32, customers(0..120));
    let f = keyed_by(Partitioner::Fnv1a, customers(0..120));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let r: Vec<TestRecord> = customers(0..120)
        .map(|k| record(rng.random_range(0..P), &k, start))
        .collect();
    let mut x = keyed_by(Partitioner::Murmur2, customers(0..84));
    x.extend(keyed_by(Partitioner::Crc32, customers(84..120)));
    let written: BTreeMap<&str, Vec<TestRecord>> = [
        ("murmur2", m),
        ("crc32", c),
        ("fnv1a", f),
        ("random", r),
        ("mixed", x),
    ]
    .into_iter()
    .collect();
    for (name, records) in &written {
        target.produce(&names[name], records);
    }

    let mut args = vec!["keys", "--json"];
    for name in names.values() {
        args.extend(["-t", name]);
    }
    let doc = cli(&target, &args);
    assert_eq!(doc["spec"], Value::Null);

    for (name, records) in &written {
        let t = topic(&doc, &names[name]);
        assert_eq!(t["partitions"], json!(P), "{name}");
        assert_eq!(t["sampled"], json!(records.len()), "{name}");
        for hash in Partitioner::HASHES {
            assert_close(
                &t["partitioner"]["candidates"][hash.name()],
                share(records, hash),
                &format!("{name} {}", hash.name()),
            );
        }
        // Records per partition: what was written there.
        let mut per_partition = vec![0i64; P as usize];
        for r in records {
            per_partition[r.partition as usize] += 1;
        }
        assert_eq!(t["skew"]["records"], json!(per_partition), "{name}");
        let mean = records.len() as f64 / f64::from(P);
        let max = *per_partition.iter().max().unwrap() as f64;
        assert_close(&t["skew"]["max_over_mean"], max / mean, name);
        assert_close(
            &t["skew"]["gini"],
            freshlens::keys::gini(&per_partition),
            name,
        );
    }
    for (name, best) in [("crc32", "crc32"), ("fnv1a", "fnv1a"), ("random", "random")] {
        let t = topic(&doc, &names[name]);
        assert_eq!(t["partitioner"]["best"], json!(best), "{name}: {t}");
        assert_eq!(t["misplaced"], json!([]), "{name}");
    }
    assert_close(
        &topic(&doc, &names["crc32"])["partitioner"]["explained"],
        1.0,
        "crc32",
    );
    assert!(
        topic(&doc, &names["random"])["partitioner"]["verdict"]
            .as_str()
            .unwrap()
            .contains("chance")
    );

    let m = topic(&doc, &names["murmur2"]);
    assert_eq!(m["partitioner"]["best"], json!("murmur2"));
    assert_close(&m["partitioner"]["explained"], 152.0 / 155.0, "murmur2");
    assert_eq!(m["partitioner"]["second"], Value::Null);
    let misplaced: Vec<(String, i64, i64)> = m["misplaced"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["key"].as_str().unwrap().to_owned(),
                x["partition"].as_i64().unwrap(),
                x["expected"].as_i64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, i64, i64)> = strays
        .iter()
        .map(|k| {
            let expected = place(Partitioner::Murmur2, k);
            (
                (*k).to_owned(),
                i64::from((expected + 1) % P),
                i64::from(expected),
            )
        })
        .collect();
    assert_eq!(misplaced, want);
    assert_eq!(m["skew"]["hot_keys"][0]["key"], json!("hot"));
    assert_close(&m["skew"]["hot_keys"][0]["share"], 30.0 / 155.0, "hot");
    assert_eq!(m["order"]["keys"], json!(125));
    assert_eq!(m["order"]["keys_with_inversions"], json!(2));
    assert_eq!(m["order"]["inversions"], json!(3));
    assert_eq!(m["order"]["max_lateness_ms"], json!(30_000));
    assert_eq!(m["order"]["worst"][0]["key"], json!("hot"));

    let x = topic(&doc, &names["mixed"]);
    let lucky = customers(84..120)
        .filter(|k| place(Partitioner::Murmur2, k) == place(Partitioner::Crc32, k))
        .count();
    assert_eq!(x["partitioner"]["best"], json!("murmur2"));
    assert_close(
        &x["partitioner"]["explained"],
        (84 + lucky) as f64 / 120.0,
        "mixed",
    );
    assert_eq!(x["partitioner"]["second"]["partitioner"], json!("crc32"));
    assert_close(
        &x["partitioner"]["second"]["explained"],
        (36 - lucky) as f64 / 120.0,
        "mixed second",
    );
    let verdict = x["partitioner"]["verdict"].as_str().unwrap();
    assert!(verdict.ends_with("two producers disagree"), "{verdict}");
    assert_eq!(x["misplaced_keys"], json!(36 - lucky));
}

fn spec_file(dir: &std::path::Path, partitioner: &str, sources: &[(&str, &str)]) -> String {
    let mut text =
        format!("name = \"customer\"\nbudget = \"5m\"\npartitioner = \"{partitioner}\"\n");
    for (topic, links) in sources {
        text.push_str(&format!(
            "[[source]]\ntopic = \"{topic}\"\nevent_time = \"/ts\"\nlinks = [{links}]\n"
        ));
    }
    let (first, _) = sources[0];
    text.push_str(&format!(
        "[[field]]\nname = \"amount\"\ntopic = \"{first}\"\npath = \"/amount\"\nrule = \"sum\"\n"
    ));
    let path = dir.join(format!("{partitioner}.toml"));
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn events_of(target: &Target, spec: &str, key: &str) -> (usize, Value) {
    let doc = cli(
        target,
        &["timeline", "--spec", spec, "--key", key, "--json"],
    );
    (doc["events"].as_array().unwrap().len(), doc)
}

#[test]
fn auto_finds_a_customer_on_a_crc32_topic_that_murmur2_misses() {
    let target = Target::new();
    let orders = unique_topic("keys-auto-crc32");
    let mixed = unique_topic("keys-auto-mixed");
    target.create_topic(&orders, P);
    target.create_topic(&mixed, P);
    target.produce(&orders, &keyed_by(Partitioner::Crc32, customers(0..60)));
    let mut two = keyed_by(Partitioner::Murmur2, customers(0..42));
    two.extend(keyed_by(Partitioner::Crc32, customers(42..60)));
    target.produce(&mixed, &two);
    let dir = tempfile::tempdir().unwrap();

    // A customer murmur2 and crc32 place apart.
    let missed = customers(0..60)
        .find(|k| place(Partitioner::Murmur2, k) != place(Partitioner::Crc32, k))
        .unwrap();
    let murmur = spec_file(dir.path(), "murmur2", &[(&orders, "")]);
    let auto = spec_file(dir.path(), "auto", &[(&orders, "")]);
    assert_eq!(
        events_of(&target, &murmur, &missed).0,
        0,
        "murmur2 misses it"
    );
    let (found, doc) = events_of(&target, &auto, &missed);
    assert_eq!(found, 1, "auto reads crc32's partition: {doc}");
    assert_eq!(doc["placement_warnings"], json!([]));

    // On the topic two producers share, auto reads every candidate's partition and says why.
    let minority = customers(42..60)
        .find(|k| place(Partitioner::Murmur2, k) != place(Partitioner::Crc32, k))
        .unwrap();
    let auto_mixed = spec_file(dir.path(), "auto", &[(&mixed, "")]);
    let (found, doc) = events_of(&target, &auto_mixed, &minority);
    assert_eq!(found, 1, "{doc}");
    let warning = doc["placement_warnings"][0].as_str().unwrap();
    assert!(warning.contains("two producers disagree"), "{warning}");

    // `keys --spec` says the spec's murmur2 is wrong for the crc32 topic.
    let doc = cli(
        &target,
        &["keys", "-t", &orders, "--spec", &murmur, "--json"],
    );
    let said = topic(&doc, &orders)["spec_disagrees"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(said.contains("written with crc32"), "{said}");
}

#[test]
fn customers_split_by_a_topic_keyed_by_device_ids_are_counted() {
    let target = Target::new();
    let identity = unique_topic("keys-identity");
    let clicks = unique_topic("keys-clicks");
    target.create_topic(&identity, P);
    target.create_topic(&clicks, P);
    let start = t0();
    let mut id_records = Vec::new();
    let mut click_records = Vec::new();
    let mut want_split = 0;
    for i in 0..40 {
        let customer = format!("cust-{i:03}");
        let devices = [format!("dev-{i}-a"), format!("dev-{i}-b")];
        id_records.push(TestRecord::new(
            place(Partitioner::Murmur2, &customer),
            &customer,
            &json!({"ts": start, "devices": {"phone": devices[0], "laptop": devices[1]}})
                .to_string(),
            start,
        ));
        // Half the customers click under their own id only, half under both devices.
        let keys: Vec<&str> = if i % 2 == 0 {
            vec![customer.as_str()]
        } else {
            devices.iter().map(String::as_str).collect()
        };
        let partitions: BTreeSet<i32> = keys
            .iter()
            .map(|k| place(Partitioner::Murmur2, k))
            .collect();
        want_split += usize::from(partitions.len() > 1);
        for k in keys {
            click_records.push(record(place(Partitioner::Murmur2, k), k, start + i));
        }
    }
    target.produce(&identity, &id_records);
    target.produce(&clicks, &click_records);
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_file(
        dir.path(),
        "murmur2",
        &[
            (&identity, "\"/devices/phone\", \"/devices/laptop\""),
            (&clicks, ""),
        ],
    );
    let doc = cli(&target, &["keys", "-t", &clicks, "--spec", &spec, "--json"]);
    let sources = doc["spec"]["sources"].as_array().unwrap();
    let of = |topic: &str| sources.iter().find(|s| s["topic"] == json!(topic)).unwrap();
    let clicked = of(&clicks);
    assert_eq!(clicked["customers"], json!(40));
    assert_eq!(clicked["split_customers"], json!(want_split));
    assert_close(&clicked["share"], want_split as f64 / 40.0, "share");
    assert_eq!(clicked["linked_key_records"], json!(40));
    assert_eq!(of(&identity)["split_customers"], json!(0));
    assert!(want_split > 0, "some devices hash apart");
}

/// A spec saying murmur2 over topics librdkafka wrote (crc32): a lookup that finds nothing says
/// the data is placed by crc32, `stale`'s sample carries the same warning beside its count, and
/// a rehearsal of a slice of partitions refuses rather than call every customer "store behind".
#[test]
fn a_spec_hash_the_data_contradicts_is_said_where_it_changes_the_answer() {
    let target = Target::new();
    let orders = unique_topic("keys-wrong-hash-orders");
    let profiles = unique_topic("keys-wrong-hash-profiles");
    target.create_topic(&orders, P);
    target.create_topic(&profiles, P);
    let written = target.produce(&orders, &keyed_by(Partitioner::Crc32, customers(0..60)));
    let stored: Vec<TestRecord> = customers(0..60)
        .map(|k| {
            let value = json!({"updated_at": t0(), "profile": {"amount": 1}}).to_string();
            TestRecord::new(place(Partitioner::Crc32, &k), &k, &value, t0())
        })
        .collect();
    target.produce(&profiles, &stored);
    let group = format!("{orders}-builder");
    let mut ends: BTreeMap<i32, i64> = BTreeMap::new();
    for (p, offset) in written {
        let end = ends.entry(p).or_default();
        *end = (*end).max(offset + 1);
    }
    let commits: Vec<(&str, i32, i64)> = ends
        .iter()
        .map(|(p, o)| (orders.as_str(), *p, *o))
        .collect();
    target.commit(&group, &commits);

    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("wrong.toml");
    std::fs::write(
        &spec,
        format!(
            "name = \"customer\"\nbudget = \"5m\"\npartitioner = \"murmur2\"\n\
             [[source]]\ntopic = \"{orders}\"\nevent_time = \"/ts\"\n\
             [[field]]\nname = \"amount\"\ntopic = \"{orders}\"\npath = \"/amount\"\nrule = \"sum\"\n\
             [store]\ntopic = \"{profiles}\"\nupdated_at = \"/updated_at\"\nfields = \"/profile\"\n\
             builder_group = \"{group}\"\n"
        ),
    )
    .unwrap();
    let spec = spec.to_str().unwrap();
    let missed = customers(0..60)
        .find(|k| place(Partitioner::Murmur2, k) != place(Partitioner::Crc32, k))
        .unwrap();

    let (found, doc) = events_of(&target, spec, &missed);
    assert_eq!(found, 0, "{doc}");
    assert!(
        doc["placement_warnings"]
            .to_string()
            .contains("written with crc32"),
        "{doc}"
    );
    let doc = cli(
        &target,
        &["profile", "--spec", spec, "--key", &missed, "--json"],
    );
    let warnings = doc["placement_warnings"].to_string();
    assert!(warnings.contains("written with crc32"), "{doc}");

    let doc = cli(
        &target,
        &["stale", "--spec", spec, "--json", "--sample", "20"],
    );
    let warnings = doc["sample"]["placement_warnings"].to_string();
    assert!(warnings.contains("written with crc32"), "{doc}");

    let mut args = target.args();
    args.extend(
        [
            "rebuild",
            "--spec",
            spec,
            "--rehearse",
            "--partitions",
            "0",
            "--json",
        ]
        .map(String::from),
    );
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args(&args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("written with crc32"), "{stderr}");
}
