//! Group offsets across a migration: each group's commits on the source, MirrorMaker 2's latest
//! checkpoint for it on the target (read from `<alias>.checkpoints.internal`), the target's own
//! commits and high watermarks, and what a cutover now would replay or skip. A group without a
//! checkpoint is listed with the reason, never dropped.

use std::collections::BTreeMap;

use serde::Serialize;

use super::mm2::{Checkpoint, OffsetSync, cutover, decode_checkpoint, decode_offset_sync};
use super::topics::Rename;
use crate::cluster::{CancelToken, ClusterError, ScanEvent, ScanRequest};
use crate::source::Source;

/// The latest checkpoint per (group, topic, partition), with its record's broker time.
#[derive(Debug, Default)]
pub struct Checkpoints {
    pub latest: BTreeMap<(String, String, i32), (Checkpoint, Option<i64>)>,
    /// Records of the checkpoints topic that are not checkpoints (counted, not guessed).
    pub undecodable: u64,
}

/// Reads a checkpoints topic whole (it is compacted and small), keeping each key's latest.
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
                        if offsets.get(&id).is_none_or(|seen| *seen < at) {
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

/// Every offset sync per (source topic, partition), in the order written: MirrorMaker 2's own
/// translation where no checkpoint exists yet.
#[derive(Debug, Default)]
pub struct OffsetSyncs {
    pub syncs: BTreeMap<(String, i32), Vec<OffsetSync>>,
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
                    Some(Ok(sync)) => found
                        .syncs
                        .entry((sync.topic.clone(), sync.partition))
                        .or_default()
                        .push(sync),
                    _ => found.undecodable += 1,
                }
            }
        }
        true
    })?;
    Ok(found)
}

impl OffsetSyncs {
    /// MirrorMaker 2's translation of `committed` from the newest sync at or before it: the
    /// sync's downstream offset where the group sits exactly there, else the one after it
    /// (the records in between cannot be placed, so they are read again).
    fn translate(&self, topic: &str, partition: i32, committed: i64) -> Option<(i64, i64)> {
        let sync = self
            .syncs
            .get(&(topic.to_owned(), partition))?
            .iter()
            .filter(|s| s.upstream_offset <= committed)
            .max_by_key(|s| s.upstream_offset)?;
        if committed == sync.upstream_offset {
            Some((sync.downstream_offset, 0))
        } else {
            Some((
                sync.downstream_offset + 1,
                committed - sync.upstream_offset - 1,
            ))
        }
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
}

/// Every one of `groups` as it would cut over now.
pub fn translate_groups(
    source: &dyn Source,
    target: &dyn Source,
    groups: &[&str],
    (checkpoints, syncs): (&Checkpoints, &OffsetSyncs),
    rename: &Rename,
    now_ms: i64,
) -> Result<Vec<GroupSides>, ClusterError> {
    let committed = source.group_offsets(groups)?;
    let target_committed = target.group_offsets(groups)?;
    let mut highs: BTreeMap<String, BTreeMap<i32, i64>> = BTreeMap::new();
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
                });
                continue;
            }
            None => Default::default(),
        };
        let theirs = target_committed
            .get(*group)
            .and_then(|r| r.as_ref().ok())
            .cloned()
            .unwrap_or_default();
        let mut partitions = Vec::new();
        let mut ordered: Vec<_> = mine.into_iter().collect();
        ordered.sort();
        for ((topic, partition), offset) in ordered {
            let target_topic = rename.target_name(&topic);
            if !highs.contains_key(&target_topic) {
                let found = target
                    .topic(&target_topic)
                    .map(|t| t.partitions.iter().map(|p| (p.id, p.high)).collect())
                    .unwrap_or_default();
                highs.insert(target_topic.clone(), found);
            }
            let target_high = highs[&target_topic].get(&partition).copied();
            let checkpoint =
                checkpoints
                    .latest
                    .get(&((*group).to_owned(), topic.clone(), partition));
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

    /// A group checkpointed on one partition (twice: the later checkpoint counts), one never
    /// checkpointed, and a record that is not a checkpoint.
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
        target.add_topic("src.orders", 2);
        target.add_topic("src.checkpoints.internal", 1);
        for p in 0..2 {
            for offset in 0..120 {
                target.push(Record {
                    topic: "src.orders".into(),
                    partition: p,
                    offset,
                    timestamp_ms: Some(NOW - 1000),
                    timestamp_kind: TimestampKind::CreateTime,
                    key: None,
                    value: Some(b"x".to_vec()),
                    headers: Vec::new(),
                });
            }
        }
        target
            .groups
            .push(group("billing", &[(("src.orders", 0), 85)]));
        let checkpoints = [(100, 90, NOW - 60_000), (110, 100, NOW - 5_000)];
        for (i, (up, down, at)) in checkpoints.iter().enumerate() {
            let c = Checkpoint {
                group: "billing".into(),
                topic: "orders".into(),
                partition: 0,
                upstream_offset: *up,
                downstream_offset: *down,
                metadata: String::new(),
            };
            let (key, value) = encoded(&c);
            target.push(Record {
                topic: "src.checkpoints.internal".into(),
                partition: 0,
                offset: i as i64,
                timestamp_ms: Some(*at),
                timestamp_kind: TimestampKind::CreateTime,
                key: Some(key),
                value: Some(value),
                headers: Vec::new(),
            });
        }
        target.push(Record {
            topic: "src.checkpoints.internal".into(),
            partition: 0,
            offset: 2,
            timestamp_ms: Some(NOW),
            timestamp_kind: TimestampKind::CreateTime,
            key: Some(b"junk".to_vec()),
            value: Some(b"junk".to_vec()),
            headers: Vec::new(),
        });
        let cancel = CancelToken::default();
        let found = read_checkpoints(&target, "src.checkpoints.internal", &cancel).unwrap();
        assert_eq!(found.undecodable, 1);
        let rename = Rename::Pattern("src.{topic}".into());
        let sides = translate_groups(
            &source,
            &target,
            &["billing", "forgotten"],
            (&found, &OffsetSyncs::default()),
            &rename,
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
        assert_eq!(sides[1].group, "forgotten");
        assert_eq!(sides[1].untranslated, 1);
        // With MirrorMaker 2's offset syncs, the partition no checkpoint covers is translated
        // as MirrorMaker 2 would: orders/1 committed at 40, synced 30 → 25: the group starts
        // at 26 and reads 9 records again.
        let mut syncs = OffsetSyncs::default();
        for (up, down) in [(10, 8), (30, 25), (50, 44)] {
            syncs
                .syncs
                .entry(("orders".into(), 1))
                .or_default()
                .push(OffsetSync {
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
            &rename,
            NOW,
        )
        .unwrap();
        let p1 = &sides[0].partitions[1];
        assert_eq!(
            (p1.translated, p1.replay, p1.translated_by),
            (Some(26), Some(9), "offset sync")
        );
        assert_eq!(sides[0].untranslated, 0);
    }
}
