//! `demo seed`: writes the demo workload to a real cluster: creates the topics (the profile
//! store compacted), produces every record with its key, partition and timestamp, and commits
//! the builder's and the stalled group's offsets. The one command that writes to a cluster.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use super::{Demo, DemoConfig, SOURCES, under_prefix};
use crate::cluster::write::{NewTopicSpec, Outgoing, Writer};
use crate::cluster::{Cluster, ConnectionConfig};

#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    pub records: u64,
    pub bytes: u64,
    pub elapsed: Duration,
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
    // Topics under the prefix; the groups under it too unless the user named them.
    let writer = Writer::new(connection, under_prefix(&config.prefix, ""))
        .with_groups([config.builder_group.clone(), config.risk_group.clone()])
        .with_client_id("freshlens-demo-seed");
    create_topics(&writer, &cluster, &missing, config)?;

    let producer = writer
        .producer(&[
            ("linger.ms", "5"),
            ("enable.idempotence", "false"),
            // One request in flight keeps each partition's records in the order they were
            // sent, so the broker's offsets are the generator's.
            ("max.in.flight.requests.per.connection", "1"),
            ("queue.buffering.max.messages", "100000"),
        ])
        .context("cannot create a producer")?;
    let total = demo.capture.record_count() as u64;
    let started = Instant::now();
    let mut report = SeedReport::default();
    let mut last = Instant::now();
    for record in demo.capture.records() {
        producer
            .send(Outgoing {
                topic: &record.topic,
                partition: record.partition,
                timestamp_ms: record.timestamp_ms,
                key: record.key.as_deref(),
                value: record.value.as_deref(),
            })
            .context("cannot produce")?;
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
        let offsets: Vec<(String, i32, i64)> = group
            .offsets
            .iter()
            .map(|((topic, partition), offset)| {
                let shift = base.get(&(topic.clone(), *partition)).copied().unwrap_or(0);
                (topic.clone(), *partition, offset + shift)
            })
            .collect();
        writer
            .commit(&group.name, &offsets)
            .with_context(|| format!("cannot commit the offsets of {}", group.name))?;
    }
    Ok(report)
}

fn create_topics(
    writer: &Writer,
    cluster: &Cluster,
    names: &[String],
    demo: &DemoConfig,
) -> anyhow::Result<()> {
    let partitions = demo.partitions;
    if names.is_empty() {
        return Ok(());
    }
    let configs = super::topic_configs(demo);
    let topics: Vec<NewTopicSpec> = names
        .iter()
        .map(|name| NewTopicSpec {
            name: name.clone(),
            partitions,
            // The demo's retention and compaction, so lag verdicts can weigh retention risk.
            configs: configs
                .iter()
                .filter(|(t, _)| t == name)
                .flat_map(|(_, c)| c.clone())
                .collect(),
        })
        .collect();
    if let Some((name, code)) = writer.create_topics(&topics)?.into_iter().next() {
        bail!("cannot create topic {name}: {code}");
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
