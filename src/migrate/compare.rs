//! Two clusters compared for a cutover: topics, groups, one customer, and the verdict with its
//! reasons. The CLI's `compare` and the GUI's Compare tab run this.

use super::{
    Configs, CustomerDiff, GroupSides, OffsetSyncs, Rename, TopicSides, compare_topics,
    diff_customer, read_checkpoints, read_offset_syncs, translate_groups,
};
use crate::cluster::{CancelToken, ClusterError};
use crate::profile::{SourceDecoder, Spec};
use crate::source::{AskedOnce, Source};

/// What `compare` found.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub customer: Option<CustomerDiff>,
    pub topics: Vec<TopicSides>,
    pub groups: Vec<GroupSides>,
    pub checkpoints_topic: Option<String>,
    pub undecodable_checkpoints: u64,
    pub reasons: Vec<String>,
}

/// What to compare.
#[derive(Default)]
pub struct CompareRequest {
    /// The target's names for source topics; `None`: detected.
    pub rename: Option<String>,
    /// Groups to translate; empty: every group of the source (unless `no_groups`).
    pub groups: Vec<String>,
    /// Translate no group: a profile domain without a builder group has none of its own.
    pub no_groups: bool,
    /// Source topics to compare (a profile domain's); empty: every data topic.
    pub topics: Vec<String>,
    /// The target's checkpoints topic; `None`: the one ending in `.checkpoints.internal`.
    pub checkpoints: Option<String>,
    /// One customer to compare on both sides.
    pub customer: Option<(Spec, SourceDecoder, String)>,
    pub reveal_pii: bool,
}

/// Compares `source` with `target` for a cutover.
pub fn compare(
    source: &dyn Source,
    target: &dyn Source,
    args: &CompareRequest,
    cancel: &CancelToken,
) -> Result<Comparison, ClusterError> {
    // A side that stops answering costs one `--timeout`, not one per step.
    let (source, target) = (&AskedOnce::new(source), &AskedOnce::new(target));
    let mut found = compare_sides(source, target, args, cancel)?;
    for (side, name) in [(source, "source"), (target, "target")] {
        if let Some(first) = side.gone() {
            found.reasons.insert(
                0,
                format!(
                    "the {name} stopped answering during the comparison ({first}): what was \
                     not read from it is unknown"
                ),
            );
        }
    }
    Ok(found)
}

