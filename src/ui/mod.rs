//! The desktop app: a thin layer over the engine. Panels draw and return [`Command`]s; the app
//! applies them after the frame and hands every cluster call to the background [`tasks`].

mod busy;
mod compare;
mod connect;
mod freshness;
mod governance;
mod groups;
mod keys;
pub mod messages;
mod overview;
mod path_prompt;
mod plot_time;
mod profile;
mod rebuild;
mod status;
mod tasks;
mod topics;

use crate::source::Source;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::cluster::saved::{SavedCluster, SavedClusters};
use crate::cluster::{CancelToken, ConnectionConfig, ScanRequest};

use compare::{ComparePanel, CompareSettings};
use connect::{ConnectBar, ConnectSettings};
use freshness::FreshnessPanel;
use governance::GovernancePanel;
use groups::GroupsPanel;
use messages::{MessageSettings, MessagesPanel};
use overview::OverviewPanel;
use profile::{ProfilePanel, ProfileSettings};
use rebuild::RebuildPanel;
use status::StatusBar;
use tasks::{LookupRequest, Outcome, OverviewRequest, ScanUpdate, Tasks};
use topics::TopicsPanel;

/// What a panel asks for; applied after drawing so no panel mutates shared state mid-frame.
#[must_use]
pub enum Command {
    Connect(ConnectionConfig),
    /// Give up the connection attempt in flight.
    CancelConnect,
    Disconnect,
    RefreshTopics,
    SelectTopic(String),
    StartScan(ScanRequest),
    CancelScan,
    SaveCluster(SavedCluster),
    ForgetCluster(String),
    ShowError(String),
    LoadSpec(String),
    PickSpec,
    Lookup(String),
    CancelLookup,
    /// Select a timeline event in the Profile tab.
    SelectEvent(String, i32, i64),
    SampleIngest {
        topic: String,
        pointer: String,
        since: i64,
        until: i64,
    },
    ExportCsv(String),
    PickPngPath,
    PickCapture,
    OpenCapture(std::path::PathBuf),
    OpenDemo,
    /// The lookup as a capture; `true` keeps PII values (the header says so).
    ExportCapture(bool),
    /// The finished lookup as JSON; `true` reveals PII.
    ExportProfileJson(bool),
    /// Look at every customer of the spec again.
    RefreshOverview,
    CancelOverview,
    /// Look a customer up in the Profile tab.
    OpenCustomer(String),
    /// Look at what the spec's topics retain again (Rebuild tab).
    RebuildReadiness,
    /// Rehearse a rebuild of every partition, or of a slice.
    Rehearse(Option<Vec<i32>>),
    CancelRebuild,
    /// Verify one customer's erasure, or every erased customer's.
    VerifyErasure(Option<String>),
    DiscoverPii,
    ReadAcls,
    CancelGovernance,
    /// Compare the connected cluster with a target.
    Compare(compare::CompareAsk),
    /// Sample a topic's keys: partitioner, skew, order within a key.
    LookAtKeys(String),
    CancelKeys,
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Tab {
    /// Every customer of the spec at once: where a spec is loaded, the app opens here.
    Overview,
    #[default]
    Browse,
    Groups,
    Profile,
    Freshness,
    Rebuild,
    Governance,
    Compare,
}

/// Everything that survives a restart. Secrets are never part of it.
#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SavedState {
    pub connect: ConnectSettings,
    pub messages: MessageSettings,
    pub show_internal: bool,
    pub topic: Option<String>,
    pub profile: ProfileSettings,
    pub tab: Tab,
    pub compare: CompareSettings,
}

pub struct FreshlensApp {
    state: SavedState,
    tasks: Tasks,
    cluster: Option<Arc<dyn Source>>,
    connect: ConnectBar,
    topics: TopicsPanel,
    messages: MessagesPanel,
    status: StatusBar,
    profile: ProfilePanel,
    groups: GroupsPanel,
    freshness: FreshnessPanel,
    overview: OverviewPanel,
    /// The Overview's look in flight.
    overview_run: Option<(u64, CancelToken)>,
    rebuild: RebuildPanel,
    /// The Rebuild tab's work in flight.
    rebuild_run: Option<(u64, CancelToken)>,
    governance: GovernancePanel,
    governance_run: Option<(u64, CancelToken)>,
    keys: keys::KeysPanel,
    keys_run: Option<(u64, CancelToken)>,
    compare: ComparePanel,
    compare_run: Option<(u64, CancelToken)>,
    scan: Option<(u64, CancelToken)>,
    lookup: Option<(u64, CancelToken)>,
    next_scan_id: u64,
    /// Bumped by every connect and every cancel: only the current attempt's answer counts.
    connect_attempt: u64,
    saved_dir: Option<std::path::PathBuf>,
    pending_lookup: Option<String>,
    origin: Origin,
    first_frame_logged: bool,
    /// The demo's first stale customer, explained before the rest of its data: its key, and
    /// whether the frame that draws it has yet to be logged.
    demo_first: Option<(String, bool)>,
    /// Asks for a path where no file dialog could be shown.
    path_prompt: Option<path_prompt::PathPrompt>,
    /// A PNG export waiting for its screenshot: where to save it, and the frame it was asked in.
    png_export: Option<(std::path::PathBuf, u64)>,
}

static PROCESS_START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Remembers when the process started, so the first frame can say how long it took.
pub fn note_process_start() {
    PROCESS_START.get_or_init(std::time::Instant::now);
}

/// Logs (at info level) how long after process start something happened: how fast the app
/// gets a user to an answer is measured from these.
fn log_since_start(what: &str) {
    if let Some(start) = PROCESS_START.get() {
        log::info!("{what} {} ms after start", start.elapsed().as_millis());
    }
}

/// What the command line asks the app to do at start.
#[derive(Default)]
pub struct Startup {
    pub connect: Option<ConnectionConfig>,
    /// Open on a capture built in memory.
    pub source: Option<crate::source::Capture>,
    /// A profile spec to load.
    pub spec: Option<String>,
    /// A customer to look up once connected.
    pub key: Option<String>,
    /// Open on generated demo data instead of a cluster.
    pub demo: Option<crate::demo::DemoConfig>,
    /// Open a capture file instead of a cluster.
    pub capture: Option<std::path::PathBuf>,
}

impl FreshlensApp {
    /// `startup` comes from the command line; `config_dir` holds saved clusters (`None`: the
    /// platform's config dir).
    pub fn new(
        cc: &eframe::CreationContext<'_>,
        startup: Startup,
        config_dir: Option<std::path::PathBuf>,
    ) -> anyhow::Result<Self> {
        let mut state: SavedState = cc
            .storage
            .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
            .unwrap_or_default();
        let saved_dir = config_dir.or_else(SavedClusters::default_dir);
        let mut status = StatusBar::default();
        let saved = match saved_dir.as_deref().map(SavedClusters::load).transpose() {
            Ok(saved) => saved.unwrap_or_default(),
            Err(e) => {
                status.error = Some(e.to_string());
                SavedClusters::default()
            }
        };
        let mut app = Self {
            tasks: Tasks::new(cc.egui_ctx.clone())?,
            cluster: None,
            connect: ConnectBar::new(saved),
            topics: TopicsPanel::default(),
            messages: MessagesPanel::default(),
            profile: ProfilePanel::default(),
            groups: GroupsPanel::default(),
            freshness: FreshnessPanel::default(),
            overview: OverviewPanel::new(),
            overview_run: None,
            rebuild: RebuildPanel::default(),
            rebuild_run: None,
            governance: GovernancePanel::default(),
            governance_run: None,
            keys: keys::KeysPanel::default(),
            keys_run: None,
            compare: ComparePanel::default(),
            compare_run: None,
            status,
            scan: None,
            lookup: None,
            next_scan_id: 0,
            connect_attempt: 0,
            saved_dir,
            state: SavedState::default(),
            pending_lookup: None,
            origin: Origin::Cluster,
            first_frame_logged: false,
            demo_first: None,
            path_prompt: None,
            png_export: None,
        };
        if let Some(config) = &startup.connect {
            state.connect.bootstrap = config.bootstrap.clone();
        }
        app.state = state;
        if let Some(spec) = startup.spec {
            app.state.tab = Tab::Overview;
            app.apply(Command::LoadSpec(spec));
        }
        if let Some(key) = startup.key {
            app.state.tab = Tab::Profile;
            app.profile.key = key.clone();
            app.pending_lookup = Some(key);
        }
        if let Some(config) = startup.connect {
            app.apply(Command::Connect(config));
        }
        if let Some(path) = startup.capture {
            app.apply(Command::OpenCapture(path));
        }
        if let Some(capture) = startup.source {
            app.connect.connecting(capture.name.clone());
            app.handle(Outcome::Capture(Ok(tasks::OpenedCapture::new(
                capture,
                Vec::new(),
            ))));
        }
        if let Some(config) = startup.demo {
            app.connect.connecting("demo data");
            // The first stale customer is shown in the Profile tab before the rest is built.
            app.state.tab = Tab::Profile;
            app.profile.demo_building = true;
            app.tasks.open_demo(config);
        }
        Ok(app)
    }

