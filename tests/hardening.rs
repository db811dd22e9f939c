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

/// A capture of one customer's orders, some with event times no one can read, and a spec
/// with a `pii` field; both written into `dir`.
pub fn orders_capture(dir: &std::path::Path) -> (String, String) {
    let spec = dir.join("c.toml");
    std::fs::write(
        &spec,
        r#"
budget = "5m"
[[source]]
topic = "orders"
event_time = "/ts"
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
"#,
    )
    .unwrap();
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
    let capture = dir.join("orders.jsonl");
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&capture, text.join("\n")).unwrap();
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
