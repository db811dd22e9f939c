//! `freshlens scorecard`: the readiness of a profile domain, row by row, against the spec's
//! `[contract]`. Exit 0 when no row fails, 1 when one does, 2 on errors.

use std::io::Write;
use std::path::PathBuf;

use crate::cluster::CancelToken;
use crate::freshness::{DomainRequest, look_at_domain};
use crate::profile::Spec;
use crate::scorecard::{
    Row, Scorecard, Verdict, freshness_row, migration_row, no_migration_target, rebuild_row,
};
use crate::source::Source;

#[derive(Debug, Clone, clap::Args)]
pub struct ScorecardArgs {
    /// Profile spec (TOML) with a [store], its builder_group, and a [contract]
    #[arg(long)]
    pub spec: PathBuf,
    /// Migration target: bootstrap servers of the cluster to compare with
    #[arg(long, value_name = "BOOTSTRAP")]
    pub to: Option<String>,
    /// librdkafka property of the target (repeatable)
    #[arg(long = "to-X", value_name = "KEY=VALUE")]
    pub to_properties: Vec<String>,
    /// Properties file of the target
    #[arg(long = "to-F", value_name = "FILE")]
    pub to_properties_file: Option<PathBuf>,
    /// A cluster saved in the GUI as the target
    #[arg(long = "to-cluster", value_name = "NAME", conflicts_with_all = ["to", "to_capture"])]
    pub to_cluster: Option<String>,
    /// A capture file as the target
    #[arg(long = "to-capture", value_name = "FILE", conflicts_with = "to")]
    pub to_capture: Option<PathBuf>,
    /// The target's name for each source topic, e.g. "backup.{topic}" (default: detected)
    #[arg(long, value_name = "PATTERN")]
    pub rename: Option<String>,
    /// Customers sampled from the store's keys for a full lookup each
    #[arg(long, default_value_t = crate::freshness::DEFAULT_SAMPLE, value_name = "N")]
    pub sample: usize,
    /// Seed of the sample
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub registry: super::profile::RegistryArgs,
}

/// Some row failed: printed, and the command exits 1.
#[derive(Debug, thiserror::Error)]
#[error("{0} row(s) failed")]
pub struct RowsFailed(pub usize);

impl ScorecardArgs {
    fn target(&self, timeout: std::time::Duration) -> anyhow::Result<Option<Box<dyn Source>>> {
        if self.to.is_none() && self.to_cluster.is_none() && self.to_capture.is_none() {
            return Ok(None);
        }
        let connect = super::ConnectArgs {
            bootstrap: self.to.clone(),
            properties: self.to_properties.clone(),
            properties_file: self.to_properties_file.clone(),
            cluster: self.to_cluster.clone(),
            capture: self.to_capture.clone(),
            timeout_secs: timeout.as_secs().max(1),
            ..Default::default()
        };
        Ok(Some(connect.open()?))
    }
}

pub fn score(
    source: &dyn Source,
    spec: &Spec,
    args: &ScorecardArgs,
    timeout: std::time::Duration,
) -> anyhow::Result<Scorecard> {
    let decoder = args.registry.decoder(spec, timeout)?;
    let cancel = CancelToken::default();
    let now = source.now_ms();
    let request = DomainRequest {
        sample: args.sample,
        seed: args.seed,
        connect: None,
        timeout,
    };
    let domain = look_at_domain(source, spec, &decoder, &request, now, &cancel, &|_| {})?;
    let mut topics = Vec::new();
    let store = spec.store.iter().map(|s| s.topic.as_str());
    for topic in spec.sources.iter().map(|s| s.topic.as_str()).chain(store) {
        topics.push(source.topic(topic)?);
    }
    let readiness = crate::rebuild::readiness(source, spec, &cancel)?;
    let migration = match args.target(timeout)? {
        Some(target) => {
            // The domain's topics and its builder group: the rest of the cluster is not this
            // scorecard's.
            let request = crate::migrate::CompareRequest {
                rename: args.rename.clone(),
                topics: spec
                    .sources
                    .iter()
                    .map(|s| s.topic.clone())
                    .chain(spec.store.iter().map(|s| s.topic.clone()))
                    .collect(),
                groups: spec
                    .store
                    .iter()
                    .filter_map(|s| s.builder_group.clone())
                    .collect(),
                ..Default::default()
            };
            let found = crate::migrate::compare(source, target.as_ref(), &request, &cancel)?;
            // Named as the user named it (a capture's own name is the cluster it came from).
            let named = args
                .to
                .clone()
                .or_else(|| args.to_cluster.clone())
                .or_else(|| args.to_capture.as_ref().map(|p| p.display().to_string()))
                .unwrap_or_else(|| target.name());
            migration_row(&named, &found)
        }
        None => no_migration_target(),
    };
    Ok(Scorecard {
        domain: spec.name.clone(),
        as_of_ms: now,
        budget_ms: spec.budget.ms(),
        rows: vec![
            freshness_row(spec, &domain, &topics),
            rebuild_row(spec, &readiness),
            migration,
        ],
    })
}

pub fn run(
    source: &dyn Source,
    args: &ScorecardArgs,
    timeout: std::time::Duration,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let spec = Spec::load(&args.spec)?;
    let card = score(source, &spec, args, timeout)?;
    if args.json {
        serde_json::to_writer(&mut *out, &card)?;
        writeln!(out)?;
    } else {
        print(&card, out)?;
    }
    match card
        .rows
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .count()
    {
        0 => Ok(()),
        n => Err(RowsFailed(n).into()),
    }
}

fn print(card: &Scorecard, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "{}: readiness as of {}, budget {}",
        card.domain,
        crate::time::format_timestamp(Some(card.as_of_ms)),
        crate::time::format_duration_ms(card.budget_ms)
    )?;
    for row in &card.rows {
        print_row(row, out)?;
    }
    Ok(())
}

fn print_row(row: &Row, out: &mut dyn Write) -> anyhow::Result<()> {
    let verdict = match row.verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Unknown => "UNKNOWN",
    };
    let name = serde_json::to_value(row.row)?;
    writeln!(out, "\n{:<11} {verdict}", name.as_str().unwrap_or_default())?;
    writeln!(out, "  passes when {}", row.condition)?;
    for reason in &row.reasons {
        writeln!(out, "  - {reason}")?;
    }
    for (key, value) in &row.evidence {
        // Tables (the chain, the fields) are in --json; the text keeps to the numbers.
        if !value.is_array() && !value.is_object() {
            writeln!(out, "  {key}: {value}")?;
        }
    }
    Ok(())
}
