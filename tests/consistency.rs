//! One truth per fact on a broker written as producers write (`demo seed` batches many records
//! per request; Tansu then lists the last batch's base + 1 as the high watermark and answers a
//! fetch from inside a batch with the batches after it). For the same topic, group and
//! customer, every command gives the same watermarks, record counts, records behind,
//! customers not consumed, pending events and time behind, and the engine calls the GUI's
//! panels make agree with them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::demo::{freshlens, stdout};
use crate::fixtures::{broker, freshlens_json, unique_topic};

struct Seeded {
    bootstrap: String,
    prefix: String,
    builder: String,
    spec: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

const SOURCES: [&str; 5] = ["identity", "consent", "orders", "clicks", "support"];

fn seeded() -> Option<Seeded> {
    let bootstrap = broker()?;
    let prefix = unique_topic("one-truth");
    let builder = format!("{prefix}.profile-builder");
    let now = freshlens::time::now_ms().to_string();
    let risk = format!("{prefix}.risk-features");
    stdout(&freshlens(&[
        "demo",
        "seed",
        "-b",
        &bootstrap,
        "--prefix",
        &prefix,
        "--customers",
        "80",
        "--events",
        "4000",
        "--partitions",
        "4",
        "--builder-group",
        &builder,
        "--risk-group",
        &risk,
        "--end",
        &now,
    ]));
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("c360.toml");
    let text = stdout(&freshlens(&[
        "demo",
        "spec",
        "--prefix",
        &prefix,
        "--builder-group",
        &builder,
    ]));
    std::fs::write(&spec, text).unwrap();
    Some(Seeded {
        bootstrap,
        prefix,
        builder,
        spec,
        _dir: dir,
    })
}

impl Seeded {
    fn json(&self, args: &[&str]) -> Value {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["-b", &self.bootstrap]);
        freshlens_json(&all)
    }

    /// How many records `messages --json` prints (a JSON line each).
    fn records(&self, args: &[&str]) -> usize {
        let mut all = vec!["messages", "-b", &self.bootstrap, "--json"];
        all.extend(args);
        stdout(&freshlens(&all)).lines().count()
    }

    fn spec(&self) -> &str {
        self.spec.to_str().unwrap()
    }

    fn topic(&self, source: &str) -> String {
        format!("{}.{source}", self.prefix)
    }
}

/// (low, high) per partition of `topic` as `topics --json` gives them.
fn watermarks(doc: &Value, topic: &str) -> BTreeMap<i64, (i64, i64)> {
    doc["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == topic)
        .unwrap_or_else(|| panic!("{topic} in {doc}"))["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_i64().unwrap(),
                (p["low"].as_i64().unwrap(), p["high"].as_i64().unwrap()),
            )
        })
        .collect()
}

