//! `freshlens scorecard`: the readiness of a profile domain, row by row, against the spec's
//! `[contract]`. Exit 0 when no row fails, 1 when one does, 2 on errors.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::cluster::CancelToken;
use crate::profile::Spec;
use crate::scorecard::{Row, ScoreRequest, ScoreStep, Scorecard, Target, Verdict};
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
    #[arg(long, value_name = "PATTERN", value_parser = super::compare::rename_pattern)]
    pub rename: Option<String>,
    /// Customers sampled from the store's keys for a full lookup each
    #[arg(long, default_value_t = crate::freshness::DEFAULT_SAMPLE, value_name = "N")]
    pub sample: usize,
    /// Seed of the sample
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Replay the sources for the rebuild row: a field rebuilt differently from the store fails it
    #[arg(long)]
    pub rehearse: bool,
    /// ACLs as `kafka-acls.sh --list` printed them, instead of asking the cluster (which this
    /// client may not be allowed to, or which may answer none)
    #[arg(long, value_name = "FILE")]
    pub acls: Option<PathBuf>,
    /// Also write the scorecard as a report: FILE.html (self-contained, plots inline) or FILE.md
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
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

/// The scorecard of `spec`'s domain on `source`, as the Scorecard tab computes it.
pub fn score(
    source: &dyn Source,
    spec: &Spec,
    args: &ScorecardArgs,
    timeout: std::time::Duration,
) -> anyhow::Result<Scorecard> {
    let decoder = args.registry.decoder(spec, timeout)?;
    let cancel = CancelToken::default();
    let acls = match &args.acls {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading ACLs from {}", path.display()))?;
            let acls = crate::governance::parse_kafka_acls(&text)
                .with_context(|| format!("reading ACLs from {}", path.display()))?;
            Some((format!("the kafka-acls listing {}", path.display()), acls))
        }
        None => None,
    };
    let target = args.target(timeout)?.map(|target| Target {
        // Named as the user named it (a capture's own name is the cluster it came from).
        name: args
            .to
            .clone()
            .or_else(|| args.to_cluster.clone())
            .or_else(|| args.to_capture.as_ref().map(|p| p.display().to_string()))
            .unwrap_or_else(|| target.name()),
        source: target,
        rename: args.rename.clone(),
    });
    let request = ScoreRequest {
        sample: args.sample,
        seed: args.seed,
        timeout,
        acls,
        target,
        rehearse: args.rehearse,
        seen: Vec::new(),
    };
    let on_step = |step: ScoreStep| {
        if let ScoreStep::Gathering(kind) = step
            && !args.json
        {
            let name = serde_json::to_value(kind).unwrap_or_default();
            eprintln!("scoring {}…", name.as_str().unwrap_or_default());
        }
    };
    Ok(crate::scorecard::score(
        source, spec, &decoder, &request, &cancel, &on_step,
    )?)
}

pub fn run(
    source: &dyn Source,
    args: &ScorecardArgs,
    timeout: std::time::Duration,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let spec = Spec::load(&args.spec)?;
    // A report name that cannot be written is refused before the work, not after.
    let report = args.report.as_ref().map(|p| report_format(p)).transpose()?;
    let card = score(source, &spec, args, timeout)?;
    if let (Some(path), Some(format)) = (&args.report, report) {
        std::fs::write(path, format(&card))
            .with_context(|| format!("writing the report {}", path.display()))?;
    }
    if args.json {
        serde_json::to_writer(&mut *out, &card)?;
        writeln!(out)?;
    } else {
        print(&card, out)?;
    }
    if let Some(first) = card.errors.first() {
        anyhow::bail!(
            "{} row(s) could not be scored (printed unknown); first: {first}",
            card.errors.len()
        );
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

type Render = fn(&Scorecard) -> String;

fn report_format(path: &std::path::Path) -> anyhow::Result<Render> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html" | "htm") => Ok(crate::scorecard::html),
        Some("md" | "markdown") => Ok(crate::scorecard::markdown),
        _ => anyhow::bail!("--report {}: name an .html or .md file", path.display()),
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
    let verdict = row.verdict.word();
    let name = serde_json::to_value(row.row)?;
    writeln!(out, "\n{:<11} {verdict}", name.as_str().unwrap_or_default())?;
    writeln!(out, "  passes when {}", row.condition)?;
    for reason in &row.reasons {
        writeln!(out, "  - {reason}")?;
    }
    for line in crate::scorecard::details(row) {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}
