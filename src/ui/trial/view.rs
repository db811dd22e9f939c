//! How the Trial tab looks: targets and settings, Start/Cancel/Export, the latency of both
//! sides live on one plot, the compatibility table side by side, replay bars and rows.

use egui_plot::{HLine, HoverPosition, Legend, Line, Plot, PlotPoints, Span};

use super::{Ask, ID, LiveSide, TrialPanel};
use crate::scorecard::Verdict;
use crate::time::format_latency_ms;
use crate::trial::result::ProbeResult;
use crate::ui::command::Command;
use crate::ui::plot_time::{log_seconds, log_seconds_axis, log_seconds_marks, log_seconds_ms};
use crate::ui::session::Session;

const COLOURS: [egui::Color32; 2] = [
    egui::Color32::from_rgb(70, 130, 230),
    egui::Color32::from_rgb(230, 120, 40),
];
const NAMES: [&str; 2] = ["candidate", "baseline"];
const PASS: egui::Color32 = egui::Color32::from_rgb(46, 160, 80);
const FAIL: egui::Color32 = egui::Color32::from_rgb(220, 70, 60);

impl TrialPanel {
    pub(super) fn draw(&mut self, ui: &mut egui::Ui, session: &Session) -> Vec<Command> {
        draw(self, ui, session)
    }
}

fn draw(panel: &mut TrialPanel, ui: &mut egui::Ui, session: &Session) -> Vec<Command> {
    let mut commands = Vec::new();
    targets(panel, ui);
    settings(panel, ui);
    ui.horizontal_wrapped(|ui| {
        if panel.running {
            crate::ui::busy::indicator(ui);
            if ui.button("Cancel").clicked() {
                commands.push(Command::to(ID, Ask::Cancel));
            }
            ui.label(format!(
                "writing under {}. — stopped and deleted on Cancel",
                panel.prefix
            ));
        } else {
            if ui
                .button("Start")
                .on_hover_text("Runs the trial: probes, the workload with its burst (and restart), replay")
                .clicked()
            {
                commands.push(Command::to(ID, Ask::Start));
            }
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "Start WRITES to both clusters: topics and groups under freshlens-trial-<random>., deleted at the end unless kept.",
            );
        }
        if panel.report.is_some()
            && ui
                .button("Export report…")
                .on_hover_text("One self-contained HTML page: both sides, plots inline")
                .clicked()
        {
            commands.push(Command::to(ID, Ask::Export));
        }
    });
    if let Some(error) = &panel.error {
        ui.colored_label(ui.visuals().error_fg_color, error.to_string());
    }
    let started = panel.sides.iter().any(|s| !s.bootstrap.is_empty());
    if !started {
        ui.separator();
        ui.weak(
            "A trial runs one bounded profile workload (the demo's, under its own prefix) on a \
             candidate platform and, with a baseline, on today's, one after the other with the \
             same seed and rates: the broker's API versions and functional probes, \
             source-to-store latency at a steady rate, a burst, a broker restart (with a \
             restart command), and replay with 1, 2, 4 readers.",
        );
        if session.connected() && panel.settings.candidate.is_empty() {
            ui.weak("Name the candidate's bootstrap servers above.");
        }
        return commands;
    }
    status(panel, ui);
    let budget_ms = panel
        .report
        .as_ref()
        .map_or((panel.settings.budget_s * 1000.0) as i64, |r| r.budget_ms);
    latency_plot(&panel.sides, budget_ms, ui);
    egui::ScrollArea::vertical()
        .id_salt("trial_scroll")
        .show(ui, |ui| {
            ui.columns(2, |columns| {
                compatibility(&panel.sides, &mut columns[0]);
                rows(&panel.sides, &mut columns[1]);
                replay(&panel.sides, &mut columns[1]);
            });
        });
    commands
}

fn targets(panel: &mut TrialPanel, ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Candidate");
        ui.add(
            egui::TextEdit::singleline(&mut panel.settings.candidate)
                .hint_text("host:port of the platform to trial")
                .desired_width(220.0),
        )
        .labelled_by(label.id);
        let label = ui.label("Baseline");
        ui.add(
            egui::TextEdit::singleline(&mut panel.settings.baseline)
                .hint_text("today's cluster (optional)")
                .desired_width(220.0),
        )
        .labelled_by(label.id);
        ui.menu_button("Properties…", |ui| {
            ui.label("librdkafka properties, key=value a line (never saved)");
            ui.label("candidate");
            ui.add(egui::TextEdit::multiline(&mut panel.candidate_properties).desired_rows(3));
            ui.label("baseline");
            ui.add(egui::TextEdit::multiline(&mut panel.baseline_properties).desired_rows(3));
        });
    });
}

