//! Commit history from `__consumer_offsets`, where the cluster exposes it as a readable topic
//! (Apache Kafka does): the OffsetCommit key and value formats, versions 0 to 3, with commit
//! timestamps, so lag history reaches back before freshlens started.

use serde::Serialize;

use crate::cluster::Reader;

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
}

/// Decodes one `__consumer_offsets` record.
pub fn decode_offsets_record(key: &[u8], value: Option<&[u8]>) -> Result<OffsetsRecord, String> {
    let mut key = Reader(key);
    let key_version = key.i16()?;
    let group = key.string()?;
    if key_version == 2 {
        return Ok(OffsetsRecord::GroupMetadata { group });
    }
    if !(0..=1).contains(&key_version) {
        return Err(format!("unknown key version {key_version}"));
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
    let offset = value.i64()?;
    let leader_epoch = if version >= 3 {
        Some(value.i32()?).filter(|e| *e >= 0)
    } else {
        None
    };
    let metadata = value.string()?;
    let commit_ms = value.i64()?;
    let expire_ms = match version {
        1 => Some(value.i64()?),
        0 | 2 | 3 => None,
        other => return Err(format!("unknown value version {other}")),
    };
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
        string(&mut v, "meta");
        v.extend(1_700_000_000_000i64.to_be_bytes());
        if version == 1 {
            v.extend(1_700_086_400_000i64.to_be_bytes());
        }
        v
    }

    #[test]
    fn decodes_commit_values_v0_to_v3() {
        for version in 0..=3 {
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
        assert!(decode_offsets_record(&[0, 9], None).is_err());
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
