//! The topic list (searchable, internal topics on request) and the selected topic's partitions:
//! leader, replicas, ISR, watermarks, message count, and its configuration.

use egui_extras::{Column, TableBuilder};

use crate::cluster::TopicInfo;

use super::browse_ask::{Ask, ID};
use super::command::Command;
use super::failure::Failure;

/// A topic's configuration entries, or why the broker would not give them.
pub type TopicConfigs = Result<Vec<(String, String)>, Failure>;

#[derive(Default)]
pub struct TopicsPanel {
    pub topics: Vec<TopicInfo>,
    pub loading: bool,
    pub search: String,
    pub selected: Option<String>,
    pub configs: Option<(String, TopicConfigs)>,
}

impl TopicsPanel {
    /// A topic was picked: its configs are asked for again.
    pub fn select(&mut self, name: String) {
        self.selected = Some(name);
        self.configs = None;
    }

    /// The topic list arrived: kept, and the topic the user last looked at picked again if it
    /// is still there (the command to do so is returned).
    pub fn loaded(
        &mut self,
        result: Result<Vec<TopicInfo>, Failure>,
        remembered: Option<&str>,
    ) -> Result<Option<Command>, Failure> {
        self.loading = false;
        self.topics = result?;
        Ok(remembered
            .filter(|name| self.selected.is_none() && self.topics.iter().any(|t| t.name == *name))
            .map(|name| Command::to(ID, Ask::SelectTopic(name.to_owned()))))
    }

    pub fn selected_topic(&self) -> Option<&TopicInfo> {
        let name = self.selected.as_deref()?;
        self.topics.iter().find(|t| t.name == name)
    }

    pub fn list_ui(&mut self, ui: &mut egui::Ui, show_internal: &mut bool) -> Option<Command> {
        let mut command = None;
        ui.horizontal(|ui| {
            ui.heading("Topics");
            if ui.small_button("Refresh").clicked() {
                command = Some(Command::to(ID, Ask::RefreshTopics));
            }
            if self.loading {
                super::busy::indicator(ui);
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label("Search");
            ui.add(
                egui::TextEdit::singleline(&mut self.search)
                    .hint_text("topic name")
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        });
        if ui.checkbox(show_internal, "internal topics").changed() {
            command = Some(Command::to(ID, Ask::RefreshTopics));
        }
        ui.separator();
        let needle = self.search.to_lowercase();
        egui::ScrollArea::vertical()
            .id_salt("topic_list")
            .show(ui, |ui| {
                for topic in self
                    .topics
                    .iter()
                    .filter(|t| needle.is_empty() || t.name.to_lowercase().contains(&needle))
                {
                    let selected = self.selected.as_deref() == Some(topic.name.as_str());
                    let response =
                        ui.selectable_label(selected, &topic.name)
                            .on_hover_text(format!(
                                "{} partitions, {} messages",
                                topic.partitions.len(),
                                topic.message_count()
                            ));
                    if response.clicked() && !selected {
                        command = Some(Command::to(ID, Ask::SelectTopic(topic.name.clone())));
                    }
                }
            });
        command
    }

    pub fn partitions_ui(&mut self, ui: &mut egui::Ui) {
        let Some(topic) = self.selected_topic() else {
            ui.weak("Pick a topic on the left.");
            return;
        };
        ui.horizontal(|ui| {
            ui.heading(&topic.name);
            ui.label(format!(
                "{} partitions · {} messages",
                topic.partitions.len(),
                topic.message_count()
            ))
            .on_hover_text(
                "Offsets between the low and high watermarks: an upper bound where compaction \
                 or transaction markers left gaps",
            );
        });
        let listed_low = topic
            .partitions
            .iter()
            .filter(|p| p.listed_high < p.high)
            .count();
        if listed_low > 0 {
            ui.weak(format!(
                "The broker's ListOffsets listed lower high watermarks on {listed_low} \
                 partition(s) (it counts batches, not records); shown: the fetch's."
            ));
        }
        let unconfirmed = topic.unconfirmed_partitions();
        if unconfirmed > 0 {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "{unconfirmed} partition(s) answered no fetch in time: their high watermark \
                     (marked ?) is ListOffsets' word, and may be low on a broker that lists \
                     batches. Refresh to ask again."
                ),
            );
        }
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        TableBuilder::new(ui)
            .id_salt("partitions_table")
            .striped(true)
            .max_scroll_height(180.0)
            .columns(Column::auto().at_least(60.0), 7)
            .header(20.0, |mut header| {
                for title in [
                    "Partition",
                    "Leader",
                    "Replicas",
                    "ISR",
                    "Low",
                    "High",
                    "Messages",
                ] {
                    header.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(row_height, topic.partitions.len(), |mut row| {
                    let p = &topic.partitions[row.index()];
                    let list = |ids: &[i32]| {
                        ids.iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(",")
                    };
                    let cells = [
                        p.id.to_string(),
                        p.leader.to_string(),
                        list(&p.replicas),
                        list(&p.isr),
                        p.low.to_string(),
                        if p.high_confirmed {
                            p.high.to_string()
                        } else {
                            format!("{}?", p.high)
                        },
                        p.message_count().to_string(),
                    ];
                    for cell in cells {
                        row.col(|ui| {
                            ui.label(cell);
                        });
                    }
                });
            });
        if let Some((name, configs)) = &self.configs
            && *name == topic.name
        {
            egui::CollapsingHeader::new("Configuration")
                .id_salt("topic_configs")
                .show(ui, |ui| match configs {
                    Ok(entries) => {
                        egui::ScrollArea::vertical()
                            .id_salt("config_scroll")
                            .max_height(160.0)
                            .show(ui, |ui| {
                                egui::Grid::new("config_grid").striped(true).show(ui, |ui| {
                                    for (key, value) in entries {
                                        ui.label(key);
                                        ui.label(value);
                                        ui.end_row();
                                    }
                                });
                            });
                    }
                    Err(e) => {
                        ui.weak(format!("not available: {e}"));
                    }
                });
        }
    }
}
