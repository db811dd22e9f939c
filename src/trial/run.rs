//! A trial from start to end: on the candidate, then on the baseline, the same seed and rates:
//! API versions and probes, the workload with its burst and restart, replay, rows; and each
//! side's topics and groups deleted after it (unless kept), whatever happened in between.

use std::time::Duration;

use crate::cluster::write::{NewTopicSpec, Writer};
use crate::cluster::{CancelToken, Cluster, ClusterError, ConnectionConfig};
use crate::demo::DemoConfig;
use crate::demo::live::live_records;
use crate::profile::{Spec, SpecError};
use crate::time::now_ms;

use super::apis::api_versions;
use super::builder::BuilderSetup;
use super::load::{self, LoadEvent, LoadSettings};
use super::probes;
use super::replay::replay;
use super::result::{ApiSupport, Probe, ReplayRate, Side, TrialReport};
use super::rows::rows;

#[derive(Debug, Clone)]
pub struct TrialRequest {
    pub candidate: ConnectionConfig,
    pub baseline: Option<ConnectionConfig>,
    pub prefix: String,
    pub seed: u64,
    pub customers: usize,
    pub rate: f64,
    pub duration: Duration,
    pub burst_factor: f64,
    pub burst: Duration,
    /// Run on the candidate only: a baseline is today's platform, not restarted.
    pub restart_cmd: Option<String>,
    pub replay_consumers: Vec<u32>,
    pub keep: bool,
    pub budget: Duration,
    pub recover_within: Duration,
    /// How long latency may take to come back after the burst and the restart.
    pub settle: Duration,
    pub partitions: i32,
    pub probe_limit: Duration,
}

impl TrialRequest {
    /// The defaults `trial` runs with: under five minutes for both sides.
    pub fn new(candidate: ConnectionConfig) -> Self {
        Self {
            candidate,
            baseline: None,
            prefix: default_prefix(),
            seed: 7,
            customers: 1_000,
            rate: 200.0,
            duration: Duration::from_secs(20),
            burst_factor: 5.0,
            burst: Duration::from_secs(10),
            restart_cmd: None,
            replay_consumers: vec![1, 2, 4],
            keep: false,
            budget: Duration::from_secs(2),
            recover_within: Duration::from_secs(30),
            settle: Duration::from_secs(15),
            partitions: 3,
            probe_limit: Duration::from_secs(20),
        }
    }
}

/// `freshlens-trial-<random>`: a prefix no earlier trial used.
pub fn default_prefix() -> String {
    use rand::{Rng as _, SeedableRng as _};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
        now_ms() as u64 ^ (u64::from(std::process::id()) << 32),
    );
    let tag: String = (0..6)
        .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.random_range(0..36)]))
        .collect();
    format!("freshlens-trial-{tag}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Which {
    Candidate,
    Baseline,
}

/// What a trial tells as it goes.
#[derive(Debug, Clone)]
pub enum TrialStep {
    Started(Which, String),
    Apis(Which, Vec<ApiSupport>),
    Probe(Which, Probe),
    Load(Which, LoadEvent),
    Replay(Which, ReplayRate),
    Done(Which, Box<Side>),
    CleanedUp(Which, Vec<String>),
}

#[derive(Debug, thiserror::Error)]
pub enum TrialError {
    #[error("{which:?} {bootstrap}: {source}")]
    Connect {
        which: Which,
        bootstrap: String,
        source: ClusterError,
    },
    #[error(
        "{bootstrap} already has {what} under {prefix}: a trial writes only what it makes; pick another --prefix"
    )]
    Exists {
        bootstrap: String,
        what: String,
        prefix: String,
    },
    #[error("the trial's spec: {0}")]
    Spec(#[from] SpecError),
    #[error("cancelled")]
    Cancelled,
}

/// The trial's spec: the demo's under the prefix, with the trial's budget and recovery time.
pub fn trial_spec(
    text: &str,
    budget: Duration,
    recover: Duration,
) -> Result<(Spec, String), SpecError> {
    let words = |d: Duration| humantime::format_duration(d).to_string().replace(' ', "");
    let text = text
        .replacen(
            "budget = \"15m\"",
            &format!("budget = {:?}", words(budget)),
            1,
        )
        .replacen(
            "recover_within = \"30m\"",
            &format!("recover_within = {:?}", words(recover)),
            1,
        );
    Ok((Spec::parse(&text, "trial.toml")?, text))
}

