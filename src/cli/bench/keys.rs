//! `freshlens bench --keys`: partition-key forensics on the seeded workload, each part beside
//! its limit (the same records read raw by the same client, nothing decoded), alternating in
//! one run:
//! - every source topic sampled (the newest 10,000 records, spread over its partitions) and
//!   judged: partitioner, skew, order within a key; beside a raw read of those records;
//! - the key choice with the spec: the link sources, then every source topic's keys read
//!   whole and mapped to customers; beside a raw read of every source partition.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

use serde_json::json;

use super::args::BenchArgs;
use super::common::{Run, open_workload, parts_summary, peak_rss_kb, print_parts, raw};
use crate::cluster::{CancelToken, ConnectionConfig};
use crate::demo::DemoConfig;
use crate::keys::{KeysRequest, WithSpec, look_at_keys, spec_keys};
use crate::profile::infer::DEFAULT_SAMPLE;

pub fn run(
    connection: &ConnectionConfig,
    config: &DemoConfig,
    seeded: serde_json::Value,
    args: &BenchArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (cluster, spec, decoder) = open_workload(connection, config)?;
    let cancel = CancelToken::default();
    let topics: Vec<String> = spec.sources.iter().map(|s| s.topic.clone()).collect();
    let (mut tails, mut whole) = (BTreeMap::new(), BTreeMap::new());
    for topic in &topics {
        let info = cluster.topic(topic)?;
        // As the sample takes them: the newest ceil(n / partitions) of each.
        let per_partition = DEFAULT_SAMPLE.div_ceil(info.partitions.len().max(1)) as i64;
        for p in &info.partitions {
            tails.insert((topic.clone(), p.id), (p.high - per_partition).max(p.low));
            whole.insert((topic.clone(), p.id), 0);
        }
    }
    let with = WithSpec {
        spec: &spec,
        decoder: &decoder,
    };
    let request = KeysRequest {
        topics: topics.clone(),
        sample: DEFAULT_SAMPLE,
        with: None,
    };
    // One untimed round: every client both sides use is connected first.
    look_at_keys(&cluster, &request, &cancel, &|_| {})?;
    raw(&cluster, &tails)?;
    let mut parts: BTreeMap<&str, Vec<Run>> = BTreeMap::new();
    let mut found = json!(null);
    for round in 0..args.rounds.max(1) {
        let started = Instant::now();
        let report = look_at_keys(&cluster, &request, &cancel, &|_| {})?;
        parts.entry("sampled topics").or_default().push(Run {
            elapsed: started.elapsed(),
            records: report.topics.iter().map(|t| t.sampled).sum(),
            bytes: 0,
        });
        parts
            .entry("sampled topics limit")
            .or_default()
            .push(raw(&cluster, &tails)?);
        let started = Instant::now();
        let split = spec_keys(&cluster, with, &cancel, &|_| {})?;
        parts.entry("key choice").or_default().push(Run {
            elapsed: started.elapsed(),
            records: split.sources.iter().map(|s| s.records).sum(),
            bytes: 0,
        });
        parts
            .entry("key choice limit")
            .or_default()
            .push(raw(&cluster, &whole)?);
        let last = |name: &str| parts[name].last().map_or(0, |r| r.elapsed.as_millis());
        eprintln!(
            "round {round}: sampled topics {} ms (limit {} ms), key choice {} ms (limit {} ms)",
            last("sampled topics"),
            last("sampled topics limit"),
            last("key choice"),
            last("key choice limit"),
        );
        found = json!({
            "partitioners": report.topics.iter().map(|t| (t.topic.clone(), t.partitioner.best)).collect::<BTreeMap<_, _>>(),
            "split_customers": split.sources.iter().map(|s| (s.topic.clone(), s.split_customers)).collect::<BTreeMap<_, _>>(),
        });
    }
    let summary = parts_summary(&parts);
    let doc = json!({
        "seeded": seeded,
        "rounds": args.rounds.max(1),
        "found": found,
        "parts": summary,
        "peak_rss_mb": peak_rss_kb().map(|kb| kb / 1024),
    });
    print_parts(out, args.json, &doc)
}
