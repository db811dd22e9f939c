//! The elasticity row: after each burst in a source's produce rate, the builder back within the
//! budget on its own within `recover_within`. The evidence is the builder group's commit history
//! (`__consumer_offsets`, or the commits a capture recorded) and the sources' records over the
//! same window; with the group's drain ETA now and its headroom (partitions against members).

use std::collections::{BTreeSet, HashMap};

use serde_json::json;

use super::bursts::{Burst, CommitTrail, MINUTE_MS, MinuteCounts, bursts, judge_bursts};
use super::row::{Row, RowKind, evidence};
use crate::cluster::{CancelToken, ClusterError, ScanEvent, ScanRequest, StartAt};
use crate::freshness::{CommitLog, OffsetCommit, look_at_groups};
use crate::profile::Spec;
use crate::source::Source;

/// How long after a burst's end its effect is looked for, when the contract gives no
/// `recover_within` (with one: four times it).
const DEFAULT_HORIZON_MS: i64 = 2 * 3_600_000;
/// Lag points kept for plots and JSON: the worst of each stretch beyond this many.
const SERIES_POINTS: usize = 400;

#[derive(Debug, Clone, Default)]
pub struct ElasticityFacts {
    pub group: Option<String>,
    /// Where the commits came from.
    pub history: String,
    /// Why there is no commit history, where there is none.
    pub no_history: Option<String>,
    pub window_ms: Option<(i64, i64)>,
    pub commits: usize,
    pub bursts: Vec<Burst>,
    /// The builder's time lag at each commit (thinned to the worst per stretch).
    pub series: Vec<(i64, i64)>,
    pub now_lag_ms: Option<i64>,
    pub eta_ms: Option<i64>,
    pub draining: Option<bool>,
    pub partitions: usize,
    pub members: Option<usize>,
    /// Records read to count the produce rate.
    pub records_read: u64,
}

