//! Shared test fixtures: the broker address, uniquely named topics and records produced one per
//! batch (Tansu reports exact high watermarks only then).

use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use freshlens::cluster::{Cluster, ConnectionConfig};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

pub fn bootstrap_address() -> String {
    std::env::var("FRESHLENS_BOOTSTRAP_TEST").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

/// Whether something accepts connections at `address`.
fn answers(address: &str) -> bool {
    address
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok())
}

/// The broker's address, or `None` (test skipped) when none answers outside CI.
pub fn broker() -> Option<String> {
    let address = bootstrap_address();
    if answers(&address) {
        return Some(address);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!(
            "no Kafka broker answers at {address}, and CI=true: start Tansu (see DEVELOPERS.md)"
        );
    }
    eprintln!("skipped: no Kafka broker at {address} (set CI=true to make this a failure)");
    None
}

pub fn connect(bootstrap: &str) -> Cluster {
    Cluster::connect(ConnectionConfig::new(bootstrap)).expect("connect to the test broker")
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn unique_topic(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "fl-{what}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn create_topic(bootstrap: &str, name: &str, partitions: i32) {
    create_topic_with(bootstrap, name, partitions, &[]);
}

/// A topic created with configuration settings (`retention.ms`, `cleanup.policy`).
pub fn create_topic_with(bootstrap: &str, name: &str, partitions: i32, configs: &[(&str, &str)]) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let mut topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
    for (key, value) in configs {
        topic = topic.set(key, value);
    }
    let results = runtime()
        .block_on(admin.create_topics([&topic], &AdminOptions::new()))
        .expect("create topic");
    for result in results {
        result.expect("topic created");
    }
    // Metadata reaches every part of the broker shortly after creation.
    let cluster = connect(bootstrap);
    for _ in 0..50 {
        if cluster
            .topic(name)
            .is_ok_and(|t| t.partitions.len() == partitions as usize)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("topic {name} did not appear");
}

#[derive(Debug, Clone)]
pub struct TestRecord {
    pub partition: i32,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub timestamp_ms: i64,
    pub headers: Vec<(String, String)>,
}

impl TestRecord {
    pub fn new(partition: i32, key: &str, value: &str, timestamp_ms: i64) -> Self {
        Self {
            partition,
            key: Some(key.as_bytes().to_vec()),
            value: Some(value.as_bytes().to_vec()),
            timestamp_ms,
            headers: vec![],
        }
    }
}

/// Produces each record in its own batch and waits for it, so offsets are known exactly.
pub fn produce(bootstrap: &str, topic: &str, records: &[TestRecord]) -> Vec<(i32, i64)> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "0")
        .set("batch.num.messages", "1")
        .set("enable.idempotence", "false")
        .set("max.in.flight.requests.per.connection", "1")
        .set("compression.type", "none")
        .create()
        .unwrap();
    let rt = runtime();
    records
        .iter()
        .map(|r| {
            let mut headers = OwnedHeaders::new();
            for (k, v) in &r.headers {
                headers = headers.insert(Header {
                    key: k,
                    value: Some(v.as_bytes()),
                });
            }
            let mut record = FutureRecord::to(topic)
                .partition(r.partition)
                .timestamp(r.timestamp_ms)
                .headers(headers);
            if let Some(key) = &r.key {
                record = record.key(key.as_slice());
            }
            if let Some(value) = &r.value {
                record = record.payload(value.as_slice());
            }
            let delivery = rt
                .block_on(producer.send(record, Duration::from_secs(10)))
                .map_err(|(e, _)| e)
                .expect("delivered");
            (delivery.partition, delivery.offset)
        })
        .collect()
}

/// Base time for record timestamps: an hour ago, on a whole second, so retention never
/// deletes test records on a real Kafka and "before"/"after" comparisons stay simple.
pub fn t0() -> i64 {
    static T0: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *T0.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        (now - 3_600_000) / 1000 * 1000
    })
}

/// Runs the freshlens binary, which must succeed and print one JSON document.
pub fn freshlens_json(args: &[&str]) -> serde_json::Value {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_freshlens"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON document")
}

