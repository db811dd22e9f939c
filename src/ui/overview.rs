//! The Overview tab: every customer of the spec at once. The freshness chain as a row of hop
//! cards against the budget, the customers with unconsumed events worst first (a click looks one
//! up), the blast radius per partition, the store's age histogram with the budget line, and the
//! sampled consumed-but-not-applied estimate. Parts show as the background look finds them.

use egui_plot::{Bar, BarChart, Plot, VLine};

use std::any::Any;

use super::command::{Command, News};
use super::failure::Failure;
use super::groups::BUDGET_COLOR;
use super::jobs::PanelId;
use super::panel::{Cx, Panel, expect};
use super::session::Session;
use crate::freshness::{Census, ChainVerdict, DomainStep, Hop, StoreAge, StoreSample};
use crate::profile::{Budget, Spec, Standing};
use crate::time::format_duration_ms;

const OK_COLOR: egui::Color32 = egui::Color32::from_rgb(80, 180, 100);
/// Behind, but within the budget: worth a look, not a breach.
pub const WARN_COLOR: egui::Color32 = egui::Color32::from_rgb(230, 180, 60);

/// How an age is painted against the budget on every tab: red past it, amber behind within it.
pub fn standing_color(ui: &egui::Ui, standing: Standing) -> egui::Color32 {
    match standing {
        Standing::Past => ui.visuals().error_fg_color,
        Standing::Within => WARN_COLOR,
        Standing::Current => ui.visuals().text_color(),
    }
}
/// Rows of the customer and partition lists drawn; the rest are counted.
const LIST_ROWS: usize = 200;

pub const ID: PanelId = "Overview";

/// What the Overview's buttons ask.
enum Ask {
    Refresh,
    Cancel,
}

#[derive(Default)]
pub struct OverviewPanel {
    pub census: Option<Census>,
    pub store: Option<StoreAge>,
    pub chain: Option<(Vec<Hop>, ChainVerdict)>,
    pub sample: Option<StoreSample>,
    /// The sample's customers and its reading so far.
    sampling: Option<(usize, crate::cluster::ScanProgress)>,
    pub running: bool,
    pub error: Option<Failure>,
    /// Customers sampled for a full lookup each.
    pub sample_size: usize,
    /// The spec the shown look is of, so a newly loaded spec is looked at again.
    pub looked_at: Option<String>,
}

impl OverviewPanel {
    pub fn new() -> Self {
        Self {
            sample_size: crate::freshness::DEFAULT_SAMPLE,
            ..Self::default()
        }
    }

    pub fn clear(&mut self) {
        let sample_size = self.sample_size;
        *self = Self {
            sample_size,
            ..Self::default()
        };
    }

    /// Looks at every customer of the spec in the background; each part shows as it is found.
    fn start(&mut self, cx: &mut Cx<'_>) {
        let (Some(source), Some(spec)) = (cx.session.source.clone(), cx.session.spec.clone())
        else {
            return;
        };
        if !has_builder(&spec) {
            return;
        }
        self.started(&spec.name);
        let decoding = cx.session.decoding();
        let domain = crate::freshness::DomainRequest {
            sample: self.sample_size,
            ..Default::default()
        };
        cx.jobs.start(ID, "look", move |reply| {
            let decoder = decoding.decoder(&spec)?;
            let on_step = |step: DomainStep| reply.send(step);
            crate::freshness::look_at_domain(
                source.as_ref(),
                &spec,
                &decoder,
                &domain,
                source.now_ms(),
                &reply.cancel,
                &on_step,
            )
            .map(|_| ())
            .map_err(Failure::from)
        });
    }

    pub fn started(&mut self, spec_name: &str) {
        self.clear();
        self.running = true;
        self.looked_at = Some(spec_name.to_owned());
    }

    pub fn step(&mut self, step: DomainStep) {
        match step {
            DomainStep::Census(census) => self.census = Some(census),
            DomainStep::Store(store) => self.store = Some(store),
            DomainStep::Chain(chain, verdict) => self.chain = Some((chain, verdict)),
            DomainStep::Sampling {
                customers,
                progress,
            } => self.sampling = Some((customers, progress)),
            DomainStep::Sample(sample) => self.sample = Some(sample),
        }
    }