pub fn run(
    request: &TrialRequest,
    cancel: &CancelToken,
    on_step: &mut dyn FnMut(TrialStep),
) -> Result<TrialReport, TrialError> {
    let mut sides = Vec::new();
    let mut cleaned = true;
    let targets = std::iter::once((Which::Candidate, &request.candidate))
        .chain(request.baseline.iter().map(|b| (Which::Baseline, b)));
    // Every target is reached, and its prefix checked, before anything is written: a baseline
    // that cannot be reached, or holds the prefix, fails the trial in seconds, not after the
    // candidate's whole run (whose writes would be for nothing).
    let mut reached = Vec::new();
    for (which, connection) in targets {
        let cluster =
            Cluster::connect(connection.clone()).map_err(|source| TrialError::Connect {
                which,
                bootstrap: connection.bootstrap.clone(),
                source,
            })?;
        refuse_existing(&cluster, which, &connection.bootstrap, &request.prefix)?;
        reached.push((which, connection, cluster));
    }
    let mut budget_ms = 0;
    for (which, connection, cluster) in reached {
        if cancel.is_cancelled() {
            return Err(TrialError::Cancelled);
        }
        let (side, spec_budget, cleanup) =
            one_side(request, which, (connection, &cluster), cancel, on_step)?;
        budget_ms = spec_budget;
        cleaned &= cleanup;
        on_step(TrialStep::Done(which, Box::new(side.clone())));
        sides.push(side);
    }
    let mut sides = sides.into_iter();
    let candidate = sides.next().unwrap_or_default();
    let baseline = sides.next();
    Ok(TrialReport {
        differences: baseline
            .as_ref()
            .map(|b| super::compare::differences(&candidate, b))
            .unwrap_or_default(),
        candidate,
        baseline,
        prefix: request.prefix.clone(),
        seed: request.seed,
        budget_ms,
        cleaned_up: cleaned && !request.keep,
    })
}

fn refuse_existing(
    cluster: &Cluster,
    which: Which,
    bootstrap: &str,
    prefix: &str,
) -> Result<(), TrialError> {
    let under = format!("{prefix}.");
    let connect = |source| TrialError::Connect {
        which,
        bootstrap: bootstrap.to_owned(),
        source,
    };
    let topics = cluster.topics(true).map_err(connect)?;
    if let Some(t) = topics.iter().find(|t| t.name.starts_with(&under)) {
        return Err(TrialError::Exists {
            bootstrap: bootstrap.to_owned(),
            what: format!("topic {}", t.name),
            prefix: prefix.to_owned(),
        });
    }
    let groups = cluster.groups().map_err(connect)?;
    if let Some(g) = groups.iter().find(|g| g.name.starts_with(&under)) {
        return Err(TrialError::Exists {
            bootstrap: bootstrap.to_owned(),
            what: format!("group {}", g.name),
            prefix: prefix.to_owned(),
        });
    }
    Ok(())
}

