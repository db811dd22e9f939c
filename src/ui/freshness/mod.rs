//! The Freshness panel: for the customer of the last lookup, staleness over time against the
//! budget with breaches shaded, every source event's lags coloured by topic, the builder group's
//! time lag and a topic's ingest-delay percentiles, on one shared, linked time axis.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use egui_plot::{HLine, Line, PlotPoints};

use crate::freshness::{IngestSample, LagPoint};
use crate::profile::{Spec, format_duration_ms};

mod ask;
mod panel;
mod plots;
mod series;

pub use ask::{Ask, ID, IngestRequest};
#[cfg(test)]
pub(super) use panel::SCREENSHOT_WAIT;
use plots::*;
use series::*;

use super::command::Command;
use super::failure::Failure;
use super::messages::format_timestamp;
use super::plot_time::plot_x;

const PRESETS: [(&str, i64); 5] = [
    ("15 m", 15 * 60_000),
    ("1 h", 3_600_000),
    ("6 h", 6 * 3_600_000),
    ("24 h", 24 * 3_600_000),
    ("7 d", 7 * 24 * 3_600_000),
];

#[derive(Default)]
pub struct FreshnessPanel {
    report: Option<Report>,
    /// A finished lookup whose report is not computed yet: its key and "now".
    pending: Option<(String, i64)>,
    pub builder_group: Option<String>,
    pub builder: Option<Result<Vec<LagPoint>, Failure>>,
    /// The builder group as the lag sampler last judged it.
    pub builder_now: Option<crate::freshness::GroupLag>,
    /// Topics whose events the event-lag plot leaves out.
    hidden_topics: BTreeSet<String>,
    pub ingest_topic: Option<String>,
    pub ingest: Option<Result<IngestSample, Failure>>,
    pub ingest_running: bool,
    /// A preset window to apply to the plots on the next frame.
    pending_window: Option<i64>,
    view: Option<(i64, i64)>,
    plots_rect: Option<egui::Rect>,
    /// What the last export did; written by the screenshot callback too.
    pub notice: Arc<Mutex<Option<String>>>,
    /// A new ingest sample: its plot's delay axis is fitted to it once.
    ingest_fit: bool,
    /// A PNG export waiting for its screenshot: where to save it, and the frame it was asked in.
    png_export: Option<(std::path::PathBuf, u64)>,
    /// A screenshot asked for and not yet answered: where it goes, since when, and whether the
    /// callback ran. An integration that never answers gets a notice, not silence.
    screenshot: Option<Screenshot>,
}

pub(super) struct Screenshot {
    pub path: std::path::PathBuf,
    pub asked: std::time::Instant,
    pub answered: Arc<std::sync::atomic::AtomicBool>,
}

impl FreshnessPanel {
    /// The builder group's lag history arrived.
    pub fn builder_lag_read(&mut self, result: Result<Vec<LagPoint>, Failure>) {
        self.builder = Some(result);
    }

    /// A topic's ingest delay is being sampled.
    pub fn ingest_started(&mut self) {
        self.ingest_running = true;
        self.ingest = None;
    }

    /// A topic's ingest-delay sample arrived.
    pub fn ingest_sampled(&mut self, result: Result<IngestSample, Failure>) {
        self.ingest_running = false;
        self.ingest = Some(result);
        self.ingest_fit = true;
    }

    /// What an export did, shown beside the export buttons.
    pub fn notify(&self, notice: String) {
        *self.notice.lock().unwrap_or_else(PoisonError::into_inner) = Some(notice);
    }

    /// The lag sampler judged the groups: the spec's builder group is kept for its projection.
    pub fn groups_judged(&mut self, groups: &[crate::freshness::GroupLag]) {
        self.builder_now = self
            .builder_group
            .as_ref()
            .and_then(|name| groups.iter().find(|g| &g.group == name).cloned());
    }

    /// Notes a finished lookup of `key` as of `until_ms`; its report is computed when the panel
    /// is first shown, so lookups nobody looks at the freshness of cost no memory here.
    pub fn lookup_done(&mut self, spec: &Spec, key: &str, until_ms: i64) {
        self.report = None;
        self.pending = Some((key.to_owned(), until_ms));
        self.builder_group = spec.store.as_ref().and_then(|s| s.builder_group.clone());
        self.builder = None;
        self.ingest = None;
        if self.ingest_topic.is_none() {
            self.ingest_topic = spec
                .sources
                .iter()
                .find(|s| s.event_time.is_some())
                .map(|s| s.topic.clone());
        }
    }

