//! Nothing lost, nothing leaked, nothing written: bad input and overrides against the CLI,
//! from capture files (no broker needed) and, where the cluster is the point, against Tansu.

use std::process::{Command, Output};

use serde_json::{Value, json};

fn freshlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args(args)
        .output()
        .unwrap()
}

/// Writes `lines` as a JSON Lines capture at `path`, which it returns.
fn write_lines(path: &std::path::Path, lines: &[Value]) -> std::path::PathBuf {
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(path, text.join("\n")).unwrap();
    path.to_owned()
}

/// A spec of orders (with `source` added to its source) whose `email` is `pii`, and which
/// counts the orders.
fn orders_spec(source: &str) -> String {
    format!(
        r#"
budget = "5m"
[[source]]
topic = "orders"
event_time = "/ts"
{source}
[[field]]
name = "email"
topic = "orders"
path = "/email"
rule = "last"
pii = true
[[field]]
name = "orders"
topic = "orders"
path = "/order_id"
rule = "count"
"#
    )
}

/// A capture of one customer's orders, some with event times no one can read, and a spec
/// with a `pii` field; both written into `dir`.
pub fn orders_capture(dir: &std::path::Path) -> (String, String) {
    let spec = dir.join("c.toml");
    std::fs::write(&spec, orders_spec("")).unwrap();
    let mut lines = vec![
        json!({"freshlens_capture": 1, "captured_at_ms": 1_700_000_100_000i64,
        "topics": [{"name": "orders", "partitions": [{"id": 0, "low": 0, "high": 4}]}]}),
    ];
    let times = [
        json!(1_700_000_000_000i64),
        json!("not-a-date"),
        json!("9999-99-99T99:99:99Z"),
        json!(1_700_000_003_000i64),
    ];
    for (offset, ts) in times.into_iter().enumerate() {
        let value = json!({"ts": ts, "order_id": offset, "email": "cust-1@example.com"});
        lines.push(json!({"topic": "orders", "partition": 0, "offset": offset,
            "timestamp_ms": 1_700_000_000_000i64 + offset as i64 * 1000, "key": "cust-1",
            "value": value.to_string()}));
    }
    let capture = write_lines(&dir.join("orders.jsonl"), &lines);
    (capture.display().to_string(), spec.display().to_string())
}

#[test]
fn unreadable_event_times_are_counted_per_source_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let (capture, spec) = orders_capture(dir.path());
    let args = [
        "--capture",
        &capture,
        "profile",
        "--spec",
        &spec,
        "--key",
        "cust-1",
    ];
    let output = freshlens(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("2 record(s) of orders had an unreadable /ts; their broker time was used"),
        "{text}"
    );
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let output = freshlens(&json_args);
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["unreadable_event_times"], json!({"orders": 2}));
    assert_eq!(doc["fields"]["orders"]["value"], json!(4));
}

#[test]
fn a_file_that_is_not_a_capture_fails_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let random = dir.path().join("random.bin");
    std::fs::write(
        &random,
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    for file in [
        empty.display().to_string(),
        random.display().to_string(),
        "/dev/null".into(),
    ] {
        let output = freshlens(&["--capture", &file, "topics"]);
        assert!(!output.status.success(), "{file} exited 0");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("not a capture"), "{file}: {stderr}");
    }
}

#[test]
fn meaningless_flags_are_refused_at_parse_time_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (capture, _) = orders_capture(dir.path());
    for (args, says) in [
        (
            vec!["messages", "-t", "orders", "-c", "0"],
            "0 is not in 1..",
        ),
        (
            vec!["messages", "-t", "orders", "-o", "@-1"],
            "start \"@-1\"",
        ),
        (vec!["messages", "-t", "orders", "-o", "-0"], "start \"-0\""),
        (
            vec![
                "freshness",
                "-t",
                "orders",
                "--event-time",
                "/ts",
                "--bucket",
                "18446744073709551615",
            ],
            "is not in 1..=31536000",
        ),
        (vec!["topics", "--timeout", "400"], "400 is not in 1..=300"),
    ] {
        let mut all = vec!["--capture", capture.as_str()];
        all.extend(args.iter().copied());
        let output = freshlens(&all);
        assert!(!output.status.success(), "{args:?} exited 0");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("InvalidArgument"), "{stderr}");
    }
}