    /// Runs the lookup asked for on the command line once the cluster (and spec) are ready.
    fn run_pending_lookup(&mut self) {
        let ready = self.cluster.is_some()
            && (self.state.profile.spec_path.is_empty()
                || self.profile.spec.is_some()
                || self.profile.error.is_some());
        if ready && let Some(key) = self.pending_lookup.take() {
            self.apply(Command::Lookup(key));
        }
    }

    fn apply(&mut self, command: Command) {
        match command {
            Command::Connect(config) => {
                self.disconnect();
                self.connect.connecting(config.bootstrap.clone());
                self.connect_attempt += 1;
                self.tasks.connect(config, self.connect_attempt);
            }
            Command::CancelConnect => {
                // Whatever answer comes for the attempt in flight is dropped.
                self.connect_attempt += 1;
                self.connect.disconnected();
                // A demo left before its data was ready takes its first customer with it.
                if self.demo_first.take().is_some() && self.cluster.is_none() {
                    self.profile = ProfilePanel::default();
                }
            }
            Command::Disconnect => {
                self.disconnect();
                self.connect.disconnected();
            }
            Command::RefreshTopics => {
                if let Some(cluster) = &self.cluster {
                    self.topics.loading = true;
                    self.tasks
                        .load_topics(Arc::clone(cluster), self.state.show_internal);
                }
            }
            Command::SelectTopic(name) => {
                self.cancel_scan();
                self.messages.clear();
                self.state.topic = Some(name.clone());
                self.topics.select(name.clone());
                if let Some(cluster) = &self.cluster {
                    self.tasks.load_configs(Arc::clone(cluster), name);
                }
            }
            Command::StartScan(request) => self.start_scan(request),
            Command::CancelScan => self.cancel_scan(),
            Command::SaveCluster(cluster) => {
                self.state.connect.saved_name = cluster.name.clone();
                self.connect.saved.upsert(cluster);
                self.save_clusters();
            }
            Command::ForgetCluster(name) => {
                self.connect.saved.remove(&name);
                self.save_clusters();
            }
            Command::ShowError(error) => self.status.error = Some(error),
            Command::LoadSpec(path) => {
                if path.trim().is_empty() {
                    self.profile.spec = None;
                } else {
                    self.tasks.load_spec(path.trim().to_owned());
                }
            }
            Command::PickSpec => self.tasks.pick_spec(),
            Command::Lookup(key) => self.start_lookup(key),
            Command::SelectEvent(topic, partition, offset) => {
                self.profile.select_event(&topic, partition, offset);
                self.state.tab = Tab::Profile;
            }
            Command::SampleIngest {
                topic,
                pointer,
                since,
                until,
            } => self.sample_ingest(tasks::IngestRequest {
                topic,
                pointer,
                since,
                until,
            }),
            Command::ExportCsv(contents) => self.tasks.save_text(
                "Export the shown series as CSV",
                "freshness.csv".into(),
                contents,
            ),
            Command::PickCapture => self.tasks.pick_capture(),
            Command::OpenCapture(path) => {
                self.leave_for(path.display().to_string());
                self.tasks.open_capture(path);
            }
            Command::OpenDemo => {
                self.leave_for("demo data".into());
                self.state.tab = Tab::Profile;
                self.profile.demo_building = true;
                let config = crate::demo::DemoConfig::new(crate::time::now_ms());
                self.tasks.open_demo(config);
            }
            Command::ExportCapture(reveal_pii) => self.export_capture(reveal_pii),
            Command::ExportProfileJson(reveal_pii) => self.export_profile_json(reveal_pii),
            Command::PickPngPath => self.tasks.pick_png_path(),
            Command::RefreshOverview => self.start_overview(),
            Command::CancelOverview => {
                if let Some((_, cancel)) = self.overview_run.take() {
                    cancel.cancel();
                    self.overview
                        .done(Err("cancelled: the parts shown are those found".into()));
                }
            }
            Command::OpenCustomer(key) => {
                self.profile.key = key.clone();
                self.state.tab = Tab::Profile;
                self.start_lookup(key);
            }
            Command::RebuildReadiness => self.start_rebuild(None),
            Command::Rehearse(slice) => self.start_rebuild(Some(slice)),
            Command::CancelRebuild => {
                if let Some((_, cancel)) = self.rebuild_run.take() {
                    cancel.cancel();
                    self.rebuild.rehearsal_done(Err("cancelled".into()));
                }
            }
            Command::VerifyErasure(key) => {
                self.start_governance("erasure", tasks::GovernanceTask::Erasure(key));
            }
            Command::DiscoverPii => {
                self.start_governance("PII discovery", tasks::GovernanceTask::Pii)
            }
            Command::ReadAcls => {
                self.start_governance("reading ACLs", tasks::GovernanceTask::Access)
            }
            Command::CancelGovernance => {
                if let Some((_, cancel)) = self.governance_run.take() {
                    cancel.cancel();
                    self.governance.failed("cancelled".into());
                }
            }
            Command::Compare(ask) => self.start_compare(ask),
            Command::LookAtKeys(topic) => self.start_keys(topic),
            Command::CancelKeys => {
                if let Some((_, cancel)) = self.keys_run.take() {
                    cancel.cancel();
                    self.keys.done(Err("cancelled".into()));
                }
            }
            Command::CancelLookup => {
                if let Some((_, cancel)) = self.lookup.take() {
                    cancel.cancel();
                    self.profile.lookup_done(Err("cancelled".into()));
                }
            }
        }
    }

    /// Leaves the current source for one being opened (a capture, the demo): a connection
    /// still in flight must not replace it.
    fn leave_for(&mut self, what: String) {
        self.demo_first = None;
        self.disconnect();
        self.connect_attempt += 1;
        self.connect.connecting(what);
    }

    fn start_scan(&mut self, request: crate::cluster::ScanRequest) {
        let Some(cluster) = self.cluster.clone() else {
            self.status.error = Some("not connected".into());
            return;
        };
        self.cancel_scan();
        self.next_scan_id += 1;
        let cancel = CancelToken::default();
        self.scan = Some((self.next_scan_id, cancel.clone()));
        self.messages.scan_started();
        self.status.error = None;
        // The profile's spec marks which values are PII: the browser masks them too.
        let mask = self.profile.pii_mask();
        self.tasks
            .scan(cluster, self.next_scan_id, request, cancel, mask);
    }

    fn sample_ingest(&mut self, request: tasks::IngestRequest) {
        if let Some(cluster) = &self.cluster {
            self.freshness.ingest_started();
            self.tasks.sample_ingest(Arc::clone(cluster), request);
        }
    }

