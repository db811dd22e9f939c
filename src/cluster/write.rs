//! The only writes freshlens makes to a cluster, for the commands that write: `demo seed`,
//! `bench` and `trial`. Everything else in `cluster` reads. A [`Writer`] is built with the prefix its
//! command was given and refuses any topic or group outside it, so a writing command cannot
//! touch what it did not make whatever its caller passes.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer as _, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::util::IntoOpaque;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::ConnectionConfig;

mod acked;
mod admin;
mod member;
mod txn;

pub use acked::{Ack, AckedProducer};
pub use member::GroupMember;
pub use txn::TxnProducer;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A name the writer was not built for: a bug in the command, caught before it writes.
    #[error(
        "{kind} {name} is not under {prefix}: freshlens writes only under the prefix it was given"
    )]
    OutOfScope {
        kind: &'static str,
        name: String,
        prefix: String,
    },
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    /// The runtime that drives the admin client's requests could not start.
    #[error(transparent)]
    Runtime(#[from] std::io::Error),
}

/// A topic to create: its name, partitions and settings (`cleanup.policy`, `retention.ms`…).
#[derive(Debug, Clone)]
pub struct NewTopicSpec {
    pub name: String,
    pub partitions: i32,
    pub configs: Vec<(String, String)>,
}

/// Writes under one prefix: creates topics, produces records, commits groups' offsets.
#[derive(Debug, Clone)]
pub struct Writer {
    connection: ConnectionConfig,
    prefix: String,
    /// Groups named outright by the user (`demo seed --builder-group`), allowed beside the
    /// prefix: naming one is the user's consent to commit into it.
    named_groups: Vec<String>,
    client_id: Option<String>,
}

impl Writer {
    /// A writer for topics and groups whose names start with `prefix`.
    pub fn new(connection: &ConnectionConfig, prefix: impl Into<String>) -> Self {
        Self {
            connection: connection.clone(),
            prefix: prefix.into(),
            named_groups: Vec::new(),
            client_id: None,
        }
    }

    /// Also allows committing for these groups, outside the prefix.
    pub fn with_groups(mut self, groups: impl IntoIterator<Item = String>) -> Self {
        self.named_groups.extend(groups);
        self
    }

    /// The `client.id` the broker sees (librdkafka's default otherwise).
    pub fn with_client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// Client settings for every writing client: the user's connection properties and none of
    /// the read-only ones (`ConnectionConfig::client_config`), which would stop a write.
    fn client(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", self.connection.bootstrap.trim());
        if let Some(id) = &self.client_id {
            config.set("client.id", id);
        }
        for (key, value) in &self.connection.properties {
            config.set(key, value);
        }
        config
    }

    fn check_topic(&self, name: &str) -> Result<(), WriteError> {
        if name.starts_with(&self.prefix) {
            return Ok(());
        }
        Err(WriteError::OutOfScope {
            kind: "topic",
            name: name.to_owned(),
            prefix: self.prefix.clone(),
        })
    }

    fn check_group(&self, name: &str) -> Result<(), WriteError> {
        if name.starts_with(&self.prefix) || self.named_groups.iter().any(|g| g == name) {
            return Ok(());
        }
        Err(WriteError::OutOfScope {
            kind: "group",
            name: name.to_owned(),
            prefix: self.prefix.clone(),
        })
    }

    /// Creates `topics` at the broker's default replication factor (-1 suits any cluster
    /// size). Returns the topics the broker refused, each with its reason: whether one that
    /// exists already is an error is the caller's call.
    pub fn create_topics(
        &self,
        topics: &[NewTopicSpec],
    ) -> Result<Vec<(String, RDKafkaErrorCode)>, WriteError> {
        for topic in topics {
            self.check_topic(&topic.name)?;
        }
        if topics.is_empty() {
            return Ok(Vec::new());
        }
        let admin: AdminClient<DefaultClientContext> = self.client().create()?;
        let new: Vec<NewTopic> = topics
            .iter()
            .map(|t| {
                let mut new = NewTopic::new(&t.name, t.partitions, TopicReplication::Fixed(-1));
                for (key, value) in &t.configs {
                    new = new.set(key, value);
                }
                new
            })
            .collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let results = runtime.block_on(admin.create_topics(&new, &AdminOptions::new()))?;
        Ok(results.into_iter().filter_map(Result::err).collect())
    }

