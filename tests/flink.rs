//! `rebuild --emit flink-sql`: the emitted job, run by PyFlink on a local mini-cluster over a
//! capture, answers what `rebuild --rehearse` answers on that capture: every count and every
//! (customer, field, class, rebuilt, served) row. On the demo's capture, and on a hand-made one
//! with the cases a fold gets wrong: an erasure between two events, a consent revocation, an
//! anonymous id linked later, out-of-order and equal event times, nulls, cut history.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use freshlens::cluster::{Record, TimestampKind};
use freshlens::profile::same_value;
use freshlens::source::{Capture, CaptureFormat, CapturedGroup, save_capture};
use serde_json::{Value, json};

/// A Python with PyFlink (`FRESHLENS_FLINK_PYTHON`, installed by `.ci/run`), and Java.
fn flink_python() -> Option<PathBuf> {
    crate::fixtures::python_with(
        "FRESHLENS_FLINK_PYTHON",
        "import pyflink.table",
        "apache-flink",
        "tests/python/flink-requirements.txt (and Java 17)",
    )
}

fn freshlens(args: &[&str]) -> std::process::Output {
    let output = Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "freshlens {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// One difference as both sides report it.
#[derive(Debug)]
struct Row {
    customer: String,
    field: String,
    class: String,
    rebuilt: Option<Value>,
    served: Option<Value>,
}

fn same(a: &Option<Value>, b: &Option<Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => same_value(a, b),
        _ => false,
    }
}

