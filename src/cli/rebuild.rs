//! `freshlens rebuild`: can the spec's store be rebuilt from what the cluster retains, and how
//! long would it take; with `--rehearse`, replay it and say what a rebuild would change.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cluster::{CancelToken, ScanProgress};
use crate::profile::Spec;
use crate::rebuild::{Readiness, Rehearsal, RehearseRequest, readiness, rehearse};
use crate::source::Source;
use crate::time::{format_duration_ms, format_timestamp};

#[derive(Debug, Clone, clap::Args)]
pub struct RebuildArgs {
    /// Profile spec (TOML) with a [store]
    #[arg(long)]
    pub spec: PathBuf,
    /// Replay every retained record, fold every customer and compare with the store
    #[arg(long)]
    pub rehearse: bool,
    /// With --rehearse: only the customers of these partitions (comma-separated), scaled to
    /// the whole store
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "LIST",
        requires = "rehearse"
    )]
    pub partitions: Option<Vec<i32>>,
    /// Example customers listed per field and class
    #[arg(long, default_value_t = 5)]
    pub examples: usize,
    /// Show `pii` fields' values in the examples
    #[arg(long)]
    pub reveal_pii: bool,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub registry: super::profile::RegistryArgs,
    /// Print a job instead: `flink-sql`, a Flink SQL script (batch mode) that rehearses the
    /// rebuild (and with --sink-topic performs it) on Flink
    #[arg(long, value_enum, value_name = "FORMAT", conflicts_with_all = ["rehearse", "json"])]
    pub emit: Option<Emit>,
    /// With --emit: write the script to FILE instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE", requires = "emit")]
    pub output: Option<PathBuf>,
    /// With --emit: also write the rebuilt profiles to topic T (upsert by key, the store's layout)
    #[arg(long, value_name = "T", requires = "emit")]
    pub sink_topic: Option<String>,
    /// With --emit: read a capture instead of the cluster (the filesystem connector over
    /// JSON-lines files written to --out, beside the script)
    #[arg(long, value_name = "FILE", requires_all = ["emit", "out"])]
    pub from_capture: Option<PathBuf>,
    /// With --from-capture: the folder the files, the script (job.sql unless -o) and the
    /// results go to
    #[arg(long, value_name = "DIR", requires = "from_capture")]
    pub out: Option<PathBuf>,
    /// With --emit and a cluster: the filesystem URI the job writes its results under
    #[arg(
        long,
        value_name = "URI",
        requires = "emit",
        conflicts_with = "from_capture"
    )]
    pub results: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    /// A Flink SQL script
    FlinkSql,
}

pub fn run(
    source: &dyn Source,
    args: &RebuildArgs,
    timeout: Duration,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let spec = Spec::load(&args.spec)?;
    let cancel = CancelToken::default();
    let ready = readiness(source, &spec, &cancel)?;
    let rehearsal = if args.rehearse {
        let decoder = args.registry.decoder(&spec, timeout)?;
        // Ctrl-C stops the replay; what was compared so far is printed, marked cancelled.
        let stop = cancel.clone();
        let _ = ctrlc::set_handler(move || stop.cancel());
        let request = RehearseRequest {
            partitions: args.partitions.clone(),
            examples: args.examples,
            reveal_pii: args.reveal_pii,
        };
        let last = Mutex::new(Instant::now());
        let on_progress = |p: ScanProgress| {
            let Ok(mut last) = last.lock() else { return };
            if last.elapsed() >= Duration::from_secs(1) {
                *last = Instant::now();
                eprintln!(
                    "rehearsing: {} of {} source records read, {:.0} records/s",
                    p.scanned,
                    p.to_scan,
                    p.records_per_sec()
                );
            }
        };
        Some(rehearse(
            source,
            &spec,
            &decoder,
            &request,
            &cancel,
            &on_progress,
        )?)
    } else {
        None
    };
    if args.json {
        serde_json::to_writer(&mut *out, &rebuild_json(&ready, rehearsal.as_ref()))?;
        writeln!(out)?;
    } else {
        write_text(&ready, rehearsal.as_ref(), out)?;
    }
    if rehearsal.as_ref().is_some_and(|r| r.cancelled) {
        anyhow::bail!("the rehearsal was cancelled: the counts above cover what was read");
    }
    Ok(())
}

