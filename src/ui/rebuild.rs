//! The Rebuild tab: can the spec's store be rebuilt from what the cluster retains. The
//! readiness table (looked at when the tab opens), *Rehearse* (all partitions or a slice) with
//! progress and cancel, and the result by field and class with example customers (click →
//! Profile tab) and the time estimate.

use std::any::Any;

use super::command::{Command, News};
use super::failure::Failure;
use super::groups::BUDGET_COLOR;
use super::jobs::PanelId;
use super::panel::{Cx, Panel, expect};
use super::session::Session;
use crate::cluster::ScanProgress;
use crate::profile::Spec;
use crate::rebuild::{Class, Readiness, Rehearsal};
use crate::time::{format_duration_ms, format_timestamp};

pub const ID: PanelId = "Rebuild";

/// What the Rebuild tab's buttons ask.
enum Ask {
    Readiness,
    /// Every partition, or a slice.
    Rehearse(Option<Vec<i32>>),
    Cancel,
}

/// What its jobs answer.
enum Answer {
    Readiness(String, Result<Readiness, Failure>),
    Rehearsed(Result<Rehearsal, Failure>),
}

#[derive(Default)]
pub struct RebuildPanel {
    pub readiness: Option<Readiness>,
    pub rehearsal: Option<Rehearsal>,
    pub progress: Option<ScanProgress>,
    /// What runs: "readiness" or "rehearsal".
    pub running: Option<&'static str>,
    pub error: Option<Failure>,
    /// The slice to rehearse, as typed ("0,5"; empty: every partition).
    pub partitions: String,
    /// The spec the readiness shown is of.
    pub looked_at: Option<String>,
}

impl RebuildPanel {
    pub fn clear(&mut self) {
        let partitions = std::mem::take(&mut self.partitions);
        *self = Self {
            partitions,
            ..Self::default()
        };
    }

    pub fn started(&mut self, what: &'static str) {
        self.running = Some(what);
        self.progress = None;
        self.error = None;
        if what == "rehearsal" {
            self.rehearsal = None;
        }
    }

    pub fn readiness_done(&mut self, spec: &str, result: Result<Readiness, Failure>) {
        self.running = None;
        self.looked_at = Some(spec.to_owned());
        match result {
            Ok(r) => self.readiness = Some(r),
            Err(e) => self.error = Some(e),
        }
    }

    pub fn rehearsal_done(&mut self, result: Result<Rehearsal, Failure>) {
        self.running = None;
        self.progress = None;
        match result {
            Ok(r) => self.rehearsal = Some(r),
            Err(e) => self.error = Some(e),
        }
    }

