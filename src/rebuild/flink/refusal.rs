//! A construct the SQL cannot express exactly, and why: every one is named, none emitted.

/// A construct the SQL cannot express exactly, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {why}")]
pub struct Refusal {
    pub what: String,
    pub why: String,
}

impl Refusal {
    pub fn new(what: &str, why: impl Into<String>) -> Self {
        Self {
            what: what.to_owned(),
            why: why.into(),
        }
    }
}

/// Every construct refused, so one run names them all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the spec cannot be compiled to Flink SQL exactly ({} reason{}):\n  {}",
    .0.len(),
    if .0.len() == 1 { "" } else { "s" },
    .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  ")
)]
pub struct Refused(pub Vec<Refusal>);
