//! The demo workload's settings and the names it writes under: topics and groups under a
//! prefix (`c360.orders`, `c360.profile-builder`).

/// The group that builds the profile store, under the prefix: `c360.profile-builder`.
pub const BUILDER_GROUP: &str = "profile-builder";
/// The group that stopped, under the prefix: `c360.risk-features`.
pub const RISK_GROUP: &str = "risk-features";
/// The prefix of `--demo` and of `demo seed` unless told otherwise.
pub const PREFIX: &str = "c360";
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    pub prefix: String,
    pub customers: usize,
    /// Source events in all.
    pub events: usize,
    pub seed: u64,
    /// The end of the generated history ("now" for the demo).
    pub end_ms: i64,
    pub span_ms: i64,
    pub partitions: i32,
    /// How often the builder writes the store.
    pub batch_ms: i64,
    pub builder_group: String,
    pub risk_group: String,
}

impl DemoConfig {
    /// The `--demo` workload, ending at `end_ms`.
    pub fn new(end_ms: i64) -> Self {
        Self::under(PREFIX, end_ms)
    }

    /// The `--demo` workload with its topics and groups named under `prefix`, ending at
    /// `end_ms`.
    pub fn under(prefix: &str, end_ms: i64) -> Self {
        Self {
            prefix: prefix.into(),
            customers: 2_000,
            events: 200_000,
            seed: 7,
            end_ms,
            span_ms: 6 * 3_600_000,
            partitions: 12,
            batch_ms: 600_000,
            builder_group: under_prefix(prefix, BUILDER_GROUP),
            risk_group: under_prefix(prefix, RISK_GROUP),
        }
    }

    pub fn topic(&self, name: &str) -> String {
        under_prefix(&self.prefix, name)
    }
}

/// A topic's or group's name under `prefix`: `c360.orders`, `c360.profile-builder`.
pub fn under_prefix(prefix: &str, name: &str) -> String {
    format!("{prefix}.{name}")
}
