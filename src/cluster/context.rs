//! A librdkafka client context that remembers the last connection failures, so a timeout can be
//! reported as "refused login" or "TLS failure" instead of a bare "timed out".

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use rdkafka::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, ConsumerContext};
use rdkafka::error::KafkaError;

use super::error::{FailureKind, classify};

const KEPT_FAILURES: usize = 8;

/// Every freshlens reading client: a consumer that remembers its connection failures.
pub type Consumer = BaseConsumer<RecordingContext>;

#[derive(Default)]
pub struct RecordingContext {
    failures: Mutex<Vec<(FailureKind, String)>>,
    /// librdkafka said every bootstrap address failed (AllBrokersDown), or a login or TLS
    /// handshake was refused: waiting longer will not help.
    gave_up: AtomicBool,
}

impl RecordingContext {
    fn remember(&self, message: &str) {
        if let Some(kind) = classify(message)
            && let Ok(mut failures) = self.failures.lock()
        {
            if failures.len() == KEPT_FAILURES {
                failures.remove(0);
            }
            failures.push((kind, message.to_owned()));
        }
    }

    /// Whether connecting has failed for good (see `gave_up`).
    pub fn gave_up(&self) -> bool {
        self.gave_up.load(Ordering::Relaxed)
    }

    /// The most telling failure seen so far: authentication and TLS outrank network errors,
    /// because a refused login also shows up as a dropped connection.
    pub fn worst_failure(&self) -> Option<(FailureKind, String)> {
        let failures = self.failures.lock().ok()?;
        [FailureKind::Auth, FailureKind::Tls, FailureKind::Network]
            .into_iter()
            .find_map(|wanted| failures.iter().rev().find(|(kind, _)| *kind == wanted))
            .cloned()
    }
}

impl ClientContext for RecordingContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        if (level as i32) <= RDKafkaLogLevel::Warning as i32 {
            self.remember(log_message);
        }
        log::debug!(target: "librdkafka", "{fac} {log_message}");
    }

    fn error(&self, error: KafkaError, reason: &str) {
        use rdkafka::types::RDKafkaErrorCode as Code;
        if matches!(
            error.rdkafka_error_code(),
            Some(Code::AllBrokersDown | Code::Authentication | Code::SaslAuthenticationFailed)
        ) {
            self.gave_up.store(true, Ordering::Relaxed);
        }
        self.remember(&format!("{error}: {reason}"));
        log::debug!(target: "librdkafka", "{error}: {reason}");
    }
}

impl ConsumerContext for RecordingContext {}
