//! `freshlens bench --groups N`: how long one look at N committed consumer groups takes.
//! Creates `--group-topics` topics with a few records each and N groups that each committed on
//! a few of them (some behind), then measures, alternating in one run: (a) freshlens's look
//! (groups, watermarks, every group's committed offsets from one client, the record at each
//! lagging position, the status rules); (b) how freshlens looked before, a client per group
//! carrying its id for OffsetFetch, eight at a time; (c) the limit, the same client's raw
//! admin calls alone (ListGroups, ListOffsets, ListConsumerGroupOffsets), nothing read or
//! judged.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rayon::prelude::*;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::json;

use super::args::BenchArgs;
use super::common::ms;
use crate::cluster::write::{NewTopicSpec, Outgoing, Writer};
use crate::cluster::{Cluster, ConnectionConfig};
use crate::freshness::GroupWatch;

/// Topics each bench group commits on.
const TOPICS_PER_GROUP: usize = 4;
/// Records written to each bench topic.
const RECORDS_PER_TOPIC: usize = 10;

/// Creates the topics, writes their records and commits the groups' offsets (the bench's
/// only writes, to topics and groups named `<prefix>-…`).
fn set_up(
    connection: &ConnectionConfig,
    prefix: &str,
    topics: usize,
    groups: usize,
) -> anyhow::Result<()> {
    let names: Vec<String> = (0..topics).map(|i| format!("{prefix}-t{i:04}")).collect();
    // A bench never commits into a group it did not make, nor writes to topics that hold
    // someone's records.
    let cluster = Cluster::connect(connection.clone())?;
    if let Some(taken) = cluster
        .groups()?
        .iter()
        .find(|g| g.name.starts_with(&format!("{prefix}-g")))
    {
        anyhow::bail!(
            "group {} already exists: pass --reuse to measure what is there, or another --prefix",
            taken.name
        );
    }
    if let Some(used) = cluster
        .topics(false)?
        .iter()
        .find(|t| names.contains(&t.name) && t.message_count() > 0)
    {
        anyhow::bail!(
            "topic {} already holds records: pass --reuse, or another --prefix",
            used.name
        );
    }
    // The writer refuses any name outside `<prefix>-`.
    let writer = Writer::new(connection, format!("{prefix}-"));
    let new: Vec<NewTopicSpec> = names
        .iter()
        .map(|n| NewTopicSpec {
            name: n.clone(),
            partitions: 1,
            configs: Vec::new(),
        })
        .collect();
    for chunk in new.chunks(50) {
        // An existing topic is fine: a rerun reuses it.
        writer.create_topics(chunk)?;
    }
    // One record per batch: some brokers (Tansu) return nothing when a read starts inside a
    // multi-record batch, which would measure their gap, not the look.
    let producer = writer
        .producer(&[("linger.ms", "0"), ("batch.num.messages", "1")])
        .context("cannot create a producer")?;
    for name in &names {
        for i in 0..RECORDS_PER_TOPIC {
            let key = format!("k{i}");
            producer.send(Outgoing {
                topic: name,
                partition: 0,
                timestamp_ms: None,
                key: Some(key.as_bytes()),
                value: Some(b"v"),
            })?;
        }
    }
    producer.flush(Duration::from_secs(30))?;
    (0..groups).into_par_iter().try_for_each(|g| {
        let offsets: Vec<(String, i32, i64)> = (0..TOPICS_PER_GROUP)
            .map(|k| {
                let topic = &names[(g * 7 + k * 13) % names.len()];
                // Every third group is behind by a few records on one topic.
                let behind = if g % 3 == 0 && k == 0 { 3 } else { 0 };
                (topic.clone(), 0, (RECORDS_PER_TOPIC - behind) as i64)
            })
            .collect();
        writer.commit(&format!("{prefix}-g{g:04}"), &offsets)?;
        anyhow::Ok(())
    })
}

/// (b): every group's committed offsets through a client per group (OffsetFetch on every
/// partition of the topics it committed on), eight groups at a time.
fn per_group_clients(cluster: &Cluster, groups: &[String]) -> anyhow::Result<usize> {
    let topics = cluster.topics(false)?;
    let partitions: Vec<(String, i32)> = topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(move |p| (t.name.clone(), p.id)))
        .collect();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(8).build()?;
    let answered: Vec<usize> = pool.install(|| {
        groups
            .par_iter()
            .map(|g| {
                let mut config = cluster.config().client_config()?;
                config.set("group.id", g);
                let consumer: BaseConsumer = config.create()?;
                let mut tpl = TopicPartitionList::new();
                for (t, p) in &partitions {
                    tpl.add_partition(t, *p);
                }
                let answer = consumer.committed_offsets(tpl, cluster.config().timeout)?;
                Ok(answer
                    .elements()
                    .iter()
                    .filter(|e| matches!(e.offset(), Offset::Offset(_)))
                    .count())
            })
            .collect::<anyhow::Result<Vec<usize>>>()
    })?;
    Ok(answered.into_iter().sum())
}

