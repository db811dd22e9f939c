//! freshlens never joins a consumer group and never commits: after every kind of read, the broker
//! knows no group that freshlens could have made.

use freshlens::cluster::{CancelToken, ScanRequest, StartAt};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::fixtures::{TestRecord, broker, connect, create_topic, produce, t0, unique_topic};

#[test]
fn reads_create_no_group_and_no_committed_offset() {
    let Some(bootstrap) = broker() else { return };
    let topic = unique_topic("readonly");
    create_topic(&bootstrap, &topic, 2);
    produce(
        &bootstrap,
        &topic,
        &[
            TestRecord::new(0, "a", "1", t0()),
            TestRecord::new(1, "b", "2", t0() + 1),
        ],
    );
    let before = group_names(&bootstrap);
    let cluster = connect(&bootstrap);
    cluster.topics(true).unwrap();
    let _ = cluster.topic_configs(&topic);
    for start in [
        StartAt::Beginning,
        StartAt::Tail(1),
        StartAt::Timestamp(t0()),
        StartAt::Offset(0),
    ] {
        let mut request = ScanRequest::new(&topic);
        request.start = start;
        cluster
            .scan(&request, &CancelToken::default(), &mut |_| true)
            .unwrap();
    }
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args(["messages", "-b", &bootstrap, "-t", &topic, "--json"])
        .output()
        .unwrap();
    assert!(cli.status.success());

    // Tests of consumer-group features create their own groups, all named `fl-test-group-*`;
    // a broker reused across runs may hold groups from elsewhere, hence the difference.
    let appeared: Vec<String> = group_names(&bootstrap)
        .into_iter()
        .filter(|name| !before.contains(name) && !name.starts_with("fl-test-group-"))
        .collect();
    assert!(
        appeared.is_empty(),
        "groups appeared on the broker: {appeared:?}"
    );
    let ours: Vec<String> = group_names(&bootstrap)
        .into_iter()
        .filter(|name| name.starts_with("freshlens"))
        .collect();
    assert!(
        ours.is_empty(),
        "freshlens' client group ids reached the broker: {ours:?}"
    );
}

pub fn group_names(bootstrap: &str) -> Vec<String> {
    let observer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    observer
        .fetch_group_list(None, std::time::Duration::from_secs(10))
        .expect("list groups")
        .groups()
        .iter()
        .map(|g| g.name().to_owned())
        .collect()
}
