//! `freshlens bench`: the end-to-end benchmark. Seeds the demo workload, then for customers
//! chosen by seed measures, alternating in one run: (a) a freshlens lookup (targeted
//! partitions, identity links, fold, store comparison); (b) what web UIs do, every partition of
//! every source topic read with the same client, keeping records whose key matches; (c) the
//! limit, the partitions (a) reads read raw, with no decoding at all.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::cluster::{CancelToken, Cluster, RecordFilter, ScanEvent, ScanRequest};
use crate::demo::{DemoConfig, customer_id, generate, spec_text};
use crate::profile::SourceDecoder;
use crate::profile::{LookupRequest, Spec, lookup};
use crate::source::Source;

use super::ConnectArgs;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Source events to seed
    #[arg(long, default_value_t = 1_000_000)]
    pub events: usize,
    #[arg(long, default_value_t = 20_000)]
    pub customers: usize,
    #[arg(long, default_value_t = 12)]
    pub partitions: i32,
    /// Customers to look up, chosen by --seed
    #[arg(long, default_value_t = 20)]
    pub lookups: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    #[arg(long, default_value = "bench")]
    pub prefix: String,
    /// Reuse topics seeded by an earlier run with the same flags
    #[arg(long)]
    pub reuse: bool,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
    /// Instead of lookups: one look at N committed consumer groups (creates them)
    #[arg(long, value_name = "N")]
    pub groups: Option<usize>,
    /// With --groups: topics to spread the groups over
    #[arg(long, default_value_t = 366)]
    pub group_topics: usize,
    /// With --groups or --stale: looks to measure
    #[arg(long, default_value_t = 7)]
    pub rounds: usize,
    /// Instead of lookups: `freshlens stale` on the workload, part by part, beside raw reads
    /// of the same records
    #[arg(long)]
    pub stale: bool,
    /// Instead of lookups: `freshlens rebuild --rehearse` on the workload beside a raw full read
    #[arg(long)]
    pub rebuild: bool,
    /// With --stale: customers sampled for a full lookup each
    #[arg(long, default_value_t = 200)]
    pub sample: usize,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Run {
    pub elapsed: Duration,
    pub records: u64,
    pub bytes: u64,
}

pub fn run(connect: &ConnectArgs, args: &BenchArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let connection = connect.to_config()?;
    eprintln!(
        "bench WRITES to {}: topics and groups named {}*{}",
        connection.bootstrap,
        args.prefix,
        if args.reuse {
            " (reusing what is there)"
        } else {
            ""
        }
    );
    if let Some(groups) = args.groups {
        return super::bench_groups::run(&connection, args, groups, out);
    }
    let (config, seeded) = seed_workload(&connection, args)?;
    if args.stale {
        return super::bench_stale::run(&connection, &config, seeded, args, out);
    }
    if args.rebuild {
        return super::bench_rebuild::run(&connection, &config, seeded, args, out);
    }
    let (cluster, spec, decoder) = open_workload(&connection, &config)?;

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed);
    let keys: Vec<String> = (0..args.lookups)
        .map(|_| customer_id(rng.random_range(0..config.customers)))
        .collect();
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for key in &keys {
        let (run, partitions) = targeted(&cluster, &spec, &decoder, key)?;
        a.push(run);
        b.push(naive(&cluster, &spec, key)?);
        let whole = partitions.into_iter().map(|p| (p, 0)).collect();
        c.push(raw(&cluster, &whole)?);
        eprintln!(
            "{key}: freshlens {} ms, naive {} ms, raw {} ms",
            run.elapsed.as_millis(),
            b.last().map_or(0, |r| r.elapsed.as_millis()),
            c.last().map_or(0, |r| r.elapsed.as_millis())
        );
    }
    let (ma, mb, mc) = (median(&a), median(&b), median(&c));
    let summary = |name: &str, r: &Run| {
        json!({
            "approach": name, "median_ms": r.elapsed.as_secs_f64() * 1000.0,
            "records": r.records, "bytes": r.bytes,
            "mb_per_s": r.bytes as f64 / 1e6 / r.elapsed.as_secs_f64().max(1e-9),
        })
    };
    let doc = json!({
        "seeded": seeded,
        "lookups": keys.len(),
        "results": [
            summary("freshlens profile", &ma),
            summary("naive full scan", &mb),
            summary("raw targeted read", &mc),
        ],
        "naive_over_freshlens": mb.elapsed.as_secs_f64() / ma.elapsed.as_secs_f64().max(1e-9),
        "freshlens_over_raw": ma.elapsed.as_secs_f64() / mc.elapsed.as_secs_f64().max(1e-9),
        "peak_rss_mb": peak_rss_kb().map(|kb| kb / 1024),
    });
    if args.json {
        serde_json::to_writer(&mut *out, &doc)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "{} lookups, medians:", keys.len())?;
    for r in doc["results"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "  {:<20} {:>9.1} ms {:>9} records {:>8.1} MB {:>8.1} MB/s",
            r["approach"].as_str().unwrap_or_default(),
            r["median_ms"].as_f64().unwrap_or_default(),
            r["records"],
            r["bytes"].as_f64().unwrap_or_default() / 1e6,
            r["mb_per_s"].as_f64().unwrap_or_default()
        )?;
    }
    writeln!(
        out,
        "  naive / freshlens = {:.1}x, freshlens / raw = {:.2}x, peak RSS {} MB",
        doc["naive_over_freshlens"].as_f64().unwrap_or_default(),
        doc["freshlens_over_raw"].as_f64().unwrap_or_default(),
        doc["peak_rss_mb"]
    )?;
    Ok(())
}

