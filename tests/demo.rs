//! Demo data and captures against a real broker: `demo seed` then `profile` explains the
//! customers the seed summary names; captures of topics and of a lookup answer offline as the
//! cluster did.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::fixtures::{broker, freshlens_json, unique_topic};

pub(crate) fn freshlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args(args)
        .output()
        .unwrap()
}

pub(crate) fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The summary's customers, each with its (field, cause) lines.
fn promised(summary: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let mut customers: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut current = None;
    for line in summary.lines() {
        if let Some(key) = line.strip_prefix("  ").filter(|l| l.starts_with("cust-")) {
            current = Some(key.trim().to_owned());
            customers.entry(key.trim().to_owned()).or_default();
        } else if let (Some(key), Some(rest)) = (&current, line.strip_prefix("    ")) {
            let (field, cause) = rest.split_once(": ").unwrap();
            customers
                .get_mut(key)
                .unwrap()
                .push((field.to_owned(), cause.to_owned()));
        }
    }
    customers
}

fn cause_kind(cause: &str) -> &str {
    cause.split(':').next().unwrap_or_default()
}

#[test]
fn seed_then_profile_explains_the_customers_the_summary_names() {
    let Some(bootstrap) = broker() else { return };
    let prefix = unique_topic("demo");
    let builder = unique_topic("group").replacen("fl-group", "fl-test-group", 1);
    let risk = format!("{builder}-risk");
    let now = freshlens::time::now_ms().to_string();
    let workload = [
        "--prefix",
        &prefix,
        "--customers",
        "60",
        "--events",
        "2500",
        "--partitions",
        "4",
        "--builder-group",
        &builder,
        "--risk-group",
        &risk,
        "--end",
        &now,
    ];
    let mut seed = vec!["demo", "seed", "-b", &bootstrap];
    seed.extend(workload);
    let summary = stdout(&freshlens(&seed));
    let customers = promised(&summary);
    assert!(!customers.is_empty(), "{summary}");

    let refused = freshlens(&seed);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));

    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("c360.toml");
    let text = stdout(&freshlens(&[
        "demo",
        "spec",
        "--prefix",
        &prefix,
        "--builder-group",
        &builder,
    ]));
    std::fs::write(&spec, text).unwrap();
    for (key, fields) in &customers {
        let doc = freshlens_json(&[
            "profile",
            "-b",
            &bootstrap,
            "--spec",
            spec.to_str().unwrap(),
            "--key",
            key,
            "--json",
        ]);
        let stale: BTreeMap<String, String> = doc["store"]["stale"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["field"].as_str().unwrap().to_owned(),
                    f["cause"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for (field, cause) in fields {
            let actual = stale
                .get(field)
                .unwrap_or_else(|| panic!("{key}: {field} is not stale: {stale:?}"));
            assert_eq!(cause_kind(actual), cause_kind(cause), "{key} {field}");
        }
    }
}

/// `demo seed --prefix P` names its groups under P, as its topics: the groups committed on P's
/// topics are P.profile-builder and P.risk-features and no others, so a seed under another
/// prefix on the same cluster is not refused for groups the first made; the spec printed for P
/// reads the builder group the seed committed.
#[test]
fn seeds_under_two_prefixes_name_their_groups_under_each() {
    let Some(bootstrap) = broker() else { return };
    let prefixes = [unique_topic("seed-a"), unique_topic("seed-b")];
    for prefix in &prefixes {
        let summary = stdout(&freshlens(&[
            "demo",
            "seed",
            "-b",
            &bootstrap,
            "--prefix",
            prefix,
            "--customers",
            "30",
            "--events",
            "800",
            "--partitions",
            "2",
        ]));
        assert!(
            summary.contains(&format!(
                "committed {prefix}.profile-builder and {prefix}.risk-features"
            )),
            "{summary}"
        );
    }
    let doc = freshlens_json(&["groups", "-b", &bootstrap, "--json"]);
    let groups = doc["groups"].as_array().unwrap();
    for prefix in &prefixes {
        let on_its_topics: BTreeSet<&str> = groups
            .iter()
            .filter(|g| {
                g["partitions"].as_array().unwrap().iter().any(|p| {
                    p["topic"]
                        .as_str()
                        .unwrap()
                        .starts_with(&format!("{prefix}."))
                })
            })
            .map(|g| g["group"].as_str().unwrap())
            .collect();
        let builder = format!("{prefix}.profile-builder");
        let risk = format!("{prefix}.risk-features");
        assert_eq!(
            on_its_topics,
            BTreeSet::from([builder.as_str(), risk.as_str()]),
            "{prefix}"
        );
        let spec = stdout(&freshlens(&["demo", "spec", "--prefix", prefix]));
        assert!(
            spec.contains(&format!("builder_group = \"{builder}\"")),
            "{spec}"
        );
        assert!(
            spec.contains(&format!("topic = \"{prefix}.profiles\"")),
            "{spec}"
        );
    }
}

/// Without a broker, the same naming through the CLI: a capture of the workload under P carries
/// the groups P.profile-builder and P.risk-features, and the spec printed for P reads the
/// former; groups named on the command line are kept as named.
#[test]
fn the_workload_names_its_groups_under_the_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p2.jsonl");
    let small = ["--customers", "30", "--events", "800", "--partitions", "2"];
    let groups_in = |extra: &[&str]| -> BTreeSet<String> {
        let mut args = vec![
            "demo",
            "capture",
            "--prefix",
            "p2",
            "-o",
            file.to_str().unwrap(),
        ];
        args.extend(small);
        args.extend(extra);
        stdout(&freshlens(&args));
        let doc = freshlens_json(&["groups", "--capture", file.to_str().unwrap(), "--json"]);
        doc["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["group"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        groups_in(&[]),
        BTreeSet::from([
            "p2.profile-builder".to_owned(),
            "p2.risk-features".to_owned()
        ])
    );
    assert_eq!(
        groups_in(&["--builder-group", "builder", "--risk-group", "risk"]),
        BTreeSet::from(["builder".to_owned(), "risk".to_owned()])
    );
    let spec = stdout(&freshlens(&["demo", "spec", "--prefix", "p2"]));
    assert!(
        spec.contains("builder_group = \"p2.profile-builder\""),
        "{spec}"
    );
    assert!(!spec.contains("\"c360."), "{spec}");
    let spec = stdout(&freshlens(&[
        "demo",
        "spec",
        "--prefix",
        "p2",
        "--builder-group",
        "c360.b",
    ]));
    assert!(spec.contains("builder_group = \"c360.b\""), "{spec}");
}

/// Fields and the store diff of a `profile --json` document, without times relative to "now".
fn profile_facts(doc: &Value) -> (Value, Vec<(Value, Value, Value)>) {
    let stale = doc["store"]["stale"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].clone(),
                f["expected"].clone(),
                f["served"].clone(),
            )
        })
        .collect();
    (doc["fields"].clone(), stale)
}