/// One side's whole run on its target, reached and checked by [`run`].
#[allow(clippy::too_many_lines)]
fn one_side(
    request: &TrialRequest,
    which: Which,
    (connection, cluster): (&ConnectionConfig, &Cluster),
    cancel: &CancelToken,
    on_step: &mut dyn FnMut(TrialStep),
) -> Result<(Side, i64, bool), TrialError> {
    let bootstrap = connection.bootstrap.clone();
    on_step(TrialStep::Started(which, bootstrap.clone()));
    let prefix = &request.prefix;
    let writer = Writer::new(connection, format!("{prefix}.")).with_client_id("freshlens-trial");
    let config = DemoConfig {
        customers: request.customers,
        events: planned_events(request),
        seed: request.seed,
        span_ms: i64::try_from(request.duration.as_millis())
            .unwrap_or(60_000)
            .max(60_000),
        partitions: request.partitions,
        ..DemoConfig::under(prefix, now_ms())
    };
    let (_, text, records) = live_records(&config)?;
    let (spec, _) = trial_spec(&text, request.budget, request.recover_within)?;
    let budget_ms = spec.budget.ms();
    let sources: Vec<String> = crate::demo::SOURCES
        .iter()
        .map(|s| config.topic(s))
        .collect();
    let store = config.topic("profiles");
    let mut topics: Vec<String> = sources.clone();
    topics.push(store.clone());
    let mut made_topics = probes::topics(prefix);
    made_topics.extend(topics.iter().cloned());
    let mut made_groups = probes::groups(prefix);
    made_groups.push(config.builder_group.clone());

    let mut side = Side {
        bootstrap: bootstrap.clone(),
        ..Side::default()
    };
    let body = |side: &mut Side, on_step: &mut dyn FnMut(TrialStep)| {
        match api_versions(connection) {
            Ok(apis) => {
                on_step(TrialStep::Apis(which, apis.clone()));
                side.compatibility.apis = apis;
            }
            Err(e) => side.errors.push(format!("api versions: {e}")),
        }
        side.compatibility.probes =
            probes::run(connection, &writer, prefix, request.probe_limit, &mut |p| {
                on_step(TrialStep::Probe(which, p.clone()));
            });
        if cancel.is_cancelled() {
            return;
        }
        let specs: Vec<NewTopicSpec> = topics
            .iter()
            .map(|name| NewTopicSpec {
                name: name.clone(),
                partitions: request.partitions,
                configs: if *name == store {
                    vec![("cleanup.policy".into(), "compact".into())]
                } else {
                    Vec::new()
                },
            })
            .collect();
        match writer.create_topics(&specs) {
            Ok(refused) if refused.is_empty() => {}
            Ok(refused) => {
                side.errors
                    .push(format!("workload topics: refused {refused:?}"));
                return;
            }
            Err(e) => {
                side.errors.push(format!("workload topics: {e}"));
                return;
            }
        }
        wait_for(cluster, &topics, request.partitions);
        let setup = BuilderSetup {
            spec: spec.clone(),
            group: config.builder_group.clone(),
            store: store.clone(),
            sources: sources.clone(),
        };
        let settings = LoadSettings {
            rate: request.rate,
            steady: request.duration,
            burst_factor: request.burst_factor,
            burst: request.burst,
            settle: request.settle,
            restart_cmd: request
                .restart_cmd
                .clone()
                .filter(|_| which == Which::Candidate),
            budget_ms,
            interval_ms: 1_000,
        };
        match load::run(
            connection,
            &writer,
            &setup,
            &records,
            &settings,
            cancel,
            &mut |e| {
                on_step(TrialStep::Load(which, e));
            },
        ) {
            Ok(outcome) => {
                side.latency = outcome.latency;
                side.burst = Some(outcome.burst);
                side.restart = outcome.restart;
                if let Some(e) = outcome.restart_error {
                    side.errors.push(format!("restart read-back: {e}"));
                }
                side.latency.offered = outcome.offered;
                if let Some(e) = outcome.builder_failing {
                    side.errors.push(format!("builder: {e}"));
                }
                if outcome.undecodable > 0 {
                    side.errors.push(format!(
                        "builder: {} record(s) did not decode",
                        outcome.undecodable
                    ));
                }
            }
            Err(e) => side.errors.push(format!("workload: {e}")),
        }
        let replayed: Vec<(String, i32)> = topics
            .iter()
            .map(|t| (t.clone(), request.partitions))
            .collect();
        for &n in &request.replay_consumers {
            if cancel.is_cancelled() {
                return;
            }
            match replay(connection, &replayed, n, cancel) {
                Ok(rate) => {
                    on_step(TrialStep::Replay(which, rate.clone()));
                    side.replay.push(rate);
                }
                Err(e) => side.errors.push(format!("replay with {n}: {e}")),
            }
        }
    };
    body(&mut side, on_step);
    side.rows = rows(&side, &spec, budget_ms);
    let mut cleaned = false;
    if !request.keep {
        let mut left = Vec::new();
        match writer.delete_topics(&made_topics) {
            Ok(refused) => left.extend(refused.iter().map(|(t, c)| format!("topic {t}: {c}"))),
            Err(e) => left.push(format!("topics: {e}")),
        }
        match writer.delete_groups(&made_groups) {
            Ok(refused) => left.extend(refused.iter().map(|(g, c)| format!("group {g}: {c}"))),
            Err(e) => left.push(format!("groups: {e}")),
        }
        cleaned = left.is_empty();
        side.errors
            .extend(left.iter().map(|l| format!("cleanup: {l}")));
        on_step(TrialStep::CleanedUp(which, left));
    }
    Ok((side, budget_ms, cleaned))
}

/// Source events the run may produce: the steady rate over the run, the burst's extra, and
/// the settling and restart windows, so records repeat only past that.
fn planned_events(request: &TrialRequest) -> usize {
    let seconds = request.duration.as_secs_f64()
        + request.burst.as_secs_f64() * request.burst_factor
        + request.settle.as_secs_f64() * 2.0;
    ((seconds * request.rate) as usize).clamp(2_000, 2_000_000)
}

fn wait_for(cluster: &Cluster, topics: &[String], partitions: i32) {
    let deadline = std::time::Instant::now() + cluster.config().timeout;
    for name in topics {
        while cluster.topic(name).map(|t| t.partitions.len()) != Ok(partitions as usize)
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