/// Where a scripted world is written: the test broker when one answers, else a capture file
/// that the CLI opens with `--capture` and the app with its start-up, so the profile,
/// freshness and UI paths run on a laptop without a broker too (under `CI=true` a missing
/// broker is still a failure).
pub enum Target {
    Broker(String),
    Capture {
        capture: std::sync::Mutex<freshlens::source::Capture>,
        path: std::path::PathBuf,
        _dir: tempfile::TempDir,
    },
}

impl Target {
    pub fn new() -> Self {
        let address = bootstrap_address();
        if answers(&address) {
            return Self::Broker(address);
        }
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("no Kafka broker answers at {address}, and CI=true: start Tansu");
        }
        eprintln!("note: no Kafka broker at {address}: this test runs on an in-memory capture");
        let dir = tempfile::tempdir().unwrap();
        Self::Capture {
            capture: std::sync::Mutex::new(freshlens::source::Capture::new("test world", 0)),
            path: dir.path().join("world.jsonl"),
            _dir: dir,
        }
    }

    pub fn create_topic(&self, name: &str, partitions: i32) {
        self.create_topic_with(name, partitions, &[]);
    }

    pub fn create_topic_with(&self, name: &str, partitions: i32, configs: &[(&str, &str)]) {
        match self {
            Self::Broker(bootstrap) => create_topic_with(bootstrap, name, partitions, configs),
            Self::Capture { capture, .. } => {
                let mut capture = capture.lock().unwrap();
                capture.add_topic(name, partitions);
                let described = configs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect();
                capture.configs.insert(name.to_owned(), described);
            }
        }
    }

    /// Writes `records`, each at the next offset of its partition; their (partition, offset).
    pub fn produce(&self, topic: &str, records: &[TestRecord]) -> Vec<(i32, i64)> {
        let capture = match self {
            Self::Broker(bootstrap) => return produce(bootstrap, topic, records),
            Self::Capture { capture, .. } => capture,
        };
        let mut capture = capture.lock().unwrap();
        let mut placed = Vec::new();
        for r in records {
            let offset = capture
                .topics
                .get(topic)
                .and_then(|t| t.get(&r.partition))
                .map_or(0, |p| p.high);
            capture.push(freshlens::cluster::Record {
                topic: topic.to_owned(),
                partition: r.partition,
                offset,
                timestamp_ms: Some(r.timestamp_ms),
                timestamp_kind: freshlens::cluster::TimestampKind::CreateTime,
                key: r.key.clone(),
                value: r.value.clone(),
                headers: r
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), Some(v.as_bytes().to_vec())))
                    .collect(),
            });
            placed.push((r.partition, offset));
        }
        placed
    }

    /// Commits `group`'s offsets: (topic, partition, offset).
    pub fn commit(&self, group: &str, offsets: &[(&str, i32, i64)]) {
        match self {
            Self::Broker(bootstrap) => {
                use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
                let consumer: BaseConsumer = ClientConfig::new()
                    .set("bootstrap.servers", bootstrap.as_str())
                    .set("group.id", group)
                    .set("enable.auto.commit", "false")
                    .create()
                    .unwrap();
                let mut list = rdkafka::TopicPartitionList::new();
                for (topic, partition, offset) in offsets {
                    list.add_partition_offset(topic, *partition, rdkafka::Offset::Offset(*offset))
                        .unwrap();
                }
                consumer.commit(&list, CommitMode::Sync).expect("commit");
            }
            Self::Capture { capture, .. } => {
                let mut capture = capture.lock().unwrap();
                let entry = freshlens::source::CapturedGroup {
                    name: group.to_owned(),
                    state: "Empty".into(),
                    offsets: offsets
                        .iter()
                        .map(|(t, p, o)| (((*t).to_owned(), *p), *o))
                        .collect(),
                    ..Default::default()
                };
                capture.groups.push(entry);
            }
        }
    }

    /// The flags that point a command at this world: `-b ADDRESS` or `--capture FILE` (the
    /// capture is written now, taken "now").
    pub fn args(&self) -> Vec<String> {
        match self {
            Self::Broker(bootstrap) => vec!["-b".into(), bootstrap.clone()],
            Self::Capture { capture, path, .. } => {
                let mut capture = capture.lock().unwrap();
                capture.captured_at_ms = freshlens::time::now_ms();
                freshlens::source::save_capture(
                    &capture,
                    path,
                    freshlens::source::CaptureFormat::Freshlens,
                )
                .unwrap();
                vec!["--capture".into(), path.display().to_string()]
            }
        }
    }

    /// The world as a source, for engine calls.
    pub fn source(&self) -> Box<dyn freshlens::source::Source> {
        match self {
            Self::Broker(bootstrap) => Box::new(connect(bootstrap)),
            Self::Capture { capture, .. } => {
                let mut capture = capture.lock().unwrap().clone();
                capture.captured_at_ms = freshlens::time::now_ms();
                Box::new(capture)
            }
        }
    }

    /// How the app starts on this world.
    pub fn startup(&self) -> freshlens::ui::Startup {
        match self {
            Self::Broker(bootstrap) => freshlens::ui::Startup {
                connect: Some(ConnectionConfig::new(bootstrap.as_str())),
                ..Default::default()
            },
            Self::Capture { .. } => {
                let args = self.args();
                freshlens::ui::Startup {
                    capture: Some(args[1].clone().into()),
                    ..Default::default()
                }
            }
        }
    }
}

