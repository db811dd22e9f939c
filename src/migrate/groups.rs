//! Group offsets across a migration: each group's commits on the source, MirrorMaker 2's latest
//! checkpoint for it on the target (read from `<alias>.checkpoints.internal`), the target's own
//! commits and high watermarks, and what a cutover now would replay or skip. A checkpoint is
//! looked up under the name MirrorMaker 2 keys it by (`<source alias>.<topic>`, or a topic that
//! came from the target under its original name), never under the source's name. A group without
//! a checkpoint is listed with the reason, never dropped.

use std::collections::BTreeMap;

use serde::Serialize;

use super::mm2::{
    Checkpoint, OffsetSync, SyncStore, checkpoint_is_more_recent, checkpoint_topic, cutover,
    decode_checkpoint, decode_offset_sync,
};
use super::topics::Rename;
use crate::cluster::{CancelToken, ClusterError, ScanEvent, ScanRequest};
use crate::source::Source;

/// The checkpoint per (group, topic as MirrorMaker 2 keys it, partition) MirrorMaker 2 holds,
/// with its record's broker time.
#[derive(Debug, Default)]
pub struct Checkpoints {
    pub latest: BTreeMap<(String, String, i32), (Checkpoint, Option<i64>)>,
    /// Records of the checkpoints topic that are not checkpoints (counted, not guessed).
    pub undecodable: u64,
}

/// Reads a checkpoints topic whole (it is compacted and small), keeping each key's latest
/// checkpoint MirrorMaker 2 would have written after the one before it: a later one that would
/// take the group backwards on the target without a rewind on the source, or with a negative
/// downstream offset, is not used (`checkpoint_is_more_recent`).
pub fn read_checkpoints(
    target: &dyn Source,
    topic: &str,
    cancel: &CancelToken,
) -> Result<Checkpoints, ClusterError> {
    let mut found = Checkpoints::default();
    let mut offsets: BTreeMap<(String, String, i32), (i32, i64)> = BTreeMap::new();
    target.scan(&ScanRequest::new(topic), cancel, &mut |event| {
        if let ScanEvent::Records(records) = event {
            for record in records {
                let Some(key) = record.key.as_deref() else {
                    found.undecodable += 1;
                    continue;
                };
                match decode_checkpoint(key, record.value.as_deref()) {
                    Ok(checkpoint) => {
                        let id = (
                            checkpoint.group.clone(),
                            checkpoint.topic.clone(),
                            checkpoint.partition,
                        );
                        let at = (record.partition, record.offset);
                        let newer = offsets.get(&id).is_none_or(|seen| *seen < at);
                        let last = found.latest.get(&id).map(|(c, _)| c);
                        if newer && checkpoint_is_more_recent(&checkpoint, last) {
                            offsets.insert(id.clone(), at);
                            found.latest.insert(id, (checkpoint, record.timestamp_ms));
                        }
                    }
                    Err(_) => found.undecodable += 1,
                }
            }
        }
        true
    })?;
    Ok(found)
}

/// The offset syncs per (source topic, partition: MirrorMaker 2 keys them by the source's name)
/// as MirrorMaker 2's store keeps them, fed in the order written: its own translation where no
/// checkpoint exists yet.
#[derive(Debug, Default)]
pub struct OffsetSyncs {
    pub syncs: BTreeMap<(String, i32), SyncStore>,
    pub undecodable: u64,
}

/// Reads an offset-syncs topic (`mm2-offset-syncs.<alias>.internal`, on the source by default).
pub fn read_offset_syncs(
    side: &dyn Source,
    topic: &str,
    cancel: &CancelToken,
) -> Result<OffsetSyncs, ClusterError> {
    let mut found = OffsetSyncs::default();
    side.scan(&ScanRequest::new(topic), cancel, &mut |event| {
        if let ScanEvent::Records(records) = event {
            for record in records {
                let decoded = record
                    .key
                    .as_deref()
                    .map(|k| decode_offset_sync(k, record.value.as_deref()));
                match decoded {
                    Some(Ok(sync)) => found.add(&sync),
                    _ => found.undecodable += 1,
                }
            }
        }
        true
    })?;
    Ok(found)
}

