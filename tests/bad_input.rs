//! Bad input is refused with what to do, or answered with what was not found: never a
//! confident result of exit 0 built on nothing. From capture files and the built-in demo (no
//! broker needed).

use std::process::{Command, Output};

use crate::hardening::orders_capture;

fn freshlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args(args)
        .env(
            "FRESHLENS_CONFIG_DIR",
            std::env::temp_dir().join("freshlens-bad-input-test"),
        )
        .env_remove("FRESHLENS_BOOTSTRAP")
        .output()
        .unwrap()
}

/// Runs `args`, which must fail, and returns its stderr.
fn refused(args: &[&str]) -> String {
    let output = freshlens(args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "{args:?} exited 0: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        matches!(output.status.code(), Some(1 | 2)),
        "{args:?}: {stderr}"
    );
    stderr
}

#[test]
fn meaningless_input_is_an_error_that_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let (capture, spec) = orders_capture(dir.path());
    let on = |args: &[&str]| {
        let mut all = vec!["--capture", capture.as_str()];
        all.extend_from_slice(args);
        refused(&all)
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["freshness", "-t", "orders", "--event-time", "ts"],
            "\"ts\" is not a JSON pointer: it starts with /, e.g. \"/ts\"",
        ),
        (
            vec!["freshness", "-t", "orders", "--event-time", "/nope"],
            "none of the 4 records of orders read has an event time at /nope",
        ),
        (
            vec![
                "freshness",
                "--spec",
                &spec,
                "--key",
                "cust-1",
                "--since",
                "1h",
                "--until",
                "2h",
            ],
            "--since 1h is not before --until 2h",
        ),
        (
            vec!["freshness", "--spec", &spec, "--key", "nobody"],
            "no events were found for key \"nobody\" in orders",
        ),
        (
            vec!["freshness", "--spec", &spec, "--key", ""],
            "an empty key names no customer",
        ),
        (vec!["groups", "--window", "0"], "0 is not in 2.."),
        (vec!["groups", "--window", "1"], "1 is not in 2.."),
        (vec!["groups", "--history"], "--json"),
        (vec!["groups", "--samples", "3"], "--watch"),
        (
            vec!["rebuild", "--spec", &spec, "--partitions", "0"],
            "--rehearse",
        ),
        (
            vec!["compare", "--to-capture", &capture, "--rename", "backup"],
            "has no {topic}, so every topic would map to the same name",
        ),
        (
            vec!["messages", "-t", "orders", "-o", "999999"],
            "offset 999999 is past the end of every partition read of orders \
             (high watermarks 0: 4)",
        ),
        (
            vec!["messages", "-t", "orders", "-p", "0", "-o", "4"],
            "offset 4 is past the end",
        ),
    ];
    for (args, says) in cases {
        let stderr = on(&args);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    // Below the end of a partition, an offset still reads.
    let text = succeeded(&["--capture", &capture, "messages", "-t", "orders", "-o", "3"]);
    assert_eq!(text.lines().count(), 1);
}

#[test]
fn clusters_named_twice_are_refused() {
    let stderr = refused(&["--cluster", "prod", "-b", "127.0.0.1:9092", "topics"]);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    let stderr = refused(&[
        "-b",
        "127.0.0.1:9092",
        "compare",
        "--to-cluster",
        "dr",
        "--to",
        "127.0.0.1:9093",
    ]);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    // --to-cluster alone is a target: the error is the unknown saved cluster, not a missing --to.
    let stderr = refused(&["-b", "127.0.0.1:9092", "compare", "--to-cluster", "dr"]);
    assert!(!stderr.contains("--to <BOOTSTRAP>"), "{stderr}");
}

#[test]
fn capturing_an_unknown_customer_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (capture, spec) = orders_capture(dir.path());
    let out = dir.path().join("nobody.jsonl");
    let out_text = out.display().to_string();
    let capture_key = |key: &'static str| {
        let mut args = vec![
            "--capture",
            capture.as_str(),
            "capture",
            "--spec",
            spec.as_str(),
        ];
        args.extend(["--key", key, "-o", out_text.as_str()]);
        args
    };
    let stderr = refused(&capture_key("nobody"));
    assert!(stderr.contains("nothing written to"), "{stderr}");
    assert!(
        stderr.contains("no events were found for key \"nobody\""),
        "{stderr}"
    );
    assert!(!out.exists());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("nobody")), "{names:?}");
    // A known customer is captured, and the registry flags are there for Avro specs.
    let registry = ["--schema-registry", "http://127.0.0.1:9"];
    succeeded(&[&capture_key("cust-1")[..], &registry].concat());
    assert!(out.exists());
}

