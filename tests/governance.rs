//! Governance: PII discovery on planted data (e-mails, cards, IBANs at known paths, and 16-digit
//! order ids that fail the Luhn check and must not be called cards). Runs on the broker (Tansu
//! in CI) or an in-memory capture.

use serde_json::json;

use crate::fixtures::{Target, TestRecord, freshlens_json, t0, unique_topic};

#[test]
fn discovery_finds_planted_pii_at_its_paths_and_no_false_cards() {
    let target = Target::new();
    let topic = unique_topic("pii");
    target.create_topic(&topic, 3);
    let cards = ["4111111111111111", "5555 5555 5555 4444", "378282246310005"];
    let ibans = ["GB82WEST12345698765432", "DE89370400440532013000"];
    let start = t0();
    let records: Vec<TestRecord> = (0..60)
        .map(|i| {
            // Order ids: 16 digits, none passing Luhn (the last digit is chosen to fail).
            let mut order = 2_026_112_800_000_000u64 + i * 7;
            while freshlens::governance::is_card(&order.to_string()) {
                order += 1;
            }
            let mut value = json!({
                "ts": start + i as i64,
                "order_id": order,
                "customer": {"email": format!("user{i}@example.com")},
                "page": "/p/shoes",
            });
            if i % 2 == 0 {
                value["payment"] = json!({"card": cards[i as usize % 3]});
            }
            if i % 3 == 0 {
                value["payment_iban"] = json!(ibans[i as usize % 2]);
            }
            TestRecord::new(
                (i % 3) as i32,
                &format!("c{i}"),
                &value.to_string(),
                start + i as i64,
            )
        })
        .collect();
    target.produce(&topic, &records);
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("s.toml");
    std::fs::write(
        &spec,
        format!(
            r#"name = "customer"
budget = "5m"
[[source]]
topic = "{topic}"
[[field]]
name = "email"
topic = "{topic}"
path = "/customer/email"
rule = "last"
pii = true
"#
        ),
    )
    .unwrap();
    let mut args = target.args();
    args.extend(
        [
            "pii",
            "-t",
            &topic,
            "--spec",
            spec.to_str().unwrap(),
            "--json",
            "--sample",
            "1000",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let doc = freshlens_json(&args);
    let t = &doc["topics"][0];
    assert_eq!(t["sampled"], json!(60));
    let fields = t["fields"].as_array().unwrap();
    let found: Vec<(&str, &str, bool, f64)> = fields
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap(),
                f["kind"].as_str().unwrap(),
                f["declared"].as_bool().unwrap(),
                f["share"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("/payment/card", "card", false, 0.5),
            ("/payment_iban", "iban", false, 20.0 / 60.0),
            ("/customer/email", "email", true, 1.0),
        ],
        "undeclared first, by share; no order id called a card"
    );
    // Examples are masked; the undeclared paths come with the lines that would declare them.
    for f in fields {
        for e in f["examples"].as_array().unwrap() {
            let e = e.as_str().unwrap();
            assert!(e.contains("***"), "{e}");
            assert!(!cards.contains(&e) && !ibans.contains(&e), "{e}");
        }
    }
    assert!(
        fields[0]["spec_lines"]
            .as_str()
            .unwrap()
            .contains("path = \"/payment/card\"")
    );
}

/// Four erased customers, each left in a different state: records with a PII field before the
/// erasure in a 7-day topic (`expiring`, expiring exactly 7 days after the newest of them), in a
/// topic kept forever (`violation`), a store still serving the e-mail (`violation`), and one
/// whose every record came after a re-consent (`clean`). Tansu describes the configs set at
/// creation, which is what this test sets.
#[test]
fn erasures_are_verified_against_what_is_left() {
    const WEEK: i64 = 604_800_000;
    let target = Target::new();
    let prefix = unique_topic("erase");
    let (identity, consent, orders, calls, profiles) = (
        format!("{prefix}.identity"),
        format!("{prefix}.consent"),
        format!("{prefix}.orders"),
        format!("{prefix}.calls"),
        format!("{prefix}.profiles"),
    );
    let contacts = format!("{prefix}.contacts");
    target.create_topic_with(&contacts, 2, &[("cleanup.policy", "compact")]);
    let week = WEEK.to_string();
    target.create_topic_with(&identity, 2, &[("retention.ms", &week)]);
    target.create_topic_with(&consent, 2, &[("retention.ms", &week)]);
    target.create_topic_with(&orders, 2, &[("retention.ms", &week)]);
    target.create_topic_with(&calls, 2, &[("retention.ms", "-1")]);
    target.create_topic_with(&profiles, 2, &[("cleanup.policy", "compact")]);
    let start = t0();
    let part =
        |key: &str| freshlens::profile::Partitioner::Murmur2.partitions_for(key.as_bytes(), 2)[0];
    let put = |topic: &str, key: &str, value: serde_json::Value, at: i64| {
        target.produce(
            topic,
            &[TestRecord::new(part(key), key, &value.to_string(), at)],
        );
    };
    let erase = |key: &str, at: i64| put(&consent, key, json!({"ts": at, "type": "erasure"}), at);
    // expiring: an order with a shipping e-mail, then the erasure.
    put(
        &orders,
        "c-expiring",
        json!({"ts": start, "ship_to": "a@example.com"}),
        start,
    );
    put(
        &orders,
        "c-expiring",
        json!({"ts": start + 5_000, "ship_to": "a@example.com"}),
        start + 5_000,
    );
    erase("c-expiring", start + 10_000);
    // violation: a call record with a phone number in a topic kept forever.
    put(
        &calls,
        "c-forever",
        json!({"ts": start, "phone": "+44 20 7946 0958"}),
        start,
    );
    erase("c-forever", start + 10_000);
    // violation: nothing left on the sources, but the store still serves the e-mail.
    erase("c-store", start + 10_000);
    put(
        &profiles,
        "c-store",
        json!({"profile": {"email": "s@example.com"}}),
        start + 20_000,
    );
    // expiring: a compacted contact record, then the erasure and a tombstone for its key.
    put(
        &contacts,
        "c-tomb",
        json!({"ts": start, "contact_email": "t@example.com"}),
        start,
    );
    erase("c-tomb", start + 10_000);
    let tombstone = TestRecord {
        value: None,
        ..TestRecord::new(part("c-tomb"), "c-tomb", "", start + 11_000)
    };
    target.produce(&contacts, &[tombstone]);
    // clean: erased first, every record after a re-consent.
    erase("c-clean", start);
    put(
        &consent,
        "c-clean",
        json!({"ts": start + 1_000, "type": "consent", "marketing": true}),
        start + 1_000,
    );
    put(
        &identity,
        "c-clean",
        json!({"ts": start + 2_000, "email": "new@example.com"}),
        start + 2_000,
    );
    put(
        &profiles,
        "c-clean",
        json!({"profile": {"email": "new@example.com"}}),
        start + 3_000,
    );

    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("s.toml");
    std::fs::write(
        &spec,
        format!(
            r#"name = "customer"
budget = "5m"
[[source]]
topic = "{identity}"
event_time = "/ts"
[[source]]
topic = "{consent}"
event_time = "/ts"
erase_when = {{ path = "/type", equals = "erasure" }}
[[source]]
topic = "{orders}"
event_time = "/ts"
[[source]]
topic = "{calls}"
event_time = "/ts"
[[source]]
topic = "{contacts}"
event_time = "/ts"
[[field]]
name = "contact_email"
topic = "{contacts}"
path = "/contact_email"
rule = "last"
pii = true
[[field]]
name = "email"
topic = "{identity}"
path = "/email"
rule = "last"
pii = true
[[field]]
name = "ship_to"
topic = "{orders}"
path = "/ship_to"
rule = "last"
pii = true
[[field]]
name = "phone"
topic = "{calls}"
path = "/phone"
rule = "last"
pii = true
[[field]]
name = "marketing"
topic = "{consent}"
path = "/marketing"
rule = "last"
[store]
topic = "{profiles}"
fields = "/profile"
"#
        ),
    )
    .unwrap();
    let mut args = target.args();
    args.extend(
        [
            "erasure",
            "--spec",
            spec.to_str().unwrap(),
            "--all",
            "--json",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let doc = freshlens_json(&args);
    let customers = doc["customers"].as_array().unwrap();
    let verdicts: Vec<(&str, &str)> = customers
        .iter()
        .map(|c| (c["key"].as_str().unwrap(), c["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("c-forever", "violation"),
            ("c-store", "violation"),
            ("c-expiring", "expiring"),
            ("c-tomb", "expiring"),
            ("c-clean", "clean"),
        ],
        "worst first: {doc}"
    );
    let by_key = |k: &str| customers.iter().find(|c| c["key"] == k).unwrap();
    let expiring = &by_key("c-expiring")["leftovers"][0];
    assert_eq!(expiring["topic"], json!(orders));
    assert_eq!(expiring["records"], json!(2));
    assert_eq!(expiring["pii_fields"], json!(["ship_to"]));
    assert_eq!(expiring["retention_ms"], json!(WEEK));
    assert_eq!(expiring["expires_by_ms"], json!(start + 5_000 + WEEK));
    assert_eq!(by_key("c-expiring")["erased_at_ms"], json!(start + 10_000));
    let forever = &by_key("c-forever");
    assert_eq!(forever["leftovers"][0]["expires_by_ms"], json!(null));
    assert!(
        forever["reason"].as_str().unwrap().contains("never expire"),
        "{forever}"
    );
    let store = &by_key("c-store")["store"];
    assert_eq!(store["serves_pii"], json!(true));
    assert_eq!(store["pii_fields"], json!(["email"]));
    assert_eq!(store["tombstone"], json!(false));
    let tomb = &by_key("c-tomb")["leftovers"][0];
    assert_eq!(tomb["removed_by_compaction"], json!(true), "{tomb}");
    assert_eq!(tomb["pii_fields"], json!(["contact_email"]));
    let clean = &by_key("c-clean");
    assert_eq!(clean["leftovers"], json!([]));
    assert_eq!(clean["store"]["serves_pii"], json!(false));
}

/// The demo's erased customers, found from its consent stream and each verified: the demo keeps
/// identity records (with the e-mail) on a compacted topic without tombstones, so every one of
/// them is a violation naming that topic.
#[test]
fn the_demos_erased_customers_are_each_verified() {
    let demo =
        freshlens::demo::generate(&freshlens::demo::DemoConfig::new(1_795_000_000_000)).unwrap();
    let consent = demo
        .spec
        .sources
        .iter()
        .find(|s| s.erase_when.is_some())
        .unwrap();
    let condition = consent.erase_when.as_ref().unwrap();
    let mut expected = std::collections::BTreeSet::new();
    for partition in demo.capture.topics[&consent.topic].values() {
        for record in &partition.records {
            let value: serde_json::Value =
                serde_json::from_slice(record.value.as_deref().unwrap()).unwrap();
            if condition.matches(&value) {
                expected.insert(String::from_utf8(record.key.clone().unwrap()).unwrap());
            }
        }
    }
    assert!(!expected.is_empty(), "the demo erases some customers");
    let doc = freshlens_json(&[
        "erasure",
        "--demo",
        "--spec",
        "assets/demo/c360.toml",
        "--all",
        "--json",
    ]);
    let customers = doc["customers"].as_array().unwrap();
    let got: std::collections::BTreeSet<String> = customers
        .iter()
        .map(|c| c["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, expected);
    let identity = &demo.spec.sources[0].topic;
    for c in customers {
        assert_eq!(c["verdict"], json!("violation"), "{c}");
        assert!(
            c["reason"].as_str().unwrap().contains(identity.as_str()),
            "{c}"
        );
    }
}

/// Against the broker, `access` answers in a sentence, not an error dump. Tansu 0.6.0 answers
/// DescribeAcls with an empty list (a gap: it enforces nothing), which must read as "no ACLs",
/// with every attribute listed and no reader invented.
#[test]
fn access_says_what_the_clusters_acl_answer_means() {
    let Some(bootstrap) = crate::fixtures::broker() else {
        return;
    };
    let doc = freshlens_json(&[
        "-b",
        &bootstrap,
        "access",
        "--spec",
        "assets/demo/c360.toml",
        "--json",
    ]);
    assert_eq!(doc["supported"], json!(true));
    assert!(doc["note"].as_str().unwrap().contains("no ACLs"), "{doc}");
    let attributes = doc["attributes"].as_array().unwrap();
    assert_eq!(attributes.len(), 8, "every field of the demo spec");
    let email = attributes.iter().find(|a| a["field"] == "email").unwrap();
    assert_eq!(email["pii"], json!(true));
    assert!(attributes.iter().all(|a| a["readers"] == json!([])));
}
