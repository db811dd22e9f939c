//! `freshlens bench`, the default mode: for customers chosen by seed, measures alternating in
//! one run: (a) a freshlens lookup (targeted partitions, identity links, fold, store
//! comparison); (b) what web UIs do, every partition of every source topic in one polling
//! loop, the key compared on the borrowed message; (c) the limit, the partitions (a) reads read
//! raw by the same client, with no decoding at all; and a plain librdkafka loop over what (b)
//! reads, at librdkafka's defaults. Every client is warm.

use std::collections::BTreeSet;
use std::io::Write;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::json;

use super::args::BenchArgs;
use super::common::{Run, median, ms, open_workload, peak_rss_kb, raw};
use super::full_scan::FullScan;
use crate::cluster::{Cluster, ConnectionConfig};
use crate::demo::{DemoConfig, customer_id};
use crate::profile::SourceDecoder;
use crate::profile::{LookupRequest, Spec, lookup};
use crate::source::Source as _;

/// The default mode: lookups of customers chosen by seed, each beside its baselines.
pub fn run(
    connection: &ConnectionConfig,
    config: &DemoConfig,
    seeded: serde_json::Value,
    args: &BenchArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (cluster, spec, decoder) = open_workload(connection, config)?;
    let topics: Vec<String> = spec.sources.iter().map(|s| s.topic.clone()).collect();
    let naive_scan = FullScan::tuned(connection, &cluster, &topics)?;
    let plain_loop = FullScan::plain(connection, &cluster, &topics)?;

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed);
    let keys: Vec<String> = (0..args.lookups)
        .map(|_| customer_id(rng.random_range(0..config.customers)))
        .collect();
    // One untimed round: every client freshlens and the baselines use is connected and has
    // the topics' metadata before anything is measured, so no side pays for it.
    if let Some(first) = keys.first() {
        let (_, partitions, _) = targeted(&cluster, &spec, &decoder, first)?;
        raw(&cluster, &partitions.into_iter().map(|p| (p, 0)).collect())?;
        naive_scan.find(first)?;
        plain_loop.count()?;
    }
    let (mut a, mut b, mut c, mut d) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut disagreements = Vec::new();
    for key in &keys {
        let (run, partitions, own) = targeted(&cluster, &spec, &decoder, key)?;
        a.push(run);
        let (scan, found) = naive_scan.find(key)?;
        if found != own {
            disagreements.push(format!(
                "the naive scan found {found} records keyed {key}, freshlens {own}"
            ));
        }
        b.push(scan);
        let whole = partitions.into_iter().map(|p| (p, 0)).collect();
        c.push(raw(&cluster, &whole)?);
        d.push(plain_loop.count()?);
        eprintln!(
            "{key}: freshlens {} ms, naive {} ms, raw {} ms, plain loop {} ms",
            run.elapsed.as_millis(),
            b.last().map_or(0, |r| r.elapsed.as_millis()),
            c.last().map_or(0, |r| r.elapsed.as_millis()),
            d.last().map_or(0, |r| r.elapsed.as_millis()),
        );
    }
    let (ma, mb, md) = (median(&a), median(&b), median(&d));
    let summary = |name: &str, runs: &[Run]| {
        let r = median(runs);
        let (min, max) = spread(runs);
        json!({
            "approach": name, "median_ms": ms(r.elapsed), "min_ms": ms(min), "max_ms": ms(max),
            "records": r.records, "bytes": r.bytes,
            "mb_per_s": r.bytes as f64 / 1e6 / r.elapsed.as_secs_f64().max(1e-9),
        })
    };
    let ratio = |x: &Run, y: &Run| x.elapsed.as_secs_f64() / y.elapsed.as_secs_f64().max(1e-9);
    // Each customer's lookup over its own raw read, the median of those: customers read
    // different amounts, so medians taken apart would compare different customers.
    let mut ratios: Vec<f64> = a.iter().zip(&c).map(|(x, y)| ratio(x, y)).collect();
    ratios.sort_by(f64::total_cmp);
    let freshlens_over_raw = ratios.get(ratios.len() / 2).copied().unwrap_or_default();
    let mut warnings = cannot_be_right(
        freshlens_over_raw,
        &[
            ("naive full scan", &b),
            ("raw targeted read", &c),
            ("plain librdkafka loop", &d),
        ],
    );
    // Both full scans read every record of the same partitions, and find what freshlens finds.
    if mb.records != md.records {
        warnings.push(format!(
            "the naive scan read {} records and the plain loop {}: one of them stopped early",
            mb.records, md.records
        ));
    }
    warnings.extend(disagreements);
    let doc = json!({
        "seeded": seeded,
        "lookups": keys.len(),
        "results": [
            summary("freshlens profile", &a),
            summary("naive full scan", &b),
            summary("raw targeted read", &c),
            summary("plain librdkafka loop", &d),
        ],
        "naive_over_freshlens": ratio(&mb, &ma),
        "freshlens_over_raw": freshlens_over_raw,
        "naive_over_plain": ratio(&mb, &md),
        "warnings": warnings,
        "peak_rss_mb": peak_rss_kb().map(|kb| kb / 1024),
    });
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    if args.json {
        serde_json::to_writer(&mut *out, &doc)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "{} lookups (min / median / max):", keys.len())?;
    for r in doc["results"].as_array().into_iter().flatten() {
        let f = |k: &str| r[k].as_f64().unwrap_or_default();
        writeln!(
            out,
            "  {:<22} {:>7.1} / {:>7.1} / {:>7.1} ms {:>8} records {:>7.1} MB {:>7.1} MB/s",
            r["approach"].as_str().unwrap_or_default(),
            f("min_ms"),
            f("median_ms"),
            f("max_ms"),
            r["records"],
            f("bytes") / 1e6,
            f("mb_per_s")
        )?;
    }
    writeln!(
        out,
        "  naive / freshlens = {:.1}x, freshlens / raw = {:.2}x, naive / plain loop = {:.2}x, peak RSS {} MB",
        doc["naive_over_freshlens"].as_f64().unwrap_or_default(),
        freshlens_over_raw,
        doc["naive_over_plain"].as_f64().unwrap_or_default(),
        doc["peak_rss_mb"]
    )?;
    for warning in &warnings {
        writeln!(out, "  CANNOT BE RIGHT: {warning}")?;
    }
    Ok(())
}

