//! `freshlens topics`: topics, partitions, replicas and watermarks.

use crate::source::Source;
use std::io::Write;

#[derive(Debug, Clone, clap::Args)]
pub struct TopicsArgs {
    /// Include internal topics (__consumer_offsets, _schemas, ...)
    #[arg(long)]
    pub all: bool,
    /// Also fetch each topic's configuration
    #[arg(long)]
    pub configs: bool,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
}

pub fn run(cluster: &dyn Source, args: &TopicsArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let topics = cluster.topics(args.all)?;
    if args.json {
        let mut docs = Vec::with_capacity(topics.len());
        for topic in &topics {
            let mut doc = serde_json::to_value(topic)?;
            doc["unconfirmed_partitions"] = topic.unconfirmed_partitions().into();
            if args.configs {
                let configs = match cluster.topic_configs(&topic.name) {
                    Ok(entries) => serde_json::Value::Object(
                        entries.into_iter().map(|(k, v)| (k, v.into())).collect(),
                    ),
                    Err(e) => serde_json::json!({ "error": e.to_string() }),
                };
                doc["configs"] = configs;
            }
            docs.push(doc);
        }
        serde_json::to_writer(&mut *out, &serde_json::json!({ "topics": docs }))?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<40} {:>10} {:>14}",
        "TOPIC", "PARTITIONS", "MESSAGES"
    )?;
    for topic in &topics {
        writeln!(
            out,
            "{:<40} {:>10} {:>14}",
            topic.name,
            topic.partitions.len(),
            topic.message_count()
        )?;
        let unconfirmed = topic.unconfirmed_partitions();
        if unconfirmed > 0 {
            writeln!(
                out,
                "    note: {unconfirmed} partition(s) answered no fetch in time: their high \
                 watermark is ListOffsets' word, and may be low on a broker that lists batches"
            )?;
        }
        for p in &topic.partitions {
            writeln!(
                out,
                "    partition {:>4}  leader {:>4}  replicas {:?}  isr {:?}  low {}  high {}{}",
                p.id,
                p.leader,
                p.replicas,
                p.isr,
                p.low,
                p.high,
                match (&p.error, p.listed_high < p.high, p.high_confirmed) {
                    (Some(e), _, _) => format!("  error {e}"),
                    (None, _, false) => "  (high not confirmed by a fetch)".to_owned(),
                    (None, true, true) => format!("  (ListOffsets listed {})", p.listed_high),
                    (None, false, true) => String::new(),
                }
            )?;
        }
        if args.configs {
            match cluster.topic_configs(&topic.name) {
                Ok(entries) => {
                    for (k, v) in entries {
                        writeln!(out, "    config {k} = {v}")?;
                    }
                }
                Err(e) => writeln!(out, "    configs unavailable: {e}")?,
            }
        }
    }
    Ok(())
}
