//! Every customer at once: the census of unconsumed events, the store's age, the freshness
//! chain and the sampled consumed-but-not-applied estimate, in that order. Each part is handed
//! to the caller as soon as it is known (the census takes a second, the sample the longest), so
//! the CLI and the GUI share one sequence and the GUI can show the first answers early.

use std::time::Duration;

use super::{
    Census, CensusError, ChainVerdict, ConnectError, Hop, StoreAge, StoreAgeError, StoreSample,
};
use crate::cluster::{CancelToken, ClusterError};
use crate::profile::{SourceDecoder, Spec};
use crate::source::Source;

/// Customers sampled for a full lookup each by default (`stale --sample`, the Overview).
pub const DEFAULT_SAMPLE: usize = 200;

/// How much of the domain to look at.
#[derive(Debug, Clone)]
pub struct DomainRequest {
    /// Customers sampled from the store's keys for a full lookup each (0: none).
    pub sample: usize,
    pub seed: u64,
    /// A Kafka Connect REST URL whose connectors join the chain.
    pub connect: Option<String>,
    pub timeout: Duration,
}

impl Default for DomainRequest {
    fn default() -> Self {
        Self {
            sample: DEFAULT_SAMPLE,
            seed: 1,
            connect: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Everything found, in the order it is found.
#[derive(Debug, Clone, Default)]
pub struct Domain {
    pub census: Census,
    pub store: StoreAge,
    pub chain: Vec<Hop>,
    pub verdict: Option<ChainVerdict>,
    pub sample: StoreSample,
}

/// A part of the [`Domain`] as soon as it is known.
#[derive(Debug, Clone)]
pub enum DomainStep {
    Census(Census),
    Store(StoreAge),
    Chain(Vec<Hop>, ChainVerdict),
    /// The sampled lookups' reading so far (every source of the current identity hop).
    Sampling {
        customers: usize,
        progress: crate::cluster::ScanProgress,
    },
    Sample(StoreSample),
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error(transparent)]
    Census(#[from] CensusError),
    #[error(transparent)]
    Store(#[from] StoreAgeError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
}

/// Looks at every customer of `spec` as of `now_ms`; `on_step` hears each part as it is known.
/// A cancelled look returns what it had, with the parts not reached left empty.
pub fn look_at_domain(
    source: &dyn Source,
    spec: &Spec,
    decoder: &SourceDecoder,
    request: &DomainRequest,
    now_ms: i64,
    cancel: &CancelToken,
    on_step: &(dyn Fn(DomainStep) + Sync),
) -> Result<Domain, DomainError> {
    let started = std::time::Instant::now();
    let mut domain = Domain {
        census: super::census(source, spec, decoder, now_ms, cancel)?,
        ..Domain::default()
    };
    log::info!(
        "census: {} records in {} ms",
        domain.census.records_read,
        started.elapsed().as_millis()
    );
    on_step(DomainStep::Census(domain.census.clone()));
    if cancel.is_cancelled() {
        return Ok(domain);
    }
    let started = std::time::Instant::now();
    domain.store = super::store_age(source, spec, decoder, now_ms, cancel)?;
    log::info!(
        "store age: {} records in {} ms",
        domain.store.records_read,
        started.elapsed().as_millis()
    );
    on_step(DomainStep::Store(domain.store.clone()));
    if cancel.is_cancelled() {
        return Ok(domain);
    }
    let started = std::time::Instant::now();
    let mut chain = super::chain(
        source,
        spec,
        Some(&domain.store),
        Some(&domain.census),
        decoder,
        now_ms,
        cancel,
    )?;
    if let Some(url) = &request.connect {
        chain.extend(super::connector_hops(url, spec, request.timeout)?);
    }
    let verdict = super::verdict(&chain);
    log::info!("chain: {} ms", started.elapsed().as_millis());
    on_step(DomainStep::Chain(chain.clone(), verdict.clone()));
    domain.chain = chain;
    domain.verdict = Some(verdict);
    if cancel.is_cancelled() || request.sample == 0 {
        return Ok(domain);
    }
    let started = std::time::Instant::now();
    let keys = super::pick_keys(&domain.store.profile_keys, request.sample, request.seed);
    let customers = keys.len();
    let on_progress = |progress| {
        on_step(DomainStep::Sampling {
            customers,
            progress,
        })
    };
    let mut sample =
        super::sample_store(source, spec, decoder, &keys, now_ms, cancel, &on_progress);
    sample.seed = request.seed;
    log::info!(
        "sample of {customers}: {} ms",
        started.elapsed().as_millis()
    );
    on_step(DomainStep::Sample(sample.clone()));
    domain.sample = sample;
    Ok(domain)
}