/// A new one-partition topic holding one record.
fn topic_with_a_record(bootstrap: &str, what: &str) -> String {
    let topic = crate::fixtures::unique_topic(what);
    crate::fixtures::create_topic(bootstrap, &topic, 1);
    let record = crate::fixtures::TestRecord::new(0, "k", "v", crate::fixtures::t0());
    crate::fixtures::produce(bootstrap, &topic, &[record]);
    topic
}

/// Overrides that would write are refused, and the broker shows it: the same groups and
/// topics before and after (Tansu lists only groups with commits, which is what a write
/// would leave).
#[test]
fn properties_that_would_write_are_refused_and_nothing_changes() {
    let Some(bootstrap) = crate::fixtures::broker() else {
        return;
    };
    let topic = topic_with_a_record(&bootstrap, "ro-override");
    let new_topic = crate::fixtures::unique_topic("ro-autocreate");
    let groups_before = crate::readonly::group_names(&bootstrap);
    let cluster = crate::fixtures::connect(&bootstrap);
    let topics_before: Vec<String> = cluster
        .topics(true)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    for (props, read) in [
        (
            vec!["enable.auto.commit=true", "enable.auto.offset.store=true"],
            topic.as_str(),
        ),
        (vec!["allow.auto.create.topics=true"], new_topic.as_str()),
    ] {
        let mut args = vec!["messages", "-b", &bootstrap, "-t", read];
        for p in &props {
            args.extend(["-X", p]);
        }
        let output = freshlens(&args);
        assert!(!output.status.success(), "{props:?} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("freshlens is read-only"), "{stderr}");
    }
    // Other tests make groups and topics meanwhile: what matters is none of freshlens's own.
    let made: Vec<String> = crate::readonly::group_names(&bootstrap)
        .into_iter()
        .filter(|g| !groups_before.contains(g) && g.starts_with("freshlens"))
        .collect();
    assert!(made.is_empty(), "groups made: {made:?}");
    let topics_after: Vec<String> = cluster
        .topics(true)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert!(
        !topics_after.contains(&new_topic),
        "{new_topic} was created"
    );
    assert!(topics_before.iter().all(|t| topics_after.contains(t)));
}

#[test]
fn demo_seed_refuses_an_existing_group_and_says_it_writes() {
    let Some(bootstrap) = crate::fixtures::broker() else {
        return;
    };
    let topic = topic_with_a_record(&bootstrap, "ro-seed");
    let group = format!("{topic}-someones-group");
    crate::groups::commit(&bootstrap, &group, &topic, &[(0, 1)]);
    let prefix = crate::fixtures::unique_topic("ro-seed-demo");
    let output = freshlens(&[
        "demo",
        "seed",
        "-b",
        &bootstrap,
        "--prefix",
        &prefix,
        "--customers",
        "5",
        "--events",
        "50",
        "--builder-group",
        &group,
    ]);
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.lines().next().unwrap_or_default().contains("WRITES"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("group {group} already exists")),
        "{stderr}"
    );
    // Its offsets are where its owner left them, and no demo topic was made.
    let cluster = crate::fixtures::connect(&bootstrap);
    let committed = cluster
        .committed_offsets(&group, &[(topic.clone(), 0)])
        .unwrap();
    assert_eq!(committed[&(topic.clone(), 0)], Some(1));
    assert!(cluster.topic(&format!("{prefix}.orders")).is_err());
    let help = freshlens(&["demo", "seed", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("WRITES"));
}

#[test]
fn pii_is_masked_in_every_cli_view_and_export_unless_revealed() {
    let dir = tempfile::tempdir().unwrap();
    let (capture, spec) = orders_capture(dir.path());
    let address = "cust-1@example.com";
    let exported = dir.path().join("out.jsonl");
    let exported = exported.display().to_string();
    let views: Vec<Vec<&str>> = vec![
        vec!["timeline", "--spec", &spec, "--key", "cust-1"],
        vec!["timeline", "--spec", &spec, "--key", "cust-1", "--json"],
        vec!["profile", "--spec", &spec, "--key", "cust-1"],
        vec!["profile", "--spec", &spec, "--key", "cust-1", "--json"],
        vec!["messages", "-t", "orders", "--spec", &spec],
        vec!["messages", "-t", "orders", "--spec", &spec, "--json"],
    ];
    for view in &views {
        let mut args = vec!["--capture", capture.as_str()];
        args.extend(view.iter().copied());
        let output = freshlens(&args);
        assert!(
            output.status.success(),
            "{view:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            !stdout.contains(address),
            "{view:?} shows the address: {stdout}"
        );
        assert!(stdout.contains("***"), "{view:?} masks: {stdout}");
        args.push("--reveal-pii");
        let revealed = freshlens(&args);
        assert!(
            String::from_utf8_lossy(&revealed.stdout).contains(address),
            "{view:?} --reveal-pii shows it"
        );
    }
    let doc = crate::fixtures::freshlens_json(&[
        "--capture",
        &capture,
        "timeline",
        "--spec",
        &spec,
        "--key",
        "cust-1",
        "--json",
    ]);
    assert_eq!(doc["pii"], json!("masked"));
    for (reveal, state) in [(false, "masked"), (true, "revealed")] {
        let mut args = vec![
            "--capture",
            &capture,
            "capture",
            "--spec",
            &spec,
            "--key",
            "cust-1",
            "-o",
            &exported,
        ];
        if reveal {
            args.push("--reveal-pii");
        }
        assert!(freshlens(&args).status.success());
        let text = std::fs::read_to_string(&exported).unwrap();
        let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(header["pii"], json!(state), "the first line says so");
        assert_eq!(text.contains(address), reveal, "{state}: {text}");
    }
}

/// A refused port and a name that does not resolve are known within milliseconds: reported
/// then, not after the timeout (here a generous 30 s).
#[test]
fn unreachable_clusters_are_reported_as_soon_as_every_address_failed() {
    for bootstrap in ["127.0.0.1:1", "no-such-host.invalid:9092"] {
        let started = std::time::Instant::now();
        let output = freshlens(&["topics", "-b", bootstrap, "--timeout", "30"]);
        let took = started.elapsed();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("cannot reach the cluster at {bootstrap}")),
            "{stderr}"
        );
        assert!(
            took < std::time::Duration::from_secs(10),
            "{bootstrap}: {took:?}"
        );
    }
}