    fn export_capture(&self, reveal_pii: bool) {
        if let (Some(source), Some(spec)) = (&self.cluster, &self.profile.spec) {
            let key = self.profile.key.trim().to_owned();
            self.tasks
                .export_capture(Arc::clone(source), Arc::clone(spec), key, reveal_pii);
        }
    }

    fn export_profile_json(&self, reveal_pii: bool) {
        if let Some(doc) = self.profile.report_json(reveal_pii) {
            let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
            let name = format!("{}.json", self.profile.key.trim());
            self.tasks
                .save_text("Export the profile as JSON", name, text);
        }
    }

    fn start_lookup(&mut self, key: String) {
        let Some(cluster) = self.cluster.clone() else {
            self.status.error = Some("not connected".into());
            return;
        };
        let spec = match &self.profile.spec {
            Some(spec) => Arc::clone(spec),
            None => {
                let topics: Vec<String> = self
                    .state
                    .profile
                    .topics
                    .split(',')
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect();
                if topics.is_empty() {
                    self.status.error = Some("load a spec, or name the topics to read".into());
                    return;
                }
                Arc::new(crate::profile::Spec::schemaless(&topics))
            }
        };
        if let Some((_, cancel)) = self.lookup.take() {
            cancel.cancel();
        }
        self.next_scan_id += 1;
        let cancel = CancelToken::default();
        self.lookup = Some((self.next_scan_id, cancel.clone()));
        self.state.profile.remember_key(&key);
        self.profile.lookup_started();
        let request = LookupRequest {
            id: self.next_scan_id,
            spec,
            key,
            registry: Some(self.state.profile.schema_registry.clone()),
            now_ms: cluster.now_ms(),
        };
        self.tasks.lookup(cluster, request, cancel);
    }

    /// Looks at every customer of the loaded spec in the background (the Overview tab).
    fn start_overview(&mut self) {
        let (Some(cluster), Some(spec)) = (self.cluster.clone(), self.profile.spec.clone()) else {
            return;
        };
        if spec
            .store
            .as_ref()
            .and_then(|s| s.builder_group.as_ref())
            .is_none()
        {
            return;
        }
        if let Some((_, cancel)) = self.overview_run.take() {
            cancel.cancel();
        }
        self.next_scan_id += 1;
        let cancel = CancelToken::default();
        self.overview_run = Some((self.next_scan_id, cancel.clone()));
        self.overview.started(&spec.name);
        let request = OverviewRequest {
            id: self.next_scan_id,
            registry: Some(self.state.profile.schema_registry.clone()),
            domain: crate::freshness::DomainRequest {
                sample: self.overview.sample_size,
                ..Default::default()
            },
            spec,
        };
        self.tasks.overview(cluster, request, cancel);
    }

    /// Compares the connected cluster with the target the Compare tab names, in the background.
    fn start_compare(&mut self, ask: compare::CompareAsk) {
        let Some(cluster) = self.cluster.clone() else {
            return;
        };
        if let Some((_, cancel)) = self.compare_run.take() {
            cancel.cancel();
        }
        self.next_scan_id += 1;
        let id = self.next_scan_id;
        let cancel = CancelToken::default();
        self.compare_run = Some((id, cancel.clone()));
        self.compare.running = true;
        let customer = match (&self.profile.spec, ask.customer) {
            (Some(spec), true) => Some((
                Arc::clone(spec),
                Some(self.state.profile.schema_registry.clone()),
                self.profile.key.trim().to_owned(),
            )),
            _ => None,
        };
        self.tasks.compare(cluster, (id, ask), customer, cancel);
    }

    /// A topic's keys sampled in the background (with the spec's event times where loaded).
    fn start_keys(&mut self, topic: String) {
        let Some(cluster) = self.cluster.clone() else {
            return;
        };
        if let Some((_, cancel)) = self.keys_run.take() {
            cancel.cancel();
        }
        self.next_scan_id += 1;
        let id = self.next_scan_id;
        let cancel = CancelToken::default();
        self.keys_run = Some((id, cancel.clone()));
        self.keys.started(&topic);
        let spec = self.profile.spec.clone();
        let registry = Some(self.state.profile.schema_registry.clone());
        self.tasks
            .keys(cluster, (spec, registry), (id, topic), cancel);
    }

    /// A Governance tab task on the loaded spec, in the background.
    fn start_governance(&mut self, what: &'static str, task: tasks::GovernanceTask) {
        let (Some(cluster), Some(spec)) = (self.cluster.clone(), self.profile.spec.clone()) else {
            return;
        };
        if let Some((_, cancel)) = self.governance_run.take() {
            cancel.cancel();
        }
        self.next_scan_id += 1;
        let id = self.next_scan_id;
        let cancel = CancelToken::default();
        self.governance_run = Some((id, cancel.clone()));
        self.governance.started(what);
        let registry = Some(self.state.profile.schema_registry.clone());
        self.tasks
            .governance(cluster, spec, registry, (id, task), cancel);
    }

    /// Readiness (`None`) or a rehearsal of a slice (`Some`), in the background.
    fn start_rebuild(&mut self, rehearse: Option<Option<Vec<i32>>>) {
        let (Some(cluster), Some(spec)) = (self.cluster.clone(), self.profile.spec.clone()) else {
            return;
        };
        if let Some((_, cancel)) = self.rebuild_run.take() {
            cancel.cancel();
        }
        self.next_scan_id += 1;
        let id = self.next_scan_id;
        let cancel = CancelToken::default();
        self.rebuild_run = Some((id, cancel.clone()));
        match rehearse {
            None => {
                self.rebuild.started("readiness");
                self.tasks.rebuild_readiness(cluster, spec, id, cancel);
            }
            Some(partitions) => {
                self.rebuild.started("rehearsal");
                let task = tasks::RehearseTask {
                    id,
                    spec,
                    registry: Some(self.state.profile.schema_registry.clone()),
                    partitions,
                };
                self.tasks.rehearse(cluster, task, cancel);
            }
        }
    }

    /// The Overview looks as soon as there is a spec with a builder and a source, and again
    /// for each new spec or source.
    fn overview_when_due(&mut self) {
        let due = self.cluster.is_some()
            && self.overview_run.is_none()
            && self.overview.error.is_none()
            && self
                .profile
                .spec
                .as_ref()
                .is_some_and(|spec| self.overview.looked_at.as_deref() != Some(&spec.name));
        if due {
            self.start_overview();
        }
        // The Rebuild tab looks at readiness when it is open on a spec it has not seen.
        let rebuild_due = self.state.tab == Tab::Rebuild
            && self.cluster.is_some()
            && self.rebuild_run.is_none()
            && self.rebuild.error.is_none()
            && self.profile.spec.as_ref().is_some_and(|spec| {
                spec.store.is_some() && self.rebuild.looked_at.as_deref() != Some(&spec.name)
            });
        if rebuild_due {
            self.start_rebuild(None);
        }
    }

    fn save_clusters(&mut self) {
        if let Some(dir) = &self.saved_dir
            && let Err(e) = self.connect.saved.save(dir)
        {
            self.status.error = Some(e.to_string());
        }
    }

    fn disconnect(&mut self) {
        self.cancel_scan();
        self.tasks.next_generation();
        self.cluster = None;
        self.topics.topics.clear();
        self.topics.configs = None;
        self.messages.clear();
        self.groups.clear();
        self.freshness.clear();
        if let Some((_, cancel)) = self.overview_run.take() {
            cancel.cancel();
        }
        self.overview.clear();
        if let Some((_, cancel)) = self.rebuild_run.take() {
            cancel.cancel();
        }
        self.rebuild.clear();
        if let Some((_, cancel)) = self.governance_run.take() {
            cancel.cancel();
        }
        self.governance.clear();
        if let Some((_, cancel)) = self.compare_run.take() {
            cancel.cancel();
        }
        self.compare = ComparePanel::default();
        if let Some((_, cancel)) = self.keys_run.take() {
            cancel.cancel();
        }
        self.keys = keys::KeysPanel::default();
    }

