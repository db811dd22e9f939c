//! What a trial found, as `trial --json` prints it and the Trial tab and report show it:
//! `{"candidate":{...},"baseline":{...}|null,"prefix","seed"}`.

use serde::Serialize;

use crate::scorecard::Row;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrialReport {
    pub candidate: Side,
    pub baseline: Option<Side>,
    pub prefix: String,
    pub seed: u64,
    /// The spec budget latency is judged against.
    pub budget_ms: i64,
    /// Whether the trial's topics and groups were deleted at the end (`--keep` leaves them).
    pub cleaned_up: bool,
    /// With a baseline: what differs between the two, in words.
    pub differences: Vec<String>,
}

/// One platform's results.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Side {
    pub bootstrap: String,
    pub compatibility: Compatibility,
    pub latency: Latency,
    pub burst: Option<Burst>,
    pub restart: Option<Restart>,
    pub replay: Vec<ReplayRate>,
    pub rows: Vec<Row>,
    /// Steps that could not run, each "step: error"; their figures are missing, not zero.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Compatibility {
    pub apis: Vec<ApiSupport>,
    pub probes: Vec<Probe>,
}

/// One request type a profile pipeline sends, and the versions the broker says it serves.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApiSupport {
    pub name: String,
    pub key: i16,
    /// The broker's lowest and highest version; `None` when it does not serve the request.
    pub min: Option<i16>,
    pub max: Option<i16>,
    /// The lowest version that carries what the pipeline relies on (headers need Produce v3,
    /// isolation levels Fetch v4…).
    pub needed: i16,
    /// Whether a profile pipeline cannot do without it (KIP-848's protocol is optional).
    pub required: bool,
    /// Served at `needed` or above.
    pub supported: bool,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProbeResult {
    Pass,
    Fail,
    Skipped,
}

/// A functional probe compared with Apache Kafka's documented behaviour.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Probe {
    pub name: String,
    pub result: ProbeResult,
    /// What was seen, and for a failure what Kafka would have answered.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Latency {
    pub intervals: Vec<Interval>,
    /// Source event produced → store version carrying it acknowledged, over the whole run.
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
    pub p99_ms: Option<i64>,
    /// Events the schedule called for at the rate (and burst), and those the broker
    /// acknowledged: fewer when it fell so far behind that the client's buffer filled.
    pub offered: u64,
    pub produced: u64,
    /// Events applied to the store, and those applied within the budget.
    pub applied: u64,
    pub within_budget: u64,
}

/// One interval of the run (by the time the store version was acknowledged).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Interval {
    pub start_ms: i64,
    /// Latency percentiles of the events applied in it (nearest rank); `None` when none were.
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
    pub p99_ms: Option<i64>,
    /// Source records acknowledged by the broker in it.
    pub produced: u64,
    /// Source records whose store version was acknowledged in it.
    pub applied: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Burst {
    pub factor: f64,
    pub start_ms: i64,
    pub end_ms: i64,
    /// The longest source-to-store latency of an event produced during or after the burst.
    pub worst_lag_ms: i64,
    /// From the burst's end until the last event over the budget was applied (0 when none
    /// was); `None` when the run ended still over it.
    pub back_within_budget_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Restart {
    pub command: String,
    pub start_ms: i64,
    pub end_ms: i64,
    /// The command's exit status (`None` when it could not start, or a signal ended it).
    pub exit_code: Option<i32>,
    /// It had not ended four settling times after it started, and was stopped.
    pub killed: bool,
    /// The longer of the two gaps below.
    pub unavailable_ms: i64,
    /// The longest time without a produce acknowledgement while records were waiting, around
    /// the restart.
    pub produce_unavailable_ms: i64,
    /// The longest time the builder applied nothing while records were waiting.
    pub consume_unavailable_ms: i64,
    /// Source records the broker acknowledged before the command started.
    pub acknowledged: u64,
    /// Of those, found at their offsets, with their bytes, when read back after it.
    pub read_back: u64,
    pub lost: u64,
    /// The first lost positions, "topic/partition@offset".
    pub lost_offsets: Vec<String>,
    /// Records of the whole run found more than once when read back (a produce retried).
    pub duplicates: u64,
    /// From the command's end until the last event over the budget was applied.
    pub back_within_budget_ms: Option<i64>,
    /// Records the broker refused, or that timed out, during the run (not those the client
    /// dropped itself when the run ended with the broker behind).
    pub produce_errors: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReplayRate {
    pub consumers: u32,
    pub records: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub records_per_s: f64,
    pub mb_per_s: f64,
}
