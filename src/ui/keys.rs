//! The *Keys* view of a topic in the Browse tab: which partitioner wrote it (or two producers
//! that disagree, or random placement), misplaced keys, records per partition as bars with the
//! hottest keys, and event-time inversions within a key. Sampled in the background on demand.

use egui_plot::{Bar, BarChart, Plot};

use super::browse_ask::{Ask, ID};
use super::command::Command;
use super::failure::Failure;
use super::groups::BUDGET_COLOR;
use crate::keys::{SplitSource, TopicKeys};
use crate::profile::infer::DEFAULT_SAMPLE;
use crate::time::format_duration_ms;

const OK_COLOR: egui::Color32 = egui::Color32::from_rgb(80, 180, 100);
const WARN_COLOR: egui::Color32 = egui::Color32::from_rgb(230, 180, 60);

#[derive(Default)]
pub struct KeysPanel {
    /// The Browse tab shows this view instead of the messages.
    pub showing: bool,
    /// The topic being sampled.
    pub running: Option<String>,
    pub result: Option<TopicKeys>,
    /// With a spec that reads the topic: its customers split over the topic's partitions.
    pub split: Option<SplitSource>,
    pub error: Option<Failure>,
    /// The topic last sampled unasked, so the view samples each topic once by itself.
    pub asked: Option<String>,
}

impl KeysPanel {
    pub fn started(&mut self, topic: &str) {
        self.running = Some(topic.to_owned());
        self.error = None;
    }

    pub fn done(&mut self, result: Result<(TopicKeys, Option<SplitSource>), Failure>) {
        self.running = None;
        match result {
            Ok((keys, split)) => {
                self.result = Some(keys);
                self.split = split;
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// The view for `topic`; a result of another topic is not shown.
    pub fn ui(&mut self, ui: &mut egui::Ui, topic: Option<&str>) -> Option<Command> {
        let Some(topic) = topic else {
            ui.weak("Pick a topic on the left.");
            return None;
        };
        let mut command = None;
        ui.horizontal(|ui| {
            ui.heading(format!("Keys of {topic}"));
            if self.running.is_some() {
                ui.spinner();
                ui.label("sampling…");
                if ui.button("Cancel").clicked() {
                    command = Some(Command::to(ID, Ask::CancelKeys));
                }
            } else if ui
                .button("Look at keys")
                .on_hover_text(format!(
                    "Samples the newest {DEFAULT_SAMPLE} records, spread over the partitions: \
                     which partitioner placed them, skew and hot keys, order within a key"
                ))
                .clicked()
            {
                command = Some(Command::to(ID, Ask::LookAtKeys(topic.to_owned())));
            }
        });
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error.to_string());
        }
        let Some(keys) = self.result.as_ref().filter(|k| k.topic == topic) else {
            if self.running.is_none() {
                ui.weak(
                    "Which partitioner wrote this topic (murmur2, crc32, FNV-1a or random), \
                     which keys sit on a partition it does not predict, how evenly records \
                     spread, and which keys have events out of order.",
                );
            }
            return command;
        };
        // A scroll position per topic: another topic's view opens at its top.
        egui::ScrollArea::vertical()
            .id_salt(("keys_scroll", &keys.topic))
            .show(ui, |ui| {
                keys_ui(ui, keys);
                if let Some(split) = self.split.as_ref().filter(|s| s.topic == topic) {
                    ui.separator();
                    split_ui(ui, split);
                }
            });
        command
    }
}

fn keys_ui(ui: &mut egui::Ui, keys: &TopicKeys) {
    partitioner_ui(ui, keys);
    ui.separator();
    skew_ui(ui, keys);
    ui.separator();
    order_ui(ui, keys);
}

fn partitioner_ui(ui: &mut egui::Ui, keys: &TopicKeys) {
    let p = &keys.partitioner;
    let color = match (p.best, &p.second) {
        ("random", _) | (_, Some(_)) => BUDGET_COLOR,
        ("undetermined", _) => ui.visuals().weak_text_color(),
        _ if keys.misplaced_keys > 0 => WARN_COLOR,
        _ => OK_COLOR,
    };
    ui.horizontal_wrapped(|ui| {
        ui.strong("Partitioner:");
        ui.colored_label(color, p.best);
        ui.label(&p.verdict);
    });
    ui.label(format!(
        "{} records sampled over {} partitions · placed right by {} (chance alone: {:.1}%){}",
        keys.sampled,
        keys.partitions,
        p.candidates.summary(" · "),
        100.0 / f64::from(keys.partitions.max(1)),
        if p.null_keys > 0 {
            format!(" · {} without a key", p.null_keys)
        } else {
            String::new()
        }
    ))
    .on_hover_text(
        "Each hash partitioner's share of the sampled keyed records it puts on the partition \
         they are on: the one that wrote the topic explains (nearly) all of them; the others \
         only what chance gives.",
    );
    if let Some(said) = &keys.spec_disagrees {
        ui.colored_label(BUDGET_COLOR, format!("Spec: {said}"));
    }
    if p.second.is_none() && !keys.misplaced.is_empty() {
        egui::CollapsingHeader::new(format!(
            "{} misplaced key(s), {} record(s)",
            keys.misplaced_keys, keys.misplaced_records
        ))
        .id_salt("keys_misplaced")
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("misplaced_grid")
                .striped(true)
                .show(ui, |ui| {
                    ui.strong("Key");
                    ui.strong("On");
                    ui.strong(format!("{} puts it on", p.best));
                    ui.end_row();
                    for m in keys.misplaced.iter().take(50) {
                        ui.label(&m.key);
                        ui.label(m.partition.to_string());
                        ui.label(m.expected.to_string());
                        ui.end_row();
                    }
                });
        });
    }
}

