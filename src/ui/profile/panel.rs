//! The Profile tab as a panel: the lookup (events streamed in, progress, cancel), the check of
//! the spec's partitioner after it, and the export of what the lookup read as a capture.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

use super::super::command::{Command, News};
use super::super::dialog::{Asked, ask};
use super::super::failure::Failure;
use super::super::jobs::{Jobs, PanelId};
use super::super::panel::{Busy, Cx, Panel, expect};
use super::super::path_prompt::PathFor;
use super::super::session::{Decoding, Session};
use super::ProfilePanel;
use super::ask::{Ask, ID};
use crate::cluster::{CancelToken, ScanProgress};
use crate::profile::{Event, Lookup, Spec};
use crate::source::Source;

enum Answer {
    Events(Vec<Event>),
    Found(Box<Result<Lookup, Failure>>),
    Placement(Result<Vec<String>, Failure>),
    ExportPath(Asked, bool),
    Exported(Result<String, String>),
}

impl ProfilePanel {
    /// The spec to look customers up by: the session's, or without one the topics typed here
    /// read schemaless.
    fn lookup_spec(&self, session: &Session) -> Result<Arc<Spec>, String> {
        if let Some(spec) = &session.spec {
            return Ok(Arc::clone(spec));
        }
        let topics: Vec<String> = self
            .settings
            .topics
            .split(',')
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        if topics.is_empty() {
            return Err("load a spec, or name the topics to read".into());
        }
        Ok(Arc::new(Spec::schemaless(&topics)))
    }

    fn start_lookup(&mut self, cx: &mut Cx<'_>, key: String) {
        let Some(source) = cx.session.source.clone() else {
            cx.out.push(Command::ShowError("not connected".into()));
            return;
        };
        let spec = match self.lookup_spec(cx.session) {
            Ok(spec) => spec,
            Err(e) => return cx.out.push(Command::ShowError(e)),
        };
        self.key = key.clone();
        self.settings.remember_key(&key);
        self.lookup_started();
        let decoding = cx.session.decoding();
        let now_ms = source.now_ms();
        cx.jobs.start(ID, "lookup", move |reply| {
            // Progress comes from several scan threads at once.
            let on_progress = |progress: ScanProgress| reply.send(progress);
            let mut on_events = |events: &[Event]| reply.send(Answer::Events(events.to_vec()));
            let found = decoding.decoder(&spec).and_then(|decoder| {
                let request = crate::profile::LookupRequest {
                    cancel: reply.cancel.clone(),
                    ..crate::profile::LookupRequest::new(&spec, &decoder, &key, now_ms)
                };
                crate::profile::lookup_streaming(
                    source.as_ref(),
                    &request,
                    &mut on_events,
                    &on_progress,
                )
                .map_err(Failure::from)
            });
            Answer::Found(Box::new(found))
        });
    }

    /// A finished lookup: shown, published to the session, and the spec's partitioner
    /// checked against each source (sampled once per topic, after the answer so it never
    /// delays it).
    fn found(&mut self, cx: &mut Cx<'_>, found: Result<Lookup, Failure>) {
        super::super::timing::log_since_start(&format!("lookup of {} done", self.key));
        self.lookup_done(found);
        crate::memory::give_back();
        let Some(found) = self.result.clone() else {
            return;
        };
        cx.out.push(Command::LookupFound(found));
        if let (Some(source), Some(spec)) = (cx.session.source.clone(), self.spec.clone()) {
            cx.jobs.start(ID, "placement", move |_| {
                let said = crate::profile::placement::disagreements(
                    source.as_ref(),
                    &spec,
                    &CancelToken::default(),
                );
                Answer::Placement(said.map_err(Failure::from))
            });
        }
    }

    fn export_capture(&mut self, cx: &mut Cx<'_>, to: Option<PathBuf>, reveal_pii: bool) {
        let (Some(source), Some(spec)) = (cx.session.source.clone(), self.spec.clone()) else {
            return;
        };
        let key = self.key.trim().to_owned();
        let decoding = cx.session.decoding();
        cx.jobs.start(ID, "export", move |_| {
            let path = match to {
                Some(path) => path,
                None => match ask(|| {
                    rfd::FileDialog::new()
                        .set_title("Export this lookup as a capture")
                        .add_filter("Capture", &["jsonl", "zst"])
                        .set_file_name(format!("{key}.jsonl.zst"))
                        .save_file()
                }) {
                    Asked::Path(path) => path,
                    other => return Answer::ExportPath(other, reveal_pii),
                },
            };
            let export = Export {
                spec: &spec,
                decoding: &decoding,
                key: &key,
                reveal_pii,
            };
            Answer::Exported(export.save(source.as_ref(), &path))
        });
    }
}

