//! A broker that dies mid-scan: the records read so far are delivered, then a clear error comes
//! within the timeout, and nothing hangs. Runs its own Tansu so the shared broker stays up.

use std::time::{Duration, Instant};

use freshlens::cluster::{
    CancelToken, Cluster, ClusterError, ConnectionConfig, ScanEvent, ScanRequest,
};

use crate::fixtures::{TestRecord, broker, create_topic, own_tansu, produce, t0};

#[test]
fn broker_down_mid_scan_ends_with_a_clear_error() {
    if broker().is_none() {
        return;
    }
    let Some((mut tansu, address)) = own_tansu("outage") else {
        return;
    };
    let topic = "outage";
    create_topic(&address, topic, 1);
    let value = "x".repeat(10_000);
    let records: Vec<TestRecord> = (0..600)
        .map(|i| TestRecord::new(0, &format!("k{i}"), &value, t0() + i))
        .collect();
    produce(&address, topic, &records);

    // Small fetches, so most of the topic is still on the broker when it dies.
    let mut config = ConnectionConfig::new(&address)
        .with_property_args([
            "fetch.max.bytes=60000",
            "message.max.bytes=50000",
            "max.partition.fetch.bytes=30000",
            "queued.max.messages.kbytes=64",
        ])
        .unwrap();
    config.timeout = Duration::from_secs(3);
    let cluster = Cluster::connect(config).unwrap();
    let mut seen = 0;
    let mut killed_at = None;
    let result = cluster.scan(
        &ScanRequest::new(topic),
        &CancelToken::default(),
        &mut |event| {
            if let ScanEvent::Records(batch) = event {
                seen += batch.len();
                if killed_at.is_none() {
                    let _ = tansu.0.kill();
                    let _ = tansu.0.wait();
                    killed_at = Some(Instant::now());
                }
            }
            true
        },
    );
    let waited = killed_at.expect("some records arrived").elapsed();
    let err = result.expect_err("the scan cannot finish without its broker");
    assert!(matches!(err, ClusterError::Unreachable { .. }), "{err}");
    assert!(
        seen > 0 && seen < 600,
        "records before the outage were delivered: {seen}"
    );
    assert!(
        waited < Duration::from_secs(10),
        "error within the timeout, took {waited:?}"
    );
}
