//! The readiness scorecard of a profile domain: rows scored against the spec's `[contract]`,
//! each with its verdict, the condition in words, the evidence as numbers, and reasons that name
//! the topic, partition, group or principal responsible. A row never passes without evidence:
//! missing data, or no target to hold it to, makes it unknown and says why.

mod freshness;
mod migration;
mod rebuild;

use serde::Serialize;
use serde_json::{Map, Value};

pub use freshness::freshness_row;
pub use migration::{migration_row, no_migration_target};
pub use rebuild::rebuild_row;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowKind {
    Freshness,
    Rebuild,
    Governance,
    Elasticity,
    Cost,
    Migration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub row: RowKind,
    pub verdict: Verdict,
    /// When the row passes, in words.
    pub condition: String,
    /// The numbers the verdict rests on.
    pub evidence: Map<String, Value>,
    /// What failed, or why the row is unknown, naming what is responsible.
    pub reasons: Vec<String>,
}

impl Row {
    /// A row judged from its failures and whether there is a target and evidence to pass on:
    /// any failure fails it; else it passes only with both.
    fn judged(
        row: RowKind,
        condition: String,
        evidence: Map<String, Value>,
        failures: Vec<String>,
        cannot_pass: Option<String>,
    ) -> Self {
        let (verdict, reasons) = match (failures.is_empty(), cannot_pass) {
            (false, _) => (Verdict::Fail, failures),
            (true, Some(why)) => (Verdict::Unknown, vec![why]),
            (true, None) => (Verdict::Pass, Vec::new()),
        };
        Self {
            row,
            verdict,
            condition,
            evidence,
            reasons,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    pub domain: String,
    pub as_of_ms: i64,
    pub budget_ms: i64,
    pub rows: Vec<Row>,
}

impl Scorecard {
    /// The exit status scripts read: 0 when no row fails, 1 when one does.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.rows.iter().any(|r| r.verdict == Verdict::Fail))
    }
}

/// `value` as JSON evidence (a value that does not serialize is left out: none here do).
fn evidence(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
