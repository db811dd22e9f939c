//! The selected group in the Groups tab: its partitions under a header that stays, and its
//! offset and time lag over time against the budget.

use egui_extras::{Column, TableBuilder};
use egui_plot::{HLine, Legend, Line, Plot, PlotPoints};

use super::{BUDGET_COLOR, GroupsPanel, LAG_COLOR, PlotScope, lost_ui, status_color};
use crate::freshness::{Drain, GroupLag, PartitionLag};
use crate::time::format_duration_ms;
use crate::ui::plot_time::{clock_label, plot_x};

impl GroupsPanel {
    pub(super) fn detail_ui(&mut self, ui: &mut egui::Ui) {
        let Some(group) = self
            .selected
            .as_ref()
            .and_then(|name| self.groups.iter().find(|g| &g.group == name))
            .cloned()
        else {
            ui.weak("Select a group to see its partitions and its lag over time.");
            return;
        };
        ui.horizontal(|ui| {
            ui.heading(&group.group);
            ui.colored_label(status_color(group.status), group.status.to_string());
        });
        ui.columns(2, |columns| {
            // A table with a header that stays while the rows scroll; sideways too, since at
            // 1024 px the nine columns are wider than half the window.
            egui::ScrollArea::horizontal()
                .id_salt("group_partitions")
                .show(&mut columns[0], |ui| {
                    if let Some(scope) = partitions_table_ui(ui, &group, &self.scope) {
                        self.scope = scope;
                    }
                });
            let ui = &mut columns[1];
            let scope_label = ui.label("Plot");
            let mut scope = self.scope.clone();
            egui::ComboBox::from_id_salt("plot_scope")
                .selected_text(scope.label())
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut scope, PlotScope::Group, PlotScope::Group.label());
                    let mut topics: Vec<&str> =
                        group.partitions.iter().map(|p| p.topic.as_str()).collect();
                    topics.dedup();
                    for topic in topics {
                        let choice = PlotScope::Topic(topic.to_owned());
                        let text = choice.label();
                        ui.selectable_value(&mut scope, choice, text);
                    }
                    for p in &group.partitions {
                        let choice = PlotScope::Partition(p.topic.clone(), p.partition);
                        let text = choice.label();
                        ui.selectable_value(&mut scope, choice, text);
                    }
                })
                .response
                .labelled_by(scope_label.id);
            let series = self.scope_series(&group.group, &scope);
            let height = (ui.available_height() / 2.0 - 10.0).max(80.0);
            let origin = series.first().map_or(0, |s| s.0);
            let secs = |t: i64| plot_x(origin, t);
            let offsets: PlotPoints = series
                .iter()
                .map(|(t, lag, _)| [secs(*t), *lag as f64])
                .collect();
            let link = egui::Id::unique("group_lag_time_axis");
            Plot::new("offset_lag_plot")
                .height(height)
                .legend(Legend::default().position(egui_plot::Corner::LeftTop))
                .link_axis(link, [true, false])
                .x_axis_formatter(move |mark, _| clock_label(origin, mark.value))
                .y_axis_formatter(crate::ui::plot_time::count_axis)
                .y_grid_spacer(egui_plot::uniform_grid_spacer(
                    crate::ui::plot_time::count_steps,
                ))
                .y_axis_min_width(56.0)
                .y_axis_label("records")
                .allow_scroll(false)
                .show(ui, |plot| {
                    plot.line(Line::new("offset lag", offsets).color(LAG_COLOR))
                });
            let times: PlotPoints = series
                .iter()
                .filter_map(|(t, _, lag)| lag.map(|ms| [secs(*t), ms as f64 / 1000.0]))
                .collect();
            let budget = self.budget_secs;
            Plot::new("time_lag_plot")
                .height(height)
                .legend(Legend::default().position(egui_plot::Corner::LeftTop))
                .link_axis(link, [true, false])
                .x_axis_formatter(move |mark, _| clock_label(origin, mark.value))
                .y_axis_formatter(crate::ui::plot_time::duration_axis)
                .y_grid_spacer(egui_plot::uniform_grid_spacer(
                    crate::ui::plot_time::duration_steps,
                ))
                .y_axis_min_width(56.0)
                .y_axis_label("time lag")
                .allow_scroll(false)
                .show(ui, |plot| {
                    plot.line(Line::new("time lag", times).color(LAG_COLOR));
                    // Dashed and apart from the lag's own colour: a threshold, not a series.
                    plot.hline(
                        HLine::new("budget", budget)
                            .color(BUDGET_COLOR)
                            .style(egui_plot::LineStyle::dashed_loose()),
                    );
                });
            self.scope = scope;
        });
    }
}

/// The selected group's partitions, one line each under a header that stays; a click on a
/// partition's name plots it (the scope picked is returned).
fn partitions_table_ui(
    ui: &mut egui::Ui,
    group: &GroupLag,
    scope: &PlotScope,
) -> Option<PlotScope> {
    let mut picked = None;
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
    TableBuilder::new(ui)
        .id_salt("group_partition_table")
        .striped(true)
        .column(Column::remainder().at_least(110.0).clip(true))
        .columns(Column::auto().at_least(44.0), 8)
        .header(20.0, |mut header| {
            for title in [
                "Partition",
                "Committed",
                "High",
                "Lag",
                "Time lag",
                "Status",
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
            body.rows(row_height, group.partitions.len(), |mut row| {
                let p = &group.partitions[row.index()];
                row.col(|ui| {
                    let deleted = if p.topic_deleted {
                        " (topic deleted)"
                    } else {
                        ""
                    };
                    let name = format!("{}/{}{deleted}", p.topic, p.partition);
                    let this = PlotScope::Partition(p.topic.clone(), p.partition);
                    if ui
                        .selectable_label(*scope == this, name)
                        .on_hover_text("Plot this partition")
                        .clicked()
                    {
                        picked = Some(this);
                    }
                });
                row.col(|ui| {
                    ui.label(
                        p.committed
                            .map_or("no commit".to_owned(), |c| c.to_string()),
                    );
                });
                row.col(|ui| {
                    ui.label(p.high.to_string());
                });
                row.col(|ui| {
                    ui.label(p.lag.to_string());
                });
                row.col(|ui| {
                    ui.label(p.time_lag_ms.map_or("?".to_owned(), format_duration_ms));
                });
                partition_status_cols(&mut row, p);
            });
        });
    picked
}

/// A partition's status (its reason on hover), ETA (its rates on hover), lost records and
/// retention margin (what it means on hover), a column each.
fn partition_status_cols(row: &mut egui_extras::TableRow<'_, '_>, p: &PartitionLag) {
    row.col(|ui| {
        ui.colored_label(status_color(p.status), p.status.to_string())
            .on_hover_text(&p.status_reason);
    });
    row.col(|ui| {
        ui.label(Drain::eta_text(p.drain.eta_ms, p.drain.draining))
            .on_hover_text(&p.drain.text);
    });
    row.col(|ui| lost_ui(ui, p.retention.lost_records));
    row.col(|ui| {
        let margin = p
            .retention
            .margin_ms
            .map_or("-".to_owned(), format_duration_ms);
        let label = if p.retention.at_risk {
            ui.colored_label(ui.visuals().warn_fg_color, margin)
        } else {
            ui.label(margin)
        };
        if !p.retention.text.is_empty() {
            label.on_hover_text(&p.retention.text);
        }
    });
}
