//! Consumer-group lag against a real broker: exact offset and time lag, a member with no commit,
//! an unknown group, and proof that inspecting a group leaves its offsets alone.

use std::process::Command;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::{Value, json};

use crate::fixtures::{TestRecord, broker, create_topic, produce, unique_topic};

fn now_ms() -> i64 {
    freshlens::time::now_ms()
}

fn test_group() -> String {
    unique_topic("group").replacen("fl-group", "fl-test-group", 1)
}

pub fn commit(bootstrap: &str, group: &str, topic: &str, offsets: &[(i32, i64)]) {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for (p, o) in offsets {
        tpl.add_partition_offset(topic, *p, Offset::Offset(*o))
            .unwrap();
    }
    consumer.commit(&tpl, CommitMode::Sync).expect("commit");
}

fn committed(bootstrap: &str, group: &str, topic: &str, partitions: i32) -> Vec<Offset> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let answer = consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .unwrap();
    answer.elements().iter().map(|e| e.offset()).collect()
}

fn groups_json(bootstrap: &str, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args(["groups", "-b", bootstrap, "--json"])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn exact_offset_and_time_lag_and_offsets_left_alone() {
    let Some(bootstrap) = broker() else { return };
    let topic = unique_topic("lag");
    create_topic(&bootstrap, &topic, 2);
    let base = now_ms() - 60_000;
    let mut records: Vec<TestRecord> = (0..10)
        .map(|i| TestRecord::new(0, &format!("k{i}"), "v", base + i * 1_000))
        .collect();
    records.extend((0..3).map(|i| TestRecord::new(1, &format!("j{i}"), "v", base + i)));
    produce(&bootstrap, &topic, &records);
    let group = test_group();
    commit(&bootstrap, &group, &topic, &[(0, 4), (1, 3)]);
    let before = committed(&bootstrap, &group, &topic, 2);

    let output = groups_json(&bootstrap, &["-g", &group]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let looked_at = now_ms();
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let g = &doc["groups"][0];
    assert_eq!(g["group"], json!(group));
    assert_eq!(g["lag"], json!(6));
    // One look, no commit log on Tansu: one look at the committed offset, so the verdict
    // waits for more.
    assert_eq!(g["status"], json!("PENDING"));
    assert_eq!(g["window"], json!(10));
    let p0 = &g["partitions"][0];
    assert_eq!(
        (
            p0["partition"].clone(),
            p0["committed"].clone(),
            p0["high"].clone(),
            p0["lag"].clone()
        ),
        (json!(0), json!(4), json!(10), json!(6))
    );
    assert_eq!(p0["status"], json!("PENDING"));
    assert!(
        p0["status_reason"]
            .as_str()
            .unwrap()
            .starts_with("warming up: 1 of 10 looks at the committed offset"),
        "{}",
        p0["status_reason"]
    );
    assert_eq!(
        (p0["lost_records"].clone(), p0["eta_ms"].clone()),
        (json!(0), Value::Null)
    );
    // The next record the group reads is offset 4, written at base + 4 s.
    let time_lag = p0["time_lag_ms"].as_i64().unwrap();
    let expected = looked_at - (base + 4_000);
    assert!(
        (expected - time_lag).abs() < 5_000,
        "time lag {time_lag} vs {expected}"
    );
    assert_eq!(g["max_time_lag_ms"], json!(time_lag));
    let p1 = &g["partitions"][1];
    assert_eq!(
        (p1["lag"].clone(), p1["time_lag_ms"].clone()),
        (json!(0), json!(0)),
        "caught up"
    );
    assert_eq!(
        (p1["status"].clone(), p1["eta_ms"].clone()),
        (json!("OK"), json!(0))
    );

    assert_eq!(
        committed(&bootstrap, &group, &topic, 2),
        before,
        "inspection moved no offset"
    );
}

#[test]
fn unknown_group_is_a_clear_error() {
    let Some(bootstrap) = broker() else { return };
    let output = groups_json(&bootstrap, &["-g", "fl-no-such-group-anywhere"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown consumer group fl-no-such-group-anywhere"),
        "{stderr}"
    );
}

#[test]
fn all_groups_sorted_worst_first_and_watch_prints_samples() {
    let Some(bootstrap) = broker() else { return };
    let topic = unique_topic("lag-sort");
    create_topic(&bootstrap, &topic, 1);
    let base = now_ms() - 30_000;
    let records: Vec<TestRecord> = (0..5)
        .map(|i| TestRecord::new(0, "k", "v", base + i * 1_000))
        .collect();
    produce(&bootstrap, &topic, &records);
    let (behind, current) = (test_group(), test_group());
    commit(&bootstrap, &behind, &topic, &[(0, 1)]);
    commit(&bootstrap, &current, &topic, &[(0, 5)]);

    let output = groups_json(&bootstrap, &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<&str> = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["group"].as_str())
        .collect();
    let (i_behind, i_current) = (
        names.iter().position(|n| *n == behind).unwrap(),
        names.iter().position(|n| *n == current).unwrap(),
    );
    assert!(
        i_behind < i_current,
        "the lagging group sorts first: {names:?}"
    );

    let output = groups_json(
        &bootstrap,
        &["-g", &behind, "--watch", "1", "--samples", "2"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["lag"], json!(4));
    // Two samples a second apart with the offset still: without a commit log that is one
    // commit seen, not a stall (re-reading a committed offset says nothing about motion).
    assert_eq!(lines[1]["status"], json!("PENDING"));
    assert_eq!(lines[1]["previous_status"], Value::Null);
}

fn look(
    cluster: &freshlens::cluster::Cluster,
    watch: &mut freshlens::freshness::GroupWatch,
    group: &str,
) -> freshlens::freshness::GroupLag {
    let look = watch.look(cluster, Some(group)).expect("look at the group");
    look.groups.into_iter().next().expect("the group")
}

#[test]
fn eta_from_the_commits_a_watch_sees() {
    let Some(bootstrap) = broker() else { return };
    let topic = unique_topic("lag-eta");
    create_topic(&bootstrap, &topic, 1);
    let base = now_ms() - 60_000;
    let records: Vec<TestRecord> = (0..100)
        .map(|i| TestRecord::new(0, "k", "v", base + i * 100))
        .collect();
    produce(&bootstrap, &topic, &records);
    let group = test_group();
    let cluster = crate::fixtures::connect(&bootstrap);
    let rules = freshlens::freshness::Rules {
        window: 3,
        allowed_lag: 0,
    };
    let mut watch = freshlens::freshness::GroupWatch::new(rules);
    // The consumer commits 10, 40, 70 a few hundred ms apart while nothing new is written.
    let mut last = None;
    for offset in [10, 40, 70] {
        commit(&bootstrap, &group, &topic, &[(0, offset)]);
        last = Some(look(&cluster, &mut watch, &group));
        std::thread::sleep(Duration::from_millis(300));
    }
    let g = last.unwrap();
    let p = &g.partitions[0];
    assert_eq!((p.committed, p.high, p.lag), (Some(70), 100, 30));
    assert_eq!(p.window, 3);
    assert_eq!(
        g.status,
        freshlens::freshness::Status::Ok,
        "{}",
        g.status_reason
    );
    let consume = p.drain.consume_per_sec.unwrap();
    assert!(consume > 30.0 && consume < 200.0, "consumes {consume}/s");
    assert_eq!(p.drain.produce_per_sec, Some(0.0));
    assert_eq!(p.drain.draining, Some(true));
    let eta = p.drain.eta_ms.unwrap();
    let expected = (30.0 / consume * 1000.0) as i64;
    assert!((eta - expected).abs() <= 1, "eta {eta} vs {expected}");
    assert_eq!(g.eta_ms, Some(eta));
    assert!(p.drain.text.starts_with("drains in"), "{}", p.drain.text);
}

/// Produces `count` records in one batch (Tansu's ListOffsets then reads the high watermark
/// low, the gap these tests are about).
fn produce_one_batch(bootstrap: &str, topic: &str, count: usize) {
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer as _, ThreadedProducer};
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "200")
        .set("enable.idempotence", "false")
        .set("compression.type", "none")
        .create()
        .unwrap();
    for i in 0..count {
        let key = format!("k{i}");
        producer
            .send(BaseRecord::to(topic).partition(0).key(&key).payload("v"))
            .map_err(|(e, _)| e)
            .unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();
}

#[test]
fn a_high_watermark_the_fetch_contradicts_is_fixed_or_flagged() {
    // Works around Tansu's ListOffsets gap: a batch of several records lists its high
    // watermark low. The fetch response carries the real one.
    let Some(bootstrap) = broker() else { return };
    let topic = unique_topic("lag-invalid");
    create_topic(&bootstrap, &topic, 1);
    produce_one_batch(&bootstrap, &topic, 5);
    let (caught_up, impossible) = (test_group(), test_group());
    commit(&bootstrap, &caught_up, &topic, &[(0, 5)]);
    commit(&bootstrap, &impossible, &topic, &[(0, 1_000)]);
    let cluster = crate::fixtures::connect(&bootstrap);
    let mut watch = freshlens::freshness::GroupWatch::default();

    let g = look(&cluster, &mut watch, &caught_up);
    let p = &g.partitions[0];
    assert_eq!(
        (p.high, p.lag),
        (5, 0),
        "the fetch's high watermark is used"
    );
    assert_eq!(
        p.status,
        freshlens::freshness::Status::Ok,
        "{}",
        p.status_reason
    );

    let g = look(&cluster, &mut watch, &impossible);
    let p = &g.partitions[0];
    assert_eq!(p.status, freshlens::freshness::Status::Invalid);
    assert_eq!(g.status, freshlens::freshness::Status::Invalid);
    assert!(
        p.status_reason.contains("1000") && p.status_reason.contains('5'),
        "{}",
        p.status_reason
    );
    assert_eq!(p.lag, 0, "never a negative lag");
    assert_eq!(
        p.time_lag_ms, None,
        "past the end is no known time, not caught up"
    );
}

/// `__consumer_offsets` as Apache Kafka exposes it. Tansu keeps offsets elsewhere, so the test
/// writes the topic itself, in Kafka's documented record format.
fn offsets_topic(bootstrap: &str) -> i32 {
    let cluster = crate::fixtures::connect(bootstrap);
    if let Ok(topic) = cluster.topic("__consumer_offsets") {
        return topic.partitions.len() as i32;
    }
    create_topic(bootstrap, "__consumer_offsets", 3);
    3
}

fn commit_record(
    group: &str,
    topic: &str,
    partition: i32,
    offset: i64,
    commit_ms: i64,
) -> (Vec<u8>, Vec<u8>) {
    let string = |out: &mut Vec<u8>, s: &str| {
        out.extend((s.len() as i16).to_be_bytes());
        out.extend(s.as_bytes());
    };
    let mut key = 1i16.to_be_bytes().to_vec();
    string(&mut key, group);
    string(&mut key, topic);
    key.extend(partition.to_be_bytes());
    let mut value = 3i16.to_be_bytes().to_vec();
    value.extend(offset.to_be_bytes());
    value.extend((-1i32).to_be_bytes());
    string(&mut value, "");
    value.extend(commit_ms.to_be_bytes());
    (key, value)
}

#[test]
fn commit_history_dates_commits_and_shows_deleted_topics() {
    let Some(bootstrap) = broker() else { return };
    let partitions = offsets_topic(&bootstrap);
    let topic = unique_topic("lag-history");
    create_topic(&bootstrap, &topic, 1);
    produce(
        &bootstrap,
        &topic,
        &(0..4)
            .map(|i| TestRecord::new(0, "k", "v", now_ms() - 5_000 + i))
            .collect::<Vec<_>>(),
    );
    let group = test_group();
    commit(&bootstrap, &group, &topic, &[(0, 3)]);
    let deleted = unique_topic("lag-deleted");
    let slot = freshlens::freshness::offsets_partition(&group, partitions);
    let committed_at = now_ms() - 120_000;
    let records = commit_records(
        slot,
        &[
            (&group, &topic, 2, committed_at - 60_000),
            (&group, &topic, 3, committed_at),
            (&group, &deleted, 42, committed_at),
            ("someone-else", &topic, 1, committed_at),
        ],
    );
    produce(&bootstrap, "__consumer_offsets", &records);

    let output = groups_json(&bootstrap, &["-g", &group]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let parts = doc["groups"][0]["partitions"].as_array().unwrap().clone();
    let live = parts.iter().find(|p| p["topic"] == json!(topic)).unwrap();
    assert_eq!(live["last_commit_ms"], json!(committed_at));
    assert_eq!(live["topic_deleted"], json!(false));
    let gone = parts
        .iter()
        .find(|p| p["topic"] == json!(deleted))
        .expect("the deleted topic is listed");
    assert_eq!(
        (gone["committed"].clone(), gone["topic_deleted"].clone()),
        (json!(42), json!(true))
    );
}

fn commit_records(slot: i32, commits: &[(&str, &str, i64, i64)]) -> Vec<TestRecord> {
    commits
        .iter()
        .map(|(group, topic, offset, at)| {
            let (key, value) = commit_record(group, topic, 0, *offset, *at);
            TestRecord {
                partition: slot,
                key: Some(key),
                value: Some(value),
                timestamp_ms: *at,
                headers: vec![],
            }
        })
        .collect()
}

/// A topic with one record, a group caught up on it, and the `__consumer_offsets` partition its
/// commits go to: (topic, group, slot).
fn caught_up_group_with_a_commit_log(bootstrap: &str, what: &str) -> (String, String, i32) {
    let partitions = offsets_topic(bootstrap);
    let topic = unique_topic(what);
    create_topic(bootstrap, &topic, 1);
    produce(bootstrap, &topic, &[TestRecord::new(0, "k", "v", now_ms())]);
    let group = test_group();
    commit(bootstrap, &group, &topic, &[(0, 1)]);
    let slot = freshlens::freshness::offsets_partition(&group, partitions);
    (topic, group, slot)
}

#[test]
fn commit_log_reads_only_new_commits_and_gives_past_lag() {
    let Some(bootstrap) = broker() else { return };
    let (topic, group, slot) = caught_up_group_with_a_commit_log(&bootstrap, "lag-past");
    let t = now_ms() - 600_000;
    produce(
        &bootstrap,
        "__consumer_offsets",
        &commit_records(
            slot,
            &[(&group, &topic, 0, t), (&group, &topic, 1, t + 1_000)],
        ),
    );

    let cluster = crate::fixtures::connect(&bootstrap);
    let cancel = freshlens::cluster::CancelToken::default();
    let mut log = freshlens::freshness::CommitLog::default();
    let first = log.refresh(&cluster, &[&group], &cancel).unwrap().unwrap();
    let second = log.refresh(&cluster, &[&group], &cancel).unwrap().unwrap();
    assert!(first >= 2, "read {first}");
    assert!(second < first, "a second refresh re-read {second} records");
    produce(
        &bootstrap,
        "__consumer_offsets",
        &commit_records(slot, &[(&group, &topic, 1, t + 2_000)]),
    );
    log.refresh(&cluster, &[&group], &cancel).unwrap().unwrap();
    let commits: Vec<(i64, i64)> = log
        .commits(&group)
        .iter()
        .map(|c| (c.commit_ms, c.offset))
        .collect();
    assert_eq!(commits, vec![(t, 0), (t + 1_000, 1), (t + 2_000, 1)]);

    let output = groups_json(&bootstrap, &["-g", &group, "--history"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let history = doc["groups"][0]["history"].as_array().unwrap();
    let points: Vec<(Value, Value)> = history
        .iter()
        .map(|p| (p["at_ms"].clone(), p["committed"].clone()))
        .collect();
    assert_eq!(
        points,
        vec![
            (json!(t), json!(0)),
            (json!(t + 1_000), json!(1)),
            (json!(t + 2_000), json!(1))
        ]
    );
    // The record was written after every commit, so wherever the broker can tell (Apache
    // Kafka answers ListOffsets by time; Tansu does not, and the lag stays unknown), the
    // group was caught up at each of them.
    for p in history {
        assert!(p["lag"] == json!(0) || p["lag"].is_null(), "{p}");
    }
}

#[test]
fn commit_records_that_cannot_be_read_are_counted_and_reported() {
    let Some(bootstrap) = broker() else { return };
    let (topic, group, slot) = caught_up_group_with_a_commit_log(&bootstrap, "lag-unreadable");
    // A value version from a later Kafka, and a value cut short: neither is dropped silently.
    let (key, mut future) = commit_record(&group, &topic, 0, 1, now_ms());
    future[1] = 9;
    let (_, cut) = commit_record(&group, &topic, 0, 1, now_ms());
    let unreadable = [future, cut[..5].to_vec()].map(|value| TestRecord {
        partition: slot,
        key: Some(key.clone()),
        value: Some(value),
        timestamp_ms: now_ms(),
        headers: vec![],
    });
    produce(&bootstrap, "__consumer_offsets", &unreadable);

    let output = groups_json(&bootstrap, &["-g", &group]);
    assert!(output.status.success());
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    // Other tests' records share the topic: at least these two.
    assert!(
        doc["unreadable_commit_records"].as_u64().unwrap() >= 2,
        "{doc}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("commit records could not be read"),
        "{stderr}"
    );
}
