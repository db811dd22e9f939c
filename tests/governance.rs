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
