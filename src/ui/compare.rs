//! The Compare tab: the connected cluster (the source) beside a second one (the target) for a
//! migration: the topics on both sides, the groups translated through MirrorMaker 2's
//! checkpoints with what a cutover would replay or skip, the Profile tab's customer on both
//! sides as two aligned timelines, and the verdict.

use std::any::Any;

use super::command::{Command, News};
use super::failure::Failure;
use super::groups::BUDGET_COLOR;
use super::jobs::PanelId;
use super::panel::{Cx, Panel, expect};
use super::session::Session;
use crate::migrate::Comparison;
use crate::time::format_timestamp;

#[derive(Default, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CompareSettings {
    /// The target's bootstrap servers.
    pub target: String,
    /// A saved cluster the target connection starts from (its properties, its secret source).
    pub saved: String,
    /// `{topic}` pattern; empty: detected.
    pub rename: String,
    /// Comma-separated groups; empty: every group.
    pub groups: String,
}

pub const ID: PanelId = "Compare";

#[derive(Default)]
pub struct ComparePanel {
    /// Saved between runs.
    pub settings: CompareSettings,
    pub result: Option<Comparison>,
    pub running: bool,
    pub error: Option<Failure>,
    /// The target's librdkafka properties, `key=value` a line. Never saved: they may hold
    /// secrets.
    pub properties: String,
    /// The password of a saved cluster that asks for one. Never saved.
    pub password: String,
}

/// The target connection as the tab describes it; the connection is made in the background.
pub struct TargetAsk {
    pub address: String,
    pub saved: Option<crate::cluster::saved::SavedCluster>,
    pub password: Option<String>,
    pub properties: Vec<String>,
}

impl TargetAsk {
    pub fn config(&self) -> Result<crate::cluster::ConnectionConfig, String> {
        let mut config = match &self.saved {
            Some(saved) => saved
                .to_config(self.password.as_deref())
                .map_err(|e| e.to_string())?,
            None => crate::cluster::ConnectionConfig::new(self.address.clone()),
        };
        if !self.address.trim().is_empty() {
            config.bootstrap = self.address.trim().to_owned();
        }
        config
            .with_property_args(self.properties.iter().map(String::as_str))
            .map_err(|e| e.to_string())
    }
}

/// Stop the running comparison.
pub struct CancelCompare;

/// What the Compare button asks for.
pub struct CompareAsk {
    pub target: TargetAsk,
    pub rename: Option<String>,
    pub groups: Vec<String>,
    /// Compare the Profile tab's customer too.
    pub customer: bool,
}