fn compare_sides(
    source: &dyn Source,
    target: &dyn Source,
    args: &CompareRequest,
    cancel: &CancelToken,
) -> Result<Comparison, ClusterError> {
    // Each side's topics listed once, internal ones included: MirrorMaker 2's own topics are
    // found among them, and kept apart from the data.
    let source_all = source.topics(true)?;
    let target_all = target.topics(true)?;
    let find = |all: &[crate::cluster::TopicInfo], wanted: &dyn Fn(&str) -> bool| {
        all.iter().map(|t| t.name.clone()).find(|n| wanted(n))
    };
    let checkpoints_topic = args
        .checkpoints
        .clone()
        .or_else(|| find(&target_all, &|n| n.ends_with(".checkpoints.internal")));
    let offset_syncs = |n: &str| n.starts_with("mm2-offset-syncs.") && n.ends_with(".internal");
    let (source_syncs, target_syncs) = (
        find(&source_all, &offset_syncs),
        find(&target_all, &offset_syncs),
    );
    // The target's alias, for the source's topics that came from it (checkpointed under their
    // original name): on the source, MirrorMaker 2 names the offset-syncs topic for the target,
    // and a flow back from the target keeps its checkpoints there as `<target>.checkpoints.internal`.
    let target_alias = source_syncs
        .as_deref()
        .and_then(|n| {
            n.strip_prefix("mm2-offset-syncs.")?
                .strip_suffix(".internal")
        })
        .map(str::to_owned)
        .or_else(|| {
            find(&source_all, &|n| n.ends_with(".checkpoints.internal"))
                .and_then(|n| Some(n.strip_suffix(".checkpoints.internal")?.to_owned()))
        });
    let data = |n: &str| {
        !crate::cluster::is_internal_topic(n)
            && !n.ends_with(".internal")
            && !n.starts_with("mm2-")
            && !n.ends_with("heartbeats")
    };
    let wanted = |n: &str| args.topics.is_empty() || args.topics.iter().any(|t| t == n);
    let source_topics: Vec<_> = source_all
        .into_iter()
        .filter(|t| data(&t.name) && wanted(&t.name))
        .collect();
    let target_topics: Vec<_> = target_all.into_iter().filter(|t| data(&t.name)).collect();
    let rename = match &args.rename {
        Some(pattern) => Rename::Pattern(pattern.clone()),
        None => {
            let s: Vec<&str> = source_topics.iter().map(|t| t.name.as_str()).collect();
            let t: Vec<&str> = target_topics.iter().map(|t| t.name.as_str()).collect();
            Rename::detect(&s, &t)
        }
    };
    // Limited to some topics (a domain's), the target's others are not this comparison's.
    let target_topics: Vec<_> = if args.topics.is_empty() {
        target_topics
    } else {
        let names: Vec<String> = args.topics.iter().map(|t| rename.target_name(t)).collect();
        target_topics
            .into_iter()
            .filter(|t| names.contains(&t.name))
            .collect()
    };
    // Settings that cannot be read are said per topic, never compared as if unset.
    let configs = |side: &dyn Source, names: Vec<&str>| -> Configs {
        match side.topics_configs(&names) {
            Ok(answer) => answer.into_iter().collect(),
            Err(e) => names
                .iter()
                .map(|t| ((*t).to_owned(), Err(e.clone())))
                .collect(),
        }
    };
    let source_configs = configs(
        source,
        source_topics.iter().map(|t| t.name.as_str()).collect(),
    );
    let target_configs = configs(
        target,
        target_topics.iter().map(|t| t.name.as_str()).collect(),
    );
    let topics = compare_topics(
        &source_topics,
        &target_topics,
        &rename,
        (&source_configs, &target_configs),
    );
    let source_groups: Vec<String> = source.groups()?.into_iter().map(|g| g.name).collect();
    // A group named that the source does not have has nothing to translate: it cannot be
    // "ready", and is said rather than compared as if it had caught up.
    let (group_names, unknown_groups): (Vec<String>, Vec<String>) = if args.no_groups {
        (Vec::new(), Vec::new())
    } else if args.groups.is_empty() {
        (source_groups, Vec::new())
    } else {
        args.groups
            .iter()
            .cloned()
            .partition(|g| source_groups.contains(g))
    };
    let names: Vec<&str> = group_names.iter().map(String::as_str).collect();
    let mut reasons: Vec<String> = unknown_groups
        .iter()
        .map(|g| format!("group {g} is not a group of the source (`groups` lists them)"))
        .collect();
    // What MirrorMaker 2 wrote that cannot be read is a reason, and translates nothing.
    let checkpoints = match &checkpoints_topic {
        Some(topic) => read_checkpoints(target, topic, cancel).unwrap_or_else(|e| {
            reasons.push(format!(
                "the checkpoints in {topic} could not be read ({e})"
            ));
            Default::default()
        }),
        None => Default::default(),
    };
    // MirrorMaker 2 writes its offset syncs on the source by default, on the target when told.
    let syncs = match (source_syncs, target_syncs) {
        (Some(topic), _) => read_offset_syncs(source, &topic, cancel)?,
        (None, Some(topic)) => read_offset_syncs(target, &topic, cancel).unwrap_or_else(|e| {
            reasons.push(format!(
                "the offset syncs in {topic} could not be read ({e})"
            ));
            OffsetSyncs::default()
        }),
        (None, None) => OffsetSyncs::default(),
    };
    let groups = translate_groups(
        source,
        target,
        &names,
        (&checkpoints, &syncs),
        (&rename, target_alias.as_deref()),
        source.now_ms(),
    )?;
    reasons.extend(verdict_reasons(
        &topics,
        &groups,
        checkpoints_topic.is_some(),
    ));
    let customer = match &args.customer {
        Some((spec, decoder, key)) => {
            let diff = match diff_customer(
                (source, target),
                spec,
                decoder,
                key,
                &rename,
                args.reveal_pii,
            ) {
                Ok(diff) => diff,
                Err(e) => {
                    reasons.push(format!("customer {key} could not be compared ({e})"));
                    return Ok(Comparison {
                        customer: None,
                        topics,
                        groups,
                        checkpoints_topic,
                        undecodable_checkpoints: checkpoints.undecodable,
                        reasons,
                    });
                }
            };
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
        None => None,
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
    let unread: Vec<&TopicSides> = topics
        .iter()
        .filter(|t| t.configs_unread.is_some())
        .collect();
    if let Some(first) = unread.first() {
        reasons.push(format!(
            "the settings of {} topic(s) could not be read, so their retention and cleanup \
             policy are not compared (first: {} {})",
            unread.len(),
            first.topic,
            first.configs_unread.as_deref().unwrap_or_default()
        ));
    }
    for g in groups {
        if let Some(error) = &g.error {
            reasons.push(format!(
                "group {}: its offsets could not be read ({error})",
                g.group
            ));
        }
    }
    for g in groups {
        if let Some(error) = &g.target_error {
            reasons.push(format!(
                "group {}: the target could not be read ({error}), so where it would resume \
                 there is unknown",
                g.group
            ));
        }
    }
    let untranslated: Vec<&GroupSides> = groups.iter().filter(|g| g.untranslated > 0).collect();
    if checkpoints {
        for g in &untranslated {
            reasons.push(format!(
                "group {}: {} partitions without a checkpoint",
                g.group, g.untranslated
            ));
        }
    } else if !untranslated.is_empty() {
        // One reason for one cause: without a checkpoints topic no group is translated, and
        // a line per group (hundreds on a busy cluster) would bury every other reason.
        let partitions: usize = untranslated.iter().map(|g| g.untranslated).sum();
        reasons.push(format!(
            "no checkpoints topic on the target: {} group(s) with {partitions} committed \
             partition(s) have nothing to resume from (first: {})",
            untranslated.len(),
            untranslated[0].group
        ));
    }
    reasons
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::cluster::{GroupInfo, RecordAt, ScanRequest, ScanSummary, TopicInfo};
    use crate::source::{Capture, CapturedGroup, GroupOffsetsAnswer, Sink};

    const NOW: i64 = 1_795_000_000_000;

    /// A target that lists its topics, then stops answering for any one of them; counting
    /// the questions it times out on (each would cost a `--timeout`).
    struct StopsAnswering(Capture, std::sync::atomic::AtomicUsize);

    impl StopsAnswering {
        fn new(capture: Capture) -> Self {
            Self(capture, Default::default())
        }
        fn timed_out<T>(&self) -> Result<T, ClusterError> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Err(ClusterError::Kafka("Local: Timed out".into()))
        }
    }

    impl Source for StopsAnswering {
        fn name(&self) -> String {
            self.0.name()
        }
        fn topics(&self, internal: bool) -> Result<Vec<TopicInfo>, ClusterError> {
            self.0.topics(internal)
        }
        fn topic(&self, _: &str) -> Result<TopicInfo, ClusterError> {
            self.timed_out()
        }
        fn topic_configs(&self, _: &str) -> Result<Vec<(String, String)>, ClusterError> {
            self.timed_out()
        }
        fn scan(
            &self,
            request: &ScanRequest,
            cancel: &CancelToken,
            sink: &mut Sink<'_>,
        ) -> Result<ScanSummary, ClusterError> {
            self.0.scan(request, cancel, sink)
        }
        fn groups(&self) -> Result<Vec<GroupInfo>, ClusterError> {
            self.0.groups()
        }
        fn group(&self, name: &str) -> Result<GroupInfo, ClusterError> {
            self.0.group(name)
        }
        fn committed_offsets(
            &self,
            group: &str,
            partitions: &[(String, i32)],
        ) -> Result<HashMap<(String, i32), Option<i64>>, ClusterError> {
            self.0.committed_offsets(group, partitions)
        }
        fn group_offsets(&self, _: &[&str]) -> Result<GroupOffsetsAnswer, ClusterError> {
            self.timed_out()
        }
        fn records_at(
            &self,
            positions: &[(String, i32, i64)],
        ) -> Result<HashMap<(String, i32, i64), RecordAt>, ClusterError> {
            self.0.records_at(positions)
        }
        fn offsets_at_time(
            &self,
            partitions: &[(String, i32)],
            at_ms: i64,
        ) -> Result<HashMap<(String, i32), i64>, ClusterError> {
            self.0.offsets_at_time(partitions, at_ms)
        }
    }

    fn sides() -> (Capture, Capture) {
        let mut source = Capture::new("source", NOW);
        source.set_watermarks("orders", 0, 0, 10);
        source.groups.push(CapturedGroup {
            name: "builder".into(),
            state: "Empty".into(),
            offsets: [(("orders".to_owned(), 0), 10)].into_iter().collect(),
            commits: Vec::new(),
        });
        let mut target = Capture::new("target", NOW);
        target.set_watermarks("orders", 0, 0, 10);
        (source, target)
    }

    fn reasons(source: &Capture, target: &dyn Source, groups: &[&str]) -> Vec<String> {
        let request = CompareRequest {
            rename: Some("{topic}".into()),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            ..CompareRequest::default()
        };
        compare(source, target, &request, &CancelToken::default())
            .unwrap()
            .reasons
    }

    #[test]
    fn an_unknown_group_is_a_reason_not_to_cut_over() {
        let (source, target) = sides();
        let known = reasons(&source, &target, &["builder"]);
        assert!(
            known.iter().all(|r| !r.contains("not a group")),
            "{known:?}"
        );
        let unknown = reasons(&source, &target, &["no-such-group"]);
        assert!(
            unknown.contains(
                &"group no-such-group is not a group of the source (`groups` lists them)"
                    .to_owned()
            ),
            "{unknown:?}"
        );
    }

    #[test]
    fn a_target_that_stops_answering_is_a_reason_not_a_silent_null() {
        let (source, target) = sides();
        let target = StopsAnswering::new(target);
        let found = reasons(&source, &target, &["builder"]);
        assert_eq!(
            found[0],
            "the target stopped answering during the comparison (Local: Timed out): what was \
             not read from it is unknown"
        );
        assert!(
            found
                .iter()
                .any(|r| r.starts_with("the settings of 1 topic(s) could not be read")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|r| r.starts_with(
                "group builder: the target could not be read (its committed offsets:"
            ) && r.contains("not asked again")),
            "{found:?}"
        );
        // Its settings timed out once; its group offsets and watermarks were not asked, and
        // an answer (no such topic) would not have counted as a side that stopped.
        assert_eq!(target.1.load(std::sync::atomic::Ordering::Relaxed), 1);
    }
}
