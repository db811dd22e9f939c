//! How to reach a cluster: bootstrap servers plus librdkafka properties, the way kcat takes them
//! (`-b`, repeated `-X key=value`, `-F file`). Secrets stay inside this type: its `Debug` and every
//! error built from it redact them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use rdkafka::ClientConfig;

use super::ClusterError;

/// librdkafka properties whose values are secrets. Anything ending in `password` or `secret` is
/// treated the same way, so new librdkafka properties are covered too.
const SECRET_KEYS: &[&str] = &[
    "sasl.password",
    "sasl.oauthbearer.client.secret",
    "sasl.oauthbearer.config",
    "sasl.jaas.config",
    "ssl.key.password",
    "ssl.keystore.password",
    "ssl.key.pem",
    "ssl_key",
];

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Properties that would make a client write: joining a group, committing, storing offsets,
/// creating topics, producing in a transaction. `None`: refused whatever the value; `Some(v)`:
/// only `v`, the read-only setting, is accepted.
const READ_ONLY: &[(&str, Option<&str>)] = &[
    ("group.id", None),
    ("group.instance.id", None),
    ("transactional.id", None),
    ("enable.auto.commit", Some("false")),
    ("enable.auto.offset.store", Some("false")),
    ("allow.auto.create.topics", Some("false")),
];

/// Checks one `key=value` against the read-only rules and librdkafka (without creating a
/// client). The error names the key and never quotes the value: a mistyped key
/// (`sasl.passwrd`) is not known to be secret.
pub fn check_property(key: &str, value: &str) -> Result<(), PropertyError> {
    if let Some((_, allowed)) = READ_ONLY.iter().find(|(k, _)| *k == key)
        && allowed.is_none_or(|a| !a.eq_ignore_ascii_case(value))
    {
        return Err(PropertyError::ReadOnly {
            key: key.to_owned(),
            allowed: *allowed,
        });
    }
    match ClientConfig::new().set(key, value).create_native_config() {
        Ok(_) => Ok(()),
        Err(e) => {
            let detail = match e {
                rdkafka::error::KafkaError::ClientConfig(_, desc, _, _) => desc,
                other => other.to_string(),
            };
            let detail = if value.len() >= 3 {
                detail.replace(value, "***")
            } else {
                detail
            };
            Err(PropertyError::Refused {
                key: key.to_owned(),
                detail,
            })
        }
    }
}

/// Why a `-X key=value` is not taken. Never holds the value: it may be a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PropertyError {
    #[error(
        "-X {key} is not accepted{}: freshlens is read-only (it never joins a group, commits \
         offsets or creates topics)",
        allowed.map(|a| format!(" other than {a}")).unwrap_or_default()
    )]
    ReadOnly {
        key: String,
        /// The one value accepted, where there is one.
        allowed: Option<&'static str>,
    },
    /// librdkafka refused it, in its words with the value masked.
    #[error("-X {key}: {detail}")]
    Refused { key: String, detail: String },
}

/// True when the value of this librdkafka property must never be printed or saved.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.trim().to_ascii_lowercase();
    SECRET_KEYS.contains(&key.as_str()) || key.ends_with("password") || key.ends_with("secret")
}

#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionConfig {
    pub bootstrap: String,
    /// librdkafka properties, secrets included; never printed as they are.
    pub properties: BTreeMap<String, String>,
    /// Bound on how long connecting and each metadata request may take.
    pub timeout: Duration,
}

