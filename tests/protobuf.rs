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

/// The broker, Confluent's Python and a fresh registry; `None` (skipped) without them.
fn world() -> Option<(String, std::path::PathBuf, schema_registry::Registry)> {
    let bootstrap = broker()?;
    let python = confluent_python()?;
    Some((bootstrap, python, schema_registry::start(AUTH)))
}

#[test]
fn protobuf_and_json_schema_from_confluents_client_fold_like_json() {
    let Some((bootstrap, python, registry)) = world() else {
        return;
    };
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

    // The browser's view of the topic (`messages --spec`), through a bearer token: each
    // record read through its schema, the message its indexes chose, `pii` masked.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args(["messages", "-b", &bootstrap, "-t", &identities, "--json"])
        .args(["--spec", spec.to_str().unwrap()])
        .args(["--schema-registry", &registry.url])
        .args(["--schema-registry-token", schema_registry::TOKEN])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let device = rows
        .iter()
        .find(|r| r["message"] == "c360.Identity.Device")
        .unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(device["message_indexes"], json!([1, 0]));
    assert_eq!(device["value"], json!({"id": "dev-1", "seenMs": "5"}));
    assert_eq!(device["schema_id"], json!(identity_id));
    let identity_rows: Vec<&Value> = rows
        .iter()
        .filter(|r| r["message"] == "c360.Identity")
        .collect();
    assert_eq!(identity_rows.len(), 3, "{rows:?}");
    assert!(identity_rows.iter().all(|r| r["value"]["email"] == "***"));
    assert!(
        identity_rows
            .iter()
            .all(|r| r["message_indexes"] == json!([1]))
    );
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("@example.com"),
        "no e-mail shown"
    );
    assert_eq!(
        rows.iter().filter(|r| r["error"].is_string()).count(),
        1,
        "the broken record is undecodable"
    );
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .arg("profile")
        .args([
            "-b",
            &bootstrap,
            "--spec",
            spec.to_str().unwrap(),
            "--key",
            "cust-1",
        ])
        .args(["--schema-registry", &registry.url])
        .args(["--schema-registry-token", "wrong-token"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&refused.stdout).to_string()
        + &String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("refused the credentials"), "{said}");
    assert!(
        !said.contains("wrong-token"),
        "the token is never shown: {said}"
    );

    // A capture of both topics reads as the broker does.
    let capture = dir.path().join("c360.jsonl.zst");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args([
            "capture",
            "-b",
            &bootstrap,
            "-t",
            &identities,
            "-t",
            &orders,
        ])
        .args(["--output", capture.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let captured = profile(&[
        "--capture",
        capture.to_str().unwrap(),
        "--spec",
        spec.to_str().unwrap(),
        "--schema-registry",
        &registry.url,
        "--schema-registry-auth",
        AUTH,
    ]);
    assert_eq!(
        captured["fields"], doc["fields"],
        "the capture folds as the broker"
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

/// A producer renames `email` to `email_address` in a new JSON Schema version: the store and
/// the fold agree (both read `/email`, which stopped changing), and the field is stale all the
/// same, with cause `schema_change` at the first record of the new version. `schemas` lists
/// both versions, where they appeared and the paths each carries.
#[test]
fn a_renamed_field_is_named_a_schema_change_with_its_offset() {
    let Some((bootstrap, python, registry)) = world() else {
        return;
    };
    let identities = unique_topic("js-identity");
    create_topic(&bootstrap, &identities, 1);
    registry.set_compatibility(&format!("{identities}-value"), "NONE");
    let schema = |email: &str| {
        json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": "Identity", "type": "object",
            "properties": {"ts": {"type": "integer"}, email: {"type": "string"},
                           "country": {"type": "string"}}
        })
    };
    let record = |ms: i64, email_key: &str, email: &str| {
        let mut value = json!({"ts": ms, "country": "FR"});
        value[email_key] = json!(email);
        json!({"key": "cust-1", "timestamp_ms": ms, "value": value})
    };
    let plan = |email_key: &str, records: Value| {
        json!({
            "bootstrap": bootstrap, "registry": registry.url, "registry_auth": AUTH,
            "proto_dir": concat!(env!("CARGO_MANIFEST_DIR"), "/tests/proto"),
            "topics": [{"topic": identities, "format": "json-schema",
                        "schema": schema(email_key), "records": records}]
        })
    };
    confluent_produce(
        &python,
        &plan(
            "email",
            json!([
                record(t0() + 1000, "email", "a@example.com"),
                record(t0() + 2000, "email", "b@example.com")
            ]),
        ),
    );
    let placed = confluent_produce(
        &python,
        &plan(
            "email_address",
            json!([
                record(t0() + 3000, "email_address", "c@example.com"),
                record(t0() + 4000, "email_address", "d@example.com")
            ]),
        ),
    );
    let (partition, since) = (
        placed[&identities][0][0].as_i64().unwrap(),
        placed[&identities][0][1].as_i64().unwrap(),
    );
    let ids: Vec<usize> = registry.versions().into_iter().map(|v| v.2).collect();
    assert_eq!(ids.len(), 2, "two versions registered: {ids:?}");
    // The store a builder reading `/email` wrote: the last address it saw.
    let store = unique_topic("js-profiles");
    create_topic(&bootstrap, &store, 1);
    let mut version = TestRecord::new(
        0,
        "cust-1",
        &json!({"updated_at": t0() + 4500, "profile": {"email": "b@example.com", "country": "FR"}})
            .to_string(),
        t0() + 4500,
    );
    version.partition = 0;
    produce(&bootstrap, &store, &[version]);

    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("c360.toml");
    std::fs::write(
        &spec,
        format!(
            r#"
[[source]]
topic = "{identities}"
format = "json-schema"
event_time = "/ts"
[[field]]
name = "email"
topic = "{identities}"
path = "/email"
rule = "last"
[[field]]
name = "country"
topic = "{identities}"
path = "/country"
rule = "last"
[store]
topic = "{store}"
updated_at = "/updated_at"
fields = "/profile"
"#
        ),
    )
    .unwrap();
    let registry_args = [
        "--schema-registry",
        registry.url.as_str(),
        "--schema-registry-auth",
        AUTH,
    ];
    let spec_arg = spec.to_str().unwrap();
    let mut args = vec!["-b", bootstrap.as_str(), "--spec", spec_arg];
    args.extend(registry_args);
    let doc = profile(&args);
    let stale = doc["store"]["stale"].as_array().unwrap();
    let email = stale
        .iter()
        .find(|f| f["field"] == "email")
        .unwrap_or_else(|| panic!("email listed stale: {stale:?}"));
    assert_eq!(email["cause"], "schema_change");
    assert_eq!(email["schema_id"], json!(ids[1]));
    assert_eq!(email["since_offset"], json!(since));
    assert_eq!(email["topic"], json!(identities));
    assert_eq!(email["partition"], json!(partition));
    assert_eq!(email["subject"], json!(format!("{identities}-value")));
    assert_eq!(email["version"], json!(2));
    assert_eq!(email["expected"], email["served"], "store and fold agree");
    assert!(
        stale.iter().all(|f| f["field"] != "country"),
        "country is still written: {stale:?}"
    );

    let mut args = vec![
        "schemas",
        "-b",
        bootstrap.as_str(),
        "--spec",
        spec_arg,
        "--json",
    ];
    args.extend(registry_args);
    let schemas = crate::fixtures::freshlens_json(&args);
    let source = &schemas["sources"][0];
    assert_eq!(source["topic"], json!(identities));
    assert_eq!(source["format"], "json-schema");
    assert_eq!(source["compatibility"], "NONE");
    let versions = source["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert_eq!(versions[0]["schema_id"], json!(ids[0]));
    assert_eq!(versions[0]["records"], 2);
    assert_eq!(versions[0]["paths"]["/email"], true);
    assert_eq!(versions[1]["schema_id"], json!(ids[1]));
    assert_eq!(versions[1]["version"], 2);
    assert_eq!(versions[1]["paths"]["/email"], false);
    assert_eq!(versions[1]["paths"]["/country"], true);
    assert_eq!(
        versions[1]["partitions"][partition.to_string()]["first_offset"],
        json!(since)
    );
    assert_eq!(source["changes"][0]["path"], "/email");
    assert_eq!(source["changes"][0]["since_offset"], json!(since));
}