/// A lookup read again through a recording source, and exactly what it read saved as a
/// capture, masked as the lookup's view is.
struct Export<'a> {
    spec: &'a Spec,
    decoding: &'a Decoding,
    key: &'a str,
    reveal_pii: bool,
}

impl Export<'_> {
    fn save(&self, source: &dyn Source, path: &std::path::Path) -> Result<String, String> {
        let (capture, _) = self
            .decoding
            .decoder(self.spec)
            .and_then(|decoder| {
                let request = crate::profile::LookupRequest::new(
                    self.spec,
                    &decoder,
                    self.key,
                    source.now_ms(),
                );
                crate::profile::capture_lookup(source, &request, self.reveal_pii)
                    .map_err(Failure::from)
            })
            .map_err(|e| format!("cannot export: {e}"))?;
        let format = crate::source::CaptureFormat::Freshlens;
        match crate::source::save_capture(&capture, path, format) {
            Ok(()) => Ok(format!(
                "saved {} records to {}",
                capture.record_count(),
                path.display()
            )),
            Err(e) => Err(format!("cannot save {}: {e:#}", path.display())),
        }
    }
}

impl Panel for ProfilePanel {
    fn id(&self) -> PanelId {
        ID
    }

    fn ui(&mut self, ui: &mut egui::Ui, session: &Session, out: &mut Vec<Command>) {
        out.extend(self.draw(ui, session));
    }

    fn ask(&mut self, ask: Box<dyn Any + Send>, cx: &mut Cx<'_>) {
        match expect::<Ask>(ask, ID) {
            Some(Ask::Lookup(key)) => self.start_lookup(cx, key),
            Some(Ask::Cancel) if cx.jobs.cancel(ID, "lookup") => {
                self.lookup_done(Err(Failure::msg("cancelled")));
            }
            Some(Ask::Cancel) => {}
            Some(Ask::SelectEvent(topic, partition, offset)) => {
                self.select_event(&topic, partition, offset)
            }
            Some(Ask::Explained(key, found)) => {
                cx.jobs.cancel(ID, "lookup");
                self.key = key;
                self.lookup_started();
                self.found(cx, Ok(*found));
            }
            Some(Ask::ExportCapture(reveal)) => self.export_capture(cx, None, reveal),
            Some(Ask::ExportCaptureTo(path, reveal)) => self.export_capture(cx, Some(path), reveal),
            None => {}
        }
    }

    fn take(&mut self, message: Box<dyn Any + Send>, cx: &mut Cx<'_>) {
        let message = match message.downcast::<ScanProgress>() {
            Ok(progress) => return self.lookup_progress(*progress),
            Err(message) => message,
        };
        match expect::<Answer>(message, ID) {
            Some(Answer::Events(events)) => self.events_streamed(events),
            Some(Answer::Found(found)) => self.found(cx, *found),
            Some(Answer::Placement(said)) => self.placement_checked(said),
            Some(Answer::ExportPath(Asked::NoDialog, reveal)) => {
                cx.out
                    .push(Command::PromptPath(PathFor::LookupCapture(reveal)));
            }
            Some(Answer::ExportPath(..)) | None => {}
            Some(Answer::Exported(Ok(said))) => cx.out.push(Command::Notice(said)),
            Some(Answer::Exported(Err(said))) => cx.out.push(Command::ShowError(said)),
        }
    }

    fn observe(&mut self, news: &News, cx: &mut Cx<'_>) {
        match news {
            // The old source's customer goes with it: nothing of it stays on screen.
            News::SourceChanged => {
                let keep = (
                    std::mem::take(&mut self.settings),
                    self.spec.take(),
                    std::mem::take(&mut self.key),
                    self.reveal_pii,
                );
                *self = Self::default();
                (self.settings, self.spec, self.key, self.reveal_pii) = keep;
            }
            News::SpecChanged => self.spec_changed(cx.session),
            News::LookupFound | News::GroupsJudged => {}
        }
    }

    fn busy(&self, jobs: &Jobs) -> Option<Busy> {
        Some(Busy {
            progress: self.progress.clone(),
            running: jobs.running(ID, "lookup"),
            cancel: Command::to(ID, Ask::Cancel),
        })
    }

    fn saved(&self) -> Option<serde_json::Value> {
        // A registry password typed into the URL is never written to disk.
        let mut settings = self.settings.clone();
        settings.schema_registry =
            crate::codec::registry::split_credentials(&settings.schema_registry).0;
        serde_json::to_value(&settings).ok()
    }

    fn restore(&mut self, saved: serde_json::Value) {
        self.settings = serde_json::from_value(saved).unwrap_or_default();
        // The field shows the spec in use: none yet (the last ones are under Recent).
        self.settings.spec_path.clear();
    }
}