fn stats(runs: &[Duration]) -> serde_json::Value {
    let mut sorted = runs.to_vec();
    sorted.sort();
    json!({
        "min_ms": sorted.first().map_or(0.0, |d| ms(*d)),
        "median_ms": sorted.get(sorted.len() / 2).map_or(0.0, |d| ms(*d)),
        "max_ms": sorted.last().map_or(0.0, |d| ms(*d)),
    })
}

pub fn run(
    connection: &ConnectionConfig,
    args: &BenchArgs,
    groups: usize,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (topics, rounds, json_out) = (args.group_topics, args.rounds, args.json);
    let prefix = format!("{}-groups", args.prefix);
    if !args.reuse {
        let started = Instant::now();
        set_up(connection, &prefix, topics.max(TOPICS_PER_GROUP), groups)?;
        eprintln!(
            "set up {topics} topics and {groups} groups in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let cluster = Cluster::connect(connection.clone())?;
    let all_topics = cluster.topics(false)?.len();
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    // Each step of (a), per round, in the order the look takes them.
    let mut steps: Vec<(&'static str, Vec<Duration>)> = Vec::new();
    let mut looked_at = 0;
    for round in 0..rounds.max(1) {
        let started = Instant::now();
        let look = GroupWatch::default().look(&cluster, None)?;
        a.push(started.elapsed());
        for (name, took) in &look.steps.0 {
            match steps.iter_mut().find(|(n, _)| n == name) {
                Some((_, runs)) => runs.push(*took),
                None => steps.push((name, vec![*took])),
            }
        }
        looked_at = look.groups.len();
        let names: Vec<String> = look.groups.iter().map(|g| g.group.clone()).collect();

        let started = Instant::now();
        per_group_clients(&cluster, &names)?;
        b.push(started.elapsed());

        // The raw calls alone: ListGroups, metadata, ListOffsets(latest) of every partition,
        // ListConsumerGroupOffsets; nothing confirmed, read or judged.
        let started = Instant::now();
        let listed = cluster.groups()?;
        let metadata = cluster
            .consumer()
            .fetch_metadata(None, cluster.config().timeout)?;
        let partitions: Vec<(String, i32)> = metadata
            .topics()
            .iter()
            .flat_map(|t| t.partitions().iter().map(|p| (t.name().to_owned(), p.id())))
            .collect();
        cluster.list_offsets(&partitions, Offset::End)?;
        let names: Vec<&str> = listed.iter().map(|g| g.name.as_str()).collect();
        cluster.group_offsets(&names)?;
        c.push(started.elapsed());
        eprintln!(
            "round {round}: freshlens {:.0} ms, a client per group {:.0} ms, raw admin calls {:.0} ms",
            ms(a[round]),
            ms(b[round]),
            ms(c[round])
        );
    }
    let median = |runs: &[Duration]| {
        let mut sorted = runs.to_vec();
        sorted.sort();
        sorted[sorted.len() / 2]
    };
    let (ma, mb, mc) = (median(&a), median(&b), median(&c));
    let doc = json!({
        "groups": looked_at,
        "topics": all_topics,
        "rounds": a.len(),
        "results": [
            {"approach": "freshlens groups", "ms": stats(&a)},
            {"approach": "a client per group (before)", "ms": stats(&b)},
            {"approach": "raw admin calls (limit)", "ms": stats(&c)},
        ],
        "steps": steps
            .iter()
            .map(|(name, runs)| json!({"step": name, "ms": stats(runs)}))
            .collect::<Vec<_>>(),
        "before_over_freshlens": mb.as_secs_f64() / ma.as_secs_f64().max(1e-9),
        "freshlens_over_limit": ma.as_secs_f64() / mc.as_secs_f64().max(1e-9),
    });
    if json_out {
        serde_json::to_writer(&mut *out, &doc)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{looked_at} groups over {all_topics} topics, {} rounds (min / median / max):",
        a.len()
    )?;
    for r in doc["results"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "  {:<30} {:>8.1} {:>8.1} {:>8.1} ms",
            r["approach"].as_str().unwrap_or_default(),
            r["ms"]["min_ms"].as_f64().unwrap_or_default(),
            r["ms"]["median_ms"].as_f64().unwrap_or_default(),
            r["ms"]["max_ms"].as_f64().unwrap_or_default()
        )?;
    }
    writeln!(out, "  freshlens's look, step by step (median):")?;
    for step in doc["steps"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "    {:<32} {:>8.1} ms",
            step["step"].as_str().unwrap_or_default(),
            step["ms"]["median_ms"].as_f64().unwrap_or_default()
        )?;
    }
    writeln!(
        out,
        "  before / freshlens = {:.1}x, freshlens / limit = {:.2}x",
        doc["before_over_freshlens"].as_f64().unwrap_or_default(),
        doc["freshlens_over_limit"].as_f64().unwrap_or_default()
    )?;
    Ok(())
}
