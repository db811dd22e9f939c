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
}

impl Cluster {
    /// Connects and proves the cluster answers a metadata request within the configured timeout.
    pub fn connect(config: ConnectionConfig) -> Result<Self, ClusterError> {
        let consumer = new_consumer(&config)?;
        let cluster = Self { config, consumer };
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
