//! Customer timelines and profiles against a real broker: targeted partitions, identity links,
//! out-of-order events, consent, erasure, a lagging store with the right stale fields and causes,
//! malformed records.

use freshlens::profile::SourceDecoder;
use freshlens::profile::{Partitioner, Spec, load_timeline};
use serde_json::{Value, json};

use crate::fixtures::{TestRecord, freshlens_json, t0, unique_topic};

pub struct World {
    pub target: crate::fixtures::Target,
    pub prefix: String,
    pub spec_path: std::path::PathBuf,
    pub group: String,
    _dir: tempfile::TempDir,
}

impl World {
    /// `args` after the flags that point at this world (`-b` or `--capture`).
    pub fn run(&self, args: &[&str]) -> Value {
        let mut all = self.target.args();
        all.extend(args.iter().map(|a| (*a).to_owned()));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        freshlens_json(&all)
    }
}

fn partition(key: &str, partitions: i32) -> i32 {
    Partitioner::Murmur2.partitions_for(key.as_bytes(), partitions)[0]
}

fn rec(topic_partitions: i32, key: &str, value: Value, broker_ms: i64) -> TestRecord {
    TestRecord::new(
        partition(key, topic_partitions),
        key,
        &value.to_string(),
        broker_ms,
    )
}

/// Builds the scripted world: sources, a lagging store and a builder group with known commits,
/// on the test broker, or in a capture where there is none.
pub fn world() -> World {
    let target = crate::fixtures::Target::new();
    let prefix = unique_topic("c360");
    let t = t0();
    for (name, partitions) in [
        ("identity", 3),
        ("consent", 2),
        ("orders", 4),
        ("profiles", 2),
    ] {
        target.create_topic(&format!("{prefix}.{name}"), partitions);
    }
    let identity = format!("{prefix}.identity");
    let consent = format!("{prefix}.consent");
    let orders = format!("{prefix}.orders");
    let profiles = format!("{prefix}.profiles");

    let mut decoy = rec(3, "cust-42", json!({"ts": t, "email": "wrong@x.io"}), t);
    decoy.partition = (partition("cust-42", 3) + 1) % 3;
    target.produce(
        &identity,
        &[
            rec(
                3,
                "cust-42",
                json!({"ts": t, "email": "a@x.io", "anonymous_id": "anon-7"}),
                t,
            ),
            rec(
                3,
                "anon-7",
                json!({"ts": t + 1000, "device_id": "dev-9"}),
                t + 1000,
            ),
            decoy,
            rec(3, "someone-else", json!({"ts": t, "email": "b@x.io"}), t),
        ],
    );
    let consent_offsets = target.produce(
        &consent,
        &[
            rec(
                2,
                "cust-42",
                json!({"ts": t + 3000, "marketing": true}),
                t + 3000,
            ),
            rec(
                2,
                "cust-42",
                json!({"ts": t + 9000, "marketing": false}),
                t + 9000,
            ),
            rec(
                2,
                "erased-1",
                json!({"ts": t + 100, "marketing": true}),
                t + 100,
            ),
            rec(
                2,
                "erased-1",
                json!({"ts": t + 200, "type": "erasure"}),
                t + 200,
            ),
        ],
    );
    let mut malformed = TestRecord::new(partition("cust-42", 4), "cust-42", "{not json", t + 9500);
    malformed.headers.clear();
    let order_offsets = target.produce(
        &orders,
        &[
            rec(4, "dev-9", json!({"ts": t + 2000, "amount": 20}), t + 2000),
            // Arrives last but happened at t+5000: out of order.
            rec(
                4,
                "cust-42",
                json!({"ts": t + 5000, "amount": 30}),
                t + 8000,
            ),
            malformed,
            rec(4, "erased-1", json!({"ts": t + 300, "amount": 7}), t + 300),
        ],
    );
    target.produce(
        &profiles,
        &[
            rec(
                2,
                "cust-42",
                json!({"updated_at": t + 1500, "profile": {"email": "a@x.io"}}),
                t + 1500,
            ),
            rec(
                2,
                "cust-42",
                json!({"updated_at": t + 4000, "profile": {"email": "a@x.io", "marketing": true, "orders": 1, "spent": 20}}),
                t + 4000,
            ),
        ],
    );

    // The builder has read the consent partition up to the revocation (not consumed yet), and
    // the orders partition past the cust-42 order (consumed, yet the store lacks it).
    let group = unique_topic("group").replacen("fl-group", "fl-test-group", 1);
    target.commit(
        &group,
        &[
            (&consent, consent_offsets[1].0, consent_offsets[1].1),
            (&orders, order_offsets[1].0, order_offsets[1].1 + 1),
        ],
    );

    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("c360.toml");
    std::fs::write(
        &spec_path,
        format!(
            r#"
name = "customer"
partitioner = "murmur2"
budget = "5m"

[[source]]
topic = "{identity}"
event_time = "/ts"
links = ["/anonymous_id", "/device_id"]

[[source]]
topic = "{consent}"
event_time = "/ts"
erase_when = {{ path = "/type", equals = "erasure" }}

[[source]]
topic = "{orders}"
event_time = "/ts"

[[field]]
name = "email"
topic = "{identity}"
path = "/email"
rule = "last"
pii = true
consent = "marketing"

[[field]]
name = "marketing"
topic = "{consent}"
path = "/marketing"
rule = "last"

[[field]]
name = "orders"
topic = "{orders}"
path = "/amount"
rule = "count"

[[field]]
name = "spent"
topic = "{orders}"
path = "/amount"
rule = "sum"

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
        prefix,
        spec_path,
        group,
        _dir: dir,
    }
}

#[test]
fn timeline_follows_links_over_only_the_keys_partitions() {
    let w = world();
    let cluster = w.target.source();
    let spec = Spec::load(&w.spec_path).unwrap();
    let reported = std::sync::Mutex::new(freshlens::cluster::ScanProgress::default());
    let decoder = SourceDecoder::default();
    let request = freshlens::profile::LookupRequest::new(&spec, &decoder, "cust-42", 0);
    let timeline = load_timeline(cluster.as_ref(), &request, &mut |_| {}, &|progress| {
        let mut furthest = reported.lock().unwrap();
        if progress.partitions_done >= furthest.partitions_done
            && progress.scanned >= furthest.scanned
        {
            *furthest = progress;
        }
    })
    .unwrap();
    // The progress runs over the whole lookup, every hop: its last word is the timeline's
    // count (the status bar and the Timeline heading say the same numbers).
    let last = reported.into_inner().unwrap();
    assert_eq!(
        (last.scanned, last.partitions_done, last.partitions),
        (
            timeline.scanned.records,
            timeline.scanned.partitions,
            timeline.scanned.partitions
        ),
        "{last:?} against {:?}",
        timeline.scanned
    );
    assert_eq!(timeline.identities, vec!["cust-42", "anon-7", "dev-9"]);
    let order: Vec<(String, i64, &str)> = timeline
        .events
        .iter()
        .map(|e| {
            (
                e.topic.rsplit('.').next().unwrap().to_owned(),
                e.event_ms - t0(),
                e.id.as_str(),
            )
        })
        .collect();
    let expected: Vec<(String, i64, &str)> = vec![
        ("identity".into(), 0, "cust-42"),
        ("identity".into(), 1000, "anon-7"),
        ("orders".into(), 2000, "dev-9"),
        ("consent".into(), 3000, "cust-42"),
        ("orders".into(), 5000, "cust-42"),
        ("consent".into(), 9000, "cust-42"),
    ];
    assert_eq!(
        order, expected,
        "event-time order, decoy in the wrong partition never read"
    );
    assert_eq!(timeline.undecodable.len(), 1);
    assert!(timeline.undecodable[0].reason.starts_with("not JSON"));
    // Three hops over three sources, one partition each.
    assert_eq!(timeline.scanned.partitions, 9);
    let topic_records: i64 = ["identity", "consent", "orders"]
        .iter()
        .map(|t| {
            cluster
                .topic(&format!("{}.{t}", w.prefix))
                .unwrap()
                .message_count()
        })
        .sum();
    assert!(
        (timeline.scanned.records as i64) < topic_records * 3,
        "targeted reads only"
    );
}

#[test]
fn profile_names_stale_fields_and_their_causes() {
    let w = world();
    let spec = w.spec_path.to_str().unwrap();
    let doc = w.run(&["profile", "--spec", spec, "--key", "cust-42", "--json"]);
    assert_eq!(doc["identities"], json!(["cust-42", "anon-7", "dev-9"]));
    let fields = &doc["fields"];
    assert_eq!(
        fields["email"]["value"],
        json!("***"),
        "PII masked without --reveal-pii"
    );
    assert_eq!(
        fields["email"]["usable"],
        json!(false),
        "consent revoked after it was granted"
    );
    assert_eq!(fields["marketing"]["value"], json!(false));
    assert_eq!(fields["orders"]["value"], json!(2));
    assert_eq!(fields["spent"]["value"], json!(50));
    assert_eq!(fields["spent"]["updated_ms"], json!(t0() + 5000));
    assert_eq!(doc["undecodable"].as_array().unwrap().len(), 1);

    let store = &doc["store"];
    assert_eq!(store["updated_ms"], json!(t0() + 4000));
    assert_eq!(store["versions"], json!(2));
    let stale: Vec<(String, Value, Value, Value)> = store["stale"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["field"].as_str().unwrap().to_owned(),
                s["expected"].clone(),
                s["served"].clone(),
                s["pending_since_ms"].clone(),
            )
        })
        .collect();
    assert_eq!(
        stale,
        vec![
            (
                "marketing".into(),
                json!(false),
                json!(true),
                json!(t0() + 9000)
            ),
            ("orders".into(), json!(2), json!(1), json!(t0() + 8000)),
            ("spent".into(), json!(50), json!(20), json!(t0() + 8000)),
        ]
    );
    let cause = |i: usize| store["stale"][i]["cause"].as_str().unwrap().to_owned();
    let consent = w
        .target
        .source()
        .topic(&format!("{}.consent", w.prefix))
        .unwrap();
    let consent_partition = partition("cust-42", 2);
    let high = consent.partitions[consent_partition as usize].high;
    // Committed at the revocation, which is offset 1 of the customer's consent partition.
    let lag = high - 1;
    assert!(
        cause(0).starts_with(&format!("not consumed yet: lag {lag} records, ")),
        "{}",
        cause(0)
    );
    assert!(
        cause(1).starts_with(&format!("consumed but not applied: {}", w.group)),
        "{}",
        cause(1)
    );
    let behind = store["stale"][0]["behind_ms"].as_i64().unwrap();
    let expected_behind = freshlens::time::now_ms() - (t0() + 9000);
    assert!(
        (expected_behind - behind).abs() < 60_000,
        "{behind} vs {expected_behind}"
    );

    let revealed = w.run(&[
        "profile",
        "--spec",
        spec,
        "--key",
        "cust-42",
        "--json",
        "--reveal-pii",
    ]);
    assert_eq!(revealed["fields"]["email"]["value"], json!("a@x.io"));
}