/// The fastest and slowest of `runs`.
fn spread(runs: &[Run]) -> (Duration, Duration) {
    let min = runs.iter().map(|r| r.elapsed).min().unwrap_or_default();
    let max = runs.iter().map(|r| r.elapsed).max().unwrap_or_default();
    (min, max)
}

/// The slowest and fastest time per record of `runs` (customers differ in how much a targeted
/// read reads, so the speed is what must hold still, not the time).
fn speed_spread(runs: &[Run]) -> Option<(f64, f64)> {
    let per_record: Vec<f64> = runs
        .iter()
        .filter(|r| r.records > 0)
        .map(|r| r.elapsed.as_secs_f64() * 1e6 / r.records as f64)
        .collect();
    let fastest = per_record.iter().copied().reduce(f64::min)?;
    let slowest = per_record.iter().copied().reduce(f64::max)?;
    Some((fastest, slowest))
}

/// What says a result cannot be right: freshlens faster than the raw read of the same
/// partitions by more than 20% (the limit is no limit), or a baseline whose slowest run read
/// at less than a third of its fastest run's speed (it measured something else: a stall, a
/// cold client).
pub fn cannot_be_right(freshlens_over_raw: f64, baselines: &[(&str, &[Run])]) -> Vec<String> {
    let mut said = Vec::new();
    if freshlens_over_raw < 0.8 {
        said.push(format!(
            "freshlens took {freshlens_over_raw:.2}x the raw read of the same partitions: the \
             raw read is not reading as fast as this client can"
        ));
    }
    for (name, runs) in baselines {
        if let Some((fastest, slowest)) = speed_spread(runs)
            && slowest > 3.0 * fastest
        {
            let (min, max) = spread(runs);
            said.push(format!(
                "the {name} read from {:.2} to {:.2} µs per record ({} to {} ms): a spread over \
                 3x means some runs measured something else",
                fastest,
                slowest,
                min.as_millis(),
                max.as_millis()
            ));
        }
    }
    said
}

/// What a lookup read: the partitions, and how many of its events are keyed by the customer
/// itself (what the naive scan must find too).
type Targeted = (Run, BTreeSet<(String, i32)>, u64);

/// (a): a freshlens lookup.
fn targeted(
    cluster: &Cluster,
    spec: &Spec,
    decoder: &SourceDecoder,
    key: &str,
) -> anyhow::Result<Targeted> {
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
    let own = found.timeline.events.iter().filter(|e| e.id == key).count() as u64;
    Ok((
        Run {
            elapsed,
            records: scanned.records,
            bytes: scanned.bytes,
        },
        partitions,
        own,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs of 1,000 records each, taking `ms`.
    fn runs(ms: &[u64]) -> Vec<Run> {
        ms.iter()
            .map(|m| Run {
                elapsed: Duration::from_millis(*m),
                records: 1_000,
                bytes: 0,
            })
            .collect()
    }

    #[test]
    fn a_limit_beaten_or_a_wide_spread_is_said() {
        let steady = runs(&[100, 120, 150]);
        assert!(cannot_be_right(1.0, &[("raw", &steady)]).is_empty());
        let said = cannot_be_right(0.5, &[("raw", &steady)]);
        assert_eq!(said.len(), 1);
        assert!(said[0].contains("0.50x"), "{said:?}");
        let stalled = runs(&[140, 160, 1130]);
        let said = cannot_be_right(1.0, &[("raw targeted read", &stalled)]);
        assert!(said[0].contains("(140 to 1130 ms)"), "{said:?}");
        // A customer whose read is small is quick, not wrong: the speed is what is judged.
        let mut sizes = runs(&[66, 190, 300]);
        sizes[0].records = 350;
        sizes[2].records = 1_600;
        assert!(cannot_be_right(1.0, &[("raw", &sizes)]).is_empty());
        assert_eq!(
            spread(&stalled),
            (Duration::from_millis(140), Duration::from_millis(1130))
        );
    }
}
