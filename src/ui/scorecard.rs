//! The Scorecard tab: the domain's readiness as six cards coloured by verdict, each with its
//! condition, reasons and evidence (the same lines as `freshlens scorecard`), rows appearing as
//! they are scored in the background (progress and cancel in the status bar), a click on a card
//! opening the tab with its details, and *Export report…* as HTML or Markdown.

use std::any::Any;

use super::command::{Command, News};
use super::failure::Failure;
use super::jobs::{Jobs, PanelId};
use super::panel::{Busy, Cx, Panel, expect};
use super::session::Session;
use crate::profile::Spec;
use crate::scorecard::{Row, RowKind, ScoreRequest, ScoreStep, Scorecard, Verdict, details};
use crate::time::format_timestamp;

pub const ID: PanelId = "Scorecard";

/// The rows in the order they are scored and shown.
const ROWS: [RowKind; 6] = [
    RowKind::Freshness,
    RowKind::Rebuild,
    RowKind::Governance,
    RowKind::Elasticity,
    RowKind::Cost,
    RowKind::Migration,
];

pub enum Ask {
    Score,
    Cancel,
    Export { html: bool },
}

enum Answer {
    Scored(Result<Scorecard, Failure>),
}

#[derive(Default)]
pub struct ScorecardPanel {
    /// The rows scored so far, in order.
    pub rows: Vec<Row>,
    /// The whole scorecard, once every row is in.
    pub card: Option<Scorecard>,
    /// The row being scored.
    pub gathering: Option<RowKind>,
    pub running: bool,
    pub error: Option<Failure>,
    /// The spec (by name) the rows are of: a new spec is scored afresh.
    pub scored: Option<String>,
    /// Replay the sources for the rebuild row (the CLI's `--rehearse`).
    pub rehearse: bool,
    /// A `kafka-acls.sh --list` file read instead of the cluster's ACLs (the CLI's `--acls`).
    pub acls_path: String,
}

/// The tab with a row's details.
fn details_tab(kind: RowKind) -> PanelId {
    match kind {
        RowKind::Freshness | RowKind::Cost => super::overview::ID,
        RowKind::Rebuild => super::rebuild::ID,
        RowKind::Governance => super::governance::ID,
        RowKind::Elasticity => super::groups::ID,
        RowKind::Migration | RowKind::Compatibility => super::compare::ID,
    }
}

fn colour(verdict: Verdict) -> egui::Color32 {
    match verdict {
        Verdict::Pass => egui::Color32::from_rgb(46, 160, 80),
        Verdict::Fail => egui::Color32::from_rgb(220, 70, 60),
        Verdict::Unknown => egui::Color32::from_rgb(140, 145, 155),
    }
}

/// Whether `spec` states a contract the scorecard can hold rows to.
pub fn has_contract(spec: &Spec) -> bool {
    spec.contract != crate::profile::contract::Contract::default()
}

impl ScorecardPanel {
    /// Forgets the rows; the settings stay.
    fn clear(&mut self) {
        *self = Self {
            rehearse: self.rehearse,
            acls_path: std::mem::take(&mut self.acls_path),
            ..Self::default()
        };
    }

