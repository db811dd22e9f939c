//! The Governance tab: the erasure verifier (the Profile tab's customer, or every erased one),
//! PII discovery per topic with the spec lines that would declare what it finds, and the
//! attribute × reader table from the cluster's ACLs.

use std::any::Any;

use super::command::{Command, News};
use super::failure::Failure;
use super::groups::BUDGET_COLOR;
use super::jobs::PanelId;
use super::panel::{Cx, Panel, expect};
use super::session::Session;
use crate::governance::{Access, ErasureCheck, ErasureVerdict, TopicPii};
use crate::profile::Spec;
use crate::time::format_timestamp;

pub const ID: PanelId = "Governance";

/// What the Governance tab asks for.
enum Task {
    /// One customer's erasure, or every erased customer's.
    Erasure(Option<String>),
    Pii,
    Access,
}

impl Task {
    fn what(&self) -> &'static str {
        match self {
            Self::Erasure(_) => "erasure",
            Self::Pii => "PII discovery",
            Self::Access => "reading ACLs",
        }
    }
}

enum Ask {
    Run(Task),
    Cancel,
}

/// What a task found.
enum Governed {
    Erasures(Vec<ErasureCheck>),
    Pii(Vec<TopicPii>),
    Access(Access),
}

use crate::governance::{
    DEFAULT_ERASURE_DEADLINE_MS as ERASURE_DEADLINE_MS, DEFAULT_PII_SAMPLE as PII_SAMPLE,
};

#[derive(Default)]
pub struct GovernancePanel {
    pub erasures: Option<Vec<ErasureCheck>>,
    pub pii: Option<Vec<TopicPii>>,
    pub access: Option<Access>,
    /// What runs: "erasure", "pii" or "access".
    pub running: Option<&'static str>,
    pub error: Option<Failure>,
}

impl GovernancePanel {
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    pub fn started(&mut self, what: &'static str) {
        self.running = Some(what);
        self.error = None;
    }

    pub fn failed(&mut self, error: Failure) {
        self.running = None;
        self.error = Some(error);
    }

    fn draw(
        &mut self,
        ui: &mut egui::Ui,
        spec: Option<&Spec>,
        key: &str,
        connected: bool,
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        let Some(spec) = spec else {
            ui.weak("Load a profile spec in the Profile tab: erasures, personal data and readers are judged against it.");
            return commands;
        };
        let idle = connected && self.running.is_none();
        ui.horizontal_wrapped(|ui| {
            ui.heading("Governance");
            if let Some(what) = self.running {
                super::busy::indicator(ui);
                ui.label(format!("{what} running…"));
                if ui.button("Cancel").clicked() {
                    commands.push(Command::to(ID, Ask::Cancel));
                }
            }
        });
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error.to_string());
        }
        egui::ScrollArea::vertical()
            .id_salt("governance_scroll")
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.strong("Erasures");
                    let erasable = spec.sources.iter().any(|s| s.erase_when.is_some());
                    if !erasable {
                        ui.weak("the spec has no erase_when: no event erases a customer");
                        return;
                    }
                    let one = !key.trim().is_empty();
                    let label = if one {
                        format!("Verify {}", key.trim())
                    } else {
                        "Verify a customer (look one up first)".to_owned()
                    };
                    if ui
                        .add_enabled(idle && one, egui::Button::new(label))
                        .on_hover_text("The Profile tab's customer")
                        .clicked()
                    {
                        commands.push(Command::to(ID, Ask::Run(Task::Erasure(Some(key.trim().to_owned())))));
                    }
                    if ui
                        .add_enabled(idle, egui::Button::new("Verify every erased customer"))
                        .clicked()
                    {
                        commands.push(Command::to(ID, Ask::Run(Task::Erasure(None))));
                    }
                });
                if let Some(checks) = &self.erasures {
                    erasures_ui(ui, checks, &mut commands);
                }
                ui.separator();
                ui.horizontal_wrapped(|ui| {
                    ui.strong("Personal data in the spec's topics");
                    if ui
                        .add_enabled(idle, egui::Button::new("Discover"))
                        .on_hover_text("Sample 1,000 records of each source topic and find e-mails, phones, IPs, cards, IBANs and telling field names")
                        .clicked()
                    {
                        commands.push(Command::to(ID, Ask::Run(Task::Pii)));
                    }
                });
                if let Some(topics) = &self.pii {
                    pii_ui(ui, topics);
                }
                ui.separator();
                ui.horizontal_wrapped(|ui| {
                    ui.strong("Who can read which attribute");
                    if ui.add_enabled(idle, egui::Button::new("Read ACLs")).clicked() {
                        commands.push(Command::to(ID, Ask::Run(Task::Access)));
                    }
                });
                if let Some(access) = &self.access {
                    access_ui(ui, access);
                }
            });
        commands
    }
}

