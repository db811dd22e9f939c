//! The Freshness tab's plots on one time axis, and the summary above them.

use std::collections::{BTreeSet, HashMap};

use egui_extras::{Column, TableBuilder};
use egui_plot::{HLine, HoverPosition, Legend, Line, Plot, PlotPoints, Points, Span};

use super::series::{EventSeries, Metric, PICK_RADIUS, Report};
use crate::freshness::ProfileFreshness;
use crate::time::format_duration_ms;
use crate::ui::messages::format_timestamp;
use crate::ui::plot_time::{clock_label, duration_axis, plot_x, signed_duration};
use crate::ui::profile::topic_color;

pub(super) fn summary_ui(ui: &mut egui::Ui, report: &Report) {
    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
    let staleness = report
        .in_view
        .as_ref()
        .map_or(&report.report.staleness, |(_, s)| s);
    let not_consumed = &report.report.not_consumed;
    let oldest = not_consumed
        .behind_ms(report.report.until_ms)
        .map(|ms| format!(", the oldest {} behind", format_duration_ms(ms)))
        .unwrap_or_default();
    ui.label(format!(
        "Within budget {:.1}% of the window · {} breaches · {} events not applied · {} not consumed yet{oldest}",
        staleness.within_budget_ratio * 100.0,
        staleness.breaches.len(),
        report.report.not_applied(),
        not_consumed.events,
    ));
    if staleness.breaches.is_empty() {
        return;
    }
    ui.push_id("breaches", |ui| {
        TableBuilder::new(ui)
            .striped(true)
            .max_scroll_height(90.0)
            .column(Column::auto().at_least(190.0))
            .column(Column::auto().at_least(190.0))
            .column(Column::remainder())
            .header(18.0, |mut header| {
                for title in ["Breach start", "End", "Worst staleness"] {
                    header.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|mut body| {
                for b in &staleness.breaches {
                    body.row(18.0, |mut row| {
                        row.col(|ui| {
                            ui.label(format_timestamp(Some(b.start_ms)));
                        });
                        row.col(|ui| {
                            ui.label(
                                b.end_ms
                                    .map_or("ongoing".to_owned(), |t| format_timestamp(Some(t))),
                            );
                        });
                        row.col(|ui| {
                            ui.label(format_duration_ms(b.max_staleness_ms));
                        });
                    });
                }
            });
    });
}

pub(super) fn response_clicked(plot: &egui_plot::PlotUi<'_>) -> bool {
    plot.response().clicked()
}

/// The event whose point is nearest `pointer` on screen, within [`PICK_RADIUS`].
pub(super) fn nearest_event<'a>(
    series: impl IntoIterator<Item = &'a EventSeries>,
    to_screen: impl Fn(f64, f64) -> egui::Pos2,
    pointer: egui::Pos2,
) -> Option<usize> {
    series
        .into_iter()
        .flat_map(|s| s.points.iter())
        .map(|&(x, y, i)| (to_screen(x, y).distance(pointer), i))
        .filter(|(d, _)| *d <= PICK_RADIUS)
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, i)| i)
}

/// Event points per topic and metric, x at the event's broker time, y in seconds.
pub(super) fn event_series(report: &ProfileFreshness) -> Vec<EventSeries> {
    let origin = report.from_ms;
    let mut by_name: HashMap<(String, usize), EventSeries> = HashMap::new();
    for (i, e) in report.events.iter().enumerate() {
        for (m, metric) in Metric::ALL.into_iter().enumerate() {
            let value = match metric {
                Metric::Ingest => Some(e.ingest_delay_ms()),
                Metric::Lag => e.lag_ms(),
                Metric::EndToEnd => e.end_to_end_ms(),
                Metric::Pending => e
                    .applied_ms
                    .is_none()
                    .then(|| report.until_ms - e.broker_time_ms),
            };
            let Some(value) = value else { continue };
            by_name
                .entry((e.topic.clone(), m))
                .or_insert_with(|| EventSeries {
                    name: format!("{} · {}", e.topic, metric.label()),
                    topic: e.topic.clone(),
                    metric,
                    points: Vec::new(),
                })
                .points
                .push((plot_x(origin, e.broker_time_ms), value as f64 / 1000.0, i));
        }
    }
    let mut series: Vec<EventSeries> = by_name.into_values().collect();
    series.sort_by(|a, b| a.name.cmp(&b.name));
    series
}

/// The time axis every Freshness plot shares: linked, zoomed and panned together.
pub(super) struct Axis {
    pub(super) origin: i64,
    pub(super) until: i64,
    pub(super) link: egui::Id,
    pub(super) height: f32,
}

