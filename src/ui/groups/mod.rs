//! The Groups panel: every consumer group with its status, offset lag and time lag, worst first,
//! filterable; the selected group's partitions; and plots of its lag over time against a
//! freshness budget. Samples come from the background sampler every few seconds.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use egui_extras::{Column, TableBuilder};

use crate::freshness::{Drain, GroupLag, LagPoint, PastLag, Rules, Status, merge_partitions};
use crate::profile::Budget;
use crate::time::format_duration_ms;

use super::messages::format_timestamp;
mod detail;

use std::any::Any;

use super::command::{Command, News};
use super::failure::Failure;
use super::groups_sampler::{Look, Sampled, SamplerState};
use super::jobs::PanelId;
use super::panel::{Cx, Panel, expect};
use super::session::Session;

pub const ID: PanelId = "Groups";

/// Points kept per group partition for the plots.
const HISTORY: usize = 720;

/// What the lag plots add up: the whole group, one topic, or one partition.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PlotScope {
    #[default]
    Group,
    Topic(String),
    Partition(String, i32),
}

impl PlotScope {
    fn includes(&self, topic: &str, partition: i32) -> bool {
        match self {
            Self::Group => true,
            Self::Topic(t) => t == topic,
            Self::Partition(t, p) => t == topic && *p == partition,
        }
    }