impl ComparePanel {
    pub fn done(&mut self, result: Result<Comparison, Failure>) {
        self.running = false;
        match result {
            Ok(found) => {
                self.result = Some(found);
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    fn draw(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut CompareSettings,
        (connected, key, saved): (bool, &str, &crate::cluster::saved::SavedClusters),
    ) -> Vec<Command> {
        let mut commands = Vec::new();
        let chosen = saved.get(&settings.saved).cloned();
        ui.horizontal_wrapped(|ui| {
            ui.heading("Compare with");
            let label = ui.label("Target");
            ui.add(
                egui::TextEdit::singleline(&mut settings.target)
                    .hint_text("target host:9092")
                    .desired_width(200.0),
            )
            .labelled_by(label.id);
            let or = ui.label("or");
            egui::ComboBox::from_id_salt("compare_saved")
                .selected_text(if settings.saved.is_empty() {
                    "no saved cluster"
                } else {
                    &settings.saved
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut settings.saved, String::new(), "no saved cluster");
                    for c in &saved.clusters {
                        ui.selectable_value(&mut settings.saved, c.name.clone(), &c.name);
                    }
                })
                .response
                .labelled_by(or.id);
            if chosen.as_ref().is_some_and(|c| c.needs_prompt()) {
                ui.add(
                    egui::TextEdit::singleline(&mut self.password)
                        .password(true)
                        .hint_text("password")
                        .desired_width(100.0),
                );
            }
            ui.menu_button("Properties…", |ui| {
                ui.label("librdkafka properties of the target, key=value a line (never saved)");
                ui.add(
                    egui::TextEdit::multiline(&mut self.properties)
                        .desired_rows(4)
                        .hint_text("security.protocol=SASL_SSL"),
                );
            });
        });
        // What to compare on a row of its own, so a narrow window never splits a label from
        // its field.
        ui.horizontal_wrapped(|ui| {
            ui.label("Names");
            ui.add(
                egui::TextEdit::singleline(&mut settings.rename)
                    .hint_text("detected, e.g. src.{topic}")
                    .desired_width(150.0),
            );
            ui.label("Groups");
            ui.add(
                egui::TextEdit::singleline(&mut settings.groups)
                    .hint_text("all")
                    .desired_width(150.0),
            );
            if self.running {
                super::busy::indicator(ui);
                ui.label("comparing…");
                if ui.button("Cancel").clicked() {
                    commands.push(Command::to(ID, CancelCompare));
                }
            } else if ui
                .add_enabled(
                    connected && (!settings.target.trim().is_empty() || chosen.is_some()),
                    egui::Button::new("Compare clusters"),
                )
                .on_hover_text(if key.trim().is_empty() {
                    "Topics and groups (look a customer up in the Profile tab to compare it too)"
                        .to_owned()
                } else {
                    format!("Topics, groups and {}", key.trim())
                })
                .clicked()
            {
                let list = |text: &str| {
                    text.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                };
                let target = TargetAsk {
                    address: settings.target.trim().to_owned(),
                    saved: chosen.clone(),
                    password: Some(self.password.clone()).filter(|p| !p.is_empty()),
                    properties: self
                        .properties
                        .lines()
                        .map(|l| l.trim().to_owned())
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .collect(),
                };
                commands.push(Command::to(
                    ID,
                    CompareAsk {
                        target,
                        rename: Some(settings.rename.trim().to_owned()).filter(|r| !r.is_empty()),
                        groups: list(&settings.groups),
                        customer: !key.trim().is_empty(),
                    },
                ));
            }
        });
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error.to_string());
        }
        let Some(found) = &self.result else {
            ui.weak(if connected {
                "The connected cluster is the source. Name the target (a mirror, a new cluster) \
                 and compare: topics on both sides, groups translated through MirrorMaker 2's \
                 checkpoints, and the Profile tab's customer on both sides."
            } else {
                "Connect to the source cluster in the bar above, then name the target here."
            });
            return commands;
        };
        egui::ScrollArea::vertical()
            .id_salt("compare_scroll")
            .show(ui, |ui| {
                reasons_ui(ui, &found.reasons);
                ui.separator();
                // The customer first: a handful of rows, where hundreds of groups would push
                // it out of reach.
                if let Some(customer) = &found.customer {
                    customer_ui(ui, customer);
                    ui.separator();
                }
                egui::CollapsingHeader::new(format!("Topics ({})", found.topics.len()))
                    .id_salt("compare_topics_section")
                    .default_open(found.topics.len() <= SHOWN_OPEN)
                    .show(ui, |ui| topics_ui(ui, found));
                let rows: usize = found.groups.iter().map(|g| g.partitions.len()).sum();
                egui::CollapsingHeader::new(format!(
                    "Groups ({}, {rows} partitions; checkpoints: {})",
                    found.groups.len(),
                    found
                        .checkpoints_topic
                        .as_deref()
                        .unwrap_or("none found on the target")
                ))
                .id_salt("compare_groups_section")
                .default_open(rows <= SHOWN_OPEN)
                .show(ui, |ui| groups_ui(ui, found));
            });
        commands
    }
}

