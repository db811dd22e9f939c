//! The readiness scorecard: on the demo (a stalled builder fails freshness and names it, no
//! migration target leaves that row unknown), and on a `demo seed`ed broker compared with a
//! capture of itself.

use serde_json::Value;

use crate::demo::{freshlens, stdout};
use crate::fixtures::{broker, unique_topic};

/// The row named `name` of a scorecard's JSON.
pub fn row<'a>(card: &'a Value, name: &str) -> &'a Value {
    card["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["row"] == name)
        .unwrap_or_else(|| panic!("no {name} row: {card}"))
}

const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo/c360.toml");

#[test]
fn the_demo_scorecard_fails_freshness_at_its_stalled_builder() {
    let output = freshlens(&["scorecard", "--demo", "--spec", SPEC, "--json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a failed row exits 1: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let card: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(card["domain"], "customer");
    assert_eq!(card["budget_ms"], 15 * 60 * 1000);
    let freshness = row(&card, "freshness");
    assert_eq!(freshness["verdict"], "fail");
    assert!(
        freshness["reasons"].as_array().unwrap().iter().any(|r| r
            .as_str()
            .unwrap()
            .starts_with("builder c360.profile-builder: ")),
        "{freshness}"
    );
    // The evidence is the census's and the sample's own numbers.
    let stale = crate::fixtures::freshlens_json(&["stale", "--demo", "--spec", SPEC, "--json"]);
    let evidence = &freshness["evidence"];
    assert_eq!(
        evidence["customers_unconsumed"],
        stale["not_consumed"]["customers"]
    );
    assert_eq!(
        evidence["customers_over_budget"],
        stale["not_consumed"]["over_budget"]
    );
    assert_eq!(evidence["sampled"], stale["sample"]["n"]);
    // Ages run from each process's "now": two runs a moment apart differ by that moment.
    let age = |v: &Value| v.as_i64().unwrap();
    assert!(
        (age(&evidence["store_age_p95_ms"]) - age(&stale["store"]["age_p95_ms"])).abs() < 5_000,
        "{evidence}"
    );
    let within = evidence["sampled_within_budget"].as_u64().unwrap();
    assert!(within <= evidence["sampled"].as_u64().unwrap());
    let migration = row(&card, "migration");
    assert_eq!(migration["verdict"], "unknown");
    assert!(migration["reasons"][0].as_str().unwrap().contains("--to"));
    let rebuild = row(&card, "rebuild");
    assert_ne!(
        rebuild["verdict"], "unknown",
        "the contract states rebuild_within: {rebuild}"
    );
    assert_eq!(rebuild["evidence"]["consumers"], 12);
    // Six rows in the order, with at least a pass, a fail and an unknown.
    let order: Vec<&str> = card["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["row"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "freshness",
            "rebuild",
            "governance",
            "elasticity",
            "cost",
            "migration"
        ]
    );
    // Governance: the renamed producer's e-mail is undeclared, and erasures left e-mails on
    // the compacted identity topic (as `erasure --all` says).
    let governance = row(&card, "governance");
    assert_eq!(governance["verdict"], "fail", "{governance}");
    let reasons = governance["reasons"].to_string();
    assert!(
        reasons.contains("c360.identity /email_address"),
        "{reasons}"
    );
    let erasures =
        crate::fixtures::freshlens_json(&["erasure", "--demo", "--spec", SPEC, "--all", "--json"]);
    let violations = erasures["customers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"] == "violation")
        .count();
    assert!(violations > 0);
    assert_eq!(
        governance["evidence"]["erasures"]["VIOLATION"], violations,
        "{governance}"
    );
    // Elasticity: the flash sale half way through, recovered from inside recover_within.
    let elasticity = row(&card, "elasticity");
    assert_eq!(elasticity["verdict"], "pass", "{elasticity}");
    let bursts = elasticity["evidence"]["bursts"].as_array().unwrap();
    assert_eq!(bursts.len(), 1, "{elasticity}");
    assert_eq!(bursts[0]["topic"], "c360.clicks");
    let recovered = bursts[0]["recovered_after_ms"].as_i64().unwrap();
    assert!(recovered > 0 && recovered <= 30 * 60_000, "{elasticity}");
    assert!(bursts[0]["worst_lag_ms"].as_i64().unwrap() > 15 * 60_000);
    // Cost: both envelopes under max_month.
    let cost = row(&card, "cost");
    assert_eq!(cost["verdict"], "pass", "{cost}");
    assert_eq!(cost["evidence"]["options"].as_array().unwrap().len(), 2);
    // Without a contract, no row passes: there is nothing to hold it to.
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("bare.toml");
    let text = std::fs::read_to_string(SPEC).unwrap();
    std::fs::write(&bare, &text[..text.find("[contract]").unwrap()]).unwrap();
    let output = freshlens(&[
        "scorecard",
        "--demo",
        "--spec",
        bare.to_str().unwrap(),
        "--json",
    ]);
    let card: Value = serde_json::from_slice(&output.stdout).unwrap();
    for r in card["rows"].as_array().unwrap() {
        assert_ne!(r["verdict"], "pass", "{r}");
    }
    assert_eq!(row(&card, "rebuild")["verdict"], "unknown");
}

