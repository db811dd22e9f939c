//! The Compare tab against a target with many groups (a checkpoints topic that translates none
//! of them: a reason per group): the verdict folds its repeated reasons,
//! the customer comes before the tables, and the groups table keeps its header in view
//! within its own height, drawn at 1024×700 and 1600×1000.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use super::compare::ComparePanel;
use super::panel::Panel as _;
use super::session::Session;
use crate::migrate::{Comparison, GroupPartition, GroupSides};

fn many_groups() -> Comparison {
    let groups: Vec<GroupSides> = (0..600)
        .map(|g| GroupSides {
            group: format!("team-{g:03}.consumer"),
            partitions: (0..4)
                .map(|p| GroupPartition {
                    topic: "c360.orders".into(),
                    partition: p,
                    source_committed: 1_000 + i64::from(p),
                    translated: None,
                    target_committed: None,
                    target_high: Some(0),
                    replay: None,
                    skip: None,
                    checkpoint_age_ms: None,
                    translated_by: "none",
                })
                .collect(),
            untranslated: 4,
            error: None,
            target_error: None,
        })
        .collect();
    let reasons = groups
        .iter()
        .map(|g| format!("group {}: 4 partitions without a checkpoint", g.group))
        .collect();
    Comparison {
        customer: None,
        topics: Vec::new(),
        groups,
        checkpoints_topic: Some("src.checkpoints.internal".into()),
        undecodable_checkpoints: 0,
        reasons,
    }
}

fn compare_at(size: egui::Vec2) -> Harness<'static, (ComparePanel, Session)> {
    let mut panel = ComparePanel::default();
    panel.done(Ok(many_groups()));
    Harness::builder().with_size(size).build_ui_state(
        |ui, (panel, session): &mut (ComparePanel, Session)| {
            let mut out = Vec::new();
            panel.ui(ui, session, &mut out);
        },
        (panel, Session::default()),
    )
}

#[track_caller]
fn check(size: egui::Vec2) {
    let mut harness = compare_at(size);
    harness.run_steps(3);
    // Eight reasons, then one fold for the other 592: not 600 lines.
    harness.get_by_label("Not ready to cut over: 600 reason(s)");
    harness.get_by_label("592 more");
    assert_eq!(
        harness
            .query_all_by_label_contains("partitions without a checkpoint")
            .count(),
        8
    );
    // 2,400 partition rows start folded; opened, only what fits is drawn, under its header.
    harness
        .get_by_label_contains("Groups (600, 2400 partitions")
        .click();
    harness.run_steps(3);
    harness.get_by_label("checkpoint age");
    let drawn = harness.query_all_by_label("untranslated").count();
    assert!(
        (5..60).contains(&drawn),
        "{drawn} rows drawn of 2,400: the table must scroll within its own height"
    );
    let options = egui_kittest::SnapshotOptions::new().max_failed_pixels(4_000);
    harness.snapshot_options(
        format!("compare_many_groups_{}x{}", size.x, size.y),
        &options,
    );
}

#[test]
fn compare_with_many_groups_at_1024x700() {
    check(egui::vec2(1024.0, 700.0));
}

#[test]
fn compare_with_many_groups_at_1600x1000() {
    check(egui::vec2(1600.0, 1000.0));
}
