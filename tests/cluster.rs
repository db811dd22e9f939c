//! The engine against a real broker: metadata, watermarks, scans, start positions, filters,
//! streaming, cancellation and connection failures.

use std::time::{Duration, Instant};

use freshlens::cluster::{
    CancelToken, Cluster, ClusterError, ConnectionConfig, Record, RecordFilter, ScanEvent,
    ScanRequest, ScanSummary, StartAt,
};
use regex::bytes::Regex;

use crate::fixtures::{TestRecord, broker, connect, create_topic, produce, t0, unique_topic};

fn scan_all(cluster: &Cluster, request: &ScanRequest) -> (Vec<Record>, ScanSummary) {
    let mut records = Vec::new();
    let summary = cluster
        .scan(request, &CancelToken::default(), &mut |event| {
            if let ScanEvent::Records(batch) = event {
                records.extend(batch);
            }
            true
        })
        .expect("scan");
    records.sort_by_key(|r| (r.partition, r.offset));
    (records, summary)
}

fn ids(records: &[Record]) -> Vec<(i32, i64)> {
    records.iter().map(|r| (r.partition, r.offset)).collect()
}

/// Three partitions: p0 holds c-0..c-3 at t0+0..3 s, p1 holds one record, p2 is empty.
fn seeded_topic(bootstrap: &str) -> String {
    let topic = unique_topic("scan");
    create_topic(bootstrap, &topic, 3);
    let t = t0();
    let mut records: Vec<TestRecord> = (0..4)
        .map(|i| {
            TestRecord::new(
                0,
                &format!("c-{i}"),
                &format!(r#"{{"customer":"c-{i}","amount":{}}}"#, 100 + i),
                t + i * 1000,
            )
        })
        .collect();
    let mut with_headers = TestRecord::new(1, "c-9", "plain text value", t + 500);
    with_headers.headers = vec![("source".into(), "crm".into())];
    records.push(with_headers);
    let offsets = produce(bootstrap, &topic, &records);
    assert_eq!(offsets, vec![(0, 0), (0, 1), (0, 2), (0, 3), (1, 0)]);
    topic
}

#[test]
fn topics_show_partitions_and_exact_watermarks() {
    let Some(bootstrap) = broker() else { return };
    let topic = seeded_topic(&bootstrap);
    let cluster = connect(&bootstrap);
    let topics = cluster.topics(false).unwrap();
    let info = topics
        .iter()
        .find(|t| t.name == topic)
        .expect("topic listed");
    assert_eq!(info.partitions.len(), 3);
    let marks: Vec<(i32, i64, i64)> = info
        .partitions
        .iter()
        .map(|p| (p.id, p.low, p.high))
        .collect();
    assert_eq!(marks, vec![(0, 0, 4), (1, 0, 1), (2, 0, 0)]);
    assert_eq!(info.message_count(), 5);
    for p in &info.partitions {
        assert!(p.leader >= 0, "leader known: {p:?}");
        assert!(p.replicas.contains(&p.leader), "{p:?}");
        assert!(!p.isr.is_empty());
    }
    assert!(
        topics.iter().all(|t| !t.name.starts_with('_')),
        "internal topics hidden"
    );
}

#[test]
fn scan_from_beginning_returns_every_record_exactly() {
    let Some(bootstrap) = broker() else { return };
    let topic = seeded_topic(&bootstrap);
    let cluster = connect(&bootstrap);
    let (records, summary) = scan_all(&cluster, &ScanRequest::new(&topic));
    assert_eq!(ids(&records), vec![(0, 0), (0, 1), (0, 2), (0, 3), (1, 0)]);
    let first = &records[0];
    assert_eq!(first.key.as_deref(), Some(&b"c-0"[..]));
    assert_eq!(
        first.value.as_deref(),
        Some(&br#"{"customer":"c-0","amount":100}"#[..])
    );
    assert_eq!(first.timestamp_ms, Some(t0()));
    let last = &records[4];
    assert_eq!(
        last.headers,
        vec![("source".to_owned(), Some(b"crm".to_vec()))]
    );
    assert_eq!(last.timestamp_ms, Some(t0() + 500));
    assert_eq!(summary.progress.scanned, 5);
    assert_eq!(summary.progress.matched, 5);
    assert_eq!(summary.progress.to_scan, 5);
    assert_eq!(summary.progress.partitions_done, 3);
    assert!(!summary.cancelled);
}

#[test]
fn start_positions_offset_tail_end_and_timestamp() {
    let Some(bootstrap) = broker() else { return };
    let topic = seeded_topic(&bootstrap);
    let cluster = connect(&bootstrap);
    let mut request = ScanRequest::new(&topic);
    request.partitions = Some(vec![0]);

    request.start = StartAt::Offset(2);
    assert_eq!(ids(&scan_all(&cluster, &request).0), vec![(0, 2), (0, 3)]);

    request.start = StartAt::Tail(3);
    assert_eq!(
        ids(&scan_all(&cluster, &request).0),
        vec![(0, 1), (0, 2), (0, 3)]
    );

    request.start = StartAt::End;
    assert!(scan_all(&cluster, &request).0.is_empty());

    // t0+1.5 s: the first record at or after it is offset 2, whatever the broker answers.
    request.start = StartAt::Timestamp(t0() + 1500);
    assert_eq!(ids(&scan_all(&cluster, &request).0), vec![(0, 2), (0, 3)]);

    request.partitions = None;
    request.start = StartAt::Timestamp(t0() + 400);
    assert_eq!(
        ids(&scan_all(&cluster, &request).0),
        vec![(0, 1), (0, 2), (0, 3), (1, 0)]
    );
}

#[test]
fn stops_at_count_and_end_timestamp() {
    let Some(bootstrap) = broker() else { return };
    let topic = seeded_topic(&bootstrap);
    let cluster = connect(&bootstrap);
    let mut request = ScanRequest::new(&topic);
    request.partitions = Some(vec![0]);
    request.max_records = Some(2);
    assert_eq!(ids(&scan_all(&cluster, &request).0), vec![(0, 0), (0, 1)]);

    request.max_records = None;
    request.end_timestamp_ms = Some(t0() + 1000);
    assert_eq!(ids(&scan_all(&cluster, &request).0), vec![(0, 0), (0, 1)]);
}

#[test]
fn a_reused_consumer_sees_only_its_own_scan() {
    let Some(bootstrap) = broker() else { return };
    let topic = seeded_topic(&bootstrap);
    let cluster = connect(&bootstrap);
    let mut request = ScanRequest::new(&topic);
    request.partitions = Some(vec![0]);
    // Stopping after one record leaves the rest of the fetch and the end-of-partition event
    // queued on the consumer; the next scan of the same partition must not see either.
    request.max_records = Some(1);
    assert_eq!(ids(&scan_all(&cluster, &request).0), vec![(0, 0)]);
    assert_eq!(cluster.idle_readers(), 1);
    request.max_records = None;
    request.start = StartAt::Offset(1);
    assert_eq!(
        ids(&scan_all(&cluster, &request).0),
        vec![(0, 1), (0, 2), (0, 3)]
    );
    request.partitions = Some(vec![1, 0]);
    request.start = StartAt::Beginning;
    assert_eq!(
        ids(&scan_all(&cluster, &request).0),
        vec![(0, 0), (0, 1), (0, 2), (0, 3), (1, 0)]
    );
    assert_eq!(cluster.idle_readers(), 1, "one consumer served all three");
}

#[test]
fn filters_by_key_substring_and_regex() {
    let Some(bootstrap) = broker() else { return };
    let topic = seeded_topic(&bootstrap);
    let cluster = connect(&bootstrap);
    let mut request = ScanRequest::new(&topic);

    request.filter = RecordFilter {
        keys: [b"c-2".to_vec()].into(),
        ..RecordFilter::default()
    };
    let (records, summary) = scan_all(&cluster, &request);
    assert_eq!(ids(&records), vec![(0, 2)]);
    assert_eq!((summary.progress.scanned, summary.progress.matched), (5, 1));

    request.filter = RecordFilter {
        contains: Some(b"plain".to_vec()),
        ..RecordFilter::default()
    };
    assert_eq!(ids(&scan_all(&cluster, &request).0), vec![(1, 0)]);

    request.filter = RecordFilter {
        regex: Some(Regex::new(r#""amount":10[13]"#).unwrap()),
        ..RecordFilter::default()
    };
    assert_eq!(ids(&scan_all(&cluster, &request).0), vec![(0, 1), (0, 3)]);
}

#[test]
fn scans_stream_batches_with_progress_and_can_be_cancelled() {
    let Some(bootstrap) = broker() else { return };
    let topic = unique_topic("stream");
    create_topic(&bootstrap, &topic, 1);
    let records: Vec<TestRecord> = (0..1200)
        .map(|i| TestRecord::new(0, &format!("k{i}"), &format!("v{i}"), t0() + i))
        .collect();
    produce(&bootstrap, &topic, &records);
    let cluster = connect(&bootstrap);

    let mut batches = 0;
    let mut seen = 0;
    let mut last_scanned = 0;
    let summary = cluster
        .scan(
            &ScanRequest::new(&topic),
            &CancelToken::default(),
            &mut |event| {
                match event {
                    ScanEvent::Records(batch) => {
                        batches += 1;
                        seen += batch.len();
                    }
                    ScanEvent::Progress(p) => {
                        assert!(p.scanned >= last_scanned, "progress only grows");
                        last_scanned = p.scanned;
                        assert_eq!(p.to_scan, 1200);
                    }
                }
                true
            },
        )
        .unwrap();
    assert_eq!(seen, 1200);
    assert!(
        batches >= 2,
        "records arrive in several batches, got {batches}"
    );
    assert_eq!(summary.progress.scanned, 1200);

    let cancel = CancelToken::default();
    let mut seen = 0;
    let summary = cluster
        .scan(&ScanRequest::new(&topic), &cancel, &mut |event| {
            if let ScanEvent::Records(batch) = event {
                seen += batch.len();
                cancel.cancel();
            }
            true
        })
        .unwrap();
    assert!(summary.cancelled);
    assert!(seen < 1200, "cancel stops the scan early, saw {seen}");
}

#[test]
fn unknown_topic_and_partition_are_clear_errors() {
    let Some(bootstrap) = broker() else { return };
    let topic = seeded_topic(&bootstrap);
    let cluster = connect(&bootstrap);
    let missing = unique_topic("missing");
    let err = cluster
        .scan(
            &ScanRequest::new(&missing),
            &CancelToken::default(),
            &mut |_| true,
        )
        .unwrap_err();
    assert_eq!(err, ClusterError::UnknownTopic(missing));
    let mut request = ScanRequest::new(&topic);
    request.partitions = Some(vec![7]);
    let err = cluster
        .scan(&request, &CancelToken::default(), &mut |_| true)
        .unwrap_err();
    assert_eq!(
        err,
        ClusterError::UnknownPartition {
            topic,
            partition: 7
        }
    );
}

#[test]
fn unreachable_cluster_fails_within_the_timeout() {
    let mut config = ConnectionConfig::new("127.0.0.1:1");
    config.timeout = Duration::from_secs(3);
    let started = Instant::now();
    let err = Cluster::connect(config).err().expect("must fail");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(err, ClusterError::Unreachable { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("cannot reach the cluster at 127.0.0.1:1"),
        "{err}"
    );
}

#[test]
fn tls_to_a_plaintext_listener_is_reported_as_tls() {
    let Some(bootstrap) = broker() else { return };
    let mut config = ConnectionConfig::new(&bootstrap)
        .with_property_args(["security.protocol=ssl"])
        .unwrap();
    config.timeout = Duration::from_secs(4);
    let started = Instant::now();
    let err = Cluster::connect(config).err().expect("must fail");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(err, ClusterError::TlsFailed { .. }), "{err}");
}

#[test]
fn refused_login_is_reported_as_auth_and_hides_the_password() {
    let Some(bootstrap) = broker() else { return };
    let mut config = ConnectionConfig::new(&bootstrap)
        .with_property_args([
            "security.protocol=sasl_plaintext",
            "sasl.mechanism=SCRAM-SHA-256",
            "sasl.username=nobody",
            "sasl.password=wrong-password-123",
        ])
        .unwrap();
    config.timeout = Duration::from_secs(4);
    let started = Instant::now();
    let err = Cluster::connect(config).err().expect("must fail");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(err, ClusterError::AuthFailed { .. }), "{err}");
    assert!(!err.to_string().contains("wrong-password-123"));
}
