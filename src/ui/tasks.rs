//! The background runtime: every cluster call runs here, never on the UI thread. Workers send
//! [`Outcome`]s over a channel and wake the UI; the UI drains the channel within a time budget.

use crate::source::Source;
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::cluster::{
    CancelToken, Cluster, ConnectionConfig, ScanEvent, ScanProgress, ScanRequest, ScanSummary,
    TopicInfo,
};

use super::messages::Row;
use super::path_prompt::PathFor;
use crate::codec::registry::RegistryClient;
use crate::freshness;
use crate::profile::SourceDecoder;
use crate::profile::{Event, Lookup, Spec, lookup, lookup_streaming};

/// A topic's ingest delay to sample over [since, until].
pub struct IngestRequest {
    pub topic: String,
    pub pointer: String,
    pub since: i64,
    pub until: i64,
}

/// What the lag sampler keeps between looks: the commit log read so far and every group
/// partition's commits, which the status rules judge.
#[derive(Debug, Default)]
pub struct SamplerState {
    watch: freshness::GroupWatch,
}

/// One look at every group, judged, and the lag at commits first seen in it.
pub struct Sampled {
    pub groups: Vec<freshness::GroupLag>,
    pub past: HashMap<String, Vec<freshness::PastLag>>,
    /// Commit records that could not be read so far.
    pub unreadable_commits: u64,
}

/// A capture opened, with the lines that could not be read.
pub struct OpenedCapture {
    pub source: Arc<dyn Source>,
    pub records: usize,
    pub warnings: Vec<String>,
}

impl OpenedCapture {
    pub fn new(capture: crate::source::Capture, warnings: Vec<String>) -> Self {
        Self {
            records: capture.record_count(),
            source: Arc::new(capture),
            warnings,
        }
    }
}

/// The demo data, ready to look at.
pub struct DemoReady {
    pub source: Arc<dyn Source>,
    pub spec: Spec,
    pub stale: Vec<crate::demo::StaleCustomer>,
    pub customers: usize,
    pub records: usize,
}

pub enum Outcome {
    /// The demo's first stale customer, explained before the rest of its data is built.
    DemoFirst(Box<crate::demo::FirstStale>),
    Demo(Result<DemoReady, String>),
    Capture(Result<OpenedCapture, String>),
    CapturePicked(Option<std::path::PathBuf>),
    BuilderLag(Result<Vec<freshness::LagPoint>, String>),
    Ingest(Result<freshness::IngestSample, String>),
    PngPath(Option<std::path::PathBuf>),
    /// What a save did, for the panel that asked.
    /// What an export wrote, or why it could not.
    Saved(Result<String, String>),
    GroupsSampled {
        at_ms: i64,
        result: Result<Sampled, String>,
    },
    SpecLoaded(Result<(String, Spec), String>),
    SpecPicked(Option<std::path::PathBuf>),
    /// No file dialog could be shown: the path prompt takes the path for this.
    NoPath(PathFor),
    LookupEvents {
        id: u64,
        events: Vec<Event>,
    },
    LookupProgress {
        id: u64,
        progress: ScanProgress,
    },
    LookupDone {
        id: u64,
        result: Result<Lookup, String>,
    },
    /// A part of the Overview's look at every customer.
    OverviewStep {
        id: u64,
        step: freshness::DomainStep,
    },
    OverviewDone {
        id: u64,
        result: Result<(), String>,
    },
    RebuildReady {
        id: u64,
        spec: String,
        result: Result<crate::rebuild::Readiness, String>,
    },
    RebuildProgress {
        id: u64,
        progress: ScanProgress,
    },
    Rehearsed {
        id: u64,
        result: Result<crate::rebuild::Rehearsal, String>,
    },
    Compared {
        id: u64,
        result: Result<crate::migrate::Comparison, String>,
    },
    Keys {
        id: u64,
        result: Result<(crate::keys::TopicKeys, Option<crate::keys::SplitSource>), String>,
    },
    /// Which of the spec's sources the spec's partitioner reads wrongly, after lookup `id`.
    PlacementChecked {
        id: u64,
        result: Result<Vec<String>, String>,
    },
    /// An answer for the Governance tab.
    Governed {
        id: u64,
        result: Result<Governed, String>,
    },
    Connected(Result<Arc<dyn Source>, String>),
    ConnectAttempt {
        attempt: u64,
        result: Result<Arc<dyn Source>, String>,
    },
    /// A result of work asked of the source of `generation`.
    Sourced {
        generation: u64,
        outcome: Box<Outcome>,
    },
    Topics(Result<Vec<TopicInfo>, String>),
    Configs {
        topic: String,
        result: Result<Vec<(String, String)>, String>,
    },
    Scan {
        id: u64,
        update: ScanUpdate,
    },
}