/// A Schema Registry that accepts connections and never answers: one `--timeout` bounds the
/// whole command, not one per schema id, and every record it could not decode is reported.
/// (No Schema Registry can be installed here: an in-test server stands in.)
#[test]
fn a_hung_schema_registry_costs_one_timeout_and_is_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream); // accepted, never answered
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("avro.toml");
    std::fs::write(&spec, "[[source]]\ntopic = \"orders\"\nformat = \"avro\"\n").unwrap();
    let mut lines = vec![json!({"freshlens_capture": 1, "captured_at_ms": 1_700_000_100_000i64})];
    for id in 1..=6u8 {
        let value: Vec<u8> = vec![0, 0, 0, 0, id, 2, 4];
        lines.push(
            json!({"topic": "orders", "partition": 0, "offset": id, "timestamp_ms":
            1_700_000_000_000i64, "key": "cust-1", "value_b64":
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &value)}),
        );
    }
    let capture = write_lines(&dir.path().join("avro.jsonl"), &lines);
    let started = std::time::Instant::now();
    let output = freshlens(&[
        "--capture",
        capture.to_str().unwrap(),
        "--timeout",
        "2",
        "profile",
        "--spec",
        spec.to_str().unwrap(),
        "--key",
        "cust-1",
        "--schema-registry",
        &url,
    ]);
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(6), "took {took:?}");
    assert!(!output.status.success(), "nothing decoded is not a profile");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.matches("undecodable orders/0@").count(),
        6,
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("none of the 6 records read could be decoded"),
        "{stderr}"
    );
}