    fn label(&self) -> String {
        match self {
            Self::Group => "whole group".into(),
            Self::Topic(t) => format!("topic {t}"),
            Self::Partition(t, p) => format!("partition {t}/{p}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Worst,
    OffsetLag,
    TimeLag,
    Name,
}

pub struct GroupsPanel {
    pub groups: Vec<GroupLag>,
    /// (sample time, offset lag, time lag) per group partition.
    series: HashMap<(String, String, i32), VecDeque<LagPoint>>,
    /// Bumped whenever `series` changes, so the merged plot series is rebuilt only then.
    generation: u64,
    merged: Option<((String, PlotScope, u64), Vec<LagPoint>)>,
    /// The background sampler's memory: the commit log read so far.
    pub sampler: Arc<Mutex<SamplerState>>,
    scope: PlotScope,
    pub last_sample_ms: Option<i64>,
    /// Wall-clock time the last sample was asked for (a capture's "now" is not the clock's).
    pub last_sampled_wall_ms: i64,
    /// The source is a capture or the demo: judged once, never re-sampled.
    pub snapshot: bool,
    pub sampling: bool,
    /// Commit records that could not be read, as the last sample said.
    unreadable_commits: u64,
    pub error: Option<Failure>,
    filter: String,
    min_status: Status,
    sort: Sort,
    selected: Option<String>,
    budget_secs: f64,
    /// Whether the budget was set by hand (a loaded spec's budget no longer overrides it).
    budget_set: bool,
    /// Seconds between samples.
    pub interval_secs: u64,
    /// The status rules the next sample is judged by, and those the last one was.
    rules: Rules,
    sampled_rules: Option<Rules>,
}

impl Default for GroupsPanel {
    fn default() -> Self {
        Self {
            groups: Vec::new(),
            series: HashMap::new(),
            generation: 0,
            merged: None,
            sampler: Arc::default(),
            scope: PlotScope::Group,
            last_sample_ms: None,
            last_sampled_wall_ms: 0,
            snapshot: false,
            sampling: false,
            unreadable_commits: 0,
            error: None,
            filter: String::new(),
            min_status: Status::Ok,
            sort: Sort::Worst,
            selected: None,
            budget_secs: Budget::DEFAULT.secs_f64(),
            budget_set: false,
            interval_secs: 5,
            rules: Rules::default(),
            sampled_rules: None,
        }
    }
}

impl GroupsPanel {
    pub fn clear(&mut self) {
        *self = Self {
            interval_secs: self.interval_secs,
            budget_secs: self.budget_secs,
            budget_set: self.budget_set,
            rules: self.rules,
            ..Self::default()
        };
    }

    /// The freshness budget of the spec in use, unless one was set here by hand.
    pub fn use_spec_budget(&mut self, budget: Budget) {
        if !self.budget_set {
            self.budget_secs = budget.secs_f64().max(1.0);
        }
    }

    /// A sample of `snapshot` data (or a live cluster) was asked for at `wall_ms`.
    pub fn sample_started(&mut self, snapshot: bool, wall_ms: i64) {
        self.sampling = true;
        self.snapshot = snapshot;
        self.last_sampled_wall_ms = wall_ms;
    }

    /// Whether the rules were changed since the last sample was judged.
    pub fn rules_changed(&self) -> bool {
        self.sampled_rules.is_some_and(|r| r != self.rules)
    }

    /// The rules for the sample about to be taken.
    pub fn take_rules(&mut self) -> Rules {
        self.sampled_rules = Some(self.rules);
        self.rules
    }

    /// Applies one sample of every group taken at `at_ms` (the source's time).
    pub fn sampled(&mut self, at_ms: i64, result: Result<Sampled, Failure>) {
        self.sampling = false;
        self.last_sample_ms = Some(at_ms);
        self.generation += 1;
        match result {
            Ok(Sampled {
                groups,
                past,
                unreadable_commits,
                ..
            }) => {
                self.unreadable_commits = unreadable_commits;
                for (group, points) in past {
                    self.backfill(&group, points);
                }
                for group in &groups {
                    for p in &group.partitions {
                        let key = (group.group.clone(), p.topic.clone(), p.partition);
                        let series = self.series.entry(key).or_default();
                        if series.back().is_some_and(|last| last.0 >= at_ms) {
                            // The same moment again (a capture judged anew): not a new point.
                            continue;
                        }
                        if series.len() == HISTORY {
                            series.pop_front();
                        }
                        series.push_back((at_ms, p.lag, p.time_lag_ms.or(p.estimated_time_lag_ms)));
                    }
                }
                self.groups = groups;
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Puts a group's lag at its past commits before the samples taken since the app started.
    fn backfill(&mut self, group: &str, points: Vec<PastLag>) {
        let mut by_partition: HashMap<(String, String, i32), Vec<LagPoint>> = HashMap::new();
        for p in points {
            if let Some(lag) = p.lag {
                by_partition
                    .entry((group.to_owned(), p.topic, p.partition))
                    .or_default()
                    .push((p.at_ms, lag, p.time_lag_ms));
            }
        }
        for (key, past) in by_partition {
            let series = self.series.entry(key).or_default();
            let first_sample = series.front().map_or(i64::MAX, |s| s.0);
            for point in past.into_iter().rev().filter(|p| p.0 < first_sample) {
                if series.len() == HISTORY {
                    break;
                }
                series.push_front(point);
            }
        }
    }

    /// The group's lag over time within `scope`: at each point in time, the offset lags of its
    /// partitions as last seen summed, and the worst time lag. Partitions are sampled at
    /// different times when the history comes from their commits.
    fn scope_series(&mut self, group: &str, scope: &PlotScope) -> Vec<LagPoint> {
        let key = (group.to_owned(), scope.clone(), self.generation);
        if let Some((cached, points)) = &self.merged
            && *cached == key
        {
            return points.clone();
        }
        let parts: Vec<Vec<LagPoint>> = self
            .series
            .iter()
            .filter(|((g, topic, partition), _)| g == group && scope.includes(topic, *partition))
            .map(|(_, series)| series.iter().copied().collect())
            .collect();
        let merged = merge_partitions(&parts);
        self.merged = Some((key, merged.clone()));
        merged
    }

    fn visible(&self) -> Vec<&GroupLag> {
        let needle = self.filter.to_lowercase();
        let mut shown: Vec<&GroupLag> = self
            .groups
            .iter()
            .filter(|g| g.status >= self.min_status)
            .filter(|g| needle.is_empty() || g.group.to_lowercase().contains(&needle))
            .collect();
        match self.sort {
            Sort::Worst => shown.sort_by(|a, b| GroupLag::worst_first(a, b)),
            Sort::OffsetLag => shown.sort_by_key(|g| std::cmp::Reverse(g.lag)),
            Sort::TimeLag => shown.sort_by_key(|g| std::cmp::Reverse(g.max_time_lag_ms)),
            Sort::Name => shown.sort_by(|a, b| a.group.cmp(&b.group)),
        }
        shown
    }

    fn draw(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Group filter");
            ui.add(
                egui::TextEdit::singleline(&mut self.filter)
                    .hint_text("group name")
                    .desired_width(200.0),
            )
            .labelled_by(label.id);
            let status_label = ui.label("At least");
            egui::ComboBox::from_id_salt("min_status")
                .selected_text(self.min_status.to_string())
                .show_ui(ui, |ui| {
                    for status in [
                        Status::Ok,
                        Status::Pending,
                        Status::Warn,
                        Status::Invalid,
                        Status::Rewind,
                        Status::Stall,
                        Status::Stop,
                    ] {
                        ui.selectable_value(&mut self.min_status, status, status.to_string());
                    }
                })
                .response
                .labelled_by(status_label.id);
            let sort_label = ui.label("Sort");
            egui::ComboBox::from_id_salt("group_sort")
                .selected_text(format!("{:?}", self.sort))
                .show_ui(ui, |ui| {
                    for sort in [Sort::Worst, Sort::OffsetLag, Sort::TimeLag, Sort::Name] {
                        ui.selectable_value(&mut self.sort, sort, format!("{sort:?}"));
                    }
                })
                .response
                .labelled_by(sort_label.id);
            let budget_label = ui.label("Budget (s)");
            let budget = ui
                .add(egui::DragValue::new(&mut self.budget_secs).range(1.0..=86_400.0))
                .labelled_by(budget_label.id)
                .on_hover_text("The freshness budget: the loaded spec's unless set here");
            self.budget_set |= budget.changed();
            let window_label = ui.label("Window (commits)");
            ui.add(egui::DragValue::new(&mut self.rules.window).range(2..=100))
                .labelled_by(window_label.id)
                .on_hover_text("Each partition is judged on its last N commits (Burrow's rules)");
            let allowed_label = ui.label("Allowed lag");
            ui.add(egui::DragValue::new(&mut self.rules.allowed_lag).range(0..=i64::MAX))
                .labelled_by(allowed_label.id)
                .on_hover_text("A lag of up to this many records counts as none");
            if self.sampling {
                super::busy::indicator(ui);
            }
            if let Some(at) = self.last_sample_ms {
                ui.weak(if self.snapshot {
                    format!(
                        "judged once, from the commit history of a snapshot taken {}",
                        format_timestamp(Some(at))
                    )
                } else {
                    format!(
                        "sampled {} every {} s",
                        format_timestamp(Some(at)),
                        self.interval_secs
                    )
                });
            }
        });
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error.to_string());
        }
        if self.unreadable_commits > 0 {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "{} commit records could not be read: verdicts rest on the rest",
                    self.unreadable_commits
                ),
            );
        }
        ui.separator();
        // The group table is as tall as its rows, up to two fifths of the height; the
        // selected group's partitions and plots get the rest: they are what a verdict is read
        // from.
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        let rows = self.visible().len().max(1) as f32;
        let table = ((rows + 1.0) * row_height + 12.0).clamp(70.0, ui.available_height() * 0.4);
        egui::Panel::top("groups_table_panel")
            .exact_size(table)
            .show(ui, |ui| self.table_ui(ui));
        egui::CentralPanel::default().show(ui, |ui| self.detail_ui(ui));
    }

