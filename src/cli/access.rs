//! `freshlens access`: who may read which attribute, the cluster's ACLs joined with the spec.

use std::io::Write;
use std::path::PathBuf;

use crate::governance::access;
use crate::profile::Spec;
use crate::source::Source;

#[derive(Debug, Clone, clap::Args)]
pub struct AccessArgs {
    /// Profile spec (TOML): its fields are the attributes
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
}

pub fn run(source: &dyn Source, args: &AccessArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let spec = match &args.spec {
        Some(path) => Spec::load(path)?,
        None => Spec::parse("name = \"acls\"\nbudget = \"1m\"\n", "no spec")?,
    };
    let answer = source.describe_acls()?;
    let found = access(&spec, &answer);
    if args.json {
        serde_json::to_writer(&mut *out, &found)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "{}", found.note)?;
    for a in &found.attributes {
        writeln!(
            out,
            "  {:<20} {:<28} {} {}",
            a.field,
            a.topic,
            if a.pii { "PII" } else { "   " },
            a.readers_text()
        )?;
    }
    Ok(())
}