fn verdict_color(ui: &egui::Ui, verdict: ErasureVerdict) -> egui::Color32 {
    match verdict {
        ErasureVerdict::Violation | ErasureVerdict::Unverified => BUDGET_COLOR,
        ErasureVerdict::Expiring => ui.visuals().warn_fg_color,
        ErasureVerdict::Clean => egui::Color32::from_rgb(80, 180, 100),
    }
}

fn erasures_ui(ui: &mut egui::Ui, checks: &[ErasureCheck], commands: &mut Vec<Command>) {
    if checks.is_empty() {
        ui.label("No erasure events found.");
        return;
    }
    ui.label(format!(
        "{} customers: {} unverified, {} violations, {} expiring, {} clean",
        checks.len(),
        checks
            .iter()
            .filter(|c| c.verdict == ErasureVerdict::Unverified)
            .count(),
        checks
            .iter()
            .filter(|c| c.verdict == ErasureVerdict::Violation)
            .count(),
        checks
            .iter()
            .filter(|c| c.verdict == ErasureVerdict::Expiring)
            .count(),
        checks
            .iter()
            .filter(|c| c.verdict == ErasureVerdict::Clean)
            .count(),
    ));
    // A long list keeps the sections below it in reach.
    egui::ScrollArea::vertical()
        .id_salt("governance_erasures_scroll")
        .max_height(280.0)
        .auto_shrink([false, true])
        .show(ui, |ui| erasure_rows(ui, checks, commands));
}

fn erasure_rows(ui: &mut egui::Ui, checks: &[ErasureCheck], commands: &mut Vec<Command>) {
    egui::Grid::new("governance_erasures")
        .striped(true)
        .num_columns(4)
        .show(ui, |ui| {
            for h in ["customer", "verdict", "erased", "why"] {
                ui.weak(h);
            }
            ui.end_row();
            for c in checks {
                if ui
                    .link(&c.key)
                    .on_hover_text(c.identities.join(", "))
                    .clicked()
                {
                    commands.push(Command::OpenCustomer(c.key.clone()));
                }
                ui.colored_label(verdict_color(ui, c.verdict), c.verdict.to_string());
                ui.label(format_timestamp(c.erased_at_ms));
                let details: Vec<String> = c
                    .leftovers
                    .iter()
                    .map(|l| {
                        format!(
                            "{}/{}: {} records, pii [{}], expires {}",
                            l.topic,
                            l.partition,
                            l.records,
                            l.pii_fields.join(", "),
                            l.expires_by_ms
                                .map_or("never".into(), |ms| format_timestamp(Some(ms)))
                        )
                    })
                    .collect();
                ui.add(egui::Label::new(&c.reason).wrap())
                    .on_hover_text(if details.is_empty() {
                        "nothing left before the erasure".to_owned()
                    } else {
                        details.join("\n")
                    });
                ui.end_row();
            }
        });
}

