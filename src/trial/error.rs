//! What stops a step of a trial, and what a failed probe saw.

use crate::cluster::ClusterError;
use crate::cluster::write::WriteError;

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("the workload has no records")]
    NoRecords,
    #[error("cannot create a producer: {0}")]
    Producer(WriteError),
    #[error("cannot produce: {0}")]
    Produce(WriteError),
    #[error("cannot connect: {0}")]
    Connect(ClusterError),
    #[error("cannot read {topic}: {source}")]
    Read { topic: String, source: ClusterError },
    #[error("a replay reader stopped unexpectedly")]
    ReaderPanicked,
}

/// What a probe saw that differs from Apache Kafka's documented answer (or the error the
/// broker gave): the probe's failure, in words.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Seen(pub String);

impl From<String> for Seen {
    fn from(text: String) -> Self {
        Self(text)
    }
}
