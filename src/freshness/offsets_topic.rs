//! Commit history from `__consumer_offsets`, where the cluster exposes it as a readable topic
//! (Apache Kafka does): the OffsetCommit key (versions 0 and 1) and value (versions 0 to 4, 4
//! being flexible: compact strings and tagged fields) as Kafka's `OffsetCommitKey.json` and
//! `OffsetCommitValue.json` define them, with commit timestamps, so lag history reaches back
//! before freshlens started. A key's version is the coordinator record type: 2 is group
//! metadata, 3 and up are the KIP-848 and share/streams group records, none of them offsets.

use serde::Serialize;

use crate::cluster::{FormatError, Reader};

pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OffsetCommit {
    pub group: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub leader_epoch: Option<i32>,
    pub metadata: String,
    pub commit_ms: i64,
    pub expire_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OffsetsRecord {
    Commit(OffsetCommit),
    /// The group's offset for the partition was deleted.
    Deleted {
        group: String,
        topic: String,
        partition: i32,
    },
    /// Group membership metadata (key version 2): not an offset.
    GroupMetadata {
        group: String,
    },
    /// Another group-coordinator record (key version 3 and up: consumer, share and streams
    /// group records of the new protocol); not an offset.
    Other {
        record_type: i16,
    },
}

/// Decodes one `__consumer_offsets` record.
pub fn decode_offsets_record(
    key: &[u8],
    value: Option<&[u8]>,
) -> Result<OffsetsRecord, FormatError> {
    let mut key = Reader(key);
    let key_version = key.i16()?;
    let group = key.string()?;
    match key_version {
        0 | 1 => {}
        2 => return Ok(OffsetsRecord::GroupMetadata { group }),
        3.. => {
            return Ok(OffsetsRecord::Other {
                record_type: key_version,
            });
        }
        _ => {
            return Err(FormatError::UnknownVersion {
                what: "key",
                version: key_version,
            });
        }
    }
    let topic = key.string()?;
    let partition = key.i32()?;
    let Some(value) = value else {
        return Ok(OffsetsRecord::Deleted {
            group,
            topic,
            partition,
        });
    };
    let mut value = Reader(value);
    let version = value.i16()?;
    if !(0..=4).contains(&version) {
        return Err(FormatError::UnknownVersion {
            what: "value",
            version,
        });
    }
    let offset = value.i64()?;
    let leader_epoch = if version >= 3 {
        Some(value.i32()?).filter(|e| *e >= 0)
    } else {
        None
    };
    let metadata = if version >= 4 {
        value.compact_string()?
    } else {
        value.string()?
    };
    let commit_ms = value.i64()?;
    // Only v1 carries an expire timestamp; -1 (`OffsetCommitRequest.DEFAULT_TIMESTAMP`) is
    // Kafka's "none", written when the commit asked for no retention of its own
    // (`OffsetAndMetadata.fromRecord` reads it back with `ofSentinel`).
    let expire_ms = match version {
        1 => Some(value.i64()?).filter(|ms| *ms != -1),
        _ => None,
    };
    if version >= 4 {
        value.skip_tagged_fields()?;
    }
    Ok(OffsetsRecord::Commit(OffsetCommit {
        group,
        topic,
        partition,
        offset,
        leader_epoch,
        metadata,
        commit_ms,
        expire_ms,
    }))
}

/// Java's `String.hashCode`, over UTF-16 code units.
fn java_string_hash(text: &str) -> i32 {
    text.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// The `__consumer_offsets` partition a group's commits land in:
/// `Utils.abs(group.hashCode()) % partitions`, Kafka's own abs (`Integer.MIN_VALUE` maps to 0).
pub fn offsets_partition(group: &str, partitions: i32) -> i32 {
    let hash = java_string_hash(group);
    let abs = if hash == i32::MIN { 0 } else { hash.abs() };
    abs % partitions.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend((s.len() as i16).to_be_bytes());
        out.extend(s.as_bytes());
    }

    fn key(version: i16) -> Vec<u8> {
        let mut k = version.to_be_bytes().to_vec();
        string(&mut k, "profile-builder");
        if version < 2 {
            string(&mut k, "c360.orders");
            k.extend(7i32.to_be_bytes());
        }
        k
    }

    fn value(version: i16) -> Vec<u8> {
        let mut v = version.to_be_bytes().to_vec();
        v.extend(1234i64.to_be_bytes());
        if version >= 3 {
            v.extend(5i32.to_be_bytes());
        }
        if version >= 4 {
            // COMPACT_STRING: length + 1 as an unsigned varint.
            v.push(5);
            v.extend(b"meta");
        } else {
            string(&mut v, "meta");
        }
        v.extend(1_700_000_000_000i64.to_be_bytes());
        if version == 1 {
            v.extend(1_700_086_400_000i64.to_be_bytes());
        }
        if version >= 4 {
            v.push(0); // no tagged fields
        }
        v
    }

    /// OffsetCommitValue v4 as Kafka 3.7+ writes it, byte by byte from `OffsetCommitValue.json`
    /// (flexible from v4): version, offset, leaderEpoch, metadata (compact), commitTimestamp,
    /// then a tagged-field section; this one carries two fields a later Kafka may add (tag 0
    /// with 16 bytes, say a topic id, and tag 7 with 1 byte), which a reader must skip.
    const V4_WITH_TAGS: &[u8] = &[
        0, 4, // version 4
        0, 0, 0, 0, 0, 0, 0x30, 0x39, // offset 12345
        0, 0, 0, 9, // leader epoch 9
        1, // metadata: compact string, length 0 (varint 1)
        0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // commit timestamp 1_700_000_000_000
        2,    // two tagged fields
        0, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, // tag 0, 16 bytes
        7, 1, 0xff, // tag 7, 1 byte
    ];

    #[test]
    fn decodes_v4_values_with_tagged_fields() {
        let OffsetsRecord::Commit(commit) =
            decode_offsets_record(&key(1), Some(V4_WITH_TAGS)).expect("v4 with tagged fields")
        else {
            panic!("not a commit")
        };
        assert_eq!(
            (commit.offset, commit.leader_epoch, commit.commit_ms),
            (12345, Some(9), 1_700_000_000_000)
        );
        assert_eq!((commit.metadata.as_str(), commit.expire_ms), ("", None));
        // A tagged field whose declared size runs past the end is an error, not a guess.
        let cut = &V4_WITH_TAGS[..V4_WITH_TAGS.len() - 1];
        assert!(decode_offsets_record(&key(1), Some(cut)).is_err());
    }

    /// OffsetCommitValue v1 as Kafka writes it (`GroupCoordinatorRecordHelpers
    /// .newOffsetCommitRecord`: version, offset, metadata, commitTimestamp, expireTimestamp),
    /// with the given expire timestamp; -1 is what it writes for a commit without one.
    fn v1_value(expire_ms: i64) -> Vec<u8> {
        let mut v = vec![
            0, 1, // version 1
            0, 0, 0, 0, 0, 0, 0x30, 0x39, // offset 12345
            0, 0, // metadata: empty string
            0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // commit timestamp 1_700_000_000_000
        ];
        v.extend(expire_ms.to_be_bytes());
        v
    }

    #[test]
    fn v1_expire_timestamp_minus_one_is_no_expiry() {
        let none = v1_value(-1);
        assert_eq!(&none[20..], &[0xff; 8]);
        let OffsetsRecord::Commit(commit) = decode_offsets_record(&key(1), Some(&none)).unwrap()
        else {
            panic!("not a commit")
        };
        assert_eq!(
            (commit.offset, commit.commit_ms, commit.expire_ms),
            (12345, 1_700_000_000_000, None)
        );
        // A real expire time, a day after the commit, comes through as it is.
        let day_later = v1_value(1_700_086_400_000);
        let OffsetsRecord::Commit(commit) =
            decode_offsets_record(&key(1), Some(&day_later)).unwrap()
        else {
            panic!("not a commit")
        };
        assert_eq!(commit.expire_ms, Some(1_700_086_400_000));
    }

    #[test]
    fn newer_coordinator_records_are_not_offsets_and_future_values_are_errors() {
        for record_type in [3i16, 8, 16, 20] {
            let mut k = record_type.to_be_bytes().to_vec();
            string(&mut k, "cg");
            assert_eq!(
                decode_offsets_record(&k, Some(&[0, 0])).unwrap(),
                OffsetsRecord::Other { record_type }
            );
        }
        let mut v5 = value(4);
        v5[1] = 5;
        let error = decode_offsets_record(&key(1), Some(&v5)).unwrap_err();
        assert_eq!(
            error,
            FormatError::UnknownVersion {
                what: "value",
                version: 5
            }
        );
        assert_eq!(error.to_string(), "unknown value version 5");
        assert!(decode_offsets_record(&(-1i16).to_be_bytes(), None).is_err());
    }

    #[test]
    fn decodes_commit_values_v0_to_v4() {
        for version in 0..=4 {
            let record = decode_offsets_record(&key(1), Some(&value(version))).unwrap();
            let OffsetsRecord::Commit(commit) = record else {
                panic!("v{version}: not a commit")
            };
            assert_eq!(
                (
                    commit.group.as_str(),
                    commit.topic.as_str(),
                    commit.partition
                ),
                ("profile-builder", "c360.orders", 7)
            );
            assert_eq!(
                (commit.offset, commit.commit_ms),
                (1234, 1_700_000_000_000),
                "v{version}"
            );
            assert_eq!(commit.metadata, "meta");
            assert_eq!(commit.leader_epoch, (version >= 3).then_some(5));
            assert_eq!(
                commit.expire_ms,
                (version == 1).then_some(1_700_086_400_000)
            );
        }
        assert!(
            decode_offsets_record(&key(0), Some(&value(0))).is_ok(),
            "key version 0"
        );
    }

    #[test]
    fn tombstones_group_metadata_and_garbage() {
        assert_eq!(
            decode_offsets_record(&key(1), None).unwrap(),
            OffsetsRecord::Deleted {
                group: "profile-builder".into(),
                topic: "c360.orders".into(),
                partition: 7
            }
        );
        assert_eq!(
            decode_offsets_record(&key(2), Some(&[0, 3])).unwrap(),
            OffsetsRecord::GroupMetadata {
                group: "profile-builder".into()
            }
        );
        let v = value(2);
        for cut in [0, 3, 12, v.len() - 1] {
            assert!(
                decode_offsets_record(&key(1), Some(&v[..cut])).is_err(),
                "cut at {cut}"
            );
        }
        assert!(
            decode_offsets_record(&[0, 9], None).is_err(),
            "key type 9, no group"
        );
        assert!(decode_offsets_record(&key(1), Some(&9i16.to_be_bytes())).is_err());
    }

    #[test]
    fn groups_map_to_partitions_like_kafka() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("abc"), 96_354);
        // "polygenelubricants".hashCode() is Integer.MIN_VALUE: Kafka's abs maps it to 0.
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        assert_eq!(offsets_partition("polygenelubricants", 50), 0);
        assert_eq!(offsets_partition("abc", 50), 96_354 % 50);
    }
}
