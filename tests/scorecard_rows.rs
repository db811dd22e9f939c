//! The scorecard's governance, elasticity and cost rows on data written as producers write it
//! (batched), on Tansu: a reader outside the contract from a `kafka-acls --list` listing (Tansu
//! answers no ACLs, so without one the row is unknown), a burst and the builder's recovery with
//! their times exact, cost figures computed here from the records written and the prices; and
//! the HTML report opened in headless Chromium.

use serde_json::{Value, json};

use crate::demo::freshlens;
use crate::fixtures::{TestRecord, broker, create_topic_with, produce_batched, unique_topic};
use crate::scorecard::row;

const MINUTE: i64 = 60_000;

fn card(args: &[&str]) -> (Option<i32>, Value) {
    let output = freshlens(args);
    let card = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("no scorecard: {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code(), card)
}

/// A small domain: `identity` (compacted, carrying e-mails) and its store, both one partition.
struct Domain {
    prefix: String,
    identity: String,
    store: String,
    /// (key, value) written to each, in order.
    written: Vec<(String, Vec<(String, String)>)>,
}

fn spec_text(d: &Domain, contract: &str) -> String {
    format!(
        "name = \"scored\"\nbudget = \"15m\"\n\n[[source]]\ntopic = \"{}\"\nevent_time = \"/ts\"\n\n\
         [[field]]\nname = \"email\"\ntopic = \"{}\"\npath = \"/email\"\nrule = \"last\"\npii = true\n\n\
         [store]\ntopic = \"{}\"\nfields = \"/profile\"\nbuilder_group = \"{}.builder\"\n\n{contract}",
        d.identity, d.identity, d.store, d.prefix
    )
}

fn domain(bootstrap: &str, what: &str) -> Domain {
    let prefix = unique_topic(what);
    let identity = format!("{prefix}.identity");
    let store = format!("{prefix}.profiles");
    let compact = [("cleanup.policy", "compact")];
    create_topic_with(bootstrap, &identity, 1, &compact);
    create_topic_with(bootstrap, &store, 1, &compact);
    let t = freshlens::time::now_ms() - 10 * MINUTE;
    let mut ids = Vec::new();
    let mut profiles = Vec::new();
    for c in 0..40 {
        let key = format!("cust-{c:03}");
        let ts = t + c * 1_000;
        ids.push((
            key.clone(),
            json!({"ts": ts, "email": format!("{key}@example.com")}).to_string(),
        ));
        // The builder serves one customer an e-mail no event of theirs carries.
        let served = if c == 7 {
            "someone-else@example.com".to_owned()
        } else {
            format!("{key}@example.com")
        };
        profiles.push((
            key.clone(),
            json!({"profile": {"email": served}}).to_string(),
        ));
    }
    for (topic, records) in [(&identity, &ids), (&store, &profiles)] {
        let batch: Vec<TestRecord> = records
            .iter()
            .enumerate()
            .map(|(i, (k, v))| TestRecord::new(0, k, v, t + i as i64 * 1_000))
            .collect();
        produce_batched(bootstrap, topic, &batch);
    }
    Domain {
        written: vec![(identity.clone(), ids), (store.clone(), profiles)],
        prefix,
        identity,
        store,
    }
}

/// As `kafka-acls.sh --list` prints it (tabs, trailing spaces and all).
fn listing(d: &Domain) -> String {
    format!(
        "Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name={}, patternType=LITERAL)`: \n \
         \t(principal=User:profile-builder, host=*, operation=READ, permissionType=ALLOW)\n\
         \t(principal=User:profile-builder, host=*, operation=DESCRIBE, permissionType=ALLOW) \n\n\
         Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name={}., patternType=PREFIXED)`: \n \
         \t(principal=User:analytics, host=*, operation=ALL, permissionType=ALLOW) \n\n\
         Current ACLs for resource `ResourcePattern(resourceType=GROUP, name=*, patternType=LITERAL)`: \n \
         \t(principal=User:analytics, host=*, operation=READ, permissionType=ALLOW) \n",
        d.identity, d.prefix
    )
}

#[test]
fn governance_names_a_reader_outside_the_contract_and_cost_adds_up_from_the_records() {
    let Some(bootstrap) = broker() else { return };
    let d = domain(&bootstrap, "score-gov");
    let dir = tempfile::tempdir().unwrap();
    // The builder has read everything.
    crate::groups::commit(
        &bootstrap,
        &format!("{}.builder", d.prefix),
        &d.identity,
        &[(0, 40)],
    );
    let spec = dir.path().join("spec.toml");
    let contract = "[contract]\nerasure_within = \"30d\"\n[contract.readers]\n\
                    email = [\"User:profile-builder\"]\n[contract.cost]\nbroker_gb_month = 0.10\n\
                    object_gb_month = 0.023\ntransfer_gb = 0.02\nmax_month = 1000\n";
    std::fs::write(&spec, spec_text(&d, contract)).unwrap();
    let spec = spec.to_str().unwrap();
    // Tansu answers DescribeAcls with nothing: who may read cannot be said.
    let (_, on_tansu) = card(&["scorecard", "-b", &bootstrap, "--spec", spec, "--json"]);
    let governance = row(&on_tansu, "governance");
    assert_eq!(governance["verdict"], "unknown", "{governance}");
    assert!(
        governance["reasons"]
            .to_string()
            .contains("cannot be named"),
        "{governance}"
    );
    // The platform team's listing: User:analytics reads every topic under the prefix.
    let acls = dir.path().join("acls.txt");
    std::fs::write(&acls, listing(&d)).unwrap();
    let (code, scored) = card(&[
        "scorecard",
        "-b",
        &bootstrap,
        "--spec",
        spec,
        "--acls",
        acls.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, Some(1), "a failed row exits 1");
    let governance = row(&scored, "governance");
    assert_eq!(governance["verdict"], "fail", "{governance}");
    let reasons = governance["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 1, "{governance}");
    let reason = reasons[0].as_str().unwrap();
    assert!(
        reason.starts_with("User:analytics may read pii field email"),
        "{reason}"
    );
    let email = &governance["evidence"]["attributes"][0];
    assert_eq!(
        email["readers"],
        json!(["User:analytics", "User:profile-builder"])
    );
    assert_eq!(email["unlisted"], json!(["User:analytics"]));

    // Cost, from what was written: payload bytes (key and value) times records, the prices.
    let cost = row(&scored, "cost");
    let topics = cost["evidence"]["topics"].as_array().unwrap();
    let mut storage = (0.0, 0.0);
    let mut replay = 0.0;
    for (topic, records) in &d.written {
        let bytes: usize = records.iter().map(|(k, v)| k.len() + v.len()).sum();
        let figures = topics
            .iter()
            .find(|t| t["topic"] == topic.as_str())
            .unwrap_or_else(|| panic!("{topic} in {cost}"));
        assert_eq!(figures["records"], records.len(), "{figures}");
        let retained = figures["retained_bytes"].as_f64().unwrap();
        assert!(
            (retained - bytes as f64).abs() < 1e-6,
            "{retained} vs {bytes}"
        );
        // Compacted: what is stored a month on is what is kept now.
        assert_eq!(figures["envelope_bytes"].as_f64(), Some(retained));
        let rf = figures["replication_factor"].as_f64().unwrap();
        storage.0 += bytes as f64 * rf / 1e9 * 0.10;
        storage.1 += bytes as f64 / 1e9 * 0.023;
        if figures["role"] == "source" {
            replay += bytes as f64 / 1e9 * 0.02;
        }
    }
    let options = cost["evidence"]["options"].as_array().unwrap();
    let option = |name: &str| options.iter().find(|o| o["option"] == name).unwrap();
    let close = |a: &Value, b: f64| (a.as_f64().unwrap() - b).abs() < 1e-12;
    assert!(
        close(&option("broker-local")["storage_month"], storage.0),
        "{cost}"
    );
    assert!(
        close(&option("object storage")["storage_month"], storage.1),
        "{cost}"
    );
    assert!(close(&option("broker-local")["replay"], replay), "{cost}");
    assert!(
        close(&option("object storage")["total"], storage.1 + replay),
        "{cost}"
    );
    assert_eq!(cost["verdict"], "pass", "{cost}");

    // Without a rehearsal nothing shows the builder disagrees; with one, the rebuild row fails
    // on the field it rebuilt differently.
    assert_eq!(
        row(&scored, "rebuild")["evidence"]["rehearsal"],
        Value::Null
    );
    let (_, rehearsed) = card(&[
        "scorecard",
        "-b",
        &bootstrap,
        "--spec",
        spec,
        "--rehearse",
        "--json",
    ]);
    let rebuild = row(&rehearsed, "rebuild");
    assert_eq!(rebuild["verdict"], "fail", "{rebuild}");
    assert_eq!(
        rebuild["evidence"]["rehearsal"]["fields"]["email"]["different"], 1,
        "{rebuild}"
    );
    assert!(
        rebuild["reasons"][0].as_str().unwrap().starts_with(
            "the rehearsal rebuilt field email differently from the store for 1 of 40"
        ),
        "{rebuild}"
    );
}

#[test]
fn governance_reads_the_compatibility_of_each_registry_framed_sources_subject() {
    let Some(bootstrap) = broker() else { return };
    let d = domain(&bootstrap, "score-compat");
    let events = format!("{}.events", d.prefix);
    create_topic_with(&bootstrap, &events, 1, &[]);
    let registry = crate::schema_registry::start("sr-user:sr-pass");
    registry.set_compatibility(&format!("{events}-value"), "FULL_TRANSITIVE");
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.toml");
    // The domain's spec and a JSON Schema framed source (empty: its subject's level is what
    // is read).
    let text = spec_text(&d, "[contract]\nerasure_within = \"30d\"\n").replacen(
        "[[field]]",
        &format!("[[source]]\ntopic = \"{events}\"\nformat = \"json-schema\"\n\n[[field]]"),
        1,
    );
    std::fs::write(&spec, text).unwrap();
    let (_, scored) = card(&[
        "scorecard",
        "-b",
        &bootstrap,
        "--spec",
        spec.to_str().unwrap(),
        "--schema-registry",
        &registry.url,
        "--schema-registry-auth",
        "sr-user:sr-pass",
        "--json",
    ]);
    let governance = row(&scored, "governance");
    assert_eq!(
        governance["evidence"]["compatibility"],
        json!([{"subject": format!("{events}-value"), "level": "FULL_TRANSITIVE"}]),
        "{governance}"
    );
}

/// A capture's header (its first line) with `commits` as the group's history.
fn with_commits(capture: &std::path::Path, group: &str, commits: &[Value]) {
    let text = std::fs::read_to_string(capture).unwrap();
    let (head, rest) = text.split_once('\n').unwrap();
    let mut header: Value = serde_json::from_str(head).unwrap();
    let groups = header["groups"].as_array_mut().unwrap();
    let g = groups
        .iter_mut()
        .find(|g| g["group"] == group)
        .unwrap_or_else(|| panic!("{group} in the capture"));
    g["commits"] = Value::Array(commits.to_vec());
    std::fs::write(capture, format!("{header}\n{rest}")).unwrap();
}

#[test]
fn a_burst_and_the_builders_recovery_are_timed_to_the_commit() {
    let Some(bootstrap) = broker() else { return };
    let prefix = unique_topic("score-burst");
    let clicks = format!("{prefix}.clicks");
    let store = format!("{prefix}.profiles");
    let group = format!("{prefix}.builder");
    create_topic_with(&bootstrap, &clicks, 1, &[]);
    create_topic_with(&bootstrap, &store, 1, &[("cleanup.policy", "compact")]);
    // Two hours of clicks at 20 a minute, but 200 a minute from minute 60 to 65.
    let w0 = (freshlens::time::now_ms() / MINUTE - 150) * MINUTE;
    let mut records = Vec::new();
    for minute in 0..120 {
        let per = if (60..65).contains(&minute) { 200 } else { 20 };
        for i in 0..per {
            let ts = w0 + minute * MINUTE + i * MINUTE / per;
            let value = json!({"ts": ts, "page": "/"}).to_string();
            records.push(TestRecord::new(0, &format!("c{}", i % 7), &value, ts));
        }
    }
    produce_batched(&bootstrap, &clicks, &records);
    produce_batched(
        &bootstrap,
        &store,
        &[TestRecord::new(0, "c0", r#"{"profile":{"views":1}}"#, w0)],
    );
    // The offset of the first record written at or after minute `m`.
    let offset_at = |m: i64| {
        records
            .iter()
            .position(|r| r.timestamp_ms >= w0 + m * MINUTE)
            .unwrap_or(records.len()) as i64
    };
    crate::groups::commit(&bootstrap, &group, &clicks, &[(0, offset_at(120))]);
    // Every five minutes the builder commits what it read: a minute behind, but through the
    // burst it only gets to minutes 61, 62, 63, 64 (4, 8, 12, 16 minutes behind), then is back
    // a minute behind at minute 85.
    let commits: Vec<Value> = (1..=24)
        .map(|k| {
            let at = 5 * k;
            let read_to = match at {
                65 => 61,
                70 => 62,
                75 => 63,
                80 => 64,
                _ => at - 1,
            };
            json!({"topic": clicks, "partition": 0, "offset": offset_at(read_to),
                   "commit_ms": w0 + at * MINUTE})
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("burst.jsonl");
    let out = freshlens(&[
        "capture",
        "-b",
        &bootstrap,
        "-t",
        &clicks,
        "-t",
        &store,
        "--output",
        capture.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    with_commits(&capture, &group, &commits);
    let spec = dir.path().join("spec.toml");
    let write_spec = |within: &str| {
        std::fs::write(
            &spec,
            format!(
                "name = \"burst\"\nbudget = \"15m\"\n[[source]]\ntopic = \"{clicks}\"\n\
                 event_time = \"/ts\"\n[[field]]\nname = \"views\"\ntopic = \"{clicks}\"\n\
                 path = \"/page\"\nrule = \"count\"\n[store]\ntopic = \"{store}\"\n\
                 fields = \"/profile\"\nbuilder_group = \"{group}\"\n[contract]\n\
                 recover_within = \"{within}\"\n"
            ),
        )
        .unwrap();
    };
    write_spec("30m");
    let args = [
        "scorecard",
        "--capture",
        capture.to_str().unwrap(),
        "--spec",
        spec.to_str().unwrap(),
        "--json",
    ];
    let (_, scored) = card(&args);
    let elasticity = row(&scored, "elasticity");
    let bursts = elasticity["evidence"]["bursts"].as_array().unwrap();
    assert_eq!(bursts.len(), 1, "{elasticity}");
    let burst = &bursts[0];
    assert_eq!(burst["topic"], clicks.as_str());
    assert_eq!(burst["start_ms"], w0 + 60 * MINUTE, "{burst}");
    assert_eq!(burst["end_ms"], w0 + 65 * MINUTE, "{burst}");
    assert_eq!(burst["records"], 1000);
    assert_eq!(burst["median_per_minute"], 20.0);
    assert_eq!(burst["worst_lag_ms"], 16 * MINUTE, "{burst}");
    assert_eq!(burst["back_at_ms"], w0 + 85 * MINUTE, "{burst}");
    assert_eq!(burst["recovered_after_ms"], 20 * MINUTE, "{burst}");
    assert_eq!(elasticity["verdict"], "pass", "{elasticity}");
    // Twenty minutes is over a 15-minute recover_within.
    write_spec("15m");
    let (code, scored) = card(&args);
    assert_eq!(code, Some(1));
    let elasticity = row(&scored, "elasticity");
    assert_eq!(elasticity["verdict"], "fail", "{elasticity}");
    assert!(
        elasticity["reasons"][0]
            .as_str()
            .unwrap()
            .contains("20m00s after it, over recover_within 15m00s"),
        "{elasticity}"
    );
    // The same commits as a sampler watching the broker saw them (the app's Groups sampler on a
    // broker that keeps no commit log): the same burst, worst lag and recovery.
    let seen: Vec<freshlens::freshness::OffsetCommit> = commits
        .iter()
        .map(|c| freshlens::freshness::OffsetCommit {
            group: group.clone(),
            topic: clicks.clone(),
            partition: 0,
            offset: c["offset"].as_i64().unwrap(),
            leader_epoch: None,
            metadata: String::new(),
            commit_ms: c["commit_ms"].as_i64().unwrap(),
            expire_ms: None,
        })
        .collect();
    write_spec("30m");
    let spec_loaded = freshlens::profile::Spec::load(&spec).unwrap();
    let cluster = crate::fixtures::connect(&bootstrap);
    let facts = freshlens::scorecard::elasticity_facts(
        &cluster,
        &spec_loaded,
        &seen,
        &freshlens::cluster::CancelToken::default(),
    )
    .unwrap();
    assert_eq!(
        facts.history,
        "the commits freshlens saw while sampling the group"
    );
    assert_eq!(facts.bursts.len(), 1, "{facts:?}");
    let b = &facts.bursts[0];
    assert_eq!((b.start_ms, b.end_ms), (w0 + 60 * MINUTE, w0 + 65 * MINUTE));
    assert_eq!(b.worst_lag_ms, Some(16 * MINUTE));
    assert_eq!(b.recovered_after_ms, Some(20 * MINUTE));
    // Nothing seen and no commit log of its own: unknown.
    let (_, live) = card(&[
        "scorecard",
        "-b",
        &bootstrap,
        "--spec",
        spec.to_str().unwrap(),
        "--json",
    ]);
    let elasticity = row(&live, "elasticity");
    assert_eq!(elasticity["verdict"], "unknown", "{elasticity}");
    assert!(
        elasticity["reasons"][0]
            .as_str()
            .unwrap()
            .contains("commit history"),
        "{elasticity}"
    );
}

/// Headless Chromium from `FRESHLENS_TEST_CHROMIUM` or the PATH; `None`, with a note, where
/// there is none, and a failure under `CI=true` (`.ci/run` installs Debian's).
pub(crate) fn chromium() -> Option<std::path::PathBuf> {
    let named = std::env::var_os("FRESHLENS_TEST_CHROMIUM").map(std::path::PathBuf::from);
    let found = named.or_else(|| {
        ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .map(|name| std::path::Path::new("/usr/bin").join(name))
            .find(|p| p.exists())
    });
    if found.is_none() {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
            "no headless Chromium and CI=true: see .ci/run"
        );
        eprintln!("skipped: no chromium to open the HTML report in");
    }
    found
}

#[test]
fn the_html_report_shows_six_rows_in_a_real_browser() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("scorecard.html");
    let md = dir.path().join("scorecard.md");
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo/c360.toml");
    let mut verdicts = Vec::new();
    for report in [&html, &md] {
        let (_, scored) = card(&[
            "scorecard",
            "--demo",
            "--spec",
            spec,
            "--json",
            "--report",
            report.to_str().unwrap(),
        ]);
        verdicts = scored["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["verdict"].as_str().unwrap().to_owned())
            .collect();
    }
    let markdown = std::fs::read_to_string(&md).unwrap();
    for (name, verdict) in [
        "Freshness",
        "Rebuild",
        "Governance",
        "Elasticity",
        "Cost",
        "Migration",
    ]
    .iter()
    .zip(&verdicts)
    {
        let line = format!("| {name} | **{}** |", verdict.to_uppercase());
        assert!(markdown.contains(&line), "{line} in\n{markdown}");
    }
    // The DOM the browser built: six cards, each with its verdict.
    let dom = std::process::Command::new(&browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom.matches("<section class=\"card ").count(), 6, "{dom}");
    // And what it drew: each card's left edge is a bar in its verdict's colour; down that
    // column the bars are the cards, one colour run each.
    let png = dir.path().join("scorecard.png");
    let shot = std::process::Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1100,3600",
        ])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(png.exists(), "{}", String::from_utf8_lossy(&shot.stderr));
    let image = image::open(&png).unwrap().to_rgb8();
    let colour = |v: &str| match v {
        "pass" => [0x2e, 0x85, 0x40],
        "fail" => [0xc6, 0x28, 0x28],
        _ => [0x8a, 0x8f, 0x98],
    };
    // The body is 1040 px wide plus 16 px padding a side, centred: the 8 px bars start 16 px in.
    let x = (image.width() - 1072) / 2 + 16 + 4;
    // (colour, length) of each run of a verdict colour; a card's bar is its whole height, a
    // badge or glyph crossing the column a few pixels.
    let mut runs: Vec<([u8; 3], u32)> = Vec::new();
    let mut last = None;
    for y in 0..image.height() {
        let p = image.get_pixel(x, y).0;
        let bar = ["pass", "fail", "unknown"]
            .iter()
            .map(|v| colour(v))
            .find(|c| c.iter().zip(p).all(|(a, b): (&u8, u8)| a.abs_diff(b) <= 8));
        match (bar, runs.last_mut()) {
            (Some(c), Some((run, n))) if last == Some(c) && *run == c => *n += 1,
            (Some(c), _) => runs.push((c, 1)),
            _ => {}
        }
        last = bar;
    }
    let runs: Vec<[u8; 3]> = runs
        .into_iter()
        .filter(|(_, n)| *n >= 40)
        .map(|(c, _)| c)
        .collect();
    let expected: Vec<[u8; 3]> = verdicts.iter().map(|v| colour(v)).collect();
    assert_eq!(runs, expected, "the six cards' bars, top to bottom");
}