pub const ADDRESS: &str = "cust-1@example.com";

/// Payloads holding [`ADDRESS`] that are not strict JSON: a lenient reader (or none) would show
/// it. The fuzz tests wrap their mutants the same ways.
pub fn not_strict_json(object: &str) -> Vec<Vec<u8>> {
    let mut latin1 = object.as_bytes().to_vec();
    latin1.insert(object.len() - 3, 0xe9);
    let mut invalid = object.as_bytes().to_vec();
    invalid.insert(1, 0xff);
    let mut framed = vec![0, 0, 0, 0, 7];
    framed.extend(object.as_bytes());
    let tail = &object[1..];
    vec![
        format!("\u{feff}{object}").into_bytes(),
        format!("{object} and more").into_bytes(),
        format!("{object}{object}").into_bytes(),
        format!("{{\"n\":1e400,{tail}").into_bytes(),
        format!("{{\"n\":NaN,{tail}").into_bytes(),
        format!("// a comment\n{object}").into_bytes(),
        format!("{}{object}{}", "[".repeat(200), "]".repeat(200)).into_bytes(),
        latin1,
        invalid,
        framed,
    ]
}

/// A capture whose orders link a customer's ids by e-mail (a `pii` path), with records keyed by
/// the address, an erasure, and payloads that are not strict JSON; and its spec.
pub fn linked_by_email_capture(dir: &std::path::Path) -> (String, String) {
    let spec = dir.join("linked.toml");
    let source = "links = [\"/email\"]\nerase_when = { path = \"/type\", equals = \"erasure\" }\n";
    std::fs::write(&spec, orders_spec(source)).unwrap();
    let t0 = 1_700_000_000_000i64;
    let mut payloads: Vec<(&str, Vec<u8>)> = vec![
        (
            "cust-1",
            json!({"ts": t0, "order_id": 0, "email": ADDRESS})
                .to_string()
                .into_bytes(),
        ),
        (
            ADDRESS,
            json!({"ts": t0 + 1, "order_id": 1})
                .to_string()
                .into_bytes(),
        ),
    ];
    let object = json!({"ts": t0 + 2, "order_id": 2, "email": ADDRESS}).to_string();
    payloads.extend(not_strict_json(&object).into_iter().map(|p| ("cust-1", p)));
    payloads.push((
        "cust-1",
        json!({"ts": t0 + 50, "type": "erasure"})
            .to_string()
            .into_bytes(),
    ));
    let mut lines = vec![
        json!({"freshlens_capture": 1, "captured_at_ms": t0 + 100_000,
        "topics": [{"name": "orders", "partitions": [{"id": 0, "low": 0, "high": payloads.len()}]}]}),
    ];
    for (offset, (key, value)) in payloads.iter().enumerate() {
        lines.push(json!({"topic": "orders", "partition": 0, "offset": offset,
            "timestamp_ms": t0 + offset as i64, "key": key,
            "value_b64": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, value)}));
    }
    let capture = write_lines(&dir.join("linked.jsonl"), &lines);
    (capture.display().to_string(), spec.display().to_string())
}

