//! The Profile tab's right side: the folded profile field by field with each value's source,
//! and the store's diff (each stale field, how far behind, its cause, the first event missing).

use super::ProfilePanel;
use crate::profile::Standing;
use crate::time::{format_duration_ms, format_timestamp};
use crate::ui::overview::standing_color;

impl ProfilePanel {
    pub(super) fn fields_ui(&mut self, ui: &mut egui::Ui) {
        let reveal = self.reveal_pii;
        // Without a spec nothing is past a budget: behind is only amber.
        let budget = self.spec.as_ref().map(|s| s.budget);
        let standing = |behind_ms: i64| budget.map_or(Standing::Within, |b| b.standing(behind_ms));
        let profile = self.profile().clone();
        let store = self.result.as_ref().and_then(|r| r.store.clone());
        // An id a `pii` path linked in is a PII value: masked like the others.
        let identities = self.result.as_ref().map(|r| {
            self.pii_mask()
                .pii_ids(&r.timeline)
                .identities(&r.timeline.identities)
                .join(", ")
        });
        let mut jump = None;
        ui.heading("Profile");
        if let Some(ids) = identities {
            ui.label(format!("identities: {ids}"));
        }
        if let Some(erased) = &profile.erased {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("erased at {}", format_timestamp(Some(erased.at.event_ms))),
            );
        }
        let mask = |pii: bool, value: &serde_json::Value| {
            if pii && !reveal {
                "***".to_owned()
            } else {
                value.to_string()
            }
        };
        egui::ScrollArea::vertical()
            .id_salt("fields_scroll")
            .max_height(ui.available_height() * 0.55)
            .show(ui, |ui| {
                egui::Grid::new("fields_grid")
                    .striped(true)
                    .num_columns(5)
                    .show(ui, |ui| {
                        for title in ["Field", "Value", "Rule", "State", "Source"] {
                            ui.strong(title);
                        }
                        ui.end_row();
                        for (name, field) in &profile.fields {
                            // Coloured as in the store diff: red past the budget, amber within.
                            let behind = store.as_ref().and_then(|s| {
                                s.stale
                                    .iter()
                                    .find(|st| &st.field == name)
                                    .map(|st| st.behind_ms)
                            });
                            let text = egui::RichText::new(name);
                            ui.label(match behind {
                                Some(ms) => text.color(standing_color(ui, standing(ms))),
                                None => text,
                            });
                            ui.label(mask(field.pii, &field.value));
                            ui.label(
                                field
                                    .rule
                                    .map_or("last".to_owned(), |r| format!("{r:?}").to_lowercase()),
                            );
                            let state = match (field.usable, field.pii) {
                                (false, _) => "no consent",
                                (true, true) => "PII",
                                (true, false) => "",
                            };
                            ui.label(state);
                            let s = &field.source;
                            if ui
                                .link(short_position(&s.topic, s.partition, s.offset))
                                .on_hover_text(format!("{}/{}@{}", s.topic, s.partition, s.offset))
                                .clicked()
                            {
                                jump = Some((s.topic.clone(), s.partition, s.offset));
                            }
                            ui.end_row();
                        }
                    });
            });
        ui.separator();
        match &store {
            None if self.running => {
                ui.weak("The store is compared once the lookup is done.");
            }
            None if self.spec.as_ref().is_some_and(|s| s.store.is_some()) => {}
            None => {
                ui.weak("No [store] in the spec: nothing to compare.");
            }
            Some(store) => {
                let past = store
                    .stale
                    .iter()
                    .filter(|s| standing(s.behind_ms) == Standing::Past)
                    .count();
                ui.heading(match store.stale.len() {
                    0 => "Store: every field as the events say".to_owned(),
                    n => format!("Store: {n} field(s) behind, {past} past the budget"),
                });
                if let Some(group) = self
                    .spec
                    .as_ref()
                    .and_then(|s| s.store.as_ref())
                    .and_then(|s| s.builder_group.as_deref())
                {
                    ui.label(store.not_consumed.words(group, store.as_of_ms));
                }
                ui.label(format!(
                    "latest version written {} · {} version(s) kept{}",
                    format_timestamp(Some(store.updated_ms)),
                    store.versions,
                    if store.deleted {
                        " · deleted (tombstone)"
                    } else {
                        ""
                    }
                ));
                // One row per stale field, so every field shows in the room there is (cards
                // showed one and a half); when it has been pending since is on hover.
                egui::ScrollArea::both()
                    .id_salt("stale_scroll")
                    .auto_shrink([false, true])
                    .show(ui, |ui| {
                        egui::Grid::new("stale_grid")
                            .striped(true)
                            .num_columns(5)
                            .show(ui, |ui| {
                                for title in [
                                    "Field",
                                    "Behind",
                                    "Expected / served",
                                    "Cause",
                                    "First missing",
                                ] {
                                    ui.strong(title);
                                }
                                ui.end_row();
                                for stale in &store.stale {
                                    let pii =
                                        profile.fields.get(&stale.field).is_some_and(|f| f.pii);
                                    let since = format!(
                                        "pending since {}",
                                        format_timestamp(Some(stale.pending_since_ms))
                                    );
                                    // Read out as a sentence: "orders is stale".
                                    let spoken = format!("{} is stale", stale.field);
                                    // Past the budget red; behind within it amber.
                                    let color = standing_color(ui, standing(stale.behind_ms));
                                    ui.colored_label(color, &stale.field)
                                        .on_hover_text(&since)
                                        .widget_info(|| {
                                            egui::WidgetInfo::labeled(
                                                egui::Role::Label,
                                                true,
                                                &spoken,
                                            )
                                        });
                                    ui.label(format_duration_ms(stale.behind_ms))
                                        .on_hover_text(&since);
                                    ui.label(format!(
                                        "{} / {}",
                                        mask(pii, &stale.expected),
                                        mask(pii, &stale.served)
                                    ));
                                    // The kind of cause in the row, its numbers on hover:
                                    // the row then fits at 1024 px.
                                    let cause = stale.cause.to_string();
                                    let kind = cause.split(':').next().unwrap_or(&cause);
                                    ui.label(kind).on_hover_text(&cause).widget_info(|| {
                                        egui::WidgetInfo::labeled(egui::Role::Label, true, &cause)
                                    });
                                    let p = &stale.pending;
                                    if ui
                                        .link(short_position(&p.topic, p.partition, p.offset))
                                        .on_hover_text(format!(
                                            "the first event the store has not applied: {}/{}@{}",
                                            p.topic, p.partition, p.offset
                                        ))
                                        .clicked()
                                    {
                                        jump = Some((p.topic.clone(), p.partition, p.offset));
                                    }
                                    ui.end_row();
                                }
                            });
                    });
            }
        }
        if let Some((topic, partition, offset)) = jump {
            self.select_event(&topic, partition, offset);
        }
    }
}

/// A record's place in a narrow column: the topic's last dotted part (the whole on hover),
/// its partition and offset: "orders/3@1551" for c360.orders.
fn short_position(topic: &str, partition: i32, offset: i64) -> String {
    let short = topic.rsplit('.').next().unwrap_or(topic);
    format!("{short}/{partition}@{offset}")
}