pub enum ScanUpdate {
    Rows(Vec<Row>),
    Progress(ScanProgress),
    Done(Result<ScanSummary, String>),
}

pub struct Tasks {
    runtime: tokio::runtime::Runtime,
    tx: Sender<Outcome>,
    rx: Receiver<Outcome>,
    ctx: egui::Context,
    /// Which source work is asked of: bumped whenever the app connects to, or leaves, one.
    generation: std::cell::Cell<u64>,
}

/// How long one frame may spend applying background results before it yields.
const DRAIN_BUDGET: Duration = Duration::from_millis(8);

impl Tasks {
    pub fn new(ctx: egui::Context) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("freshlens-worker")
            .enable_all()
            .build()?;
        let (tx, rx) = channel();
        Ok(Self {
            runtime,
            tx,
            rx,
            ctx,
            generation: std::cell::Cell::new(0),
        })
    }

    /// A new source is in use (or none): results of work asked of the old one are dropped.
    pub fn next_generation(&self) {
        self.generation.set(self.generation.get() + 1);
    }

    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// Spawns work on the current source; what it sends is stamped with the source's
    /// generation, so a result that comes after the user moved on is recognised and dropped
    /// (rerun routes by store id the same way).
    fn spawn_on_source(&self, work: impl FnOnce(&dyn Fn(Outcome)) + Send + 'static) {
        let generation = self.generation.get();
        self.spawn(move |send| {
            work(&|outcome| {
                send(Outcome::Sourced {
                    generation,
                    outcome: Box::new(outcome),
                })
            })
        });
    }

    pub fn ctx(&self) -> &egui::Context {
        &self.ctx
    }

    fn spawn(&self, work: impl FnOnce(&dyn Fn(Outcome)) + Send + 'static) {
        let tx = self.tx.clone();
        let ctx = self.ctx.clone();
        self.runtime.spawn_blocking(move || {
            let send = |outcome: Outcome| {
                // The receiver is gone only when the app is closing.
                let _ = tx.send(outcome);
                ctx.request_repaint();
            };
            work(&send);
        });
    }

    /// Connects in the background; the answer carries `attempt`, so one the user cancelled
    /// (or replaced by another attempt) is dropped when it comes.
    pub fn connect(&self, config: ConnectionConfig, attempt: u64) {
        self.spawn(move |send| {
            let result = Cluster::connect(config)
                .map(|c| Arc::new(c) as Arc<dyn Source>)
                .map_err(|e| e.to_string());
            send(Outcome::ConnectAttempt { attempt, result });
        });
    }

    pub fn load_topics(&self, cluster: Arc<dyn Source>, include_internal: bool) {
        self.spawn_on_source(move |send| {
            send(Outcome::Topics(
                cluster.topics(include_internal).map_err(|e| e.to_string()),
            ));
        });
    }

    pub fn load_configs(&self, cluster: Arc<dyn Source>, topic: String) {
        self.spawn_on_source(move |send| {
            let result = cluster.topic_configs(&topic).map_err(|e| e.to_string());
            send(Outcome::Configs { topic, result });
        });
    }

    /// Streams a scan; rows are prepared for display here so the UI thread only appends them.
    pub fn scan(
        &self,
        cluster: Arc<dyn Source>,
        id: u64,
        request: ScanRequest,
        cancel: CancelToken,
        mask: crate::profile::PiiMask,
    ) {
        self.spawn_on_source(move |send| {
            let result = cluster.scan(&request, &cancel, &mut |event| {
                let update = match event {
                    ScanEvent::Records(records) => {
                        ScanUpdate::Rows(records.into_iter().map(|r| Row::new(r, &mask)).collect())
                    }
                    ScanEvent::Progress(progress) => ScanUpdate::Progress(progress),
                };
                send(Outcome::Scan { id, update });
                !cancel.is_cancelled()
            });
            let update = ScanUpdate::Done(result.map_err(|e| e.to_string()));
            send(Outcome::Scan { id, update });
        });
    }

    /// One look at every consumer group's lag, for the Groups panel's history; the first look
    /// at a group also rebuilds its past lag from the commit log.
    pub fn sample_groups(
        &self,
        cluster: Arc<dyn Source>,
        rules: freshness::Rules,
        state: Arc<Mutex<SamplerState>>,
    ) {
        self.spawn_on_source(move |send| {
            // A slow commit log only stretches the interval: one sample is in flight at a time.
            let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
            state.watch.rules = rules;
            let at_ms = cluster.now_ms();
            let result = sample(cluster.as_ref(), &mut state).map_err(|e| e.to_string());
            send(Outcome::GroupsSampled { at_ms, result });
        });
    }

    pub fn load_spec(&self, path: String) {
        self.spawn(move |send| {
            let result = Spec::load(std::path::Path::new(&path))
                .map(|spec| (path, spec))
                .map_err(|e| e.to_string());
            send(Outcome::SpecLoaded(result));
        });
    }

    /// The native open dialog blocks, so it runs here and never on the UI thread.
    pub fn pick_spec(&self) {
        self.spawn(move |send| {
            match ask(|| {
                rfd::FileDialog::new()
                    .set_title("Open a profile spec")
                    .add_filter("Profile spec", &["toml"])
                    .pick_file()
            }) {
                Asked::Path(path) => send(Outcome::SpecPicked(Some(path))),
                Asked::Cancelled => {}
                Asked::NoDialog => send(Outcome::NoPath(PathFor::Spec)),
            }
        });
    }

    /// Stamped with the source generation it was asked in: a first customer or demo data that
    /// arrives after the user left for another source is dropped.
    pub fn open_demo(&self, config: crate::demo::DemoConfig) {
        self.spawn_on_source(move |send| {
            // The suggested customer first, from its own partitions; the rest behind it.
            let prepared = match crate::demo::prepare(&config) {
                Ok(prepared) => prepared,
                Err(e) => return send(Outcome::Demo(Err(e.to_string()))),
            };
            if let Some(first) = crate::demo::first_stale(&prepared) {
                send(Outcome::DemoFirst(Box::new(first)));
            }
            let result = Ok(crate::demo::finish(prepared)).map(|demo| DemoReady {
                records: demo.capture.record_count(),
                customers: config.customers,
                source: Arc::new(demo.capture),
                spec: demo.spec,
                stale: demo.stale,
            });
            send(Outcome::Demo(result));
        });
    }

    pub fn pick_capture(&self) {
        self.spawn(move |send| {
            match ask(|| {
                rfd::FileDialog::new()
                    .set_title("Open a capture")
                    .add_filter("Capture", &["jsonl", "json", "zst", "txt"])
                    .pick_file()
            }) {
                Asked::Path(path) => send(Outcome::CapturePicked(Some(path))),
                Asked::Cancelled => {}
                Asked::NoDialog => send(Outcome::NoPath(PathFor::Capture)),
            }
        });
    }

    pub fn open_capture(&self, path: std::path::PathBuf) {
        self.spawn(move |send| {
            let result = crate::source::load_capture(&path)
                .map(|(capture, warnings)| OpenedCapture::new(capture, warnings))
                .map_err(|e| e.to_string());
            send(Outcome::Capture(result));
        });
    }

    /// Asks where to save, then looks `key` up again through a recording source and saves
    /// exactly what the lookup read as a capture.
    pub fn export_capture(
        &self,
        source: Arc<dyn Source>,
        spec: Arc<Spec>,
        key: String,
        reveal_pii: bool,
    ) {
        self.spawn_on_source(move |send| {
            let path = match ask(|| {
                rfd::FileDialog::new()
                    .set_title("Export this lookup as a capture")
                    .add_filter("Capture", &["jsonl", "zst"])
                    .set_file_name(format!("{key}.jsonl.zst"))
                    .save_file()
            }) {
                Asked::Path(path) => path,
                Asked::Cancelled => return,
                Asked::NoDialog => {
                    send(Outcome::NoPath(PathFor::LookupCapture(reveal_pii)));
                    return;
                }
            };
            send(Outcome::Saved(export_lookup(
                source.as_ref(),
                &spec,
                &key,
                &path,
                reveal_pii,
            )));
        });
    }

    /// Asks where to save, then writes `text`.
    pub fn save_text(&self, title: &'static str, file_name: String, text: String) {
        self.spawn(move |send| {
            match ask(|| {
                rfd::FileDialog::new()
                    .set_title(title)
                    .set_file_name(file_name)
                    .save_file()
            }) {
                Asked::Path(path) => send(Outcome::Saved(write_text(&path, &text))),
                Asked::Cancelled => {}
                Asked::NoDialog => send(Outcome::NoPath(PathFor::Text { title, text })),
            }
        });
    }

    /// Exports the lookup of `key` to a path typed by hand.
    pub fn export_capture_to(
        &self,
        source: Arc<dyn Source>,
        spec: Arc<Spec>,
        key: String,
        path: std::path::PathBuf,
        reveal_pii: bool,
    ) {
        self.spawn_on_source(move |send| {
            let notice = export_lookup(source.as_ref(), &spec, &key, &path, reveal_pii);
            send(Outcome::Saved(notice));
        });
    }

    /// Writes `text` to a path typed by hand.
    pub fn write_text_to(&self, path: std::path::PathBuf, text: String) {
        self.spawn(move |send| send(Outcome::Saved(write_text(&path, &text))));
    }

    /// The builder group's lag as far back as its commits go, for the Freshness panel.
    pub fn builder_lag(&self, cluster: Arc<dyn Source>, group: String, now_ms: i64) {
        self.spawn_on_source(move |send| {
            let result = freshness::group_time_lag_history(cluster.as_ref(), &group, now_ms)
                .map_err(|e| e.to_string());
            send(Outcome::BuilderLag(result));
        });
    }

    pub fn sample_ingest(&self, cluster: Arc<dyn Source>, request: IngestRequest) {
        self.spawn_on_source(move |send| {
            let IngestRequest {
                topic,
                pointer,
                since,
                until,
            } = request;
            // About 120 buckets over the window, at least a minute each.
            let bucket_ms = ((until - since) / 120).max(60_000) / 60_000 * 60_000;
            let result = freshness::sample_ingest(
                cluster.as_ref(),
                &topic,
                &pointer,
                (Some(since), Some(until)),
                10_000,
                bucket_ms,
                &CancelToken::default(),
            )
            .map_err(|e| e.to_string());
            send(Outcome::Ingest(result));
        });
    }

    pub fn pick_png_path(&self) {
        self.spawn(move |send| {
            match ask(|| {
                rfd::FileDialog::new()
                    .set_title("Export the plots as PNG")
                    .add_filter("PNG image", &["png"])
                    .set_file_name("freshness.png")
                    .save_file()
            }) {
                Asked::Path(path) => send(Outcome::PngPath(Some(path))),
                Asked::Cancelled => {}
                Asked::NoDialog => send(Outcome::NoPath(PathFor::Png)),
            }
        });
    }

    pub fn lookup(&self, cluster: Arc<dyn Source>, request: LookupRequest, cancel: CancelToken) {
        // Progress comes from several scan threads at once, so it gets its own sender.
        let progress_tx = self.tx.clone();
        let ctx = self.ctx.clone();
        self.spawn_on_source(move |send| {
            let LookupRequest {
                id,
                spec,
                key,
                registry,
                now_ms,
            } = request;
            let on_progress = move |progress: ScanProgress| {
                let _ = progress_tx.send(Outcome::LookupProgress { id, progress });
                ctx.request_repaint();
            };
            let result = (|| {
                let decoder = decoder_for(&spec, registry)?;
                let mut on_events = |events: &[Event]| {
                    send(Outcome::LookupEvents {
                        id,
                        events: events.to_vec(),
                    });
                };
                let request = crate::profile::LookupRequest {
                    cancel,
                    ..crate::profile::LookupRequest::new(&spec, &decoder, &key, now_ms)
                };
                lookup_streaming(cluster.as_ref(), &request, &mut on_events, &on_progress)
                    .map_err(|e| e.to_string())
            })();
            send(Outcome::LookupDone { id, result });
        });
    }

    /// Every customer of the spec at once, for the Overview tab: each part is sent as soon as
    /// it is known (the sampled lookups report from several threads, so they get their own
    /// sender, stamped with the source's generation like everything else).
    pub fn overview(
        &self,
        cluster: Arc<dyn Source>,
        request: OverviewRequest,
        cancel: CancelToken,
    ) {
        let step_tx = self.tx.clone();
        let ctx = self.ctx.clone();
        let generation = self.generation.get();
        self.spawn_on_source(move |send| {
            let OverviewRequest {
                id,
                spec,
                registry,
                domain,
            } = request;
            let on_step = move |step: freshness::DomainStep| {
                let outcome = Outcome::OverviewStep { id, step };
                let _ = step_tx.send(Outcome::Sourced {
                    generation,
                    outcome: Box::new(outcome),
                });
                ctx.request_repaint();
            };
            let result = (|| {
                let decoder = decoder_for(&spec, registry)?;
                let now = cluster.now_ms();
                freshness::look_at_domain(
                    cluster.as_ref(),
                    &spec,
                    &decoder,
                    &domain,
                    now,
                    &cancel,
                    &on_step,
                )
                .map(|_| ())
                .map_err(|e| e.to_string())
            })();
            send(Outcome::OverviewDone { id, result });
        });
    }

    /// What the spec's source topics retain and how long a replay would take (Rebuild tab).
    pub fn rebuild_readiness(
        &self,
        cluster: Arc<dyn Source>,
        spec: Arc<Spec>,
        id: u64,
        cancel: CancelToken,
    ) {
        self.spawn_on_source(move |send| {
            let result = crate::rebuild::readiness(cluster.as_ref(), &spec, &cancel)
                .map_err(|e| e.to_string());
            send(Outcome::RebuildReady {
                id,
                spec: spec.name.clone(),
                result,
            });
        });
    }

    /// The rebuild rehearsal, its progress reported from the reading threads.
    pub fn rehearse(&self, cluster: Arc<dyn Source>, request: RehearseTask, cancel: CancelToken) {
        let progress_tx = self.tx.clone();
        let ctx = self.ctx.clone();
        let generation = self.generation.get();
        self.spawn_on_source(move |send| {
            let RehearseTask {
                id,
                spec,
                registry,
                partitions,
            } = request;
            let on_progress = move |progress: ScanProgress| {
                let outcome = Outcome::RebuildProgress { id, progress };
                let _ = progress_tx.send(Outcome::Sourced {
                    generation,
                    outcome: Box::new(outcome),
                });
                ctx.request_repaint();
            };
            let result = decoder_for(&spec, registry).and_then(|decoder| {
                let request = crate::rebuild::RehearseRequest {
                    partitions,
                    examples: 5,
                    reveal_pii: false,
                };
                crate::rebuild::rehearse(
                    cluster.as_ref(),
                    &spec,
                    &decoder,
                    &request,
                    &cancel,
                    &on_progress,
                )
                .map_err(|e| e.to_string())
            });
            send(Outcome::Rehearsed { id, result });
        });
    }

    /// Connects to the target and compares it with the source (Compare tab).
    pub fn compare(
        &self,
        cluster: Arc<dyn Source>,
        (id, ask): (u64, super::compare::CompareAsk),
        customer: Option<(Arc<Spec>, Option<String>, String)>,
        cancel: CancelToken,
    ) {
        self.spawn_on_source(move |send| {
            let result = (|| {
                let target = Cluster::connect(ask.target.config()?).map_err(|e| e.to_string())?;
                let customer = match customer {
                    Some((spec, registry, key)) => {
                        let decoder = decoder_for(&spec, registry)?;
                        Some(((*spec).clone(), decoder, key))
                    }
                    None => None,
                };
                let request = crate::migrate::CompareRequest {
                    rename: ask.rename,
                    groups: ask.groups,
                    checkpoints: None,
                    customer,
                    reveal_pii: false,
                };
                crate::migrate::compare(cluster.as_ref(), &target, &request, &cancel)
                    .map_err(|e| e.to_string())
            })();
            send(Outcome::Compared { id, result });
        });
    }

    /// A topic's keys: partitioner, skew, order (event times from the spec where it has the
    /// topic as a source).
    pub fn keys(
        &self,
        cluster: Arc<dyn Source>,
        (spec, registry): (Option<Arc<Spec>>, Option<String>),
        (id, topic): (u64, String),
        cancel: CancelToken,
    ) {
        self.spawn_on_source(move |send| {
            let decoder = match &spec {
                Some(spec) => decoder_for(spec, registry).map(Some),
                None => Ok(None),
            };
            let result = decoder.and_then(|decoder| {
                let with = spec
                    .as_deref()
                    .zip(decoder.as_ref())
                    .map(|(spec, decoder)| crate::keys::WithSpec { spec, decoder });
                let keys = crate::keys::topic_keys(
                    cluster.as_ref(),
                    &topic,
                    crate::profile::infer::DEFAULT_SAMPLE,
                    with,
                    &cancel,
                )
                .map_err(|e| e.to_string())?;
                // With a spec: its customers split over this topic's partitions.
                let split = match with {
                    Some(with) if !cancel.is_cancelled() => {
                        crate::keys::topic_split(cluster.as_ref(), with, &topic, &cancel)
                            .map_err(|e| e.to_string())?
                    }
                    _ => None,
                };
                Ok((keys, split))
            });
            send(Outcome::Keys { id, result });
        });
    }

    /// Whether each of the spec's sources is placed as the spec says (sampled once per topic).
    pub fn check_placements(&self, cluster: Arc<dyn Source>, spec: Arc<Spec>, id: u64) {
        self.spawn_on_source(move |send| {
            let result = crate::profile::placement::disagreements(
                cluster.as_ref(),
                &spec,
                &CancelToken::default(),
            )
            .map_err(|e| e.to_string());
            send(Outcome::PlacementChecked { id, result });
        });
    }

    /// A Governance tab task on the spec.
    pub fn governance(
        &self,
        cluster: Arc<dyn Source>,
        spec: Arc<Spec>,
        registry: Option<String>,
        (id, task): (u64, GovernanceTask),
        cancel: CancelToken,
    ) {
        self.spawn_on_source(move |send| {
            let source = cluster.as_ref();
            let result = decoder_for(&spec, registry).and_then(|decoder| {
                let found = match task {
                    GovernanceTask::Erasure(key) => crate::governance::verify_erasures(
                        source,
                        &spec,
                        &decoder,
                        key.as_deref(),
                        30 * 24 * 3_600_000,
                        &cancel,
                    )
                    .map(Governed::Erasures),
                    GovernanceTask::Pii => spec
                        .sources
                        .iter()
                        .map(|src| {
                            crate::governance::discover(
                                source,
                                &src.topic,
                                Some(&spec),
                                Some(&decoder),
                                1000,
                                &cancel,
                            )
                        })
                        .collect::<Result<Vec<_>, _>>()
                        .map(Governed::Pii),
                    GovernanceTask::Access => source
                        .describe_acls()
                        .map(|answer| Governed::Access(crate::governance::access(&spec, &answer))),
                };
                found.map_err(|e| e.to_string())
            });
            send(Outcome::Governed { id, result });
        });
    }

    /// The next outcome to apply in a frame that began applying them at `started`, while the
    /// frame's budget lasts: the budget covers applying outcomes, not only receiving them
    /// (rerun stops after ~10 ms the same way). What is left waits for the next frame.
    pub fn next_within(&self, started: Instant) -> Option<Outcome> {
        if started.elapsed() >= DRAIN_BUDGET {
            self.ctx.request_repaint();
            return None;
        }
        self.rx.try_recv().ok()
    }
}