/// Payloads no strict JSON reader takes, and ids an e-mail link brings in: never shown raw
/// in any view or export, while `--reveal-pii` shows them.
#[test]
fn unparseable_payloads_and_linked_ids_are_masked_in_every_view_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let (capture, spec) = linked_by_email_capture(dir.path());
    let key = ["--key", "cust-1"];
    let views: Vec<(Vec<&str>, bool)> = vec![
        (vec!["messages", "-t", "orders", "--spec", &spec], true),
        (
            vec!["messages", "-t", "orders", "--spec", &spec, "--json"],
            true,
        ),
        (
            vec![
                "messages",
                "-t",
                "orders",
                "--spec",
                &spec,
                "--value-format",
                "text",
            ],
            true,
        ),
        (vec!["timeline", "--spec", &spec, key[0], key[1]], true),
        (
            vec!["timeline", "--spec", &spec, key[0], key[1], "--json"],
            true,
        ),
        (vec!["profile", "--spec", &spec, key[0], key[1]], true),
        (
            vec!["profile", "--spec", &spec, key[0], key[1], "--json"],
            true,
        ),
        (vec!["erasure", "--spec", &spec, key[0], key[1]], false),
        (
            vec!["erasure", "--spec", &spec, key[0], key[1], "--json"],
            false,
        ),
    ];
    for (view, can_reveal) in &views {
        let mut args = vec!["--capture", capture.as_str()];
        args.extend(view.iter().copied());
        let output = freshlens(&args);
        // `messages` shows record keys as they are (no lookup tells it which are PII ids): the
        // one record keyed by the address is set aside.
        let stdout = String::from_utf8_lossy(&output.stdout)
            .replace(&format!("\t{ADDRESS}\t"), "\tkey\t")
            .replace(&format!("\"key\":\"{ADDRESS}\""), "\"key\":\"key\"");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stdout.is_empty(), "{view:?}: {stderr}");
        assert!(
            !stdout.contains(ADDRESS) && !stderr.contains(ADDRESS),
            "{view:?} shows the address: {stdout}{stderr}"
        );
        assert!(stdout.contains("***"), "{view:?} masks: {stdout}");
        if *can_reveal {
            args.push("--reveal-pii");
            let revealed = freshlens(&args);
            assert!(
                String::from_utf8_lossy(&revealed.stdout).contains(ADDRESS),
                "{view:?} --reveal-pii shows it"
            );
        }
    }
    // Each unparseable payload is masked whole and says so.
    let output = freshlens(&[
        "--capture",
        &capture,
        "messages",
        "-t",
        "orders",
        "--spec",
        &spec,
        "--json",
    ]);
    let masked = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.contains("\"value_format\":\"masked\""))
        .count();
    assert_eq!(masked, 10, "{}", String::from_utf8_lossy(&output.stdout));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(
            "10 record(s) of a topic with pii fields did not decode as the spec's format: masked whole"
        ),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Ids: the e-mail an order linked in is masked among the identities.
    let doc = crate::fixtures::freshlens_json(&[
        "--capture",
        &capture,
        "timeline",
        "--spec",
        &spec,
        "--key",
        "cust-1",
        "--json",
    ]);
    assert_eq!(doc["identities"], json!(["cust-1", "***"]));
    assert!(
        doc["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == "***")
    );
    let exported = dir.path().join("out.jsonl").display().to_string();
    for format in ["freshlens", "kcat"] {
        let output = freshlens(&[
            "--capture",
            &capture,
            "capture",
            "--spec",
            &spec,
            "--key",
            "cust-1",
            "-o",
            &exported,
            "--format",
            format,
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8_lossy(&std::fs::read(&exported).unwrap()).into_owned();
        assert!(!text.contains(ADDRESS), "{format}: {text}");
        assert!(text.contains("***"), "{format}: {text}");
    }
}

/// A password in a URL or in a malformed property never reaches an error message.
#[test]
fn secrets_in_urls_and_malformed_properties_are_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("s.toml");
    std::fs::write(
        &spec,
        "[[source]]\ntopic = \"orders\"\n[store]\ntopic = \"profiles\"\nbuilder_group = \"b\"\n",
    )
    .unwrap();
    let mut lines = vec![
        json!({"freshlens_capture": 1, "captured_at_ms": 1_700_000_100_000i64,
        "topics": [{"name": "orders", "partitions": [{"id": 0, "low": 0, "high": 1}]},
            {"name": "profiles", "partitions": [{"id": 0, "low": 0, "high": 1}]}],
        "groups": [{"group": "b", "state": "Empty",
            "offsets": [{"topic": "orders", "partition": 0, "offset": 1}]}]}),
    ];
    for topic in ["orders", "profiles"] {
        lines.push(json!({"topic": topic, "partition": 0, "offset": 0,
            "timestamp_ms": 1_700_000_000_000i64, "key": "c", "value": "{}"}));
    }
    let capture = write_lines(&dir.path().join("c.jsonl"), &lines);
    let (capture, spec) = (capture.display().to_string(), spec.display().to_string());
    let output = freshlens(&[
        "--capture",
        &capture,
        "stale",
        "--spec",
        &spec,
        "--connect",
        "http://admin:Pw-Secret@127.0.0.1:1",
    ]);
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(shown.contains("http://127.0.0.1:1"), "{shown}");
    assert!(!shown.contains("Pw-Secret"), "{shown}");
    let properties = dir.path().join("client.properties");
    std::fs::write(&properties, "sasl.username=a\nsasl.password:Pw-Secret\n").unwrap();
    let properties = properties.display().to_string();
    for (args, says) in [
        (
            vec!["-X", "sasl.password:Pw-Secret"],
            "-X number 1: expected key=value",
        ),
        (
            vec!["-X", "a=b", "-X", "sasl.password Pw-Secret"],
            "-X number 2: expected key=value",
        ),
        (vec!["-X", "=Pw-Secret"], "-X number 1: expected key=value"),
        (
            vec!["-F", properties.as_str()],
            "client.properties:2: expected key=value",
        ),
    ] {
        let mut all = vec!["topics", "-b", "127.0.0.1:1"];
        all.extend(args.iter().copied());
        let output = freshlens(&all);
        assert!(!output.status.success(), "{args:?} exited 0");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("Pw-Secret"), "{args:?}: {stderr}");
    }
}