/// A Tansu of a test's own (killed when dropped), for tests that stop a broker or need two.
pub struct Broker(pub std::process::Child);

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn own_tansu(cluster_id: &str) -> Option<(Broker, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let url = format!("tcp://127.0.0.1:{port}");
    let child = std::process::Command::new("tansu")
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
        ])
        .args([
            "--storage-engine",
            "memory://tansu/",
            "--cluster-id",
            cluster_id,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let child = match child {
        Ok(child) => Broker(child),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("cannot start tansu: {e}")
        }
        Err(_) => return None,
    };
    let address = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&address).is_err() {
        assert!(
            Instant::now() < deadline,
            "tansu did not start on {address}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some((child, address))
}

/// A Python with Confluent's client and serializers (`tests/python/requirements.txt`), from
/// `FRESHLENS_TEST_PYTHON` (`.ci/run` makes one); `None`, with a note, where there is none,
/// and a failure under `CI=true`.
pub fn confluent_python() -> Option<std::path::PathBuf> {
    python_with(
        "FRESHLENS_TEST_PYTHON",
        "import confluent_kafka, grpc_tools",
        "confluent-kafka and grpcio-tools",
        "tests/python/requirements.txt",
    )
}

/// The Python `var` names, when `import` runs in it. Without one the test is skipped, with a
/// note, except under `CI=true`, where `.ci/run` installs it and its absence is a failure.
pub fn python_with(
    var: &str,
    import: &str,
    what: &str,
    requirements: &str,
) -> Option<std::path::PathBuf> {
    let python = std::env::var_os(var).map(std::path::PathBuf::from);
    let works = python.as_ref().is_some_and(|p| {
        std::process::Command::new(p)
            .args(["-c", import])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if works {
        return python;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{var} names no Python with {what}, and CI=true: see .ci/run");
    }
    eprintln!("skipped: set {var} to a Python with {requirements}");
    None
}

/// Produces `records` as producers write them: batched (several records a batch, linger and
/// all), in order per partition, then flushed.
pub fn produce_batched(bootstrap: &str, topic: &str, records: &[TestRecord]) {
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer as _, ThreadedProducer};
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "50")
        .set("enable.idempotence", "false")
        .set("max.in.flight.requests.per.connection", "1")
        .set("compression.type", "none")
        .create()
        .unwrap();
    for r in records {
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic)
            .partition(r.partition)
            .timestamp(r.timestamp_ms);
        if let Some(key) = &r.key {
            record = record.key(key.as_slice());
        }
        if let Some(value) = &r.value {
            record = record.payload(value.as_slice());
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((e, back))
                    if e.rdkafka_error_code()
                        == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
                {
                    producer.poll(Duration::from_millis(50));
                    record = back;
                }
                Err((e, _)) => panic!("produce: {e}"),
            }
        }
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}
