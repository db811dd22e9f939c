//! `freshlens bench --stale`: what `freshlens stale` costs on the seeded workload, part by part,
//! each beside its limit (the same records read raw by the same client, nothing decoded),
//! alternating in one run:
//! - the census (the builder's unread tails and the link sources) plus the store's ages,
//!   beside a raw read of those tails, the link sources and the store topic;
//! - the chain (newest records of each source, the builder group's look);
//! - the sampled lookups (every identity hop reads every source partition its ids hash to,
//!   once for the whole sample, then the store), beside one raw read of every source and
//!   store partition: the batch needs one such pass per identity hop.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

use serde_json::json;

use super::bench::{BenchArgs, Run, raw};
use crate::cluster::{CancelToken, Cluster, ConnectionConfig};
use crate::demo::DemoConfig;
use crate::freshness;
use crate::profile::Spec;
use crate::source::Source as _;

pub fn run(
    connection: &ConnectionConfig,
    config: &DemoConfig,
    seeded: serde_json::Value,
    args: &BenchArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (cluster, spec, decoder) = super::bench::open_workload(connection, config)?;
    let cancel = CancelToken::default();
    let (tails, everything) = ranges(&cluster, &spec)?;
    let mut parts: BTreeMap<&str, Vec<Run>> = BTreeMap::new();
    let mut found = json!(null);
    for round in 0..args.rounds.max(1) {
        let now = cluster.now_ms();
        let started = Instant::now();
        let census = freshness::census(&cluster, &spec, &decoder, now, &cancel)?;
        let store = freshness::store_age(&cluster, &spec, &decoder, now, &cancel)?;
        parts.entry("census").or_default().push(Run {
            elapsed: started.elapsed(),
            records: census.records_read + store.records_read,
            bytes: 0,
        });
        parts
            .entry("census limit")
            .or_default()
            .push(raw(&cluster, &tails)?);
        let started = Instant::now();
        freshness::chain(
            &cluster,
            &spec,
            Some(&store),
            Some(&census),
            &decoder,
            now,
            &cancel,
        )?;
        parts.entry("chain").or_default().push(Run {
            elapsed: started.elapsed(),
            ..Run::default()
        });
        let keys = freshness::pick_keys(&store.profile_keys, args.sample, args.seed);
        let started = Instant::now();
        let sample =
            freshness::sample_store(&cluster, &spec, &decoder, &keys, now, &cancel, &|_| {});
        if !sample.failed.is_empty() {
            anyhow::bail!("{} sampled lookups failed", sample.failed.len());
        }
        parts.entry("sample").or_default().push(Run {
            elapsed: started.elapsed(),
            ..Run::default()
        });
        parts
            .entry("sample limit")
            .or_default()
            .push(raw(&cluster, &everything)?);
        let last = |name: &str| parts[name].last().map_or(0, |r| r.elapsed.as_millis());
        eprintln!(
            "round {round}: census {} ms (limit {} ms), chain {} ms, sample of {} {} ms (one raw pass {} ms)",
            last("census"),
            last("census limit"),
            last("chain"),
            keys.len(),
            last("sample"),
            last("sample limit"),
        );
        found = json!({
            "not_consumed": census.customers.len(),
            "store_keys": store.keys,
            "sampled": sample.n,
            "consumed_but_not_applied": sample.consumed_but_not_applied,
        });
    }
    let summary = super::bench::parts_summary(&parts);
    let doc = json!({
        "seeded": seeded,
        "rounds": args.rounds.max(1),
        "sample": args.sample,
        "found": found,
        "parts": summary,
        "peak_rss_mb": super::bench::peak_rss_kb().map(|kb| kb / 1024),
    });
    super::bench::print_parts(out, args.json, &doc)
}

/// Where the census's limit reads from (the builder's committed offset on every source
/// partition, the link sources and the store topic from their start), and every source and
/// store partition from its start, the sample's.
pub type Ranges = BTreeMap<(String, i32), i64>;

pub fn ranges(cluster: &Cluster, spec: &Spec) -> anyhow::Result<(Ranges, Ranges)> {
    let mut tails = Ranges::new();
    let mut everything = Ranges::new();
    let store = spec
        .store
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("the bench spec has a store"))?;
    let builder = store.builder_group.clone().unwrap_or_default();
    for src in &spec.sources {
        let info = cluster.topic(&src.topic)?;
        let partitions: Vec<(String, i32)> = info
            .partitions
            .iter()
            .map(|p| (src.topic.clone(), p.id))
            .collect();
        let committed = cluster.committed_offsets(&builder, &partitions)?;
        for p in &partitions {
            let from = if src.links.is_empty() {
                committed.get(p).copied().flatten().unwrap_or(0)
            } else {
                0
            };
            tails.insert(p.clone(), from);
            everything.insert(p.clone(), 0);
        }
    }
    for p in cluster.topic(&store.topic)?.partitions {
        tails.insert((store.topic.clone(), p.id), 0);
        everything.insert((store.topic.clone(), p.id), 0);
    }
    Ok((tails, everything))
}
