//! What the shell does itself: the source's life (connect, open a capture or the demo, leave),
//! the spec, the file dialogs and saves, and every app-wide command. Everything a tab does is
//! the tab's own, in its file.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

use crate::cluster::Cluster;
use crate::profile::{Lookup, Spec};
use crate::source::Source;

use super::app::{FreshlensApp, Startup};
use super::command::{Command, News};
use super::dialog::{Asked, ask};
use super::failure::Failure;
use super::jobs::SHELL;
use super::panel::expect;
use super::path_prompt::{PathFor, PathPrompt};
use super::profile;
use super::session::Origin;
use super::timing::log_since_start;

/// A capture opened, with the lines that could not be read.
pub struct OpenedCapture {
    pub source: Arc<dyn Source>,
    /// What to call it: its file's name, else the name it was recorded under.
    pub name: String,
    pub records: usize,
    pub warnings: Vec<String>,
}

impl OpenedCapture {
    pub fn new(capture: crate::source::Capture, warnings: Vec<String>) -> Self {
        Self {
            name: capture.name.clone(),
            records: capture.record_count(),
            source: Arc::new(capture),
            warnings,
        }
    }

    fn named_by_file(mut self, path: &std::path::Path) -> Self {
        if let Some(file) = path.file_name() {
            self.name = file.to_string_lossy().into_owned();
        }
        self
    }
}

/// The demo data, ready to look at.
pub struct DemoReady {
    source: Arc<dyn Source>,
    spec: Spec,
    stale: Vec<crate::demo::StaleCustomer>,
    customers: usize,
    records: usize,
}

/// What the shell's jobs answer.
enum Answer {
    Connected(Result<Arc<dyn Source>, Failure>),
    Capture(Result<OpenedCapture, Failure>),
    /// The demo's first stale customer, explained before the rest of its data is built.
    DemoFirst(Box<crate::demo::FirstStale>),
    Demo(Result<DemoReady, Failure>),
    Spec(String, Result<Spec, Failure>),
    Picked(PathFor, Asked),
    Saved(Result<String, String>),
}

impl FreshlensApp {
    /// Does what the command line asked: a spec, a customer, a cluster, a capture or the demo.
    pub(super) fn start(&mut self, startup: Startup) {
        if let Some(spec) = startup.spec {
            self.tab = super::overview::ID;
            self.run(Command::LoadSpec(spec));
        }
        if let Some(key) = startup.key {
            self.tab = profile::ID;
            self.session.key = key.clone();
            self.pending_lookup = Some(key);
        }
        if let Some(config) = startup.connect {
            self.run(Command::Connect(config));
        }
        if let Some(path) = startup.capture {
            self.run(Command::OpenCapture(path));
        }
        if let Some(capture) = startup.source {
            self.connect.connecting(capture.name.clone());
            self.capture_opened(OpenedCapture::new(capture, Vec::new()));
        }
        if let Some(config) = startup.demo {
            self.connect.connecting("demo data");
            self.open_demo(config);
        }
    }