#[test]
fn profile_time_travel_and_erasure() {
    let w = world();
    let spec = w.spec_path.to_str().unwrap();
    let at = (t0() + 4000).to_string();
    let doc = w.run(&[
        "profile",
        "--spec",
        spec,
        "--key",
        "cust-42",
        "--at",
        &at,
        "--json",
        "--reveal-pii",
    ]);
    assert_eq!(doc["as_of_ms"], json!(t0() + 4000));
    assert_eq!(doc["fields"]["marketing"]["value"], json!(true));
    assert_eq!(doc["fields"]["email"]["usable"], json!(true));
    assert_eq!(doc["fields"]["orders"]["value"], json!(1));

    let erased = w.run(&["profile", "--spec", spec, "--key", "erased-1", "--json"]);
    assert_eq!(erased["erased"]["at_ms"], json!(t0() + 200));
    assert!(
        erased["fields"].get("marketing").is_none(),
        "cleared by the erasure"
    );
    assert_eq!(
        erased["fields"]["orders"]["value"],
        json!(1),
        "later events build from nothing"
    );
}

#[test]
fn timeline_json_without_a_spec() {
    let w = world();
    let identity = format!("{}.identity", w.prefix);
    let doc = w.run(&["timeline", "-t", &identity, "--key", "cust-42", "--json"]);
    assert_eq!(doc["key"], json!("cust-42"));
    let events = doc["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["value"]["email"], json!("a@x.io"));
    for field in [
        "topic",
        "partition",
        "offset",
        "timestamp_ms",
        "event_time_ms",
        "id",
        "value",
    ] {
        assert!(events[0].get(field).is_some(), "{field}");
    }
    assert_eq!(doc["scanned"]["partitions"], json!(1));
}