/// `seen`: the builder's commits a sampler saw, used where the source's own commit history
/// (`__consumer_offsets`, a capture's commits) has none.
pub fn elasticity_facts(
    source: &dyn Source,
    spec: &Spec,
    seen: &[OffsetCommit],
    cancel: &CancelToken,
) -> Result<ElasticityFacts, ClusterError> {
    let mut facts = ElasticityFacts::default();
    let Some(group) = spec.store.as_ref().and_then(|s| s.builder_group.clone()) else {
        facts.no_history = Some("the spec's [store] names no builder_group".into());
        return Ok(facts);
    };
    facts.group = Some(group.clone());
    let topics: Vec<&str> = spec.sources.iter().map(|s| s.topic.as_str()).collect();
    let mut log = CommitLog::default();
    let history = log.refresh(source, &[group.as_str()], cancel)?;
    let now = source.now_ms();
    let lags = look_at_groups(source, Some(&group), &mut log)?;
    if let Some(lag) = lags.first() {
        facts.now_lag_ms = lag.max_time_lag_ms;
        facts.eta_ms = lag.eta_ms;
        facts.draining = lag.draining;
    }
    facts.members = source.group(&group).ok().map(|g| g.members.len());
    facts.partitions = source
        .topics_named(&topics)?
        .iter()
        .map(|t| t.partitions.len())
        .sum();
    let mut commits: Vec<_> = log
        .commits(&group)
        .into_iter()
        .filter(|c| topics.contains(&c.topic.as_str()))
        .collect();
    facts.history = if source.is_capture() {
        "the capture's commits".into()
    } else {
        "__consumer_offsets".into()
    };
    if commits.is_empty() {
        commits = seen
            .iter()
            .filter(|c| c.group == group && topics.contains(&c.topic.as_str()))
            .cloned()
            .collect();
        if !commits.is_empty() {
            facts.history = "the commits freshlens saw while sampling the group".into();
        }
    }
    if commits.is_empty() {
        facts.no_history = Some(match history {
            None => format!(
                "{} exposes no commit history (no __consumer_offsets topic): the builder's \
                 lag through past bursts cannot be read; a capture taken with its commits can, \
                 and the app's Groups sampler records the builder's commits as it watches",
                source.name()
            ),
            Some(_) => format!(
                "the commit history read from {} holds no commit of {group} on the spec's \
                 sources (the app's Groups sampler records them as it watches)",
                source.name()
            ),
        });
        return Ok(facts);
    }
    facts.commits = commits.len();
    let from = commits.iter().map(|c| c.commit_ms).min().unwrap_or(now);
    facts.window_ms = Some((from, now));
    let mut trail = CommitTrail::default();
    // Per partition, the committed offsets whose first record at or after them is not yet
    // read.
    let mut wanted: HashMap<(String, i32), BTreeSet<i64>> = HashMap::new();
    let mut first: HashMap<(String, i32), i64> = HashMap::new();
    for c in &commits {
        trail
            .commits
            .entry((c.topic.clone(), c.partition))
            .or_default()
            .push((c.commit_ms, c.offset));
        wanted
            .entry((c.topic.clone(), c.partition))
            .or_default()
            .insert(c.offset);
        let f = first
            .entry((c.topic.clone(), c.partition))
            .or_insert(c.offset);
        *f = (*f).min(c.offset);
    }
    for list in trail.commits.values_mut() {
        list.sort_unstable();
    }
    // The builder reads every source: a burst is one in what it reads, all sources summed (a
    // slow stream's busy hour next to a fast one's usual traffic loads nothing).
    let mut total = MinuteCounts::new();
    let mut by_topic: Vec<(&str, MinuteCounts)> = Vec::new();
    for topic in &topics {
        let mut counts = MinuteCounts::new();
        let request = ScanRequest {
            start: StartAt::Beginning,
            // From the oldest committed offset: everything before it was written before the
            // window.
            resume: first
                .iter()
                .filter(|((t, _), _)| t == topic)
                .map(|((_, p), o)| (*p, *o))
                .collect(),
            ..ScanRequest::new(*topic)
        };
        source.scan(&request, cancel, &mut |event| {
            if let ScanEvent::Records(records) = event {
                for r in records {
                    facts.records_read += 1;
                    let Some(ts) = r.timestamp_ms else { continue };
                    if let Some(pending) = wanted.get_mut(&(r.topic.clone(), r.partition)) {
                        while let Some(offset) = pending.first().copied().filter(|o| *o <= r.offset)
                        {
                            pending.remove(&offset);
                            trail
                                .written_ms
                                .insert((r.topic.clone(), r.partition, offset), ts);
                        }
                    }
                    if ts >= from && ts < now {
                        *counts.entry(ts.div_euclid(MINUTE_MS)).or_default() += 1;
                    }
                }
            }
            true
        })?;
        for (minute, n) in &counts {
            *total.entry(*minute).or_default() += n;
        }
        by_topic.push((topic, counts));
    }
    let mut found = bursts("", &total, from, now);
    for burst in &mut found {
        burst.topic = busiest(&by_topic, burst, from, now);
    }
    // And now: a builder that stopped committing is as far behind as its last commit says.
    let mut series = trail.series();
    if series.last().is_some_and(|(t, _)| *t < now)
        && let Some(lag) = trail.lag_at(now)
    {
        series.push((now, lag));
    }
    let horizon = spec
        .contract
        .recover_within
        .map_or(DEFAULT_HORIZON_MS, |d| 4 * d.as_millis() as i64);
    judge_bursts(&mut found, &series, spec.budget.ms(), horizon);
    found.sort_by_key(|b| (b.start_ms, b.topic.clone()));
    facts.bursts = found;
    facts.series = thin(&series, SERIES_POINTS);
    Ok(facts)
}