    /// Applies one command; those it leads to are applied after it, in order.
    pub(super) fn apply(&mut self, command: Command) {
        match command {
            Command::Connect(config) => {
                self.leave();
                self.session.timeout = config.timeout;
                self.connect.connecting(config.bootstrap.clone());
                self.jobs.start(SHELL, "source", move |_| {
                    let connected = Cluster::connect(config)
                        .map(|c| Arc::new(c) as Arc<dyn Source>)
                        .map_err(Failure::from);
                    Answer::Connected(connected)
                });
            }
            Command::CancelConnect => {
                // Whatever answer comes for the attempt in flight is dropped.
                self.jobs.cancel(SHELL, "source");
                self.connect.disconnected();
                // A demo left before its data was ready takes its first customer with it.
                if self.demo_first.take().is_some() && self.session.source.is_none() {
                    self.leave();
                }
            }
            Command::Disconnect => {
                self.leave();
                self.connect.disconnected();
            }
            Command::SaveCluster(cluster) => {
                self.state.connect.saved_name = cluster.name.clone();
                self.connect.saved.upsert(cluster);
                self.save_clusters();
            }
            Command::ForgetCluster(name) => {
                self.connect.saved.remove(&name);
                self.save_clusters();
            }
            Command::ShowError(error) => {
                self.status.message = None;
                self.status.error = Some(error);
            }
            Command::Notice(notice) => {
                // A newer notice replaces an older error: what the user did last is said.
                self.status.error = None;
                self.status.message = Some(notice);
            }
            Command::LoadSpec(path) => self.load_spec(path),
            Command::PickSpec => self.pick(PathFor::Spec),
            Command::PickCapture => self.pick(PathFor::Capture),
            Command::Lookup(key) => {
                self.session.key = key.clone();
                self.apply(Command::to(profile::ID, profile::Ask::Lookup(key)));
            }
            Command::OpenCustomer(key) => {
                self.tab = profile::ID;
                self.apply(Command::Lookup(key));
            }
            Command::Show(tab) => self.tab = tab,
            Command::OpenCapture(path) => {
                self.leave_for(path.display().to_string());
                self.jobs.start(SHELL, "source", move |_| {
                    let opened = crate::source::load_capture(&path)
                        .map(|(capture, warnings)| {
                            OpenedCapture::new(capture, warnings).named_by_file(&path)
                        })
                        .map_err(Failure::from);
                    Answer::Capture(opened)
                });
            }
            Command::OpenDemo => {
                self.leave_for("demo data".into());
                self.open_demo(crate::demo::DemoConfig::new(crate::time::now_ms()));
            }
            Command::SaveText {
                title,
                file_name,
                text,
            } => self.jobs.start_unbound(SHELL, "save", move |_| {
                let asked = ask(|| {
                    rfd::FileDialog::new()
                        .set_title(title)
                        .set_file_name(file_name)
                        .save_file()
                });
                match asked {
                    Asked::Path(path) => Answer::Saved(write_text(&path, &text)),
                    other => Answer::Picked(PathFor::Text { title, text }, other),
                }
            }),
            Command::PromptPath(purpose) => {
                let suggested = match &purpose {
                    PathFor::Png => "freshness.png".to_owned(),
                    PathFor::LookupCapture(_) => format!("{}.jsonl.zst", self.session.key()),
                    _ => String::new(),
                };
                self.path_prompt = Some(PathPrompt::new(purpose, suggested));
            }
            Command::LookupFound(found) => {
                self.session.lookup = Some(found);
                self.tell(News::LookupFound);
            }
            Command::GroupsJudged(groups) => {
                self.session.groups = Some(groups);
                self.tell(News::GroupsJudged);
            }
            Command::CommitsSeen(commits) => self.session.commits_seen = commits,
            Command::RevealPii(reveal) => self.session.reveal_pii = reveal,
            Command::SetRegistry(url) => {
                self.state.registry = url.clone();
                self.session.registry = url;
            }
            Command::To(panel, ask) => self.ask_panel(panel, ask),
        }
    }

    /// A shell job's message.
    pub(super) fn take(&mut self, message: Box<dyn Any + Send>) {
        // Demo data or a capture the user cancelled while it loaded is dropped with its job;
        // its first customer, sent before, too.
        let Some(answer) = expect::<Answer>(message, SHELL) else {
            return;
        };
        match answer {
            Answer::Connected(Ok(source)) => self.opened(source, Origin::Cluster),
            Answer::Connected(Err(e)) | Answer::Capture(Err(e)) | Answer::Demo(Err(e)) => {
                self.session.demo_building = false;
                self.connect.failed(e.to_string());
                self.apply(Command::ShowError(e.to_string()));
            }
            Answer::Capture(Ok(opened)) => self.capture_opened(opened),
            Answer::DemoFirst(first) => self.demo_first_explained(*first),
            Answer::Demo(Ok(ready)) => self.demo_opened(ready),
            Answer::Spec(path, loaded) => self.spec_loaded(path, loaded),
            Answer::Picked(purpose, Asked::Path(path)) => self.path_given(purpose, path),
            Answer::Picked(purpose, Asked::NoDialog) => self.apply(Command::PromptPath(purpose)),
            Answer::Picked(_, Asked::Cancelled) => {}
            Answer::Saved(Ok(said)) => self.apply(Command::Notice(said)),
            Answer::Saved(Err(said)) => self.apply(Command::ShowError(said)),
        }
    }

