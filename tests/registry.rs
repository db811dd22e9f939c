//! Avro through a Schema Registry: the client against an HTTP server that answers with the
//! registry's documented REST responses, then Confluent-framed Avro records on the broker.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use apache_avro::types::Record as AvroRecord;
use freshlens::codec::ParsedSchema;
use freshlens::codec::registry::{RegisteredSchema, RegistryClient};
use freshlens::profile::Partitioner;
use serde_json::{Value, json};

use crate::fixtures::{TestRecord, broker, create_topic, produce, t0, unique_topic};

const ADDRESS: &str = r#"{"type":"record","name":"Address","namespace":"c360","fields":[{"name":"city","type":"string"}]}"#;
const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"c360","fields":[
    {"name":"ts","type":"long"},{"name":"amount","type":"int"},{"name":"ship_to","type":"c360.Address"}]}"#;

struct FakeRegistry {
    url: String,
    requests: Arc<AtomicUsize>,
}

/// Serves `GET path -> (status, body)` over HTTP/1.1, requiring basic auth `user:pass`.
fn fake_registry(routes: HashMap<String, (u16, Value)>, credentials: &str) -> FakeRegistry {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    let expected_auth = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, credentials)
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .to_owned();
            let mut authorized = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.trim_end().split_once(": ")
                    && name.eq_ignore_ascii_case("authorization")
                {
                    authorized = value == expected_auth;
                }
            }
            let (status, body) = if !authorized {
                (401, json!({"error_code": 40101, "message": "Unauthorized"}))
            } else {
                routes.get(&path).cloned().unwrap_or((
                    404,
                    json!({"error_code": 40403, "message": "Schema not found"}),
                ))
            };
            let body = body.to_string();
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    FakeRegistry { url, requests }
}

fn routes() -> HashMap<String, (u16, Value)> {
    HashMap::from([
        (
            "/schemas/ids/7".to_owned(),
            (
                200,
                json!({"schema": ORDER, "references": [{"name": "c360.Address", "subject": "c360-address", "version": 2}]}),
            ),
        ),
        (
            "/subjects/c360-address/versions/2".to_owned(),
            (
                200,
                json!({"subject": "c360-address", "version": 2, "id": 3, "schema": ADDRESS}),
            ),
        ),
        (
            "/schemas/ids/8".to_owned(),
            (
                200,
                json!({"schema": "{\"type\":\"object\"}", "schemaType": "JSON"}),
            ),
        ),
    ])
}

fn framed_order(ts: i64, amount: i32, city: &str) -> Vec<u8> {
    let parsed = ParsedSchema::parse(ORDER, &[ADDRESS.to_owned()]).unwrap();
    let mut address = AvroRecord::new(&parsed.references[0]).unwrap();
    address.put("city", city);
    let mut order = AvroRecord::new(&parsed.schema).unwrap();
    order.put("ts", ts);
    order.put("amount", amount);
    order.put("ship_to", address);
    let mut bytes = vec![0, 0, 0, 0, 7];
    bytes.extend(parsed.encode(order).unwrap());
    bytes
}

#[test]
fn client_resolves_references_caches_and_reports_errors() {
    let registry = fake_registry(routes(), "sr-user:sr-pass");
    let client = RegistryClient::new(&registry.url, Some("sr-user:sr-pass")).unwrap();
    let schema = client.schema(7).unwrap();
    let RegisteredSchema::Avro(parsed) = &*schema else {
        panic!("avro expected")
    };
    assert_eq!(
        parsed.decode(&framed_order(5, 20, "Lyon")[5..]).unwrap(),
        json!({"ts": 5, "amount": 20, "ship_to": {"city": "Lyon"}})
    );
    assert_eq!(
        registry.requests.load(Ordering::SeqCst),
        2,
        "id and one reference"
    );
    client.schema(7).unwrap();
    assert_eq!(registry.requests.load(Ordering::SeqCst), 2, "cached");
    assert!(matches!(
        &*client.schema(8).unwrap(),
        RegisteredSchema::Json
    ));

    let err = client.schema(99).unwrap_err();
    assert!(err.is_an_answer(), "a 404 is the registry's answer");
    let err = err.to_string();
    assert!(
        err.contains("schema id 99") && err.contains("HTTP 404: Schema not found"),
        "{err}"
    );
    client.schema(99).unwrap_err();
    assert_eq!(
        registry.requests.load(Ordering::SeqCst),
        4,
        "the registry's answers are cached, failures included"
    );

    let url_auth = registry.url.replace("http://", "http://sr-user:sr-pass@");
    assert!(
        RegistryClient::new(&url_auth, None)
            .unwrap()
            .schema(7)
            .is_ok(),
        "credentials in the URL"
    );
    let wrong = RegistryClient::new(&registry.url, Some("sr-user:nope")).unwrap();
    let err = wrong.schema(7).unwrap_err().to_string();
    assert!(
        err.contains("refused the credentials") && !err.contains("nope"),
        "{err}"
    );
}

