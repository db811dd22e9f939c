//! The `freshlens` binary end to end: JSON shapes scripts depend on, exit codes, errors.

use std::process::Command;

use serde_json::{Value, json};

use crate::fixtures::{TestRecord, broker, create_topic, produce, t0, unique_topic};

fn freshlens(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args(args)
        .env(
            "FRESHLENS_CONFIG_DIR",
            std::env::temp_dir().join("freshlens-cli-test"),
        )
        .output()
        .expect("run freshlens")
}

fn stdout_lines(output: &std::process::Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON document per line"))
        .collect()
}

#[test]
fn topics_json_has_the_documented_shape() {
    let Some(bootstrap) = broker() else { return };
    let topic = unique_topic("cli-topics");
    create_topic(&bootstrap, &topic, 2);
    produce(&bootstrap, &topic, &[TestRecord::new(1, "k", "v", t0())]);
    let docs = stdout_lines(&freshlens(&["topics", "-b", &bootstrap, "--json"]));
    assert_eq!(docs.len(), 1);
    let listed = docs[0]["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == topic.as_str())
        .expect("topic listed")
        .clone();
    let partitions: Vec<Value> = listed["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            json!([
                p["id"],
                p["low"],
                p["high"],
                p["replicas"].is_array(),
                p["isr"].is_array(),
                p["leader"].is_i64(),
                p["high_confirmed"]
            ])
        })
        .collect();
    // The empty partition needs no fetch; the other's record confirmed its high watermark.
    assert_eq!(
        partitions,
        vec![
            json!([0, 0, 0, true, true, true, true]),
            json!([1, 0, 1, true, true, true, true])
        ]
    );
    assert_eq!(listed["unconfirmed_partitions"], 0);
}

#[test]
fn messages_json_lines_decode_json_text_and_binary() {
    let Some(bootstrap) = broker() else { return };
    let topic = unique_topic("cli-messages");
    create_topic(&bootstrap, &topic, 1);
    let mut binary = TestRecord::new(0, "b", "", t0() + 2);
    binary.value = Some(vec![0xff, 0x00, 0x10]);
    let mut framed = TestRecord::new(0, "s", "", t0() + 3);
    framed.value = Some(vec![0, 0, 0, 0, 42, 2, 4]);
    let mut with_header = TestRecord::new(0, "j", r#"{"tier":"gold"}"#, t0());
    with_header.headers = vec![("trace".into(), "abc".into())];
    produce(
        &bootstrap,
        &topic,
        &[
            with_header,
            TestRecord::new(0, "t", "hello", t0() + 1),
            binary,
            framed,
        ],
    );
    let lines = stdout_lines(&freshlens(&[
        "messages", "-b", &bootstrap, "-t", &topic, "--json",
    ]));
    assert_eq!(
        lines[0],
        json!({
            "topic": topic, "partition": 0, "offset": 0, "timestamp_ms": t0(),
            "timestamp_type": "create_time", "key": "j", "key_format": "text",
            "headers": [{"key": "trace", "value": "abc"}],
            "value": {"tier": "gold"}, "value_format": "json"
        })
    );
    assert_eq!(
        (lines[1]["value"].clone(), lines[1]["value_format"].clone()),
        (json!("hello"), json!("text"))
    );
    assert_eq!(
        (lines[2]["value"].clone(), lines[2]["value_format"].clone()),
        (json!("/wAQ"), json!("base64"))
    );
    assert_eq!(lines[3]["schema_id"], json!(42));
    assert_eq!(lines.len(), 4);
}

#[test]
fn messages_flags_select_partition_start_count_key_and_grep() {
    let Some(bootstrap) = broker() else { return };
    let topic = unique_topic("cli-flags");
    create_topic(&bootstrap, &topic, 2);
    let records: Vec<TestRecord> = (0..6)
        .map(|i| {
            TestRecord::new(
                i % 2,
                &format!("c-{i}"),
                &format!("order {i}"),
                t0() + i as i64 * 1000,
            )
        })
        .collect();
    produce(&bootstrap, &topic, &records);
    let offsets = |args: &[&str]| -> Vec<(i64, i64)> {
        let mut all = vec!["messages", "-b", &bootstrap, "-t", &topic, "--json"];
        all.extend_from_slice(args);
        let mut got: Vec<(i64, i64)> = stdout_lines(&freshlens(&all))
            .iter()
            .map(|l| {
                (
                    l["partition"].as_i64().unwrap(),
                    l["offset"].as_i64().unwrap(),
                )
            })
            .collect();
        got.sort();
        got
    };
    assert_eq!(offsets(&["-p", "1", "-o", "1"]), vec![(1, 1), (1, 2)]);
    assert_eq!(offsets(&["-o", "-1"]), vec![(0, 2), (1, 2)]);
    assert_eq!(offsets(&["-p", "0", "-c", "2"]), vec![(0, 0), (0, 1)]);
    assert_eq!(offsets(&["--key", "c-3"]), vec![(1, 1)]);
    assert_eq!(offsets(&["--grep", "order [45]"]), vec![(0, 2), (1, 2)]);
    let at = format!("@{}", t0() + 3500);
    assert_eq!(offsets(&["-o", &at]), vec![(0, 2), (1, 2)]);
}

#[test]
fn undecodable_values_are_reported_and_the_scan_goes_on() {
    let Some(bootstrap) = broker() else { return };
    let topic = unique_topic("cli-undecodable");
    create_topic(&bootstrap, &topic, 1);
    produce(
        &bootstrap,
        &topic,
        &[
            TestRecord::new(0, "a", "{broken", t0()),
            TestRecord::new(0, "b", r#"{"ok":1}"#, t0()),
        ],
    );
    let output = freshlens(&[
        "messages",
        "-b",
        &bootstrap,
        "-t",
        &topic,
        "--json",
        "--value-format",
        "json",
    ]);
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0]["error"].as_str().unwrap().starts_with("not JSON"),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1]["value"], json!({"ok": 1}));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("1 record(s) could not be decoded"),
        "{stderr}"
    );
}