    /// What a path given for `purpose` (by a dialog or typed) is used for.
    pub(super) fn path_given(&mut self, purpose: PathFor, path: PathBuf) {
        let command = match purpose {
            PathFor::Spec => Command::LoadSpec(path.display().to_string()),
            PathFor::Capture => Command::OpenCapture(path),
            PathFor::Png => Command::to(super::freshness::ID, super::freshness::Ask::SavePng(path)),
            PathFor::Text { text, .. } => {
                return self.jobs.start_unbound(SHELL, "save", move |_| {
                    Answer::Saved(write_text(&path, &text))
                });
            }
            PathFor::LookupCapture(reveal) => {
                Command::to(profile::ID, profile::Ask::ExportCaptureTo(path, reveal))
            }
        };
        self.apply(command);
    }

    fn pick(&mut self, purpose: PathFor) {
        self.jobs.start_unbound(SHELL, "dialog", move |_| {
            let asked = match purpose {
                PathFor::Spec => ask(|| {
                    rfd::FileDialog::new()
                        .set_title("Open a profile spec")
                        .add_filter("Profile spec", &["toml"])
                        .pick_file()
                }),
                _ => ask(|| {
                    rfd::FileDialog::new()
                        .set_title("Open a capture")
                        .add_filter("Capture", &["jsonl", "json", "zst", "txt"])
                        .pick_file()
                }),
            };
            Answer::Picked(purpose, asked)
        });
    }

    fn load_spec(&mut self, path: String) {
        let path = path.trim().to_owned();
        if path.is_empty() {
            self.session.spec = None;
            self.session.spec_error = None;
            return self.tell(News::SpecChanged);
        }
        self.jobs.start_unbound(SHELL, "spec", move |_| {
            let loaded = Spec::load(std::path::Path::new(&path)).map_err(Failure::from);
            Answer::Spec(path, loaded)
        });
    }

    fn spec_loaded(&mut self, path: String, loaded: Result<Spec, Failure>) {
        match loaded {
            Ok(spec) => {
                // A spec that says what ready means opens on its scorecard.
                if super::scorecard::has_contract(&spec) && self.tab == super::overview::ID {
                    self.tab = super::scorecard::ID;
                }
                self.session.spec = Some(Arc::new(spec));
                self.session.spec_path = path;
                self.session.spec_error = None;
            }
            Err(e) => self.session.spec_error = Some(e),
        }
        self.tell(News::SpecChanged);
    }

    /// Leaves the source in use (if any): every job reading it is cancelled, and every panel
    /// drops what it showed of it.
    pub(super) fn leave(&mut self) {
        self.jobs.source_changed();
        self.session.source = None;
        self.session.origin = Origin::Cluster;
        self.session.lookup = None;
        self.session.groups = None;
        self.session.commits_seen = Default::default();
        self.tell(News::SourceChanged);
    }

    /// Leaves the current source for one being opened (a capture, the demo): a connection
    /// still in flight must not replace it.
    fn leave_for(&mut self, what: String) {
        self.demo_first = None;
        self.leave();
        self.connect.connecting(what);
    }

    /// `source` is in use from now on.
    fn opened(&mut self, source: Arc<dyn Source>, origin: Origin) {
        self.jobs.source_changed();
        // Said as what it is: a capture of the demo is a capture, not the demo.
        match &origin {
            Origin::Cluster => self.connect.connected(source.name()),
            Origin::Demo { .. } => self.connect.opened("demo data".into()),
            Origin::Capture { name, .. } => self.connect.opened(format!("capture {name}")),
        }
        self.session.source = Some(source);
        self.session.origin = origin;
        self.session.lookup = None;
        self.session.groups = None;
        self.status.error = None;
        self.tell(News::SourceChanged);
    }

