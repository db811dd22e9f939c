//! `freshlens capture`: saves whole topics, or exactly what one customer's lookup reads, to a
//! capture file that `--capture FILE` opens later, offline.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::cluster::{CancelToken, ScanRequest, StartAt};
use crate::freshness::{CommitLog, look_at_groups};
use crate::profile::{LookupRequest, Spec, Window, capture_lookup};
use crate::source::{Capture, CaptureFormat, Recording, Source, save_capture};

use super::profile::parse_range;

#[derive(Debug, Clone, clap::Args)]
pub struct CaptureArgs {
    /// Topics to capture whole (repeatable)
    #[arg(short = 't', long = "topic", conflicts_with = "spec")]
    pub topics: Vec<String>,
    /// Capture what a lookup of --key with this spec reads
    #[arg(long, requires = "key")]
    pub spec: Option<PathBuf>,
    /// Customer id, with --spec
    #[arg(long, value_parser = super::profile::customer_key)]
    pub key: Option<String>,
    /// Only records from this time: ms since the epoch, RFC 3339, or a duration ago (`2h`)
    #[arg(long)]
    pub since: Option<String>,
    /// Only records up to this time, same forms
    #[arg(long)]
    pub until: Option<String>,
    /// The file to write; zstd-compressed when it ends in .zst
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// freshlens (records plus watermarks and group offsets) or kcat (-J envelopes only)
    #[arg(long, default_value = "freshlens", value_parser = ["freshlens", "kcat"])]
    pub format: String,
    /// With --spec: keep the values of `pii` fields in the file instead of masking them (the
    /// header says so)
    #[arg(long, requires = "spec")]
    pub reveal_pii: bool,
    #[command(flatten)]
    pub registry: super::profile::RegistryArgs,
}

pub fn run(
    source: &dyn Source,
    args: &CaptureArgs,
    timeout: std::time::Duration,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let now = source.now_ms();
    let (since, until) = parse_range(args.since.as_deref(), args.until.as_deref(), now)?;
    let capture = match (&args.spec, &args.key) {
        (Some(spec), Some(key)) => {
            let spec = Spec::load(spec)?;
            let decoder = args.registry.decoder(&spec, timeout)?;
            let window = Window {
                since_ms: since,
                until_ms: until,
            };
            let request = LookupRequest {
                window,
                ..LookupRequest::new(&spec, &decoder, key, now)
            };
            let (capture, found) = capture_lookup(source, &request, args.reveal_pii)?;
            super::profile::found_something(&spec, key, &found)
                .map_err(|e| e.context(format!("nothing written to {}", args.output.display())))?;
            capture
        }
        _ if !args.topics.is_empty() => {
            capture_topics(Recording::new(source), &args.topics, since, until)?
        }
        _ => bail!("pass -t TOPIC (repeatable), or --spec F --key K"),
    };
    save(&capture, &args.output, &args.format)?;
    writeln!(
        out,
        "captured {} records of {} topics and {} groups to {}",
        capture.record_count(),
        capture.topics.len(),
        capture.groups.len(),
        args.output.display()
    )?;
    Ok(())
}

/// Every record of `topics` in the window, their watermarks, and the offsets of the groups
/// that committed on them.
fn capture_topics(
    recording: Recording<'_>,
    topics: &[String],
    since: Option<i64>,
    until: Option<i64>,
) -> anyhow::Result<Capture> {
    for topic in topics {
        let mut request = ScanRequest::new(topic.clone());
        request.start = since.map_or(StartAt::Beginning, StartAt::Timestamp);
        request.end_timestamp_ms = until;
        recording.scan(&request, &CancelToken::default(), &mut |_| true)?;
    }
    look_at_groups(&recording, None, &mut CommitLog::default())?;
    let mut capture = recording.into_capture();
    capture.topics.retain(|name, _| topics.contains(name));
    for group in &mut capture.groups {
        group.offsets.retain(|(topic, _), _| topics.contains(topic));
    }
    capture.groups.retain(|g| !g.offsets.is_empty());
    Ok(capture)
}

/// Writes the capture under a hidden name and renames it when complete; Ctrl-C while writing
/// removes the partial file too, so an interrupted capture leaves nothing behind.
pub fn save(capture: &Capture, path: &Path, format: &str) -> anyhow::Result<()> {
    let format = match format {
        "kcat" => CaptureFormat::Kcat,
        _ => CaptureFormat::Freshlens,
    };
    let partial = crate::source::partial_path(path);
    let shown = path.display().to_string();
    let _ = ctrlc::set_handler(move || {
        match std::fs::remove_file(&partial) {
            Ok(()) => eprintln!("interrupted: nothing written to {shown}"),
            Err(_) => eprintln!("interrupted"),
        }
        std::process::exit(130);
    });
    Ok(save_capture(capture, path, format)?)
}