    pub fn done(&mut self, result: Result<(), Failure>) {
        self.running = false;
        self.sampling = None;
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// How far the look has got: (fraction, what it is doing).
    fn progress(&self) -> (f32, String) {
        if let Some((customers, p)) = &self.sampling {
            return (
                0.3 + 0.7 * p.fraction(),
                format!(
                    "looking {customers} sampled customers up: {} of {} records read",
                    p.scanned,
                    p.to_scan.max(p.scanned)
                ),
            );
        }
        match (&self.census, &self.store, &self.chain) {
            (None, _, _) => (0.0, "reading the builder's unread tails…".into()),
            (Some(_), None, _) => (0.1, "reading the store's latest versions…".into()),
            (Some(_), Some(_), None) => (0.2, "measuring the chain…".into()),
            _ => (0.3, "sampling the store…".into()),
        }
    }

    fn draw(&mut self, ui: &mut egui::Ui, spec: Option<&Spec>, connected: bool) -> Vec<Command> {
        let mut commands = Vec::new();
        let Some(spec) = spec else {
            ui.weak(
                "Load a profile spec in the Profile tab: the overview counts every customer \
                 of its store against its budget.",
            );
            return commands;
        };
        if !has_builder(spec) {
            ui.weak(format!(
                "The spec {} has no [store] builder_group: the overview reads what that group \
                 has not consumed yet. Add it to the spec to see every customer at once.",
                spec.name
            ));
            return commands;
        }
        self.controls_ui(ui, spec, connected, &mut commands);
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error.to_string());
        }
        egui::ScrollArea::vertical()
            .id_salt("overview_scroll")
            .show(ui, |ui| {
                if let Some((chain, verdict)) = &self.chain {
                    chain_ui(ui, chain, verdict);
                    ui.add_space(6.0);
                }
                if let Some(census) = &self.census {
                    census_ui(ui, census, &mut commands);
                }
                if let Some(store) = &self.store {
                    ui.add_space(6.0);
                    store_ui(ui, store, spec.budget);
                }
                if let Some(sample) = &self.sample {
                    ui.add_space(6.0);
                    sample_ui(ui, sample, &mut commands);
                }
            });
        commands
    }

    fn controls_ui(
        &mut self,
        ui: &mut egui::Ui,
        spec: &Spec,
        connected: bool,
        commands: &mut Vec<Command>,
    ) {
        ui.horizontal_wrapped(|ui| {
            ui.heading(format!("Every {} profile", spec.name));
            ui.label(format!("budget {}", spec.budget));
            if let Some(census) = &self.census {
                ui.label(format!(
                    "as of {}",
                    crate::time::format_timestamp(Some(census.as_of_ms))
                ));
            }
            ui.separator();
            ui.label("Sample");
            ui.add(
                egui::DragValue::new(&mut self.sample_size)
                    .range(0..=5_000)
                    .suffix(" customers"),
            )
            .on_hover_text(
                "Customers of the store looked up in full, to estimate how many the builder \
                 consumed but did not apply (0: none)",
            );
            if self.running {
                super::busy::indicator(ui);
                let (fraction, text) = self.progress();
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .desired_width(180.0)
                        .text(text),
                );
                if ui.button("Cancel").clicked() {
                    commands.push(Command::to(ID, Ask::Cancel));
                }
            } else if ui
                .add_enabled(connected, egui::Button::new("Refresh"))
                .on_hover_text("Look at every customer again, as of now")
                .clicked()
            {
                commands.push(Command::to(ID, Ask::Refresh));
            }
        });
    }
}

/// The chain as cards in a row, green within the budget and red past it, and the verdict. The
/// sources feed the builder side by side, so they share one card, a line each.
fn chain_ui(ui: &mut egui::Ui, chain: &[Hop], verdict: &ChainVerdict) {
    match &verdict.breaking_hop {
        Some(hop) => ui.colored_label(BUDGET_COLOR, format!("Out of budget at {hop}")),
        None => ui.colored_label(OK_COLOR, "Every hop within the budget"),
    };
    let sources: Vec<&Hop> = chain.iter().filter(|h| h.kind == "source").collect();
    ui.horizontal_wrapped(|ui| {
        let mut first = true;
        if !sources.is_empty() {
            sources_card(ui, &sources);
            first = false;
        }
        for hop in chain.iter().filter(|h| h.kind != "source") {
            if !first {
                arrow(ui);
            }
            first = false;
            hop_card(ui, hop);
        }
    });
}

fn hop_color(within_budget: bool) -> egui::Color32 {
    if within_budget {
        OK_COLOR
    } else {
        BUDGET_COLOR
    }
}

/// A hop's value in its colour; grey where it could not be measured (the detail says why).
fn value_color(ui: &egui::Ui, hop: &Hop) -> egui::Color32 {
    match hop.value_ms {
        None if hop.within_budget => ui.visuals().weak_text_color(),
        _ => hop_color(hop.within_budget),
    }
}

