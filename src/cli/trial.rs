//! `freshlens trial`: a bounded profile workload run on a candidate platform (and a baseline)
//! side by side. It WRITES, under `--prefix` only, and deletes what it made unless `--keep`.
//! Exit 0 when no row fails, 1 when one does, 2 on errors.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use crate::cluster::{CancelToken, ConnectionConfig};
use crate::scorecard::Verdict;
use crate::time::format_latency_ms;
use crate::trial::load::LoadEvent;
use crate::trial::report::html;
use crate::trial::result::{ProbeResult, Side, TrialReport};
use crate::trial::run::{TrialRequest, TrialStep, Which, default_prefix, run as run_trial};

#[derive(Debug, Clone, clap::Args)]
pub struct TrialArgs {
    /// Bootstrap servers of today's platform, run the same way after the candidate (-b)
    #[arg(long, value_name = "BOOTSTRAP")]
    pub baseline: Option<String>,
    /// librdkafka property of the baseline (repeatable)
    #[arg(long = "baseline-X", value_name = "KEY=VALUE")]
    pub baseline_properties: Vec<String>,
    /// Every topic and group the trial makes is named under this (default: freshlens-trial-<random>)
    #[arg(long)]
    pub prefix: Option<String>,
    /// Customers in the workload
    #[arg(long, default_value_t = 1_000, value_name = "N")]
    pub customers: usize,
    /// Source events per second in the steady state
    #[arg(long, default_value_t = 200.0, value_name = "EV/S")]
    pub rate: f64,
    /// How long the steady state runs
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// The burst: the rate times FACTOR for DURATION
    #[arg(long, default_value = "5:10s", value_name = "FACTOR:DURATION", value_parser = burst)]
    pub burst: (f64, Duration),
    /// A command that replaces the candidate's broker mid-run (for example one that stops it and
    /// starts a new one on the same storage); run with `sh -c`, on the candidate only
    #[arg(long, value_name = "CMD")]
    pub restart_cmd: Option<String>,
    /// Reader counts the replay is measured with
    #[arg(
        long,
        default_value = "1,2,4",
        value_delimiter = ',',
        value_name = "N,N,…"
    )]
    pub replay_consumers: Vec<u32>,
    /// The freshness budget of the trial's spec: source event to store version
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub budget: Duration,
    /// How soon latency must be back within the budget after the burst and the restart
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub recover_within: Duration,
    /// How long the trial waits for latency to come back before it moves on
    #[arg(long, default_value = "15s", value_parser = humantime::parse_duration)]
    pub settle: Duration,
    /// Partitions of each workload topic
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=64))]
    pub partitions: i32,
    /// Seed of the workload
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Leave the trial's topics and groups in place
    #[arg(long)]
    pub keep: bool,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
    /// Also write the trial as a self-contained HTML report
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// "5:10s" → (5.0, 10 s).
fn burst(text: &str) -> Result<(f64, Duration), String> {
    let (factor, duration) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?}: expected FACTOR:DURATION, like 5:10s"))?;
    let factor: f64 = factor
        .trim()
        .parse()
        .map_err(|e| format!("factor {factor:?}: {e}"))?;
    if !(1.0..=100.0).contains(&factor) {
        return Err(format!("factor {factor}: between 1 and 100"));
    }
    let duration =
        humantime::parse_duration(duration.trim()).map_err(|e| format!("{duration:?}: {e}"))?;
    Ok((factor, duration))
}

/// Some row failed: printed, and the command exits 1.
#[derive(Debug, thiserror::Error)]
#[error("{0} row(s) failed")]
pub struct TrialRowsFailed(pub usize);