impl Axis {
    pub(super) fn plot(&self, id: &'static str) -> Plot<'static> {
        // Top left: staleness and lag rise towards now, on the right, where a legend
        // would hide the latest (and worst) values.
        self.bare_plot(id)
            .legend(Legend::default().position(egui_plot::Corner::LeftTop))
    }

    /// A plot on this axis without egui_plot's legend (for one that draws its own).
    pub(super) fn bare_plot(&self, id: &'static str) -> Plot<'static> {
        let origin = self.origin;
        Plot::new(id)
            .height(self.height)
            .link_axis(self.link, [true, false])
            .link_cursor(self.link, [true, false])
            .x_axis_formatter(move |mark, _| clock_label(origin, mark.value))
            .y_axis_formatter(duration_axis)
            .y_grid_spacer(egui_plot::uniform_grid_spacer(
                crate::ui::plot_time::duration_steps,
            ))
            .allow_axis_zoom_drag(true)
            // A double click would reset one plot alone and unlink it from the others; the
            // window presets reset them together.
            .allow_double_click_reset(false)
            // The wheel scrolls the page, not the plot: Ctrl+wheel zooms, a drag pans.
            .allow_scroll(false)
            .y_axis_min_width(56.0)
    }
}

/// Staleness over time as a sawtooth, the budget line, breaches shaded; moves the plots to
/// `window` when a preset was picked. Gives the time range in view.
pub(super) fn staleness_plot_ui(
    ui: &mut egui::Ui,
    axis: &Axis,
    report: &Report,
    window: Option<(f64, f64)>,
) -> (i64, i64) {
    let (origin, until) = (axis.origin, axis.until);
    let budget_s = report.report.budget_ms as f64 / 1000.0;
    let staleness: PlotPoints = report
        .report
        .staleness
        .points
        .iter()
        .map(|p| [plot_x(origin, p.t_ms), p.staleness_ms as f64 / 1000.0])
        .collect();
    let response = axis
        .plot("staleness_plot")
        .y_axis_label("staleness")
        .show(ui, |plot| {
            // A preset shows the whole staleness again, whatever the plot was panned to.
            if let Some((from, to)) = window {
                plot.set_plot_bounds_x(from..=to);
                let top = report
                    .report
                    .staleness
                    .points
                    .iter()
                    .map(|p| p.staleness_ms as f64 / 1000.0)
                    .fold(budget_s, f64::max);
                plot.set_plot_bounds_y(0.0..=top * 1.1);
            }
            for b in &report.report.staleness.breaches {
                let end = b.end_ms.unwrap_or(until);
                plot.span(
                    Span::new("breach", plot_x(origin, b.start_ms)..=plot_x(origin, end))
                        .fill(egui::Color32::from_rgba_unmultiplied(230, 80, 70, 50)),
                );
            }
            plot.line(
                Line::new("staleness", staleness).color(egui::Color32::from_rgb(230, 140, 60)),
            );
            plot.hline(HLine::new("budget", budget_s).color(crate::ui::groups::BUDGET_COLOR));
        });
    let range = response.transform.bounds().range_x();
    (
        origin + (range.start() * 1000.0) as i64,
        origin + (range.end() * 1000.0) as i64,
    )
}

/// A compact legend above the event lags: a colour per topic (click to hide or show it) and a
/// marker per kind of lag, instead of an entry for every topic and kind running off the plot.
pub(super) fn event_legend_ui(
    ui: &mut egui::Ui,
    series: &[EventSeries],
    hidden: &mut BTreeSet<String>,
) {
    let mut topics: Vec<&str> = series.iter().map(|s| s.topic.as_str()).collect();
    topics.sort_unstable();
    topics.dedup();
    ui.horizontal_wrapped(|ui| {
        ui.weak("Event lags:");
        for topic in topics {
            let shown = !hidden.contains(topic);
            let color = if shown {
                topic_color(topic)
            } else {
                ui.visuals().weak_text_color()
            };
            // The default fonts have no ● glyph: the colour dot is painted.
            let (dot, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
            ui.painter().circle_filled(dot.center(), 4.0, color);
            let label = egui::RichText::new(topic).color(color);
            if ui
                .selectable_label(shown, label)
                .on_hover_text("Show or hide this topic's events")
                .clicked()
                && !hidden.remove(topic)
            {
                hidden.insert(topic.to_owned());
            }
        }
        ui.separator();
        ui.weak("markers: circle ingest delay · square source-to-profile · diamond end-to-end · cross pending for");
    });
}

/// Every event's lags, coloured by topic; hover names the event, a click picks it (its index).
pub(super) fn event_lags_plot_ui(
    ui: &mut egui::Ui,
    axis: &Axis,
    report: &Report,
    hidden: &mut BTreeSet<String>,
) -> Option<usize> {
    event_legend_ui(ui, &report.series, hidden);
    let origin = axis.origin;
    let events = &report.report.events;
    let series = &report.series;
    let label = |hover: &HoverPosition<'_>| -> Option<String> {
        match hover {
            HoverPosition::NearDataPoint {
                plot_name, index, ..
            } => {
                let s = series.iter().find(|s| s.name == *plot_name)?;
                let e = &events[s.points.get(*index)?.2];
                Some(format!(
                    "{}/{}@{}\nbroker {}\n{}: {}",
                    e.topic,
                    e.partition,
                    e.offset,
                    format_timestamp(Some(e.broker_time_ms)),
                    s.metric.label(),
                    format_duration_ms(s.points[*index].1 as i64 * 1000)
                ))
            }
            HoverPosition::Elsewhere { position } => Some(format!(
                "{}\n{}",
                clock_label(origin, position.x),
                signed_duration((position.y * 1000.0) as i64)
            )),
        }
    };
    let response = axis
        .bare_plot("event_lag_plot")
        .y_axis_label("event lags")
        .label_formatter(label)
        .show(ui, |plot| {
            for s in series.iter().filter(|s| !hidden.contains(&s.topic)) {
                let points: PlotPoints = s.points.iter().map(|p| [p.0, p.1]).collect();
                plot.points(
                    Points::new(s.name.clone(), points)
                        .shape(s.metric.shape())
                        .color(topic_color(&s.topic))
                        .filled(s.metric != Metric::Pending)
                        .radius(3.5),
                );
            }
            if response_clicked(plot) {
                plot.pointer_coordinate()
                    .map(|p| plot.screen_from_plot(p))
                    .and_then(|pointer| {
                        nearest_event(
                            series.iter().filter(|s| !hidden.contains(&s.topic)),
                            |x, y| plot.screen_from_plot(egui_plot::PlotPoint::new(x, y)),
                            pointer,
                        )
                    })
            } else {
                None
            }
        });
    response.inner
}
