//! `freshlens trial` on two real architectures: Tansu on its S3 engine (against a local S3
//! server, restarted mid-run by `--restart-cmd`) as the candidate, Tansu in memory as the
//! baseline. The probes find Tansu's gaps themselves; the restart loses nothing acknowledged;
//! the trial cleans up after itself, on Ctrl-C too; a prefix in use is refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fixtures::{broker, connect, unique_topic};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/brokers/s3-broker.sh");

/// A Python with moto (`tests/python/requirements.txt`), or `None` with a note outside CI.
fn moto_python() -> Option<PathBuf> {
    let python = std::env::var_os("FRESHLENS_TEST_PYTHON").map(PathBuf::from);
    let works = python.as_ref().is_some_and(|p| {
        Command::new(p)
            .args(["-c", "import moto.server"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if works {
        return python;
    }
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
        "FRESHLENS_TEST_PYTHON names no Python with moto[server], and CI=true: see .ci/run"
    );
    eprintln!("skipped: set FRESHLENS_TEST_PYTHON to a Python with tests/python/requirements.txt");
    None
}

/// Tansu on S3 (moto): the one `.ci/run` started (`FRESHLENS_S3_DIR`), or one on free ports
/// stopped when dropped.
struct S3Broker {
    dir: PathBuf,
    owned: Option<tempfile::TempDir>,
    bootstrap: String,
}

impl S3Broker {
    fn start(python: &Path) -> Self {
        if let Some(dir) = std::env::var_os("FRESHLENS_S3_DIR").map(PathBuf::from) {
            let env = std::fs::read_to_string(dir.join("env")).unwrap();
            let port = env
                .lines()
                .find_map(|l| l.strip_prefix("BROKER_PORT="))
                .expect("BROKER_PORT in the S3 broker's env");
            return Self {
                bootstrap: format!("127.0.0.1:{port}"),
                dir,
                owned: None,
            };
        }
        let owned = tempfile::tempdir().unwrap();
        let dir = owned.path().to_owned();
        let out = Command::new(SCRIPT)
            .arg("start")
            .arg(&dir)
            .arg(python)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the S3 broker did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bootstrap = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Self {
            dir,
            owned: Some(owned),
            bootstrap,
        }
    }

    fn restart_cmd(&self) -> String {
        format!("{SCRIPT} restart {}", self.dir.display())
    }
}

impl Drop for S3Broker {
    fn drop(&mut self) {
        if self.owned.is_some() {
            let _ = Command::new(SCRIPT).arg("stop").arg(&self.dir).status();
        }
    }
}

fn topics_under(bootstrap: &str, prefix: &str) -> Vec<String> {
    connect(bootstrap)
        .topics(true)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .filter(|n| n.starts_with(&format!("{prefix}.")))
        .collect()
}

fn probe<'a>(side: &'a Value, name: &str) -> &'a Value {
    side["compatibility"]["probes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no probe {name}"))
}

/// The short settings the tests run with (the defaults take about four minutes here).
const SHORT: &[&str] = &[
    "--rate",
    "20",
    "--duration",
    "8s",
    "--burst",
    "3:4s",
    "--settle",
    "15s",
    "--replay-consumers",
    "1,2",
    "--customers",
    "200",
];

