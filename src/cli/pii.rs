//! `freshlens pii`: personal data found in sampled records of topics, by JSON path, and whether
//! the spec declares it.

use std::io::Write;
use std::path::PathBuf;

use serde_json::json;

use crate::cluster::CancelToken;
use crate::governance::discover;
use crate::source::Source;

#[derive(Debug, Clone, clap::Args)]
pub struct PiiArgs {
    /// Topic to sample (repeatable)
    #[arg(short = 't', long = "topic", required = true)]
    pub topics: Vec<String>,
    /// A profile spec: which paths it declares `pii`, and how its sources decode
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// Records sampled per topic, the newest of each partition in equal shares
    #[arg(long, default_value_t = crate::governance::DEFAULT_PII_SAMPLE, value_parser = super::sample::sample_size())]
    pub sample: usize,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub registry: super::profile::RegistryArgs,
}

pub fn run(
    source: &dyn Source,
    args: &PiiArgs,
    timeout: std::time::Duration,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let loaded = args
        .registry
        .spec_and_decoder(args.spec.as_deref(), timeout)?;
    let (spec, decoder) = loaded.map(|(s, d)| (Some(s), Some(d))).unwrap_or_default();
    let cancel = CancelToken::default();
    let mut topics = Vec::new();
    for topic in &args.topics {
        topics.push(discover(
            source,
            topic,
            spec.as_ref(),
            decoder.as_ref(),
            args.sample,
            &cancel,
        )?);
    }
    let sampled = || topics.iter().map(|t| (t.topic.as_str(), t.sampled as u64));
    if args.json {
        serde_json::to_writer(&mut *out, &json!({ "topics": topics }))?;
        writeln!(out)?;
        return super::sample::sampled_something(sampled());
    }
    for t in &topics {
        writeln!(
            out,
            "{}: {} records sampled{}",
            t.topic,
            t.sampled,
            if t.undecodable > 0 {
                format!(", {} could not be decoded", t.undecodable)
            } else {
                String::new()
            }
        )?;
        if t.fields.is_empty() && t.sampled > 0 {
            writeln!(out, "  no personal data found")?;
        }
        for f in &t.fields {
            writeln!(
                out,
                "  {:<28} {:<12} {:>5.1}%  {}  {}",
                if f.path.is_empty() {
                    "(whole value)"
                } else {
                    &f.path
                },
                f.kind.to_string(),
                f.share * 100.0,
                if f.declared {
                    "declared pii"
                } else {
                    "NOT DECLARED"
                },
                f.examples.join(", ")
            )?;
            if let Some(lines) = &f.spec_lines {
                for line in lines.lines() {
                    writeln!(out, "      {line}")?;
                }
            }
        }
    }
    super::sample::sampled_something(sampled())
}