/// Emits the job over `capture`, runs it, rehearses with freshlens, and asserts both agree.
/// Answers the rehearsal's document and the job's profiles.
fn agree(python: &Path, capture: &Path, spec: &Path, dir: &Path) -> (Value, Vec<Value>) {
    let (capture, spec) = (capture.to_str().unwrap(), spec.to_str().unwrap());
    let out = dir.join("job");
    freshlens(&[
        "rebuild",
        "--capture",
        capture,
        "--spec",
        spec,
        "--emit",
        "flink-sql",
        "--from-capture",
        capture,
        "--out",
        out.to_str().unwrap(),
        "--reveal-pii",
        "--sink-topic",
        "rebuilt.profiles",
    ]);
    let script = out.join("job.sql");
    assert!(script.exists());
    // An earlier run's results are replaced, not added to.
    let stale = out.join("results/rebuild_differences");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(
        stale.join("part-from-an-earlier-run"),
        "{\"customer\":\"ghost\",\"field\":\"x\",\"class\":\"different\",\"rebuilt\":null,\"served\":null}\n",
    )
    .unwrap();
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/flink_job.py");
    let run = Command::new(python)
        .arg(&runner)
        .arg(&script)
        .arg(out.join("results"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "the job failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let flink: Value = serde_json::from_slice(&run.stdout).expect("the runner's JSON");
    let rehearsal = serde_json::from_slice::<Value>(
        &freshlens(&[
            "rebuild",
            "--capture",
            capture,
            "--spec",
            spec,
            "--rehearse",
            "--json",
            "--reveal-pii",
            "--examples",
            "1000000",
        ])
        .stdout,
    )
    .unwrap()["rehearsal"]
        .clone();

    // Every count.
    let mut counts: BTreeMap<(String, String), i64> = BTreeMap::new();
    for row in flink["summary"].as_array().unwrap() {
        let key = (
            row["metric"].as_str().unwrap().to_owned(),
            row["field"].as_str().unwrap().to_owned(),
        );
        assert!(counts.insert(key, row["n"].as_i64().unwrap()).is_none());
    }
    let count = |metric: &str, field: &str| counts[&(metric.to_owned(), field.to_owned())];
    for metric in [
        "customers",
        "matches",
        "store_only",
        "store_deleted",
        "records",
        "keyless_records",
        "undecodable_records",
        "store_records",
        "link_records",
        "undecodable_store_versions",
    ] {
        assert_eq!(
            count(metric, ""),
            rehearsal[metric].as_i64().unwrap(),
            "{metric}: Flink against the rehearsal"
        );
    }
    let fields = rehearsal["fields"].as_object().unwrap();
    for (field, result) in fields {
        for class in ["store_ahead", "store_behind", "different"] {
            assert_eq!(
                count(class, field),
                result[class].as_i64().unwrap(),
                "{field} {class}: Flink against the rehearsal"
            );
        }
    }

    // Every row.
    let parse = |v: &Value| {
        v.as_str()
            .map(|t| serde_json::from_str::<Value>(t).unwrap())
    };
    let mut theirs: Vec<Row> = flink["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Row {
            customer: r["customer"].as_str().unwrap().into(),
            field: r["field"].as_str().unwrap().into(),
            class: r["class"].as_str().unwrap().into(),
            rebuilt: parse(&r["rebuilt"]),
            served: parse(&r["served"]),
        })
        .collect();
    let mut ours: Vec<Row> = fields
        .iter()
        .flat_map(|(field, result)| {
            result["examples"].as_array().unwrap().iter().map(|e| Row {
                customer: e["key"].as_str().unwrap().into(),
                field: field.clone(),
                class: e["class"].as_str().unwrap().replace('_', " "),
                rebuilt: (!e["rebuilt"].is_null()).then(|| e["rebuilt"].clone()),
                served: (!e["served"].is_null()).then(|| e["served"].clone()),
            })
        })
        .collect();
    let order = |a: &Row, b: &Row| (&a.customer, &a.field).cmp(&(&b.customer, &b.field));
    theirs.sort_by(order);
    ours.sort_by(order);
    assert_eq!(
        theirs.len(),
        ours.len(),
        "rows: {theirs:#?}\nagainst {ours:#?}"
    );
    for (t, o) in theirs.iter().zip(&ours) {
        assert!(
            t.customer == o.customer
                && t.field == o.field
                && t.class == o.class
                && same(&t.rebuilt, &o.rebuilt)
                && same(&t.served, &o.served),
            "Flink {t:?}\nfreshlens {o:?}"
        );
    }
    (rehearsal, flink["profiles"].as_array().unwrap().clone())
}

#[test]
fn the_job_on_the_demo_capture_answers_as_the_rehearsal() {
    let Some(python) = flink_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("demo.jsonl");
    freshlens(&["demo", "capture", "-o", capture.to_str().unwrap()]);
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/c360.toml");
    let (rehearsal, profiles) = agree(&python, &capture, &spec, dir.path());
    assert!(rehearsal["customers"].as_i64().unwrap() > 100);
    let differing: i64 = rehearsal["fields"]
        .as_object()
        .unwrap()
        .values()
        .map(|f| f["store_ahead"].as_i64().unwrap() + f["store_behind"].as_i64().unwrap())
        .sum();
    assert!(differing > 0, "the demo's store lags: {rehearsal}");
    assert!(!profiles.is_empty());
}

const EDGE_SPEC: &str = r#"
name = "edge"
[[source]]
topic = "e.identity"
format = "json-schema"
event_time = "/ts"
links = ["/anonymous_id"]
[[source]]
topic = "e.consent"
event_time = "/ts"
erase_when = { path = "/type", equals = "erasure" }
[[source]]
topic = "e.orders"
event_time = "/at"
[[source]]
topic = "e.clicks"

[[field]]
name = "email"
topic = "e.identity"
path = "/email"
rule = "last"
pii = true
consent = "marketing"
[[field]]
name = "first_email"
topic = "e.identity"
path = "/email"
rule = "first"
[[field]]
name = "tier"
topic = "e.identity"
path = "/profile/tier"
rule = "last"
[[field]]
name = "marketing"
topic = "e.consent"
path = "/marketing"
rule = "last"
[[field]]
name = "orders"
topic = "e.orders"
path = "/amount"
rule = "count"
[[field]]
name = "spent"
topic = "e.orders"
path = "/amount"
rule = "sum"
[[field]]
name = "smallest"
topic = "e.orders"
path = "/amount"
rule = "min"
[[field]]
name = "largest"
topic = "e.orders"
path = "/amount"
rule = "max"
[[field]]
name = "skus"
topic = "e.orders"
path = "/sku"
rule = "distinct"
[[field]]
name = "first_page"
topic = "e.clicks"
path = "/page"
rule = "first"
[[field]]
name = "pages"
topic = "e.clicks"
path = "/page"
rule = "distinct"

[store]
topic = "e.profiles"
updated_at = "/updated_at"
fields = "/profile"
builder_group = "e.builder"
"#;

const T: i64 = 1_764_580_000_000;

struct Log {
    capture: Capture,
    next: BTreeMap<(String, i32), i64>,
}

impl Log {
    fn put(
        &mut self,
        topic: &str,
        partition: i32,
        key: Option<&str>,
        value: Option<Vec<u8>>,
        broker_ms: i64,
    ) -> i64 {
        let offset = *self.next.get(&(topic.to_owned(), partition)).unwrap_or(&0);
        self.next.insert((topic.to_owned(), partition), offset + 1);
        self.capture.push(Record {
            topic: topic.into(),
            partition,
            offset,
            timestamp_ms: Some(broker_ms),
            timestamp_kind: TimestampKind::CreateTime,
            key: key.map(|k| k.as_bytes().to_vec()),
            value,
            headers: Vec::new(),
        });
        offset
    }

    fn json(&mut self, topic: &str, key: &str, value: Value, broker_ms: i64) -> i64 {
        self.put(
            topic,
            0,
            Some(key),
            Some(value.to_string().into_bytes()),
            broker_ms,
        )
    }

    /// Confluent's JSON Schema framing: magic byte, schema id, the JSON.
    fn framed(&mut self, topic: &str, key: &str, value: Value, broker_ms: i64) -> i64 {
        let mut bytes = vec![0, 0, 0, 0x80, 0x7b];
        bytes.extend(value.to_string().into_bytes());
        self.put(topic, 0, Some(key), Some(bytes), broker_ms)
    }
}

/// The hand-made capture: each customer is one of the cases.
fn edge_capture() -> Capture {
    let mut log = Log {
        capture: Capture::new("edge", T + 1_000_000),
        next: BTreeMap::new(),
    };
    for topic in [
        "e.identity",
        "e.consent",
        "e.orders",
        "e.clicks",
        "e.profiles",
    ] {
        log.capture.add_topic(topic, 1);
    }
    // History cut: the orders topic retains from offset 100 on.
    log.next.insert(("e.orders".into(), 0), 100);

    // c1: an erasure between two orders; out-of-order and equal event times; a null resets the
    // tier; the email as RFC 3339 and as a string of digits.
    log.framed("e.identity", "c1", json!({"email": "a@x.io", "ts": "2025-12-01T09:06:40.250+01:00", "profile": {"tier": "gold"}}), T + 10);
    log.json(
        "e.orders",
        "c1",
        json!({"amount": 12.34, "sku": "A", "at": T + 50}),
        T + 51,
    );
    log.json(
        "e.orders",
        "c1",
        json!({"amount": 0.1, "sku": "B", "at": T + 20}),
        T + 52,
    );
    log.json(
        "e.consent",
        "c1",
        json!({"type": "erasure", "ts": T + 60}),
        T + 61,
    );
    log.json(
        "e.orders",
        "c1",
        json!({"amount": 7, "sku": "A", "at": T + 70}),
        T + 71,
    );
    log.json(
        "e.orders",
        "c1",
        json!({"amount": 30, "sku": "C", "at": T + 70}),
        T + 71,
    );
    log.json(
        "e.orders",
        "c1",
        json!({"amount": "n/a", "sku": "C", "at": T + 80}),
        T + 81,
    );
    log.framed(
        "e.identity",
        "c1",
        json!({"email": "a2@x.io", "ts": (T + 90).to_string(), "profile": {"tier": null}}),
        T + 91,
    );

    // c2: consent granted then revoked; clicks keyed by an anonymous id before the identity
    // record that links it; an id two customers claim goes to the least key.
    log.json("e.clicks", "anon-2", json!({"page": "/home"}), T + 5);
    log.json("e.clicks", "anon-2", json!({"page": "/cart"}), T + 6);
    log.json("e.clicks", "anon-x", json!({"page": "/shared"}), T + 7);
    log.json(
        "e.consent",
        "c2",
        json!({"marketing": true, "ts": T + 10}),
        T + 11,
    );
    log.framed(
        "e.identity",
        "c2",
        json!({"email": "b@x.io", "anonymous_id": "anon-2", "ts": T + 30}),
        T + 31,
    );
    log.framed(
        "e.identity",
        "c3",
        json!({"email": "c@x.io", "anonymous_id": "anon-x", "ts": T + 32}),
        T + 33,
    );
    log.framed(
        "e.identity",
        "c2",
        json!({"anonymous_id": "anon-x", "ts": T + 34}),
        T + 35,
    );
    log.json(
        "e.consent",
        "c2",
        json!({"marketing": false, "ts": T + 40}),
        T + 41,
    );
    log.json("e.clicks", "c2", json!({"page": "/home"}), T + 45);

    // c3: orders whose earlier history was cut (the store still counts it); min and max of mixed kinds.
    log.json(
        "e.orders",
        "c3",
        json!({"amount": 5, "sku": "Z", "at": T + 100}),
        T + 101,
    );
    log.json(
        "e.orders",
        "c3",
        json!({"amount": 2.5, "sku": "Y", "at": T + 110}),
        T + 111,
    );
    log.json(
        "e.orders",
        "c3",
        json!({"amount": -1, "sku": "Y", "at": T + 110}),
        T + 111,
    );

    // c4: events, and a store tombstone; c7: a string amount first, so min and max keep it.
    log.json(
        "e.orders",
        "c4",
        json!({"amount": 1, "sku": "Q", "at": T + 5}),
        T + 6,
    );
    log.json(
        "e.orders",
        "c7",
        json!({"amount": "free", "sku": "Q", "at": T + 5}),
        T + 6,
    );
    log.json(
        "e.orders",
        "c7",
        json!({"amount": 3, "sku": "Q", "at": T + 6}),
        T + 7,
    );

    // What is counted, not folded: no key, a tombstone, no JSON, a JSON Schema record without framing.
    log.put(
        "e.orders",
        0,
        None,
        Some(b"{\"amount\": 1}".to_vec()),
        T + 1,
    );
    log.put("e.orders", 0, Some("c1"), None, T + 2);
    log.put(
        "e.orders",
        0,
        Some("c1"),
        Some(b"{not json".to_vec()),
        T + 3,
    );
    log.put(
        "e.identity",
        0,
        Some("c9"),
        Some(b"{\"email\": \"unframed\"}".to_vec()),
        T + 4,
    );

    // The store: the builder consumed part of each topic.
    let version = |profile: Value| {
        Some(
            json!({"profile": profile, "updated_at": T + 500})
                .to_string()
                .into_bytes(),
        )
    };
    log.put("e.profiles", 0, Some("c1"), version(json!({"email": "a@x.io", "first_email": "a@x.io", "tier": "gold", "orders": 2, "spent": 12.44, "smallest": 0.1, "largest": 12.34, "skus": ["B", "A"]})), T + 500);
    log.put("e.profiles", 0, Some("c2"), version(json!({"email": "b@x.io", "first_email": "b@x.io", "marketing": true, "pages": ["/home"], "first_page": "/home"})), T + 501);
    log.put("e.profiles", 0, Some("c3"), version(json!({"email": "c@x.io", "first_email": "old@x.io", "orders": 9, "spent": 40.5, "smallest": -1, "largest": 9, "skus": ["X", "Z", "Y"], "first_page": "/shared", "pages": ["/shared"]})), T + 502);
    log.put(
        "e.profiles",
        0,
        Some("c4"),
        version(json!({"orders": 1})),
        T + 503,
    );
    log.put("e.profiles", 0, Some("c4"), None, T + 504);
    log.put(
        "e.profiles",
        0,
        Some("c5"),
        version(json!({"orders": 3})),
        T + 505,
    );
    log.put(
        "e.profiles",
        0,
        Some("c6"),
        Some(b"garbage".to_vec()),
        T + 506,
    );
    log.put(
        "e.profiles",
        0,
        Some("c7"),
        version(json!({"orders": 2, "smallest": 3, "largest": "free", "spent": 3, "skus": "Q"})),
        T + 507,
    );
    for ((topic, partition), high) in log.next.clone() {
        let low = if topic == "e.orders" { 100 } else { 0 };
        log.capture.set_watermarks(&topic, partition, low, high);
    }
    let offsets = [
        (("e.identity".to_owned(), 0), 3),
        (("e.consent".to_owned(), 0), 2),
        (("e.orders".to_owned(), 0), 103),
        (("e.clicks".to_owned(), 0), 1),
    ];
    log.capture.groups.push(CapturedGroup {
        name: "e.builder".into(),
        state: "Empty".into(),
        offsets: offsets.into_iter().collect(),
        commits: Vec::new(),
    });
    log.capture.finish();
    log.capture
}

#[test]
fn the_job_on_the_edge_cases_answers_as_the_rehearsal() {
    let Some(python) = flink_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("edge.jsonl");
    save_capture(&edge_capture(), &capture, CaptureFormat::Freshlens).unwrap();
    let spec = dir.path().join("edge.toml");
    std::fs::write(&spec, EDGE_SPEC).unwrap();
    let (rehearsal, profiles) = agree(&python, &capture, &spec, dir.path());
    // Not a vacuous agreement: every class, every count kind, is there.
    let fields = rehearsal["fields"].as_object().unwrap();
    for class in ["store_ahead", "store_behind", "different"] {
        let n: i64 = fields.values().map(|f| f[class].as_i64().unwrap()).sum();
        assert!(n > 0, "no {class} in {rehearsal}");
    }
    for counted in [
        "keyless_records",
        "undecodable_records",
        "store_only",
        "store_deleted",
        "undecodable_store_versions",
    ] {
        assert!(
            rehearsal[counted].as_i64().unwrap() > 0,
            "{counted}: {rehearsal}"
        );
    }
    // The rebuilt profiles, in the store's layout, fold as freshlens folds: c2 holds the clicks
    // its anonymous id made before it was linked; c1 only what followed its erasure.
    let profile = |customer: &str| -> Value {
        let row = profiles
            .iter()
            .find(|p| p["customer"] == customer)
            .expect(customer);
        serde_json::from_str(row["profile"].as_str().unwrap()).unwrap()
    };
    let c2 = profile("c2");
    // anon-x, claimed by c2 and c3, goes to the least key.
    assert_eq!(c2["profile"]["pages"], json!(["/home", "/cart", "/shared"]));
    assert_eq!(c2["profile"]["marketing"], json!(false));
    assert!(c2["updated_at"].as_i64().unwrap() > T);
    let c1 = profile("c1");
    assert_eq!(c1["profile"]["orders"], json!(3));
    assert!(same_value(&c1["profile"]["spent"], &json!(37)));
    assert_eq!(c1["profile"]["email"], json!("a2@x.io"));
    assert!(c1["profile"].get("tier").is_none(), "reset by a null: {c1}");
}
