//! The Profile panel: a spec, a customer key, the timeline streaming in as partitions are read,
//! a time slider that replays the profile, the field table with provenance, consent and PII
//! state, and the store diff with each stale field's cause.

use std::sync::Arc;

use egui_extras::{Column, TableBuilder};
use serde::{Deserialize, Serialize};

use crate::profile::{Event, Lookup, PiiMask, Profile, Spec, fold};

mod ask;
mod fields;
mod panel;

pub use ask::{Ask, ID};

use super::command::Command;
use super::failure::Failure;
use super::messages::format_timestamp;

const RECENT: usize = 10;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileSettings {
    pub spec_path: String,
    pub recent_specs: Vec<String>,
    pub recent_keys: Vec<String>,
    /// Topics for a lookup without a spec, comma separated.
    pub topics: String,
    pub schema_registry: String,
}

impl ProfileSettings {
    pub fn remember_spec(&mut self, path: &str) {
        remember(&mut self.recent_specs, path);
    }

    pub fn remember_key(&mut self, key: &str) {
        remember(&mut self.recent_keys, key);
    }
}

fn remember(list: &mut Vec<String>, item: &str) {
    list.retain(|k| k != item);
    list.insert(0, item.to_owned());
    list.truncate(RECENT);
}

#[derive(Default)]
pub struct ProfilePanel {
    /// Saved between runs: the spec path typed, recent specs and keys, topics, registry.
    settings: ProfileSettings,
    /// The session's spec, as last told.
    spec: Option<Arc<Spec>>,
    /// The customer typed (the session's key once looked up).
    pub key: String,
    pub running: bool,
    /// Events streamed so far by a running lookup.
    pub partial: Vec<Event>,
    pub result: Option<Arc<Lookup>>,
    pub error: Option<Failure>,
    /// Records scanned by the running lookup's current hop.
    pub progress: Option<crate::cluster::ScanProgress>,
    selected: Option<usize>,
    /// A jump to the selected event is pending: the timeline scrolls it to its middle once.
    scroll_to_selected: bool,
    /// Replay time (event time); `None` follows the latest event.
    as_of: Option<i64>,
    reveal_pii: bool,
    /// The fold of the events shown, keyed by what it depends on: the replay time and which
    /// events (bumped with every streamed batch and every finished lookup).
    folded: Option<((Option<i64>, u64), Profile)>,
    events_version: u64,
    /// Sources whose records the spec's partitioner does not place: one sentence each.
    placement: Vec<String>,
}

impl ProfilePanel {
    /// What the check of the spec's partitioner against each source found.
    fn placement_checked(&mut self, result: Result<Vec<String>, Failure>) {
        self.placement = match result {
            Ok(said) => said,
            Err(e) => vec![format!("could not check the sources' partitioners: {e}")],
        };
    }

    pub fn lookup_started(&mut self) {
        self.placement.clear();
        self.running = true;
        self.partial.clear();
        self.result = None;
        self.error = None;
        self.selected = None;
        self.as_of = None;
        self.folded = None;
        self.progress = None;
    }

    pub fn lookup_done(&mut self, result: Result<Lookup, Failure>) {
        self.running = false;
        // The finished timeline replaces what streamed in; its room is given back too.
        self.partial = Vec::new();
        match result {
            Ok(lookup) => self.result = Some(Arc::new(lookup)),
            Err(e) => self.error = Some(e),
        }
        self.folded = None;
    }

    /// The session's spec changed (or failed to load).
    fn spec_changed(&mut self, session: &super::session::Session) {
        match (&session.spec, &session.spec_error) {
            (_, Some(e)) => self.error = Some(e.clone()),
            (Some(spec), None) => {
                self.spec = Some(Arc::clone(spec));
                self.error = None;
                self.placement.clear();
                self.settings.spec_path = session.spec_path.clone();
                self.settings.remember_spec(&session.spec_path);
            }
            (None, None) => self.spec = None,
        }
    }

    /// A running lookup's progress.
    pub fn lookup_progress(&mut self, progress: crate::cluster::ScanProgress) {
        self.progress = Some(progress);
    }

    /// What to mask wherever an event's payload is shown: the loaded spec's `pii` fields,
    /// unless *Reveal PII* is on.
    fn pii_mask(&self) -> PiiMask {
        self.spec.as_deref().map_or_else(PiiMask::none, |spec| {
            PiiMask::unless_revealed(spec, self.reveal_pii)
        })
    }

