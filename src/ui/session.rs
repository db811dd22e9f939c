//! What is app-wide: the source in use, the spec, the customer in view, the registry and the
//! last answers other tabs build on. Panels read it; they ask to change it through commands,
//! which the shell applies after drawing.

use std::sync::Arc;

use crate::cluster::saved::SavedClusters;
use crate::codec::registry::RegistryClient;

use super::failure::Failure;
use crate::freshness::GroupLag;
use crate::profile::{Lookup, Spec};
use crate::source::Source;

/// Where the data on screen comes from, for the banner.
#[derive(Debug, Clone, Default)]
pub enum Origin {
    #[default]
    Cluster,
    Demo {
        customers: usize,
        records: usize,
        stale: Vec<crate::demo::StaleCustomer>,
    },
    Capture {
        name: String,
        taken_ms: i64,
        records: usize,
    },
}

pub struct Session {
    pub source: Option<Arc<dyn Source>>,
    pub origin: Origin,
    pub spec: Option<Arc<Spec>>,
    /// Where the spec was read from.
    pub spec_path: String,
    /// Why the spec asked for last could not be loaded.
    pub spec_error: Option<Failure>,
    /// The customer in view (what the Profile tab looks up, Compare and Governance use).
    pub key: String,
    /// The Confluent Schema Registry the spec's `avro` sources are decoded with (the Profile
    /// tab's setting); may carry `user:password@`.
    pub registry: String,
    /// The last finished lookup of `key`.
    pub lookup: Option<Arc<Lookup>>,
    /// Every group as last judged by the lag sampler; `None` before the first judgement.
    pub groups: Option<Arc<Vec<GroupLag>>>,
    /// The spec's builder group's commits as the lag sampler knows them (the Scorecard's
    /// elasticity on a source without a commit log of its own).
    pub commits_seen: Arc<Vec<crate::freshness::OffsetCommit>>,
    /// Show `pii` values instead of masking them (the Profile tab's *Reveal PII*).
    pub reveal_pii: bool,
    pub saved: SavedClusters,
    /// The demo is being built; its first stale customer will be shown in the Profile tab.
    pub demo_building: bool,
    /// The connection's timeout, which bounds the Schema Registry's answers too.
    pub timeout: std::time::Duration,
}

impl Default for Session {
    fn default() -> Self {
        Self {
            source: None,
            origin: Origin::default(),
            spec: None,
            spec_path: String::new(),
            spec_error: None,
            key: String::new(),
            registry: String::new(),
            lookup: None,
            groups: None,
            commits_seen: Arc::default(),
            reveal_pii: false,
            saved: SavedClusters::default(),
            demo_building: false,
            timeout: crate::cluster::DEFAULT_TIMEOUT,
        }
    }
}

impl Session {
    pub fn connected(&self) -> bool {
        self.source.is_some()
    }

    /// "Now" for lag and staleness: the wall clock, or when a capture was taken.
    pub fn now_ms(&self) -> i64 {
        self.source
            .as_ref()
            .map_or_else(crate::time::now_ms, |s| s.now_ms())
    }

    /// The Schema Registry named in the settings, if any.
    pub fn registry(&self) -> Option<String> {
        Some(self.registry.trim().to_owned()).filter(|url| !url.is_empty())
    }

    /// What to mask wherever a payload is shown: the spec's `pii` paths, unless revealed.
    pub fn pii_mask(&self) -> crate::profile::PiiMask {
        self.spec
            .as_deref()
            .map_or_else(crate::profile::PiiMask::none, |spec| {
                crate::profile::PiiMask::unless_revealed(spec, self.reveal_pii)
            })
    }

    /// The key in view, trimmed.
    pub fn key(&self) -> &str {
        self.key.trim()
    }
}

/// What a job needs to decode the spec's sources, taken from the session when it starts.
#[derive(Debug, Clone)]
pub struct Decoding {
    registry: Option<String>,
    timeout: std::time::Duration,
}

impl Decoding {
    /// The registry client: credentials from the URL's `user:password@` are sent as Basic
    /// auth (and shown nowhere), every request bounded by the connection's timeout.
    fn client(&self) -> Result<Option<RegistryClient>, Failure> {
        Ok(self
            .registry
            .as_deref()
            .map(|url| RegistryClient::new(url, None).map(|c| c.with_timeout(self.timeout)))
            .transpose()?)
    }

    /// The spec's decoder, with the registry client where one is named.
    pub fn decoder(&self, spec: &Spec) -> Result<crate::profile::SourceDecoder, Failure> {
        let registry = self.client()?.map(Arc::new);
        Ok(crate::profile::SourceDecoder::new(spec, registry)?)
    }
}

impl Session {
    pub fn decoding(&self) -> Decoding {
        Decoding {
            registry: self.registry(),
            timeout: self.timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};

    use super::*;

    /// A registry on a local port: each connection's request is handed back, and answered
    /// 404 unless `silent`.
    fn registry(silent: bool) -> (String, std::sync::mpsc::Receiver<String>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut request = [0u8; 4096];
                let n = stream.read(&mut request).unwrap_or(0);
                let _ = tx.send(String::from_utf8_lossy(&request[..n]).into_owned());
                if silent {
                    std::thread::sleep(Duration::from_secs(30));
                } else {
                    let _ =
                        stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                }
            }
        });
        (format!("127.0.0.1:{port}"), rx)
    }

    fn decoding(url: String, timeout: Duration) -> Decoding {
        let session = Session {
            registry: url,
            timeout,
            ..Session::default()
        };
        session.decoding()
    }

    /// The GUI's registry client sends the URL's credentials as Basic auth, as the CLI does.
    #[test]
    fn the_registry_is_asked_with_the_urls_credentials() {
        let (address, requests) = registry(false);
        let decoding = decoding(
            format!("http://reader:s3cret@{address}"),
            Duration::from_secs(5),
        );
        let client = decoding.client().unwrap().unwrap();
        assert!(client.schema(7).is_err(), "404: no such schema");
        let request = requests.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(request.starts_with("GET /schemas/ids/7"), "{request}");
        // base64("reader:s3cret")
        assert!(
            request.contains("cmVhZGVyOnMzY3JldA=="),
            "Basic auth sent: {request}"
        );
    }

    /// A registry that does not answer costs the connection's timeout, not the 10 s default.
    #[test]
    fn a_silent_registry_is_given_up_after_the_connection_timeout() {
        let (address, _requests) = registry(true);
        let decoding = decoding(format!("http://{address}"), Duration::from_secs(1));
        let client = decoding.client().unwrap().unwrap();
        let started = Instant::now();
        assert!(client.schema(1).is_err());
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
            "{waited:?}"
        );
    }
}
