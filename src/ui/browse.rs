//! The Browse tab: the topic list, the selected topic's readers and partitions, and below them
//! its messages or its keys. It owns the topic list's, the configs', the scan's and the keys'
//! jobs.

use std::any::Any;

use serde::{Deserialize, Serialize};

use crate::cluster::{ScanEvent, ScanRequest, TopicInfo};
use crate::freshness::{GroupLag, Status};
use crate::keys::{SplitSource, TopicKeys};
use crate::time::format_duration_ms;

use super::command::{Command, News};
use super::failure::Failure;
use super::groups::status_color;
use super::jobs::{Jobs, PanelId};
use super::keys::KeysPanel;
use super::messages::{MessageSettings, MessagesPanel, Row, ScanUpdate};
use super::panel::{Busy, Cx, Panel, expect};
use super::session::Session;
use super::topics::{TopicConfigs, TopicsPanel};

pub use super::browse_ask::{Ask, ID};

/// What its jobs answer.
enum Answer {
    Topics(Result<Vec<TopicInfo>, Failure>),
    Configs(String, TopicConfigs),
    Keys(Box<Result<(TopicKeys, Option<SplitSource>), Failure>>),
}

/// Saved between runs.
#[derive(Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BrowseSettings {
    pub messages: MessageSettings,
    pub show_internal: bool,
    /// The topic last looked at, picked again when the list has it.
    pub topic: Option<String>,
}

#[derive(Default)]
pub struct BrowsePanel {
    settings: BrowseSettings,
    topics: TopicsPanel,
    messages: MessagesPanel,
    keys: KeysPanel,
}

impl BrowsePanel {
    fn load_topics(&mut self, cx: &mut Cx<'_>) {
        let Some(source) = cx.session.source.clone() else {
            return;
        };
        self.topics.loading = true;
        let internal = self.settings.show_internal;
        cx.jobs.start(ID, "topics", move |_| {
            Answer::Topics(source.topics(internal).map_err(Failure::from))
        });
    }

    fn select(&mut self, cx: &mut Cx<'_>, name: String) {
        self.cancel_scan(cx.jobs);
        self.messages.clear();
        self.settings.topic = Some(name.clone());
        self.topics.select(name.clone());
        if let Some(source) = cx.session.source.clone() {
            cx.jobs.start(ID, "configs", move |_| {
                let result = source.topic_configs(&name).map_err(Failure::from);
                Answer::Configs(name, result)
            });
        }
    }

    /// Streams a scan; rows are prepared for display off the UI thread, masked by the spec's
    /// `pii` paths unless *Reveal PII* is on.
    fn scan(&mut self, cx: &mut Cx<'_>, request: ScanRequest) {
        let Some(source) = cx.session.source.clone() else {
            cx.out.push(Command::ShowError("not connected".into()));
            return;
        };
        self.messages.scan_started();
        let mask = cx.session.pii_mask();
        // A spec's Avro and Protobuf sources are read through their schemas; without a
        // decoder (no registry given) their rows show the bytes.
        let (spec, decoding) = (cx.session.spec.clone(), cx.session.decoding());
        cx.jobs.start(ID, "scan", move |reply| {
            let spec: super::messages::SpecDecoding = spec.and_then(|spec| {
                let decoder = decoding.decoder(&spec).ok()?;
                Some((spec, std::sync::Arc::new(decoder)))
            });
            let result = source.scan(&request, &reply.cancel, &mut |event| {
                let update = match event {
                    ScanEvent::Records(records) => ScanUpdate::Rows(
                        records
                            .into_iter()
                            .map(|r| Row::new(r, &mask, &spec))
                            .collect(),
                    ),
                    ScanEvent::Progress(progress) => ScanUpdate::Progress(progress),
                };
                reply.send(update);
                !reply.cancel.is_cancelled()
            });
            ScanUpdate::Done(result.map_err(Failure::from))
        });
    }