#[test]
fn captures_of_a_lookup_and_of_topics_answer_offline_as_the_cluster_did() {
    let Some(bootstrap) = broker() else { return };
    let world = crate::profile::world();
    let spec = world.spec_path.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();

    // PII kept (the header says so), or the masked store could not be compared offline.
    let lookup = dir.path().join("cust-42.jsonl.zst");
    stdout(&freshlens(&[
        "capture",
        "-b",
        &bootstrap,
        "--spec",
        spec,
        "--key",
        "cust-42",
        "-o",
        lookup.to_str().unwrap(),
        "--reveal-pii",
    ]));
    let live = freshlens_json(&[
        "profile", "-b", &bootstrap, "--spec", spec, "--key", "cust-42", "--json",
    ]);
    let offline = freshlens_json(&[
        "profile",
        "--capture",
        lookup.to_str().unwrap(),
        "--spec",
        spec,
        "--key",
        "cust-42",
        "--json",
    ]);
    assert_eq!(profile_facts(&offline), profile_facts(&live));
    assert_eq!(offline["store"]["stale"].as_array().unwrap().len(), 3);

    let orders = format!("{}.orders", world.prefix);
    for (name, format) in [("orders.jsonl", "freshlens"), ("orders.kcat.jsonl", "kcat")] {
        let file = dir.path().join(name);
        stdout(&freshlens(&[
            "capture",
            "-b",
            &bootstrap,
            "-t",
            &orders,
            "-o",
            file.to_str().unwrap(),
            "--format",
            format,
        ]));
        let read = |source: &[&str]| {
            let mut args = vec!["messages", "-t", &orders, "--json"];
            args.extend(source);
            stdout(&freshlens(&args))
        };
        assert_eq!(
            read(&["--capture", file.to_str().unwrap()]),
            read(&["-b", &bootstrap]),
            "{format}"
        );
    }
}

/// The demo carries its groups' commit histories, so its verdicts are Burrow's over the last 10
/// commits: the stopped c360.risk-features group is STOP, the builder's two stalled partitions
/// (orders/3 and clicks/7, committing the same offset every 10 minutes for two hours) STALL or
/// STOP, every other builder partition OK. A capture is judged once: no broker needed.
#[test]
fn demo_groups_read_as_the_demo_says() {
    let doc = crate::fixtures::freshlens_json(&["--demo", "groups", "--json"]);
    let groups = doc["groups"].as_array().unwrap();
    let group = |name: &str| {
        groups
            .iter()
            .find(|g| g["group"] == json!(name))
            .unwrap_or_else(|| panic!("{name} in {groups:?}"))
    };
    let risk = group("c360.risk-features");
    assert_eq!(risk["status"], json!("STOP"), "{}", risk["status_reason"]);
    let reason = risk["status_reason"].as_str().unwrap();
    assert!(reason.contains("no commit for 3h00m"), "{reason}");
    assert_eq!(risk["draining"], json!(false));
    // Clicks are kept 8 hours: the oldest record risk-features has not read, written just
    // after it stopped 3 hours ago, expires in a little over 5 hours.
    let clicks = risk["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["topic"] == json!("c360.clicks"))
        .unwrap();
    assert_eq!(clicks["retention_ms"], json!(28_800_000));
    let margin = clicks["retention_margin_ms"].as_i64().unwrap();
    assert!(
        (5 * 3_600_000..=5 * 3_600_000 + 600_000).contains(&margin),
        "{margin}"
    );
    assert_eq!(clicks["retention_risk"], json!(true));

    let builder = group("c360.profile-builder");
    for p in builder["partitions"].as_array().unwrap() {
        let name = format!("{}/{}", p["topic"].as_str().unwrap(), p["partition"]);
        let stalled = name == "c360.orders/3" || name == "c360.clicks/7";
        let status = p["status"].as_str().unwrap();
        if stalled {
            assert!(
                status == "STALL" || status == "STOP",
                "{name}: {status} ({})",
                p["status_reason"]
            );
        } else {
            assert_eq!(status, "OK", "{name}: {}", p["status_reason"]);
        }
        assert_eq!(p["window"], json!(10), "{name}");
    }
    assert_eq!(builder["status"], json!("STALL"));
    assert_eq!(doc["unreadable_commit_records"], json!(0));
}