    fn cancel_scan(&mut self) {
        if let Some((_, cancel)) = self.scan.take() {
            cancel.cancel();
            self.messages.scanning = false;
            self.messages.note = Some("cancelled".into());
        }
    }

    /// The demo's first stale customer, explained from its own partitions while the rest of
    /// the demo data is built: shown at once in the Profile tab.
    fn demo_first_explained(&mut self, first: crate::demo::FirstStale) {
        self.profile.demo_building = false;
        log_since_start(&format!(
            "first stale customer {} explained",
            first.stale.key
        ));
        self.groups.use_spec_budget(first.spec.budget);
        self.profile.spec_loaded(Ok(first.spec));
        self.state.profile.spec_path = "assets/demo/c360.toml".into();
        self.profile.key = first.stale.key.clone();
        self.profile.lookup_started();
        self.profile.lookup_done(Ok(first.lookup));
        self.state.tab = Tab::Profile;
        self.demo_first = Some((first.stale.key, true));
    }

    /// The demo data is ready: the first stale customer, explained already, stays in view (its
    /// lookup answers the same on the whole data); without one, the Overview opens.
    fn demo_opened(&mut self, ready: tasks::DemoReady) {
        log_since_start("demo data ready");
        self.profile.demo_building = false;
        self.origin = Origin::Demo {
            customers: ready.customers,
            records: ready.records,
            stale: ready.stale.clone(),
        };
        self.groups.use_spec_budget(ready.spec.budget);
        self.state.profile.spec_path = "assets/demo/c360.toml".into();
        let explained = self
            .demo_first
            .as_ref()
            .is_some_and(|(key, _)| ready.stale.first().is_some_and(|s| s.key == *key));
        if explained {
            self.handle(Outcome::Connected(Ok(ready.source)));
            self.after_lookup();
            return;
        }
        self.profile.spec_loaded(Ok(ready.spec));
        // The Profile tab is ready on the first stale customer when the user turns to it.
        if let Some(first) = ready.stale.first() {
            self.profile.key = first.key.clone();
            self.pending_lookup = Some(first.key.clone());
        }
        self.state.tab = Tab::Overview;
        self.handle(Outcome::Connected(Ok(ready.source)));
    }

    /// What follows a finished lookup: the Freshness tab's customer, the builder group's lag
    /// history, and whether the spec's partitioner places each source's records.
    fn after_lookup(&mut self) {
        let Some(spec) = self.profile.spec.clone() else {
            return;
        };
        let now = self
            .cluster
            .as_ref()
            .map_or_else(crate::freshness::now_ms, |c| c.now_ms());
        self.freshness.lookup_done(&spec, &self.profile.key, now);
        // The groups may have been judged before the lookup named its builder.
        self.freshness.groups_judged(&self.groups.groups);
        if let (Some(cluster), Some(group)) = (&self.cluster, self.freshness.builder_group.clone())
        {
            self.tasks.builder_lag(Arc::clone(cluster), group, now);
        }
        // Sampled once per topic, after the lookup so it never delays the answer.
        if let Some(cluster) = self.cluster.clone() {
            self.next_scan_id += 1;
            let id = self.next_scan_id;
            self.profile.placement_asked(id);
            self.tasks.check_placements(cluster, spec, id);
        }
    }

    /// A capture file was read: opened, with its skipped lines said.
    fn capture_opened(&mut self, opened: tasks::OpenedCapture) {
        let tasks::OpenedCapture {
            source,
            records,
            warnings,
        } = opened;
        let skipped = warnings
            .first()
            .map(|first| format!("{} capture line(s) skipped; {first}", warnings.len()));
        self.origin = Origin::Capture {
            name: source.name(),
            taken_ms: source.now_ms(),
            records,
        };
        self.handle(Outcome::Connected(Ok(source)));
        self.status.error = skipped;
    }