#[test]
fn a_saved_cluster_that_asks_for_its_password_takes_it_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("clusters.toml"),
        r#"[[cluster]]
name = "prod"
bootstrap = "127.0.0.1:1"
secret = "prompt"
[cluster.properties]
"security.protocol" = "SASL_PLAINTEXT"
"sasl.mechanism" = "PLAIN"
"sasl.username" = "alice"
"#,
    )
    .unwrap();
    let run = |password: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_freshlens"));
        command
            .args(["topics", "--cluster", "prod", "--timeout", "2"])
            .env("FRESHLENS_CONFIG_DIR", dir.path())
            .env_remove("FRESHLENS_PASSWORD")
            .stdin(std::process::Stdio::null());
        if let Some(password) = password {
            command.env("FRESHLENS_PASSWORD", password);
        }
        let output = command.output().expect("run freshlens");
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let stderr = run(None);
    assert!(
        stderr.contains("cluster prod asks for its password")
            && stderr.contains("FRESHLENS_PASSWORD"),
        "{stderr}"
    );
    // With the password given, it gets as far as the (unreachable) cluster, and never prints it.
    let stderr = run(Some("hunter2-secret"));
    assert!(
        stderr.contains("cannot reach the cluster at 127.0.0.1:1"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2-secret"), "{stderr}");
}

#[test]
fn connection_errors_exit_nonzero_with_a_reason_and_no_secret() {
    let output = freshlens(&[
        "topics",
        "-b",
        "127.0.0.1:1",
        "--timeout",
        "2",
        "-X",
        "sasl.password=topsecret99",
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot reach the cluster at 127.0.0.1:1"),
        "{stderr}"
    );
    assert!(!stderr.contains("topsecret99"), "{stderr}");

    let output = freshlens(&["messages", "-b", "127.0.0.1:1", "-t", "x", "-o", "soon"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("expected beginning, end"));
}
