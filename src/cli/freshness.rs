//! `freshlens freshness`: how stale a customer's profile was over a window, and where the time
//! went; or a topic's ingest delay over time.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::cluster::{CancelToken, Cluster, ScanEvent, ScanRequest, StartAt};
use crate::freshness::{Delivery, applied_times, ingest_buckets, now_ms, staleness};
use crate::profile::{Spec, Window, lookup, parse_event_time};

use super::profile::parse_time;

#[derive(Debug, Clone, clap::Args)]
pub struct FreshnessArgs {
    /// Profile spec (TOML), with --key
    #[arg(long, requires = "key")]
    pub spec: Option<PathBuf>,
    /// Customer id
    #[arg(long)]
    pub key: Option<String>,
    /// A topic whose ingest delay to measure, with --event-time
    #[arg(
        short = 't',
        long = "topic",
        conflicts_with = "spec",
        requires = "event_time"
    )]
    pub topic: Option<String>,
    /// JSON pointer to the event time in the topic's values
    #[arg(long = "event-time")]
    pub event_time: Option<String>,
    /// Window start: ms since the epoch, RFC 3339, or a duration ago (`6h`)
    #[arg(long)]
    pub since: Option<String>,
    /// Window end, same forms (default: now)
    #[arg(long)]
    pub until: Option<String>,
    /// Ingest-delay bucket width in seconds
    #[arg(long, default_value_t = 60)]
    pub bucket: u64,
    /// Records sampled per partition for ingest delay
    #[arg(long, default_value_t = 10_000)]
    pub sample: u64,
    /// Schema Registry for `avro` sources
    #[arg(long = "schema-registry", env = "FRESHLENS_SCHEMA_REGISTRY")]
    pub schema_registry: Option<String>,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
}

pub fn run(cluster: &Cluster, args: &FreshnessArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let now = now_ms();
    let since = args
        .since
        .as_deref()
        .map(|t| parse_time(t, now))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|t| parse_time(t, now))
        .transpose()?;
    let doc = match (&args.spec, &args.key, &args.topic) {
        (Some(spec), Some(key), _) => profile_freshness(
            cluster,
            args,
            &Spec::load(spec)?,
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

fn profile_freshness(
    cluster: &Cluster,
    args: &FreshnessArgs,
    spec: &Spec,
    key: &str,
    since: Option<i64>,
    until: i64,
) -> anyhow::Result<Value> {
    let registry = args
        .schema_registry
        .as_deref()
        .map(|url| crate::codec::registry::RegistryClient::new(url, None))
        .transpose()
        .map_err(anyhow::Error::msg)?
        .map(std::sync::Arc::new);
    let decoder = crate::codec::SourceDecoder::new(spec, registry).map_err(anyhow::Error::msg)?;
    let window = Window {
        since_ms: since,
        until_ms: Some(until),
    };
    let found = lookup(
        cluster,
        spec,
        &decoder,
        key,
        &window,
        until,
        &CancelToken::default(),
        &mut |_| {},
        &|_| {},
    )?;
    let watermark = spec.store.as_ref().is_some_and(|s| s.watermark.is_some());
    let events = applied_times(spec, &found.timeline.events, &found.versions, watermark);
    let deliveries: Vec<Delivery> = events
        .iter()
        .map(|e| Delivery {
            broker_ms: e.broker_time_ms,
            applied_ms: e.applied_ms,
        })
        .collect();
    let from = since
        .or_else(|| deliveries.iter().map(|d| d.broker_ms).min())
        .unwrap_or(until);
    let budget_ms = spec.budget.as_millis() as i64;
    let result = staleness(&deliveries, from, until, budget_ms);
    let events: Vec<Value> = events
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
        "budget_ms": budget_ms,
        "from_ms": from,
        "until_ms": until,
        "store_versions": found.versions.len(),
        "events": events,
        "staleness": result.points,
        "breaches": result.breaches,
        "within_budget_ratio": result.within_budget_ratio,
    }))
}

fn topic_ingest(
    cluster: &Cluster,
    args: &FreshnessArgs,
    topic: &str,
    since: Option<i64>,
    until: Option<i64>,
) -> anyhow::Result<Value> {
    let pointer = args
        .event_time
        .as_deref()
        .context("--event-time is needed with -t")?;
    let info = cluster.topic(topic)?;
    let mut samples = Vec::new();
    let mut stands_for = 0i64;
    for partition in &info.partitions {
        let request = ScanRequest {
            topic: topic.to_owned(),
            partitions: Some(vec![partition.id]),
            start: since.map_or(StartAt::Beginning, StartAt::Timestamp),
            resume: Default::default(),
            max_records: Some(args.sample),
            end_timestamp_ms: until,
            filter: Default::default(),
        };
        let summary = cluster.scan(&request, &CancelToken::default(), &mut |event| {
            if let ScanEvent::Records(records) = event {
                for record in records {
                    let event_ms = record
                        .value
                        .as_deref()
                        .and_then(|v| serde_json::from_slice::<Value>(v).ok())
                        .and_then(|v| v.pointer(pointer).and_then(parse_event_time));
                    if let (Some(broker_ms), Some(event_ms)) = (record.timestamp_ms, event_ms) {
                        samples.push((broker_ms, event_ms));
                    }
                }
            }
            true
        })?;
        stands_for += summary.progress.to_scan as i64;
    }
    Ok(json!({
        "topic": topic,
        "sampled": samples.len(),
        "stands_for": stands_for,
        "buckets": ingest_buckets(&samples, args.bucket.max(1) as i64 * 1000),
    }))
}