/// A right arrow between cards (drawn: the default fonts have no arrow glyph).
fn arrow(ui: &mut egui::Ui) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(22.0, 40.0), egui::Sense::hover());
    let stroke = egui::Stroke::new(1.5, ui.visuals().weak_text_color());
    ui.painter().arrow(
        rect.left_center() + egui::vec2(3.0, 0.0),
        egui::vec2(16.0, 0.0),
        stroke,
    );
}

fn sources_card(ui: &mut egui::Ui, sources: &[&Hop]) {
    let color = hop_color(sources.iter().all(|h| h.within_budget));
    egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(2.0, color))
        .show(ui, |ui| {
            ui.vertical(|ui| {
                ui.weak("sources: ingest delay p95 · produced now");
                egui::Grid::new("overview_sources").show(ui, |ui| {
                    for hop in sources {
                        // No recent record to measure: a topic nobody writes to now is idle,
                        // not unknown (the hover says which window was looked at).
                        let value = match (hop.value_ms, hop.produce_per_sec) {
                            (Some(ms), _) => format_duration_ms(ms),
                            (None, Some(0.0)) => "idle".into(),
                            (None, _) => "?".into(),
                        };
                        ui.label(&hop.hop).on_hover_text(&hop.detail);
                        ui.colored_label(value_color(ui, hop), value)
                            .on_hover_text(&hop.detail);
                        ui.small(
                            hop.produce_per_sec
                                .map_or("rate ?".into(), |r| format!("{r:.1}/s")),
                        );
                        ui.end_row();
                    }
                });
            });
        });
}

fn hop_card(ui: &mut egui::Ui, hop: &Hop) {
    // A store written a moment ago that serves profiles older than the budget is not green.
    let stale_profiles = hop.profiles_over_budget.filter(|n| *n > 0);
    let color = match stale_profiles {
        Some(_) if hop.within_budget => WARN_COLOR,
        _ => hop_color(hop.within_budget),
    };
    egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(2.0, color))
        .show(ui, |ui| {
            ui.set_width(200.0);
            ui.vertical(|ui| {
                ui.weak(hop.kind);
                ui.strong(&hop.hop).on_hover_text(&hop.hop);
                let value = hop.value_ms.map_or("?".into(), format_duration_ms);
                let status = hop
                    .status
                    .as_deref()
                    .map(|s| format!(" · {s}"))
                    .unwrap_or_default();
                let value = match stale_profiles {
                    Some(n) => format!("written {value} ago · {n} profiles past the budget"),
                    None => value,
                };
                let value_color = match stale_profiles {
                    Some(_) => color,
                    None => value_color(ui, hop),
                };
                ui.colored_label(
                    value_color,
                    egui::RichText::new(format!("{value}{status}")).strong(),
                );
                if let Some(eta) = hop.eta_ms {
                    ui.small(format!("drains in {}", format_duration_ms(eta)));
                }
                if !hop.detail.is_empty() {
                    ui.add(egui::Label::new(egui::RichText::new(&hop.detail).small()).wrap());
                }
            });
        });
}

/// The customers with unconsumed events (worst first, a click looks one up) beside the blast
/// radius per partition.
fn census_ui(ui: &mut egui::Ui, census: &Census, commands: &mut Vec<Command>) {
    ui.horizontal_wrapped(|ui| {
        ui.strong(format!(
            "Not consumed yet: {} customers, {} over the budget",
            census.customers.len(),
            census.over_budget
        ));
        ui.weak(format!(
            "(builder {}, {} records read)",
            census.builder_group, census.records_read
        ));
    });
    for (n, what) in [
        (
            census.unresolved_keys.len() as u64,
            "keys no link source knows, counted as their own customer",
        ),
        (
            census.keyless_records,
            "tail records without a key, skipped",
        ),
        (
            census.undated_records,
            "tail records without a usable time, not dated",
        ),
        (
            census.undecodable_link_records,
            "link records that could not be decoded",
        ),
    ] {
        if n > 0 {
            ui.colored_label(ui.visuals().warn_fg_color, format!("{n} {what}"));
        }
    }
    if census.customers.is_empty() {
        ui.label("The builder has consumed every source event.");
        return;
    }
    if ui.available_width() > 900.0 {
        ui.columns(2, |columns| {
            customers_ui(&mut columns[0], census, commands);
            partitions_ui(&mut columns[1], census);
        });
    } else {
        customers_ui(ui, census, commands);
        ui.add_space(6.0);
        partitions_ui(ui, census);
    }
}

/// The census tables' height: ten rows in a small window, more where the window has room
/// (the store histogram and the sample below keep theirs).
fn table_height(ui: &egui::Ui) -> f32 {
    (ui.ctx().content_rect().height() - 560.0).clamp(240.0, 600.0)
}