#[test]
fn a_seeded_broker_compared_with_its_own_capture_is_ready_to_migrate() {
    let Some(bootstrap) = broker() else { return };
    let prefix = unique_topic("scorecard");
    let builder = format!("{prefix}.profile-builder");
    let now = freshlens::time::now_ms().to_string();
    stdout(&freshlens(&[
        "demo",
        "seed",
        "-b",
        &bootstrap,
        "--prefix",
        &prefix,
        "--customers",
        "60",
        "--events",
        "3000",
        "--partitions",
        "3",
        "--builder-group",
        &builder,
        "--risk-group",
        &format!("{prefix}.risk-features"),
        "--end",
        &now,
    ]));
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
    let capture = dir.path().join("copy.jsonl");
    let mut args = vec![
        "capture",
        "-b",
        bootstrap.as_str(),
        "--output",
        capture.to_str().unwrap(),
    ];
    let topics: Vec<String> = [
        "identity", "consent", "orders", "clicks", "support", "profiles",
    ]
    .iter()
    .map(|t| format!("{prefix}.{t}"))
    .collect();
    for t in &topics {
        args.extend(["-t", t.as_str()]);
    }
    stdout(&freshlens(&args));
    let output = freshlens(&[
        "scorecard",
        "-b",
        &bootstrap,
        "--spec",
        spec.to_str().unwrap(),
        "--to-capture",
        capture.to_str().unwrap(),
        "--json",
    ]);
    let card: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
    let freshness = row(&card, "freshness");
    assert_eq!(
        freshness["verdict"], "fail",
        "the seeded builder is stalled: {freshness}"
    );
    assert!(
        freshness["reasons"].to_string().contains(&builder),
        "names {builder}: {freshness}"
    );
    let migration = row(&card, "migration");
    assert_eq!(
        migration["evidence"]["records_missing_on_target"], 0,
        "{migration}"
    );
    // A copy of the topics without the groups' checkpoints: the groups cannot resume there.
    assert_eq!(migration["verdict"], "fail", "{migration}");
    assert!(
        migration["reasons"].to_string().contains("checkpoints"),
        "{migration}"
    );
}

/// The migration row compares the domain's builder group only, and no group at all for a spec
/// without one (not every group of the cluster).
#[test]
fn migration_compares_only_the_domains_builder_group() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("demo.jsonl");
    let topics: Vec<String> = [
        "identity", "consent", "orders", "clicks", "support", "profiles",
    ]
    .iter()
    .map(|t| format!("c360.{t}"))
    .collect();
    let mut args = vec!["capture", "--demo", "--output", capture.to_str().unwrap()];
    for t in &topics {
        args.extend(["-t", t.as_str()]);
    }
    stdout(&freshlens(&args));
    let groups_compared = |spec: &str| {
        let output = freshlens(&[
            "scorecard",
            "--demo",
            "--spec",
            spec,
            "--to-capture",
            capture.to_str().unwrap(),
            "--json",
        ]);
        let card: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
        row(&card, "migration")["evidence"]["groups"].clone()
    };
    // The demo has two groups; the domain's is the builder.
    assert_eq!(groups_compared(SPEC), 1);
    let text = std::fs::read_to_string(SPEC).unwrap();
    let without = dir.path().join("no-builder.toml");
    std::fs::write(
        &without,
        text.replace("builder_group = \"c360.profile-builder\"\n", ""),
    )
    .unwrap();
    assert_eq!(groups_compared(without.to_str().unwrap()), 0);
}