impl OffsetSyncs {
    /// One sync, after those of its partition read before it.
    pub fn add(&mut self, sync: &OffsetSync) {
        self.syncs
            .entry((sync.topic.clone(), sync.partition))
            .or_default()
            .push(sync.upstream_offset, sync.downstream_offset);
    }

    /// MirrorMaker 2's translation of `committed` from the newest kept sync at or before it:
    /// the sync's downstream offset where the group sits exactly there, else the one after it
    /// (the records in between cannot be placed, so they are read again), with that count.
    fn translate(&self, topic: &str, partition: i32, committed: i64) -> Option<(i64, i64)> {
        let store = self.syncs.get(&(topic.to_owned(), partition))?;
        let (synced, _) = store.sync_for(committed)?;
        let translated = store.translate_downstream(committed)?;
        Some((translated, (committed - synced - 1).max(0)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupPartition {
    /// The source topic.
    pub topic: String,
    pub partition: i32,
    pub source_committed: i64,
    /// Where the latest checkpoint puts the group on the target.
    pub translated: Option<i64>,
    pub target_committed: Option<i64>,
    pub target_high: Option<i64>,
    pub replay: Option<i64>,
    pub skip: Option<i64>,
    pub checkpoint_age_ms: Option<i64>,
    /// `checkpoint`, `offset sync` or `none`.
    pub translated_by: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupSides {
    pub group: String,
    pub partitions: Vec<GroupPartition>,
    /// Partitions the group committed on the source that no checkpoint translates.
    pub untranslated: usize,
    /// Why the group's offsets could not be read on the source, where they could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What of the group could not be read on the target, and why (its committed offsets
    /// there, or the high watermarks of its topics): those fields are unknown, not absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_error: Option<String>,
}

/// Every one of `groups` as it would cut over now. `target_alias`: the target's MirrorMaker 2
/// alias where known, for the source's topics that came from the target.
pub fn translate_groups(
    source: &dyn Source,
    target: &dyn Source,
    groups: &[&str],
    (checkpoints, syncs): (&Checkpoints, &OffsetSyncs),
    (rename, target_alias): (&Rename, Option<&str>),
    now_ms: i64,
) -> Result<Vec<GroupSides>, ClusterError> {
    let committed = source.group_offsets(groups)?;
    // A target that cannot say its groups' offsets leaves each group's target side unknown.
    let target_committed = target.group_offsets(groups).unwrap_or_else(|e| {
        groups
            .iter()
            .map(|g| ((*g).to_owned(), Err(e.clone())))
            .collect()
    });
    let mut highs: BTreeMap<String, BTreeMap<i32, i64>> = BTreeMap::new();
    // The first failure to read the target (other than a topic it does not have): the target
    // is not asked again, each question would wait its timeout, and each group says so.
    let mut target_unread: Option<String> = None;
    let mut out = Vec::new();
    for group in groups {
        let mine = match committed.get(*group) {
            Some(Ok(offsets)) => offsets.clone(),
            Some(Err(e)) => {
                // One group the cluster cannot answer for is said, not the end of the look.
                out.push(GroupSides {
                    group: (*group).to_owned(),
                    partitions: Vec::new(),
                    untranslated: 0,
                    error: Some(e.to_string()),
                    target_error: None,
                });
                continue;
            }
            None => Default::default(),
        };
        let (theirs, mut target_error) = match target_committed.get(*group) {
            Some(Ok(offsets)) => (offsets.clone(), None),
            Some(Err(ClusterError::UnknownGroup(_))) | None => Default::default(),
            Some(Err(e)) => (
                Default::default(),
                Some(format!("its committed offsets: {e}")),
            ),
        };
        let mut partitions = Vec::new();
        let mut ordered: Vec<_> = mine.into_iter().collect();
        ordered.sort();
        for ((topic, partition), offset) in ordered {
            // The group's topic on the target, which is also its checkpoints' key.
            let target_topic = checkpoint_topic(&topic, rename, target_alias);
            if !highs.contains_key(&target_topic) && target_unread.is_none() {
                match target.topic(&target_topic) {
                    Ok(t) => {
                        let found = t.partitions.iter().map(|p| (p.id, p.high)).collect();
                        highs.insert(target_topic.clone(), found);
                    }
                    Err(ClusterError::UnknownTopic(_)) => {
                        highs.insert(target_topic.clone(), BTreeMap::new());
                    }
                    Err(e) => target_unread = Some(format!("{target_topic}: {e}")),
                }
            }
            if !highs.contains_key(&target_topic) && target_error.is_none() {
                target_error = target_unread
                    .as_ref()
                    .map(|e| format!("high watermarks of {e}"));
            }
            let target_high = highs
                .get(&target_topic)
                .and_then(|h| h.get(&partition))
                .copied();
            let checkpoint =
                checkpoints
                    .latest
                    .get(&((*group).to_owned(), target_topic.clone(), partition));
            let cut = checkpoint.map(|(c, _)| cutover(c, offset, target_high.unwrap_or(0)));
            let synced = match cut {
                Some(_) => None,
                None => syncs.translate(&topic, partition, offset),
            };
            let (translated, replay, skip, by) = match (cut, synced) {
                (Some(c), _) => (
                    Some(c.translated),
                    Some(c.replay),
                    Some(c.skip),
                    "checkpoint",
                ),
                (None, Some((t, replay))) => (
                    Some(t),
                    Some(replay),
                    Some((t - target_high.unwrap_or(t)).max(0)),
                    "offset sync",
                ),
                (None, None) => (None, None, None, "none"),
            };
            partitions.push(GroupPartition {
                source_committed: offset,
                translated,
                target_committed: theirs.get(&(target_topic.clone(), partition)).copied(),
                target_high,
                replay,
                skip,
                translated_by: by,
                checkpoint_age_ms: checkpoint
                    .and_then(|(_, at)| *at)
                    .map(|at| (now_ms - at).max(0)),
                topic,
                partition,
            });
        }
        out.push(GroupSides {
            group: (*group).to_owned(),
            untranslated: partitions.iter().filter(|p| p.translated.is_none()).count(),
            partitions,
            error: None,
            target_error,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{Record, TimestampKind};
    use crate::source::{Capture, CapturedGroup};

    const NOW: i64 = 1_795_000_000_000;

    fn encoded(c: &Checkpoint) -> (Vec<u8>, Vec<u8>) {
        let string = |out: &mut Vec<u8>, s: &str| {
            out.extend((s.len() as i16).to_be_bytes());
            out.extend(s.as_bytes());
        };
        let mut key = Vec::new();
        string(&mut key, &c.group);
        string(&mut key, &c.topic);
        key.extend(c.partition.to_be_bytes());
        let mut value = Vec::new();
        value.extend(0i16.to_be_bytes());
        value.extend(c.upstream_offset.to_be_bytes());
        value.extend(c.downstream_offset.to_be_bytes());
        string(&mut value, &c.metadata);
        (key, value)
    }

    fn group(name: &str, offsets: &[((&str, i32), i64)]) -> CapturedGroup {
        CapturedGroup {
            name: name.into(),
            state: "Empty".into(),
            offsets: offsets
                .iter()
                .map(|((t, p), o)| (((*t).to_owned(), *p), *o))
                .collect(),
            commits: Vec::new(),
        }
    }

    fn checkpoint(group: &str, (topic, partition): (&str, i32), up: i64, down: i64) -> Checkpoint {
        Checkpoint {
            group: group.into(),
            topic: topic.into(),
            partition,
            upstream_offset: up,
            downstream_offset: down,
            metadata: String::new(),
        }
    }

    /// Appends a record to partition 0 of `topic`, written at `at`.
    fn append(side: &mut Capture, topic: &str, at: i64, (key, value): (Vec<u8>, Vec<u8>)) {
        let offset = side
            .topics
            .get(topic)
            .and_then(|t| t.get(&0))
            .map_or(0, |p| p.high);
        side.push(Record {
            topic: topic.into(),
            partition: 0,
            offset,
            timestamp_ms: Some(at),
            timestamp_kind: TimestampKind::CreateTime,
            key: Some(key),
            value: Some(value),
            headers: Vec::new(),
        });
    }

    /// A group checkpointed on one partition (twice: the later checkpoint counts), one never
    /// checkpointed, a checkpoint under the source's name (MirrorMaker 2 never writes one: not
    /// used) and a record that is not a checkpoint. The checkpoints are keyed `src.orders`, in
    /// the bytes Kafka's `Checkpoint.recordKey()` and `recordValue()` write.
    #[test]
    fn groups_are_translated_from_their_latest_checkpoint() {
        let mut source = Capture::new("source", NOW);
        source.add_topic("orders", 2);
        source.groups.push(group(
            "billing",
            &[(("orders", 0), 130), (("orders", 1), 40)],
        ));
        source
            .groups
            .push(group("forgotten", &[(("orders", 0), 5)]));
        let mut target = Capture::new("target", NOW);
        for p in 0..2 {
            target.set_watermarks("src.orders", p, 0, 120);
        }
        target.add_topic("src.checkpoints.internal", 1);
        target
            .groups
            .push(group("billing", &[(("src.orders", 0), 85)]));
        let cps = "src.checkpoints.internal";
        let first = checkpoint("billing", ("src.orders", 0), 100, 90);
        append(&mut target, cps, NOW - 60_000, encoded(&first));
        let latest = checkpoint("billing", ("src.orders", 0), 110, 100);
        let bytes = encoded(&latest);
        assert_eq!(
            bytes,
            (
                [
                    &[0, 7][..],
                    b"billing",
                    &[0, 10],
                    b"src.orders",
                    &[0, 0, 0, 0]
                ]
                .concat(),
                [
                    &[0, 0][..],
                    &[0, 0, 0, 0, 0, 0, 0, 110],
                    &[0, 0, 0, 0, 0, 0, 0, 100],
                    &[0, 0]
                ]
                .concat()
            )
        );
        append(&mut target, cps, NOW - 5_000, bytes);
        let unrenamed = checkpoint("billing", ("orders", 1), 40, 30);
        append(&mut target, cps, NOW, encoded(&unrenamed));
        append(&mut target, cps, NOW, (b"junk".to_vec(), b"junk".to_vec()));
        let cancel = CancelToken::default();
        let found = read_checkpoints(&target, cps, &cancel).unwrap();
        assert_eq!(found.undecodable, 1);
        let rename = Rename::Pattern("src.{topic}".into());
        let sides = translate_groups(
            &source,
            &target,
            &["billing", "forgotten"],
            (&found, &OffsetSyncs::default()),
            (&rename, None),
            NOW,
        )
        .unwrap();
        let billing = &sides[0];
        assert_eq!(billing.untranslated, 1, "orders/1 has no checkpoint");
        assert_eq!(
            billing.partitions[0],
            GroupPartition {
                topic: "orders".into(),
                partition: 0,
                source_committed: 130,
                translated: Some(100),
                target_committed: Some(85),
                target_high: Some(120),
                replay: Some(20),
                skip: Some(0),
                checkpoint_age_ms: Some(5_000),
                translated_by: "checkpoint",
            }
        );
        assert_eq!(billing.partitions[1].translated, None);
        assert_eq!(billing.partitions[1].translated_by, "none");
        assert_eq!(sides[1].group, "forgotten");
        assert_eq!(sides[1].untranslated, 1);
        // With MirrorMaker 2's offset syncs (keyed by the source's name), the partition no
        // checkpoint covers is translated as MirrorMaker 2 would: orders/1 committed at 40,
        // synced 30 → 25: the group starts at 26 and reads 9 records again.
        let mut syncs = OffsetSyncs::default();
        for (up, down) in [(10, 8), (30, 25), (50, 44)] {
            syncs.add(&OffsetSync {
                topic: "orders".into(),
                partition: 1,
                upstream_offset: up,
                downstream_offset: down,
            });
        }
        let sides = translate_groups(
            &source,
            &target,
            &["billing"],
            (&found, &syncs),
            (&rename, None),
            NOW,
        )
        .unwrap();
        let p1 = &sides[0].partitions[1];
        assert_eq!(
            (p1.translated, p1.replay, p1.skip, p1.translated_by),
            (Some(26), Some(9), Some(0), "offset sync")
        );
        assert_eq!(sides[0].untranslated, 0);
    }

    /// From `MirrorCheckpointTaskTest.testCheckpoint`'s group11 (source1 → target2): the source's
    /// `target2.topic5` came from the target, so MirrorMaker 2 keys its checkpoint `topic5`, the
    /// topic the group reads on the target; without the target's alias it is not found.
    #[test]
    fn a_topic_from_the_target_is_checkpointed_under_its_original_name() {
        let mut source = Capture::new("source", NOW);
        source.add_topic("target2.topic5", 7);
        source
            .groups
            .push(group("group11", &[(("target2.topic5", 6), 12)]));
        let mut target = Capture::new("target", NOW);
        target.set_watermarks("topic5", 6, 0, 20);
        target.add_topic("source1.checkpoints.internal", 1);
        let cps = "source1.checkpoints.internal";
        let c = checkpoint("group11", ("topic5", 6), 12, 9);
        append(&mut target, cps, NOW - 1_000, encoded(&c));
        let cancel = CancelToken::default();
        let found = read_checkpoints(&target, cps, &cancel).unwrap();
        let rename = Rename::Pattern("source1.{topic}".into());
        let translate = |alias| {
            let args = (&found, &OffsetSyncs::default());
            translate_groups(&source, &target, &["group11"], args, (&rename, alias), NOW).unwrap()
        };
        let sides = translate(Some("target2"));
        let p = &sides[0].partitions[0];
        assert_eq!(
            (
                p.translated,
                p.target_high,
                p.replay,
                p.skip,
                p.checkpoint_age_ms
            ),
            (Some(9), Some(20), Some(0), Some(0), Some(1_000))
        );
        let sides = translate(None);
        assert_eq!(sides[0].partitions[0].translated, None);
        assert_eq!(sides[0].partitions[0].target_high, None);
    }

    /// From `MirrorCheckpointTaskTest.testCheckpointsTaskRestartUsesExistingCheckpoints` and
    /// `testCheckpointRecordsMonotonicIfStoreRewinds`, read back from a checkpoints topic: after
    /// 250→201, a later 370→176 would take the group back on the target without a rewind (not
    /// used), 400→376 is; the group rewound to 390→350 is used, going back with it; a negative
    /// downstream offset never is.
    #[test]
    fn a_checkpoint_that_would_go_backwards_is_not_used() {
        let mut target = Capture::new("target", NOW);
        let cps = "source1.checkpoints.internal";
        let steps = [
            (250, 201, Some((250, 201))),
            (370, 176, Some((250, 201))),
            (400, 376, Some((400, 376))),
            (390, 350, Some((390, 350))),
            (100, -1, Some((390, 350))),
        ];
        let cancel = CancelToken::default();
        for (up, down, used) in steps {
            let c = checkpoint("group1", ("source1.t1", 0), up, down);
            append(&mut target, cps, NOW, encoded(&c));
            let found = read_checkpoints(&target, cps, &cancel).unwrap();
            let kept = found
                .latest
                .get(&("group1".to_owned(), "source1.t1".to_owned(), 0))
                .map(|(c, _)| (c.upstream_offset, c.downstream_offset));
            assert_eq!(kept, used, "after {up}→{down}");
        }
        // Nothing but a negative downstream offset: no checkpoint at all.
        let mut target = Capture::new("target", NOW);
        let c = checkpoint("group1", ("source1.t1", 0), 10, -1);
        append(&mut target, cps, NOW, encoded(&c));
        let found = read_checkpoints(&target, cps, &cancel).unwrap();
        assert!(found.latest.is_empty());
        assert_eq!(found.undecodable, 0);
    }

    /// From `MirrorCheckpointTaskTest.testNoCheckpointForTopicWithoutOffsetSyncs`: a sync for
    /// topic1/0 translates topic1/0 only.
    #[test]
    fn offset_syncs_translate_their_own_partition_only() {
        let mut syncs = OffsetSyncs::default();
        syncs.add(&OffsetSync {
            topic: "topic1".into(),
            partition: 0,
            upstream_offset: 3,
            downstream_offset: 4,
        });
        assert_eq!(syncs.translate("topic1", 1, 10), None);
        assert_eq!(syncs.translate("topic1", 0, 10), Some((5, 6)));
        assert_eq!(syncs.translate("topic1", 0, 3), Some((4, 0)));
        // Before the first sync: Kafka's -1, no translation.
        assert_eq!(syncs.translate("topic1", 0, 2), None);
    }
}
