//! `freshlens erasure`: is an erased customer really gone — from the source topics (records
//! before the erasure, when retention removes them) and from the store.

use std::io::Write;
use std::path::PathBuf;

use serde_json::json;

use crate::cluster::CancelToken;
use crate::governance::verify_erasures;
use crate::profile::Spec;
use crate::source::Source;
use crate::time::format_timestamp;

#[derive(Debug, Clone, clap::Args)]
pub struct ErasureArgs {
    /// Profile spec (TOML) whose sources say which event erases a customer (`erase_when`)
    #[arg(long)]
    pub spec: PathBuf,
    /// The customer to verify
    #[arg(long, conflicts_with = "all", required_unless_present = "all")]
    pub key: Option<String>,
    /// Every customer with an erasure event, worst first
    #[arg(long)]
    pub all: bool,
    /// How long after the erasure its data may live: 30d, 72h, …
    #[arg(long, default_value = "30d", value_parser = parse_span)]
    pub deadline: i64,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub registry: super::profile::RegistryArgs,
}

fn parse_span(text: &str) -> Result<i64, String> {
    humantime::parse_duration(text)
        .map(|d| d.as_millis() as i64)
        .map_err(|e| format!("{text:?}: {e}"))
}

pub fn run(
    source: &dyn Source,
    args: &ErasureArgs,
    timeout: std::time::Duration,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let spec = Spec::load(&args.spec)?;
    if !spec.sources.iter().any(|s| s.erase_when.is_some()) {
        anyhow::bail!("the spec has no source with erase_when: no event says a customer is erased");
    }
    let decoder = args.registry.decoder(&spec, timeout)?;
    let cancel = CancelToken::default();
    let checks = verify_erasures(
        source,
        &spec,
        &decoder,
        args.key.as_deref(),
        args.deadline,
        &cancel,
    )?;
    if args.json {
        serde_json::to_writer(&mut *out, &json!({ "customers": checks }))?;
        writeln!(out)?;
        return Ok(());
    }
    if checks.is_empty() {
        writeln!(out, "no erasure events found")?;
    }
    for c in &checks {
        writeln!(
            out,
            "{} {}: {} (erased {}; ids {})",
            c.key,
            c.verdict,
            c.reason,
            format_timestamp(c.erased_at_ms),
            c.identities.join(", ")
        )?;
        for l in &c.leftovers {
            writeln!(
                out,
                "  {}/{}: {} records {} – {}, pii [{}], expires {} ({})",
                l.topic,
                l.partition,
                l.records,
                format_timestamp(Some(l.oldest_ms)),
                format_timestamp(Some(l.newest_ms)),
                l.pii_fields.join(", "),
                l.expires_by_ms
                    .map_or("never".into(), |ms| format_timestamp(Some(ms))),
                l.expiry
            )?;
        }
        if let Some(store) = &c.store {
            writeln!(
                out,
                "  store: {}{}, {} older versions on the log",
                if store.tombstone {
                    "tombstone"
                } else {
                    "profile kept"
                },
                if store.serves_pii {
                    format!(", serves {}", store.pii_fields.join(", "))
                } else {
                    String::new()
                },
                store.older_versions
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// `--deadline`'s default is the engine's, which the Governance tab uses.
    #[test]
    fn the_default_deadline_is_the_engines() {
        assert_eq!(
            super::parse_span("30d"),
            Ok(crate::governance::DEFAULT_ERASURE_DEADLINE_MS)
        );
    }
}