    fn compute(&mut self, spec: &Spec, found: &crate::profile::Lookup) {
        let Some((key, until_ms)) = self.pending.take() else {
            return;
        };
        let report = crate::freshness::profile_freshness(spec, found, None, until_ms);
        self.pending_window = Some(until_ms - report.from_ms);
        let series = event_series(&report);
        self.report = Some(Report {
            key,
            report,
            series,
            in_view: None,
        });
    }

    /// Forgets the old source's customer. An export waiting for its frame saves nothing (the
    /// plots it would show are gone): what to tell the user is returned. One whose screenshot
    /// was already asked for still saves what it showed.
    pub fn clear(&mut self) -> Option<String> {
        let waiting = self.png_export.take();
        *self = Self {
            notice: Arc::clone(&self.notice),
            screenshot: self.screenshot.take(),
            ..Self::default()
        };
        waiting.map(|(path, _)| {
            format!(
                "not saved {}: the source changed before the plots were drawn",
                path.display()
            )
        })
    }

    /// The window shown, in ms: what the plots show, else the whole report.
    pub fn window(&self) -> Option<(i64, i64)> {
        self.view.or_else(|| {
            self.report
                .as_ref()
                .map(|r| (r.report.from_ms, r.report.until_ms))
        })
    }

    fn draw(
        &mut self,
        ui: &mut egui::Ui,
        spec: Option<&Spec>,
        found: Option<&crate::profile::Lookup>,
    ) -> Vec<Command> {
        if let (Some(spec), Some(found)) = (spec, found) {
            self.compute(spec, found);
        }
        let mut commands = Vec::new();
        // Set again below when the plots are drawn in this frame.
        self.plots_rect = None;
        let Some(report) = self.report.take() else {
            ui.weak("Look a customer up in the Profile tab: its freshness over time shows here.");
            return commands;
        };
        if report.report.events.is_empty() {
            // Not "within budget 100%": there is nothing to be fresh about.
            ui.weak(format!(
                "No events for {}: nothing to measure the freshness of.",
                report.key
            ));
            self.report = Some(report);
            return commands;
        }
        let mut export_csv = false;
        let origin = report.report.from_ms;
        let until = report.report.until_ms;
        ui.horizontal_wrapped(|ui| {
            ui.heading(format!("Freshness of {}", report.key));
            ui.label(format!(
                "budget {} · {} events · {} store versions",
                format_duration_ms(report.report.budget_ms),
                report.report.events.len(),
                report.report.store_versions
            ));
        });
        ui.horizontal_wrapped(|ui| {
            ui.label("Window");
            for (label, span) in PRESETS {
                if ui.button(label).clicked() {
                    self.pending_window = Some(span);
                }
            }
            if ui.button("All").clicked() {
                self.pending_window = Some(until - origin);
            }
            ui.separator();
            if ui.button("Export CSV…").clicked() {
                export_csv = true;
            }
            if ui.button("Export PNG…").clicked() {
                commands.push(Command::to(ID, Ask::PickPng));
            }
            if let Some(notice) = self
                .notice
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
            {
                ui.label(notice);
            }
        });
        summary_ui(ui, &report);

        // A little room after "now", so the latest points are not on the edge.
        let window = self.pending_window.take().map(|span| {
            let span = span.max(60_000);
            (
                plot_x(origin, until - span),
                plot_x(origin, until + span / 50),
            )
        });
        let axis = Axis {
            origin,
            until,
            link: egui::Id::unique("freshness_time_axis"),
            height: ((ui.available_height() - 40.0) / 4.0).max(90.0),
        };
        // The plots as a whole, their axes and labels with them, for the PNG export.
        let plots = ui.scope(|ui| {
            let view = staleness_plot_ui(ui, &axis, &report, window);
            let selected = event_lags_plot_ui(ui, &axis, &report, &mut self.hidden_topics);
            if let Some(index) = selected {
                let e = &report.report.events[index];
                commands.push(Command::to(
                    super::profile::ID,
                    super::profile::Ask::SelectEvent(e.topic.clone(), e.partition, e.offset),
                ));
                commands.push(Command::Show(super::profile::ID));
            }
            self.builder_plot_ui(ui, &axis, &report);
            commands.extend(self.ingest_controls_ui(ui, spec, &axis, view));
            self.ingest_plot_ui(ui, &axis);
            view
        });
        let view = plots.inner;
        // Only what is on screen can be exported: the part scrolled out of view is left out.
        let shown = plots
            .response
            .rect
            .expand(EXPORT_MARGIN)
            .intersect(ui.clip_rect());
        self.plots_rect = shown.is_positive().then_some(shown);
        self.report = Some(report);
        self.set_view(view);
        if export_csv {
            commands.push(Command::SaveText {
                title: "Export the shown series as CSV",
                file_name: "freshness.csv".into(),
                text: self.csv(),
            });
        }
        commands
    }