pub fn run(
    candidate: ConnectionConfig,
    args: &TrialArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if args.rate <= 0.0 || !args.rate.is_finite() || args.rate > 100_000.0 {
        anyhow::bail!("--rate {}: between 0 and 100000 events/s", args.rate);
    }
    if args.replay_consumers.iter().any(|&n| n == 0 || n > 64) {
        anyhow::bail!("--replay-consumers: each between 1 and 64");
    }
    let baseline = match &args.baseline {
        None => None,
        Some(b) => Some({
            let mut c = ConnectionConfig::new(b.clone())
                .with_property_args(args.baseline_properties.iter().map(String::as_str))?;
            c.timeout = candidate.timeout;
            c
        }),
    };
    let mut request = TrialRequest::new(candidate.clone());
    request.baseline = baseline.clone();
    request.prefix = args.prefix.clone().unwrap_or_else(default_prefix);
    if request.prefix.trim().is_empty() {
        anyhow::bail!("--prefix must not be empty");
    }
    request.seed = args.seed;
    request.partitions = args.partitions;
    request.customers = args.customers.max(1);
    request.rate = args.rate;
    request.duration = args.duration;
    (request.burst_factor, request.burst) = args.burst;
    request.restart_cmd = args.restart_cmd.clone();
    request.replay_consumers = args.replay_consumers.clone();
    request.keep = args.keep;
    request.budget = args.budget;
    request.recover_within = args.recover_within;
    request.settle = args.settle;
    let targets = match &baseline {
        Some(b) => format!("{} and {}", candidate.bootstrap, b.bootstrap),
        None => candidate.bootstrap.clone(),
    };
    let writes = format!(
        "trial WRITES to {targets}: topics and groups under {}., {}",
        request.prefix,
        if args.keep {
            "kept at the end (--keep)"
        } else {
            "deleted at the end"
        }
    );
    // With --json, stdout is the document alone.
    if args.json {
        eprintln!("{writes}");
    } else {
        writeln!(out, "{writes}")?;
        out.flush()?;
    }
    let cancel = CancelToken::default();
    let stop = cancel.clone();
    let _ = ctrlc::set_handler(move || stop.cancel());
    let started = std::time::Instant::now();
    let report = run_trial(&request, &cancel, &mut |step| progress(started, step))?;
    if let Some(path) = &args.report {
        std::fs::write(path, html(&report))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        print(&report, out)?;
    }
    if cancel.is_cancelled() {
        anyhow::bail!("cancelled: the figures above are partial");
    }
    let failed = report
        .candidate
        .rows
        .iter()
        .chain(report.baseline.iter().flat_map(|b| &b.rows))
        .filter(|r| r.verdict == Verdict::Fail)
        .count();
    if failed > 0 {
        return Err(TrialRowsFailed(failed).into());
    }
    Ok(())
}

/// Progress on stderr, each line with the seconds since the start: what runs, each probe,
/// the latency of every fifth second.
fn progress(started: std::time::Instant, step: TrialStep) {
    let at = started.elapsed().as_secs();
    let side = |w: Which| match w {
        Which::Candidate => "candidate",
        Which::Baseline => "baseline",
    };
    match step {
        TrialStep::Started(w, b) => eprintln!("[{at:>3}s] {}: {b}", side(w)),
        TrialStep::Apis(w, apis) => eprintln!(
            "[{at:>3}s] {}: {} of {} requests served",
            side(w),
            apis.iter().filter(|a| a.supported).count(),
            apis.len()
        ),
        TrialStep::Probe(w, p) => {
            eprintln!("[{at:>3}s] {}: probe {} {:?}", side(w), p.name, p.result)
        }
        TrialStep::Load(w, LoadEvent::Phase(phase)) => eprintln!("[{at:>3}s] {}: {phase}", side(w)),
        TrialStep::Load(w, LoadEvent::Interval(i)) => {
            if (i.start_ms / 1_000) % 5 == 0 {
                eprintln!(
                    "[{at:>3}s] {}: acknowledged {}/s, applied {}/s, p99 {}",
                    side(w),
                    i.produced,
                    i.applied,
                    i.p99_ms.map_or("–".into(), format_latency_ms)
                );
            }
        }
        TrialStep::Replay(w, r) => eprintln!(
            "[{at:>3}s] {}: replay with {}: {:.0} records/s",
            side(w),
            r.consumers,
            r.records_per_s
        ),
        TrialStep::Done(w, _) => eprintln!("[{at:>3}s] {}: done", side(w)),
        TrialStep::CleanedUp(w, left) if left.is_empty() => {
            eprintln!("[{at:>3}s] {}: topics and groups deleted", side(w));
        }
        TrialStep::CleanedUp(w, left) => {
            eprintln!(
                "[{at:>3}s] {}: could not delete: {}",
                side(w),
                left.join("; ")
            );
        }
    }
}

/// One line of the side-by-side table: a figure of a side, in words.
type Figure = Box<dyn Fn(&Side) -> String>;