fn skew_ui(ui: &mut egui::Ui, keys: &TopicKeys) {
    let s = &keys.skew;
    ui.strong(format!(
        "Skew: max/mean {:.2} · Gini {:.2}",
        s.max_over_mean, s.gini
    ));
    if s.read_past_high > 0 {
        ui.weak(format!(
            "{} partition(s) hold more records than the high watermark the broker reported \
             (read past it): the bars are what was read",
            s.read_past_high
        ));
    }
    ui.columns(2, |columns| {
        let mean = s.records.iter().sum::<i64>() as f64 / s.records.len().max(1) as f64;
        let bars: Vec<Bar> = s
            .records
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let bar = Bar::new(i as f64, *n as f64).width(0.8);
                // A partition with twice the mean is a hot spot.
                if *n as f64 > 2.0 * mean {
                    bar.fill(BUDGET_COLOR)
                } else {
                    bar.fill(OK_COLOR.gamma_multiply(0.8))
                }
            })
            .collect();
        Plot::new("keys_skew")
            .height(150.0)
            .allow_scroll(false)
            .allow_drag(false)
            .allow_zoom(false)
            .x_axis_label("partition")
            .y_axis_label("records")
            .y_axis_formatter(super::plot_time::count_axis)
            .y_grid_spacer(egui_plot::uniform_grid_spacer(
                super::plot_time::count_steps,
            ))
            // Every partition labelled where there is room, else every fifth or tenth.
            .x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 5.0, 10.0]))
            .y_axis_min_width(40.0)
            .show(&mut columns[0], |plot| {
                plot.bar_chart(BarChart::new("records", bars));
            });
        let ui = &mut columns[1];
        ui.label("Hottest keys (estimated share of the topic):");
        egui::Grid::new("hot_keys_grid")
            .striped(true)
            .show(ui, |ui| {
                for hot in s.hot_keys.iter().take(8) {
                    ui.label(&hot.key);
                    ui.label(format!("{:.1}%", hot.share * 100.0));
                    ui.end_row();
                }
            });
    });
}

fn order_ui(ui: &mut egui::Ui, keys: &TopicKeys) {
    let o = &keys.order;
    let text = if o.inversions == 0 {
        format!(
            "Order within a key: every one of {} keys has its events in order on its partition, \
             by {}",
            o.keys, o.event_time
        )
    } else {
        format!(
            "Order within a key: {} of {} keys have an event older than one before it on their \
             partition ({} such events, the latest {} behind), by {}",
            o.keys_with_inversions,
            o.keys,
            o.inversions,
            format_duration_ms(o.max_lateness_ms),
            o.event_time
        )
    };
    finding(ui, o.inversions > 0, text);
    if o.undated > 0 {
        ui.weak(format!(
            "{} sampled records had no readable time",
            o.undated
        ));
    }
    if o.worst.is_empty() {
        return;
    }
    ui.weak(format!(
        "The {} keys with the most events out of order:",
        o.worst.len()
    ));
    egui::Grid::new("inversions_grid")
        .striped(true)
        .show(ui, |ui| {
            ui.strong("Key");
            ui.strong("Partition");
            ui.strong("Inversions");
            ui.strong("Latest by");
            ui.end_row();
            for w in &o.worst {
                ui.label(&w.key);
                ui.label(w.partition.to_string());
                ui.label(w.inversions.to_string());
                ui.label(format_duration_ms(w.max_lateness_ms));
                ui.end_row();
            }
        });
}

/// What the key choice costs here: the spec's customers whose records in this topic sit on
/// several partitions (keyed by linked ids), whose order here is not guaranteed.
fn split_ui(ui: &mut egui::Ui, split: &SplitSource) {
    let text = format!(
        "Key choice: {} of {} customers have records on several partitions of this topic \
         ({:.1}%): their order here is not guaranteed · {} of {} records keyed by a linked id",
        split.split_customers,
        split.customers,
        split.share * 100.0,
        split.linked_key_records,
        split.records
    );
    finding(ui, split.split_customers > 0, text);
    if split.unlinked_records > 0 {
        ui.weak(format!(
            "{} records are keyed by ids no link source knows: each counts as its own customer",
            split.unlinked_records
        ));
    }
    for example in &split.examples {
        ui.weak(format!(
            "{} on partitions {:?}",
            example.customer, example.partitions
        ));
    }
}

/// A finding in a sentence, in the warning colour when it is one.
fn finding(ui: &mut egui::Ui, warn: bool, text: String) {
    if warn {
        ui.colored_label(WARN_COLOR, text);
    } else {
        ui.label(text);
    }
}