fn customers_ui(ui: &mut egui::Ui, census: &Census, commands: &mut Vec<Command>) {
    ui.label("Stale customers, worst first (click to look one up)");
    egui::ScrollArea::vertical()
        .id_salt("overview_customers")
        .max_height(table_height(ui))
        .auto_shrink([false, true])
        .show(ui, |ui| {
            egui::Grid::new("overview_customers_grid")
                .striped(true)
                .num_columns(4)
                .show(ui, |ui| {
                    ui.weak("customer");
                    ui.weak("behind");
                    ui.weak("events");
                    ui.weak("oldest pending");
                    ui.end_row();
                    for c in census.customers.iter().take(LIST_ROWS) {
                        if ui.link(&c.key).on_hover_text(c.cause).clicked() {
                            commands.push(Command::OpenCustomer(c.key.clone()));
                        }
                        let behind = format_duration_ms(c.behind_ms);
                        if census.budget.is_past(c.behind_ms) {
                            ui.colored_label(BUDGET_COLOR, behind);
                        } else {
                            ui.label(behind);
                        }
                        ui.label(c.pending_events.to_string());
                        ui.label(format!("{}/{}@{}", c.topic, c.partition, c.offset));
                        ui.end_row();
                    }
                });
            if census.customers.len() > LIST_ROWS {
                ui.weak(format!(
                    "… {} more (freshlens stale --json lists them all)",
                    census.customers.len() - LIST_ROWS
                ));
            }
        });
}

fn partitions_ui(ui: &mut egui::Ui, census: &Census) {
    ui.label("Blast radius per partition, oldest first");
    egui::ScrollArea::vertical()
        .id_salt("overview_partitions")
        .max_height(table_height(ui))
        .auto_shrink([false, true])
        .show(ui, |ui| {
            egui::Grid::new("overview_partitions_grid")
                .striped(true)
                .num_columns(5)
                .show(ui, |ui| {
                    ui.weak("partition");
                    ui.weak("builder behind");
                    ui.weak("customers");
                    ui.weak("records");
                    ui.weak("committed of high");
                    ui.end_row();
                    for t in census.by_partition.iter().take(LIST_ROWS) {
                        ui.label(format!("{}/{}", t.topic, t.partition));
                        let behind = t.oldest_pending_ms.map(|at| census.as_of_ms - at);
                        let text = behind.map_or("?".into(), format_duration_ms);
                        if behind.is_some_and(|b| census.budget.is_past(b)) {
                            ui.colored_label(BUDGET_COLOR, text);
                        } else {
                            ui.label(text);
                        }
                        ui.label(t.customers.to_string());
                        ui.label(t.records.to_string());
                        ui.label(format!(
                            "{} of {}",
                            t.committed.map_or("nothing".into(), |o| o.to_string()),
                            t.high
                        ));
                        ui.end_row();
                    }
                });
        });
}

/// The store's age: percentiles and a histogram of every profile's age with the budget line.
fn store_ui(ui: &mut egui::Ui, store: &StoreAge, budget: Budget) {
    ui.strong(format!(
        "Store: {} profiles, age p50 {} · p95 {} · max {}, {} older than the budget",
        store.keys,
        format_duration_ms(store.age_p50_ms),
        format_duration_ms(store.age_p95_ms),
        format_duration_ms(store.age_max_ms),
        store.over_budget
    ));
    if store.deleted + store.undecodable > 0 {
        ui.weak(format!(
            "{} deleted (tombstones), {} undecodable: not aged",
            store.deleted, store.undecodable
        ));
    }
    if store.ages_ms.is_empty() {
        return;
    }
    let bars = age_histogram(&store.ages_ms, budget.ms());
    Plot::new("overview_store_age")
        .height(160.0)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .x_axis_formatter(super::plot_time::duration_axis)
        .x_grid_spacer(egui_plot::uniform_grid_spacer(
            super::plot_time::duration_steps,
        ))
        .y_grid_spacer(egui_plot::uniform_grid_spacer(
            super::plot_time::count_steps,
        ))
        .x_axis_label("age of the latest version")
        .y_axis_label("profiles")
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("profiles", bars));
            plot.vline(VLine::new("budget", budget.secs_f64()).color(BUDGET_COLOR));
        });
}