    fn table_ui(&mut self, ui: &mut egui::Ui) {
        let shown: Vec<GroupLag> = self.visible().into_iter().cloned().collect();
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        let mut clicked = None;
        // Row clicks select; selectable labels would swallow them.
        ui.style_mut().interaction.selectable_labels = false;
        // The name takes what the numbers leave, so every column is on screen at 1024 px.
        TableBuilder::new(ui)
            .id_salt("groups_table")
            .striped(true)
            .sense(egui::Sense::click())
            .column(Column::remainder().at_least(140.0).clip(true))
            .columns(Column::auto().at_least(56.0), 7)
            .header(20.0, |mut header| {
                for title in [
                    "Group",
                    "State",
                    "Status",
                    "Offset lag",
                    "Time lag",
                    "ETA",
                    "Lost",
                    "Retention left",
                ] {
                    header.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(row_height, shown.len(), |mut row| {
                    let g = &shown[row.index()];
                    row.set_selected(self.selected.as_deref() == Some(g.group.as_str()));
                    row.col(|ui| {
                        ui.label(&g.group);
                    });
                    row.col(|ui| {
                        ui.label(&g.state);
                    });
                    row.col(|ui| {
                        let status = ui.colored_label(status_color(g.status), g.status.to_string());
                        if !g.status_reason.is_empty() {
                            status.on_hover_text(&g.status_reason);
                        }
                    });
                    row.col(|ui| {
                        ui.label(g.lag.to_string());
                    });
                    row.col(|ui| {
                        ui.label(g.max_time_lag_ms.map_or("?".to_owned(), format_duration_ms));
                    });
                    row.col(|ui| {
                        ui.label(Drain::eta_text(g.eta_ms, g.draining));
                    });
                    row.col(|ui| {
                        lost_ui(ui, g.lost_records);
                    });
                    row.col(|ui| {
                        ui.label(
                            g.retention_margin_ms
                                .map_or("-".to_owned(), format_duration_ms),
                        );
                    });
                    if row.response().clicked() {
                        clicked = Some(g.group.clone());
                    }
                });
            });
        if clicked.is_some() && clicked != self.selected {
            self.selected = clicked;
            self.scope = PlotScope::Group;
        }
    }
}

/// The budget line's colour, the same on every tab.
pub const BUDGET_COLOR: egui::Color32 = egui::Color32::from_rgb(230, 80, 70);
/// The lag lines: blue, so the budget's red stands apart.
pub const LAG_COLOR: egui::Color32 = egui::Color32::from_rgb(100, 160, 240);

pub fn status_color(status: Status) -> egui::Color32 {
    match status {
        Status::Ok => egui::Color32::from_rgb(80, 180, 100),
        Status::Pending => egui::Color32::from_rgb(150, 150, 150),
        Status::Warn | Status::Invalid => egui::Color32::from_rgb(230, 180, 60),
        Status::Rewind => egui::Color32::from_rgb(120, 160, 240),
        Status::Stall | Status::Stop => egui::Color32::from_rgb(230, 80, 70),
    }
}

fn lost_ui(ui: &mut egui::Ui, lost: i64) {
    if lost > 0 {
        ui.colored_label(ui.visuals().error_fg_color, lost.to_string());
    } else {
        ui.label("0");
    }
}

impl Panel for GroupsPanel {
    fn id(&self) -> PanelId {
        ID
    }

