//! Freshness over time against a real broker, on the scripted profile world whose store history
//! makes every applied time known by construction.

use serde_json::{Value, json};

use crate::fixtures::{
    TestRecord, broker, create_topic, freshlens_json, produce, t0, unique_topic,
};

#[test]
fn applied_times_staleness_and_an_ongoing_breach() {
    let world = crate::profile::world();
    let spec = world.spec_path.to_str().unwrap();
    let doc = world.run(&["freshness", "--spec", spec, "--key", "cust-42", "--json"]);
    let t = t0();
    let events: Vec<(String, i64, Value, Value)> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let topic = e["topic"]
                .as_str()
                .unwrap()
                .rsplit('.')
                .next()
                .unwrap()
                .to_owned();
            (
                topic,
                e["broker_time_ms"].as_i64().unwrap() - t,
                e["applied_ms"].clone(),
                e["lag_ms"].clone(),
            )
        })
        .collect();
    assert_eq!(
        events,
        vec![
            // The email, applied by the first store version at t+1.5 s.
            ("identity".into(), 0, json!(t + 1_500), json!(1_500)),
            // The first order (count 1, spent 20) and the consent grant, by the version at t+4 s.
            ("orders".into(), 2_000, json!(t + 4_000), json!(2_000)),
            ("consent".into(), 3_000, json!(t + 4_000), json!(1_000)),
            // The late order and the revocation: no version serves them.
            ("orders".into(), 8_000, Value::Null, Value::Null),
            ("consent".into(), 9_000, Value::Null, Value::Null),
        ]
    );
    assert_eq!(doc["budget_ms"], json!(300_000));
    assert_eq!(doc["store_versions"], json!(2));
    // Pending since t+8 s: the budget of 5 min is breached from t+308 s and still is.
    assert_eq!(
        doc["breaches"],
        json!([{"start_ms": t + 308_000, "end_ms": null, "max_staleness_ms": doc["until_ms"].as_i64().unwrap() - (t + 8_000)}])
    );
    let points = doc["staleness"].as_array().unwrap();
    assert!(
        points.contains(&json!({"t_ms": t + 1_500, "staleness_ms": 1_500})),
        "sawtooth peak before the first apply"
    );
    assert!(
        points.contains(&json!({"t_ms": t + 4_000, "staleness_ms": 0})),
        "caught up at t+4 s"
    );
    let ratio = doc["within_budget_ratio"].as_f64().unwrap();
    assert!(
        ratio > 0.0 && ratio < 0.2,
        "mostly in breach over the hour: {ratio}"
    );
}

#[test]
fn topic_ingest_delay_buckets() {
    let Some(bootstrap) = broker() else { return };
    let topic = unique_topic("ingest");
    create_topic(&bootstrap, &topic, 2);
    let minute = (t0() / 60_000 + 1) * 60_000;
    let records: Vec<TestRecord> = (0..10)
        .map(|i| {
            let broker = minute + i * 1_000;
            TestRecord::new(
                (i % 2) as i32,
                "k",
                &json!({"ts": broker - (i + 1) * 1_000}).to_string(),
                broker,
            )
        })
        .chain([TestRecord::new(
            0,
            "k",
            &json!({"ts": minute + 60_000 - 30_000}).to_string(),
            minute + 60_000,
        )])
        .collect();
    produce(&bootstrap, &topic, &records);
    let doc = freshlens_json(&[
        "freshness",
        "-b",
        &bootstrap,
        "-t",
        &topic,
        "--event-time",
        "/ts",
        "--json",
    ]);
    assert_eq!(doc["sampled"], json!(11));
    assert_eq!(
        doc["buckets"],
        json!([
            {"start_ms": minute, "count": 10, "p50_ms": 5_000, "p95_ms": 10_000, "max_ms": 10_000},
            {"start_ms": minute + 60_000, "count": 1, "p50_ms": 30_000, "p95_ms": 30_000, "max_ms": 30_000},
        ])
    );
}
