//! Protobuf and JSON Schema as Confluent's own Python client writes them (its
//! `ProtobufSerializer` and `JSONSerializer` against the in-test registry, its producer onto
//! the broker, several records a batch): looked up and folded as JSON is, through the registry
//! and from `.proto` files.

use serde_json::{Value, json};

use crate::fixtures::{
    TestRecord, broker, confluent_python, create_topic, produce, t0, unique_topic,
};
use crate::schema_registry;

const AUTH: &str = "sr-user:sr-pass";

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Runs `tests/python/confluent_produce.py` with `plan`; the (partition, offset) of each
/// record, per topic.
fn confluent_produce(python: &std::path::Path, plan: &Value) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    std::fs::write(&plan_path, plan.to_string()).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/confluent_produce.py"
    );
    let output = std::process::Command::new(python)
        .arg(script)
        .arg(&plan_path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "confluent_produce.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn identity(ms: i64, email: &str, city: &str, marketing: bool) -> Value {
    json!({
        "customerId": "cust-1",
        "email": email,
        "address": {"city": city, "postalCode": "69001"},
        "updatedAt": rfc3339(ms),
        "lifetimeCents": "9007199254740993",
        "marketing": marketing
    })
}

fn profile(args: &[&str]) -> Value {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .arg("profile")
        .args(args)
        .args(["--key", "cust-1", "--json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn protobuf_and_json_schema_from_confluents_client_fold_like_json() {
    let Some(bootstrap) = broker() else { return };
    let Some(python) = confluent_python() else {
        return;
    };
    let registry = schema_registry::start(AUTH);
    let (identities, orders, plain) = (
        unique_topic("pb-identity"),
        unique_topic("js-orders"),
        unique_topic("pb-plain"),
    );
    for topic in [&identities, &orders, &plain] {
        create_topic(&bootstrap, topic, 3);
    }
    let records = json!([
        {"key": "cust-1", "message": "Identity", "timestamp_ms": t0() + 1000,
         "value": identity(t0() + 1000, "old@example.com", "Lyon", true)},
        // A nested message on the same topic: message indexes [1, 0].
        {"key": "cust-1", "message": "Identity.Device", "timestamp_ms": t0() + 2000,
         "value": {"id": "dev-1", "seenMs": "5"}},
        // proto3 writes no `false`: the fold must still see the consent withdrawn.
        {"key": "cust-1", "message": "Identity", "timestamp_ms": t0() + 3000,
         "value": identity(t0() + 3000, "new@example.com", "Paris", false)},
        {"key": "cust-2", "message": "Identity", "timestamp_ms": t0() + 3000,
         "value": identity(t0() + 3000, "two@example.com", "Nantes", true)}
    ]);
    let order_schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Order", "type": "object",
        "properties": {"amount": {"type": "integer"}, "ts": {"type": "integer"}},
        "required": ["amount", "ts"]
    });
    let placed = confluent_produce(
        &python,
        &json!({
            "bootstrap": bootstrap,
            "registry": registry.url,
            "registry_auth": AUTH,
            "proto_dir": concat!(env!("CARGO_MANIFEST_DIR"), "/tests/proto"),
            "topics": [
                {"topic": identities, "format": "protobuf", "records": records},
                {"topic": plain, "format": "protobuf-plain", "records": records},
                {"topic": orders, "format": "json-schema", "schema": order_schema, "records": [
                    {"key": "cust-1", "timestamp_ms": t0() + 2000,
                     "value": {"amount": 20, "ts": t0() + 2000}},
                    {"key": "cust-1", "timestamp_ms": t0() + 4000,
                     "value": {"amount": 22, "ts": t0() + 4000}}
                ]}
            ]
        }),
    );
    // What the client registered: the identity file under its topic's subject, the file it
    // imports under its own name (Timestamp is a known type it does not register).
    let subjects: Vec<String> = registry.versions().into_iter().map(|v| v.0).collect();
    assert!(
        subjects.contains(&format!("{identities}-value")),
        "{subjects:?}"
    );
    assert!(
        subjects.contains(&"c360/common/address.proto".to_owned()),
        "{subjects:?}"
    );
    // A framed record its schema does not describe: counted, never an empty profile.
    let partition = placed[&identities][0][0].as_i64().unwrap() as i32;
    let identity_id = registry
        .versions()
        .into_iter()
        .find(|v| v.0 == format!("{identities}-value"))
        .unwrap()
        .2 as u8;
    let mut broken = TestRecord::new(partition, "cust-1", "", t0() + 5000);
    broken.value = Some(vec![0, 0, 0, 0, identity_id, 0x02, 0x02, 0x0a, 0xff, 0xff]);
    produce(&bootstrap, &identities, &[broken]);

    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("c360.toml");
    let fields = |topic: &str| {
        format!(
            r#"
[[field]]
name = "email"
topic = "{topic}"
path = "/email"
rule = "last"
pii = true
[[field]]
name = "city"
topic = "{topic}"
path = "/address/city"
rule = "last"
[[field]]
name = "marketing"
topic = "{topic}"
path = "/marketing"
rule = "last"
[[field]]
name = "lifetime_cents"
topic = "{topic}"
path = "/lifetimeCents"
rule = "last"
"#
        )
    };
    std::fs::write(
        &spec,
        format!(
            r#"
[[source]]
topic = "{identities}"
format = "protobuf"
event_time = "/updatedAt"
[[source]]
topic = "{orders}"
format = "json-schema"
event_time = "/ts"
{}
[[field]]
name = "spent"
topic = "{orders}"
path = "/amount"
rule = "sum"
"#,
            fields(&identities)
        ),
    )
    .unwrap();
    let doc = profile(&[
        "-b",
        &bootstrap,
        "--spec",
        spec.to_str().unwrap(),
        "--schema-registry",
        &registry.url,
        "--schema-registry-auth",
        AUTH,
    ]);
    let field = |name: &str| doc["fields"][name]["value"].clone();
    assert_eq!(field("city"), json!("Paris"), "{doc}");
    assert_eq!(field("marketing"), json!(false));
    assert_eq!(field("lifetime_cents"), json!("9007199254740993"));
    assert_eq!(field("spent"), json!(42));
    assert_eq!(doc["fields"]["city"]["updated_ms"], json!(t0() + 3000));
    assert_ne!(field("email"), json!("new@example.com"), "pii masked");
    let undecodable = doc["undecodable"].as_array().unwrap();
    assert_eq!(undecodable.len(), 1, "{undecodable:?}");
    assert!(
        undecodable[0]["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("schema id {identity_id}: not a c360.Identity")),
        "{}",
        undecodable[0]
    );

    // The same records unframed, read with the .proto files next to the spec.
    let proto_dir = dir.path().join("protos");
    for file in ["c360/identity.proto", "c360/common/address.proto"] {
        let to = proto_dir.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/proto")
                .join(file),
            to,
        )
        .unwrap();
    }
    let file_spec = proto_dir.join("plain.toml");
    std::fs::write(
        &file_spec,
        format!(
            r#"
[[source]]
topic = "{plain}"
format = "protobuf-file"
proto = ["c360/identity.proto"]
message = "c360.Identity"
event_time = "/updatedAt"
{}"#,
            fields(&plain)
        ),
    )
    .unwrap();
    let doc = profile(&["-b", &bootstrap, "--spec", file_spec.to_str().unwrap()]);
    let field = |name: &str| doc["fields"][name]["value"].clone();
    assert_eq!(field("city"), json!("Paris"), "{doc}");
    assert_eq!(field("marketing"), json!(false));
    // The Device record read as an Identity is not one: its fields land elsewhere, and the
    // fold takes none of them (a plain topic carries no message indexes to tell).
    assert_eq!(field("lifetime_cents"), json!("9007199254740993"));
}