fn settings(panel: &mut TrialPanel, ui: &mut egui::Ui) {
    let s = &mut panel.settings;
    ui.horizontal_wrapped(|ui| {
        ui.label("customers");
        ui.add(egui::DragValue::new(&mut s.customers).range(1..=100_000));
        ui.label("rate");
        ui.add(
            egui::DragValue::new(&mut s.rate)
                .range(1.0..=100_000.0)
                .suffix(" ev/s"),
        );
        ui.label("steady");
        ui.add(
            egui::DragValue::new(&mut s.duration_s)
                .range(1..=3_600)
                .suffix(" s"),
        );
        ui.label("burst ×");
        ui.add(egui::DragValue::new(&mut s.burst_factor).range(1.0..=100.0));
        ui.label("for");
        ui.add(
            egui::DragValue::new(&mut s.burst_s)
                .range(0..=600)
                .suffix(" s"),
        );
        ui.label("budget");
        ui.add(
            egui::DragValue::new(&mut s.budget_s)
                .range(0.01..=3_600.0)
                .suffix(" s"),
        );
        let label = ui.label("replay readers");
        ui.add(egui::TextEdit::singleline(&mut s.replay).desired_width(60.0))
            .labelled_by(label.id);
        let label = ui.label("restart command");
        ui.add(
            egui::TextEdit::singleline(&mut s.restart_cmd)
                .hint_text("sh -c: replaces the candidate's broker (optional)")
                .desired_width(260.0),
        )
        .labelled_by(label.id);
        ui.checkbox(&mut s.keep, "keep topics");
    });
}

fn status(panel: &TrialPanel, ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        for (i, side) in panel.sides.iter().enumerate() {
            if side.bootstrap.is_empty() {
                continue;
            }
            ui.colored_label(COLOURS[i], format!("{} {}", NAMES[i], side.bootstrap));
            let figures = side.done.as_ref().map_or(String::new(), |d| {
                format!(
                    " · p50 {} · p99 {} · burst worst lag {}",
                    d.latency.p50_ms.map_or("–".into(), format_latency_ms),
                    d.latency.p99_ms.map_or("–".into(), format_latency_ms),
                    d.burst
                        .as_ref()
                        .map_or("–".into(), |b| format_latency_ms(b.worst_lag_ms))
                )
            });
            ui.label(format!("{}{figures}", side.phase));
            ui.add_space(12.0);
        }
    });
}

/// Seconds since the side's first interval of each of its intervals' p99, the budget, and
/// the burst and the restart shaded once the side is done. The latency axis is logarithmic:
/// a steady few milliseconds and a restart's tens of seconds both have to read.
fn latency_plot(sides: &[LiveSide; 2], budget_ms: i64, ui: &mut egui::Ui) {
    let height = (ui.available_height() * 0.42).clamp(160.0, 320.0);
    Plot::new("trial_latency")
        .height(height)
        .legend(Legend::default())
        .allow_scroll(false)
        .x_axis_label("seconds from the side's start")
        .y_axis_label("p99 latency (log)")
        .y_axis_formatter(log_seconds_axis)
        .y_grid_spacer(log_seconds_marks)
        .label_formatter(|pos| {
            let (name, at) = match pos {
                HoverPosition::NearDataPoint {
                    plot_name,
                    position,
                    ..
                } => (*plot_name, position),
                HoverPosition::Elsewhere { position } => ("", position),
            };
            let latency = format_latency_ms(log_seconds_ms(at.y));
            Some(format!("{name}\n{:.0}s: {latency}", at.x).trim().to_owned())
        })
        .show(ui, |plot| {
            for (i, side) in sides.iter().enumerate() {
                let Some(first) = side.intervals.first().map(|f| f.start_ms) else {
                    continue;
                };
                let x = |ms: i64| (ms - first) as f64 / 1000.0;
                let points: Vec<[f64; 2]> = side
                    .intervals
                    .iter()
                    .filter_map(|iv| iv.p99_ms.map(|p| [x(iv.start_ms), log_seconds(p)]))
                    .collect();
                plot.line(
                    Line::new(format!("{} p99", NAMES[i]), PlotPoints::from(points))
                        .color(COLOURS[i]),
                );
                if let Some(done) = &side.done {
                    if let Some(b) = &done.burst {
                        plot.span(
                            Span::new("burst", x(b.start_ms)..=x(b.end_ms))
                                .fill(COLOURS[i].gamma_multiply(0.12)),
                        );
                    }
                    if let Some(r) = &done.restart {
                        plot.span(
                            Span::new("restart", x(r.start_ms)..=x(r.end_ms))
                                .fill(FAIL.gamma_multiply(0.15)),
                        );
                    }
                }
            }
            plot.hline(HLine::new("budget", log_seconds(budget_ms)).color(FAIL));
        });
}