    fn cancel_scan(&mut self, jobs: &Jobs) {
        if jobs.cancel(ID, "scan") {
            self.messages.scanning = false;
            self.messages.note = Some("cancelled".into());
        }
    }

    /// A topic's keys sampled in the background (with the spec's event times where loaded).
    fn look_at_keys(&mut self, cx: &mut Cx<'_>, topic: String) {
        let Some(source) = cx.session.source.clone() else {
            return;
        };
        self.keys.started(&topic);
        let spec = cx.session.spec.clone();
        let decoding = cx.session.decoding();
        cx.jobs.start(ID, "keys", move |reply| {
            let cancel = &reply.cancel;
            let result = (|| {
                let decoder = spec.as_deref().map(|s| decoding.decoder(s)).transpose()?;
                let with = spec
                    .as_deref()
                    .zip(decoder.as_ref())
                    .map(|(spec, decoder)| crate::keys::WithSpec { spec, decoder });
                let sample = crate::profile::infer::DEFAULT_SAMPLE;
                let keys = crate::keys::topic_keys(source.as_ref(), &topic, sample, with, cancel)?;
                // With a spec: its customers split over this topic's partitions.
                let split = match with {
                    Some(with) if !cancel.is_cancelled() => {
                        crate::keys::topic_split(source.as_ref(), with, &topic, cancel)?
                    }
                    _ => None,
                };
                Ok((keys, split))
            })();
            Answer::Keys(Box::new(result))
        });
    }

    fn scanned(&mut self, update: ScanUpdate, cx: &mut Cx<'_>) {
        let done = matches!(update, ScanUpdate::Done(_));
        match self.messages.scan_update(update) {
            Ok(true) => {}
            // The view is full: the scan stops.
            Ok(false) => {
                cx.jobs.cancel(ID, "scan");
            }
            Err(said) => cx.out.push(Command::ShowError(said)),
        }
        if done {
            crate::memory::give_back();
        }
    }
}

impl Panel for BrowsePanel {
    fn id(&self) -> PanelId {
        ID
    }

    fn own_layout(&self) -> bool {
        true
    }

