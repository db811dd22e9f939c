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

/// How much of the domain to look at.
#[derive(Debug, Clone)]
pub struct DomainRequest {
    /// Customers sampled from the store's keys for a full lookup each (0: none).
    pub sample: usize,
    pub seed: u64,
    /// Lookups at once for the sample.
    pub threads: usize,
    /// A Kafka Connect REST URL whose connectors join the chain.
    pub connect: Option<String>,
    pub timeout: Duration,
}

impl Default for DomainRequest {
    fn default() -> Self {
        Self {
            sample: 200,
            seed: 1,
            threads: 4,
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
    /// `done` of `total` sampled lookups finished.
    Sampling {
        done: usize,
        total: usize,
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
    let mut domain = Domain {
        census: super::census(source, spec, decoder, now_ms, cancel)?,
        ..Domain::default()
    };
    on_step(DomainStep::Census(domain.census.clone()));
    if cancel.is_cancelled() {
        return Ok(domain);
    }
    domain.store = super::store_age(source, spec, decoder, now_ms, cancel)?;
    on_step(DomainStep::Store(domain.store.clone()));
    if cancel.is_cancelled() {
        return Ok(domain);
    }
    let mut chain = super::chain(
        source,
        spec,
        Some(&domain.store),
        Some(&domain.census),
        now_ms,
        cancel,
    )?;
    if let Some(url) = &request.connect {
        chain.extend(super::connector_hops(url, spec, request.timeout)?);
    }
    let verdict = super::verdict(&chain);
    on_step(DomainStep::Chain(chain.clone(), verdict.clone()));
    domain.chain = chain;
    domain.verdict = Some(verdict);
    if cancel.is_cancelled() || request.sample == 0 {
        return Ok(domain);
    }
    let keys = super::pick_keys(&domain.store.profile_keys, request.sample, request.seed);
    let total = keys.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let tick = || {
        let done = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        on_step(DomainStep::Sampling { done, total });
    };
    let run = super::SampleRun {
        threads: request.threads,
        cancel,
        on_done: &tick,
    };
    let mut sample = super::sample_store(source, spec, decoder, &keys, now_ms, &run);
    sample.seed = request.seed;
    on_step(DomainStep::Sample(sample.clone()));
    domain.sample = sample;
    Ok(domain)
}