    fn draw(&mut self, ui: &mut egui::Ui, session: &Session) -> Vec<Command> {
        let mut commands = Vec::new();
        let (spec, connected) = (session.spec.as_deref(), session.connected());
        if session.demo_building || (!connected && spec.is_some() && self.rows.is_empty()) {
            ui.horizontal_wrapped(|ui| {
                super::busy::indicator(ui);
                ui.label("Waiting for the data: the scorecard is scored once it is read. On the demo, its first stale customer is explained already in the");
                if ui.link("Profile tab").clicked() {
                    commands.push(Command::Show(super::profile::ID));
                }
            });
            return commands;
        }
        let Some(spec) = spec else {
            ui.weak("Load a profile spec with a [contract] (Profile tab): this tab scores the domain's readiness row by row against it.");
            return commands;
        };
        ui.horizontal_wrapped(|ui| {
            ui.heading(format!("Readiness of {}", spec.name));
            ui.label(format!("budget {}", spec.budget));
            if let Some(card) = &self.card {
                ui.weak(format!("as of {}", format_timestamp(Some(card.as_of_ms))));
            }
            if self.running {
                super::busy::indicator(ui);
                let now = self.gathering.map_or("", RowKind::title);
                ui.label(format!("scoring {}…", now.to_lowercase()));
                if ui.button("Cancel").clicked() {
                    commands.push(Command::to(ID, Ask::Cancel));
                }
            } else if ui
                .add_enabled(connected, egui::Button::new("Score again"))
                .on_hover_text("Gather every row's evidence again")
                .clicked()
            {
                commands.push(Command::to(ID, Ask::Score));
            }
            if self.card.is_some() {
                if ui
                    .button("Export report…")
                    .on_hover_text(
                        "One self-contained HTML page: the rows, their evidence and plots",
                    )
                    .clicked()
                {
                    commands.push(Command::to(ID, Ask::Export { html: true }));
                }
                if ui.button("Export Markdown…").clicked() {
                    commands.push(Command::to(ID, Ask::Export { html: false }));
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut self.rehearse, "Rehearse the rebuild")
                .on_hover_text("Replay the sources for the rebuild row: a field rebuilt differently from the store fails it (takes as long as a replay)");
            let label = ui.label("ACLs from")
                .on_hover_text("A file of `kafka-acls.sh --list` output, for a cluster this client may not describe (or that answers none); empty: the cluster's");
            ui.add(
                egui::TextEdit::singleline(&mut self.acls_path)
                    .hint_text("kafka-acls --list output (optional)")
                    .desired_width(280.0),
            )
            .labelled_by(label.id);
        });
        if !has_contract(spec) {
            ui.weak("The spec states no [contract]: every row is unknown until it says what ready means (see the README's scorecard section).");
        }
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error.to_string());
        }
        let width = ui.available_width();
        let columns = if width >= 1200.0 { 3 } else { 2 };
        let gap = ui.spacing().item_spacing.x;
        let card_w = (width - gap * (columns as f32 - 1.0)) / columns as f32;
        let lines = ROWS.len().div_ceil(columns);
        let card_h =
            ((ui.available_height() - gap * (lines as f32 - 1.0)) / lines as f32).max(190.0);
        egui::ScrollArea::vertical()
            .id_salt("scorecard_scroll")
            .show(ui, |ui| {
                for chunk in ROWS.chunks(columns) {
                    ui.horizontal_top(|ui| {
                        for kind in chunk {
                            let size = egui::vec2(card_w, card_h);
                            let layout = egui::Layout::top_down(egui::Align::Min);
                            ui.allocate_ui_with_layout(size, layout, |ui| {
                                let row = self.rows.iter().find(|r| r.row == *kind);
                                let scoring = self.gathering == Some(*kind);
                                commands.extend(card_ui(ui, size, *kind, row, scoring));
                            });
                        }
                    });
                }
            });
        commands
    }
}

/// One card: its frame in the verdict's colour, the condition, the reasons, the evidence.
fn card_ui(
    ui: &mut egui::Ui,
    size: egui::Vec2,
    kind: RowKind,
    row: Option<&Row>,
    scoring: bool,
) -> Vec<Command> {
    let mut commands = Vec::new();
    let verdict_colour = row.map_or(ui.visuals().weak_text_color(), |r| colour(r.verdict));
    let frame = egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(2.0, verdict_colour))
        .fill(verdict_colour.gamma_multiply(0.08))
        .inner_margin(egui::Margin::same(8));
    // The frame's margin and stroke are outside the size its contents are given.
    let inner = size - egui::vec2(20.0, 20.0);
    frame.show(ui, |ui| {
        ui.set_min_size(inner);
        ui.set_max_size(inner);
        ui.horizontal(|ui| {
            ui.strong(egui::RichText::new(kind.title()).size(17.0));
            match row {
                Some(r) => {
                    ui.label(
                        egui::RichText::new(format!(" {} ", r.verdict.word()))
                            .strong()
                            .color(egui::Color32::WHITE)
                            .background_color(colour(r.verdict)),
                    );
                }
                None if scoring => {
                    super::busy::indicator(ui);
                    ui.weak("scoring…");
                }
                None => {
                    ui.weak("waiting");
                }
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let tab = details_tab(kind);
                if ui
                    .link(format!("{tab} ›"))
                    .on_hover_text(format!("Open the {tab} tab with this row's details"))
                    .clicked()
                {
                    commands.push(Command::Show(tab));
                }
            });
        });
        let Some(row) = row else { return };
        ui.add(
            egui::Label::new(
                egui::RichText::new(format!("Passes when {}.", row.condition))
                    .small()
                    .weak(),
            )
            .wrap(),
        );
        egui::ScrollArea::vertical()
            .id_salt(("scorecard_card", kind.title()))
            .auto_shrink([false, false])
            .show(ui, |ui| {
                let error = ui.visuals().error_fg_color;
                for reason in &row.reasons {
                    let text = egui::RichText::new(format!("• {reason}"));
                    let text = if row.verdict == Verdict::Fail {
                        text.color(error)
                    } else {
                        text
                    };
                    ui.add(egui::Label::new(text).wrap());
                }
                // The row's tables come first (what the verdict turns on); the card scrolls.
                for line in details(row) {
                    ui.add(egui::Label::new(egui::RichText::new(line).small()).wrap());
                }
            });
    });
    commands
}