    /// A capture file was read: opened, with its skipped lines said.
    pub(super) fn capture_opened(&mut self, opened: OpenedCapture) {
        let OpenedCapture {
            source,
            name,
            records,
            warnings,
        } = opened;
        let origin = Origin::Capture {
            name,
            taken_ms: source.now_ms(),
            records,
        };
        self.opened(source, origin);
        if let Some(first) = warnings.first() {
            let said = format!("{} capture line(s) skipped; {first}", warnings.len());
            self.apply(Command::ShowError(said));
        }
    }

    /// Builds the demo in the background: its first stale customer is explained (in the
    /// Profile tab) before the rest.
    pub(super) fn open_demo(&mut self, config: crate::demo::DemoConfig) {
        // The demo's spec states a contract: its scorecard comes first (scored once the data
        // is ready), the first stale customer one click away in the Profile tab.
        self.tab = super::scorecard::ID;
        self.session.demo_building = true;
        self.jobs.start(SHELL, "source", move |reply| {
            let prepared = match crate::demo::prepare(&config) {
                Ok(prepared) => prepared,
                Err(e) => return Answer::Demo(Err(Failure::from(e))),
            };
            if let Some(first) = crate::demo::first_stale(&prepared) {
                reply.send(Answer::DemoFirst(Box::new(first)));
            }
            let demo = crate::demo::finish(prepared);
            Answer::Demo(Ok(DemoReady {
                records: demo.capture.record_count(),
                customers: config.customers,
                source: Arc::new(demo.capture),
                spec: demo.spec,
                stale: demo.stale,
            }))
        });
    }

    fn demo_first_explained(&mut self, first: crate::demo::FirstStale) {
        self.session.demo_building = false;
        let key = first.stale.key;
        log_since_start(&format!("first stale customer {key} explained"));
        self.spec_loaded(demo_spec_path(), Ok(first.spec));
        self.session.key = key.clone();
        self.explain(key.clone(), first.lookup.clone());
        self.demo_first = Some((key, Box::new(first.lookup), true));
    }

    /// Shows `found` as the lookup of `key` in the Profile tab.
    fn explain(&mut self, key: String, found: Lookup) {
        self.apply(Command::to(
            profile::ID,
            profile::Ask::Explained(key, Box::new(found)),
        ));
    }

    /// The demo data is ready: the first stale customer, explained already, stays in view (its
    /// lookup answers the same on the whole data); without one, the Overview opens.
    fn demo_opened(&mut self, ready: DemoReady) {
        log_since_start("demo data ready");
        self.session.demo_building = false;
        let origin = Origin::Demo {
            customers: ready.customers,
            records: ready.records,
            stale: ready.stale.clone(),
        };
        let explained = self
            .demo_first
            .as_ref()
            .filter(|(key, ..)| ready.stale.first().is_some_and(|s| s.key == *key))
            .map(|(key, found, _)| (key.clone(), (**found).clone()));
        if explained.is_none() {
            self.spec_loaded(demo_spec_path(), Ok(ready.spec));
        }
        self.opened(ready.source, origin);
        match explained {
            Some((key, found)) => self.explain(key, found),
            None => {
                // The Profile tab is ready on the first stale customer when the user turns
                // to it.
                if let Some(first) = ready.stale.first() {
                    self.pending_lookup = Some(first.key.clone());
                }
                // The demo's spec states a contract: its readiness comes first.
                self.tab = super::scorecard::ID;
            }
        }
    }

    fn save_clusters(&mut self) {
        self.session.saved = self.connect.saved.clone();
        if let Some(dir) = &self.saved_dir
            && let Err(e) = self.connect.saved.save(dir)
        {
            self.status.error = Some(e.to_string());
        }
    }
}

fn demo_spec_path() -> String {
    "assets/demo/c360.toml".into()
}

fn write_text(path: &std::path::Path, text: &str) -> Result<String, String> {
    match std::fs::write(path, text) {
        Ok(()) => Ok(format!("saved {}", path.display())),
        Err(e) => Err(format!("cannot write {}: {e}", path.display())),
    }
}
