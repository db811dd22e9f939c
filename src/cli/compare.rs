//! `freshlens compare`: two clusters side by side for a migration: topics on both sides, group
//! offsets translated through MirrorMaker 2's checkpoints, and a cutover verdict.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde_json::json;

use crate::cluster::CancelToken;
use crate::migrate::{
    Configs, GroupSides, Rename, TopicSides, compare_topics, read_checkpoints, translate_groups,
};
use crate::source::Source;

#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// The target cluster's bootstrap servers
    #[arg(
        long = "to",
        value_name = "BOOTSTRAP",
        required_unless_present = "to_capture"
    )]
    pub to: Option<String>,
    /// A librdkafka property of the target connection (repeatable)
    #[arg(long = "to-X", value_name = "KEY=VALUE")]
    pub to_properties: Vec<String>,
    /// The target as a capture file
    #[arg(long = "to-capture", value_name = "FILE", conflicts_with = "to")]
    pub to_capture: Option<PathBuf>,
    /// How source topics are named on the target, `{topic}` standing for the name (default:
    /// MirrorMaker 2's `<alias>.{topic}` when the target holds those names, else the same name)
    #[arg(long, value_name = "PATTERN")]
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

impl CompareArgs {
    fn target(&self, timeout: std::time::Duration) -> anyhow::Result<Box<dyn Source>> {
        let connect = super::ConnectArgs {
            bootstrap: self.to.clone(),
            properties: self.to_properties.clone(),
            capture: self.to_capture.clone(),
            timeout_secs: timeout.as_secs().max(1),
            ..Default::default()
        };
        connect.open()
    }
}

/// What `compare` found.
pub struct Comparison {
    pub customer: Option<crate::migrate::CustomerDiff>,
    pub topics: Vec<TopicSides>,
    pub groups: Vec<GroupSides>,
    pub checkpoints_topic: Option<String>,
    pub undecodable_checkpoints: u64,
    pub reasons: Vec<String>,
}

pub fn look(
    source: &dyn Source,
    target: &dyn Source,
    args: &CompareArgs,
    timeout: std::time::Duration,
) -> anyhow::Result<Comparison> {
    let cancel = CancelToken::default();
    let source_topics = source.topics(false)?;
    let target_topics = target.topics(false)?;
    let checkpoints_topic = args.checkpoints.clone().or_else(|| {
        target
            .topics(true)
            .ok()?
            .into_iter()
            .map(|t| t.name)
            .find(|n| n.ends_with(".checkpoints.internal"))
    });
    // MirrorMaker 2's own topics are not the data.
    let internal =
        |n: &str| n.ends_with(".internal") || n.starts_with("mm2-") || n.ends_with("heartbeats");
    let source_topics: Vec<_> = source_topics
        .into_iter()
        .filter(|t| !internal(&t.name))
        .collect();
    let target_topics: Vec<_> = target_topics
        .into_iter()
        .filter(|t| !internal(&t.name))
        .collect();
    let rename = match &args.rename {
        Some(pattern) => Rename::Pattern(pattern.clone()),
        None => {
            let s: Vec<&str> = source_topics.iter().map(|t| t.name.as_str()).collect();
            let t: Vec<&str> = target_topics.iter().map(|t| t.name.as_str()).collect();
            Rename::detect(&s, &t)
        }
    };
    let configs = |side: &dyn Source, names: Vec<&str>| -> anyhow::Result<Configs> {
        Ok(side
            .topics_configs(&names)?
            .into_iter()
            .filter_map(|(t, c)| Some((t, c.ok()?)))
            .collect())
    };
    let source_configs = configs(
        source,
        source_topics.iter().map(|t| t.name.as_str()).collect(),
    )?;
    let target_configs = configs(
        target,
        target_topics.iter().map(|t| t.name.as_str()).collect(),
    )?;
    let topics = compare_topics(
        &source_topics,
        &target_topics,
        &rename,
        (&source_configs, &target_configs),
    );
    let group_names: Vec<String> = if args.groups.is_empty() {
        source.groups()?.into_iter().map(|g| g.name).collect()
    } else {
        args.groups.clone()
    };
    let names: Vec<&str> = group_names.iter().map(String::as_str).collect();
    let checkpoints = match &checkpoints_topic {
        Some(topic) => read_checkpoints(target, topic, &cancel)?,
        None => Default::default(),
    };
    let groups = translate_groups(
        source,
        target,
        &names,
        &checkpoints,
        &rename,
        source.now_ms(),
    )?;
    let mut reasons = verdict_reasons(&topics, &groups, checkpoints_topic.is_some());
    let customer = match (&args.spec, &args.key) {
        (Some(path), Some(key)) => {
            let spec = crate::profile::Spec::load(path)?;
            let decoder = args.registry.decoder(&spec, timeout)?;
            let diff = crate::migrate::diff_customer(
                (source, target),
                &spec,
                &decoder,
                key,
                &rename,
                args.reveal_pii,
            )?;
            if !diff.is_same() {
                reasons.push(format!(
                    "customer {key} differs: {} events only on the source, {} only on the \
                     target, {} with another payload, {} fields",
                    diff.only_source.len(),
                    diff.only_target.len(),
                    diff.different.len(),
                    diff.fields.len()
                ));
            }
            Some(diff)
        }
        _ => None,
    };
    Ok(Comparison {
        customer,
        topics,
        groups,
        checkpoints_topic,
        undecodable_checkpoints: checkpoints.undecodable,
        reasons,
    })
}

/// Why a cutover now would not be safe, each in words; none: ready.
fn verdict_reasons(topics: &[TopicSides], groups: &[GroupSides], checkpoints: bool) -> Vec<String> {
    let mut reasons = Vec::new();
    for t in topics {
        match t.on {
            "source" => reasons.push(format!("{} is on the source only", t.topic)),
            "both" => {
                let missing: i64 = t.partitions.iter().map(|p| p.missing).sum();
                if missing > 0 {
                    reasons.push(format!(
                        "{}: {missing} records missing on the target ({})",
                        t.topic,
                        t.partitions
                            .iter()
                            .filter(|p| p.missing > 0)
                            .map(|p| format!("partition {}: {}", p.partition, p.missing))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                if t.partition_count_differs {
                    reasons.push(format!(
                        "{}: the partition count differs, so every key lands on another partition",
                        t.topic
                    ));
                }
            }
            _ => {}
        }
    }
    for g in groups.iter().filter(|g| g.untranslated > 0) {
        reasons.push(format!(
            "group {}: {} partitions without a checkpoint{}",
            g.group,
            g.untranslated,
            if checkpoints {
                ""
            } else {
                " (no checkpoints topic on the target)"
            }
        ));
    }
    reasons
}

pub fn run(
    source: &dyn Source,
    args: &CompareArgs,
    timeout: std::time::Duration,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let target = args.target(timeout)?;
    let found = look(source, target.as_ref(), args, timeout)?;
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
