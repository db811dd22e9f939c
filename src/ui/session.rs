//! What is app-wide: the source in use, the spec, the customer in view, the registry and the
//! last answers other tabs build on. Panels read it; they ask to change it through commands,
//! which the shell applies after drawing.

use std::sync::Arc;

use crate::cluster::saved::SavedClusters;
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

#[derive(Default)]
pub struct Session {
    pub source: Option<Arc<dyn Source>>,
    pub origin: Origin,
    pub spec: Option<Arc<Spec>>,
    /// Where the spec was read from.
    pub spec_path: String,
    /// Why the spec asked for last could not be loaded.
    pub spec_error: Option<String>,
    /// The customer in view (what the Profile tab looks up, Compare and Governance use).
    pub key: String,
    /// The Confluent Schema Registry the spec's `avro` sources are decoded with (the Profile
    /// tab's setting); may carry `user:password@`.
    pub registry: String,
    /// The last finished lookup of `key`.
    pub lookup: Option<Arc<Lookup>>,
    /// Every group as last judged by the lag sampler; `None` before the first judgement.
    pub groups: Option<Arc<Vec<GroupLag>>>,
    /// Show `pii` values instead of masking them (the Profile tab's *Reveal PII*).
    pub reveal_pii: bool,
    pub saved: SavedClusters,
    /// The demo is being built; its first stale customer will be shown in the Profile tab.
    pub demo_building: bool,
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
}

impl Decoding {
    /// The spec's decoder, with a registry client (credentials from its URL's
    /// `user:password@`, sent as Basic auth) bounded by the connection timeout.
    pub fn decoder(&self, spec: &Spec) -> Result<crate::profile::SourceDecoder, String> {
        let registry = self
            .registry
            .as_deref()
            .map(|url| crate::codec::registry::RegistryClient::new(url, None))
            .transpose()
            .map_err(|e| e.to_string())?
            .map(|client| Arc::new(client.with_timeout(crate::cluster::DEFAULT_TIMEOUT)));
        crate::profile::SourceDecoder::new(spec, registry).map_err(|e| e.to_string())
    }
}

impl Session {
    pub fn decoding(&self) -> Decoding {
        Decoding {
            registry: self.registry(),
        }
    }
}