/// The spec's decoder, with the Schema Registry at `registry` where one is named.
fn decoder_for(spec: &Spec, registry: Option<String>) -> Result<SourceDecoder, String> {
    let registry = registry
        .filter(|url| !url.trim().is_empty())
        .map(|url| RegistryClient::new(url.trim(), None).map_err(|e| e.to_string()))
        .transpose()?
        .map(Arc::new);
    SourceDecoder::new(spec, registry).map_err(|e| e.to_string())
}

/// What a Governance task found.
pub enum Governed {
    Erasures(Vec<crate::governance::ErasureCheck>),
    Pii(Vec<crate::governance::TopicPii>),
    Access(crate::governance::Access),
}

/// What the Governance tab asks for.
pub enum GovernanceTask {
    /// One customer's erasure, or every erased customer's.
    Erasure(Option<String>),
    Pii,
    Access,
}

pub struct RehearseTask {
    pub id: u64,
    pub spec: Arc<Spec>,
    pub registry: Option<String>,
    pub partitions: Option<Vec<i32>>,
}

pub struct OverviewRequest {
    pub id: u64,
    pub spec: Arc<Spec>,
    pub registry: Option<String>,
    pub domain: freshness::DomainRequest,
}

pub struct LookupRequest {
    pub id: u64,
    pub spec: Arc<Spec>,
    pub key: String,
    pub registry: Option<String>,
    pub now_ms: i64,
}

