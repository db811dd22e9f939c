//! `freshlens bench --rebuild`: the rehearsal of a store rebuild on the seeded workload
//! (every retained source record read, routed, folded per customer and compared with the
//! store) beside its limit, a raw read of the same topics by the same client with nothing
//! decoded, alternating in one run.

use std::io::Write;
use std::time::Instant;

use serde_json::json;

use super::args::BenchArgs;
use super::common::{Run, median, ms, open_workload, peak_rss_kb, ranges, raw};
use crate::cluster::{CancelToken, ConnectionConfig};
use crate::demo::DemoConfig;
use crate::rebuild::{RehearseRequest, rehearse};

pub fn run(
    connection: &ConnectionConfig,
    config: &DemoConfig,
    seeded: serde_json::Value,
    args: &BenchArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (cluster, spec, decoder) = open_workload(connection, config)?;
    let cancel = CancelToken::default();
    let (_, everything) = ranges(&cluster, &spec)?;
    let (mut rehearsals, mut limits) = (Vec::new(), Vec::new());
    let mut found = json!(null);
    let mut replayed = json!(null);
    for round in 0..args.rounds.max(1) {
        let started = Instant::now();
        let r = rehearse(
            &cluster,
            &spec,
            &decoder,
            &RehearseRequest::default(),
            &cancel,
            &|_| {},
        )?;
        // Every record the rehearsal reads, as the raw read reads them: the source records it
        // replays, the store versions it compares with, the link sources read again for ids.
        rehearsals.push(Run {
            elapsed: started.elapsed(),
            records: r.records + r.store_records + r.link_records,
            bytes: r.bytes,
        });
        replayed = json!({
            "source_records": r.records,
            "store_records": r.store_records,
            "link_records": r.link_records,
        });
        // What a round freed goes back to the system, so the next round's peak is its own.
        crate::memory::give_back();
        limits.push(raw(&cluster, &everything)?);
        eprintln!(
            "round {round}: rehearsal {} ms ({} records), raw read {} ms",
            rehearsals[round].elapsed.as_millis(),
            r.records,
            limits[round].elapsed.as_millis()
        );
        found = json!({"customers": r.customers, "matches": r.matches});
    }
    let (a, b) = (median(&rehearsals), median(&limits));
    let per_s = |r: &Run| r.records as f64 / r.elapsed.as_secs_f64().max(1e-9);
    let doc = json!({
        "seeded": seeded,
        "rounds": args.rounds.max(1),
        "found": found,
        "rehearsal": {"median_ms": ms(a.elapsed), "records": a.records, "records_per_s": per_s(&a), "read": replayed,
            "source_records_per_s": replayed["source_records"].as_f64().unwrap_or_default() / a.elapsed.as_secs_f64().max(1e-9)},
        "raw_full_read": {"median_ms": ms(b.elapsed), "records": b.records, "records_per_s": per_s(&b)},
        "rehearsal_over_raw_speed": per_s(&a) / per_s(&b).max(1e-9),
        "peak_rss_mb": peak_rss_kb().map(|kb| kb / 1024),
    });
    if args.json {
        serde_json::to_writer(&mut *out, &doc)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} rounds, medians: rehearsal {:.0} ms ({:.0} records/s read, {:.0} source records/s replayed), raw full read {:.0} ms ({:.0} records/s): {:.2} of the limit's speed; peak RSS {} MB; {found}",
        args.rounds.max(1),
        ms(a.elapsed),
        per_s(&a),
        doc["rehearsal"]["source_records_per_s"]
            .as_f64()
            .unwrap_or_default(),
        ms(b.elapsed),
        per_s(&b),
        doc["rehearsal_over_raw_speed"].as_f64().unwrap_or_default(),
        doc["peak_rss_mb"],
    )?;
    Ok(())
}
