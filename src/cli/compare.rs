//! `freshlens compare`: two clusters side by side for a migration: topics on both sides, group
//! offsets translated through MirrorMaker 2's checkpoints, and a cutover verdict.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde_json::json;

use crate::cluster::CancelToken;
use crate::migrate::{CompareRequest, compare};
use crate::source::Source;

#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// The target cluster's bootstrap servers
    #[arg(
        long = "to",
        value_name = "BOOTSTRAP",
        required_unless_present_any = ["to_capture", "to_cluster"]
    )]
    pub to: Option<String>,
    /// A librdkafka property of the target connection (repeatable)
    #[arg(long = "to-X", value_name = "KEY=VALUE")]
    pub to_properties: Vec<String>,
    /// A librdkafka properties file for the target connection
    #[arg(long = "to-F", value_name = "FILE")]
    pub to_properties_file: Option<PathBuf>,
    /// The target as a cluster saved in the GUI
    #[arg(long = "to-cluster", value_name = "NAME", conflicts_with_all = ["to", "to_capture"])]
    pub to_cluster: Option<String>,
    /// The target as a capture file
    #[arg(long = "to-capture", value_name = "FILE", conflicts_with = "to")]
    pub to_capture: Option<PathBuf>,
    /// How source topics are named on the target, `{topic}` standing for the name (default:
    /// MirrorMaker 2's `<alias>.{topic}` when the target holds those names, else the same name)
    #[arg(long, value_name = "PATTERN", value_parser = rename_pattern)]
    pub rename: Option<String>,
    /// Groups to translate (repeatable; default every group of the source)
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
    /// The target's MirrorMaker 2 checkpoints topic (default: the one ending in
    /// `.checkpoints.internal`)
    #[arg(long, value_name = "TOPIC")]
    pub checkpoints: Option<String>,
    /// A profile spec: with --key, one customer compared on both sides
    #[arg(long, requires = "key")]
    pub spec: Option<PathBuf>,
    /// The customer to compare (with --spec)
    #[arg(long, requires = "spec")]
    pub key: Option<String>,
    /// Show `pii` field values in the customer's field diff
    #[arg(long)]
    pub reveal_pii: bool,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub registry: super::profile::RegistryArgs,
}

/// A `--rename` pattern must name the topic: without `{topic}` every topic would map to one name.
pub(super) fn rename_pattern(text: &str) -> Result<String, String> {
    match text.contains("{topic}") {
        true => Ok(text.to_owned()),
        false => Err(format!(
            "{text:?} has no {{topic}}, so every topic would map to the same name: \
             write where the source name goes, e.g. \"backup.{{topic}}\""
        )),
    }
}

impl CompareArgs {
    fn target(&self, timeout: std::time::Duration) -> anyhow::Result<Box<dyn Source>> {
        let connect = super::ConnectArgs {
            bootstrap: self.to.clone(),
            properties: self.to_properties.clone(),
            properties_file: self.to_properties_file.clone(),
            cluster: self.to_cluster.clone(),
            capture: self.to_capture.clone(),
            timeout_secs: timeout.as_secs().max(1),
            ..Default::default()
        };
        connect.open()
    }
}

pub fn run(
    source: &dyn Source,
    args: &CompareArgs,
    timeout: std::time::Duration,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let target = args.target(timeout)?;
    let customer = match (&args.spec, &args.key) {
        (Some(path), Some(key)) => {
            let spec = crate::profile::Spec::load(path)?;
            let decoder = args.registry.decoder(&spec, timeout)?;
            Some((spec, decoder, key.clone()))
        }
        _ => None,
    };
    let request = CompareRequest {
        rename: args.rename.clone(),
        groups: args.groups.clone(),
        checkpoints: args.checkpoints.clone(),
        customer,
        topics: Vec::new(),
        reveal_pii: args.reveal_pii,
        no_groups: false,
    };
    let found = compare(source, target.as_ref(), &request, &CancelToken::default())?;
    if args.json {
        let doc = json!({
            "topics": found.topics,
            "groups": found.groups,
            "checkpoints_topic": found.checkpoints_topic,
            "undecodable_checkpoints": found.undecodable_checkpoints,
            "customer": found.customer.as_ref().map(|c| json!({
                "key": c.key,
                "only_source": c.only_source,
                "only_target": c.only_target,
                "different": c.different.iter().map(|(a, b)| json!({"source": a, "target": b})).collect::<Vec<_>>(),
                "order": c.order,
                "fields": c.fields,
            })),
            "verdict": {"ready": found.reasons.is_empty(), "reasons": found.reasons},
        });
        serde_json::to_writer(&mut *out, &doc)?;
        writeln!(out)?;
        return Ok(());
    }
    let mut by_side: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &found.topics {
        *by_side.entry(t.on).or_default() += 1;
    }
    writeln!(
        out,
        "topics: {} on both sides, {} on the source only, {} on the target only",
        by_side.get("both").copied().unwrap_or(0),
        by_side.get("source").copied().unwrap_or(0),
        by_side.get("target").copied().unwrap_or(0)
    )?;
    for g in &found.groups {
        for p in &g.partitions {
            writeln!(
                out,
                "  {} {}/{}: committed {} → {} on the target (replay {}, skip {})",
                g.group,
                p.topic,
                p.partition,
                p.source_committed,
                p.translated
                    .map_or("untranslated".into(), |o| o.to_string()),
                p.replay.map_or("?".into(), |n| n.to_string()),
                p.skip.map_or("?".into(), |n| n.to_string()),
            )?;
        }
    }
    if found.reasons.is_empty() {
        writeln!(out, "ready to cut over")?;
    } else {
        writeln!(out, "NOT READY:")?;
        for r in &found.reasons {
            writeln!(out, "  {r}")?;
        }
    }
    Ok(())
}