    /// The slice typed, or why it is not one.
    fn slice(&self) -> Result<Option<Vec<i32>>, String> {
        let text = self.partitions.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.split(',')
            .map(|p| {
                p.trim()
                    .parse::<i32>()
                    .map_err(|_| format!("{p:?} is not a partition number"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn draw(&mut self, ui: &mut egui::Ui, spec: Option<&Spec>, connected: bool) -> Vec<Command> {
        let mut commands = Vec::new();
        let Some(spec) = spec else {
            ui.weak("Load a profile spec in the Profile tab: this tab says whether its store can be rebuilt from the events the cluster retains.");
            return commands;
        };
        if spec.store.is_none() {
            ui.weak(format!(
                "The spec {} has no [store]: there is no store to rebuild.",
                spec.name
            ));
            return commands;
        }
        ui.horizontal_wrapped(|ui| {
            ui.heading(format!("Rebuild the {} store", spec.name));
            if self.running.is_none()
                && ui
                    .add_enabled(connected, egui::Button::new("Look again"))
                    .on_hover_text(
                        "Read the topics' retention and measure the read throughput again",
                    )
                    .clicked()
            {
                commands.push(Command::to(ID, Ask::Readiness));
            }
        });
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error.to_string());
        }
        egui::ScrollArea::vertical()
            .id_salt("rebuild_scroll")
            .show(ui, |ui| {
                match &self.readiness {
                    Some(r) => readiness_ui(ui, r),
                    None if self.running == Some("readiness") => {
                        ui.horizontal(|ui| {
                            super::busy::indicator(ui);
                            ui.label("Reading what the topics retain, and timing a short read…");
                        });
                    }
                    None => {}
                }
                ui.separator();
                self.rehearse_ui(ui, connected, &mut commands);
                if let Some(r) = &self.rehearsal {
                    rehearsal_ui(ui, r, &mut commands);
                }
            });
        commands
    }

    fn rehearse_ui(&mut self, ui: &mut egui::Ui, connected: bool, commands: &mut Vec<Command>) {
        ui.horizontal_wrapped(|ui| {
            ui.strong("Rehearsal");
            ui.label("Partitions");
            ui.add(
                egui::TextEdit::singleline(&mut self.partitions)
                    .hint_text("all")
                    .desired_width(80.0),
            )
            .on_hover_text(
                "Rehearse only the customers whose key hashes to these partitions (e.g. 0,5); \
                 the counts are scaled to the whole store",
            );
            let slice = self.slice();
            if let Err(e) = &slice {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            if self.running == Some("rehearsal") {
                super::busy::indicator(ui);
                // The replay's own total: the records of the partitions it reads, the same
                // count its result gives.
                let expected = self.progress.as_ref().map_or(0, |p| p.to_scan);
                let read = self.progress.as_ref().map_or(0, |p| p.scanned);
                let fraction = if expected > 0 {
                    (read as f32 / expected as f32).min(1.0)
                } else {
                    0.0
                };
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .desired_width(300.0)
                        .text(format!("{read} of {expected} source records")),
                );
                if ui.button("Cancel").clicked() {
                    commands.push(Command::to(ID, Ask::Cancel));
                }
            } else if ui
                .add_enabled(
                    connected && slice.is_ok() && self.running.is_none(),
                    egui::Button::new("Rehearse"),
                )
                .on_hover_text(
                    "Replay every retained event, fold every customer and compare with the store",
                )
                .clicked()
                && let Ok(slice) = slice
            {
                commands.push(Command::to(ID, Ask::Rehearse(slice)));
            }
        });
    }
}

fn readiness_ui(ui: &mut egui::Ui, r: &Readiness) {
    let unknown = || "unknown".to_owned();
    egui::Grid::new("rebuild_topics")
        .striped(true)
        .num_columns(8)
        .show(ui, |ui| {
            for h in [
                "topic",
                "partitions",
                "records",
                "MB",
                "cleanup",
                "retention",
                "retention bytes",
                "oldest record",
            ] {
                ui.weak(h);
            }
            ui.end_row();
            for t in &r.topics {
                ui.label(&t.topic);
                ui.label(t.partitions.to_string());
                ui.label(t.records.to_string());
                ui.label(
                    t.bytes
                        .map_or(unknown(), |b| format!("{:.1}", b as f64 / 1e6)),
                )
                .on_hover_text("estimated from the mean record size of the timed read");
                ui.label(t.cleanup_policy.clone().unwrap_or_else(unknown));
                ui.label(t.retention_ms.map_or(unknown(), |ms| {
                    if ms < 0 {
                        "forever".into()
                    } else {
                        format_duration_ms(ms)
                    }
                }));
                ui.label(t.retention_bytes.map_or(unknown(), |b| b.to_string()));
                ui.label(format_timestamp(t.oldest_ms));
                ui.end_row();
            }
        });
    ui.label(format!(
        "The store's oldest version: {}",
        format_timestamp(r.store_oldest_ms)
    ));
    ui.add_space(4.0);
    egui::Grid::new("rebuild_fields")
        .striped(true)
        .num_columns(3)
        .show(ui, |ui| {
            for h in ["field", "rebuild", "why"] {
                ui.weak(h);
            }
            ui.end_row();
            for f in &r.fields {
                ui.label(&f.field);
                if f.exact {
                    ui.label("exact");
                } else {
                    ui.colored_label(BUDGET_COLOR, "not exact");
                }
                ui.label(&f.reason);
                ui.end_row();
            }
        });
    let e = &r.estimate;
    let with = e.with_consumers_text();
    ui.label(format!(
        "Replay: {} records ({:.1} MB), about {} with {} consumers at {:.0} records/s; with N consumers {}",
        e.records,
        e.bytes as f64 / 1e6,
        crate::time::format_seconds(e.seconds),
        e.consumers,
        e.read_records_per_s,
        with
    ))
    .on_hover_text(format!("Measured by {}", e.measured));
}

fn rehearsal_ui(ui: &mut egui::Ui, r: &Rehearsal, commands: &mut Vec<Command>) {
    let slice = r
        .partitions
        .as_ref()
        .map(|p| {
            format!(
                " of partitions {p:?} ({:.0}% of customers)",
                r.share * 100.0
            )
        })
        .unwrap_or_default();
    // Two lines, the measured rate apart: a rate's digits must not move the rest.
    ui.label(format!(
        "Rehearsed{slice}: {} customers, {} match the store{}",
        r.customers,
        r.matches,
        if r.cancelled {
            ", cancelled: these are the customers read so far"
        } else {
            ""
        }
    ));
    ui.weak(format!(
        "{} source records replayed in {:.1} s ({:.0} records/s, {:.1} MB/s); {} store versions and {} link records read beside them",
        r.records,
        r.seconds,
        r.records_per_s,
        r.mb_per_s,
        r.store_records,
        r.link_records,
    ));
    if let Some(whole) = &r.whole {
        ui.label(format!(
            "Scaled to the whole store: about {:.0} customers, {:.0} matching",
            whole.customers, whole.matches
        ));
    }
    for (n, what) in [
        (r.undecodable_records, "source records could not be decoded"),
        (r.keyless_records, "source records had no key"),
        (
            r.undecodable_store_versions,
            "store versions could not be decoded",
        ),
    ] {
        if n > 0 {
            ui.colored_label(ui.visuals().warn_fg_color, format!("skipped: {n} {what}"));
        }
    }
    egui::Grid::new("rebuild_result")
        .striped(true)
        .num_columns(5)
        .show(ui, |ui| {
            for h in [
                "field",
                "store ahead",
                "store behind",
                "different",
                "examples (click to look up)",
            ] {
                ui.weak(h);
            }
            ui.end_row();
            for (name, f) in &r.fields {
                ui.label(name);
                for (n, hint) in [
                    (
                        f.store_ahead,
                        "the store reflects events no longer retained: a rebuild would regress it",
                    ),
                    (
                        f.store_behind,
                        "the builder has not applied retained events",
                    ),
                    (
                        f.different,
                        "neither: a builder bug or a spec the builder does not follow",
                    ),
                ] {
                    if n > 0 {
                        ui.colored_label(BUDGET_COLOR, n.to_string())
                            .on_hover_text(hint);
                    } else {
                        ui.label("0").on_hover_text(hint);
                    }
                }
                ui.horizontal_wrapped(|ui| {
                    for e in &f.examples {
                        let short = match e.class {
                            Class::StoreAhead => "ahead",
                            Class::StoreBehind => "behind",
                            Class::Different => "different",
                        };
                        let shown = |v: &Option<serde_json::Value>| {
                            v.as_ref().map_or("-".into(), |v| v.to_string())
                        };
                        if ui
                            .link(format!("{} ({short})", e.key))
                            .on_hover_text(format!(
                                "rebuilt {}, served {}",
                                shown(&e.rebuilt),
                                shown(&e.served)
                            ))
                            .clicked()
                        {
                            commands.push(Command::OpenCustomer(e.key.clone()));
                        }
                    }
                });
                ui.end_row();
            }
        });
}

impl RebuildPanel {
    /// Readiness (`None`) or a rehearsal of every partition or a slice, in the background.
    fn start(&mut self, cx: &mut Cx<'_>, rehearse: Option<Option<Vec<i32>>>) {
        let (Some(source), Some(spec)) = (cx.session.source.clone(), cx.session.spec.clone())
        else {
            return;
        };
        let Some(partitions) = rehearse else {
            self.started("readiness");
            return cx.jobs.start(ID, "work", move |reply| {
                let result = crate::rebuild::readiness(source.as_ref(), &spec, &reply.cancel)
                    .map_err(Failure::from);
                Answer::Readiness(spec.name.clone(), result)
            });
        };
        self.started("rehearsal");
        let decoding = cx.session.decoding();
        cx.jobs.start(ID, "work", move |reply| {
            let on_progress = |progress: ScanProgress| reply.send(progress);
            let result = decoding.decoder(&spec).and_then(|decoder| {
                let request = crate::rebuild::RehearseRequest {
                    partitions,
                    examples: 5,
                    reveal_pii: false,
                };
                crate::rebuild::rehearse(
                    source.as_ref(),
                    &spec,
                    &decoder,
                    &request,
                    &reply.cancel,
                    &on_progress,
                )
                .map_err(Failure::from)
            });
            Answer::Rehearsed(result)
        });
    }
}

impl Panel for RebuildPanel {
    fn id(&self) -> PanelId {
        ID
    }

    fn ui(&mut self, ui: &mut egui::Ui, session: &Session, out: &mut Vec<Command>) {
        out.extend(self.draw(ui, session.spec.as_deref(), session.connected()));
    }

    fn ask(&mut self, ask: Box<dyn Any + Send>, cx: &mut Cx<'_>) {
        match expect::<Ask>(ask, ID) {
            Some(Ask::Readiness) => self.start(cx, None),
            Some(Ask::Rehearse(slice)) => self.start(cx, Some(slice)),
            Some(Ask::Cancel) if cx.jobs.cancel(ID, "work") => {
                self.rehearsal_done(Err(Failure::msg("cancelled")));
            }
            Some(Ask::Cancel) | None => {}
        }
    }

    fn take(&mut self, message: Box<dyn Any + Send>, _cx: &mut Cx<'_>) {
        let message = match message.downcast::<ScanProgress>() {
            Ok(progress) => return self.progress = Some(*progress),
            Err(message) => message,
        };
        match expect::<Answer>(message, ID) {
            Some(Answer::Readiness(spec, result)) => self.readiness_done(&spec, result),
            Some(Answer::Rehearsed(result)) => {
                self.rehearsal_done(result);
                crate::memory::give_back();
            }
            None => {}
        }
    }

    fn observe(&mut self, news: &News, _cx: &mut Cx<'_>) {
        if matches!(news, News::SourceChanged | News::SpecChanged) {
            self.clear();
        }
    }

    /// Looks at readiness when the tab is open on a spec it has not seen.
    fn tick(&mut self, cx: &mut Cx<'_>, in_view: bool) {
        let due = in_view
            && cx.session.connected()
            && !cx.jobs.running(ID, "work")
            && self.error.is_none()
            && cx.session.spec.as_ref().is_some_and(|spec| {
                spec.store.is_some() && self.looked_at.as_deref() != Some(&spec.name)
            });
        if due {
            self.start(cx, None);
        }
    }
}