    pub fn report_json(&self, reveal_pii: bool) -> Option<serde_json::Value> {
        let (spec, found) = (self.spec.as_ref()?, self.result.as_ref()?);
        let report = crate::profile::ProfileReport {
            timeline: found.timeline.clone(),
            profile: fold(spec, &found.timeline.events, None),
            store: found.store.clone(),
        };
        Some(crate::profile::report_json(spec, &report, reveal_pii))
    }

    fn events(&self) -> &[Event] {
        self.result
            .as_ref()
            .map_or(&self.partial, |r| &r.timeline.events)
    }

    fn draw(&mut self, ui: &mut egui::Ui, session: &super::session::Session) -> Option<Command> {
        let connected = session.connected();
        let mut command = None;
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Spec");
            ui.add(
                egui::TextEdit::singleline(&mut self.settings.spec_path)
                    .hint_text("c360.toml")
                    .desired_width(260.0),
            )
            .labelled_by(label.id);
            if ui.button("Load spec").clicked() {
                command = Some(Command::LoadSpec(self.settings.spec_path.clone()));
            }
            if ui.button("Open…").clicked() {
                command = Some(Command::PickSpec);
            }
            let recent_label = ui.label("Recent");
            egui::ComboBox::from_id_salt("recent_specs")
                .selected_text("specs")
                .show_ui(ui, |ui| {
                    for path in &self.settings.recent_specs {
                        if ui.selectable_label(false, path).clicked() {
                            command = Some(Command::LoadSpec(path.clone()));
                        }
                    }
                })
                .response
                .labelled_by(recent_label.id);
            match &self.spec {
                Some(spec) => ui.label(format!(
                    "{}: {} sources, {} fields, budget {}",
                    spec.name,
                    spec.sources.len(),
                    spec.fields.len(),
                    spec.budget
                )),
                None => ui.weak("no spec: the topics below, top-level fields, latest wins"),
            };
        });
        if self.spec.is_none() {
            ui.horizontal(|ui| {
                let label = ui.label("Topics");
                ui.add(
                    egui::TextEdit::singleline(&mut self.settings.topics)
                        .hint_text("c360.identity, c360.orders")
                        .desired_width(400.0),
                )
                .labelled_by(label.id);
            });
        }
        // Only a spec with registry-framed sources needs a registry: the field shows for those.
        let avro = self.spec.as_ref().is_some_and(|spec| {
            spec.sources
                .iter()
                .chain(spec.store.as_ref().map(|s| s.as_source()).as_ref())
                .any(|s| {
                    s.format.needs_registry()
                        || s.format == crate::profile::spec::SourceFormat::JsonSchema
                })
        });
        if avro || !self.settings.schema_registry.is_empty() {
            ui.horizontal(|ui| {
                let label = ui.label("Schema Registry");
                let field = ui
                    .add(
                        egui::TextEdit::singleline(&mut self.settings.schema_registry)
                            .hint_text("http://user:password@registry:8081")
                            .desired_width(320.0),
                    )
                    .labelled_by(label.id)
                    .on_hover_text(
                        "Decodes the spec's avro, protobuf and json-schema sources; \
                         user:password@ is sent as Basic auth \
                         and never saved",
                    );
                if field.lost_focus() || (field.changed() && !field.has_focus()) {
                    command = Some(Command::SetRegistry(self.settings.schema_registry.clone()));
                }
            });
        }
        ui.horizontal(|ui| {
            let label = ui.label("Customer");
            let response = ui
                .add(
                    egui::TextEdit::singleline(&mut self.key)
                        .hint_text("customer id")
                        .desired_width(220.0),
                )
                .labelled_by(label.id);
            let enter = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let recent_label = ui.label("Recent");
            egui::ComboBox::from_id_salt("recent_keys")
                .selected_text("keys")
                .show_ui(ui, |ui| {
                    for key in &self.settings.recent_keys {
                        if ui.selectable_label(false, key).clicked() {
                            self.key = key.clone();
                        }
                    }
                })
                .response
                .labelled_by(recent_label.id);
            if self.running {
                super::busy::indicator(ui);
                ui.label(format!("{} events so far", self.partial.len()));
                if ui.button("Cancel").clicked() {
                    command = Some(Command::to(ID, Ask::Cancel));
                }
            } else if (ui
                .add_enabled(
                    connected && !self.key.trim().is_empty(),
                    egui::Button::new("Look up"),
                )
                .clicked()
                || (enter && connected))
                && !self.key.trim().is_empty()
            {
                command = Some(Command::Lookup(self.key.trim().to_owned()));
            }
            if ui.checkbox(&mut self.reveal_pii, "Reveal PII").changed() {
                command = Some(Command::RevealPii(self.reveal_pii));
            }
            if self.result.is_some() {
                ui.separator();
                if ui.button("Export JSON…").clicked() {
                    command = self
                        .report_json(self.reveal_pii)
                        .map(|doc| Command::SaveText {
                            title: "Export the profile as JSON",
                            file_name: format!("{}.json", self.key.trim()),
                            text: serde_json::to_string_pretty(&doc).unwrap_or_default(),
                        });
                }
                if ui
                    .button("Export capture…")
                    .on_hover_text("What this lookup read, to open offline with --capture")
                    .clicked()
                {
                    command = Some(Command::to(ID, Ask::ExportCapture(self.reveal_pii)));
                }
            }
        });
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error.to_string());
        }
        let read_more = self
            .result
            .iter()
            .flat_map(|r| &r.timeline.placement_warnings);
        for warning in self.placement.iter().chain(read_more) {
            ui.colored_label(
                egui::Color32::from_rgb(230, 180, 60),
                format!("Partitioner: {warning}"),
            );
        }
        ui.separator();
        if self.events().is_empty() {
            let text = match &self.result {
                _ if self.running => "Reading the key's partitions…".to_owned(),
                // A finished lookup that found nothing says so, and where it looked.
                Some(found) => format!(
                    "No events for {} in the {} partitions read ({} records).",
                    found.timeline.key,
                    found.timeline.scanned.partitions,
                    found.timeline.scanned.records
                ),
                None if session.demo_building => "Building the demo data: its first stale \
                                                customer is explained here in a moment."
                    .to_owned(),
                None if !connected => "Connect to a cluster, or open a capture or the demo, \
                                       then look a customer up."
                    .to_owned(),
                None => "Type a customer id and look it up.".to_owned(),
            };
            ui.weak(text);
            return command;
        }
        self.replay_ui(ui);
        // The fields take a share of the width, so the timeline's values keep room at 1024.
        let fields_width = (ui.available_width() * 0.47).clamp(400.0, 660.0);
        egui::Panel::right("profile_fields")
            .resizable(true)
            .default_size(fields_width)
            .show(ui, |ui| {
                self.fields_ui(ui);
            });
        egui::CentralPanel::default().show(ui, |ui| self.timeline_ui(ui));
        command
    }

    fn spec_or_default(&self) -> Spec {
        self.spec.as_deref().cloned().unwrap_or_else(|| {
            let mut topics: Vec<String> = self.events().iter().map(|e| e.topic.clone()).collect();
            topics.sort();
            topics.dedup();
            Spec::schemaless(&topics)
        })
    }

    fn replay_ui(&mut self, ui: &mut egui::Ui) {
        let events = self.events();
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            return;
        };
        let (min, max) = (first.event_ms, last.event_ms);
        ui.horizontal(|ui| {
            let mut latest = self.as_of.is_none();
            if ui.checkbox(&mut latest, "Latest").changed() {
                self.as_of = if latest { None } else { Some(max) };
            }
            let mut t = self.as_of.unwrap_or(max);
            let caption = format!("as of {}", format_timestamp(Some(t)));
            let slider = egui::Slider::new(&mut t, min..=max.max(min + 1))
                .show_value(false)
                .text(caption);
            if ui
                .add_sized([ui.available_width().min(700.0), 20.0], slider)
                .changed()
            {
                self.as_of = Some(t);
            }
        });
    }

    /// A batch of a lookup still streaming: merged into the timeline in order.
    pub fn events_streamed(&mut self, events: Vec<Event>) {
        crate::profile::merge_into_timeline(&mut self.partial, events);
        self.events_version += 1;
    }

    fn profile(&mut self) -> &Profile {
        let key = (self.as_of, self.events_version);
        let stale = self.folded.as_ref().is_none_or(|(at, _)| *at != key);
        if stale {
            let spec = self.spec_or_default();
            let profile = fold(&spec, self.events(), self.as_of);
            self.folded = Some((key, profile));
        }
        &self.folded.as_ref().expect("folded above").1
    }
    /// Selects the timeline event at this record, scrolling to it.
    pub fn select_event(&mut self, topic: &str, partition: i32, offset: i64) {
        self.selected = self
            .events()
            .iter()
            .position(|e| e.topic == topic && e.partition == partition && e.offset == offset);
        self.scroll_to_selected = self.selected.is_some();
    }

    fn timeline_ui(&mut self, ui: &mut egui::Ui) {
        let selected = self.selected;
        let mut clicked = None;
        // Payloads carry what the profile's `pii` fields come from: masked here too.
        let mask = self.pii_mask();
        let events = self.events();
        let ids = mask.linked_ids(
            self.result.as_ref().map(|r| r.timeline.key.as_str()),
            events,
        );
        ui.heading(format!("Timeline: {} events", events.len()));
        if let Some(result) = &self.result {
            let t = &result.timeline;
            ui.label(format!(
                "read {} records from {} partitions in {} ms{}",
                t.scanned.records,
                t.scanned.partitions,
                t.scanned.elapsed_ms,
                if t.undecodable.is_empty() {
                    String::new()
                } else {
                    format!(" · {} undecodable", t.undecodable.len())
                }
            ));
        }
        let detail_height = if selected.is_some() { 180.0 } else { 0.0 };
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        let table_height = (ui.available_height() - detail_height).max(100.0);
        // Row clicks select; selectable labels would swallow them. Rows stay one line.
        ui.style_mut().interaction.selectable_labels = false;
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
        let mut table = TableBuilder::new(ui)
            .id_salt("timeline_table")
            .striped(true)
            .sense(egui::Sense::click())
            .max_scroll_height(table_height)
            .column(Column::auto().at_least(150.0))
            .column(Column::auto().at_least(100.0).clip(true))
            .column(Column::auto().at_least(80.0))
            .column(Column::remainder().clip(true));
        // Once, to the middle: a row scrolled just to the edge reads as not found, and scrolling
        // there every frame would pin the table.
        if let Some(row) = selected.filter(|_| self.scroll_to_selected) {
            table = table.scroll_to_row(row, Some(egui::Align::Center));
        }
        table
            .header(20.0, |mut header| {
                for title in ["Event time", "Topic", "Id", "Value"] {
                    header.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(row_height, events.len(), |mut row| {
                    let index = row.index();
                    let e = &events[index];
                    row.set_selected(selected == Some(index));
                    row.col(|ui| {
                        ui.label(format_timestamp(Some(e.event_ms)));
                    });
                    row.col(|ui| {
                        ui.colored_label(topic_color(&e.topic), &e.topic);
                    });
                    row.col(|ui| {
                        ui.label(ids.show(&e.id));
                    });
                    row.col(|ui| {
                        ui.add(
                            egui::Label::new(crate::codec::truncate_chars(
                                &event_summary(self.spec.as_deref(), &mask, e),
                                200,
                            ))
                            .truncate(),
                        );
                    });
                    if row.response().clicked() {
                        clicked = Some(index);
                    }
                });
            });
        if let Some(index) = selected.filter(|i| *i < events.len()) {
            let e = &events[index];
            ui.separator();
            ui.label(format!(
                "{}/{}@{} · event {} · broker {} · keyed by {}",
                e.topic,
                e.partition,
                e.offset,
                format_timestamp(Some(e.event_ms)),
                format_timestamp(Some(e.broker_ms)),
                ids.show(&e.id)
            ));
            let pretty =
                serde_json::to_string_pretty(&mask.apply(&e.topic, &e.value)).unwrap_or_default();
            // The rows above are cut to one line; the payload keeps its lines, scrolled both ways.
            egui::ScrollArea::both()
                .id_salt("event_detail")
                .auto_shrink([false, false])
                .max_height(detail_height)
                .show(ui, |ui| {
                    ui.add(
                        egui::Label::new(egui::RichText::new(pretty).monospace())
                            .wrap_mode(egui::TextWrapMode::Extend)
                            .selectable(true),
                    );
                });
        }
        if clicked.is_some() {
            self.selected = clicked;
        }
        self.scroll_to_selected = false;
    }
}

/// What a timeline row shows of an event: the spec's fields that its topic sets
/// (`email=*** · marketing=true`), masked, or its JSON when the spec names none.
fn event_summary(spec: Option<&Spec>, mask: &PiiMask, e: &Event) -> String {
    let value = mask.apply(&e.topic, &e.value);
    let fields: Vec<String> = spec
        .into_iter()
        .flat_map(|s| &s.fields)
        .filter(|f| f.topic == e.topic)
        .filter_map(|f| {
            let v = crate::profile::pointer(&value, &f.path)?;
            Some(format!("{}={v}", f.name))
        })
        .collect();
    if fields.is_empty() {
        value.to_string()
    } else {
        fields.join(" · ")
    }
}

/// A stable colour per topic, so the same stream looks the same everywhere.
pub fn topic_color(topic: &str) -> egui::Color32 {
    let hash = crate::profile::murmur2(topic.as_bytes());
    let hue = (hash % 360) as f32 / 360.0;
    egui::ecolor::Hsva::new(hue, 0.55, 0.85, 1.0).into()
}