/// About 30 bars from 0 to past the oldest age and the budget; x in seconds. Bars past the
/// budget are drawn in its colour.
pub fn age_histogram(ages_ms: &[i64], budget_ms: i64) -> Vec<Bar> {
    let top = ages_ms
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(budget_ms)
        .max(1);
    let width = (top / 30).max(1);
    let mut counts = vec![0u64; (top / width + 1) as usize];
    for &age in ages_ms {
        counts[(age.max(0) / width) as usize] += 1;
    }
    counts
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(i, n)| {
            let start = i as i64 * width;
            let bar = Bar::new((start as f64 + width as f64 / 2.0) / 1000.0, *n as f64)
                .width(width as f64 / 1000.0);
            if start >= budget_ms {
                bar.fill(BUDGET_COLOR)
            } else {
                bar.fill(OK_COLOR.gamma_multiply(0.8))
            }
        })
        .collect()
}

fn sample_ui(ui: &mut egui::Ui, sample: &StoreSample, commands: &mut Vec<Command>) {
    ui.strong(format!("Consumed but not applied: {}", sample.summary()))
        .on_hover_text(format!(
            "Seed {}: each sampled customer is looked up in full and its store diff read",
            sample.seed
        ));
    if sample.cancelled {
        ui.weak("The sample was cancelled: these are the lookups that finished.");
    }
    for warning in &sample.placement_warnings {
        ui.colored_label(ui.visuals().warn_fg_color, warning);
    }
    if !sample.failed.is_empty() {
        let (key, why) = &sample.failed[0];
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!(
                "{} lookups failed and are not counted (first: {key}: {why})",
                sample.failed.len()
            ),
        );
    }
    ui.horizontal_wrapped(|ui| {
        for key in &sample.keys {
            if ui.link(key).clicked() {
                commands.push(Command::OpenCustomer(key.clone()));
            }
        }
    });
    if !sample.schema_changes.is_empty() {
        ui.strong(format!(
            "Schema change: {} of {} sampled read a path their producer no longer writes",
            sample.schema_changes.len(),
            sample.n
        ));
        ui.horizontal_wrapped(|ui| {
            for (key, why) in &sample.schema_changes {
                if ui.link(key).on_hover_text(why).clicked() {
                    commands.push(Command::OpenCustomer(key.clone()));
                }
            }
        });
    }
}

fn has_builder(spec: &Spec) -> bool {
    spec.store
        .as_ref()
        .and_then(|s| s.builder_group.as_ref())
        .is_some()
}

impl Panel for OverviewPanel {
    fn id(&self) -> PanelId {
        ID
    }

    fn ui(&mut self, ui: &mut egui::Ui, session: &Session, out: &mut Vec<Command>) {
        out.extend(self.draw(ui, session.spec.as_deref(), session.connected()));
    }

    fn ask(&mut self, ask: Box<dyn Any + Send>, cx: &mut Cx<'_>) {
        match expect::<Ask>(ask, ID) {
            Some(Ask::Refresh) => self.start(cx),
            Some(Ask::Cancel) if cx.jobs.cancel(ID, "look") => {
                self.done(Err(Failure::msg(
                    "cancelled: the parts shown are those found",
                )));
            }
            Some(Ask::Cancel) | None => {}
        }
    }

    fn take(&mut self, message: Box<dyn Any + Send>, _cx: &mut Cx<'_>) {
        let message = match message.downcast::<DomainStep>() {
            Ok(step) => return self.step(*step),
            Err(message) => message,
        };
        if let Some(result) = expect::<Result<(), Failure>>(message, ID) {
            self.done(result);
            crate::memory::give_back();
        }
    }

    fn observe(&mut self, news: &News, _cx: &mut Cx<'_>) {
        // A new source or spec is looked at again (the user stays on the tab they are on).
        if matches!(news, News::SourceChanged | News::SpecChanged) {
            self.clear();
        }
    }

    /// Looks as soon as there is a spec with a builder and a source, and again for each new
    /// spec or source.
    fn tick(&mut self, cx: &mut Cx<'_>, _in_view: bool) {
        let due = cx.session.connected()
            && !cx.jobs.running(ID, "look")
            && self.error.is_none()
            && cx
                .session
                .spec
                .as_ref()
                .is_some_and(|spec| self.looked_at.as_deref() != Some(&spec.name));
        if due {
            self.start(cx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_counts_every_age_and_marks_those_past_the_budget() {
        let ages = [0, 10_000, 20_000, 299_000, 300_000, 900_000];
        let bars = age_histogram(&ages, 300_000);
        let total: f64 = bars.iter().map(|b| b.value).sum();
        assert_eq!(total, ages.len() as f64);
        let late: f64 = bars
            .iter()
            .filter(|b| b.fill == BUDGET_COLOR)
            .map(|b| b.value)
            .sum();
        assert_eq!(late, 2.0, "300 s and 900 s are at or past the 300 s budget");
    }
}