fn compatibility(sides: &[LiveSide; 2], ui: &mut egui::Ui) {
    ui.strong("Compatibility");
    let both = !sides[1].bootstrap.is_empty();
    egui::Grid::new("trial_compat")
        .striped(true)
        .num_columns(if both { 3 } else { 2 })
        .show(ui, |ui| {
            ui.strong("request or probe");
            for (i, name) in NAMES.iter().enumerate().take(if both { 2 } else { 1 }) {
                ui.colored_label(COLOURS[i], *name);
            }
            ui.end_row();
            let reference = if sides[0].apis.is_empty() {
                &sides[1]
            } else {
                &sides[0]
            };
            for api in &reference.apis {
                ui.label(format!("{} v{}+", api.name, api.needed));
                for side in sides.iter().take(if both { 2 } else { 1 }) {
                    match side.apis.iter().find(|a| a.key == api.key) {
                        Some(a) => {
                            let text = match (a.min, a.max) {
                                (Some(min), Some(max)) => format!("v{min}–v{max}"),
                                _ => "not served".into(),
                            };
                            let colour = if a.supported {
                                PASS
                            } else if a.required {
                                FAIL
                            } else {
                                ui.visuals().weak_text_color()
                            };
                            ui.colored_label(colour, text);
                        }
                        None => {
                            ui.weak("–");
                        }
                    }
                }
                ui.end_row();
            }
            let reference = if sides[0].probes.is_empty() {
                &sides[1]
            } else {
                &sides[0]
            };
            for probe in &reference.probes {
                ui.label(&probe.name);
                for side in sides.iter().take(if both { 2 } else { 1 }) {
                    match side.probes.iter().find(|p| p.name == probe.name) {
                        Some(p) => {
                            let (word, colour) = match p.result {
                                ProbeResult::Pass => ("pass", PASS),
                                ProbeResult::Fail => ("FAIL", FAIL),
                                ProbeResult::Skipped => ("skipped", ui.visuals().weak_text_color()),
                            };
                            ui.colored_label(colour, word).on_hover_text(&p.detail);
                        }
                        None => {
                            ui.weak("–");
                        }
                    }
                }
                ui.end_row();
            }
        });
}

fn rows(sides: &[LiveSide; 2], ui: &mut egui::Ui) {
    ui.strong("Rows");
    for (i, side) in sides.iter().enumerate() {
        let Some(done) = &side.done else { continue };
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(COLOURS[i], NAMES[i]);
            for row in &done.rows {
                let colour = match row.verdict {
                    Verdict::Pass => PASS,
                    Verdict::Fail => FAIL,
                    Verdict::Unknown => ui.visuals().weak_text_color(),
                };
                ui.colored_label(
                    colour,
                    format!("{} {}", row.row.title(), row.verdict.word()),
                )
                .on_hover_text(if row.reasons.is_empty() {
                    row.condition.clone()
                } else {
                    row.reasons.join("\n")
                });
            }
        });
        if let Some(r) = &done.restart {
            ui.label(format!(
                "restart: unavailable {}, {} of {} acknowledged read back, {} lost, {} duplicate(s)",
                format_latency_ms(r.unavailable_ms),
                r.read_back,
                r.acknowledged,
                r.lost,
                r.duplicates
            ));
        }
        for e in &done.errors {
            ui.colored_label(ui.visuals().warn_fg_color, e);
        }
    }
}

/// One bar per side and reader count, its length the records/s against the fastest.
fn replay(sides: &[LiveSide; 2], ui: &mut egui::Ui) {
    if sides.iter().all(|s| s.replay.is_empty()) {
        return;
    }
    ui.strong("Replay");
    let top = sides
        .iter()
        .flat_map(|s| s.replay.iter().map(|r| r.records_per_s))
        .fold(1.0_f64, f64::max);
    egui::Grid::new("trial_replay")
        .num_columns(2)
        .show(ui, |ui| {
            for (i, side) in sides.iter().enumerate() {
                for r in &side.replay {
                    ui.colored_label(
                        COLOURS[i],
                        format!("{}, {} reader(s)", NAMES[i], r.consumers),
                    );
                    ui.add(
                        egui::ProgressBar::new((r.records_per_s / top) as f32)
                            .fill(COLOURS[i])
                            .desired_width(260.0)
                            .text(format!(
                                "{:.0} records/s · {:.2} MB/s",
                                r.records_per_s, r.mb_per_s
                            )),
                    );
                    ui.end_row();
                }
            }
        });
}