    /// A producer with these librdkafka settings on top of the connection's.
    pub fn producer(&self, settings: &[(&str, &str)]) -> Result<RecordWriter<'_>, WriteError> {
        let mut config = self.client();
        for (key, value) in settings {
            config.set(*key, *value);
        }
        Ok(RecordWriter {
            writer: self,
            producer: config.create()?,
        })
    }

    /// Commits `offsets` (topic, partition, next offset to read) as `group`'s, through a client
    /// carrying its id that never joins it.
    pub fn commit(&self, group: &str, offsets: &[(String, i32, i64)]) -> Result<(), WriteError> {
        self.check_group(group)?;
        let mut list = TopicPartitionList::new();
        for (topic, partition, offset) in offsets {
            self.check_topic(topic)?;
            list.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
        }
        let consumer: BaseConsumer = self
            .client()
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .create()?;
        consumer.commit(&list, CommitMode::Sync)?;
        Ok(())
    }
}

/// A producer that writes only under its writer's prefix.
pub struct RecordWriter<'w> {
    writer: &'w Writer,
    producer: ThreadedProducer<DefaultProducerContext>,
}

/// One record to produce: a partition, and optionally a timestamp, key and value.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub timestamp_ms: Option<i64>,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
}

impl<'a> Outgoing<'a> {
    /// `base` (a record of this topic) with this record's partition (a negative one left to
    /// the partitioner), timestamp, key and value: every producer here builds its records so.
    pub(crate) fn fill<D: IntoOpaque>(
        self,
        mut base: BaseRecord<'a, [u8], [u8], D>,
    ) -> BaseRecord<'a, [u8], [u8], D> {
        if self.partition >= 0 {
            base = base.partition(self.partition);
        }
        if let Some(ts) = self.timestamp_ms {
            base = base.timestamp(ts);
        }
        if let Some(key) = self.key {
            base = base.key(key);
        }
        if let Some(value) = self.value {
            base = base.payload(value);
        }
        base
    }
}

impl RecordWriter<'_> {
    /// Queues `record`, waiting while librdkafka's queue is full.
    pub fn send(&self, record: Outgoing<'_>) -> Result<(), WriteError> {
        self.writer.check_topic(record.topic)?;
        let mut pending = record.fill(BaseRecord::<[u8], [u8]>::to(record.topic));
        loop {
            match self.producer.send(pending) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    pending = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(e.into()),
            }
        }
    }

    /// Waits until the cluster has taken every queued record, at most `timeout`.
    pub fn flush(&self, timeout: Duration) -> Result<(), WriteError> {
        Ok(self.producer.flush(timeout)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_outside_the_prefix_are_refused_before_anything_is_written() {
        let connection = ConnectionConfig::new("127.0.0.1:1");
        let writer = Writer::new(&connection, "p.").with_groups(["named".to_owned()]);
        assert!(writer.check_topic("p.orders").is_ok());
        assert!(writer.check_group("p.builder").is_ok());
        assert!(writer.check_group("named").is_ok());
        let err = writer.check_topic("orders").unwrap_err();
        assert_eq!(
            err.to_string(),
            "topic orders is not under p.: freshlens writes only under the prefix it was given"
        );
        assert!(writer.check_group("other").is_err());
        let topic = NewTopicSpec {
            name: "q.orders".into(),
            partitions: 1,
            configs: Vec::new(),
        };
        assert!(matches!(
            writer.create_topics(&[topic]),
            Err(WriteError::OutOfScope { .. })
        ));
        assert!(matches!(
            writer.commit("p.g", &[("q.orders".into(), 0, 1)]),
            Err(WriteError::OutOfScope { .. })
        ));
    }
}