    fn handle(&mut self, outcome: Outcome) {
        // Demo data or a capture the user cancelled while it loaded: dropped.
        let cancelled = !self.connect.is_connecting();
        if cancelled
            && matches!(
                outcome,
                Outcome::Demo(_) | Outcome::DemoFirst(_) | Outcome::Capture(_)
            )
        {
            return;
        }
        match outcome {
            Outcome::DemoFirst(first) => self.demo_first_explained(*first),
            Outcome::Demo(Ok(ready)) => self.demo_opened(ready),
            Outcome::Demo(Err(e)) => self.handle(Outcome::Connected(Err(e))),
            Outcome::Capture(Ok(opened)) => self.capture_opened(opened),
            Outcome::Capture(Err(e)) => self.handle(Outcome::Connected(Err(e))),
            Outcome::CapturePicked(Some(path)) => self.apply(Command::OpenCapture(path)),
            Outcome::CapturePicked(None) => {}
            Outcome::Sourced {
                generation,
                outcome,
            } => {
                if generation == self.tasks.generation() {
                    self.handle(*outcome);
                }
            }
            Outcome::ConnectAttempt { attempt, result } => {
                let current = attempt == self.connect_attempt && self.connect.is_connecting();
                if current {
                    self.handle(Outcome::Connected(result));
                }
            }
            Outcome::Connected(Ok(cluster)) => {
                self.disconnect();
                if !cluster.is_capture() {
                    self.origin = Origin::Cluster;
                }
                if cluster.is_capture() {
                    self.connect.opened(cluster.name());
                } else {
                    self.connect.connected(cluster.name());
                }
                self.cluster = Some(cluster);
                self.status.error = None;
                self.apply(Command::RefreshTopics);
            }
            Outcome::Connected(Err(e)) => {
                self.connect.failed(e.clone());
                self.status.error = Some(e);
            }
            Outcome::Topics(result) => {
                let remembered = self.state.topic.clone();
                match self.topics.loaded(result, remembered.as_deref()) {
                    Ok(Some(select)) => self.apply(select),
                    Ok(None) => {}
                    Err(e) => self.status.error = Some(e),
                }
            }
            Outcome::Configs { topic, result } => self.topics.configs = Some((topic, result)),
            Outcome::GroupsSampled { at_ms, result } => {
                if self.cluster.is_some() {
                    self.groups.sampled(at_ms, result);
                    self.freshness.groups_judged(&self.groups.groups);
                }
            }
            Outcome::SpecLoaded(Ok((path, spec))) => {
                self.state.profile.spec_path = path.clone();
                self.state.profile.remember_spec(&path);
                self.groups.use_spec_budget(spec.budget);
                self.profile.spec_loaded(Ok(spec));
                // The Overview looks at the new spec (the user stays on the tab they are on).
                self.overview.clear();
                self.rebuild.clear();
            }
            Outcome::SpecLoaded(Err(e)) => self.profile.spec_loaded(Err(e)),
            Outcome::SpecPicked(Some(path)) => {
                self.apply(Command::LoadSpec(path.display().to_string()));
            }
            Outcome::SpecPicked(None) => {}
            Outcome::BuilderLag(result) => self.freshness.builder_lag_read(result),
            Outcome::Ingest(result) => self.freshness.ingest_sampled(result),
            Outcome::Saved(result) => {
                // Exports start on the Profile and Freshness tabs: the status bar says it
                // wherever the user is.
                let notice = match result {
                    Ok(notice) => {
                        self.status.message = Some(notice.clone());
                        notice
                    }
                    Err(e) => {
                        self.status.error = Some(e.clone());
                        e
                    }
                };
                self.freshness.notify(notice);
            }
            Outcome::PngPath(Some(path)) => self.export_png(path),
            Outcome::PngPath(None) => {}
            Outcome::NoPath(purpose) => {
                let suggested = match &purpose {
                    path_prompt::PathFor::Png => "freshness.png".to_owned(),
                    path_prompt::PathFor::LookupCapture(_) => {
                        format!("{}.jsonl.zst", self.profile.key.trim())
                    }
                    _ => String::new(),
                };
                self.path_prompt = Some(path_prompt::PathPrompt::new(purpose, suggested));
            }
            Outcome::LookupEvents { id, events } => {
                if self
                    .lookup
                    .as_ref()
                    .is_some_and(|(current, _)| *current == id)
                {
                    self.profile.events_streamed(events);
                }
            }
            Outcome::LookupProgress { id, progress } => {
                if self
                    .lookup
                    .as_ref()
                    .is_some_and(|(current, _)| *current == id)
                {
                    self.profile.lookup_progress(progress);
                }
            }
            Outcome::LookupDone { id, result } => {
                if self
                    .lookup
                    .as_ref()
                    .is_some_and(|(current, _)| *current == id)
                {
                    self.lookup = None;
                    log_since_start(&format!("lookup of {} done", self.profile.key));
                    let found = result.is_ok();
                    self.profile.lookup_done(result);
                    if found {
                        self.after_lookup();
                    }
                    crate::memory::give_back();
                }
            }
            Outcome::OverviewStep { id, step } => {
                if self
                    .overview_run
                    .as_ref()
                    .is_some_and(|(current, _)| *current == id)
                {
                    self.overview.step(step);
                }
            }
            Outcome::OverviewDone { id, result } => {
                if self
                    .overview_run
                    .as_ref()
                    .is_some_and(|(current, _)| *current == id)
                {
                    self.overview_run = None;
                    self.overview.done(result);
                    crate::memory::give_back();
                }
            }
            Outcome::RebuildReady { id, spec, result } => {
                if self
                    .rebuild_run
                    .as_ref()
                    .is_some_and(|(current, _)| *current == id)
                {
                    self.rebuild_run = None;
                    self.rebuild.readiness_done(&spec, result);
                }
            }
            Outcome::RebuildProgress { id, progress } => {
                if self
                    .rebuild_run
                    .as_ref()
                    .is_some_and(|(current, _)| *current == id)
                {
                    self.rebuild.progress = Some(progress);
                }
            }
            Outcome::Rehearsed { id, result } => {
                if self
                    .rebuild_run
                    .as_ref()
                    .is_some_and(|(current, _)| *current == id)
                {
                    self.rebuild_run = None;
                    self.rebuild.rehearsal_done(result);
                    crate::memory::give_back();
                }
            }
            Outcome::Compared { id, result } => {
                if self
                    .compare_run
                    .as_ref()
                    .is_some_and(|(current, _)| *current == id)
                {
                    self.compare_run = None;
                    self.compare.done(result);
                }
            }
            Outcome::Keys { id, result } => {
                if self
                    .keys_run
                    .as_ref()
                    .is_some_and(|(current, _)| *current == id)
                {
                    self.keys_run = None;
                    self.keys.done(result);
                }
            }
            Outcome::PlacementChecked { id, result } => self.profile.placement_checked(id, result),
            Outcome::Governed { id, result } => {
                if self
                    .governance_run
                    .as_ref()
                    .is_some_and(|(current, _)| *current == id)
                {
                    self.governance_run = None;
                    self.governance.running = None;
                    match result {
                        Ok(tasks::Governed::Erasures(checks)) => {
                            self.governance.erasures = Some(checks)
                        }
                        Ok(tasks::Governed::Pii(topics)) => self.governance.pii = Some(topics),
                        Ok(tasks::Governed::Access(access)) => {
                            self.governance.access = Some(access)
                        }
                        Err(e) => self.governance.failed(e),
                    }
                }
            }
            Outcome::Scan { id, update } => {
                if self.scan.as_ref().map(|(current, _)| *current) != Some(id) {
                    return;
                }
                let done = matches!(update, ScanUpdate::Done(_));
                match self.messages.scan_update(update) {
                    Ok(true) => {}
                    Ok(false) => {
                        if let Some((_, cancel)) = &self.scan {
                            cancel.cancel();
                        }
                    }
                    Err(said) => self.status.error = Some(said),
                }
                if done {
                    self.scan = None;
                    crate::memory::give_back();
                }
            }
        }
    }
}