fn sample(
    cluster: &dyn Source,
    state: &mut SamplerState,
) -> Result<Sampled, crate::cluster::ClusterError> {
    let look = state.watch.look(cluster, None)?;
    Ok(Sampled {
        groups: look.groups,
        past: look.past,
        unreadable_commits: state.watch.log.unreadable().0,
    })
}

/// What a file dialog answered.
enum Asked {
    Path(std::path::PathBuf),
    Cancelled,
    /// It came back empty at once: no dialog was shown (a desktop without
    /// xdg-desktop-portal), so the path has to be typed.
    NoDialog,
}

/// Nobody cancels a dialog this fast; an empty answer within it means none was shown.
const NO_DIALOG_WITHIN: Duration = Duration::from_millis(400);

fn ask(dialog: impl FnOnce() -> Option<std::path::PathBuf>) -> Asked {
    let started = Instant::now();
    match dialog() {
        Some(path) => Asked::Path(path),
        None if started.elapsed() < NO_DIALOG_WITHIN => Asked::NoDialog,
        None => Asked::Cancelled,
    }
}

fn write_text(path: &std::path::Path, text: &str) -> Result<String, String> {
    match std::fs::write(path, text) {
        Ok(()) => Ok(format!("saved {}", path.display())),
        Err(e) => Err(format!("cannot write {}: {e}", path.display())),
    }
}

