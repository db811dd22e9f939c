//! `freshlens keys`: which partitioner wrote each topic and which keys it misplaced, skew and
//! hot keys, order within a key, and (with a spec) customers a topic splits over partitions.

use std::io::Write;
use std::path::PathBuf;

use crate::cluster::CancelToken;
use crate::keys::{KeysReport, KeysRequest, TopicKeys, WithSpec, look_at_keys};
use crate::profile::infer::DEFAULT_SAMPLE;
use crate::source::Source;

#[derive(Debug, Clone, clap::Args)]
pub struct KeysArgs {
    /// Topic to look at (repeatable)
    #[arg(short = 't', long = "topic", required = true)]
    pub topics: Vec<String>,
    /// Records sampled per topic, the newest of each partition in equal shares
    #[arg(long, default_value_t = DEFAULT_SAMPLE, value_parser = super::sample::sample_size())]
    pub sample: usize,
    /// A profile spec: event times from its sources, and per source the customers whose records
    /// sit on several partitions (reads each source topic's keys whole)
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub registry: super::profile::RegistryArgs,
}

pub fn run(
    source: &dyn Source,
    args: &KeysArgs,
    timeout: std::time::Duration,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let loaded = args
        .registry
        .spec_and_decoder(args.spec.as_deref(), timeout)?;
    let with = loaded
        .as_ref()
        .map(|(spec, decoder)| WithSpec { spec, decoder });
    let request = KeysRequest {
        topics: args.topics.clone(),
        sample: args.sample,
        with,
    };
    let cancel = CancelToken::default();
    let report = look_at_keys(source, &request, &cancel, &|_| {})?;
    if args.json {
        serde_json::to_writer(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        print_report(&report, out)?;
    }
    out.flush()?;
    super::sample::sampled_something(report.topics.iter().map(|t| (t.topic.as_str(), t.sampled)))
}

fn print_topic(t: &TopicKeys, out: &mut dyn Write) -> std::io::Result<()> {
    let p = &t.partitioner;
    writeln!(
        out,
        "{}: {} partitions, {} records sampled",
        t.topic, t.partitions, t.sampled
    )?;
    writeln!(out, "  partitioner  {}: {}", p.best, p.verdict)?;
    writeln!(
        out,
        "               {}{}",
        p.candidates.summary("  "),
        if p.null_keys > 0 {
            format!("  ({} records without a key)", p.null_keys)
        } else {
            String::new()
        }
    )?;
    if let Some(said) = &t.spec_disagrees {
        writeln!(out, "  SPEC         {said}")?;
    }
    if p.second.is_none() && !t.misplaced.is_empty() {
        writeln!(
            out,
            "  misplaced    {} key(s), {} record(s):",
            t.misplaced_keys, t.misplaced_records
        )?;
        for m in t.misplaced.iter().take(20) {
            writeln!(
                out,
                "    {:<32} on {:>3}, {} puts it on {}{}",
                m.key,
                m.partition,
                p.best,
                m.expected,
                m.explained_by
                    .map(|by| format!(" ({by} puts it where it is)"))
                    .unwrap_or_default()
            )?;
        }
    }
    let s = &t.skew;
    writeln!(
        out,
        "  skew         max/mean {:.2}, Gini {:.2}; records per partition {:?}",
        s.max_over_mean, s.gini, s.records
    )?;
    let hot: Vec<String> = s
        .hot_keys
        .iter()
        .take(5)
        .map(|h| format!("{} {:.1}%", h.key, h.share * 100.0))
        .collect();
    writeln!(out, "  hot keys     {}", hot.join(", "))?;
    let o = &t.order;
    writeln!(
        out,
        "  order        {} of {} keys out of order ({} inversions, latest by {} ms) by {}{}",
        o.keys_with_inversions,
        o.keys,
        o.inversions,
        o.max_lateness_ms,
        o.event_time,
        if o.undated > 0 {
            format!("; {} records without a readable time", o.undated)
        } else {
            String::new()
        }
    )?;
    for w in o.worst.iter().take(5) {
        writeln!(
            out,
            "    {:<32} partition {:>3}: {} inversion(s), up to {} ms late",
            w.key, w.partition, w.inversions, w.max_lateness_ms
        )?;
    }
    Ok(())
}

fn print_report(report: &KeysReport, out: &mut dyn Write) -> anyhow::Result<()> {
    for t in &report.topics {
        print_topic(t, out)?;
    }
    if let Some(spec) = &report.spec {
        writeln!(
            out,
            "key choice (customers whose records in a topic sit on several partitions):"
        )?;
        for s in &spec.sources {
            writeln!(
                out,
                "  {:<28} {:>7} of {:>7} customers split ({:.1}%); {} of {} records keyed by a \
                 linked id{}",
                s.topic,
                s.split_customers,
                s.customers,
                s.share * 100.0,
                s.linked_key_records,
                s.records,
                if s.unlinked_records > 0 {
                    format!(
                        ", {} keyed by ids no link source knows (each its own customer)",
                        s.unlinked_records
                    )
                } else {
                    String::new()
                }
            )?;
        }
    }
    Ok(())
}
