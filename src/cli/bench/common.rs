//! What the bench modes share: a run's measure, medians, the part-by-part report, peak
//! memory, the seeded workload and the raw reads every mode's limit is.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::json;

use super::args::BenchArgs;
use crate::cluster::{CancelToken, Cluster, ConnectionConfig, ScanEvent, ScanRequest};
use crate::demo::{DemoConfig, generate, spec_text};
use crate::profile::{SourceDecoder, Spec};

/// One measured read: how long it took, and what it read.
#[derive(Debug, Default, Clone, Copy)]
pub struct Run {
    pub elapsed: Duration,
    pub records: u64,
    pub bytes: u64,
}

/// A measured time in milliseconds, as every bench report gives it.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Each part's median over the rounds, as the part-by-part bench modes report it.
pub fn parts_summary(
    parts: &BTreeMap<&str, Vec<Run>>,
) -> serde_json::Map<String, serde_json::Value> {
    parts
        .iter()
        .map(|(name, runs)| {
            let m = median(runs);
            let value = json!({
                "median_ms": ms(m.elapsed),
                "records": m.records,
                "bytes": m.bytes,
            });
            ((*name).to_owned(), value)
        })
        .collect()
}

/// The part-by-part modes' output: `doc` as JSON, or each part's median and what was found.
pub fn print_parts(out: &mut dyn Write, json: bool, doc: &serde_json::Value) -> anyhow::Result<()> {
    if json {
        serde_json::to_writer(&mut *out, doc)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "{} rounds, medians:", doc["rounds"])?;
    for (name, value) in doc["parts"].as_object().into_iter().flatten() {
        writeln!(
            out,
            "  {name:<22} {:>9.1} ms {:>10} records",
            value["median_ms"].as_f64().unwrap_or_default(),
            value["records"]
        )?;
    }
    writeln!(out, "  found: {}", doc["found"])?;
    Ok(())
}

/// The seeded workload's cluster, spec and decoder, as every bench mode reads it.
pub fn open_workload(
    connection: &ConnectionConfig,
    config: &DemoConfig,
) -> anyhow::Result<(Cluster, Spec, SourceDecoder)> {
    let cluster = Cluster::connect(connection.clone())?;
    let spec = Spec::parse(&spec_text(&config.prefix, &config.builder_group), "bench")?;
    let decoder = SourceDecoder::new(&spec, None).map_err(anyhow::Error::msg)?;
    Ok((cluster, spec, decoder))
}

/// The demo workload under the bench's prefix, seeded unless `--reuse`: its config and what
/// seeding it took.
pub fn seed_workload(
    connection: &ConnectionConfig,
    args: &BenchArgs,
) -> anyhow::Result<(DemoConfig, serde_json::Value)> {
    // Its groups too live under the prefix: a bench never commits into a group it did not make.
    let config = DemoConfig {
        customers: args.customers.max(1),
        events: args.events,
        seed: args.seed,
        partitions: args.partitions.max(1),
        ..DemoConfig::under(&args.prefix, crate::freshness::now_ms())
    };
    let mut seeded = json!(null);
    if !args.reuse {
        let started = Instant::now();
        let mut demo = generate(&config).map_err(anyhow::Error::msg)?;
        let generated = started.elapsed();
        let report = crate::demo::seed::seed(connection, &demo, false, &mut |done, total, t| {
            eprintln!(
                "seeding: {done}/{total} records, {:.0} records/s",
                done as f64 / t.as_secs_f64().max(1e-3)
            );
        })?;
        seeded = json!({
            "records": report.records, "bytes": report.bytes,
            "generate_ms": generated.as_millis() as u64,
            "produce_ms": report.elapsed.as_millis() as u64,
            "peak_rss_mb": peak_rss_kb().map(|kb| kb / 1024),
        });
        demo.settle();
        drop(demo);
        crate::memory::give_back();
        // The peak that matters is the lookups': Linux resets the high-water mark on "5".
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
    Ok((config, seeded))
}

/// (c): the partitions (a) read, every record from the offset given (0: the start), nothing
/// decoded; all topics at once, as (a) reads its sources, but in one round where (a) needs a
/// round per identity hop.
pub fn raw(cluster: &Cluster, partitions: &BTreeMap<(String, i32), i64>) -> anyhow::Result<Run> {
    let started = Instant::now();
    let topics: BTreeSet<&String> = partitions.keys().map(|(t, _)| t).collect();
    let runs: Vec<anyhow::Result<Run>> = std::thread::scope(|scope| {
        let handles: Vec<_> = topics
            .into_iter()
            .map(|topic| {
                scope.spawn(move || {
                    let mut request = ScanRequest::new(topic.clone());
                    let here = partitions.iter().filter(|((t, _), _)| t == topic);
                    request.partitions = Some(here.clone().map(|((_, p), _)| *p).collect());
                    request.resume = here.map(|((_, p), from)| (*p, *from)).collect();
                    let summary =
                        cluster.scan(&request, &CancelToken::default(), &mut |event| {
                            if let ScanEvent::Records(records) = event {
                                std::hint::black_box(records);
                            }
                            true
                        })?;
                    Ok(Run {
                        elapsed: Duration::ZERO,
                        records: summary.progress.scanned,
                        bytes: summary.progress.bytes,
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a reader panicked")))
            })
            .collect()
    });
    let mut run = Run::default();
    for r in runs {
        let r = r?;
        run.records += r.records;
        run.bytes += r.bytes;
    }
    run.elapsed = started.elapsed();
    Ok(run)
}

pub fn median(runs: &[Run]) -> Run {
    let mut sorted = runs.to_vec();
    sorted.sort_by_key(|r| r.elapsed);
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// Peak resident memory of this process (Linux), in kB.
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
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