fn export_lookup(
    source: &dyn Source,
    spec: &Spec,
    key: &str,
    path: &std::path::Path,
    reveal_pii: bool,
) -> Result<String, String> {
    let recording = crate::source::Recording::new(source);
    let result = crate::profile::SourceDecoder::new(spec, None)
        .map_err(|e| e.to_string())
        .and_then(|decoder| {
            let request = crate::profile::LookupRequest::new(spec, &decoder, key, source.now_ms());
            lookup(&recording, &request).map_err(|e| e.to_string())
        });
    let found = match result {
        Ok(found) => found,
        Err(e) => return Err(format!("cannot export: {e}")),
    };
    let mut capture = recording.into_capture();
    let mask = crate::profile::PiiMask::unless_revealed(spec, reveal_pii);
    mask.apply_to_capture(&mut capture, reveal_pii, &mask.pii_ids(&found.timeline));
    match crate::source::save_capture(&capture, path, crate::source::CaptureFormat::Freshlens) {
        Ok(()) => Ok(format!(
            "saved {} records to {}",
            capture.record_count(),
            path.display()
        )),
        Err(e) => Err(format!("cannot save {}: {e:#}", path.display())),
    }
}

#[cfg(test)]
mod ask_tests {
    use super::*;

    /// An empty answer at once means no dialog was shown; an empty answer after a while is
    /// the user cancelling, which must not open the prompt.
    #[test]
    fn an_instant_empty_answer_is_a_missing_dialog() {
        assert!(matches!(ask(|| None), Asked::NoDialog));
        let slow = ask(|| {
            std::thread::sleep(NO_DIALOG_WITHIN + Duration::from_millis(50));
            None
        });
        assert!(matches!(slow, Asked::Cancelled));
        let picked = ask(|| Some("a.toml".into()));
        assert!(matches!(picked, Asked::Path(p) if p.as_os_str() == "a.toml"));
    }
}