/// Runs `args`, which must succeed, and returns its stdout.
fn succeeded(args: &[&str]) -> String {
    let output = freshlens(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {stderr}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_sample_of_no_customer_has_no_interval() {
    let args = [
        "--demo",
        "stale",
        "--spec",
        "assets/demo/c360.toml",
        "--sample",
        "0",
    ];
    let doc: serde_json::Value =
        serde_json::from_str(&succeeded(&[&args[..], &["--json"]].concat())).unwrap();
    assert_eq!(doc["sample"]["n"], 0);
    assert!(doc["sample"]["ci95"].is_null(), "{}", doc["sample"]);
    assert!(doc["sample"]["share"].is_null(), "{}", doc["sample"]);
    let text = succeeded(&args);
    assert!(
        text.contains("consumed but not applied: unknown, no customer was sampled"),
        "{text}"
    );
    assert!(!text.contains("95% interval"), "{text}");
}

#[test]
fn what_demo_seed_and_bench_may_create_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo.jsonl");
    let out_text = out.display().to_string();
    for (flag, value, says) in [
        ("--partitions", "0", "0 is not in 1..=1000"),
        ("--partitions", "100000", "100000 is not in 1..=1000"),
        ("--customers", "0", "0 is not in 1..=10000000"),
        ("--events", "0", "0 is not in 1..=100000000"),
    ] {
        for command in [
            vec!["demo", "capture", "-o", &out_text],
            vec!["-b", "127.0.0.1:1", "demo", "seed"],
            vec!["-b", "127.0.0.1:1", "bench"],
        ] {
            let stderr = refused(&[&command[..], &[flag, value]].concat());
            assert!(
                stderr.contains(says),
                "{command:?} {flag} {value}: {stderr}"
            );
        }
    }
    assert!(!out.exists());
}

#[test]
fn a_sample_of_no_record_judges_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("c.jsonl");
    let header = serde_json::json!({"freshlens_capture": 1, "captured_at_ms": 1_700_000_100_000i64,
        "topics": [{"name": "orders", "partitions": [{"id": 0, "low": 0, "high": 1}]},
                   {"name": "empty", "partitions": [{"id": 0, "low": 0, "high": 0}]}]});
    let record = serde_json::json!({"topic": "orders", "partition": 0, "offset": 0,
        "timestamp_ms": 1_700_000_000_000i64, "key": "cust-1", "value": "{\"email\":\"a@b.example\"}"});
    std::fs::write(&capture, format!("{header}\n{record}\n")).unwrap();
    let capture = capture.display().to_string();
    for command in ["pii", "keys"] {
        let on = |topic: &'static str, extra: &[&'static str]| {
            let args = ["--capture", capture.as_str(), command, "-t", topic];
            [&args[..], extra].concat()
        };
        let stderr = refused(&on("empty", &[]));
        assert!(
            stderr.contains("no record could be sampled from empty: nothing was judged"),
            "{command}: {stderr}"
        );
        let stderr = refused(&on("empty", &["--json"]));
        assert!(stderr.contains("no record could be sampled"), "{stderr}");
        let stderr = refused(&on("orders", &["--sample", "0"]));
        assert!(stderr.contains("0 is not in 1.."), "{command}: {stderr}");
        succeeded(&on("orders", &[]));
    }
}

/// Interrupted while writing (SIGINT or SIGTERM), a capture leaves nothing: it is written under
/// a hidden name, removed on the signal, and renamed only when complete.
#[test]
fn an_interrupted_capture_leaves_no_file() {
    for signal in ["-INT", "-TERM"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("demo.jsonl");
        let child = Command::new(env!("CARGO_BIN_EXE_freshlens"))
            .args(["demo", "capture", "--events", "300000", "-o"])
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let writing = || {
            std::fs::read_dir(dir.path()).unwrap().any(|e| {
                e.unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".partial-")
            })
        };
        let started = std::time::Instant::now();
        while !writing() && !out.exists() && started.elapsed().as_secs() < 120 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        if output.status.code() == Some(130) {
            assert!(left.is_empty(), "{signal}: {left:?}");
            assert!(
                stderr.contains("interrupted: nothing written to"),
                "{stderr}"
            );
        } else {
            // Finished before the signal: the whole capture, under its name only.
            assert!(output.status.success(), "{signal}: {stderr}");
            assert_eq!(left, vec![std::ffi::OsString::from("demo.jsonl")]);
        }
    }
}
