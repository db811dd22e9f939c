//! Everything that talks to a Kafka-compatible cluster through librdkafka: connecting, metadata,
//! watermarks and message scans. Read-only by construction: clients are built without a
//! `group.id`, partitions are `assign()`ed, nothing is ever committed or produced. The one
//! exception is `write`, the only writing clients, reached by `demo seed` and `bench` alone.

mod config;
mod context;
mod error;
mod groups;
mod native;
mod parallel;
pub(crate) use groups::Reader;
pub use groups::{FormatError, GroupInfo, GroupMember, RecordAt, decode_assignment};
pub use native::{Acl, AclAnswer, GroupOffsets};
pub use parallel::in_parallel;
mod metadata;
mod pool;
pub mod probe;
mod record;
pub mod saved;
mod scan;
mod watermarks;
pub mod write;

use rdkafka::consumer::Consumer as _;
use rdkafka::error::KafkaError;

use pool::Pool;

pub use config::{ConnectionConfig, DEFAULT_TIMEOUT, PropertyError, check_property, is_secret_key};
pub use context::{Consumer, RecordingContext};
pub use error::{ClusterError, FailureKind, classify};
pub use metadata::{PartitionInfo, TopicInfo, is_internal_topic};
pub use record::{Record, TimestampKind};
pub use scan::{
    CancelToken, Judged, RecordFilter, ScanEvent, ScanProgress, ScanRequest, ScanSummary, StartAt,
};

/// A connected, read-only view of one cluster. Cheap to share behind an `Arc`.
pub struct Cluster {
    config: ConnectionConfig,
    consumer: Consumer,
    /// Clients for scans, by the topic they last read.
    readers: Pool,
    /// Clients carrying a group's id for its committed offsets, by group.
    group_clients: Pool,
    /// Seen listing a high watermark below its records (`watermarks`).
    lists_low: std::sync::atomic::AtomicBool,
}

impl Cluster {
    /// Connects and proves the cluster answers a metadata request within the configured timeout.
    pub fn connect(config: ConnectionConfig) -> Result<Self, ClusterError> {
        let consumer = new_consumer(&config)?;
        let cluster = Self {
            config,
            consumer,
            readers: Pool::new(16),
            group_clients: Pool::new(32),
            lists_low: Default::default(),
        };
        // Asked in short slices, so a cluster that cannot be reached at all (every bootstrap
        // address refused or unresolvable, a refused login) is reported as soon as librdkafka
        // knows, not when the timeout runs out.
        let started = std::time::Instant::now();
        let deadline = started + cluster.config.timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let slice = left.min(std::time::Duration::from_millis(100));
            match cluster.consumer.fetch_metadata(None, slice) {
                Ok(_) => return Ok(cluster),
                Err(e) => {
                    // Error events reach the context only when the client is polled.
                    let _ = cluster.consumer.poll(std::time::Duration::ZERO);
                    if left <= slice {
                        return Err(cluster.explain(e));
                    }
                    if cluster.consumer.context().gave_up() {
                        // Said as soon as known: "within" is how long it took, not the timeout.
                        return Err(match cluster.explain(e) {
                            ClusterError::Unreachable {
                                bootstrap, detail, ..
                            } => ClusterError::Unreachable {
                                bootstrap,
                                timeout: std::time::Duration::from_millis(
                                    started.elapsed().as_millis() as u64,
                                ),
                                detail,
                            },
                            other => other,
                        });
                    }
                }
            }
        }
    }

    pub fn config(&self) -> &ConnectionConfig {
        &self.config
    }

    pub(crate) fn consumer(&self) -> &Consumer {
        &self.consumer
    }

    /// How many connected clients wait for the next scan.
    pub fn idle_readers(&self) -> usize {
        self.readers.len()
    }

    /// A client with no assignment for reading `topic`.
    pub(crate) fn take_reader(&self, topic: &str) -> Result<Consumer, ClusterError> {
        match self.readers.take(topic) {
            Some(consumer) => Ok(consumer),
            None => new_consumer(&self.config),
        }
    }

    /// Hands back a reader whose read of `topic` ended without error.
    pub(crate) fn give_back_reader(&self, topic: &str, consumer: Consumer) {
        if consumer.unassign().is_ok() {
            self.readers.put(topic, consumer);
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
