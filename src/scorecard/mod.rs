//! The readiness scorecard of a profile domain: rows scored against the spec's `[contract]`,
//! each with its verdict, the condition in words, the evidence as numbers, and reasons that name
//! the topic, partition, group or principal responsible. A row never passes without evidence:
//! missing data, or no target to hold it to, makes it unknown and says why.

mod bursts;
mod cost;
mod details;
mod elasticity;
mod freshness;
mod governance;
mod migration;
mod rebuild;
mod report;
mod row;
mod score;

pub use bursts::{Burst, CommitTrail, bursts, judge_bursts};
pub use cost::{Envelope, TopicCost, cost_facts, cost_row, envelopes};
pub use details::details;
pub use elasticity::{ElasticityFacts, elasticity_facts, elasticity_row};
pub use freshness::freshness_row;
pub use governance::{GovernanceFacts, governance_facts, governance_row};
pub use migration::{migration_row, no_migration_target};
pub use rebuild::rebuild_row;
pub use report::{
    CSS as REPORT_CSS, class as verdict_class, escape as html_escape, html, markdown,
};
pub use row::{Row, RowKind, Scorecard, Verdict, evidence};
pub use score::{ScoreError, ScoreRequest, ScoreStep, Target, score};