impl FreshlensApp {
    /// Says when the data is not a live cluster: demo data (with stale customers to look at)
    /// or a capture (and when it was taken).
    fn banner_ui(&mut self, ui: &mut egui::Ui) -> Option<Command> {
        // While the rest of the demo is built behind its first customer, a line in the same
        // place keeps the window from jumping when the demo's banner arrives.
        if let Some((key, _)) = &self.demo_first
            && self.cluster.is_none()
            && self.connect.is_connecting()
        {
            egui::Panel::top("banner").show(ui, |ui| {
                ui.colored_label(
                    egui::Color32::from_rgb(230, 180, 60),
                    format!("Demo: {key} is explained below; building the rest of the demo data…"),
                );
            });
            return None;
        }
        if self.cluster.as_ref().is_none_or(|c| !c.is_capture()) {
            return None;
        }
        let mut command = None;
        egui::Panel::top("banner").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| match &self.origin {
                Origin::Demo {
                    customers,
                    records,
                    stale,
                } => {
                    ui.colored_label(
                        egui::Color32::from_rgb(230, 180, 60),
                        format!(
                            "Demo data: {customers} customers, {records} records generated in memory. \
                             Connect to a real cluster in the bar above."
                        ),
                    );
                    if !stale.is_empty() {
                        ui.label("Stale customers:");
                        for customer in stale {
                            if ui
                                .button(&customer.key)
                                .on_hover_text(
                                    customer
                                        .fields
                                        .iter()
                                        .map(|(f, cause)| format!("{f}: {cause}"))
                                        .collect::<Vec<_>>()
                                        .join("\n"),
                                )
                                .clicked()
                            {
                                self.profile.key = customer.key.clone();
                                self.state.tab = Tab::Profile;
                                command = Some(Command::Lookup(customer.key.clone()));
                            }
                        }
                    }
                }
                Origin::Capture {
                    name,
                    taken_ms,
                    records,
                } => {
                    ui.colored_label(
                        egui::Color32::from_rgb(120, 160, 240),
                        format!(
                            "Capture {name}: {records} records, taken {}. Offline and read-only.",
                            messages::format_timestamp(Some(*taken_ms))
                        ),
                    );
                }
                Origin::Cluster => {}
            });
        });
        command
    }

    /// The typed-path prompt, and what its path is for once given.
    fn path_prompt_ui(&mut self, ctx: &egui::Context) {
        let Some(prompt) = &mut self.path_prompt else {
            return;
        };
        let Some(answer) = prompt.ui(ctx) else {
            return;
        };
        let purpose = self.path_prompt.take().map(|p| p.purpose);
        let (Some(path), Some(purpose)) = (answer, purpose) else {
            return;
        };
        match purpose {
            path_prompt::PathFor::Spec => self.apply(Command::LoadSpec(path.display().to_string())),
            path_prompt::PathFor::Capture => self.apply(Command::OpenCapture(path)),
            path_prompt::PathFor::Png => self.export_png(path),
            path_prompt::PathFor::Text { text, .. } => self.tasks.write_text_to(path, text),
            path_prompt::PathFor::LookupCapture(reveal_pii) => {
                if let (Some(source), Some(spec)) = (&self.cluster, &self.profile.spec) {
                    let key = self.profile.key.trim().to_owned();
                    self.tasks.export_capture_to(
                        Arc::clone(source),
                        Arc::clone(spec),
                        key,
                        path,
                        reveal_pii,
                    );
                }
            }
        }
    }

    /// Saves the Freshness plots as a PNG at `path`. The screenshot is taken of a later frame
    /// than this one, which may still show the path prompt; see [`Self::screenshot_plots`].
    fn export_png(&mut self, path: std::path::PathBuf) {
        let ctx = self.tasks.ctx();
        self.png_export = Some((path, ctx.cumulative_frame_nr()));
        ctx.request_repaint();
    }

    /// Called right after the Freshness tab is drawn: asks for the screenshot of a pending PNG
    /// export, cropped to the plots' rect of this very frame (the screenshot is of this frame).
    fn screenshot_plots(&mut self, ctx: &egui::Context) {
        let Some((_, asked)) = &self.png_export else {
            return;
        };
        if ctx.cumulative_frame_nr() <= *asked || ctx.will_discard() {
            ctx.request_repaint();
            return;
        }
        let Some((path, _)) = self.png_export.take() else {
            return;
        };
        let Some(rect) = self.freshness.plots_rect() else {
            self.freshness
                .notify(format!("not saved {}: no plots on screen", path.display()));
            return;
        };
        let notice = Arc::clone(&self.freshness.notice);
        let viewport = ctx.viewport_rect();
        let asked_scale = ctx.pixels_per_point();
        let repaint = ctx.clone();
        ctx.request_screenshot(move |image| {
            // The image is in physical pixels, the rect in points: the image's own size says
            // how many pixels a point took when it was drawn.
            let scale = screenshot_scale(image.size, viewport).unwrap_or(asked_scale);
            let text = match crop_to_rect(&image, rect, scale) {
                None => format!("not saved {}: the plots are off screen", path.display()),
                Some(region) => match save_png(&region, &path) {
                    Ok(()) => format!("saved {}", path.display()),
                    Err(e) => format!("cannot save {}: {e}", path.display()),
                },
            };
            *notice
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(text);
            repaint.request_repaint();
        });
    }

    /// The lag sampler: while connected, every group is sampled at the panel's interval, in the
    /// background, one sample in flight at a time.
    fn sample_groups_when_due(&mut self, ctx: &egui::Context) {
        let Some(cluster) = &self.cluster else {
            return;
        };
        let interval_ms = self.groups.interval_secs as i64 * 1000;
        let now = crate::time::now_ms();
        // A capture is a snapshot: looked at once, from its commit history. Sampling it again
        // would say nothing about motion.
        let due = match self.groups.last_sample_ms {
            None => true,
            Some(_) if cluster.is_capture() && !self.groups.rules_changed() => false,
            Some(_) if self.groups.rules_changed() => true,
            Some(_) => now - self.groups.last_sampled_wall_ms >= interval_ms,
        };
        if due && !self.groups.sampling {
            self.groups.sample_started(cluster.is_capture(), now);
            let rules = self.groups.take_rules();
            self.tasks
                .sample_groups(Arc::clone(cluster), rules, Arc::clone(&self.groups.sampler));
        }
        ctx.request_repaint_after(std::time::Duration::from_millis(interval_ms.max(100) as u64));
    }

    fn browse_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        egui::Panel::left("topics")
            .resizable(true)
            .default_size(240.0)
            .show(ui, |ui| {
                if self.cluster.is_some() {
                    commands.extend(self.topics.list_ui(ui, &mut self.state.show_internal));
                } else {
                    ui.weak("Connect to a cluster to browse its topics.");
                }
            });
        // The topic's partitions and readers above, in a split the user can drag (egui keeps
        // its size between runs); the messages get the rest of the height.
        egui::Panel::top("topic_detail")
            .resizable(true)
            .default_size(220.0)
            .min_size(120.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("topic_detail_scroll")
                    .show(ui, |ui| {
                        // Readers first: a few rows that a long partition table would push
                        // out of view.
                        if let Some(topic) = self.topics.selected.clone() {
                            self.groups.readers_ui(ui, &topic);
                        }
                        self.topics.partitions_ui(ui);
                    });
            });
        egui::CentralPanel::default().show(ui, |ui| {
            let topic = self.topics.selected.clone();
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.keys.showing, false, "Messages");
                ui.selectable_value(&mut self.keys.showing, true, "Keys");
            });
            if !self.keys.showing {
                commands.extend(
                    self.messages
                        .ui(ui, &mut self.state.messages, topic.as_deref()),
                );
                return;
            }
            // The Keys view samples the topic in view once, unasked.
            if let Some(topic) = topic.as_deref()
                && self.keys.asked.as_deref() != Some(topic)
            {
                self.keys.asked = Some(topic.to_owned());
                commands.push(Command::LookAtKeys(topic.to_owned()));
            }
            commands.extend(self.keys.ui(ui, topic.as_deref()));
        });
    }
}

impl eframe::App for FreshlensApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let started = std::time::Instant::now();
        while let Some(outcome) = self.tasks.next_within(started) {
            self.handle(outcome);
        }
        if self.pending_lookup.is_some() {
            self.run_pending_lookup();
        }
        self.sample_groups_when_due(ctx);
        self.overview_when_due();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        if !self.first_frame_logged {
            self.first_frame_logged = true;
            log_since_start("first frame");
        }
        let mut commands = Vec::new();
        egui::Panel::top("connection").show(ui, |ui| {
            commands.extend(self.connect.ui(ui, &mut self.state.connect));
        });
        egui::Panel::bottom("status").show(ui, |ui| {
            // The status bar follows the work of the tab in view.
            let (progress, running, cancel) = match self.state.tab {
                Tab::Profile | Tab::Freshness => (
                    self.profile.progress.as_ref(),
                    self.profile.running,
                    Command::CancelLookup,
                ),
                Tab::Browse => (
                    self.messages.progress.as_ref(),
                    self.messages.scanning,
                    Command::CancelScan,
                ),
                // The sampler has no progress to show; a browse scan is not this tab's work.
                // The Overview shows its progress and cancel in the tab.
                Tab::Groups | Tab::Overview | Tab::Rebuild | Tab::Governance | Tab::Compare => {
                    (None, false, Command::CancelScan)
                }
            };
            commands.extend(self.status.ui(ui, progress, running, cancel));
        });
        if let Some(banner) = self.banner_ui(ui) {
            commands.push(banner);
        }
        self.path_prompt_ui(ui.ctx());
        egui::Panel::top("tabs").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.state.tab, Tab::Overview, "Overview");
                ui.selectable_value(&mut self.state.tab, Tab::Browse, "Browse");
                ui.selectable_value(&mut self.state.tab, Tab::Groups, "Groups");
                ui.selectable_value(&mut self.state.tab, Tab::Profile, "Profile");
                ui.selectable_value(&mut self.state.tab, Tab::Freshness, "Freshness");
                ui.selectable_value(&mut self.state.tab, Tab::Rebuild, "Rebuild");
                ui.selectable_value(&mut self.state.tab, Tab::Governance, "Governance");
                ui.selectable_value(&mut self.state.tab, Tab::Compare, "Compare");
            });
        });
        match self.state.tab {
            Tab::Overview => {
                egui::CentralPanel::default().show(ui, |ui| {
                    let spec = self.profile.spec.clone();
                    let connected = self.cluster.is_some();
                    commands.extend(self.overview.ui(ui, spec.as_deref(), connected));
                });
            }
            Tab::Rebuild => {
                egui::CentralPanel::default().show(ui, |ui| {
                    let spec = self.profile.spec.clone();
                    let connected = self.cluster.is_some();
                    commands.extend(self.rebuild.ui(ui, spec.as_deref(), connected));
                });
            }
            Tab::Compare => {
                egui::CentralPanel::default().show(ui, |ui| {
                    let connected = self.cluster.is_some();
                    let key = self.profile.key.clone();
                    commands.extend(self.compare.ui(
                        ui,
                        &mut self.state.compare,
                        (connected, &key, &self.connect.saved),
                    ));
                });
            }
            Tab::Governance => {
                egui::CentralPanel::default().show(ui, |ui| {
                    let spec = self.profile.spec.clone();
                    let connected = self.cluster.is_some();
                    let key = self.profile.key.clone();
                    commands.extend(self.governance.ui(ui, spec.as_deref(), &key, connected));
                });
            }
            Tab::Browse => self.browse_ui(ui, &mut commands),
            Tab::Groups => {
                egui::CentralPanel::default().show(ui, |ui| self.groups.ui(ui));
            }
            Tab::Profile => {
                egui::CentralPanel::default().show(ui, |ui| {
                    let connected = self.cluster.is_some();
                    commands.extend(self.profile.ui(ui, &mut self.state.profile, connected));
                });
            }
            Tab::Freshness => {
                egui::CentralPanel::default().show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        let spec = self.profile.spec.clone();
                        let found = self.profile.result.as_ref();
                        commands.extend(self.freshness.ui(ui, spec.as_deref(), found));
                    });
                });
                self.screenshot_plots(ui.ctx());
            }
        }
        // An export asked for on the Freshness tab, which is no longer on screen.
        if self.state.tab != Tab::Freshness
            && let Some((path, _)) = self.png_export.take()
        {
            self.status.message = Some(format!(
                "not saved {}: the Freshness plots are not on screen",
                path.display()
            ));
        }
        // The moment the demo's explained customer is first on screen, for the log.
        if let Some((key, true)) = &self.demo_first
            && self.state.tab == Tab::Profile
            && self.profile.result.is_some()
        {
            log_since_start(&format!("explained customer {key} drawn"));
            self.demo_first = Some((key.clone(), false));
        }
        for command in commands {
            self.apply(command);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        let state = SavedState {
            connect: self.state.connect.without_secrets(),
            messages: self.state.messages.clone(),
            show_internal: self.state.show_internal,
            topic: self.state.topic.clone(),
            profile: self.state.profile.clone(),
            tab: self.state.tab,
            compare: self.state.compare.clone(),
        };
        eframe::set_value(storage, eframe::APP_KEY, &state);
    }
}

