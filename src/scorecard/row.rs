//! A scorecard row and the scorecard: the types every row's file builds and every view reads.

use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowKind {
    Freshness,
    Rebuild,
    Governance,
    Elasticity,
    Cost,
    Migration,
    /// A candidate platform's requests and behaviours (`trial`).
    Compatibility,
}

impl Row {
    /// A row whose evidence could not be read: unknown, saying why.
    pub fn unreadable(kind: RowKind, error: &str) -> Self {
        Self {
            row: kind,
            verdict: Verdict::Unknown,
            condition: "(not scored: its evidence could not be read)".into(),
            evidence: Map::new(),
            reasons: vec![format!("its evidence could not be read: {error}")],
        }
    }
}

impl RowKind {
    /// The row's name for people: "Freshness".
    pub fn title(self) -> &'static str {
        match self {
            RowKind::Freshness => "Freshness",
            RowKind::Rebuild => "Rebuild",
            RowKind::Governance => "Governance",
            RowKind::Elasticity => "Elasticity",
            RowKind::Cost => "Cost",
            RowKind::Migration => "Migration",
            RowKind::Compatibility => "Compatibility",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Unknown,
}

impl Verdict {
    /// As text output, reports and the tab show it: "PASS".
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Unknown => "UNKNOWN",
        }
    }
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
    /// A row judged from its failures and what keeps it from passing (no target, no evidence):
    /// any failure fails it; else any such reason makes it unknown; else it passes.
    pub fn judged(
        row: RowKind,
        condition: String,
        evidence: Map<String, Value>,
        failures: Vec<String>,
        cannot_pass: impl IntoIterator<Item = String>,
    ) -> Self {
        let unknown: Vec<String> = cannot_pass.into_iter().collect();
        let (verdict, reasons) = match (failures.is_empty(), unknown.is_empty()) {
            (false, _) => (Verdict::Fail, failures),
            (true, false) => (Verdict::Unknown, unknown),
            (true, true) => (Verdict::Pass, Vec::new()),
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
    /// Rows whose evidence could not be read ("governance: …"): each is unknown with the
    /// error as its reason, and the command exits 2.
    pub errors: Vec<String>,
}

impl Scorecard {
    /// The exit status scripts read: 0 when no row fails, 1 when one does.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.rows.iter().any(|r| r.verdict == Verdict::Fail))
    }
}

/// `value` as JSON evidence (a value that does not serialize is left out: none here do).
pub fn evidence(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// A topic's `cleanup.policy` as configured, and whether it compacts.
pub(super) fn cleanup_policy(configs: &[(String, String)]) -> (Option<String>, bool) {
    let policy = configs
        .iter()
        .find(|(k, _)| k == "cleanup.policy")
        .map(|(_, v)| v.clone());
    let compacted = policy
        .as_deref()
        .is_some_and(|p| p.split(',').any(|p| p.trim() == "compact"));
    (policy, compacted)
}
