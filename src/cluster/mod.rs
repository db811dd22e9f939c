//! Everything that talks to a Kafka-compatible cluster through librdkafka: connecting, metadata,
//! watermarks and message scans. Read-only by construction: clients are built without a
//! `group.id`, partitions are `assign()`ed, nothing is ever committed or produced.

mod config;
mod context;
mod error;
mod groups;
pub(crate) use groups::Reader;
pub use groups::{GroupInfo, GroupMember, decode_assignment};
mod metadata;
mod record;
pub mod saved;
mod scan;

use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::KafkaError;

pub use config::{ConnectionConfig, DEFAULT_TIMEOUT, is_secret_key};
pub use context::RecordingContext;
pub use error::{ClusterError, FailureKind};
pub use metadata::{PartitionInfo, TopicInfo, is_internal_topic};
pub use record::{Record, TimestampKind};
pub use scan::{
    CancelToken, RecordFilter, ScanEvent, ScanProgress, ScanRequest, ScanSummary, StartAt,
};

pub type Consumer = BaseConsumer<RecordingContext>;

/// A connected, read-only view of one cluster. Cheap to share behind an `Arc`.
pub struct Cluster {
    config: ConnectionConfig,
    consumer: Consumer,
    /// Consumers whose scans finished cleanly, kept connected for the next one: a new
    /// client costs a bootstrap connection, API version and metadata round trips.
    idle: std::sync::Mutex<Vec<(String, Consumer)>>,
}

/// Idle consumers kept, the least recently used dropped first.
const IDLE_CONSUMERS: usize = 16;

impl Cluster {
    /// Connects and proves the cluster answers a metadata request within the configured timeout.
    pub fn connect(config: ConnectionConfig) -> Result<Self, ClusterError> {
        let consumer = new_consumer(&config)?;
        let cluster = Self {
            config,
            consumer,
            idle: Default::default(),
        };
        cluster
            .consumer
            .fetch_metadata(None, cluster.config.timeout)
            .map_err(|e| cluster.explain(e))?;
        Ok(cluster)
    }

    pub fn config(&self) -> &ConnectionConfig {
        &self.config
    }

    pub(crate) fn consumer(&self) -> &Consumer {
        &self.consumer
    }

    /// How many connected consumers wait for the next scan.
    pub fn idle_consumers(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }

    /// A consumer with no assignment, reused when one last read `topic`. Only then: a client
    /// that has not seen a topic waits for a metadata refresh before fetching from it, which
    /// costs more (up to a second) than a new client, whose first metadata covers every topic.
    pub(crate) fn take_consumer(&self, topic: &str) -> Result<Consumer, ClusterError> {
        let reused = self.idle.lock().ok().and_then(|mut idle| {
            let at = idle.iter().rposition(|(t, _)| t == topic)?;
            Some(idle.remove(at).1)
        });
        match reused {
            Some(consumer) => Ok(consumer),
            None => new_consumer(&self.config),
        }
    }

    /// Hands back a consumer whose read of `topic` ended without error. Its assignment is
    /// dropped and anything still queued for it (records, end-of-partition events) drained,
    /// so the next scan sees only its own.
    pub(crate) fn give_back(&self, topic: &str, consumer: Consumer) {
        if consumer.unassign().is_err() {
            return;
        }
        while consumer.poll(std::time::Duration::ZERO).is_some() {}
        if consumer.context().worst_failure().is_some() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() == IDLE_CONSUMERS {
                idle.remove(0);
            }
            idle.push((topic.to_owned(), consumer));
        }
    }

    /// Turns a librdkafka error into one that says what happened (unreachable, refused login,
    /// TLS), using the failures the client logged on its way there. Secrets are redacted.
    pub(crate) fn explain(&self, error: KafkaError) -> ClusterError {
        // Log lines and error events reach the context only when the client is polled; this
        // client has no assignment, so a poll delivers just those.
        for _ in 0..3 {
            let _ = self.consumer.poll(std::time::Duration::from_millis(20));
        }
        explain(&self.config, self.consumer.context(), error)
    }
}

pub(crate) fn new_consumer(config: &ConnectionConfig) -> Result<Consumer, ClusterError> {
    config
        .client_config()?
        .create_with_context(RecordingContext::default())
        .map_err(|e| ClusterError::Config {
            reason: config.redact(&e.to_string()),
        })
}

pub(crate) fn explain(
    config: &ConnectionConfig,
    context: &RecordingContext,
    error: KafkaError,
) -> ClusterError {
    let bootstrap = config.bootstrap.clone();
    let detail = |text: &str| config.redact(text);
    let transport_error = matches!(
        error.rdkafka_error_code(),
        Some(
            rdkafka::types::RDKafkaErrorCode::OperationTimedOut
                | rdkafka::types::RDKafkaErrorCode::AllBrokersDown
                | rdkafka::types::RDKafkaErrorCode::BrokerTransportFailure
                | rdkafka::types::RDKafkaErrorCode::Resolve
                | rdkafka::types::RDKafkaErrorCode::Authentication
                | rdkafka::types::RDKafkaErrorCode::SSL
        )
    );
    match context.worst_failure() {
        Some((FailureKind::Auth, message)) => ClusterError::AuthFailed {
            bootstrap,
            detail: detail(&message),
        },
        Some((FailureKind::Tls, message)) => ClusterError::TlsFailed {
            bootstrap,
            detail: detail(&message),
        },
        Some((FailureKind::Network, message)) if transport_error => ClusterError::Unreachable {
            bootstrap,
            timeout: config.timeout,
            detail: detail(&message),
        },
        None if transport_error => ClusterError::Unreachable {
            bootstrap,
            timeout: config.timeout,
            detail: detail(&error.to_string()),
        },
        _ => ClusterError::Kafka(detail(&error.to_string())),
    }
}
