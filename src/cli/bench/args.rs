//! `freshlens bench`'s flags, which every bench mode reads.

use crate::cli::demo;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Source events to seed (1 to 100 million)
    #[arg(long, default_value_t = 1_000_000, value_parser = demo::events())]
    pub events: usize,
    /// Customers (1 to 10 million)
    #[arg(long, default_value_t = 20_000, value_parser = demo::customers())]
    pub customers: usize,
    /// Partitions of every topic (1 to 1000)
    #[arg(long, default_value_t = 12, value_parser = demo::partitions())]
    pub partitions: i32,
    /// Customers to look up, chosen by --seed
    #[arg(long, default_value_t = 20)]
    pub lookups: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    #[arg(long, default_value = "bench")]
    pub prefix: String,
    /// Reuse topics seeded by an earlier run with the same flags
    #[arg(long)]
    pub reuse: bool,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
    /// Instead of lookups: one look at N committed consumer groups (creates them)
    #[arg(long, value_name = "N")]
    pub groups: Option<usize>,
    /// With --groups: topics to spread the groups over
    #[arg(long, default_value_t = 366)]
    pub group_topics: usize,
    /// With --groups or --stale: looks to measure
    #[arg(long, default_value_t = 7)]
    pub rounds: usize,
    /// Instead of lookups: `freshlens stale` on the workload, part by part, beside raw reads
    /// of the same records
    #[arg(long)]
    pub stale: bool,
    /// Instead of lookups: `freshlens rebuild --rehearse` on the workload beside a raw full read
    #[arg(long)]
    pub rebuild: bool,
    /// Instead of lookups: `freshlens keys` on the workload's source topics (sampled, and the
    /// key choice with the spec) beside raw reads of the same records
    #[arg(long)]
    pub keys: bool,
    /// With --stale: customers sampled for a full lookup each
    #[arg(long, default_value_t = 200)]
    pub sample: usize,
}
