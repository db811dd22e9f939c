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

use super::args::BenchArgs;
use super::common::{Run, open_workload, parts_summary, peak_rss_kb, print_parts, ranges, raw};
use crate::cluster::{CancelToken, ConnectionConfig};
use crate::demo::DemoConfig;
use crate::freshness;
use crate::source::Source as _;

pub fn run(
    connection: &ConnectionConfig,
    config: &DemoConfig,
    seeded: serde_json::Value,
    args: &BenchArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (cluster, spec, decoder) = open_workload(connection, config)?;
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
    let summary = parts_summary(&parts);
    let doc = json!({
        "seeded": seeded,
        "rounds": args.rounds.max(1),
        "sample": args.sample,
        "found": found,
        "parts": summary,
        "peak_rss_mb": peak_rss_kb().map(|kb| kb / 1024),
    });
    print_parts(out, args.json, &doc)
}