/// The documented `rebuild --json` shape.
pub fn rebuild_json(ready: &Readiness, rehearsal: Option<&Rehearsal>) -> serde_json::Value {
    json!({
        "topics": ready.topics,
        "fields": ready.fields,
        "store_oldest_ms": ready.store_oldest_ms,
        "estimate": ready.estimate,
        "rehearsal": rehearsal,
    })
}

fn write_text(
    ready: &Readiness,
    rehearsal: Option<&Rehearsal>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let unknown = || "unknown".to_owned();
    writeln!(out, "retained:")?;
    for t in &ready.topics {
        writeln!(
            out,
            "  {:<28} {:>3} partitions {:>10} records {:>9} MB  cleanup {:<8} retention {} / {} bytes  oldest {}",
            t.topic,
            t.partitions,
            t.records,
            t.bytes
                .map_or(unknown(), |b| format!("{:.1}", b as f64 / 1e6)),
            t.cleanup_policy.clone().unwrap_or_else(unknown),
            t.retention_ms.map_or(unknown(), |ms| if ms < 0 {
                "forever".into()
            } else {
                format_duration_ms(ms)
            }),
            t.retention_bytes.map_or(unknown(), |b| b.to_string()),
            format_timestamp(t.oldest_ms),
        )?;
    }
    writeln!(
        out,
        "store's oldest version: {}",
        format_timestamp(ready.store_oldest_ms)
    )?;
    writeln!(out, "fields:")?;
    for f in &ready.fields {
        writeln!(
            out,
            "  {:<20} {}  {}",
            f.field,
            if f.exact { "exact  " } else { "INEXACT" },
            f.reason
        )?;
    }
    let e = &ready.estimate;
    writeln!(
        out,
        "replay: {} records, {:.1} MB; at {:.0} records/s ({}) about {} with {} consumers",
        e.records,
        e.bytes as f64 / 1e6,
        e.read_records_per_s,
        e.measured,
        crate::time::format_seconds(e.seconds),
        e.consumers
    )?;
    let with = e.with_consumers_text();
    writeln!(out, "  with N consumers: {}", with)?;
    let Some(r) = rehearsal else {
        return Ok(());
    };
    writeln!(
        out,
        "\nrehearsal{}: {} customers, {} match the store; {} source records replayed in {:.1} s ({:.0} records/s, {:.1} MB/s); {} store versions and {} link records read beside them",
        r.partitions
            .as_ref()
            .map(|p| format!(
                " of partitions {:?} ({:.0}% of customers)",
                p,
                r.share * 100.0
            ))
            .unwrap_or_default(),
        r.customers,
        r.matches,
        r.records,
        r.seconds,
        r.records_per_s,
        r.mb_per_s,
        r.store_records,
        r.link_records
    )?;
    for (name, f) in &r.fields {
        if f.store_ahead + f.store_behind + f.different == 0 {
            continue;
        }
        writeln!(
            out,
            "  {name:<20} store ahead {:>6}  store behind {:>6}  different {:>6}",
            f.store_ahead, f.store_behind, f.different
        )?;
        for e in &f.examples {
            writeln!(
                out,
                "    {:<14} {:<24} rebuilt {}  served {}",
                e.class.to_string(),
                e.key,
                e.rebuilt.as_ref().map_or("-".into(), |v| v.to_string()),
                e.served.as_ref().map_or("-".into(), |v| v.to_string()),
            )?;
        }
    }
    if let Some(whole) = &r.whole {
        writeln!(
            out,
            "  scaled to the whole store: about {:.0} customers, {:.0} matching",
            whole.customers, whole.matches
        )?;
    }
    for (n, what) in [
        (r.undecodable_records, "source records could not be decoded"),
        (r.keyless_records, "source records had no key"),
        (
            r.undecodable_store_versions,
            "store versions could not be decoded",
        ),
    ] {
        if n > 0 {
            writeln!(out, "  skipped: {n} {what}")?;
        }
    }
    Ok(())
}
