//! MirrorMaker 2's internal records, decoded as Kafka's own classes write them (the protocol
//! types: STRING is an int16 length and UTF-8 bytes, INT32/INT64 big-endian):
//! - `Checkpoint` (`<alias>.checkpoints.internal` on the target): key = group, topic, partition;
//!   value = an int16 version header (0), upstream offset, downstream offset, metadata;
//! - `OffsetSync` (`mm2-offset-syncs.<alias>.internal`): key = topic, partition; value = upstream
//!   offset, downstream offset (no header).
//!
//! And what a checkpoint means for a cutover: where the group would start on the target, and
//! how many records it would read again or miss.

use serde::Serialize;

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
