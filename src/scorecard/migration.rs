//! The migration row: the comparison with a target cluster (topics, groups translated through
//! MirrorMaker 2's checkpoints, the customer on both sides); without a target, unknown.

use serde_json::json;

use super::row::{Row, RowKind, evidence};
use crate::migrate::Comparison;

const CONDITION: &str =
    "a cutover to the target now keeps every topic's records and every group's position";

pub fn migration_row(target: &str, found: &Comparison) -> Row {
    // What could not be read says nothing either way: the row cannot pass on it, nor fail.
    let (unknown, failures): (Vec<String>, Vec<String>) =
        found.reasons.iter().cloned().partition(|r| {
            [
                "could not be read",
                "could not be compared",
                "stopped answering",
            ]
            .iter()
            .any(|unread| r.contains(unread))
        });
    let untranslated: usize = found.groups.iter().map(|g| g.untranslated).sum();
    let missing: i64 = found
        .topics
        .iter()
        .flat_map(|t| &t.partitions)
        .map(|p| p.missing)
        .sum();
    Row::judged(
        RowKind::Migration,
        CONDITION.into(),
        evidence([
            ("target", json!(target)),
            ("topics", json!(found.topics.len())),
            ("groups", json!(found.groups.len())),
            ("untranslated_partitions", json!(untranslated)),
            ("records_missing_on_target", json!(missing)),
            ("checkpoints_topic", json!(found.checkpoints_topic)),
        ]),
        failures,
        unknown,
    )
}

/// Without a target there is nothing to compare with.
pub fn no_migration_target() -> Row {
    Row::judged(
        RowKind::Migration,
        CONDITION.into(),
        evidence([("target", json!(null))]),
        Vec::new(),
        Some("no migration target: name one with --to (or --to-capture, --to-cluster)".into()),
    )
}
