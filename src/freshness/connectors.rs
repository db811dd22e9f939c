//! Kafka Connect in the chain: the connectors that read or write the spec's topics, from the
//! Connect REST API (`GET /connectors?expand=status&expand=info`), with their state and the
//! first line of a failed task's trace. Read-only: nothing is restarted or changed.

use std::time::Duration;

use serde_json::Value;

use super::Hop;
use crate::profile::Spec;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("Kafka Connect at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("Kafka Connect at {url} answered {status}: {body}")]
    Answered {
        url: String,
        status: u16,
        body: String,
    },
    #[error("Kafka Connect at {url} answered something that is not a connector list: {detail}")]
    NotConnectors { url: String, detail: String },
}

/// The connectors touching the spec's topics (sources and store), as chain hops. A
/// `user:password@` in `url` is sent as Basic auth and never shown.
pub fn connector_hops(url: &str, spec: &Spec, timeout: Duration) -> Result<Vec<Hop>, ConnectError> {
    let (shown, userinfo) = crate::codec::registry::split_credentials(url);
    let base = shown.trim_end_matches('/');
    let endpoint = format!("{base}/connectors?expand=status&expand=info");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let unreachable = |e: ureq::Error| ConnectError::Unreachable {
        url: base.to_owned(),
        detail: e.to_string(),
    };
    let mut request = agent.get(&endpoint).header("Accept", "application/json");
    if let Some(credentials) = userinfo {
        request = request.header(
            "Authorization",
            crate::codec::registry::basic_authorization(credentials),
        );
    }
    let mut response = request.call().map_err(unreachable)?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_string()
        .map_err(unreachable)?;
    if status != 200 {
        return Err(ConnectError::Answered {
            url: base.to_owned(),
            status,
            body: body.chars().take(200).collect(),
        });
    }
    let doc: Value = serde_json::from_str(&body).map_err(|e| ConnectError::NotConnectors {
        url: base.to_owned(),
        detail: e.to_string(),
    })?;
    let connectors = doc.as_object().ok_or_else(|| ConnectError::NotConnectors {
        url: base.to_owned(),
        detail: "not an object of connectors by name".into(),
    })?;
    let mut topics: Vec<&str> = spec.sources.iter().map(|s| s.topic.as_str()).collect();
    topics.extend(spec.store.as_ref().map(|s| s.topic.as_str()));
    // Each connector as `expand=info` describes it: one without its config cannot be said to
    // touch the spec's topics or not, so it is reported, never dropped.
    let shapeless: Vec<&str> = connectors
        .iter()
        .filter(|(_, c)| !c["info"]["config"].is_object())
        .map(|(name, _)| name.as_str())
        .collect();
    if let Some(first) = shapeless.first() {
        return Err(ConnectError::NotConnectors {
            url: base.to_owned(),
            detail: format!(
                "{} connector(s) without info.config, so whether they touch the spec's topics \
                 is unknown (first: {first:?}; Kafka Connect 2.3 and later answer \
                 ?expand=info)",
                shapeless.len()
            ),
        });
    }
    let mut hops: Vec<Hop> = connectors
        .iter()
        .filter_map(|(name, c)| hop_of(name, c, &topics))
        .collect();
    hops.sort_by(|a, b| a.hop.cmp(&b.hop));
    Ok(hops)
}

/// The hop of one connector when it touches one of `topics`.
fn hop_of(name: &str, connector: &Value, topics: &[&str]) -> Option<Hop> {
    let info = &connector["info"];
    let status = &connector["status"];
    let config = info["config"].as_object()?;
    let kind = info["type"]
        .as_str()
        .or_else(|| status["type"].as_str())
        .unwrap_or("connector");
    let touched: Vec<&str> = topics
        .iter()
        .copied()
        .filter(|topic| touches(config, topic))
        .collect();
    if touched.is_empty() {
        return None;
    }
    let state = status["connector"]["state"].as_str().unwrap_or("UNKNOWN");
    let mut failed = Vec::new();
    let mut tasks = 0;
    for task in status["tasks"].as_array().into_iter().flatten() {
        tasks += 1;
        if task["state"].as_str() == Some("FAILED") {
            let id = task["id"].as_i64().unwrap_or(-1);
            let trace = task["trace"]
                .as_str()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("");
            failed.push(format!("task {id} FAILED: {trace}"));
        }
    }
    let healthy = state == "RUNNING" && failed.is_empty();
    let mut detail = format!("{kind} of {}; {state}, {tasks} task(s)", touched.join(", "));
    if !failed.is_empty() {
        detail = format!("{detail}; {}", failed.join("; "));
    }
    Some(Hop {
        hop: name.to_owned(),
        kind: "connector",
        value_ms: None,
        within_budget: healthy,
        detail,
        produce_per_sec: None,
        status: Some(if failed.is_empty() {
            state.to_owned()
        } else {
            "FAILED".to_owned()
        }),
        eta_ms: None,
        profiles_over_budget: None,
    })
}