fn print(report: &TrialReport, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut sides: Vec<(&str, &Side)> = vec![("candidate", &report.candidate)];
    if let Some(b) = &report.baseline {
        sides.push(("baseline", b));
    }
    let column = |f: &dyn Fn(&Side) -> String| -> String {
        sides
            .iter()
            .map(|(_, s)| format!("{:<44}", f(s)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ms = |v: Option<i64>| v.map_or("–".to_owned(), format_latency_ms);
    writeln!(out, "\n{:<26} {}", "", column(&|s| s.bootstrap.clone()))?;
    writeln!(out, "{:<26} {}", "", column(&|_| "-".repeat(40)))?;
    for (i, row) in report.candidate.rows.iter().enumerate() {
        writeln!(
            out,
            "{:<26} {}",
            row.row.title(),
            column(&|s| s
                .rows
                .get(i)
                .map_or(String::new(), |r| r.verdict.word().to_owned()))
        )?;
    }
    writeln!(out)?;
    let lines: Vec<(&str, Figure)> = vec![
        (
            "requests served",
            Box::new(|s: &Side| {
                format!(
                    "{}/{}",
                    s.compatibility.apis.iter().filter(|a| a.supported).count(),
                    s.compatibility.apis.len()
                )
            }),
        ),
        (
            "probes passed",
            Box::new(|s: &Side| {
                format!(
                    "{}/{}",
                    s.compatibility
                        .probes
                        .iter()
                        .filter(|p| p.result == ProbeResult::Pass)
                        .count(),
                    s.compatibility.probes.len()
                )
            }),
        ),
        (
            "latency p50 / p95 / p99",
            Box::new(move |s: &Side| {
                format!(
                    "{} / {} / {}",
                    ms(s.latency.p50_ms),
                    ms(s.latency.p95_ms),
                    ms(s.latency.p99_ms)
                )
            }),
        ),
        (
            "events offered / acked",
            Box::new(|s: &Side| format!("{} / {}", s.latency.offered, s.latency.produced)),
        ),
        (
            "events within budget",
            Box::new(|s: &Side| format!("{} of {}", s.latency.within_budget, s.latency.applied)),
        ),
        (
            "burst worst lag",
            Box::new(move |s: &Side| ms(s.burst.as_ref().map(|b| b.worst_lag_ms))),
        ),
        (
            "burst back within budget",
            Box::new(move |s: &Side| {
                s.burst.as_ref().map_or("–".into(), |b| {
                    b.back_within_budget_ms
                        .map_or("not within the run".into(), format_latency_ms)
                })
            }),
        ),
        (
            "restart unavailable",
            Box::new(move |s: &Side| {
                s.restart
                    .as_ref()
                    .map_or("not run".into(), |r| format_latency_ms(r.unavailable_ms))
            }),
        ),
        (
            "restart lost / duplicates",
            Box::new(|s: &Side| {
                s.restart.as_ref().map_or("–".into(), |r| {
                    format!(
                        "{} of {} lost, {} duplicates",
                        r.lost, r.acknowledged, r.duplicates
                    )
                })
            }),
        ),
        (
            "replay records/s",
            Box::new(|s: &Side| {
                s.replay
                    .iter()
                    .map(|r| format!("{}:{:.0}", r.consumers, r.records_per_s))
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
        ),
    ];
    for (name, f) in &lines {
        writeln!(out, "{name:<26} {}", column(f.as_ref()))?;
    }
    for (name, side) in &sides {
        let failed: Vec<_> = side
            .compatibility
            .probes
            .iter()
            .filter(|p| p.result != ProbeResult::Pass)
            .collect();
        if !failed.is_empty() {
            writeln!(out, "\nprobes failed on the {name}:")?;
            for p in failed {
                writeln!(out, "  {}: {}", p.name, p.detail)?;
            }
        }
        for row in side.rows.iter().filter(|r| !r.reasons.is_empty()) {
            writeln!(
                out,
                "\n{} on the {name}: {}",
                row.row.title(),
                row.verdict.word()
            )?;
            for reason in &row.reasons {
                writeln!(out, "  {reason}")?;
            }
        }
        if !side.errors.is_empty() {
            writeln!(out, "\nsteps that failed on the {name}:")?;
            for e in &side.errors {
                writeln!(out, "  {e}")?;
            }
        }
    }
    if !report.differences.is_empty() {
        writeln!(out, "\ndifferences:")?;
        for d in &report.differences {
            writeln!(out, "  {d}")?;
        }
    }
    Ok(())
}