#[test]
fn every_command_gives_the_same_numbers_on_a_broker_written_in_batches() {
    let Some(world) = seeded() else { return };
    let spec = world.spec();
    let topics = world.json(&["topics", "--json"]);

    // The demo's records went out in multi-record batches: the watermarks are the records'.
    let mut records_by_topic = BTreeMap::new();
    let mut batched = false;
    for source in SOURCES {
        let topic = world.topic(source);
        let marks = watermarks(&topics, &topic);
        let records: i64 = marks.values().map(|(low, high)| high - low).sum();
        let read = world.records(&["-t", &topic, "-o", "beginning"]);
        assert_eq!(read as i64, records, "{topic}: records read = watermarks");
        // Tansu, the test broker, lists the last batch's base + 1: the records went out in
        // multi-record batches, so somewhere the listed high is below the records' high.
        batched |= topics["topics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["name"] == topic)
            .flat_map(|t| t["partitions"].as_array().unwrap())
            .any(|p| p["listed_high"].as_i64().unwrap() < p["high"].as_i64().unwrap());
        // The last 10 of every partition are the last 10, not the whole topic.
        let tail = world.records(&["-t", &topic, "-o", "-10"]);
        let expected: i64 = marks.values().map(|(low, high)| (high - low).min(10)).sum();
        assert_eq!(
            tail as i64, expected,
            "{topic}: the last 10 of each partition"
        );
        records_by_topic.insert(topic, records);
    }
    assert!(batched, "the seed wrote multi-record batches: {topics}");

    // Groups: the builder's high watermarks are the topics', its lag their difference.
    let groups = world.json(&["groups", "-g", &world.builder, "--json"]);
    let builder = &groups["groups"][0];
    let mut behind_by_partition: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for p in builder["partitions"].as_array().unwrap() {
        let topic = p["topic"].as_str().unwrap().to_owned();
        let id = p["partition"].as_i64().unwrap();
        let (_, high) = watermarks(&topics, &topic)[&id];
        assert_eq!(p["high"].as_i64().unwrap(), high, "{topic}/{id} high");
        let committed = p["committed"].as_i64().unwrap();
        assert_eq!(p["lag"].as_i64().unwrap(), high - committed, "{topic}/{id}");
        if high > committed {
            // Known, even where the commit sits inside a batch.
            assert!(p["time_lag_ms"].as_i64().is_some(), "{topic}/{id}: {p}");
        }
        behind_by_partition.insert((topic, id), high - committed);
    }
    let records_behind: i64 = behind_by_partition.values().sum();
    assert!(
        records_behind > 0,
        "the demo's builder is behind: {builder}"
    );
    assert_eq!(builder["lag"].as_i64().unwrap(), records_behind);

    // stale: the census reads exactly the records the builder is behind by, and names the
    // customers they belong to.
    let stale = world.json(&["stale", "--spec", spec, "--json", "--sample", "5"]);
    let census = &stale["not_consumed"];
    let mut census_behind = 0;
    for tail in census["by_partition"].as_array().unwrap() {
        let key = (
            tail["topic"].as_str().unwrap().to_owned(),
            tail["partition"].as_i64().unwrap(),
        );
        assert_eq!(
            tail["records"].as_i64().unwrap(),
            behind_by_partition[&key],
            "{key:?}: census tail = group lag"
        );
        census_behind += tail["records"].as_i64().unwrap();
    }
    assert_eq!(census_behind, records_behind);
    let customers = stale["customers"].as_array().unwrap();
    assert!(
        !customers.is_empty(),
        "records behind, so customers: {census}"
    );
    assert_eq!(
        census["customers"].as_u64().unwrap() as usize,
        customers.len()
    );

    // Profile and freshness: the same customer's pending events and their oldest, exactly.
    let mut checked = BTreeSet::new();
    for customer in customers.iter().take(4) {
        let key = customer["key"].as_str().unwrap();
        let profile = world.json(&["profile", "--spec", spec, "--key", key, "--json"]);
        let not_consumed = &profile["store"]["not_consumed"];
        assert_eq!(
            not_consumed["events"], customer["pending_events"],
            "{key}: profile vs stale"
        );
        assert_eq!(
            not_consumed["oldest_ms"], customer["pending_since_ms"],
            "{key}: profile vs stale"
        );
        let freshness = world.json(&["freshness", "--spec", spec, "--key", key, "--json"]);
        assert_eq!(
            freshness["not_consumed"]["events"], customer["pending_events"],
            "{key}: freshness vs stale"
        );
        assert_eq!(
            freshness["not_consumed"]["oldest_ms"], customer["pending_since_ms"],
            "{key}: freshness vs stale"
        );
        checked.insert(key.to_owned());
    }
    assert!(!checked.is_empty());

    // Rebuild: each topic's records are the topics' count; a rehearsal replays exactly them.
    let rebuild = world.json(&["rebuild", "--spec", spec, "--rehearse", "--json"]);
    let mut replayed = 0;
    for t in rebuild["topics"].as_array().unwrap() {
        let topic = t["topic"].as_str().unwrap();
        assert_eq!(
            t["records"].as_i64().unwrap(),
            records_by_topic[topic],
            "{topic}: readiness records"
        );
        replayed += records_by_topic[topic];
    }
    assert_eq!(rebuild["estimate"]["records"].as_i64().unwrap(), replayed);
    let rehearsal = &rebuild["rehearsal"];
    assert_eq!(rehearsal["records"].as_i64().unwrap(), replayed);
    let store = world.topic("profiles");
    let store_records: i64 = watermarks(&topics, &store)
        .values()
        .map(|(low, high)| high - low)
        .sum();
    assert_eq!(rehearsal["store_records"].as_i64().unwrap(), store_records);
    // The estimate's headline is its own per-consumer figure at the clients it measured with.
    let estimate = &rebuild["estimate"];
    let consumers = estimate["consumers"].as_u64().unwrap().to_string();
    assert_eq!(
        estimate["seconds"],
        estimate["seconds_with_consumers"][&consumers]
    );
}

#[test]
fn group_samples_over_time_never_turn_a_known_lag_unknown() {
    // One watch and one connection, as the GUI's sampler keeps them: clients are reused and
    // remember the high watermarks of their last read.
    let Some(world) = seeded() else { return };
    let cluster = crate::fixtures::connect(&world.bootstrap);
    let mut watch = freshlens::freshness::GroupWatch::default();
    let mut known: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for round in 0..4 {
        let look = watch.look(&cluster, Some(&world.builder)).unwrap();
        for p in &look.groups[0].partitions {
            let key = (p.topic.clone(), p.partition);
            if p.lag > 0 {
                let now = p
                    .time_lag_ms
                    .unwrap_or_else(|| panic!("round {round}: {key:?} unknown"));
                if let Some(before) = known.get(&key) {
                    // The same record at the same committed offset: the lag only grows.
                    assert!(now >= *before, "{key:?}: {before} then {now}");
                }
                known.insert(key, now);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    assert!(!known.is_empty());
}

#[test]
fn the_gui_panels_show_what_the_commands_say() {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    let Some(world) = seeded() else { return };
    let spec = world.spec();
    let stale = world.json(&["stale", "--spec", spec, "--json", "--sample", "5"]);
    let customers = stale["customers"].as_array().unwrap();
    let first = &customers[0];
    let key = first["key"].as_str().unwrap().to_owned();
    let orders = world.topic("orders");
    let topics = world.json(&["topics", "--json"]);
    let orders_records: i64 = watermarks(&topics, &orders)
        .values()
        .map(|(low, high)| high - low)
        .sum();

    let config_dir = tempfile::tempdir().unwrap();
    let dir = config_dir.path().to_owned();
    let startup = freshlens::ui::Startup {
        connect: Some(freshlens::cluster::ConnectionConfig::new(
            world.bootstrap.as_str(),
        )),
        spec: Some(spec.to_owned()),
        key: Some(key.clone()),
        ..Default::default()
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_eframe(move |cc| freshlens::ui::FreshlensApp::new(cc, startup, Some(dir)).unwrap());

    // Overview: the census's count of customers, as `stale` says.
    let overview = format!("Not consumed yet: {} customers", customers.len());
    harness.get_by_label("Overview").click();
    crate::ui::wait_for(&mut harness, &overview, |h| {
        h.query_by_label_contains(&overview).is_some()
    });
    // Profile: the looked-up customer's pending events, as `stale` counts them.
    let pending = format!(
        "{} event(s) not consumed yet by {}",
        first["pending_events"], world.builder
    );
    harness.get_by_label("Profile").click();
    crate::ui::wait_for(&mut harness, &pending, |h| {
        h.query_by_label_contains(&pending).is_some()
    });
    // Browse: the orders topic's record count, as `topics` says.
    harness.get_by_label("Browse").click();
    harness.run_steps(2);
    crate::ui::type_into(&mut harness, "Search", &orders);
    crate::ui::wait_for(&mut harness, "the orders topic", |h| {
        h.query_by_label(&orders).is_some()
    });
    harness.get_by_label(&orders).click();
    let count = format!("4 partitions · {orders_records} messages");
    crate::ui::wait_for(&mut harness, &count, |h| {
        h.query_by_label_contains(&count).is_some()
    });
}

/// On the demo (no broker), the app and the commands tell the same story: the chain's breaking
/// hop, a customer's fields behind (and nothing else), and the builder's projection back within
/// the budget, in the same words.
#[test]
fn the_app_and_the_commands_agree_on_the_demo() {
    use egui_kittest::kittest::Queryable as _;
    const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo/c360.toml");
    let cli = |args: &[&str]| {
        let mut all = vec!["--demo"];
        all.extend_from_slice(args);
        freshlens_json(&all)
    };
    let stale = cli(&["stale", "--spec", SPEC, "--json", "--sample", "0"]);
    let breaking = stale["verdict"]["breaking_hop"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = stale["customers"][0]["key"].as_str().unwrap().to_owned();
    let profile = cli(&["profile", "--spec", SPEC, "--key", &key, "--json"]);
    let behind: Vec<String> = profile["store"]["stale"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["field"].as_str().unwrap().to_owned())
        .collect();
    assert!(!behind.is_empty(), "{profile}");
    let freshness = cli(&["freshness", "--spec", SPEC, "--key", &key, "--json"]);
    let projection = freshness["builder"]["text"].as_str().unwrap().to_owned();

    let config_dir = tempfile::tempdir().unwrap();
    let dir = config_dir.path().to_owned();
    let mut harness = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_eframe(move |cc| {
            let startup = freshlens::ui::Startup {
                demo: Some(freshlens::demo::DemoConfig::new(freshlens::time::now_ms())),
                ..Default::default()
            };
            freshlens::ui::FreshlensApp::new(cc, startup, Some(dir)).unwrap()
        });
    crate::ui::wait_for(&mut harness, "the demo", |h| {
        h.query_by_label_contains("Demo data: ").is_some()
    });
    harness.get_by_label("Overview").click();
    crate::ui::wait_for(&mut harness, "the chain", |h| {
        h.query_by_label(&format!("Out of budget at {breaking}"))
            .is_some()
    });
    // The worst customer, clicked in the Overview's list, is looked up in the Profile tab.
    harness
        .query_all_by_label(&key)
        .next()
        .expect("the customer in the Overview's list")
        .click();
    let heading = format!("Store: {} field(s) behind", behind.len());
    crate::ui::wait_for(&mut harness, &heading, |h| {
        h.query_by_label_contains(&heading).is_some()
    });
    // The heading can land a frame before the grid's rows: a new grid lays itself out in an
    // invisible sizing pass first. So each row is waited for, not asserted on that frame.
    for field in &behind {
        let spoken = format!("{field} is stale");
        crate::ui::wait_for(&mut harness, &spoken, |h| {
            h.query_by_label(&spoken).is_some()
        });
    }
    harness.get_by_label("Freshness").click();
    crate::ui::wait_for(&mut harness, &projection, |h| {
        h.query_by_label(&projection).is_some()
    });
}
