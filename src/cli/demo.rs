//! `freshlens demo`: the demo workload, written to a cluster (`seed`) or to a capture file.

use std::io::Write;
use std::path::PathBuf;

use crate::demo::{Demo, DemoConfig, generate};
use crate::time::format_duration_ms;

use super::ConnectArgs;

#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    #[command(subcommand)]
    pub command: DemoCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum DemoCommand {
    /// WRITES to the cluster given with -b: creates <prefix>.* topics, produces the workload
    /// and commits the offsets of its two groups (<prefix>.profile-builder and
    /// <prefix>.risk-features unless named). Refuses non-empty topics and existing groups
    /// unless --force
    Seed {
        #[command(flatten)]
        workload: WorkloadArgs,
        /// Add to topics that already hold records, and commit to groups that already exist
        #[arg(long)]
        force: bool,
    },
    /// Write the workload to a capture file, to open with --capture
    Capture {
        #[command(flatten)]
        workload: WorkloadArgs,
        /// The file to write; zstd-compressed when it ends in .zst
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
    /// Print the demo profile spec (the one in assets/demo/c360.toml) for a prefix
    Spec {
        #[arg(long, default_value = crate::demo::PREFIX)]
        prefix: String,
        /// The group that builds the profile store [default: <prefix>.profile-builder]
        #[arg(long)]
        builder_group: Option<String>,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct WorkloadArgs {
    /// Topic and group name prefix: <prefix>.identity, .consent, .orders, .clicks, .support,
    /// .profiles; <prefix>.profile-builder, .risk-features
    #[arg(long, default_value = crate::demo::PREFIX)]
    pub prefix: String,
    /// Customers (1 to 10 million)
    #[arg(long, default_value_t = 2_000, value_parser = customers())]
    pub customers: usize,
    /// Source events in all (1 to 100 million)
    #[arg(long, default_value_t = 200_000, value_parser = events())]
    pub events: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Partitions of every topic (1 to 1000: each is created, written and committed to)
    #[arg(long, default_value_t = 12, value_parser = partitions())]
    pub partitions: i32,
    /// The end of the generated history, ms since the epoch (default: now)
    #[arg(long)]
    pub end: Option<i64>,
    /// The group that builds the profile store [default: <prefix>.profile-builder]
    #[arg(long)]
    pub builder_group: Option<String>,
    /// The group that stopped hours ago [default: <prefix>.risk-features]
    #[arg(long)]
    pub risk_group: Option<String>,
}

/// How much `demo seed` and `bench` may create: beyond these a run outlasts any timeout and
/// can leave a small broker unresponsive, and none of them is zero (which would write records
/// for no customer, or topics with no partition).
pub const MAX_PARTITIONS: i64 = 1000;
pub const MAX_CUSTOMERS: u64 = 10_000_000;
pub const MAX_EVENTS: u64 = 100_000_000;

pub fn partitions() -> impl clap::builder::TypedValueParser<Value = i32> {
    clap::value_parser!(i32).range(1..=MAX_PARTITIONS)
}

pub fn customers() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(1..=MAX_CUSTOMERS)
}

pub fn events() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(1..=MAX_EVENTS)
}

impl WorkloadArgs {
    pub fn config(&self) -> DemoConfig {
        let under = DemoConfig::under(
            &self.prefix,
            self.end.unwrap_or_else(crate::freshness::now_ms),
        );
        DemoConfig {
            customers: self.customers,
            events: self.events,
            seed: self.seed,
            partitions: self.partitions,
            builder_group: self.builder_group.clone().unwrap_or(under.builder_group),
            risk_group: self.risk_group.clone().unwrap_or(under.risk_group),
            ..under
        }
    }
}

pub fn run(connect: &ConnectArgs, args: &DemoArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    match &args.command {
        DemoCommand::Spec {
            prefix,
            builder_group,
        } => {
            let builder_group = builder_group
                .clone()
                .unwrap_or_else(|| crate::demo::under_prefix(prefix, crate::demo::BUILDER_GROUP));
            write!(out, "{}", crate::demo::spec_text(prefix, &builder_group))?;
            Ok(())
        }
        DemoCommand::Capture { workload, output } => {
            let demo = generate(&workload.config()).map_err(anyhow::Error::msg)?;
            super::capture::save(&demo.capture, output, "freshlens")?;
            writeln!(
                out,
                "wrote {} records to {}",
                demo.capture.record_count(),
                output.display()
            )?;
            summary(&demo, out)
        }
        DemoCommand::Seed { workload, force } => {
            let config = connect.to_config()?;
            let c = workload.config();
            writeln!(
                out,
                "demo seed WRITES to {}: topics {}.*, records, commits of groups {} and {}",
                config.bootstrap, c.prefix, c.builder_group, c.risk_group
            )?;
            let started = std::time::Instant::now();
            let demo = generate(&c).map_err(anyhow::Error::msg)?;
            writeln!(
                out,
                "generated {} records in {} ms",
                demo.capture.record_count(),
                started.elapsed().as_millis()
            )?;
            out.flush()?;
            let report =
                crate::demo::seed::seed(&config, &demo, *force, &mut |done, total, elapsed| {
                    let rate = done as f64 / elapsed.as_secs_f64().max(1e-3);
                    eprintln!("seeding: {done}/{total} records, {rate:.0} records/s");
                })?;
            writeln!(
                out,
                "wrote {} records ({} MB) to {} in {:.1} s ({:.0} records/s); committed {} and {}",
                report.records,
                report.bytes / 1_000_000,
                config.bootstrap,
                report.elapsed.as_secs_f64(),
                report.records as f64 / report.elapsed.as_secs_f64().max(1e-3),
                demo.config.builder_group,
                demo.config.risk_group
            )?;
            summary(&demo, out)
        }
    }
}

fn summary(demo: &Demo, out: &mut dyn Write) -> anyhow::Result<()> {
    let c = &demo.config;
    writeln!(
        out,
        "{} is behind on {}/{} and {}/{} (stalled {}), drops some consent revocations; {} stopped {} ago",
        c.builder_group,
        c.topic("orders"),
        3 % c.partitions,
        c.topic("clicks"),
        7 % c.partitions,
        format_duration_ms(crate::demo::STALL_MS),
        c.risk_group,
        format_duration_ms(crate::demo::RISK_STALLED_MS)
    )?;
    writeln!(
        out,
        "stale customers to look up (spec: freshlens demo spec --prefix {} --builder-group {}):",
        c.prefix, c.builder_group
    )?;
    for customer in &demo.stale {
        writeln!(out, "  {}", customer.key)?;
        for (field, cause) in &customer.fields {
            writeln!(out, "    {field}: {cause}")?;
        }
    }
    Ok(())
}