impl fmt::Debug for ConnectionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionConfig")
            .field("bootstrap", &self.bootstrap)
            .field("properties", &self.redacted_properties())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl ConnectionConfig {
    pub fn new(bootstrap: impl Into<String>) -> Self {
        Self {
            bootstrap: bootstrap.into(),
            properties: BTreeMap::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Adds `key=value` pairs as given to `-X`. A malformed one is named by its position, never
    /// quoted: its text may be a password typed with the wrong separator.
    pub fn with_property_args<'a>(
        mut self,
        args: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, ClusterError> {
        for (number, arg) in args.into_iter().enumerate() {
            let (key, value) = parse_property(arg).ok_or_else(|| ClusterError::Config {
                reason: format!("-X number {}: expected key=value", number + 1),
            })?;
            self.properties.insert(key, value);
        }
        Ok(self)
    }

    /// Adds the `key=value` lines of `text` (blank lines and `#`/`!` comments skipped); a
    /// malformed line is named `{what}:{line number}`, never quoted.
    pub fn with_property_lines(mut self, text: &str, what: &str) -> Result<Self, ClusterError> {
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                continue;
            }
            let (key, value) = parse_property(line).ok_or_else(|| ClusterError::Config {
                reason: format!("{what}:{}: expected key=value", number + 1),
            })?;
            self.properties.insert(key, value);
        }
        Ok(self)
    }

    /// Adds the properties of a Java-style properties file, as given to `-F`: `key=value` lines,
    /// `#` and `!` comments. A `bootstrap.servers`/`metadata.broker.list` entry sets the bootstrap
    /// when none was given.
    pub fn with_properties_file(mut self, path: &Path) -> Result<Self, ClusterError> {
        let text = std::fs::read_to_string(path).map_err(|e| ClusterError::Config {
            reason: format!("cannot read properties file {}: {e}", path.display()),
        })?;
        self = self.with_property_lines(&text, &path.display().to_string())?;
        for alias in ["bootstrap.servers", "metadata.broker.list"] {
            if let Some(servers) = self.properties.remove(alias)
                && self.bootstrap.is_empty()
            {
                self.bootstrap = servers;
            }
        }
        Ok(self)
    }

    pub fn redacted_properties(&self) -> BTreeMap<String, String> {
        self.properties
            .iter()
            .map(|(k, v)| {
                let shown = if is_secret_key(k) {
                    "***".into()
                } else {
                    v.clone()
                };
                (k.clone(), shown)
            })
            .collect()
    }

    /// Replaces every secret value that occurs in `text` by `***`, for messages that come back
    /// from librdkafka or the OS and could quote configuration.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (key, value) in &self.properties {
            if is_secret_key(key) && value.len() >= 3 {
                text = text.replace(value.as_str(), "***");
            }
        }
        text
    }

    /// The librdkafka configuration of a read-only client: no group, no commits, no offset store.
    pub fn client_config(&self) -> Result<ClientConfig, ClusterError> {
        if self.bootstrap.trim().is_empty() {
            return Err(ClusterError::Config {
                reason: "no bootstrap servers: pass -b host:port".into(),
            });
        }
        let mut config = ClientConfig::new();
        // rdkafka derives librdkafka's log level from the `log` crate's; without a logger that
        // silences the failures that tell a refused login from a dead address.
        config.set_log_level(rdkafka::config::RDKafkaLogLevel::Warning);
        let timeout_ms = self.timeout.as_millis().to_string();
        // A failed handshake must surface before the overall deadline so the error can say TLS
        // or SASL instead of a bare timeout.
        let setup_ms = (self.timeout.as_millis() * 3 / 4).max(1000).to_string();
        // librdkafka's assign() needs a group.id to exist, but with assign() it never sends
        // JoinGroup, and with auto-commit off and no commit call it never writes an offset, so
        // the broker never learns of this group.
        config
            .set(
                "group.id",
                format!("freshlens-readonly-{}", std::process::id()),
            )
            .set("bootstrap.servers", self.bootstrap.trim())
            .set("client.id", "freshlens")
            .set("socket.timeout.ms", &timeout_ms)
            .set("socket.connection.setup.timeout.ms", &setup_ms)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "true")
            .set("auto.offset.reset", "error")
            .set("allow.auto.create.topics", "false")
            // Scans are bounded reads up to a known end: a long-polling fetch only delays the
            // end-of-partition answer that lets a scan finish.
            .set("fetch.wait.max.ms", "10")
            // librdkafka prefetches up to 64 MB per client by default; a rehearsal reads with a
            // client per topic, so the prefetch alone would be 320 MB. 16 MB keeps a fast
            // broker busy all the same (measured: README, Performance).
            .set("queued.max.messages.kbytes", "16384")
            // With the prefetch queue full, librdkafka waits fetch.queue.backoff.ms (1 s by
            // default) before fetching that partition again: a read that drains the queue a
            // moment later then sits idle for the rest of the second (measured: raw reads of
            // 120 ms taking 1,125 ms one time in five).
            .set("fetch.queue.backoff.ms", "10")
            .set("topic.metadata.refresh.interval.ms", "60000");
        for (key, value) in &self.properties {
            check_property(key, value).map_err(|e| ClusterError::Config {
                reason: e.to_string(),
            })?;
            config.set(key, value);
        }
        Ok(config)
    }
}