    fn ui(&mut self, ui: &mut egui::Ui, _session: &Session, _out: &mut Vec<Command>) {
        self.draw(ui);
    }

    fn take(&mut self, message: Box<dyn Any + Send>, cx: &mut Cx<'_>) {
        if let Some(Look { at_ms, result }) = expect::<Look>(message, ID) {
            if !cx.session.connected() {
                return;
            }
            if let Ok(sampled) = &result {
                // The builder's commits, for the Scorecard's elasticity where the source keeps
                // no commit log of its own.
                cx.out.push(Command::CommitsSeen(std::sync::Arc::new(
                    sampled.seen.clone(),
                )));
            }
            self.sampled(at_ms, result);
            cx.out.push(Command::GroupsJudged(std::sync::Arc::new(
                self.groups.clone(),
            )));
        }
    }

    fn observe(&mut self, news: &News, cx: &mut Cx<'_>) {
        match news {
            News::SourceChanged => self.clear(),
            News::SpecChanged => {
                if let Some(spec) = &cx.session.spec {
                    self.use_spec_budget(spec.budget);
                }
            }
            _ => {}
        }
    }

    /// While connected, every group is sampled at the panel's interval, in the background,
    /// one sample in flight at a time.
    fn tick(&mut self, cx: &mut Cx<'_>, _in_view: bool) {
        let Some(source) = cx.session.source.clone() else {
            return;
        };
        let interval_ms = self.interval_secs as i64 * 1000;
        let now = crate::time::now_ms();
        // A capture is a snapshot: looked at once, from its commit history. Sampling it again
        // would say nothing about motion.
        let due = match self.last_sample_ms {
            None => true,
            Some(_) if source.is_capture() && !self.rules_changed() => false,
            Some(_) if self.rules_changed() => true,
            Some(_) => now - self.last_sampled_wall_ms >= interval_ms,
        };
        if due && !self.sampling {
            self.sample_started(source.is_capture(), now);
            let rules = self.take_rules();
            let state = Arc::clone(&self.sampler);
            let builder = cx
                .session
                .spec
                .as_ref()
                .and_then(|s| s.store.as_ref()?.builder_group.clone());
            cx.jobs.start(ID, "sample", move |_| {
                super::groups_sampler::look(source.as_ref(), rules, &state, builder.as_deref())
            });
        }
        cx.jobs
            .ctx()
            .request_repaint_after(std::time::Duration::from_millis(interval_ms.max(100) as u64));
    }
}
