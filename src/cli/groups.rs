//! `freshlens groups`: consumer groups with lag in offsets and in time, worst first; `--watch`
//! samples at an interval and reports status changes.

use crate::source::Source;
use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use serde_json::json;

use crate::freshness::{Drain, GroupLag, GroupWatch, Rules, Status, past_lags};
use crate::time::format_duration_ms;

#[derive(Debug, Clone, clap::Args)]
pub struct GroupsArgs {
    /// Only this group (an unknown name is an error)
    #[arg(short = 'g', long = "group")]
    pub group: Option<String>,
    /// Print JSON (one document; one line per sample with --watch)
    #[arg(long)]
    pub json: bool,
    /// Sample every SECS seconds and print status changes
    #[arg(long, value_name = "SECS")]
    pub watch: Option<u64>,
    /// With --watch: stop after this many samples
    #[arg(long, value_name = "N", requires = "watch")]
    pub samples: Option<u64>,
    /// The status window: each partition is judged on its last N commits (Burrow's intervals;
    /// at least 2, since a trend needs two commits)
    #[arg(long, default_value_t = 10, value_name = "N",
        value_parser = clap::value_parser!(u64).range(2..))]
    pub window: u64,
    /// A lag of up to N records counts as none (a healthy consumer is always a little behind)
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub allowed_lag: i64,
    /// With --json: each group's lag at each of its past commits, where the cluster exposes
    /// its commit log (`__consumer_offsets`)
    #[arg(long, requires = "json")]
    pub history: bool,
}

fn look(
    cluster: &dyn Source,
    args: &GroupsArgs,
    watch: &mut GroupWatch,
) -> anyhow::Result<Vec<GroupLag>> {
    let look = watch.look(cluster, args.group.as_deref())?;
    if let (unreadable @ 1.., first) = watch.log.unreadable() {
        eprintln!(
            "{unreadable} commit records could not be read{}",
            first.map(|f| format!(" (first: {f})")).unwrap_or_default()
        );
    }
    Ok(look.groups)
}

/// The documented `groups --json` shape: `GroupLag` as it serializes, with `no_commit` (an
/// assigned partition without a commit) said outright.
pub fn groups_json(lags: &[GroupLag]) -> serde_json::Value {
    let mut groups = serde_json::to_value(lags).unwrap_or_default();
    for (g, lag) in groups.as_array_mut().into_iter().flatten().zip(lags) {
        for (p, row) in g["partitions"]
            .as_array_mut()
            .into_iter()
            .flatten()
            .zip(&lag.partitions)
        {
            p["no_commit"] = row.committed.is_none().into();
        }
    }
    json!({ "groups": groups })
}

fn time_lag_text(ms: Option<i64>) -> String {
    ms.map_or_else(|| "?".to_owned(), format_duration_ms)
}

pub fn run(cluster: &dyn Source, args: &GroupsArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut watch = GroupWatch::new(Rules {
        window: args.window as usize,
        allowed_lag: args.allowed_lag.max(0),
    });
    let Some(interval) = args.watch else {
        let lags = look(cluster, args, &mut watch)?;
        if args.json {
            let mut doc = groups_json(&lags);
            doc["unreadable_commit_records"] = watch.log.unreadable().0.into();
            if args.history {
                let commits = lags
                    .iter()
                    .map(|g| (g.group.clone(), watch.log.commits(&g.group)))
                    .collect();
                let mut past = past_lags(cluster, &lags, &commits, cluster.now_ms())?;
                for (i, g) in lags.iter().enumerate() {
                    doc["groups"][i]["history"] = json!(past.remove(&g.group).unwrap_or_default());
                }
            }
            serde_json::to_writer(&mut *out, &doc)?;
            writeln!(out)?;
            return Ok(());
        }
        writeln!(
            out,
            "{:<40} {:<12} {:<8} {:>12} {:>12} {:>10}",
            "GROUP", "STATE", "STATUS", "LAG", "TIME LAG", "ETA"
        )?;
        for g in &lags {
            writeln!(
                out,
                "{:<40} {:<12} {:<8} {:>12} {:>12} {:>10}",
                g.group,
                g.state,
                g.status.to_string(),
                g.lag,
                time_lag_text(g.max_time_lag_ms),
                Drain::eta_text(g.eta_ms, g.draining)
            )?;
            for p in &g.partitions {
                writeln!(
                    out,
                    "    {}/{}  committed {}  high {}  lag {}  time lag {}  {}: {}",
                    p.topic,
                    p.partition,
                    p.committed.map_or("none".to_owned(), |c| c.to_string()),
                    p.high,
                    p.lag,
                    time_lag_text(p.time_lag_ms),
                    p.status,
                    p.status_reason
                )?;
                if p.lag > 0 {
                    writeln!(out, "        {}", p.drain.text)?;
                }
                if p.retention.at_risk {
                    writeln!(out, "        {}", p.retention.text)?;
                }
            }
        }
        return Ok(());
    };

    let interval = Duration::from_secs(interval.max(1));
    let mut previous: HashMap<String, Status> = HashMap::new();
    let mut taken = 0u64;
    loop {
        let now = cluster.now_ms();
        let lags = look(cluster, args, &mut watch)?;
        for g in &lags {
            let before = previous.insert(g.group.clone(), g.status);
            let change = before.filter(|b| *b != g.status);
            if args.json {
                let mut line = groups_json(std::slice::from_ref(g))["groups"][0].clone();
                line["t_ms"] = now.into();
                line["previous_status"] =
                    change.map(|s| json!(s)).unwrap_or(serde_json::Value::Null);
                serde_json::to_writer(&mut *out, &line)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "{} {:<40} {:<7} lag {:>10} time lag {:>8}{}",
                    crate::time::format_timestamp(Some(now)),
                    g.group,
                    g.status.to_string(),
                    g.lag,
                    time_lag_text(g.max_time_lag_ms),
                    change
                        .map(|b| format!("  ({b} -> {})", g.status))
                        .unwrap_or_default()
                )?;
            }
        }
        out.flush()?;
        taken += 1;
        if args.samples.is_some_and(|n| taken >= n) {
            return Ok(());
        }
        std::thread::sleep(interval);
    }
}
