//! `freshlens stale`: every customer, not one. Which customers have events the builder has not
//! consumed (and over the budget), an estimate of those consumed but not applied, the store's
//! age, and the freshness chain with the hop that breaks the budget.

use std::io::Write;
use std::path::PathBuf;

use serde_json::json;

use crate::cluster::CancelToken;
use crate::freshness::{self, Domain, DomainRequest};
use crate::profile::Spec;
use crate::source::Source;
use crate::time::{format_duration_ms, format_timestamp};

#[derive(Debug, Clone, clap::Args)]
pub struct StaleArgs {
    /// Profile spec (TOML) with a [store] and its builder_group
    #[arg(long)]
    pub spec: PathBuf,
    /// Customers sampled from the store's keys for a full lookup each
    #[arg(long, default_value_t = crate::freshness::DEFAULT_SAMPLE, value_name = "N")]
    pub sample: usize,
    /// Seed of the sample: the same seed picks the same customers of the same store
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Kafka Connect REST URL: adds the connectors that read or write the spec's topics
    #[arg(long = "connect", value_name = "URL")]
    pub connect: Option<String>,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
    /// Customers and partitions listed in the text output (all are in the JSON)
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[command(flatten)]
    pub registry: super::profile::RegistryArgs,
}

pub fn look(
    source: &dyn Source,
    spec: &Spec,
    args: &StaleArgs,
    timeout: std::time::Duration,
) -> anyhow::Result<Domain> {
    let decoder = args.registry.decoder(spec, timeout)?;
    let request = DomainRequest {
        sample: args.sample,
        seed: args.seed,
        connect: args.connect.clone(),
        timeout,
    };
    let cancel = CancelToken::default();
    let now = source.now_ms();
    Ok(freshness::look_at_domain(
        source,
        spec,
        &decoder,
        &request,
        now,
        &cancel,
        &|_| {},
    )?)
}

/// The sample as it serializes, except that no customer looked up (`--sample 0`, an empty
/// store, every lookup failed) has no share and no interval: null, not a [0, 0] that reads as
/// "certainly none".
fn sample_json(sample: &freshness::StoreSample) -> serde_json::Value {
    let mut json = serde_json::to_value(sample).unwrap_or_default();
    if sample.n == 0 {
        json["share"] = serde_json::Value::Null;
        json["ci95"] = serde_json::Value::Null;
    }
    json
}

/// The documented `stale --json` shape.
pub fn domain_json(domain: &Domain) -> serde_json::Value {
    let Domain {
        census,
        sample,
        store,
        chain,
        verdict,
    } = domain;
    json!({
        "as_of_ms": census.as_of_ms,
        "budget_ms": census.budget.ms(),
        "builder_group": census.builder_group,
        "customers": census.customers,
        "not_consumed": {
            "customers": census.customers.len(),
            "over_budget": census.over_budget,
            "by_partition": census.by_partition,
            "unresolved_keys": census.unresolved_keys,
            "keyless_records": census.keyless_records,
            "undated_records": census.undated_records,
            "undecodable_link_records": census.undecodable_link_records,
            "records_read": census.records_read,
        },
        "sample": sample_json(sample),
        "store": store,
        "chain": chain,
        "verdict": verdict,
    })
}

pub fn run(
    source: &dyn Source,
    args: &StaleArgs,
    timeout: std::time::Duration,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let spec = Spec::load(&args.spec)?;
    let domain = look(source, &spec, args, timeout)?;
    if args.json {
        serde_json::to_writer(&mut *out, &domain_json(&domain))?;
        writeln!(out)?;
    } else {
        write_text(&spec, &domain, args.limit, out)?;
    }
    if !domain.sample.failed.is_empty() {
        let (key, why) = &domain.sample.failed[0];
        anyhow::bail!(
            "{} sampled lookups failed (first: {key}: {why})",
            domain.sample.failed.len()
        );
    }
    Ok(())
}

fn write_text(spec: &Spec, d: &Domain, limit: usize, out: &mut dyn Write) -> anyhow::Result<()> {
    let c = &d.census;
    writeln!(
        out,
        "{} as of {} (budget {}): {}",
        spec.name,
        format_timestamp(Some(c.as_of_ms)),
        c.budget,
        match d.verdict.as_ref().and_then(|v| v.breaking_hop.as_ref()) {
            None => "within budget".to_owned(),
            Some(hop) => format!("OUT OF BUDGET at {hop}"),
        }
    )?;
    writeln!(out, "\nchain:")?;
    for hop in &d.chain {
        writeln!(
            out,
            "  {:<9} {:<32} {:>10}  {}  {}",
            hop.kind,
            hop.hop,
            hop.value_ms.map_or("?".into(), format_duration_ms),
            if hop.within_budget { "ok  " } else { "LATE" },
            hop.detail
        )?;
    }
    writeln!(
        out,
        "\nnot consumed yet: {} customers, {} over budget",
        c.customers.len(),
        c.over_budget
    )?;
    for t in c.by_partition.iter().take(limit) {
        let behind = t
            .oldest_pending_ms
            .map_or("?".into(), |at| format_duration_ms(c.as_of_ms - at));
        writeln!(
            out,
            "  {}/{}: builder {behind} behind (committed {} of {}), {} customers waiting",
            t.topic,
            t.partition,
            t.committed.map_or("nothing".into(), |o| o.to_string()),
            t.high,
            t.customers
        )?;
    }
    if c.by_partition.len() > limit {
        writeln!(out, "  … {} more partitions", c.by_partition.len() - limit)?;
    }
    for p in c.customers.iter().take(limit) {
        writeln!(
            out,
            "  {:<24} behind {:>8}  since {}  {}/{}@{}",
            p.key,
            format_duration_ms(p.behind_ms),
            format_timestamp(Some(p.pending_since_ms)),
            p.topic,
            p.partition,
            p.offset
        )?;
    }
    if c.customers.len() > limit {
        writeln!(
            out,
            "  … {} more (--limit, --json)",
            c.customers.len() - limit
        )?;
    }
    if !c.unresolved_keys.is_empty() {
        writeln!(
            out,
            "  {} keys no link source knows were counted as their own customer",
            c.unresolved_keys.len()
        )?;
    }
    for (n, what) in [
        (c.keyless_records, "tail records without a key"),
        (c.undated_records, "tail records without a usable timestamp"),
        (
            c.undecodable_link_records,
            "link records that could not be decoded",
        ),
    ] {
        if n > 0 {
            writeln!(out, "  skipped {n} {what}")?;
        }
    }
    let s = &d.sample;
    writeln!(out, "\nconsumed but not applied: {}", s.summary())?;
    if !s.keys.is_empty() {
        writeln!(out, "  {}", s.keys.join(", "))?;
    }
    for warning in &s.placement_warnings {
        writeln!(out, "  warning: {warning}")?;
    }
    if !s.schema_changes.is_empty() {
        writeln!(
            out,
            "\nschema change: {} of {} sampled read a path their producer no longer writes",
            s.schema_changes.len(),
            s.n
        )?;
        for (key, why) in &s.schema_changes {
            writeln!(out, "  {key}: {why}")?;
        }
    }
    let a = &d.store;
    writeln!(
        out,
        "\nstore: {} profiles, age p50 {} p95 {} max {}, {} older than the budget ({} deleted, {} undecodable)",
        a.keys,
        format_duration_ms(a.age_p50_ms),
        format_duration_ms(a.age_p95_ms),
        format_duration_ms(a.age_max_ms),
        a.over_budget,
        a.deleted,
        a.undecodable
    )?;
    Ok(())
}
