//! `demo seed`: writes the demo workload to a real cluster: creates the topics (the profile
//! store compacted), produces every record with its key, partition and timestamp, and commits
//! the builder's and the stalled group's offsets. The one command that writes to a cluster.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer as _, ThreadedProducer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::{Demo, DemoConfig, SOURCES};
use crate::cluster::{Cluster, ConnectionConfig};

#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    pub records: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

/// Client settings for the seeding clients: the user's connection properties, no read-only ones.
fn client(connection: &ConnectionConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", connection.bootstrap.trim())
        .set("client.id", "freshlens-demo-seed");
    for (key, value) in &connection.properties {
        config.set(key, value);
    }
    config
}

/// Writes `demo` to the cluster. Refuses non-empty topics and existing groups unless `force`;
/// then its records go after what is there and the committed offsets shift with them.
pub fn seed(
    connection: &ConnectionConfig,
    demo: &Demo,
    force: bool,
    progress: &mut dyn FnMut(u64, u64, Duration),
) -> anyhow::Result<SeedReport> {
    let cluster = Cluster::connect(connection.clone())?;
    let config = &demo.config;
    let names: Vec<String> = SOURCES
        .iter()
        .chain(["profiles"].iter())
        .map(|s| config.topic(s))
        .collect();
    // Commits into a group that exists would move someone's consumer position.
    for group in [&config.builder_group, &config.risk_group] {
        match cluster.group(group) {
            Ok(_) if !force => bail!(
                "group {group} already exists: seeding would add commits to it; pass --force, \
                 or pick another --prefix (or name the groups: --builder-group, --risk-group)"
            ),
            Ok(_) | Err(crate::cluster::ClusterError::UnknownGroup(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let mut missing = Vec::new();
    let mut base: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for name in &names {
        match cluster.topic(name) {
            Ok(topic) => {
                if topic.partitions.len() != config.partitions as usize {
                    bail!(
                        "topic {name} has {} partitions, the demo needs {}: pick another --prefix",
                        topic.partitions.len(),
                        config.partitions
                    );
                }
                let records: i64 = topic.partitions.iter().map(|p| p.high - p.low).sum();
                if records > 0 && !force {
                    bail!(
                        "topic {name} already holds {records} records: pass --force to add to it"
                    );
                }
                for p in &topic.partitions {
                    base.insert((name.clone(), p.id), p.high);
                }
            }
            Err(crate::cluster::ClusterError::UnknownTopic(_)) => missing.push(name.clone()),
            Err(e) => return Err(e.into()),
        }
    }
    create_topics(connection, &cluster, &missing, config)?;

    let producer: ThreadedProducer<DefaultProducerContext> = client(connection)
        .set("linger.ms", "5")
        .set("enable.idempotence", "false")
        // One request in flight keeps each partition's records in the order they were sent,
        // so the broker's offsets are the generator's.
        .set("max.in.flight.requests.per.connection", "1")
        .set("queue.buffering.max.messages", "100000")
        .create()
        .context("cannot create a producer")?;
    let total = demo.capture.record_count() as u64;
    let started = Instant::now();
    let mut report = SeedReport::default();
    let mut last = Instant::now();
    for record in demo.capture.records() {
        let mut out = BaseRecord::to(&record.topic).partition(record.partition);
        if let Some(ts) = record.timestamp_ms {
            out = out.timestamp(ts);
        }
        if let Some(key) = &record.key {
            out = out.key(key.as_slice());
        }
        if let Some(value) = &record.value {
            out = out.payload(value.as_slice());
        }
        let mut pending = out;
        loop {
            match producer.send(pending) {
                Ok(()) => break,
                Err((
                    rdkafka::error::KafkaError::MessageProduction(
                        rdkafka::types::RDKafkaErrorCode::QueueFull,
                    ),
                    back,
                )) => {
                    pending = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(e).context("cannot produce"),
            }
        }
        report.records += 1;
        report.bytes += record.size_bytes() as u64;
        if last.elapsed() >= Duration::from_millis(500) {
            progress(report.records, total, started.elapsed());
            last = Instant::now();
        }
    }
    producer
        .flush(Duration::from_secs(120))
        .context("the cluster did not take every record")?;
    report.elapsed = started.elapsed();
    progress(report.records, total, report.elapsed);

    for group in &demo.capture.groups {
        let consumer: BaseConsumer = client(connection)
            .set("group.id", &group.name)
            .set("enable.auto.commit", "false")
            .create()
            .context("cannot create a client to commit offsets")?;
        let mut offsets = TopicPartitionList::new();
        for ((topic, partition), offset) in &group.offsets {
            let shift = base.get(&(topic.clone(), *partition)).copied().unwrap_or(0);
            offsets.add_partition_offset(topic, *partition, Offset::Offset(offset + shift))?;
        }
        consumer
            .commit(&offsets, CommitMode::Sync)
            .with_context(|| format!("cannot commit the offsets of {}", group.name))?;
    }
    Ok(report)
}

fn create_topics(
    connection: &ConnectionConfig,
    cluster: &Cluster,
    names: &[String],
    demo: &DemoConfig,
) -> anyhow::Result<()> {
    let partitions = demo.partitions;
    if names.is_empty() {
        return Ok(());
    }
    let admin: AdminClient<DefaultClientContext> = client(connection)
        .create()
        .context("cannot create an admin client")?;
    let configs = super::topic_configs(demo);
    let topics: Vec<NewTopic> = names
        .iter()
        .map(|name| {
            // The broker's default replication factor (-1) suits any cluster size.
            let mut topic = NewTopic::new(name, partitions, TopicReplication::Fixed(-1));
            // The demo's retention and compaction, so lag verdicts can weigh retention risk.
            for (key, value) in configs
                .iter()
                .filter(|(t, _)| t == name)
                .flat_map(|(_, c)| c)
            {
                topic = topic.set(key, value);
            }
            topic
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let results = runtime.block_on(admin.create_topics(&topics, &AdminOptions::new()))?;
    for result in results {
        if let Err((name, code)) = result {
            bail!("cannot create topic {name}: {code}");
        }
    }
    // New topics take a moment to show in metadata everywhere.
    let deadline = Instant::now() + cluster.config().timeout;
    for name in names {
        while cluster.topic(name).map(|t| t.partitions.len()) != Ok(partitions as usize) {
            if Instant::now() > deadline {
                bail!("topic {name} did not appear after creation");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}