#[test]
fn a_trial_of_tansu_on_s3_beside_tansu_in_memory() {
    let Some(baseline) = broker() else { return };
    let Some(python) = moto_python() else { return };
    let s3 = S3Broker::start(&python);
    let prefix = unique_topic("trial");
    let report = tempfile::Builder::new().suffix(".html").tempfile().unwrap();
    let restart = s3.restart_cmd();
    let mut args = vec![
        "-b",
        &s3.bootstrap,
        "trial",
        "--baseline",
        &baseline,
        "--prefix",
        &prefix,
        "--restart-cmd",
        &restart,
        "--json",
        "--report",
        report.path().to_str().unwrap(),
    ];
    args.extend_from_slice(SHORT);
    let out = Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args(&args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("trial WRITES to "),
        "the first line says it writes: {stderr}"
    );
    // The restart refuses connections for seconds: the trial times it, librdkafka does not
    // print a line per refusal.
    assert!(!stderr.contains("librdkafka"), "{stderr}");
    // Tansu fails probes, so the compatibility row fails: exit 1, not an error.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["prefix"], prefix.as_str());
    assert_eq!(json["seed"], 7);
    assert_eq!(json["cleaned_up"], true);
    for (name, side) in [
        ("candidate", &json["candidate"]),
        ("baseline", &json["baseline"]),
    ] {
        let apis = side["compatibility"]["apis"].as_array().unwrap();
        let produce = apis.iter().find(|a| a["name"] == "Produce").unwrap();
        assert!(produce["max"].as_i64().unwrap() >= 3, "{name}: {produce}");
        for a in apis {
            for key in ["name", "min", "max", "needed"] {
                assert!(a.get(key).is_some(), "{name}: {a} lacks {key}");
            }
        }
        // Tansu 0.6.0's gaps, each found by its probe.
        for gap in [
            "list_offsets_latest",
            "list_offsets_by_time",
            "delete_records",
            "transactions",
        ] {
            assert_eq!(probe(side, gap)["result"], "fail", "{name}: {gap}");
        }
        // And what it does as Kafka does.
        for ok in [
            "idempotent_produce",
            "describe_configs",
            "headers",
            "create_time",
            "group_commit",
            "compression_none",
            "compression_gzip",
            "compression_snappy",
            "compression_lz4",
            "compression_zstd",
        ] {
            assert_eq!(
                probe(side, ok)["result"],
                "pass",
                "{name}: {ok}: {}",
                probe(side, ok)
            );
        }
        let intervals = side["latency"]["intervals"].as_array().unwrap();
        assert!(intervals.len() >= 8, "{name}: {intervals:?}");
        for i in intervals {
            for key in [
                "start_ms", "p50_ms", "p95_ms", "p99_ms", "produced", "applied",
            ] {
                assert!(i.get(key).is_some(), "{name}: {i} lacks {key}");
            }
        }
        let applied: u64 = intervals
            .iter()
            .map(|i| i["applied"].as_u64().unwrap())
            .sum();
        assert!(applied > 100, "{name}: {applied} events reached the store");
        let burst = &side["burst"];
        assert_eq!(burst["factor"], 3.0);
        assert!(burst["end_ms"].as_i64() > burst["start_ms"].as_i64());
        assert!(
            burst["worst_lag_ms"].as_i64().unwrap() > 0,
            "{name}: {burst}"
        );
        assert!(burst.get("back_within_budget_ms").is_some());
        let replay = side["replay"].as_array().unwrap();
        assert_eq!(replay.len(), 2, "{name}: {replay:?}");
        for r in replay {
            assert!(r["records_per_s"].as_f64().unwrap() > 0.0, "{name}: {r}");
            assert!(r["mb_per_s"].as_f64().unwrap() > 0.0, "{name}: {r}");
        }
        let rows: Vec<&str> = side["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["row"].as_str().unwrap())
            .collect();
        assert_eq!(
            rows,
            ["compatibility", "freshness", "elasticity", "rebuild"],
            "{name}"
        );
        assert_eq!(side["rows"][0]["verdict"], "fail", "{name}");
        assert!(topics_under(side["bootstrap"].as_str().unwrap(), &prefix).is_empty());
    }
    // The broker replaced on the same bucket served every record acknowledged before.
    let restart = &json["candidate"]["restart"];
    let acknowledged = restart["acknowledged"].as_u64().unwrap();
    assert!(acknowledged > 50, "{restart}");
    assert_eq!(restart["lost"], 0, "{restart}");
    assert_eq!(
        restart["read_back"].as_u64(),
        Some(acknowledged),
        "{restart}"
    );
    assert_eq!(restart["exit_code"], 0, "{restart}");
    assert!(restart["unavailable_ms"].as_i64().unwrap() > 0, "{restart}");
    assert!(restart.get("duplicates").is_some());
    assert!(
        json["baseline"]["restart"].is_null(),
        "the baseline is not restarted"
    );
    let html = std::fs::read_to_string(report.path()).unwrap();
    assert!(html.contains("Platform trial") && html.contains("<svg"));
    // The DOM a real browser builds from the report: the latency plot with both sides' lines,
    // a row per row kind with a verdict per side, every probe.
    let Some(browser) = crate::scorecard_rows::chromium() else {
        return;
    };
    let dom = Command::new(&browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", report.path().display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom.matches("<polyline").count(), 2, "{dom}");
    for row in ["Compatibility", "Freshness", "Elasticity", "Rebuild"] {
        assert!(dom.contains(&format!("<td>{row}</td>")), "{row} in {dom}");
    }
    // Compatibility fails on both sides.
    assert!(
        dom.matches("<span class=\"v vfail\">FAIL</span>").count() >= 2,
        "{dom}"
    );
    for p in json["candidate"]["compatibility"]["probes"]
        .as_array()
        .unwrap()
    {
        assert!(
            dom.contains(p["name"].as_str().unwrap()),
            "{p} in the report"
        );
    }
}

#[test]
fn a_prefix_in_use_is_refused_before_anything_is_written() {
    let Some(bootstrap) = broker() else { return };
    let prefix = unique_topic("trial-used");
    let taken = format!("{prefix}.orders");
    crate::fixtures::create_topic(&bootstrap, &taken, 1);
    let out = Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args(["-b", &bootstrap, "trial", "--prefix", &prefix, "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("already has topic {taken} under {prefix}")),
        "{stderr}"
    );
    assert_eq!(topics_under(&bootstrap, &prefix), vec![taken]);
}

/// A baseline that cannot be reached fails the trial before the candidate is written to, with
/// the baseline named and nothing under the prefix.
#[test]
fn an_unreachable_baseline_fails_before_the_candidate_is_written() {
    let Some(bootstrap) = broker() else { return };
    let prefix = unique_topic("trial-nobase");
    let out = Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args(["-b", &bootstrap, "--timeout", "3", "trial"])
        .args(["--baseline", "127.0.0.1:1", "--prefix", &prefix, "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Baseline 127.0.0.1:1"), "{stderr}");
    // The candidate's run never started: no probe, no phase, nothing to delete.
    assert!(!stderr.contains("candidate:"), "{stderr}");
    assert!(topics_under(&bootstrap, &prefix).is_empty());
}

#[test]
fn ctrl_c_cleans_up() {
    let Some(bootstrap) = broker() else { return };
    let prefix = unique_topic("trial-int");
    let child = Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args(["-b", &bootstrap, "trial", "--prefix", &prefix])
        .args(SHORT)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupted once the workload runs: its topics exist then.
    let deadline = Instant::now() + Duration::from_secs(120);
    let clicks = format!("{prefix}.clicks");
    while !topics_under(&bootstrap, &prefix).contains(&clicks) {
        assert!(Instant::now() < deadline, "the trial never made its topics");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cancelled"), "{stderr}");
    assert!(stderr.contains("topics and groups deleted"), "{stderr}");
    assert!(topics_under(&bootstrap, &prefix).is_empty());
}

/// The Trial tab runs a trial in the background and shows what the command prints: the probes
/// that fail on Tansu, the rows, and the side done with its latency.
#[test]
fn the_trial_tab_runs_a_trial() {
    use egui_kittest::kittest::{NodeT as _, Queryable as _};
    let Some(bootstrap) = broker() else { return };
    let (mut harness, _dir) = crate::ui::blank_app();
    harness.get_by_label("Trial").click();
    harness.run_steps(2);
    crate::ui::type_into(&mut harness, "Candidate", &bootstrap);
    harness.get_by_label("Start").click();
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        harness.step();
        // The side's result, then the trial's answer (a message of its own, a moment later).
        if harness.query_by_label_contains("done · p50").is_some()
            && harness.query_by_label("Export report…").is_some()
        {
            break;
        }
        if let Some(error) = harness.query_by_label_contains("cannot") {
            panic!("the trial failed: {:?}", error.accesskit_node().value());
        }
        assert!(
            Instant::now() < deadline,
            "the trial did not finish in the tab"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    harness.run_steps(2);
    for gap in [
        "list_offsets_by_time",
        "list_offsets_latest",
        "delete_records",
    ] {
        assert!(harness.query_by_label(gap).is_some(), "{gap} listed");
    }
    assert!(
        harness.query_all_by_label("FAIL").count() >= 4,
        "Tansu's gaps fail in the table"
    );
    assert!(harness.query_by_label("Compatibility FAIL").is_some());
}

/// A restart command that never ends is stopped after four settling times: the trial stays
/// bounded, and says the command was killed.
#[test]
fn a_restart_command_that_hangs_is_stopped() {
    let Some(bootstrap) = broker() else { return };
    let prefix = unique_topic("trial-hang");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args(["-b", &bootstrap, "trial", "--prefix", &prefix, "--json"])
        .args([
            "--restart-cmd",
            "sleep 600",
            "--settle",
            "2s",
            "--duration",
            "3s",
        ])
        .args(["--burst", "2:2s", "--rate", "20", "--replay-consumers", "1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(120), "{stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let restart = &json["candidate"]["restart"];
    assert_eq!(restart["killed"], true, "{restart}");
    assert!(restart["exit_code"].is_null(), "{restart}");
    let took = restart["end_ms"].as_i64().unwrap() - restart["start_ms"].as_i64().unwrap();
    assert!(
        (7_000..30_000).contains(&took),
        "stopped after 4 × 2 s: {took} ms"
    );
    assert!(topics_under(&bootstrap, &prefix).is_empty());
}