fn topics_ui(ui: &mut egui::Ui, found: &Comparison) {
    egui::Grid::new("compare_topics")
        .striped(true)
        .num_columns(6)
        .show(ui, |ui| {
            for h in [
                "source topic",
                "target topic",
                "on",
                "partitions",
                "missing on target",
                "settings that differ",
            ] {
                ui.weak(h);
            }
            ui.end_row();
            for t in &found.topics {
                ui.label(&t.topic);
                ui.label(&t.target_topic);
                ui.label(t.on);
                let counts = format!(
                    "{} / {}",
                    t.partitions
                        .iter()
                        .filter(|p| p.source_high.is_some())
                        .count(),
                    t.partitions
                        .iter()
                        .filter(|p| p.target_high.is_some())
                        .count()
                );
                if t.partition_count_differs {
                    ui.colored_label(BUDGET_COLOR, counts)
                        .on_hover_text("Every key lands on another partition on the target");
                } else {
                    ui.label(counts);
                }
                let missing: i64 = t.partitions.iter().map(|p| p.missing).sum();
                let per: Vec<String> = t
                    .partitions
                    .iter()
                    .map(|p| {
                        format!(
                            "{}: source {}–{}, target {}–{}",
                            p.partition,
                            p.source_low.map_or("-".into(), |o| o.to_string()),
                            p.source_high.map_or("-".into(), |o| o.to_string()),
                            p.target_low.map_or("-".into(), |o| o.to_string()),
                            p.target_high.map_or("-".into(), |o| o.to_string()),
                        )
                    })
                    .collect();
                if missing > 0 {
                    ui.colored_label(BUDGET_COLOR, missing.to_string())
                } else {
                    ui.label("0")
                }
                .on_hover_text(per.join("\n"));
                if let Some(why) = &t.configs_unread {
                    ui.colored_label(ui.visuals().warn_fg_color, format!("not read {why}"));
                } else {
                    ui.label(
                        t.config_diff
                            .iter()
                            .map(|d| {
                                format!(
                                    "{}: {} -> {}",
                                    d.key,
                                    d.source.as_deref().unwrap_or("unset"),
                                    d.target.as_deref().unwrap_or("unset")
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                    );
                }
                ui.end_row();
            }
        });
}

/// Sections with more rows than this start closed.
const SHOWN_OPEN: usize = 50;
/// Reasons listed before the rest are folded away.
const REASONS_SHOWN: usize = 8;

/// The verdict: the first reasons, and the rest behind a fold.
fn reasons_ui(ui: &mut egui::Ui, reasons: &[String]) {
    if reasons.is_empty() {
        ui.colored_label(egui::Color32::from_rgb(80, 180, 100), "Ready to cut over");
        return;
    }
    ui.colored_label(
        BUDGET_COLOR,
        format!("Not ready to cut over: {} reason(s)", reasons.len()),
    );
    for r in reasons.iter().take(REASONS_SHOWN) {
        ui.label(format!("  • {r}"));
    }
    if reasons.len() > REASONS_SHOWN {
        egui::CollapsingHeader::new(format!("{} more", reasons.len() - REASONS_SHOWN))
            .id_salt("compare_more_reasons")
            .show(ui, |ui| {
                for r in &reasons[REASONS_SHOWN..] {
                    ui.label(format!("  • {r}"));
                }
            });
    }
}

/// A row per group partition under a header that stays in view, scrolled within its own
/// height however many there are.
fn groups_ui(ui: &mut egui::Ui, found: &Comparison) {
    let rows: Vec<(&str, &crate::migrate::GroupPartition)> = found
        .groups
        .iter()
        .flat_map(|g| g.partitions.iter().map(move |p| (g.group.as_str(), p)))
        .collect();
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    // The rest of the visible page, so a tall window shows more rows; never so little that
    // the table is a sliver at the bottom of a short one.
    let visible = ui.clip_rect().bottom() - ui.cursor().top() - 40.0;
    egui_extras::TableBuilder::new(ui)
        .id_salt("compare_groups")
        .striped(true)
        .max_scroll_height(visible.max(240.0))
        .column(egui_extras::Column::auto().at_least(120.0).clip(true))
        .column(egui_extras::Column::auto().at_least(120.0).clip(true))
        .columns(egui_extras::Column::auto().at_least(60.0), 6)
        .header(20.0, |mut header| {
            for h in [
                "group",
                "partition",
                "committed",
                "translated",
                "target committed",
                "target high",
                "replay / skip",
                "checkpoint age",
            ] {
                header.col(|ui| {
                    ui.weak(h);
                });
            }
        })
        .body(|body| {
            body.rows(row_height, rows.len(), |mut row| {
                let (group, p) = rows[row.index()];
                row.col(|ui| {
                    ui.label(group);
                });
                row.col(|ui| {
                    ui.label(format!("{}/{}", p.topic, p.partition));
                });
                row.col(|ui| {
                    ui.label(p.source_committed.to_string());
                });
                row.col(|ui| {
                    match p.translated {
                        Some(o) => ui
                            .label(o.to_string())
                            .on_hover_text(format!("translated by {}", p.translated_by)),
                        None => ui.colored_label(BUDGET_COLOR, "untranslated"),
                    };
                });
                row.col(|ui| {
                    ui.label(p.target_committed.map_or("-".into(), |o| o.to_string()));
                });
                row.col(|ui| {
                    ui.label(p.target_high.map_or("-".into(), |o| o.to_string()));
                });
                row.col(|ui| {
                    ui.label(format!(
                        "{} / {}",
                        p.replay.map_or("?".into(), |n| n.to_string()),
                        p.skip.map_or("?".into(), |n| n.to_string())
                    ));
                });
                row.col(|ui| {
                    ui.label(
                        p.checkpoint_age_ms
                            .map_or("-".into(), crate::time::format_duration_ms),
                    );
                });
            });
        });
}

/// The customer on both sides, a row per event in time order: matched, changed, or on one side.
fn customer_ui(ui: &mut egui::Ui, c: &crate::migrate::CustomerDiff) {
    ui.strong(format!("{} on both sides", c.key));
    for f in &c.fields {
        ui.colored_label(
            BUDGET_COLOR,
            format!(
                "{}: {} on the source, {} on the target",
                f.field,
                f.source.as_ref().map_or("-".into(), |v| v.to_string()),
                f.target.as_ref().map_or("-".into(), |v| v.to_string())
            ),
        );
    }
    for o in &c.order {
        ui.colored_label(BUDGET_COLOR, o);
    }
    let side = |e: &Option<crate::migrate::EventRef>| {
        e.as_ref().map_or(String::new(), |e| {
            format!(
                "{} {}/{}@{}",
                format_timestamp(Some(e.event_ms)),
                e.topic,
                e.partition,
                e.offset
            )
        })
    };
    egui::ScrollArea::vertical()
        .id_salt("compare_customer")
        .max_height(300.0)
        .auto_shrink([false, true])
        .show(ui, |ui| {
            egui::Grid::new("compare_customer_rows")
                .striped(true)
                .num_columns(3)
                .show(ui, |ui| {
                    for h in ["source", "", "target"] {
                        ui.weak(h);
                    }
                    ui.end_row();
                    for row in &c.rows {
                        ui.label(side(&row.source));
                        if row.status == "same" {
                            ui.weak("=");
                        } else {
                            ui.colored_label(BUDGET_COLOR, row.status);
                        }
                        ui.label(side(&row.target));
                        ui.end_row();
                    }
                });
        });
}

impl ComparePanel {
    /// Connects to the target and compares it with the source, in the background.
    fn start(&mut self, cx: &mut Cx<'_>, ask: CompareAsk) {
        let Some(source) = cx.session.source.clone() else {
            return;
        };
        self.running = true;
        let customer = match (&cx.session.spec, ask.customer) {
            (Some(spec), true) => Some((
                std::sync::Arc::clone(spec),
                cx.session.decoding(),
                cx.session.key().to_owned(),
            )),
            _ => None,
        };
        cx.jobs.start(ID, "compare", move |reply| {
            let target =
                crate::cluster::Cluster::connect(ask.target.config().map_err(Failure::msg)?)?;
            let customer = match customer {
                Some((spec, decoding, key)) => {
                    let decoder = decoding.decoder(&spec)?;
                    Some(((*spec).clone(), decoder, key))
                }
                None => None,
            };
            let request = crate::migrate::CompareRequest {
                rename: ask.rename,
                groups: ask.groups,
                checkpoints: None,
                customer,
                topics: Vec::new(),
                reveal_pii: false,
                no_groups: false,
            };
            crate::migrate::compare(source.as_ref(), &target, &request, &reply.cancel)
                .map_err(Failure::from)
        });
    }
}

impl Panel for ComparePanel {
    fn id(&self) -> PanelId {
        ID
    }

    fn ui(&mut self, ui: &mut egui::Ui, session: &Session, out: &mut Vec<Command>) {
        let mut settings = std::mem::take(&mut self.settings);
        out.extend(self.draw(
            ui,
            &mut settings,
            (session.connected(), &session.key, &session.saved),
        ));
        self.settings = settings;
    }

    fn ask(&mut self, ask: Box<dyn Any + Send>, cx: &mut Cx<'_>) {
        if ask.is::<CancelCompare>() {
            if cx.jobs.cancel(ID, "compare") {
                self.done(Err(Failure::msg("comparison cancelled: nothing compared")));
            }
        } else if let Some(ask) = expect::<CompareAsk>(ask, ID) {
            self.start(cx, ask);
        }
    }

    fn take(&mut self, message: Box<dyn Any + Send>, _cx: &mut Cx<'_>) {
        if let Some(result) = expect::<Result<Comparison, Failure>>(message, ID) {
            self.done(result);
        }
    }

    fn observe(&mut self, news: &News, _cx: &mut Cx<'_>) {
        if *news == News::SourceChanged {
            *self = Self {
                settings: std::mem::take(&mut self.settings),
                ..Self::default()
            };
        }
    }

    fn saved(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.settings).ok()
    }

    fn restore(&mut self, saved: serde_json::Value) {
        self.settings = serde_json::from_value(saved).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_connection_takes_an_address_properties_and_a_saved_cluster() {
        let plain = TargetAsk {
            address: "target:9092".into(),
            saved: None,
            password: None,
            properties: vec!["fetch.max.bytes=1048576".into()],
        };
        let config = plain.config().unwrap();
        assert_eq!(config.bootstrap, "target:9092");
        assert!(
            config
                .properties
                .iter()
                .any(|(k, v)| k == "fetch.max.bytes" && v == "1048576")
        );
        let bad = TargetAsk {
            properties: vec!["no equals sign".into()],
            ..plain
        };
        assert!(bad.config().is_err());
        let saved = crate::cluster::saved::SavedCluster::from_config(
            "dr",
            &crate::cluster::ConnectionConfig::new("dr-1:9092"),
            Default::default(),
        );
        let from_saved = TargetAsk {
            address: String::new(),
            saved: Some(saved),
            password: None,
            properties: Vec::new(),
        };
        assert_eq!(from_saved.config().unwrap().bootstrap, "dr-1:9092");
    }
}