impl ScorecardPanel {
    fn start(&mut self, cx: &mut Cx<'_>) {
        let (Some(source), Some(spec)) = (cx.session.source.clone(), cx.session.spec.clone())
        else {
            return;
        };
        self.clear();
        self.running = true;
        self.scored = Some(spec.name.clone());
        let decoding = cx.session.decoding();
        let timeout = cx.session.timeout;
        let seen = std::sync::Arc::clone(&cx.session.commits_seen);
        let (rehearse, acls_path) = (self.rehearse, self.acls_path.trim().to_owned());
        cx.jobs.start(ID, "score", move |reply| {
            let result = decoding.decoder(&spec).and_then(|decoder| {
                let acls = read_acls(&acls_path)?;
                let request = ScoreRequest {
                    sample: crate::freshness::DEFAULT_SAMPLE,
                    seed: 1,
                    timeout,
                    acls,
                    target: None,
                    rehearse,
                    seen: seen.to_vec(),
                };
                let on_step = |step: ScoreStep| reply.send(step);
                crate::scorecard::score(
                    source.as_ref(),
                    &spec,
                    &decoder,
                    &request,
                    &reply.cancel,
                    &on_step,
                )
                .map_err(Failure::from)
            });
            Answer::Scored(result)
        });
    }

    fn step(&mut self, step: ScoreStep) {
        match step {
            ScoreStep::Gathering(kind) => self.gathering = Some(kind),
            ScoreStep::Row(row) => {
                self.rows.retain(|r| r.row != row.row);
                self.rows.push(row);
                self.gathering = None;
            }
        }
    }
}

/// The ACL listing at `path`, named for the evidence; `None` for an empty path.
fn read_acls(path: &str) -> Result<Option<(String, Vec<crate::cluster::Acl>)>, Failure> {
    if path.is_empty() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::msg(format!("reading ACLs from {path}: {e}")))?;
    let acls = crate::governance::parse_kafka_acls(&text)
        .map_err(|e| Failure::msg(format!("reading ACLs from {path}: {e}")))?;
    Ok(Some((format!("the kafka-acls listing {path}"), acls)))
}

impl Panel for ScorecardPanel {
    fn id(&self) -> PanelId {
        ID
    }

    fn ui(&mut self, ui: &mut egui::Ui, session: &Session, out: &mut Vec<Command>) {
        out.extend(self.draw(ui, session));
    }

    fn ask(&mut self, ask: Box<dyn Any + Send>, cx: &mut Cx<'_>) {
        match expect::<Ask>(ask, ID) {
            Some(Ask::Score) => self.start(cx),
            Some(Ask::Cancel) if cx.jobs.cancel(ID, "score") => {
                self.running = false;
                self.gathering = None;
                self.error = Some(Failure::msg(
                    "cancelled: the rows shown were scored before it",
                ));
            }
            Some(Ask::Cancel) => {}
            Some(Ask::Export { html }) => {
                if let Some(card) = &self.card {
                    let (text, file_name) = if html {
                        (crate::scorecard::html(card), "scorecard.html")
                    } else {
                        (crate::scorecard::markdown(card), "scorecard.md")
                    };
                    cx.out.push(Command::SaveText {
                        title: "Export the scorecard",
                        file_name: file_name.into(),
                        text,
                    });
                }
            }
            None => {}
        }
    }

    fn take(&mut self, message: Box<dyn Any + Send>, _cx: &mut Cx<'_>) {
        let message = match message.downcast::<ScoreStep>() {
            Ok(step) => return self.step(*step),
            Err(message) => message,
        };
        if let Some(Answer::Scored(result)) = expect::<Answer>(message, ID) {
            self.running = false;
            self.gathering = None;
            match result {
                Ok(card) => {
                    self.rows = card.rows.clone();
                    self.card = Some(card);
                }
                Err(e) => self.error = Some(e),
            }
            crate::memory::give_back();
        }
    }

    fn observe(&mut self, news: &News, cx: &mut Cx<'_>) {
        if matches!(news, News::SourceChanged | News::SpecChanged) {
            // A scoring of the old spec must not land under the new one.
            cx.jobs.cancel(ID, "score");
            self.clear();
        }
    }

    /// Scores the domain when the tab is open on a spec it has not scored.
    fn tick(&mut self, cx: &mut Cx<'_>, in_view: bool) {
        let due = in_view
            && cx.session.connected()
            && !self.running
            && self.error.is_none()
            && cx
                .session
                .spec
                .as_ref()
                .is_some_and(|spec| self.scored.as_deref() != Some(&spec.name));
        if due {
            self.start(cx);
        }
    }

    fn busy(&self, jobs: &Jobs) -> Option<Busy> {
        Some(Busy {
            progress: None,
            running: jobs.running(ID, "score"),
            cancel: Command::to(ID, Ask::Cancel),
        })
    }
}