/// How many physical pixels a point takes in a screenshot of `viewport` (in points) that came
/// out `size` pixels wide and high; `None` for an empty viewport or image.
fn screenshot_scale(size: [usize; 2], viewport: egui::Rect) -> Option<f32> {
    let scale = size[0] as f32 / viewport.width();
    (size[0] > 0 && scale.is_finite() && scale > 0.0).then_some(scale)
}

/// The part of a screenshot (physical pixels) under `rect` (points, `pixels_per_point` pixels
/// each), clamped to the image: whole pixels, edges rounded outward. `None` when nothing of
/// `rect` is in the image. Never panics, whatever the rect.
fn crop_to_rect(
    image: &egui::ColorImage,
    rect: egui::Rect,
    pixels_per_point: f32,
) -> Option<egui::ColorImage> {
    let [width, height] = image.size;
    if image.pixels.len() != width * height
        || rect.any_nan()
        || !(pixels_per_point.is_finite() && pixels_per_point > 0.0)
    {
        return None;
    }
    // Float-to-integer casts saturate: below zero gives 0.
    let pixel = |points: f32, round: fn(f32) -> f32, limit: usize| {
        (round(points * pixels_per_point) as usize).min(limit)
    };
    let (left, right) = (
        pixel(rect.min.x, f32::floor, width),
        pixel(rect.max.x, f32::ceil, width),
    );
    let (top, bottom) = (
        pixel(rect.min.y, f32::floor, height),
        pixel(rect.max.y, f32::ceil, height),
    );
    (left < right && top < bottom)
        .then(|| image.region_by_pixels([left, top], [right - left, bottom - top]))
}

/// Writes `image` to `path` as a PNG.
fn save_png(image: &egui::ColorImage, path: &std::path::Path) -> Result<(), String> {
    let [width, height] = image.size;
    let pixels: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    let buffer = image::RgbaImage::from_raw(width as u32, height as u32, pixels)
        .ok_or("the screenshot has no pixels")?;
    buffer.save(path).map_err(|e| e.to_string())
}

