//! `freshlens freshness`: how stale a customer's profile was over a window, and where the time
//! went; or a topic's ingest delay over time.

use crate::source::Source;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::cluster::CancelToken;
use crate::freshness::{profile_freshness, sample_ingest};
use crate::profile::{LookupRequest, Spec, Window, lookup};

use super::profile::parse_range;

#[derive(Debug, Clone, clap::Args)]
pub struct FreshnessArgs {
    /// Profile spec (TOML), with --key
    #[arg(long, requires = "key")]
    pub spec: Option<PathBuf>,
    /// Customer id
    #[arg(long, value_parser = super::profile::customer_key)]
    pub key: Option<String>,
    /// A topic whose ingest delay to measure, with --event-time
    #[arg(
        short = 't',
        long = "topic",
        conflicts_with = "spec",
        requires = "event_time"
    )]
    pub topic: Option<String>,
    /// JSON pointer to the event time in the topic's values (`/ts`, `/meta/time`)
    #[arg(long = "event-time", value_parser = json_pointer)]
    pub event_time: Option<String>,
    /// Window start: ms since the epoch, RFC 3339, or a duration ago (`6h`)
    #[arg(long)]
    pub since: Option<String>,
    /// Window end, same forms (default: now)
    #[arg(long)]
    pub until: Option<String>,
    /// Ingest-delay bucket width in seconds (1 s to a year)
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub bucket: u64,
    /// Records sampled per partition for ingest delay
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub sample: u64,
    #[command(flatten)]
    pub registry: super::profile::RegistryArgs,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
}

/// A JSON pointer starts with `/`: `ts` would match nothing and sample no record.
fn json_pointer(text: &str) -> Result<String, String> {
    match text.starts_with('/') {
        true => Ok(text.to_owned()),
        false => Err(format!(
            "{text:?} is not a JSON pointer: it starts with /, e.g. \"/{}\"",
            text.trim_start_matches('/')
        )),
    }
}

pub fn run(
    cluster: &dyn Source,
    args: &FreshnessArgs,
    timeout: std::time::Duration,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let now = cluster.now_ms();
    let (since, until) = parse_range(args.since.as_deref(), args.until.as_deref(), now)?;
    let doc = match (&args.spec, &args.key, &args.topic) {
        (Some(spec), Some(key), _) => profile_report(
            cluster,
            args,
            (&Spec::load(spec)?, timeout),
            key,
            since,
            until.unwrap_or(now),
        )?,
        (None, _, Some(topic)) => topic_ingest(cluster, args, topic, since, until)?,
        _ => anyhow::bail!("pass --spec F --key K, or -t TOPIC --event-time POINTER"),
    };
    if args.json {
        serde_json::to_writer(&mut *out, &doc)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    }
    Ok(())
}

fn profile_report(
    cluster: &dyn Source,
    args: &FreshnessArgs,
    (spec, timeout): (&Spec, std::time::Duration),
    key: &str,
    since: Option<i64>,
    until: i64,
) -> anyhow::Result<Value> {
    let decoder = args.registry.decoder(spec, timeout)?;
    let window = Window {
        since_ms: since,
        until_ms: Some(until),
    };
    let request = LookupRequest {
        window,
        ..LookupRequest::new(spec, &decoder, key, until)
    };
    let found = lookup(cluster, &request)?;
    super::profile::found_something(spec, key, &found)?;
    let report = profile_freshness(spec, &found, since, until);
    let events: Vec<Value> = report
        .events
        .iter()
        .map(|e| {
            json!({
                "topic": e.topic, "partition": e.partition, "offset": e.offset,
                "event_time_ms": e.event_time_ms, "broker_time_ms": e.broker_time_ms,
                "applied_ms": e.applied_ms, "lag_ms": e.lag_ms(),
                "ingest_delay_ms": e.ingest_delay_ms(), "end_to_end_ms": e.end_to_end_ms(),
            })
        })
        .collect();
    Ok(json!({
        "key": key,
        "budget_ms": report.budget_ms,
        "from_ms": report.from_ms,
        "until_ms": report.until_ms,
        "store_versions": report.store_versions,
        "events": events,
        "staleness": report.staleness.points,
        "breaches": report.staleness.breaches,
        "within_budget_ratio": report.staleness.within_budget_ratio,
        "not_applied": report.not_applied(),
        "not_consumed": {
            "events": report.not_consumed.events,
            "oldest_ms": report.not_consumed.oldest_ms,
            "behind_ms": report.not_consumed.behind_ms(report.until_ms),
        },
        "builder": builder_projection(cluster, spec, report.budget_ms),
    }))
}

/// The spec's builder group projected back within the budget, as the Freshness tab says it;
/// null without a builder group, the error where the group could not be read.
fn builder_projection(cluster: &dyn Source, spec: &Spec, budget_ms: i64) -> Value {
    let Some(group) = spec.store.as_ref().and_then(|s| s.builder_group.as_deref()) else {
        return Value::Null;
    };
    // Judged as the Groups tab judges it: the status rules over its commit history.
    let mut watch = crate::freshness::GroupWatch::default();
    let looked = watch.look(cluster, Some(group));
    match looked.map(|look| look.groups.into_iter().find(|g| g.group == group)) {
        Ok(Some(lag)) => {
            let projection = crate::freshness::back_within_budget(&lag, budget_ms);
            let mut doc = serde_json::to_value(&projection).unwrap_or_default();
            doc["text"] = projection.to_string().into();
            doc
        }
        Ok(None) => json!({"group": group, "error": "no such group"}),
        Err(e) => json!({"group": group, "error": e.to_string()}),
    }
}

fn topic_ingest(
    cluster: &dyn Source,
    args: &FreshnessArgs,
    topic: &str,
    since: Option<i64>,
    until: Option<i64>,
) -> anyhow::Result<Value> {
    let pointer = args
        .event_time
        .as_deref()
        .context("--event-time is needed with -t")?;
    let sample = sample_ingest(
        cluster,
        topic,
        pointer,
        (since, until),
        args.sample,
        args.bucket.max(1) as i64 * 1000,
        &CancelToken::default(),
    )?;
    if sample.sampled == 0 {
        match sample.stands_for {
            0 => anyhow::bail!("no record of {topic} in the window: no ingest delay to measure"),
            n => anyhow::bail!(
                "none of the {n} records of {topic} read has an event time at {pointer} (and a \
                 broker time): check --event-time against a record (`messages -t {topic} -c 1`)"
            ),
        }
    }
    Ok(serde_json::to_value(sample)?)
}