/// A topic deleted while a client reads it: Tansu answers the reader's next fetches with
/// leader-discovery tags that librdkafka 2.12 turned into a NULL topic name and a SIGSEGV (in
/// every client: Confluent's Python one crashed the same way). freshlens builds librdkafka with
/// the fix (`vendor/README.md`). The reading runs in a child process, so a crash fails this
/// test alone, with its signal.
#[test]
fn a_topic_deleted_while_it_is_read_does_not_crash_the_reader() {
    const CHILD: &str = "FRESHLENS_TEST_READ_WHILE_DELETED";
    let Some(bootstrap) = crate::fixtures::broker() else {
        return;
    };
    if std::env::var_os(CHILD).is_some() {
        return read_while_deleted(&bootstrap);
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "hardening::a_topic_deleted_while_it_is_read_does_not_crash_the_reader",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "the reader ended {:?}: {said}",
        out.status
    );
    assert!(said.contains("read 20 records, then polled 8s"), "{said}");
}

fn read_while_deleted(bootstrap: &str) {
    use rdkafka::admin::{AdminClient, AdminOptions};
    use rdkafka::consumer::{BaseConsumer, Consumer as _};
    use rdkafka::{ClientConfig, Offset, TopicPartitionList};
    use std::time::{Duration, Instant};
    let topic = crate::fixtures::unique_topic("deleted-while-read");
    crate::fixtures::create_topic(bootstrap, &topic, 1);
    let records: Vec<_> = (0..20)
        .map(|i| crate::fixtures::TestRecord::new(0, "k", &format!("v{i}"), crate::fixtures::t0()))
        .collect();
    crate::fixtures::produce_batched(bootstrap, &topic, &records);
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "freshlens-test-unused")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(&topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&assignment).unwrap();
    let mut read = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while read < records.len() && Instant::now() < deadline {
        if let Some(Ok(_)) = consumer.poll(Duration::from_millis(100)) {
            read += 1;
        }
    }
    let admin: AdminClient<_> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let deleted =
        futures_executor::block_on(admin.delete_topics(&[&topic], &AdminOptions::new())).unwrap();
    assert!(deleted.iter().all(Result::is_ok), "{deleted:?}");
    // The reader keeps fetching the partition that is gone: where the crash was.
    let polled = Instant::now();
    while polled.elapsed() < Duration::from_secs(8) {
        let _ = consumer.poll(Duration::from_millis(100));
    }
    println!("read {read} records, then polled 8s");
}
