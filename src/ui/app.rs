//! The app's state and its routing: the panels, the session, the jobs; every job's answer goes
//! to the panel that started it, and what panels ask is applied after, in order.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::cluster::ConnectionConfig;
use crate::cluster::saved::SavedClusters;
use crate::profile::Lookup;

use super::command::{Command, News};
use super::connect::{ConnectBar, ConnectSettings};
use super::jobs::{Jobs, PanelId, SHELL};
use super::panel::{Cx, Panel};
use super::session::Session;
use super::status::StatusBar;
use super::{
    browse, compare, freshness, governance, groups, overview, profile, rebuild, scorecard, trial,
};

/// The tabs, in the order they are shown. A new tab is one file and one line here.
fn panels() -> Vec<Box<dyn Panel>> {
    vec![
        Box::new(scorecard::ScorecardPanel::default()),
        Box::new(overview::OverviewPanel::new()),
        Box::new(browse::BrowsePanel::default()),
        Box::new(groups::GroupsPanel::default()),
        Box::new(profile::ProfilePanel::default()),
        Box::new(freshness::FreshnessPanel::default()),
        Box::new(rebuild::RebuildPanel::default()),
        Box::new(governance::GovernancePanel::default()),
        Box::new(compare::ComparePanel::default()),
        Box::new(trial::TrialPanel::default()),
    ]
}

/// Everything that survives a restart. Secrets are never part of it.
#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SavedState {
    pub connect: ConnectSettings,
    /// The tab in view.
    pub tab: String,
    pub registry: String,
    /// Each panel's own saved settings, by its id.
    pub panels: BTreeMap<String, serde_json::Value>,
}

pub struct FreshlensApp {
    pub(super) state: SavedState,
    pub(super) jobs: Jobs,
    pub(super) session: Session,
    pub(super) panels: Vec<Box<dyn Panel>>,
    pub(super) tab: PanelId,
    pub(super) connect: ConnectBar,
    pub(super) status: StatusBar,
    pub(super) saved_dir: Option<std::path::PathBuf>,
    /// A customer to look up once the source (and the spec) are ready.
    pub(super) pending_lookup: Option<String>,
    pub(super) first_frame_logged: bool,
    /// The demo's first stale customer, explained before the rest of its data: its key, its
    /// lookup, and whether the frame that draws it has yet to be logged.
    pub(super) demo_first: Option<(String, Box<Lookup>, bool)>,
    /// Asks for a path where no file dialog could be shown.
    pub(super) path_prompt: Option<super::path_prompt::PathPrompt>,
    /// Commands asked while others were applied, applied next.
    pub(super) queued: VecDeque<Command>,
    pub(super) draining: bool,
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
        let mut panels = panels();
        for panel in &mut panels {
            if let Some(saved) = state.panels.remove(panel.id()) {
                panel.restore(saved);
            }
        }
        let tab = panels
            .iter()
            .map(|p| p.id())
            .find(|id| *id == state.tab)
            .unwrap_or(browse::ID);
        if let Some(config) = &startup.connect {
            state.connect.bootstrap = config.bootstrap.clone();
        }
        let session = Session {
            registry: state.registry.clone(),
            saved: saved.clone(),
            ..Session::default()
        };
        let mut app = Self {
            jobs: Jobs::new(cc.egui_ctx.clone())?,
            session,
            panels,
            tab,
            connect: ConnectBar::new(saved),
            status,
            saved_dir,
            state,
            pending_lookup: None,
            first_frame_logged: false,
            demo_first: None,
            path_prompt: None,
            queued: VecDeque::new(),
            draining: false,
        };
        app.start(startup);
        Ok(app)
    }

    /// Applies `first` and every command applying it leads to, in order.
    pub(super) fn run(&mut self, first: Command) {
        self.queued.push_back(first);
        self.flush();
    }

    /// Applies what was asked while routing, telling or asking, until nothing is left.
    pub(super) fn flush(&mut self) {
        if self.draining {
            return;
        }
        self.draining = true;
        while let Some(command) = self.queued.pop_front() {
            self.apply(command);
        }
        self.draining = false;
    }

    /// Hands `ask` to the panel it is for; what the panel asks in turn is applied after.
    pub(super) fn ask_panel(&mut self, id: PanelId, ask: Box<dyn std::any::Any + Send>) {
        let mut out = Vec::new();
        if let Some(panel) = self.panels.iter_mut().find(|p| p.id() == id) {
            let mut cx = Cx {
                session: &self.session,
                jobs: &self.jobs,
                out: &mut out,
            };
            panel.ask(ask, &mut cx);
        }
        self.queued.extend(out);
    }

    /// Tells every panel what changed; what they ask in turn is applied after.
    pub(super) fn tell(&mut self, news: News) {
        let mut out = Vec::new();
        for panel in &mut self.panels {
            let mut cx = Cx {
                session: &self.session,
                jobs: &self.jobs,
                out: &mut out,
            };
            panel.observe(&news, &mut cx);
        }
        self.queued.extend(out);
    }

    /// Every answer of a job still waited for, to the panel that started it, while the
    /// frame's budget lasts.
    pub(super) fn route(&mut self) {
        let started = std::time::Instant::now();
        while let Some(envelope) = self.jobs.next_within(started) {
            if envelope.panel == SHELL {
                self.take(envelope.message);
            } else {
                let mut out = Vec::new();
                if let Some(panel) = self.panels.iter_mut().find(|p| p.id() == envelope.panel) {
                    let mut cx = Cx {
                        session: &self.session,
                        jobs: &self.jobs,
                        out: &mut out,
                    };
                    panel.take(envelope.message, &mut cx);
                }
                self.queued.extend(out);
            }
            self.flush();
        }
    }

    /// Runs the lookup asked for on the command line once the source (and spec) are ready.
    pub(super) fn run_pending_lookup(&mut self) {
        let ready = self.session.connected() && !self.jobs.running(SHELL, "spec");
        if ready && let Some(key) = self.pending_lookup.take() {
            self.run(Command::Lookup(key));
        }
    }
}