/// The seeded workload's cluster, spec and decoder, as every bench mode reads it.
pub fn open_workload(
    connection: &crate::cluster::ConnectionConfig,
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
    connection: &crate::cluster::ConnectionConfig,
    args: &BenchArgs,
) -> anyhow::Result<(DemoConfig, serde_json::Value)> {
    // Its groups too live under the prefix: a bench never commits into a group it did not make.
    let config = DemoConfig {
        builder_group: format!("{}-{}", args.prefix, crate::demo::BUILDER_GROUP),
        risk_group: format!("{}-{}", args.prefix, crate::demo::RISK_GROUP),
        prefix: args.prefix.clone(),
        customers: args.customers.max(1),
        events: args.events,
        seed: args.seed,
        partitions: args.partitions.max(1),
        ..DemoConfig::new(crate::freshness::now_ms())
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

/// (a): a freshlens lookup, and the partitions it read.
fn targeted(
    cluster: &Cluster,
    spec: &Spec,
    decoder: &SourceDecoder,
    key: &str,
) -> anyhow::Result<(Run, BTreeSet<(String, i32)>)> {
    let started = Instant::now();
    let found = lookup(
        cluster,
        &LookupRequest::new(spec, decoder, key, cluster.now_ms()),
    )?;
    let elapsed = started.elapsed();
    let mut partitions = BTreeSet::new();
    for source in &spec.sources {
        let count = cluster.topic(&source.topic)?.partitions.len() as i32;
        for id in &found.timeline.identities {
            for p in spec.partitioner.partitions_for(id.as_bytes(), count) {
                partitions.insert((source.topic.clone(), p));
            }
        }
    }
    if let Some(store) = &spec.store {
        let count = cluster.topic(&store.topic)?.partitions.len() as i32;
        for p in spec.partitioner.partitions_for(key.as_bytes(), count) {
            partitions.insert((store.topic.clone(), p));
        }
    }
    let scanned = &found.timeline.scanned;
    Ok((
        Run {
            elapsed,
            records: scanned.records,
            bytes: scanned.bytes,
        },
        partitions,
    ))
}

/// (b): every partition of every source topic, keeping the records whose key matches.
fn naive(cluster: &Cluster, spec: &Spec, key: &str) -> anyhow::Result<Run> {
    let started = Instant::now();
    let mut run = Run::default();
    for source in &spec.sources {
        let mut request = ScanRequest::new(source.topic.clone());
        request.filter = RecordFilter {
            keys: [key.as_bytes().to_vec()].into(),
            ..RecordFilter::default()
        };
        let summary = cluster.scan(&request, &CancelToken::default(), &mut |_| true)?;
        run.records += summary.progress.scanned;
        run.bytes += summary.progress.bytes;
    }
    run.elapsed = started.elapsed();
    Ok(run)
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