fn pii_ui(ui: &mut egui::Ui, topics: &[TopicPii]) {
    for t in topics {
        ui.label(format!("{}: {} records sampled", t.topic, t.sampled));
        if t.fields.is_empty() {
            ui.weak("  no personal data found");
            continue;
        }
        egui::Grid::new(("governance_pii", &t.topic))
            .striped(true)
            .num_columns(5)
            .show(ui, |ui| {
                for f in &t.fields {
                    ui.monospace(if f.path.is_empty() {
                        "(whole value)"
                    } else {
                        &f.path
                    });
                    ui.label(f.kind.to_string());
                    ui.label(format!("{:.0}%", f.share * 100.0));
                    if f.declared {
                        ui.label("declared pii");
                    } else {
                        ui.colored_label(BUDGET_COLOR, "not declared");
                    }
                    ui.horizontal(|ui| {
                        ui.weak(f.examples.join(", "));
                        if let Some(lines) = &f.spec_lines
                            && ui
                                .small_button("Add to spec")
                                .on_hover_text(format!("Copy the spec lines:\n{lines}"))
                                .clicked()
                        {
                            ui.ctx().copy_text(lines.clone());
                        }
                    });
                    ui.end_row();
                }
            });
    }
}

fn access_ui(ui: &mut egui::Ui, access: &Access) {
    ui.label(&access.note);
    egui::Grid::new("governance_access")
        .striped(true)
        .num_columns(4)
        .show(ui, |ui| {
            for h in ["attribute", "topic", "pii", "readers"] {
                ui.weak(h);
            }
            ui.end_row();
            for a in &access.attributes {
                ui.label(&a.field);
                ui.label(&a.topic);
                ui.label(if a.pii { "PII" } else { "" });
                ui.label(a.readers_text());
                ui.end_row();
            }
        });
}

impl GovernancePanel {
    fn start(&mut self, cx: &mut Cx<'_>, task: Task) {
        let (Some(source), Some(spec)) = (cx.session.source.clone(), cx.session.spec.clone())
        else {
            return;
        };
        self.started(task.what());
        let decoding = cx.session.decoding();
        cx.jobs.start(ID, "task", move |reply| {
            let source = source.as_ref();
            let cancel = &reply.cancel;
            let decoder = decoding.decoder(&spec)?;
            let found = match task {
                Task::Erasure(key) => crate::governance::verify_erasures(
                    source,
                    &spec,
                    &decoder,
                    key.as_deref(),
                    ERASURE_DEADLINE_MS,
                    cancel,
                )
                .map(Governed::Erasures),
                Task::Pii => spec
                    .sources
                    .iter()
                    .map(|src| {
                        crate::governance::discover(
                            source,
                            &src.topic,
                            Some(&spec),
                            Some(&decoder),
                            PII_SAMPLE,
                            cancel,
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Governed::Pii),
                Task::Access => source
                    .describe_acls()
                    .map(|answer| Governed::Access(crate::governance::access(&spec, &answer))),
            };
            found.map_err(Failure::from)
        });
    }
}

impl Panel for GovernancePanel {
    fn id(&self) -> PanelId {
        ID
    }

    fn ui(&mut self, ui: &mut egui::Ui, session: &Session, out: &mut Vec<Command>) {
        out.extend(self.draw(
            ui,
            session.spec.as_deref(),
            &session.key,
            session.connected(),
        ));
    }

    fn ask(&mut self, ask: Box<dyn Any + Send>, cx: &mut Cx<'_>) {
        match expect::<Ask>(ask, ID) {
            Some(Ask::Run(task)) => self.start(cx, task),
            Some(Ask::Cancel) if cx.jobs.cancel(ID, "task") => {
                self.failed(Failure::msg("cancelled"))
            }
            Some(Ask::Cancel) | None => {}
        }
    }

    fn take(&mut self, message: Box<dyn Any + Send>, _cx: &mut Cx<'_>) {
        let Some(result) = expect::<Result<Governed, Failure>>(message, ID) else {
            return;
        };
        self.running = None;
        match result {
            Ok(Governed::Erasures(checks)) => self.erasures = Some(checks),
            Ok(Governed::Pii(topics)) => self.pii = Some(topics),
            Ok(Governed::Access(access)) => self.access = Some(access),
            Err(e) => self.failed(e),
        }
    }

    fn observe(&mut self, news: &News, _cx: &mut Cx<'_>) {
        if *news == News::SourceChanged {
            self.clear();
        }
    }
}
