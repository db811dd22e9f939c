//! What went wrong talking to a cluster, in terms a user can act on.

use std::time::Duration;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ClusterError {
    #[error("configuration: {reason}")]
    Config { reason: String },
    #[error(
        "cannot reach the cluster at {bootstrap} within {}: {} (librdkafka: {detail})",
        crate::time::format_seconds(.timeout.as_secs_f64()),
        unreachable_cause(.detail)
    )]
    Unreachable {
        bootstrap: String,
        timeout: Duration,
        detail: String,
    },
    #[error("login refused by {bootstrap}: {detail}")]
    AuthFailed { bootstrap: String, detail: String },
    #[error("TLS failure talking to {bootstrap}: {detail}")]
    TlsFailed { bootstrap: String, detail: String },
    #[error("unknown consumer group {0}")]
    UnknownGroup(String),
    #[error("unknown topic {0}")]
    UnknownTopic(String),
    #[error("topic {topic} has no partition {partition}")]
    UnknownPartition { topic: String, partition: i32 },
    #[error("{0}")]
    Kafka(String),
    #[error("capture {path}: {problem}")]
    Capture { path: String, problem: String },
    /// A worker thread ended in a panic: a bug in freshlens, not the cluster's doing.
    #[error("{0} stopped unexpectedly: a freshlens bug, please report it")]
    Panicked(String),
}

/// Why a connection failed, in words a user can act on; librdkafka's own text follows it in the
/// message for whoever needs the detail.
pub fn unreachable_cause(detail: &str) -> &'static str {
    let d = detail.to_ascii_lowercase();
    if d.contains("connection refused") {
        "nothing accepts connections at that address (is a broker running there?)"
    } else if d.contains("resolve") {
        "the host name does not resolve"
    } else if d.contains("network is unreachable") || d.contains("no route to host") {
        "no network route to that address"
    } else if d.contains("timed out") || d.contains("timeout") {
        "the address did not answer in time"
    } else if d.contains("disconnected") || d.contains("connection reset") {
        "the server closed the connection (is it a Kafka listener, and plaintext or TLS as configured?)"
    } else {
        "no broker answered"
    }
}

/// Which kind of failure a librdkafka message describes. Connection problems only surface as log
/// lines and error events, so the wording is what we have to go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Auth,
    Tls,
    Network,
}

pub fn classify(message: &str) -> Option<FailureKind> {
    // Broker names carry the protocol ("sasl_ssl://b:9092/1: Connect to ... failed"), which
    // must not make a refused connection read as a refused login.
    let m: String = message
        .to_ascii_lowercase()
        .split_whitespace()
        .filter(|word| !word.contains("://"))
        .collect::<Vec<_>>()
        .join(" ");
    if m.contains("sasl")
        || m.contains("authentication")
        || m.contains("authenticat")
        || m.contains("credentials")
        || m.contains("oauthbearer")
    {
        Some(FailureKind::Auth)
    } else if m.contains("ssl")
        || m.contains("tls")
        || m.contains("certificate")
        || m.contains("handshake")
    {
        Some(FailureKind::Tls)
    } else if m.contains("connect")
        || m.contains("resolve")
        || m.contains("refused")
        || m.contains("timed out")
        || m.contains("brokers are down")
        || m.contains("transport")
        || m.contains("unreachable")
    {
        Some(FailureKind::Network)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_cluster_is_said_in_words_with_a_readable_wait() {
        let err = ClusterError::Unreachable {
            bootstrap: "127.0.0.1:9092".into(),
            timeout: Duration::from_millis(401),
            detail: "Global error: AllBrokersDown (Local: All broker connections are down)".into(),
        };
        assert_eq!(
            err.to_string(),
            "cannot reach the cluster at 127.0.0.1:9092 within 0.4s: no broker answered \
             (librdkafka: Global error: AllBrokersDown (Local: All broker connections are down))"
        );
        let refused = ClusterError::Unreachable {
            bootstrap: "127.0.0.1:1".into(),
            timeout: Duration::from_secs(10),
            detail: "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused"
                .into(),
        };
        assert!(
            refused.to_string().starts_with(
                "cannot reach the cluster at 127.0.0.1:1 within 10.0s: nothing accepts"
            ),
            "{refused}"
        );
        assert_eq!(
            unreachable_cause("nosuchhost:9092/bootstrap: Failed to resolve 'nosuchhost:9092'"),
            "the host name does not resolve"
        );
    }

    #[test]
    fn the_protocol_in_a_broker_name_does_not_decide() {
        assert_eq!(
            classify(
                "sasl_plaintext://127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after 0ms in state CONNECT)"
            ),
            Some(FailureKind::Network)
        );
        assert_eq!(
            classify("ssl://b:9093/1: Connect to ipv4#10.0.0.1:9093 failed: Connection timed out"),
            Some(FailureKind::Network)
        );
    }

    #[test]
    fn classifies_librdkafka_wording() {
        assert_eq!(
            classify(
                "sasl_plaintext://b:9092/bootstrap: SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256"
            ),
            Some(FailureKind::Auth)
        );
        assert_eq!(
            classify(
                "ssl://127.0.0.1:9092/bootstrap: SSL handshake failed: error:0A00010B:SSL routines::wrong version number"
            ),
            Some(FailureKind::Tls)
        );
        assert_eq!(
            classify(
                "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused"
            ),
            Some(FailureKind::Network)
        );
        assert_eq!(
            classify("nosuchhost:9092/bootstrap: Failed to resolve 'nosuchhost:9092'"),
            Some(FailureKind::Network)
        );
        assert_eq!(classify("all good"), None);
    }
}