/// Whether a connector's config names `topic`: a sink's `topics` list or `topics.regex`, or
/// any setting (a source's `topic`, `kafka.topic`, ...) whose value lists it.
fn touches(config: &serde_json::Map<String, Value>, topic: &str) -> bool {
    config.iter().any(|(key, value)| {
        let Some(value) = value.as_str() else {
            return false;
        };
        if key == "topics.regex" {
            return regex::Regex::new(&format!("^(?:{value})$")).is_ok_and(|re| re.is_match(topic));
        }
        key.contains("topic") && value.split(',').any(|t| t.trim() == topic)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Spec {
        Spec::parse(
            "[[source]]\ntopic = \"c360.orders\"\n[store]\ntopic = \"c360.profiles\"\n",
            "c.toml",
        )
        .unwrap()
    }

    /// The documented shape of `GET /connectors?expand=status&expand=info`.
    fn listing() -> Value {
        json!({
            "profiles-sink": {
                "info": {"name": "profiles-sink", "type": "sink", "tasks": [{"connector": "profiles-sink", "task": 0}],
                         "config": {"connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector", "topics": "c360.profiles", "tasks.max": "1"}},
                "status": {"name": "profiles-sink", "type": "sink",
                           "connector": {"state": "RUNNING", "worker_id": "10.0.0.5:8083"},
                           "tasks": [{"id": 0, "state": "FAILED", "worker_id": "10.0.0.5:8083",
                                      "trace": "org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:614)"}]}
            },
            "orders-cdc": {
                "info": {"name": "orders-cdc", "type": "source", "tasks": [],
                         "config": {"connector.class": "io.debezium.connector.postgresql.PostgresConnector", "topic.prefix": "pg", "transforms.route.topic.replacement": "c360.orders"}},
                "status": {"name": "orders-cdc", "type": "source",
                           "connector": {"state": "RUNNING", "worker_id": "10.0.0.6:8083"},
                           "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "10.0.0.6:8083"}]}
            },
            "clicks-archive": {
                "info": {"name": "clicks-archive", "type": "sink", "tasks": [],
                         "config": {"topics.regex": "c360\\.click.*"}},
                "status": {"name": "clicks-archive", "type": "sink", "connector": {"state": "PAUSED"}, "tasks": []}
            }
        })
    }

    #[test]
    fn a_failed_task_breaks_its_hop_with_the_first_line_of_its_trace() {
        let topics = ["c360.orders", "c360.profiles"];
        let sink = hop_of("profiles-sink", &listing()["profiles-sink"], &topics).unwrap();
        assert!(!sink.within_budget);
        assert_eq!(sink.status.as_deref(), Some("FAILED"));
        assert!(
            sink.detail.ends_with("task 0 FAILED: org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception."),
            "{}",
            sink.detail
        );
        let cdc = hop_of("orders-cdc", &listing()["orders-cdc"], &topics).unwrap();
        assert!(cdc.within_budget, "{cdc:?}");
        assert!(hop_of("clicks-archive", &listing()["clicks-archive"], &topics).is_none());
        assert!(
            hop_of(
                "clicks-archive",
                &listing()["clicks-archive"],
                &["c360.clicks"]
            )
            .is_some()
        );
    }

    /// Against an in-test server answering the documented JSON (no Kafka Connect can be
    /// installed here).
    #[test]
    fn reads_the_connectors_of_a_connect_cluster() {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                reader.read_line(&mut first).unwrap();
                let mut authorization = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("authorization")
                    {
                        authorization = Some(value.trim().to_owned());
                    }
                }
                // Basic admin:Pw-Secret, when credentials are sent at all.
                let refused = authorization.is_some_and(|a| a != "Basic YWRtaW46UHctU2VjcmV0");
                let (status, body) = if refused {
                    (401, json!({"error_code": 401, "message": "no"}).to_string())
                } else if first.contains("/old/connectors?expand") {
                    // A Connect that ignores expand=info: names with their status only.
                    (
                        200,
                        json!({"orders-cdc": {"status": {"connector": {"state": "RUNNING"}}}})
                            .to_string(),
                    )
                } else if first.contains("/connectors?expand=status&expand=info") {
                    (200, listing().to_string())
                } else {
                    (
                        404,
                        json!({"error_code": 404, "message": "not found"}).to_string(),
                    )
                };
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        let hops = connector_hops(&format!("{url}/"), &spec(), Duration::from_secs(5)).unwrap();
        let names: Vec<&str> = hops.iter().map(|h| h.hop.as_str()).collect();
        assert_eq!(names, ["orders-cdc", "profiles-sink"]);
        assert_eq!(
            super::super::verdict(&hops).breaking_hop.as_deref(),
            Some("profiles-sink")
        );
        let err = connector_hops(&format!("{url}/old"), &spec(), Duration::from_secs(5))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("1 connector(s) without info.config") && err.contains("orders-cdc"),
            "{err}"
        );
        let err =
            connector_hops("http://127.0.0.1:9", &spec(), Duration::from_secs(2)).unwrap_err();
        assert!(matches!(err, ConnectError::Unreachable { .. }), "{err}");
        // Credentials in the URL are sent as Basic auth, and no error shows them.
        let (scheme, host) = url.split_once("://").unwrap();
        let with = |password: &str| format!("{scheme}://admin:{password}@{host}");
        let hops = connector_hops(&with("Pw-Secret"), &spec(), Duration::from_secs(5)).unwrap();
        assert_eq!(hops.len(), 2);
        let err = connector_hops(&with("Wrong-Pw"), &spec(), Duration::from_secs(5)).unwrap_err();
        assert!(
            matches!(err, ConnectError::Answered { status: 401, .. }),
            "{err}"
        );
        assert!(err.to_string().contains(&url), "{err}");
        let err = connector_hops(
            "http://admin:Pw-Secret@127.0.0.1:9",
            &spec(),
            Duration::from_secs(2),
        )
        .unwrap_err();
        let shown = err.to_string();
        assert!(
            !shown.contains("Pw-Secret") && !shown.contains("admin"),
            "{shown}"
        );
        assert!(shown.contains("http://127.0.0.1:9"), "{shown}");
    }
}