/// Opens the desktop window; connects at once when the command line named a cluster, and
/// loads a spec and looks a customer up when asked to.
/// Opens the window on what `startup` says (the binary builds it from the command line).
pub fn run(startup: Startup) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("freshlens")
            .with_app_id("freshlens")
            .with_inner_size([1280.0, 800.0]),
        ..Default::default()
    };
    eframe::run_native(
        "freshlens",
        options,
        Box::new(move |cc| Ok(Box::new(FreshlensApp::new(cc, startup, None)?))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    fn sampled(name: &str) -> Outcome {
        Outcome::GroupsSampled {
            at_ms: 1,
            result: Ok(tasks::Sampled {
                groups: vec![crate::freshness::GroupLag {
                    group: name.into(),
                    ..Default::default()
                }],
                past: Default::default(),
                unreadable_commits: 0,
            }),
        }
    }

    /// A sample asked of the previous source (still running when the user switched) is
    /// dropped: it neither shows in the new source's Groups tab nor ends its sampling.
    #[test]
    fn results_of_an_old_source_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_owned();
        let mut harness = Harness::builder().build_eframe(move |cc| {
            let startup = Startup {
                source: Some(crate::source::Capture::new("empty", 1)),
                ..Startup::default()
            };
            FreshlensApp::new(cc, startup, Some(path)).unwrap()
        });
        harness.run_steps(2);
        let app = harness.state_mut();
        let old = app.tasks.generation();
        app.tasks.next_generation();
        app.groups.sampling = true;
        app.handle(Outcome::Sourced {
            generation: old,
            outcome: Box::new(sampled("from-the-old-cluster")),
        });
        assert!(app.groups.groups.is_empty());
        assert!(
            app.groups.sampling,
            "the new source's sample is still running"
        );
        app.handle(Outcome::Sourced {
            generation: app.tasks.generation(),
            outcome: Box::new(sampled("current")),
        });
        assert_eq!(app.groups.groups[0].group, "current");
    }

    /// Where no file dialog can be shown, the prompt takes the path, and the export that asked
    /// for it writes there.
    #[test]
    fn a_typed_path_takes_the_place_of_a_missing_dialog() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().to_owned();
        let mut harness = Harness::builder().build_eframe(move |cc| {
            FreshlensApp::new(cc, Startup::default(), Some(config)).unwrap()
        });
        harness.run_steps(2);
        harness
            .state_mut()
            .handle(Outcome::NoPath(path_prompt::PathFor::Text {
                title: "Export the profile as JSON",
                text: "{\"key\": 1}".into(),
            }));
        harness.run_steps(2);
        let target = dir.path().join("typed.json");
        let field = harness.get_by_role_and_label(egui::accesskit::Role::TextInput, "Path");
        field.focus();
        harness.step();
        harness
            .get_by_role_and_label(egui::accesskit::Role::TextInput, "Path")
            .type_text(&target.display().to_string());
        harness.step();
        harness.get_by_label("OK").click();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !target.exists() && std::time::Instant::now() < deadline {
            harness.step();
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "{\"key\": 1}");
        harness.run_steps(2);
        let said = harness.state().status.message.clone().unwrap_or_default();
        assert!(said.starts_with("saved "), "{said}");
        assert!(harness.state().path_prompt.is_none(), "the prompt closes");
    }

    /// A screenshot of a `width`×`height` point window at `scale` pixels per point, each
    /// pixel's colour saying where it is.
    fn screenshot(width: f32, height: f32, scale: f32) -> egui::ColorImage {
        let size = [(width * scale) as usize, (height * scale) as usize];
        let pixels = (0..size[0] * size[1])
            .map(|i| {
                let (x, y) = (i % size[0], i / size[0]);
                egui::Color32::from_rgb((x % 256) as u8, (y % 256) as u8, (x / 256 + y / 256) as u8)
            })
            .collect();
        egui::ColorImage::new(size, pixels)
    }

    /// The crop takes whole pixels of the rect scaled to the image, clamps what lies outside
    /// the frame, and gives nothing (never a panic) for a rect with nothing in the frame.
    #[test]
    fn crop_to_rect_stays_within_the_frame_at_every_size_and_scale() {
        use egui::{Rect, pos2};
        for (width, height) in [(1024.0, 700.0), (1600.0, 1000.0)] {
            for scale in [1.0, 2.0] {
                let image = screenshot(width, height, scale);
                let [w, h] = image.size;
                let at = format!("{width}x{height} at {scale}");
                let frame = Rect::from_min_max(pos2(0.0, 0.0), pos2(width, height));
                assert_eq!(
                    screenshot_scale(image.size, frame),
                    Some(scale),
                    "{at}: the scale is the image's size over the frame's"
                );

                // The whole frame is the whole image.
                let whole = crop_to_rect(&image, frame, scale).unwrap();
                assert_eq!(whole.size, image.size, "{at}");
                assert_eq!(whole.pixels, image.pixels, "{at}");

                // Inside: exactly the rect, scaled, from the right place.
                let inside = Rect::from_min_max(pos2(64.0, 100.0), pos2(300.0, 400.0));
                let crop = crop_to_rect(&image, inside, scale).unwrap();
                let px = |v: f32| (v * scale) as usize;
                assert_eq!(crop.size, [px(236.0), px(300.0)], "{at}");
                assert_eq!(crop[(0, 0)], image[(px(64.0), px(100.0))], "{at}");
                assert_eq!(
                    crop[(crop.size[0] - 1, crop.size[1] - 1)],
                    image[(px(300.0) - 1, px(400.0) - 1)],
                    "{at}"
                );

                // Past the bottom (the plots scrolled below a small window): clamped. This
                // rect is what panicked at 1024×700.
                let below =
                    Rect::from_min_max(pos2(64.0, 300.0), pos2(width - 24.0, height + 60.0));
                let crop = crop_to_rect(&image, below, scale).unwrap();
                assert_eq!(crop.size, [px(width - 88.0), h - px(300.0)], "{at}");
                assert_eq!(crop[(0, 0)], image[(px(64.0), px(300.0))], "{at}");

                // Past every edge: the whole image.
                let around = frame.expand(40.0);
                assert_eq!(
                    crop_to_rect(&image, around, scale).unwrap().size,
                    [w, h],
                    "{at}"
                );

                // Above and left of the frame, partly in: what is in.
                let corner = Rect::from_min_max(pos2(-50.0, -20.0), pos2(10.0, 30.0));
                let crop = crop_to_rect(&image, corner, scale).unwrap();
                assert_eq!(crop.size, [px(10.0), px(30.0)], "{at}");
                assert_eq!(crop[(0, 0)], image[(0, 0)], "{at}");

                // Wholly outside, zero-size, inverted, not a number: nothing.
                for rect in [
                    Rect::from_min_max(pos2(width + 10.0, 0.0), pos2(width + 200.0, 50.0)),
                    Rect::from_min_max(pos2(0.0, height), pos2(width, height + 300.0)),
                    Rect::from_min_max(pos2(-300.0, -300.0), pos2(-1.0, -1.0)),
                    Rect::from_min_max(pos2(100.0, 100.0), pos2(100.0, 300.0)),
                    Rect::from_min_max(pos2(100.0, 100.0), pos2(300.0, 100.0)),
                    Rect::ZERO,
                    Rect::NOTHING,
                    Rect::from_min_max(pos2(f32::NAN, 0.0), pos2(100.0, 100.0)),
                ] {
                    assert!(
                        crop_to_rect(&image, rect, scale).is_none(),
                        "{at}: {rect:?}"
                    );
                }
                assert!(crop_to_rect(&image, frame, 0.0).is_none(), "{at}");
                assert!(crop_to_rect(&image, frame, f32::NAN).is_none(), "{at}");
            }
        }
        assert_eq!(screenshot_scale([0, 0], egui::Rect::ZERO), None);
    }

    /// Export PNG on the demo's Freshness tab at a small and a large window, at one and two
    /// pixels per point: the screenshot is cropped to the plots on screen (axes and labels
    /// included), never past the window, and saved.
    #[test]
    fn export_png_saves_the_plots_on_screen_at_every_window_size() {
        for (width, height, scale) in [
            (1024.0, 700.0, 1.0),
            (1600.0, 1000.0, 1.0),
            (1024.0, 700.0, 2.0),
        ] {
            let at = format!("{width}x{height} at {scale}");
            let dir = tempfile::tempdir().unwrap();
            let config = dir.path().to_owned();
            let mut harness = Harness::builder()
                .with_size(egui::vec2(width, height))
                .with_pixels_per_point(scale)
                .build_eframe(move |cc| {
                    let startup = Startup {
                        demo: Some(crate::demo::DemoConfig {
                            customers: 150,
                            events: 12_000,
                            ..crate::demo::DemoConfig::new(crate::time::now_ms())
                        }),
                        ..Startup::default()
                    };
                    FreshlensApp::new(cc, startup, Some(config)).unwrap()
                });
            let step_until =
                |harness: &mut Harness<'_, FreshlensApp>,
                 what: &str,
                 done: &dyn Fn(&Harness<'_, FreshlensApp>) -> bool| {
                    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
                    while !done(harness) {
                        assert!(
                            std::time::Instant::now() < deadline,
                            "{at}: timed out waiting for {what}"
                        );
                        harness.step();
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                };
            step_until(&mut harness, "the explained customer", &|h| {
                h.state().profile.result.is_some()
            });
            harness.get_by_label("Freshness").click();
            step_until(&mut harness, "the plots", &|h| {
                h.state().freshness.plots_rect().is_some()
            });
            harness.run_steps(2);

            let target = dir.path().join("freshness.png");
            harness
                .state_mut()
                .handle(Outcome::PngPath(Some(target.clone())));
            step_until(&mut harness, "the saved PNG", &|h| {
                h.state().freshness.notice.lock().unwrap().is_some()
            });
            let notice = harness
                .state()
                .freshness
                .notice
                .lock()
                .unwrap()
                .clone()
                .unwrap();
            assert!(notice.starts_with("saved "), "{at}: {notice}");

            let rect = harness.state().freshness.plots_rect().unwrap();
            let window = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(width, height));
            assert!(
                window.contains_rect(rect),
                "{at}: {rect:?} is within the window"
            );
            // From the panel's left edge, so the y axes' labels are in; across the plots.
            assert!(
                rect.min.x <= 8.0 && rect.width() >= width - 30.0,
                "{at}: {rect:?}"
            );
            let png = image::open(&target).unwrap().to_rgba8();
            let expected = |v: f32, round: fn(f32) -> f32| round(v * scale) as u32;
            assert_eq!(
                (png.width(), png.height()),
                (
                    expected(rect.max.x, f32::ceil) - expected(rect.min.x, f32::floor),
                    expected(rect.max.y, f32::ceil) - expected(rect.min.y, f32::floor)
                ),
                "{at}: the PNG is the plots' rect in pixels"
            );
            // Something is drawn in the axis-label strip at the left, not only background.
            let strip = (0..png.height())
                .flat_map(|y| (0..(60.0 * scale) as u32).map(move |x| (x, y)))
                .map(|(x, y)| png.get_pixel(x, y).0)
                .collect::<std::collections::BTreeSet<_>>();
            assert!(
                strip.len() > 4,
                "{at}: the left strip has {} colours",
                strip.len()
            );
            if let Ok(dir) = std::env::var("FRESHLENS_KEEP_PNG") {
                let _ = std::fs::copy(
                    &target,
                    std::path::Path::new(&dir).join(format!("export-{width}x{height}@{scale}.png")),
                );
            }
        }
    }
}
