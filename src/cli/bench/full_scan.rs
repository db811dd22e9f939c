//! The bench's full-scan baselines, each on a client kept warm between lookups: (b) what a web
//! UI does to find a key, every partition of every source topic in one polling loop, the key
//! compared on the borrowed message (no record copied); and a plain librdkafka consumer loop
//! over the same partitions at librdkafka's default settings, counting messages, the floor a
//! naive scan must not fall below.

use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer as _, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::{Message as _, Offset, TopicPartitionList};

use super::common::Run;
use crate::cluster::{Cluster, ConnectionConfig};

/// Says nothing: an end of partition reaches the loop as an event, and librdkafka's default
/// context would also log each one as an error.
struct Quiet;

impl ClientContext for Quiet {
    fn log(&self, _: rdkafka::config::RDKafkaLogLevel, _: &str, _: &str) {}
    fn error(&self, _: KafkaError, _: &str) {}
}

impl ConsumerContext for Quiet {}

/// A consumer and every partition of the topics it scans.
pub struct FullScan {
    consumer: BaseConsumer<Quiet>,
    partitions: Vec<(String, i32)>,
}

impl FullScan {
    /// With freshlens's client settings (what a competent tool would tune).
    pub fn tuned(
        connection: &ConnectionConfig,
        cluster: &Cluster,
        topics: &[String],
    ) -> anyhow::Result<Self> {
        let config = connection.client_config()?;
        Self::new(config, cluster, topics)
    }

    /// With librdkafka's defaults for everything freshlens tunes: a plain consumer loop.
    pub fn plain(
        connection: &ConnectionConfig,
        cluster: &Cluster,
        topics: &[String],
    ) -> anyhow::Result<Self> {
        let mut config = connection.client_config()?;
        config
            .set("fetch.wait.max.ms", "500")
            .set("queued.max.messages.kbytes", "65536")
            .set("fetch.queue.backoff.ms", "1000");
        Self::new(config, cluster, topics)
    }

    fn new(
        config: rdkafka::ClientConfig,
        cluster: &Cluster,
        topics: &[String],
    ) -> anyhow::Result<Self> {
        let consumer: BaseConsumer<Quiet> = config.create_with_context(Quiet)?;
        let mut partitions = Vec::new();
        for topic in topics {
            for p in cluster.topic(topic)?.partitions {
                partitions.push((topic.clone(), p.id));
            }
        }
        Ok(Self {
            consumer,
            partitions,
        })
    }

    /// Reads every partition from the beginning to its end; `keep` sees each message's key.
    fn read(&self, mut keep: impl FnMut(Option<&[u8]>)) -> anyhow::Result<Run> {
        let started = Instant::now();
        let mut assignment = TopicPartitionList::new();
        for (topic, partition) in &self.partitions {
            assignment.add_partition_offset(topic, *partition, Offset::Beginning)?;
        }
        self.consumer.assign(&assignment)?;
        // An end-of-partition event names the partition, not its topic; with nothing written
        // meanwhile each assigned partition ends once, so counting them is enough.
        let mut open = self.partitions.len();
        let mut run = Run::default();
        let mut idle_since = Instant::now();
        while open > 0 {
            match self.consumer.poll(Duration::from_millis(100)) {
                None if idle_since.elapsed() > Duration::from_secs(30) => {
                    anyhow::bail!("no data for 30 s with {open} partitions unread")
                }
                None => {}
                Some(Err(KafkaError::PartitionEOF(_))) => {
                    idle_since = Instant::now();
                    open -= 1;
                }
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(message)) => {
                    idle_since = Instant::now();
                    run.records += 1;
                    run.bytes += (message.key_len() + message.payload_len()) as u64;
                    keep(message.key());
                }
            }
        }
        self.consumer.unassign()?;
        run.elapsed = started.elapsed();
        Ok(run)
    }

    /// (b): the messages whose key is `key`, counted.
    pub fn find(&self, key: &str) -> anyhow::Result<(Run, u64)> {
        let key = key.as_bytes();
        let mut found = 0;
        let run = self.read(|k| found += u64::from(k == Some(key)))?;
        Ok((run, found))
    }

    /// Every message, counted.
    pub fn count(&self) -> anyhow::Result<Run> {
        self.read(|k| {
            std::hint::black_box(k);
        })
    }
}