    /// The builder group's time lag, so a breach lines up with the lag behind it; and when the
    /// group is projected back within the budget.
    fn builder_plot_ui(&self, ui: &mut egui::Ui, axis: &Axis, report: &Report) {
        let origin = axis.origin;
        let builder: Vec<[f64; 2]> = match &self.builder {
            Some(Ok(points)) => points
                .iter()
                .filter_map(|(t, _, lag)| lag.map(|ms| [plot_x(origin, *t), ms as f64 / 1000.0]))
                .collect(),
            _ => Vec::new(),
        };
        let name = self
            .builder_group
            .clone()
            .unwrap_or_else(|| "no builder group in the spec".into());
        let budget_s = report.report.budget_ms as f64 / 1000.0;
        let empty = builder.is_empty();
        let series = format!("{name} time lag");
        axis.plot("builder_lag_plot")
            .y_axis_label("builder time lag")
            .show(ui, |plot| {
                // Markers too: a history of one or two commits draws no visible line.
                plot.points(
                    egui_plot::Points::new(series.clone(), PlotPoints::from(builder.clone()))
                        .radius(2.5)
                        .color(super::groups::LAG_COLOR),
                );
                plot.line(
                    Line::new(series, PlotPoints::from(builder)).color(super::groups::LAG_COLOR),
                );
                plot.hline(
                    HLine::new("budget", budget_s)
                        .color(super::groups::BUDGET_COLOR)
                        .style(egui_plot::LineStyle::dashed_loose()),
                );
            });
        if empty && matches!(self.builder, Some(Ok(_))) {
            ui.weak(
                "no lag history: the cluster keeps no commit history (__consumer_offsets) for \
                 this group, so its lag shows in the Groups tab from when the app started",
            );
        }
        if let Some(group) = &self.builder_now {
            let text =
                crate::freshness::back_within_budget(group, report.report.budget_ms).to_string();
            ui.label(text).on_hover_text(&group.status_reason);
        }
        match &self.builder {
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("builder lag: {e}"));
            }
            None if self.builder_group.is_some() => {
                ui.weak("reading the builder group's lag history…");
            }
            _ => {}
        }
    }

    /// Which topic's ingest delay to sample over the time in view, and how that went.
    fn ingest_controls_ui(
        &mut self,
        ui: &mut egui::Ui,
        spec: Option<&Spec>,
        axis: &Axis,
        view: (i64, i64),
    ) -> Option<Command> {
        let mut command = None;
        ui.horizontal(|ui| {
            let topic_label = ui.label("Ingest delay of");
            egui::ComboBox::from_id_salt("ingest_topic")
                .selected_text(
                    self.ingest_topic
                        .clone()
                        .unwrap_or_else(|| "a topic".into()),
                )
                .show_ui(ui, |ui| {
                    for source in spec.iter().flat_map(|s| &s.sources) {
                        if source.event_time.is_some() {
                            ui.selectable_value(
                                &mut self.ingest_topic,
                                Some(source.topic.clone()),
                                &source.topic,
                            );
                        }
                    }
                })
                .response
                .labelled_by(topic_label.id);
            let pointer = spec.and_then(|s| {
                s.sources
                    .iter()
                    .find(|src| Some(&src.topic) == self.ingest_topic.as_ref())
                    .and_then(|src| src.event_time.clone())
            });
            let sample = ui.add_enabled(
                !self.ingest_running && pointer.is_some(),
                egui::Button::new("Sample"),
            );
            if sample.clicked()
                && let (Some(topic), Some(pointer)) = (self.ingest_topic.clone(), pointer)
            {
                let (from, to) = view;
                command = Some(Command::to(
                    ID,
                    Ask::SampleIngest(IngestRequest {
                        topic,
                        pointer,
                        since: from.max(axis.origin),
                        until: to.min(axis.until),
                    }),
                ));
            }
            match &self.ingest {
                Some(Ok(sample)) => {
                    ui.label(format!(
                        "{} records sampled of {}",
                        sample.sampled, sample.stands_for
                    ));
                }
                Some(Err(e)) => {
                    ui.colored_label(ui.visuals().error_fg_color, e.to_string());
                }
                None if self.ingest_running => {
                    super::busy::indicator(ui);
                    ui.label("sampling…");
                    if ui.button("Cancel").clicked() {
                        command = Some(Command::to(ID, Ask::CancelIngest));
                    }
                }
                None => {}
            }
        });
        command
    }

    /// A topic's ingest delay percentiles over time.
    fn ingest_plot_ui(&mut self, ui: &mut egui::Ui, axis: &Axis) {
        let origin = axis.origin;
        let sampled = matches!(&self.ingest, Some(Ok(_)));
        // Fitted once to a new sample (egui keeps a plot's bounds between frames).
        let fit = std::mem::take(&mut self.ingest_fit)
            .then(|| match &self.ingest {
                Some(Ok(sample)) => sample.buckets.iter().map(|b| b.max_ms).max(),
                _ => None,
            })
            .flatten();
        axis.plot("ingest_plot")
            // Before a sample there is nothing to scale the axis to: it starts at zero.
            .include_y(0.0)
            .auto_bounds([true, sampled])
            .y_axis_label("ingest delay")
            .show(ui, |plot| {
                if let Some(max_ms) = fit {
                    plot.set_plot_bounds_y(0.0..=(max_ms as f64 / 1000.0 * 1.1).max(1.0));
                }
                if let Some(Ok(sample)) = &self.ingest {
                    let line = |f: fn(&crate::freshness::DelayBucket) -> i64| -> PlotPoints {
                        sample
                            .buckets
                            .iter()
                            .map(|b| [plot_x(origin, b.start_ms), f(b) as f64 / 1000.0])
                            .collect()
                    };
                    plot.line(Line::new("p50", line(|b| b.p50_ms)));
                    plot.line(Line::new("p95", line(|b| b.p95_ms)));
                    plot.line(Line::new("max", line(|b| b.max_ms)));
                }
            });
    }

    fn set_view(&mut self, view: (i64, i64)) {
        self.view = Some(view);
        if let Some(report) = &mut self.report {
            let clamped = (
                view.0.max(report.report.from_ms),
                view.1.min(report.report.until_ms),
            );
            if report.in_view.as_ref().map(|(w, _)| *w) != Some(clamped) {
                let summary = report.report.rewindow(clamped.0, clamped.1.max(clamped.0));
                report.in_view = Some((clamped, summary));
            }
        }
    }

    /// The plots' area on screen in the last frame that drew them (axes and labels with a
    /// margin, the part scrolled out of view left out), for the PNG export.
    pub fn plots_rect(&self) -> Option<egui::Rect> {
        self.plots_rect
    }

    /// Every shown series within the window in view, one row per point.
    pub fn csv(&self) -> String {
        let mut out = csv::Writer::from_writer(Vec::new());
        let _ = out.write_record(["series", "time_utc", "t_ms", "value_ms"]);
        let Some(report) = &self.report else {
            return String::new();
        };
        let (from, to) = self.window().unwrap_or((i64::MIN, i64::MAX));
        let mut rows: Vec<(String, i64, i64)> = Vec::new();
        for p in &report.report.staleness.points {
            rows.push(("staleness".into(), p.t_ms, p.staleness_ms));
        }
        for s in &report.series {
            for &(_, y, i) in &s.points {
                let e = &report.report.events[i];
                rows.push((
                    s.name.clone(),
                    e.broker_time_ms,
                    (y * 1000.0).round() as i64,
                ));
            }
        }
        if let Some(Ok(points)) = &self.builder {
            let name = format!(
                "{} time lag",
                self.builder_group.clone().unwrap_or_default()
            );
            for (t, _, lag) in points {
                if let Some(lag) = lag {
                    rows.push((name.clone(), *t, *lag));
                }
            }
        }
        if let Some(Ok(sample)) = &self.ingest {
            for b in &sample.buckets {
                for (name, v) in [("p50", b.p50_ms), ("p95", b.p95_ms), ("max", b.max_ms)] {
                    rows.push((format!("{} ingest {name}", sample.topic), b.start_ms, v));
                }
            }
        }
        for (series, t, value) in rows.into_iter().filter(|r| r.1 >= from && r.1 <= to) {
            let _ = out.write_record([
                series,
                format_timestamp(Some(t)),
                t.to_string(),
                value.to_string(),
            ]);
        }
        String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freshness::{EventFreshness, ProfileFreshness, Staleness, StalenessPoint};

    fn report() -> ProfileFreshness {
        let event = |offset: i64, broker: i64, applied: Option<i64>| EventFreshness {
            topic: "orders".into(),
            partition: 0,
            offset,
            event_time_ms: broker - 1_000,
            broker_time_ms: broker,
            applied_ms: applied,
        };
        ProfileFreshness {
            budget_ms: 60_000,
            from_ms: 0,
            until_ms: 600_000,
            store_versions: 1,
            events: vec![event(1, 10_000, Some(40_000)), event(2, 100_000, None)],
            staleness: Staleness {
                points: vec![StalenessPoint {
                    t_ms: 0,
                    staleness_ms: 0,
                }],
                breaches: vec![],
                within_budget_ratio: 1.0,
            },
            not_consumed: Default::default(),
        }
    }

    #[test]
    fn events_become_points_per_metric_and_pending_ones_say_how_long() {
        let series = event_series(&report());
        let find = |metric: Metric| series.iter().find(|s| s.metric == metric).unwrap();
        assert_eq!(find(Metric::Lag).points, vec![(10.0, 30.0, 0)]);
        assert_eq!(find(Metric::EndToEnd).points, vec![(10.0, 31.0, 0)]);
        assert_eq!(find(Metric::Ingest).points.len(), 2);
        assert_eq!(find(Metric::Pending).points, vec![(100.0, 500.0, 1)]);
        assert_eq!(find(Metric::Lag).name, "orders · source-to-profile");
    }

    #[test]
    fn a_click_picks_the_nearest_point_within_reach() {
        let series = event_series(&report());
        let to_screen = |x: f64, y: f64| egui::pos2(x as f32, y as f32);
        assert_eq!(
            nearest_event(&series, to_screen, egui::pos2(101.0, 498.0)),
            Some(1)
        );
        assert_eq!(
            nearest_event(&series, to_screen, egui::pos2(300.0, 300.0)),
            None
        );
    }

    #[test]
    fn csv_has_a_row_per_point_in_view() {
        let mut panel = FreshnessPanel::default();
        let report = report();
        panel.report = Some(Report {
            key: "c1".into(),
            series: event_series(&report),
            report,
            in_view: None,
        });
        panel.builder = Some(Ok(vec![(20_000, 3, Some(5_000))]));
        panel.builder_group = Some("builder".into());
        let csv = panel.csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "series,time_utc,t_ms,value_ms");
        assert!(lines.contains(&"orders · source-to-profile,1970-01-01 00:00:10.000,10000,30000"));
        assert!(lines.contains(&"builder time lag,1970-01-01 00:00:20.000,20000,5000"));
        // 1 staleness point, 2 ingest + 1 lag + 1 end-to-end + 1 pending, 1 builder point.
        assert_eq!(lines.len(), 1 + 1 + 5 + 1);
        panel.view = Some((50_000, 600_000));
        assert_eq!(
            panel.csv().lines().count(),
            1 + 2,
            "only the points in view"
        );
    }
}