/// The topic with the most records above its own median over the burst's minutes.
fn busiest(by_topic: &[(&str, MinuteCounts)], burst: &Burst, from: i64, to: i64) -> String {
    let minutes = burst.start_ms.div_euclid(MINUTE_MS)..burst.end_ms.div_euclid(MINUTE_MS);
    by_topic
        .iter()
        .map(|(topic, counts)| {
            let median = super::bursts::median_minute(counts, from, to);
            let excess: f64 = minutes
                .clone()
                .map(|m| counts.get(&m).copied().unwrap_or(0) as f64 - median)
                .sum();
            (excess, *topic)
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map_or_else(String::new, |(_, t)| t.to_owned())
}

/// At most `points` points: the worst of each equal stretch, so a peak is never thinned away.
fn thin(series: &[(i64, i64)], points: usize) -> Vec<(i64, i64)> {
    if series.len() <= points {
        return series.to_vec();
    }
    let per = series.len().div_ceil(points);
    series
        .chunks(per)
        .filter_map(|c| c.iter().max_by_key(|(_, lag)| *lag).copied())
        .collect()
}

pub fn elasticity_row(spec: &Spec, facts: &ElasticityFacts) -> Row {
    let within = spec.contract.recover_within;
    let budget = spec.budget;
    let fmt = crate::time::format_duration_ms;
    let (mut failures, mut unknown) = (Vec::new(), Vec::new());
    let now = facts.window_ms.map(|(_, to)| to);
    if let Some(why) = &facts.no_history {
        unknown.push(why.clone());
    } else if facts.bursts.is_empty() {
        unknown.push(format!(
            "no burst in the window ({} commits of {}): what the builder reads (all sources \
             summed) never went above twice its median minute by more than chance explains, \
             so nothing shows how it recovers",
            facts.commits,
            facts.group.as_deref().unwrap_or("?")
        ));
    }
    for b in &facts.bursts {
        let name = format!(
            "burst on {} {}–{} ({} records, median {:.0}/min)",
            b.topic,
            crate::time::format_timestamp(Some(b.start_ms)),
            crate::time::format_timestamp(Some(b.end_ms)),
            b.records,
            b.median_per_minute
        );
        match (b.recovered_after_ms, within) {
            (Some(after), Some(w)) if after > w.as_millis() as i64 => failures.push(format!(
                "{name}: the builder was back within the {budget} budget {} after it, over \
                 recover_within {} (worst lag {})",
                fmt(after),
                fmt(w.as_millis() as i64),
                b.worst_lag_ms.map_or("?".into(), fmt)
            )),
            (None, Some(w)) => {
                let since = now.unwrap_or(b.end_ms) - b.end_ms;
                let text = format!(
                    "{name}: the builder has not been seen back within the {budget} budget in \
                     the {} since (worst lag {})",
                    fmt(since),
                    b.worst_lag_ms.map_or("?".into(), fmt)
                );
                if since > w.as_millis() as i64 {
                    failures.push(text);
                } else {
                    unknown.push(format!("{text}: still inside recover_within"));
                }
            }
            _ => {}
        }
    }
    if within.is_none() {
        unknown
            .push("no recover_within in the spec's [contract]: nothing to hold recovery to".into());
    }
    let headroom = facts.members.map(|m| facts.partitions as i64 - m as i64);
    let worst = facts
        .bursts
        .iter()
        .filter_map(|b| b.recovered_after_ms)
        .max();
    Row::judged(
        RowKind::Elasticity,
        format!(
            "after every burst (what the builder reads, all sources summed, above twice its median \
             for a minute) \
             the builder is back within the {budget} budget within {}",
            within.map_or("recover_within".into(), |w| fmt(w.as_millis() as i64))
        ),
        evidence([
            ("group", json!(facts.group)),
            ("commits", json!(facts.commits)),
            ("history", json!(facts.history)),
            (
                "window",
                json!(
                    facts
                        .window_ms
                        .map(|(from, to)| json!({"from_ms": from, "to_ms": to}))
                ),
            ),
            ("bursts", json!(facts.bursts)),
            ("worst_recovery_ms", json!(worst)),
            (
                "recover_within_ms",
                json!(within.map(|w| w.as_millis() as u64)),
            ),
            ("lag_now_ms", json!(facts.now_lag_ms)),
            ("drain_eta_ms", json!(facts.eta_ms)),
            ("draining", json!(facts.draining)),
            ("source_partitions", json!(facts.partitions)),
            ("members", json!(facts.members)),
            // Members it could still add: a group at one member per partition cannot scale out.
            ("headroom_members", json!(headroom)),
            ("lag_series", json!(facts.series)),
            ("records_read", json!(facts.records_read)),
        ]),
        failures,
        unknown,
    )
}