    fn ui(&mut self, ui: &mut egui::Ui, session: &Session, out: &mut Vec<Command>) {
        egui::Panel::left("topics")
            .resizable(true)
            .default_size(240.0)
            .show(ui, |ui| {
                if session.connected() {
                    out.extend(self.topics.list_ui(ui, &mut self.settings.show_internal));
                } else {
                    ui.weak("Connect to a cluster to browse its topics.");
                }
            });
        // The topic's partitions and readers above, in a split the user can drag (egui keeps
        // its size between runs); the messages get the rest of the height.
        // Two fifths of the height by default, so the partition table shows more than a
        // couple of rows; the drag handle at its lower edge says it can take more.
        let detail = (ui.available_height() * 0.4).max(220.0);
        egui::Panel::top("topic_detail")
            .resizable(true)
            .show_separator_line(true)
            .default_size(detail)
            .min_size(120.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("topic_detail_scroll")
                    .show(ui, |ui| {
                        // Readers first: a few rows that a long partition table would push
                        // out of view.
                        if let Some(topic) = &self.topics.selected {
                            readers_ui(ui, session.groups.as_deref(), topic);
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
                out.extend(
                    self.messages
                        .ui(ui, &mut self.settings.messages, topic.as_deref()),
                );
                return;
            }
            // The Keys view samples the topic in view once, unasked.
            if let Some(topic) = topic.as_deref()
                && self.keys.asked.as_deref() != Some(topic)
            {
                self.keys.asked = Some(topic.to_owned());
                out.push(Command::to(ID, Ask::LookAtKeys(topic.to_owned())));
            }
            out.extend(self.keys.ui(ui, topic.as_deref()));
        });
    }

    fn ask(&mut self, ask: Box<dyn Any + Send>, cx: &mut Cx<'_>) {
        match expect::<Ask>(ask, ID) {
            Some(Ask::RefreshTopics) => self.load_topics(cx),
            Some(Ask::SelectTopic(name)) => self.select(cx, name),
            Some(Ask::StartScan(request)) => self.scan(cx, request),
            Some(Ask::CancelScan) => self.cancel_scan(cx.jobs),
            Some(Ask::LookAtKeys(topic)) => self.look_at_keys(cx, topic),
            Some(Ask::CancelKeys) if cx.jobs.cancel(ID, "keys") => {
                self.keys.done(Err(Failure::msg("cancelled")));
            }
            Some(Ask::CancelKeys) | None => {}
        }
    }

    fn take(&mut self, message: Box<dyn Any + Send>, cx: &mut Cx<'_>) {
        let message = match message.downcast::<ScanUpdate>() {
            Ok(update) => return self.scanned(*update, cx),
            Err(message) => message,
        };
        match expect::<Answer>(message, ID) {
            Some(Answer::Topics(result)) => {
                let remembered = self.settings.topic.clone();
                match self.topics.loaded(result, remembered.as_deref()) {
                    Ok(Some(select)) => cx.out.push(select),
                    Ok(None) => {}
                    Err(e) => cx.out.push(Command::ShowError(e.to_string())),
                }
            }
            Some(Answer::Configs(topic, result)) => self.topics.configs = Some((topic, result)),
            Some(Answer::Keys(result)) => self.keys.done(*result),
            None => {}
        }
    }

    fn observe(&mut self, news: &News, cx: &mut Cx<'_>) {
        if *news == News::SourceChanged {
            // The old source's jobs are cancelled already; what they showed goes.
            self.topics = TopicsPanel::default();
            self.messages.clear();
            self.keys = KeysPanel::default();
            self.load_topics(cx);
        }
    }

    fn busy(&self, jobs: &Jobs) -> Option<Busy> {
        Some(Busy {
            progress: self.messages.progress.clone(),
            running: jobs.running(ID, "scan"),
            cancel: Command::to(ID, Ask::CancelScan),
        })
    }

    fn saved(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.settings).ok()
    }

    fn restore(&mut self, saved: serde_json::Value) {
        self.settings = serde_json::from_value(saved).unwrap_or_default();
    }
}

/// The groups that read `topic`, with their lag on it; `None` before the first judgement.
fn readers_ui(ui: &mut egui::Ui, groups: Option<&Vec<GroupLag>>, topic: &str) {
    let readers: Vec<(&GroupLag, i64, Option<i64>, Status)> = groups
        .into_iter()
        .flatten()
        .filter_map(|g| {
            let parts: Vec<_> = g.partitions.iter().filter(|p| p.topic == topic).collect();
            if parts.is_empty() {
                return None;
            }
            let lag = parts.iter().map(|p| p.lag).sum();
            let time_lag = parts.iter().filter_map(|p| p.time_lag_ms).max();
            let status = parts.iter().map(|p| p.status).max().unwrap_or_default();
            Some((g, lag, time_lag, status))
        })
        .collect();
    egui::CollapsingHeader::new(format!("Consumer groups reading it ({})", readers.len()))
        .id_salt("topic_readers")
        .show(ui, |ui| {
            if readers.is_empty() {
                ui.weak(if groups.is_some() {
                    "none"
                } else {
                    "sampling…"
                });
                return;
            }
            egui::Grid::new("topic_readers_grid")
                .striped(true)
                .show(ui, |ui| {
                    for title in ["Group", "Status", "Lag", "Time lag"] {
                        ui.strong(title);
                    }
                    ui.end_row();
                    for (g, lag, time_lag, status) in readers {
                        ui.label(&g.group);
                        ui.colored_label(status_color(status), status.to_string());
                        ui.label(lag.to_string());
                        ui.label(time_lag.map_or("?".to_owned(), format_duration_ms));
                        ui.end_row();
                    }
                });
        });
}
