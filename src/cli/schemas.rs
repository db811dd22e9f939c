//! `freshlens schemas`: per source, the schema versions its records were written with, where
//! and when each appeared, the spec paths each carries, and the subject's compatibility level.

use std::io::Write;
use std::path::PathBuf;

use crate::cluster::CancelToken;
use crate::profile::schemas::{SchemaReport, schemas};
use crate::source::Source;

#[derive(Debug, Clone, clap::Args)]
pub struct SchemasArgs {
    /// The profile spec whose sources and paths are looked at
    #[arg(long)]
    pub spec: PathBuf,
    /// Read only the newest N records of each partition (default: every retained record)
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    pub tail: Option<i64>,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub registry: super::profile::RegistryArgs,
}

pub fn run(
    source: &dyn Source,
    args: &SchemasArgs,
    timeout: std::time::Duration,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let Some((spec, decoder)) = args
        .registry
        .spec_and_decoder(Some(args.spec.as_path()), timeout)?
    else {
        anyhow::bail!("--spec is needed");
    };
    let report = schemas(source, &spec, &decoder, args.tail, &CancelToken::default())?;
    if args.json {
        serde_json::to_writer(&mut *out, &report)?;
        writeln!(out)?;
        return Ok(());
    }
    print(&report, out)
}

fn print(report: &SchemaReport, out: &mut dyn Write) -> anyhow::Result<()> {
    for s in &report.sources {
        writeln!(
            out,
            "{} ({}): {} records{}",
            s.topic,
            s.format,
            s.records,
            s.compatibility
                .as_deref()
                .map(|c| format!(", compatibility {c}"))
                .unwrap_or_default()
        )?;
        for v in &s.versions {
            let name = match (v.schema_id, &v.subject, v.version) {
                (Some(id), Some(subject), Some(version)) => {
                    format!("schema id {id} ({subject} v{version})")
                }
                (Some(id), _, _) => format!("schema id {id}"),
                (None, _, _) => "no schema id".into(),
            };
            let absent: Vec<&str> = v
                .paths
                .iter()
                .filter(|(_, carried)| !**carried)
                .map(|(p, _)| p.as_str())
                .collect();
            writeln!(
                out,
                "  {name}: {} records{} from {} to {}; partitions {}{}",
                v.records,
                if v.undecodable > 0 {
                    format!(" ({} undecodable)", v.undecodable)
                } else {
                    String::new()
                },
                crate::time::format_timestamp(Some(v.first_ms)),
                crate::time::format_timestamp(Some(v.last_ms)),
                v.partitions
                    .iter()
                    .map(|(p, r)| format!("{p}@{}-{}", r.first_offset, r.last_offset))
                    .collect::<Vec<_>>()
                    .join(" "),
                if absent.is_empty() {
                    String::new()
                } else {
                    format!("; absent: {}", absent.join(", "))
                }
            )?;
        }
        if let Some(why) = &s.compatibility_unread {
            writeln!(out, "  compatibility unknown: {why}")?;
        }
        for change in &s.changes {
            writeln!(out, "  SCHEMA CHANGE: {change}")?;
        }
        for warning in &s.warnings {
            writeln!(out, "  warning: {warning}")?;
        }
    }
    Ok(())
}
