//! The Governance tab: the erasure verifier (the Profile tab's customer, or every erased one),
//! PII discovery per topic with the spec lines that would declare what it finds, and the
//! attribute × reader table from the cluster's ACLs.

use super::Command;
use super::groups::BUDGET_COLOR;
use crate::governance::{Access, ErasureCheck, ErasureVerdict, TopicPii};
use crate::profile::Spec;
use crate::time::format_timestamp;

#[derive(Default)]
pub struct GovernancePanel {
    pub erasures: Option<Vec<ErasureCheck>>,
    pub pii: Option<Vec<TopicPii>>,
    pub access: Option<Access>,
    /// What runs: "erasure", "pii" or "access".
    pub running: Option<&'static str>,
    pub error: Option<String>,
}

impl GovernancePanel {
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    pub fn started(&mut self, what: &'static str) {
        self.running = Some(what);
        self.error = None;
    }

    pub fn failed(&mut self, error: String) {
        self.running = None;
        self.error = Some(error);
    }

    pub fn ui(
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
                    commands.push(Command::CancelGovernance);
                }
            }
        });
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
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
                        commands.push(Command::VerifyErasure(Some(key.trim().to_owned())));
                    }
                    if ui
                        .add_enabled(idle, egui::Button::new("Verify every erased customer"))
                        .clicked()
                    {
                        commands.push(Command::VerifyErasure(None));
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
                        commands.push(Command::DiscoverPii);
                    }
                });
                if let Some(topics) = &self.pii {
                    pii_ui(ui, topics);
                }
                ui.separator();
                ui.horizontal_wrapped(|ui| {
                    ui.strong("Who can read which attribute");
                    if ui.add_enabled(idle, egui::Button::new("Read ACLs")).clicked() {
                        commands.push(Command::ReadAcls);
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