/// `key=value`, trimmed; `None` for anything else (whose text the caller must not echo).
fn parse_property(arg: &str) -> Option<(String, String)> {
    match arg.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Some((key.trim().to_owned(), value.trim().to_owned()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_redact_hide_secrets() {
        let config = ConnectionConfig::new("b:9092")
            .with_property_args(["sasl.password=hunter22", "sasl.username=alice"])
            .unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter22"), "{debug}");
        assert!(debug.contains("alice"));
        assert_eq!(
            config.redact("auth failed for hunter22 at b:9092"),
            "auth failed for *** at b:9092"
        );
    }

    #[test]
    fn properties_file_sets_bootstrap_and_skips_comments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client.properties");
        std::fs::write(
            &path,
            "# comment\nbootstrap.servers=k1:9092,k2:9092\n\nsecurity.protocol = SASL_SSL\n",
        )
        .unwrap();
        let config = ConnectionConfig::new("")
            .with_properties_file(&path)
            .unwrap();
        assert_eq!(config.bootstrap, "k1:9092,k2:9092");
        assert_eq!(config.properties["security.protocol"], "SASL_SSL");
        assert!(!config.properties.contains_key("bootstrap.servers"));
    }

    #[test]
    fn a_malformed_property_is_named_by_position_never_quoted() {
        let refused = |result: Result<ConnectionConfig, ClusterError>, says: &str| {
            let error = result.unwrap_err().to_string();
            assert!(error.contains(says), "{error}");
            assert!(!error.contains("Pw-Secret"), "{error}");
        };
        let b = || ConnectionConfig::new("b");
        refused(
            b().with_property_args(["sasl.password:Pw-Secret"]),
            "-X number 1: expected key=value",
        );
        refused(
            b().with_property_args(["a=b", "sasl.password Pw-Secret"]),
            "-X number 2: expected key=value",
        );
        refused(
            b().with_property_args(["=Pw-Secret"]),
            "-X number 1: expected key=value",
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client.properties");
        std::fs::write(&path, "# c\nsasl.username=a\nsasl.password:Pw-Secret\n").unwrap();
        refused(
            b().with_properties_file(&path),
            "client.properties:3: expected key=value",
        );
        refused(
            b().with_property_lines("a=b\n\n=Pw-Secret", "properties"),
            "properties:3: expected key=value",
        );
    }

    #[test]
    fn bad_property_and_group_id_are_refused() {
        assert!(
            ConnectionConfig::new("b")
                .with_property_args(["novalue"])
                .is_err()
        );
        let config = ConnectionConfig::new("b")
            .with_property_args(["group.id=x"])
            .unwrap();
        assert!(config.client_config().is_err());
    }

    #[test]
    fn read_only_wins_over_any_property() {
        for (key, value) in [
            ("enable.auto.commit", "true"),
            ("enable.auto.offset.store", "true"),
            ("allow.auto.create.topics", "true"),
            ("group.instance.id", "x"),
            ("transactional.id", "t"),
        ] {
            let error = check_property(key, value).unwrap_err().to_string();
            assert!(error.contains("freshlens is read-only"), "{error}");
        }
        // The read-only value itself is fine.
        assert!(check_property("enable.auto.commit", "false").is_ok());
        assert!(check_property("fetch.max.bytes", "1048576").is_ok());
    }

    #[test]
    fn a_mistyped_property_never_shows_its_value() {
        let error = check_property("sasl.passwrd", "Hunter2secret")
            .unwrap_err()
            .to_string();
        assert!(error.contains("sasl.passwrd"), "{error}");
        assert!(!error.contains("Hunter2"), "{error}");
        let error = check_property("fetch.max.bytes", "lots-of-Hunter2")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("Hunter2"), "{error}");
        let config = ConnectionConfig::new("b")
            .with_property_args(["sasl.passwrd=Hunter2secret"])
            .unwrap();
        let error = config.client_config().unwrap_err().to_string();
        assert!(!error.contains("Hunter2"), "{error}");
    }
}
