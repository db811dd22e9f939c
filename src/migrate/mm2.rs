//! MirrorMaker 2's internal records, decoded as Kafka's own classes write them (the protocol
//! types: STRING is an int16 length and UTF-8 bytes, INT32/INT64 big-endian):
//! - `Checkpoint` (`<alias>.checkpoints.internal` on the target): key = group, topic, partition;
//!   value = an int16 version header (0), upstream offset, downstream offset, metadata;
//! - `OffsetSync` (`mm2-offset-syncs.<alias>.internal`): key = topic, partition; value = upstream
//!   offset, downstream offset (no header).
//!
//! Checkpoints are keyed by the topic the group reads on the target (`MirrorCheckpointTask`
//! renames each source topic: `orders` from `src` is `src.orders`, a topic that came from the
//! target is back under its original name); offset syncs by the source topic itself. An
//! offset-sync translation is MirrorMaker 2's `OffsetSyncStore`: the same syncs kept, the same
//! answer.
//!
//! And what a checkpoint means for a cutover: where the group would start on the target, and
//! how many records it would read again or miss.

use serde::Serialize;

use super::topics::Rename;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    pub group: String,
    pub topic: String,
    pub partition: i32,
    pub upstream_offset: i64,
    pub downstream_offset: i64,
    pub metadata: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OffsetSync {
    pub topic: String,
    pub partition: i32,
    pub upstream_offset: i64,
    pub downstream_offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mm2Error {
    #[error("{what}: {needed} more bytes needed at byte {at}")]
    Truncated {
        what: &'static str,
        at: usize,
        needed: usize,
    },
    #[error("checkpoint value version {0}: only version 0 is known")]
    UnknownVersion(i16),
    #[error("{0}: a negative string length")]
    BadString(&'static str),
    #[error("{0}: not UTF-8")]
    NotUtf8(&'static str),
    #[error("{what}: {extra} bytes after the record")]
    TrailingBytes { what: &'static str, extra: usize },
    #[error("a tombstone: no value")]
    Tombstone,
}

/// A reader over Kafka protocol types.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Self { bytes, at: 0, what }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Mm2Error> {
        let end = self.at + n;
        if end > self.bytes.len() {
            return Err(Mm2Error::Truncated {
                what: self.what,
                at: self.at,
                needed: end - self.bytes.len(),
            });
        }
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn i16(&mut self) -> Result<i16, Mm2Error> {
        Ok(i16::from_be_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }

    fn i32(&mut self) -> Result<i32, Mm2Error> {
        Ok(i32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn i64(&mut self) -> Result<i64, Mm2Error> {
        Ok(i64::from_be_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    fn string(&mut self) -> Result<String, Mm2Error> {
        let len = self.i16()?;
        let len = usize::try_from(len).map_err(|_| Mm2Error::BadString(self.what))?;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| Mm2Error::NotUtf8(self.what))
    }

    fn end(self) -> Result<(), Mm2Error> {
        match self.bytes.len() - self.at {
            0 => Ok(()),
            extra => Err(Mm2Error::TrailingBytes {
                what: self.what,
                extra,
            }),
        }
    }
}

/// A checkpoint record's key and value.
pub fn decode_checkpoint(key: &[u8], value: Option<&[u8]>) -> Result<Checkpoint, Mm2Error> {
    let value = value.ok_or(Mm2Error::Tombstone)?;
    let mut k = Reader::new(key, "checkpoint key");
    let group = k.string()?;
    let topic = k.string()?;
    let partition = k.i32()?;
    k.end()?;
    let mut v = Reader::new(value, "checkpoint value");
    let version = v.i16()?;
    if version != 0 {
        return Err(Mm2Error::UnknownVersion(version));
    }
    let upstream_offset = v.i64()?;
    let downstream_offset = v.i64()?;
    let metadata = v.string()?;
    v.end()?;
    Ok(Checkpoint {
        group,
        topic,
        partition,
        upstream_offset,
        downstream_offset,
        metadata,
    })
}

/// An offset-sync record's key and value.
pub fn decode_offset_sync(key: &[u8], value: Option<&[u8]>) -> Result<OffsetSync, Mm2Error> {
    let value = value.ok_or(Mm2Error::Tombstone)?;
    let mut k = Reader::new(key, "offset-sync key");
    let topic = k.string()?;
    let partition = k.i32()?;
    k.end()?;
    let mut v = Reader::new(value, "offset-sync value");
    let upstream_offset = v.i64()?;
    let downstream_offset = v.i64()?;
    v.end()?;
    Ok(OffsetSync {
        topic,
        partition,
        upstream_offset,
        downstream_offset,
    })
}

/// The topic MirrorMaker 2 keys a checkpoint of `source_topic` by, which is also the topic the
/// group reads on the target: `MirrorCheckpointTask.renameTopicPartition` under
/// `DefaultReplicationPolicy` (separator `.`). A topic named `<target alias>.<topic>` came from
/// the target and goes back under its original name (every alias stripped, as `originalTopic`
/// does); any other is named as its records are (`rename`: `<source alias>.<topic>`, or the same
/// name under `IdentityReplicationPolicy`, which never names the target as a topic's source).
pub fn checkpoint_topic(source_topic: &str, rename: &Rename, target_alias: Option<&str>) -> String {
    match (rename, target_alias) {
        (Rename::Pattern(_), Some(alias)) if topic_source(source_topic) == Some(alias) => {
            original_topic(source_topic).to_owned()
        }
        _ => rename.target_name(source_topic),
    }
}

/// `DefaultReplicationPolicy.topicSource`: the part before the first `.`, where Java's
/// `split` leaves two parts or more (it drops trailing empty ones).
fn topic_source(topic: &str) -> Option<&str> {
    let (source, rest) = topic.split_once('.')?;
    (!rest.trim_end_matches('.').is_empty()).then_some(source)
}

/// `ReplicationPolicy.originalTopic`: every `<alias>.` stripped.
fn original_topic(topic: &str) -> &str {
    match topic_source(topic) {
        Some(source) => original_topic(&topic[source.len() + 1..]),
        None => topic,
    }
}

/// `MirrorCheckpointTask.checkpointIsMoreRecent`: MirrorMaker 2 writes a checkpoint after `last`
/// only where the group rewound on the source or the translation moved forward on the target,
/// so a checkpoint never takes the group backwards on the target unless the group itself went
/// back. A negative downstream offset is never written (MirrorMaker 2 cannot translate it).
pub fn checkpoint_is_more_recent(checkpoint: &Checkpoint, last: Option<&Checkpoint>) -> bool {
    checkpoint.downstream_offset >= 0
        && last.is_none_or(|last| {
            checkpoint.upstream_offset < last.upstream_offset
                || checkpoint.downstream_offset > last.downstream_offset
        })
}

/// `OffsetSyncStore.SYNCS_PER_PARTITION`.
const SYNCS_PER_PARTITION: usize = 64;

/// One sync in a [`SyncStore`]; `seq` is its arrival, so two arrivals with the same offsets stay
/// two (Kafka compares the objects).
#[derive(Debug, Clone, Copy)]
struct Slot {
    seq: u64,
    upstream: i64,
    downstream: i64,
}

/// One source partition's offset syncs as MirrorMaker 2's `OffsetSyncStore` keeps them, fed in
/// the order written: 64 slots, the newest first, older ones spaced exponentially further apart
/// (invariants A to D of its documentation); an upstream rewind forgets every earlier sync.
/// This is the store of a checkpoint task that read its checkpoints at start (`start(false)`),
/// MirrorMaker 2's usual case.
#[derive(Debug, Clone, Default)]
pub struct SyncStore {
    slots: Vec<Slot>,
    arrived: u64,
}

impl SyncStore {
    /// `OffsetSyncStore.handleRecord`.
    pub fn push(&mut self, upstream: i64, downstream: i64) {
        let sync = Slot {
            seq: self.arrived,
            upstream,
            downstream,
        };
        self.arrived += 1;
        if self
            .slots
            .first()
            .is_none_or(|latest| upstream < latest.upstream)
        {
            self.slots = vec![sync; SYNCS_PER_PARTITION];
            return;
        }
        let original = self.slots.clone();
        let syncs = &mut self.slots;
        let mut replacement = sync;
        let mut replacement_index = 0;
        syncs[0] = replacement;
        for current in 1..SYNCS_PER_PARTITION {
            let previous = current - 1;
            loop {
                let old = original[replacement_index];
                let is_recent = invariant_b(syncs[previous], old, previous, current);
                let separated_from_previous = invariant_c(syncs[previous], old, previous);
                let separated_from_next = current + 1 >= SYNCS_PER_PARTITION
                    || invariant_c(old, syncs[current + 1], current);
                let duplicate = replacement_index + 1 < SYNCS_PER_PARTITION
                    && old.seq == original[replacement_index + 1].seq;
                let promote = is_recent && separated_from_previous && separated_from_next;
                if promote {
                    replacement = old;
                }
                let skip = duplicate || !separated_from_previous;
                if promote || skip {
                    replacement_index += 1;
                }
                if !(replacement_index < current && skip) {
                    break;
                }
            }
            if invariant_b(syncs[previous], syncs[current], previous, current) {
                break;
            }
            syncs[current] = replacement;
        }
    }

    /// The sync MirrorMaker 2 translates `upstream` from (upstream, downstream offset): the
    /// newest kept at or before it; none where every kept sync is after it (Kafka's -1: too
    /// far in the past, no checkpoint).
    pub fn sync_for(&self, upstream: i64) -> Option<(i64, i64)> {
        let sync = self.slots.iter().find(|s| s.upstream <= upstream)?;
        Some((sync.upstream, sync.downstream))
    }

    /// `OffsetSyncStore.translateDownstream`: the sync's downstream offset where `upstream` is
    /// the sync's, else the one after it.
    pub fn translate_downstream(&self, upstream: i64) -> Option<i64> {
        let (synced, downstream) = self.sync_for(upstream)?;
        Some(downstream + i64::from(upstream != synced))
    }
}

/// `OffsetSyncStore.invariantB` (Java's wrapping `long` arithmetic).
fn invariant_b(i_sync: Slot, j_sync: Slot, i: usize, j: usize) -> bool {
    let bound = j_sync
        .upstream
        .wrapping_add(1i64 << j)
        .wrapping_sub(1i64 << i);
    i_sync.seq == j_sync.seq || bound < 0 || i_sync.upstream <= bound
}

/// `OffsetSyncStore.invariantC`.
fn invariant_c(i_sync: Slot, j_sync: Slot, i: usize) -> bool {
    let bound = j_sync.upstream.wrapping_add(1i64 << i.saturating_sub(2));
    i_sync.seq == j_sync.seq || (bound >= 0 && i_sync.upstream >= bound)
}

/// What a cutover now would do to a group on one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cutover {
    /// Where the group would start on the target.
    pub translated: i64,
    /// Records it would read a second time: it committed past the checkpoint on the source
    /// since the checkpoint was written.
    pub replay: i64,
    /// Records it would never read: the checkpoint is ahead of its source commit (or the
    /// translated offset is past the target's end).
    pub skip: i64,
}

/// The cutover of a group that committed `source_committed` on the source, given its latest
/// checkpoint and the target partition's high watermark.
pub fn cutover(checkpoint: &Checkpoint, source_committed: i64, target_high: i64) -> Cutover {
    let translated = checkpoint.downstream_offset;
    let replay = (source_committed - checkpoint.upstream_offset).max(0);
    let behind_checkpoint = (checkpoint.upstream_offset - source_committed).max(0);
    let past_end = (translated - target_high).max(0);
    Cutover {
        translated,
        replay,
        skip: behind_checkpoint + past_end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kafka's `CheckpointTest`: group-1, topic-2 partition 3, upstream 4, downstream 5,
    /// metadata-6, in the bytes `Checkpoint.recordKey()` and `recordValue()` write.
    #[test]
    fn decodes_kafkas_checkpoint_test_record() {
        let mut key = Vec::new();
        key.extend(7i16.to_be_bytes());
        key.extend(b"group-1");
        key.extend(7i16.to_be_bytes());
        key.extend(b"topic-2");
        key.extend(3i32.to_be_bytes());
        let mut value = Vec::new();
        value.extend(0i16.to_be_bytes());
        value.extend(4i64.to_be_bytes());
        value.extend(5i64.to_be_bytes());
        value.extend(10i16.to_be_bytes());
        value.extend(b"metadata-6");
        assert_eq!(
            key,
            [
                0, 7, b'g', b'r', b'o', b'u', b'p', b'-', b'1', 0, 7, b't', b'o', b'p', b'i', b'c',
                b'-', b'2', 0, 0, 0, 3
            ]
        );
        assert_eq!(
            decode_checkpoint(&key, Some(&value)),
            Ok(Checkpoint {
                group: "group-1".into(),
                topic: "topic-2".into(),
                partition: 3,
                upstream_offset: 4,
                downstream_offset: 5,
                metadata: "metadata-6".into(),
            })
        );
        // Cut short, another version, trailing bytes, a tombstone: errors, never a guess.
        assert!(matches!(
            decode_checkpoint(&key, Some(&value[..value.len() - 1])),
            Err(Mm2Error::Truncated { .. })
        ));
        let mut v1 = value.clone();
        v1[1] = 1;
        assert_eq!(
            decode_checkpoint(&key, Some(&v1)),
            Err(Mm2Error::UnknownVersion(1))
        );
        let mut long = value.clone();
        long.push(0);
        assert!(matches!(
            decode_checkpoint(&key, Some(&long)),
            Err(Mm2Error::TrailingBytes { extra: 1, .. })
        ));
        assert_eq!(decode_checkpoint(&key, None), Err(Mm2Error::Tombstone));
    }

    #[test]
    fn decodes_an_offset_sync() {
        let mut key = Vec::new();
        key.extend(5i16.to_be_bytes());
        key.extend(b"topic");
        key.extend(2i32.to_be_bytes());
        let mut value = Vec::new();
        value.extend(100i64.to_be_bytes());
        value.extend(90i64.to_be_bytes());
        assert_eq!(
            decode_offset_sync(&key, Some(&value)),
            Ok(OffsetSync {
                topic: "topic".into(),
                partition: 2,
                upstream_offset: 100,
                downstream_offset: 90,
            })
        );
    }

    // Ports of Kafka's `MirrorCheckpointTaskTest` and `OffsetSyncStoreTest` (connect/mirror):
    // `checkpoint_topic` is `renameTopicPartition`, `checkpoint_is_more_recent` the task's filter
    // before it emits, `SyncStore` the `OffsetSyncStore` after `start(false)`; Kafka's
    // `OptionalLong.of(-1)` (no checkpoint) is `None` here.

    fn pattern(alias: &str) -> Rename {
        Rename::Pattern(format!("{alias}.{{topic}}"))
    }

    fn checkpoint(group: &str, topic: &str, upstream: i64, downstream: i64) -> Checkpoint {
        Checkpoint {
            group: group.into(),
            topic: topic.into(),
            partition: 0,
            upstream_offset: upstream,
            downstream_offset: downstream,
            metadata: String::new(),
        }
    }

    /// From `testDownstreamTopicRenaming` (source1 → target2), with the cases it implies.
    #[test]
    fn checkpoints_are_keyed_by_the_renamed_topic_both_ways() {
        let (rename, target) = (pattern("source1"), Some("target2"));
        let cases = [
            ("topic3", &rename, target, "source1.topic3"),
            ("target2.topic3", &rename, target, "topic3"),
            ("source6.topic7", &rename, target, "source1.source6.topic7"),
            // `originalTopic` strips every alias, not just the target's.
            ("target2.source1.topic3", &rename, target, "topic3"),
            // Without the target's alias, a topic from the target cannot be told apart.
            ("target2.topic3", &rename, None, "source1.target2.topic3"),
            // `IdentityReplicationPolicy` keeps every name.
            (
                "target2.topic3",
                &Rename::Identity,
                target,
                "target2.topic3",
            ),
            // Java's `split` drops trailing empty parts: `target2.` has no source.
            ("target2.", &rename, target, "source1.target2."),
        ];
        for (topic, rename, target, keyed) in cases {
            assert_eq!(checkpoint_topic(topic, rename, target), keyed, "{topic}");
        }
    }

    /// From `testCheckpoint`: syncs topic1/2 3→4 and target2.topic5/6 7→8; group9 at 10,
    /// group11 at 12, group13 at 7.
    #[test]
    fn a_checkpoint_is_keyed_renamed_and_translated_from_the_sync() {
        let (rename, target) = (pattern("source1"), Some("target2"));
        let mut topic1 = SyncStore::default();
        topic1.push(3, 4);
        let mut topic5 = SyncStore::default();
        topic5.push(7, 8);
        assert_eq!(
            checkpoint_topic("topic1", &rename, target),
            "source1.topic1"
        );
        assert_eq!(topic1.translate_downstream(10), Some(5));
        assert_eq!(
            checkpoint_topic("target2.topic5", &rename, target),
            "topic5"
        );
        assert_eq!(topic5.translate_downstream(12), Some(9));
        assert_eq!(topic5.translate_downstream(7), Some(8));
    }

    /// From `checkpointsForGroup`'s `downstreamOffset() >= 0` filter: a negative downstream
    /// offset is never a checkpoint, first or not.
    #[test]
    fn no_checkpoint_for_a_negative_downstream_offset() {
        let first = checkpoint("g1", "source1.topic1", 10, -1);
        assert!(!checkpoint_is_more_recent(&first, None));
        let last = checkpoint("g1", "source1.topic1", 20, 15);
        // An upstream rewind would be written, but not to -1.
        assert!(!checkpoint_is_more_recent(&first, Some(&last)));
        assert!(checkpoint_is_more_recent(
            &checkpoint("g1", "source1.topic1", 10, 0),
            Some(&last)
        ));
    }

    /// From `testCheckpointRecordsMonotonicIfStoreRewinds`: syncs 11→4 and 12→5 translate the
    /// group's 13 to 6; syncs 13..17 push 12→5 out of the store, so 13 translates to 5, which
    /// is not written; the group rewound to 12 is written, downstream going back with it.
    #[test]
    fn checkpoints_are_monotonic_unless_the_group_rewinds() {
        let mut store = SyncStore::default();
        store.push(11, 4);
        store.push(12, 5);
        assert_eq!(store.translate_downstream(13), Some(6));
        let last = checkpoint("g1", "source1.topic1", 13, 6);
        assert!(checkpoint_is_more_recent(&last, None));
        for (up, down) in [(13, 6), (14, 7), (15, 8), (16, 9), (17, 10)] {
            store.push(up, down);
        }
        assert_eq!(store.translate_downstream(13), Some(5));
        let same = checkpoint("g1", "source1.topic1", 13, 5);
        assert!(!checkpoint_is_more_recent(&same, Some(&last)));
        assert_eq!(store.translate_downstream(12), Some(5));
        let rewound = checkpoint("g1", "source1.topic1", 12, 5);
        assert!(checkpoint_is_more_recent(&rewound, Some(&last)));
        // The same checkpoint again is not written either.
        assert!(!checkpoint_is_more_recent(&last, Some(&last)));
    }

    /// From `testCheckpointsTaskRestartUsesExistingCheckpoints`: syncs 100, 200, 300 put 250 at
    /// 201; after a restart on syncs 175..475, 250 and 370 translate to 176 (behind 201: not
    /// written) and 400 to 376 (written), keyed source1.t1.
    #[test]
    fn a_restarted_task_keeps_checkpoints_monotonic() {
        let mut before = SyncStore::default();
        for offset in [100, 200, 300] {
            before.push(offset, offset);
        }
        assert_eq!(before.translate_downstream(250), Some(201));
        assert_eq!(
            checkpoint_topic("t1", &pattern("source1"), Some("target2")),
            "source1.t1"
        );
        let last = checkpoint("group1", "source1.t1", 250, 201);
        let mut after = SyncStore::default();
        for offset in [175, 275, 375, 475] {
            after.push(offset, offset);
        }
        assert_eq!(after.translate_downstream(250), Some(176));
        assert_eq!(after.translate_downstream(370), Some(176));
        for upstream in [250, 370] {
            let c = checkpoint("group1", "source1.t1", upstream, 176);
            assert!(!checkpoint_is_more_recent(&c, Some(&last)));
        }
        assert_eq!(after.translate_downstream(400), Some(376));
        let c = checkpoint("group1", "source1.t1", 400, 376);
        assert!(checkpoint_is_more_recent(&c, Some(&last)));
    }

    /// From `OffsetSyncStoreTest.testOffsetTranslation` and `testNoTranslationIfNoOffsetSync`.
    #[test]
    fn offset_syncs_translate_as_kafkas_store() {
        let mut store = SyncStore::default();
        assert_eq!(store.translate_downstream(0), None);
        // Emit synced downstream offset without dead-reckoning.
        store.push(100, 200);
        assert_eq!(store.translate_downstream(150), Some(201));
        // Translate exact offsets.
        store.push(150, 251);
        assert_eq!(store.translate_downstream(150), Some(251));
        // Use old offset (5) prior to any sync: can't translate.
        assert_eq!(store.translate_downstream(5), None);
        // Downstream offsets reset.
        store.push(200, 10);
        assert_eq!(store.translate_downstream(200), Some(10));
        // Upstream offsets reset: every earlier sync is forgotten.
        store.push(20, 20);
        assert_eq!(store.translate_downstream(20), Some(20));
        assert_eq!(store.translate_downstream(150), Some(21));
    }

    /// `OffsetSyncStoreTest.assertSparseSync`, -1 as `None`.
    fn assert_sparse_sync(store: &SyncStore, sync: i64, previous: i64) {
        let before = (previous != -1).then_some(previous + 1);
        assert_eq!(store.translate_downstream(sync - 1), before, "{sync} - 1");
        assert_eq!(store.translate_downstream(sync), Some(sync), "{sync}");
        assert_eq!(store.translate_downstream(sync + 1), Some(sync + 1));
        assert_eq!(store.translate_downstream(sync + 2), Some(sync + 1));
    }

    /// `OffsetSyncStoreTest.assertSparseSyncInvariant`: invariants B and C for every pair.
    fn assert_sparse_sync_invariant(store: &SyncStore) {
        for j in 0..SYNCS_PER_PARTITION {
            for i in 0..j {
                let (ju, iu) = (store.slots[j].upstream, store.slots[i].upstream);
                if ju == iu {
                    continue;
                }
                let lower = ju.wrapping_add(1i64 << i.saturating_sub(2));
                if lower < 0 {
                    continue;
                }
                assert!(iu >= lower, "invariant C({i},{j})");
                let upper = ju.wrapping_add(1i64 << j).wrapping_sub(1i64 << i);
                if upper < 0 {
                    continue;
                }
                assert!(iu <= upper, "invariant B({i},{j})");
            }
        }
    }

    /// From `testPastOffsetTranslationWithoutInitializationReadToEnd` (MirrorMaker 2 after
    /// reading its checkpoints: every sync read goes through the store; "written knowing the
    /// exact offset syncs stored").
    #[test]
    fn past_offsets_translate_from_the_sparse_syncs_kept() {
        let mut store = SyncStore::default();
        for offset in (0..=1000).step_by(10) {
            store.push(offset, offset);
            assert_sparse_sync_invariant(&store);
        }
        assert_sparse_sync(&store, 480, 0);
        assert_sparse_sync(&store, 720, 480);
        assert_sparse_sync(&store, 1000, 990);
        for offset in (1000..=10000).step_by(10) {
            store.push(offset, offset);
            assert_sparse_sync_invariant(&store);
        }
        // 1000 was kicked out of the store: offsets before 3840 translate from 0.
        for (sync, previous) in [
            (3840, 0),
            (7680, 3840),
            (8640, 7680),
            (9120, 8640),
            (9600, 9120),
            (9840, 9600),
            (9900, 9840),
            (9960, 9900),
            (9990, 9960),
            (10000, 9990),
        ] {
            assert_sparse_sync(&store, sync, previous);
        }
        // Rewinding upstream offsets clears all historical syncs.
        store.push(1500, 11000);
        assert_sparse_sync_invariant(&store);
        assert_eq!(store.translate_downstream(1499), None);
        assert_eq!(store.translate_downstream(1500), Some(11000));
        assert_eq!(store.translate_downstream(2000), Some(11001));
    }

    /// From `testConsistentlySpacedSyncs`: regularly spaced syncs keep the latest (invariant
    /// A) and the first (invariant D), and each new sync expires at most one other.
    #[test]
    fn consistently_spaced_syncs_expire_at_most_one() {
        let max_step = i64::MAX / 100;
        let mut step = 1i64;
        while step < max_step {
            for first in 0..30 {
                let mut store = SyncStore::default();
                store.push(first, first);
                let (mut offset, mut last_count) = (first, 1);
                for _ in 0..100 {
                    offset += step;
                    store.push(offset, offset);
                    assert_eq!(store.slots[0].upstream, offset);
                    assert_eq!(store.slots[SYNCS_PER_PARTITION - 1].upstream, first);
                    let count = 1 + store
                        .slots
                        .windows(2)
                        .filter(|w| w[0].seq != w[1].seq)
                        .count() as i64;
                    assert!(last_count + 1 - count <= 1, "step {step} first {first}");
                    last_count = count;
                }
            }
            step = step * 2 + 1;
        }
    }

    #[test]
    fn a_cutover_replays_what_was_committed_since_the_checkpoint() {
        let checkpoint = Checkpoint {
            group: "g".into(),
            topic: "t".into(),
            partition: 0,
            upstream_offset: 100,
            downstream_offset: 90,
            metadata: String::new(),
        };
        assert_eq!(
            cutover(&checkpoint, 130, 200),
            Cutover {
                translated: 90,
                replay: 30,
                skip: 0
            }
        );
        assert_eq!(cutover(&checkpoint, 100, 200).replay, 0);
        // The checkpoint ahead of the group's commit (it rewound): those records are skipped.
        assert_eq!(cutover(&checkpoint, 80, 200).skip, 20);
        // Translated past the target's end.
        assert_eq!(cutover(&checkpoint, 100, 85).skip, 5);
    }
}