#[test]
fn avro_sources_fold_like_json() {
    let Some(bootstrap) = broker() else { return };
    let registry = fake_registry(routes(), "sr-user:sr-pass");
    let topic = unique_topic("avro-orders");
    create_topic(&bootstrap, &topic, 3);
    let p = Partitioner::Murmur2.partitions_for(b"cust-1", 3)[0];
    let mut records = Vec::new();
    for (i, bytes) in [
        framed_order(t0() + 10, 20, "Lyon"),
        framed_order(t0() + 20, 22, "Paris"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = TestRecord::new(p, "cust-1", "", t0() + i as i64);
        r.value = Some(bytes);
        records.push(r);
    }
    let mut unknown = TestRecord::new(p, "cust-1", "", t0() + 30);
    unknown.value = Some(vec![0, 0, 0, 0, 99, 1, 2]);
    records.push(unknown);
    produce(&bootstrap, &topic, &records);

    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("avro.toml");
    std::fs::write(
        &spec,
        format!(
            r#"
[[source]]
topic = "{topic}"
format = "avro"
event_time = "/ts"
[[field]]
name = "spent"
topic = "{topic}"
path = "/amount"
rule = "sum"
[[field]]
name = "city"
topic = "{topic}"
path = "/ship_to/city"
rule = "last"
"#
        ),
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args([
            "profile",
            "-b",
            &bootstrap,
            "--spec",
            spec.to_str().unwrap(),
            "--key",
            "cust-1",
            "--json",
        ])
        .args([
            "--schema-registry",
            &registry.url,
            "--schema-registry-auth",
            "sr-user:sr-pass",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["fields"]["spent"]["value"], json!(42));
    assert_eq!(doc["fields"]["city"]["value"], json!("Paris"));
    assert_eq!(doc["fields"]["city"]["updated_ms"], json!(t0() + 20));
    let undecodable = doc["undecodable"].as_array().unwrap();
    assert_eq!(undecodable.len(), 1);
    assert!(
        undecodable[0]["reason"]
            .as_str()
            .unwrap()
            .contains("schema id 99"),
        "{}",
        undecodable[0]
    );
}

/// A linked list of Avro records, each the `next` of the one before.
const LINKED: &str = r#"{"type":"record","name":"L","namespace":"c360","fields":[
    {"name":"n","type":"int"},{"name":"next","type":["null","c360.L"]}]}"#;

/// `levels` records of [`LINKED`] nested in each other (two bytes a level: a 10,000-level
/// datum is a 20 KB payload), the innermost holding `n`, framed with schema id 11.
fn framed_linked(levels: usize, n: i32) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0, 0, 11];
    bytes.extend([0x02, 0x02].repeat(levels - 1));
    bytes.extend([(n << 1) as u8, 0x00]);
    bytes
}

#[test]
fn records_nested_past_the_depth_limit_are_undecodable_not_a_crash() {
    let Some(bootstrap) = broker() else { return };
    let mut routes = routes();
    routes.insert("/schemas/ids/11".into(), (200, json!({"schema": LINKED})));
    let registry = fake_registry(routes, "sr-user:sr-pass");
    let topic = unique_topic("avro-linked");
    create_topic(&bootstrap, &topic, 1);
    // 10,000 levels overflowed the stack (exit 134); 1,000 is past the limit of 128 too; 100
    // is deep but within it (not 127: the answer puts the payload a few levels down in its
    // document, past what serde_json reads back here), and 3 is an everyday one.
    let records: Vec<TestRecord> = [(10_000, 1), (1_000, 2), (100, 3), (3, 4)]
        .into_iter()
        .enumerate()
        .map(|(i, (levels, n))| {
            let mut r = TestRecord::new(0, "cust-1", "", t0() + i as i64);
            r.value = Some(framed_linked(levels, n));
            r
        })
        .collect();
    produce(&bootstrap, &topic, &records);
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("linked.toml");
    std::fs::write(
        &spec,
        format!(
            "[[source]]\ntopic = \"{topic}\"\nformat = \"avro\"\n[[field]]\nname = \"n\"\ntopic = \"{topic}\"\npath = \"/next/next/n\"\nrule = \"last\"\n[[field]]\nname = \"count\"\ntopic = \"{topic}\"\npath = \"/n\"\nrule = \"count\"\n"
        ),
    )
    .unwrap();
    let run = |command: &str| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_freshlens"))
            .args([command, "-b", &bootstrap, "--spec", spec.to_str().unwrap()])
            .args([
                "--key",
                "cust-1",
                "--json",
                "--schema-registry",
                &registry.url,
            ])
            .args(["--schema-registry-auth", "sr-user:sr-pass"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{command}: {:?} {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice::<Value>(&output.stdout).unwrap()
    };
    for command in ["profile", "timeline"] {
        let doc = run(command);
        let undecodable = doc["undecodable"].as_array().unwrap();
        let offsets: Vec<&Value> = undecodable.iter().map(|u| &u["offset"]).collect();
        assert_eq!(offsets, [&json!(0), &json!(1)], "{command}: {doc}");
        for u in undecodable {
            assert_eq!(
                u["reason"],
                json!("schema id 11: nested deeper than 128 levels"),
                "{command}"
            );
        }
        if command == "profile" {
            assert_eq!(doc["fields"]["n"]["value"], json!(4), "{doc}");
            assert_eq!(doc["fields"]["count"]["value"], json!(2), "{doc}");
        }
    }
}
