//! `freshlens compare` between the shared broker and a second Tansu of the test's own: a
//! mirrored topic with three records missing on one partition of the target, a topic only on
//! the source, a topic whose partition count differs, MirrorMaker 2 checkpoint records written
//! in Kafka's documented format for one group and none for another. Every number exact, the
//! verdict not ready with those reasons.

use serde_json::json;

use crate::fixtures::{
    TestRecord, broker, create_topic, freshlens_json, own_tansu, produce, t0, unique_topic,
};

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as i16).to_be_bytes());
    out.extend(s.as_bytes());
}

#[test]
fn compare_counts_missing_records_and_translates_checkpointed_groups() {
    let Some(source) = broker() else { return };
    let Some((_tansu, target)) = own_tansu("compare") else {
        return;
    };
    let prefix = unique_topic("cmp");
    let (orders, only, clicks) = (
        format!("{prefix}.orders"),
        format!("{prefix}.only"),
        format!("{prefix}.clicks"),
    );
    let mirrored = |t: &str| format!("src.{t}");
    let start = t0();
    let records = |partition: i32, n: i64| -> Vec<TestRecord> {
        (0..n)
            .map(|i| TestRecord::new(partition, &format!("k{i}"), "{}", start + i))
            .collect()
    };
    create_topic(&source, &orders, 2);
    create_topic(&source, &only, 1);
    create_topic(&source, &clicks, 2);
    produce(&source, &orders, &records(0, 5));
    produce(&source, &orders, &records(1, 5));
    create_topic(&target, &mirrored(&orders), 2);
    create_topic(&target, &mirrored(&clicks), 3);
    produce(&target, &mirrored(&orders), &records(0, 5));
    produce(&target, &mirrored(&orders), &records(1, 2));
    // One checkpoint, as MirrorCheckpointTask writes it: the first group on orders/0,
    // upstream 3 translated to downstream 3, keyed by the renamed topic (its
    // renameTopicPartition: `src.orders`, not `orders`).
    let (checked, unchecked) = (format!("{prefix}-billing"), format!("{prefix}-forgotten"));
    let mut key = Vec::new();
    string(&mut key, &checked);
    string(&mut key, &mirrored(&orders));
    key.extend(0i32.to_be_bytes());
    let mut value = Vec::new();
    value.extend(0i16.to_be_bytes());
    value.extend(3i64.to_be_bytes());
    value.extend(3i64.to_be_bytes());
    string(&mut value, "");
    create_topic(&target, "src.checkpoints.internal", 1);
    produce(
        &target,
        "src.checkpoints.internal",
        &[TestRecord {
            partition: 0,
            key: Some(key),
            value: Some(value),
            timestamp_ms: start,
            headers: vec![],
        }],
    );
    // One customer: its second event's payload changed on the target, its third missing.
    let events = format!("{prefix}.events");
    create_topic(&source, &events, 1);
    create_topic(&target, &mirrored(&events), 1);
    let event = |ts: i64, amount: i64| {
        let value = json!({"ts": start + ts, "amount": amount}).to_string();
        TestRecord::new(0, "cust-1", &value, start + ts)
    };
    produce(
        &source,
        &events,
        &[event(1, 10), event(2, 20), event(3, 30)],
    );
    produce(&target, &mirrored(&events), &[event(1, 10), event(2, 25)]);
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("s.toml");
    std::fs::write(
        &spec,
        format!(
            r#"name = "customer"
budget = "5m"
[[source]]
topic = "{events}"
event_time = "/ts"
[[field]]
name = "spent"
topic = "{events}"
path = "/amount"
rule = "sum"
"#
        ),
    )
    .unwrap();
    crate::groups::commit(&source, &checked, &orders, &[(0, 5)]);
    crate::groups::commit(&source, &unchecked, &orders, &[(1, 1)]);

    let doc = freshlens_json(&[
        "-b",
        &source,
        "compare",
        "--to",
        &target,
        "--rename",
        "src.{topic}",
        "--group",
        &checked,
        "--group",
        &unchecked,
        "--spec",
        spec.to_str().unwrap(),
        "--key",
        "cust-1",
        "--json",
    ]);
    let topic = |name: &str| {
        doc["topics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["topic"] == name)
            .unwrap_or_else(|| panic!("{name} in {doc}"))
            .clone()
    };
    let o = topic(&orders);
    assert_eq!(o["on"], json!("both"));
    assert_eq!(o["target_topic"], json!(mirrored(&orders)));
    let missing: Vec<i64> = o["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["missing"].as_i64().unwrap())
        .collect();
    assert_eq!(missing, [0, 3]);
    assert_eq!(topic(&only)["on"], json!("source"));
    assert_eq!(topic(&clicks)["partition_count_differs"], json!(true));
    let groups = doc["groups"].as_array().unwrap();
    let billing = &groups[0]["partitions"][0];
    assert_eq!(groups[0]["group"], json!(checked));
    assert_eq!(billing["source_committed"], json!(5));
    assert_eq!(billing["translated"], json!(3));
    assert_eq!(billing["replay"], json!(2));
    assert_eq!(billing["skip"], json!(0));
    assert_eq!(billing["target_high"], json!(5));
    assert!(billing["checkpoint_age_ms"].as_i64().unwrap() >= 0);
    assert_eq!(groups[1]["untranslated"], json!(1));
    assert_eq!(groups[1]["partitions"][0]["translated"], json!(null));
    let customer = &doc["customer"];
    assert_eq!(customer["only_source"].as_array().unwrap().len(), 1);
    assert_eq!(customer["only_source"][0]["event_ms"], json!(start + 3));
    assert_eq!(customer["only_target"], json!([]));
    assert_eq!(
        customer["different"][0]["source"]["event_ms"],
        json!(start + 2)
    );
    assert_eq!(
        customer["fields"],
        json!([{"field": "spent", "source": 60, "target": 35}])
    );
    assert_eq!(doc["verdict"]["ready"], json!(false));
    let reasons: Vec<&str> = doc["verdict"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let said = |needle: &str| reasons.iter().any(|r| r.contains(needle));
    assert!(
        said(&format!("{orders}: 3 records missing on the target")),
        "{reasons:?}"
    );
    assert!(
        said(&format!("{only} is on the source only")),
        "{reasons:?}"
    );
    assert!(
        said(&format!("{clicks}: the partition count differs")),
        "{reasons:?}"
    );
    assert!(
        said(&format!(
            "group {unchecked}: 1 partitions without a checkpoint"
        )),
        "{reasons:?}"
    );
}

/// The Compare tab against a second broker: the target typed, Compare clusters clicked, the
/// verdict and the topic only the source has on screen.
#[test]
fn the_compare_tab_shows_the_verdict_and_the_topics() {
    use egui_kittest::kittest::Queryable as _;
    let Some(source) = broker() else { return };
    let Some((_tansu, target)) = own_tansu("compare-ui") else {
        return;
    };
    let only = unique_topic("cmp-ui");
    create_topic(&source, &only, 1);
    let config_dir = tempfile::tempdir().unwrap();
    let dir = config_dir.path().to_owned();
    let startup = freshlens::ui::Startup {
        connect: Some(freshlens::cluster::ConnectionConfig::new(source.clone())),
        ..Default::default()
    };
    let mut harness = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| freshlens::ui::FreshlensApp::new(cc, startup, Some(dir)).unwrap());
    let wait =
        |harness: &mut egui_kittest::Harness<'_, freshlens::ui::FreshlensApp>,
         what: &str,
         found: &dyn Fn(&egui_kittest::Harness<'_, freshlens::ui::FreshlensApp>) -> bool| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while std::time::Instant::now() < deadline {
                harness.step();
                if found(harness) {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            if let Ok(image) = harness.render() {
                let _ = image.save(std::env::temp_dir().join("freshlens-compare-timeout.png"));
            }
            panic!("timed out waiting for {what}");
        };
    wait(&mut harness, "the connection", &|h| {
        h.query_by_label_contains("connected to").is_some()
    });
    harness.get_by_label("Compare").click();
    harness.run_steps(2);
    harness
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Target")
        .focus();
    harness.step();
    harness
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Target")
        .type_text(&target);
    harness.step();
    harness.get_by_label("Compare clusters").click();
    wait(&mut harness, "the verdict", &|h| {
        h.query_by_label_contains("Not ready to cut over: ")
            .is_some()
    });
    // The shared broker holds many topics the target lacks: past the first eight, the reasons
    // are folded, and open on a click.
    if let Some(more) = harness.query_by_label_contains(" more") {
        more.click();
        harness.run_steps(2);
    }
    assert!(
        harness
            .query_by_label_contains(&format!("{only} is on the source only"))
            .is_some()
    );
}

/// The target, as a cluster that answers its topic listing and then stops (SIGSTOP): every
/// other question is passed on to it.
struct StopsAfterListing {
    cluster: freshlens::cluster::Cluster,
    pid: u32,
}

mod stops_after_listing {
    use std::collections::HashMap;

    use freshlens::cluster::{
        CancelToken, ClusterError, GroupInfo, RecordAt, ScanRequest, ScanSummary, TopicInfo,
    };
    use freshlens::source::{GroupOffsetsAnswer, Sink, Source};

    impl Source for super::StopsAfterListing {
        fn name(&self) -> String {
            self.cluster.name()
        }
        fn topics(&self, internal: bool) -> Result<Vec<TopicInfo>, ClusterError> {
            let listed = self.cluster.topics(internal);
            let stopped = std::process::Command::new("kill")
                .args(["-STOP", &self.pid.to_string()])
                .status();
            assert!(stopped.is_ok_and(|s| s.success()));
            listed
        }
        fn topic(&self, name: &str) -> Result<TopicInfo, ClusterError> {
            self.cluster.topic(name)
        }
        fn topic_configs(&self, topic: &str) -> Result<Vec<(String, String)>, ClusterError> {
            self.cluster.topic_configs(topic)
        }
        fn scan(
            &self,
            request: &ScanRequest,
            cancel: &CancelToken,
            sink: &mut Sink<'_>,
        ) -> Result<ScanSummary, ClusterError> {
            self.cluster.scan(request, cancel, sink)
        }
        fn groups(&self) -> Result<Vec<GroupInfo>, ClusterError> {
            self.cluster.groups()
        }
        fn group(&self, name: &str) -> Result<GroupInfo, ClusterError> {
            self.cluster.group(name)
        }
        fn committed_offsets(
            &self,
            group: &str,
            partitions: &[(String, i32)],
        ) -> Result<HashMap<(String, i32), Option<i64>>, ClusterError> {
            self.cluster.committed_offsets(group, partitions)
        }
        fn group_offsets(&self, groups: &[&str]) -> Result<GroupOffsetsAnswer, ClusterError> {
            self.cluster.group_offsets(groups)
        }
        fn records_at(
            &self,
            positions: &[(String, i32, i64)],
        ) -> Result<HashMap<(String, i32, i64), RecordAt>, ClusterError> {
            self.cluster.records_at(positions)
        }
        fn offsets_at_time(
            &self,
            partitions: &[(String, i32)],
            at_ms: i64,
        ) -> Result<HashMap<(String, i32), i64>, ClusterError> {
            self.cluster.offsets_at_time(partitions, at_ms)
        }
    }
}

/// A target that stops answering after listing its topics costs one timeout, not one per step,
/// and the verdict says it stopped: nothing read from it is taken as an answer.
#[test]
fn a_target_that_stops_answering_mid_compare_costs_one_timeout() {
    use freshlens::cluster::{CancelToken, Cluster, ConnectionConfig};
    use freshlens::migrate::{CompareRequest, compare};
    let Some(source) = broker() else { return };
    let Some((tansu, target)) = own_tansu("compare-stops") else {
        return;
    };
    let topic = unique_topic("cmp-stops");
    let group = format!("{topic}-builder");
    for side in [&source, &target] {
        create_topic(side, &topic, 2);
        produce(side, &topic, &[TestRecord::new(0, "k", "{}", t0())]);
    }
    crate::fixtures::Target::Broker(source.clone()).commit(&group, &[(&topic, 0, 1)]);
    let timeout = std::time::Duration::from_secs(2);
    let connect = |address: &str| {
        let mut config = ConnectionConfig::new(address);
        config.timeout = timeout;
        Cluster::connect(config).unwrap()
    };
    let source = connect(&source);
    let target = StopsAfterListing {
        cluster: connect(&target),
        pid: tansu.0.id(),
    };
    let request = CompareRequest {
        rename: Some("{topic}".into()),
        groups: vec![group.clone()],
        ..CompareRequest::default()
    };
    let started = std::time::Instant::now();
    let found = compare(&source, &target, &request, &CancelToken::default()).unwrap();
    let took = started.elapsed();
    assert!(
        found.reasons[0].starts_with("the target stopped answering during the comparison"),
        "{:?}",
        found.reasons
    );
    assert!(
        found
            .reasons
            .iter()
            .any(|r| r.starts_with(&format!("group {group}: the target could not be read"))),
        "{:?}",
        found.reasons
    );
    // One wait for the stopped side, not one per step (settings, offsets, watermarks).
    assert!(took < timeout * 3, "took {took:?}");
    eprintln!("compare with a stopped target: {took:?}");
}
