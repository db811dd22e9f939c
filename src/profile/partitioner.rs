//! Which partition a key lands in, so a lookup reads only that partition: Kafka's Java default
//! (murmur2) and librdkafka's `consistent` (crc32).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Partitioner {
    /// The Java producer's default: `(murmur2(key) & 0x7fffffff) % partitions`.
    #[default]
    Murmur2,
    /// librdkafka's `consistent`: `crc32(key) % partitions`.
    Crc32,
    /// Unknown partitioning: scan every partition.
    All,
}

impl Partitioner {
    /// The partitions to read for `key` in a topic of `partitions` partitions.
    pub fn partitions_for(self, key: &[u8], partitions: i32) -> Vec<i32> {
        if partitions <= 0 {
            return Vec::new();
        }
        let n = partitions as u32;
        match self {
            Self::Murmur2 => vec![((murmur2(key) & 0x7fff_ffff) % n) as i32],
            Self::Crc32 => vec![(crc32fast::hash(key) % n) as i32],
            Self::All => (0..partitions).collect(),
        }
    }
}

/// Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`), seed 0x9747b28c.
pub fn murmur2(data: &[u8]) -> u32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h = SEED ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kafka's `UtilsTest.testMurmur2` vectors (Java signed ints).
    #[test]
    fn murmur2_matches_kafka_vectors() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107),
        ];
        for (input, want) in cases {
            assert_eq!(
                murmur2(input) as i32,
                want,
                "{}",
                String::from_utf8_lossy(input)
            );
        }
        // And Sarama's extra binary vector.
        assert_eq!(murmur2(&[12, 42, 56, 24, 109, 111]), 274_204_207);
    }

    #[test]
    fn partitions_follow_the_java_formula() {
        // (-973932308 & 0x7fffffff) = 1173551340; % 12 = 0, % 7 = 3.
        assert_eq!(Partitioner::Murmur2.partitions_for(b"21", 12), vec![0]);
        assert_eq!(
            Partitioner::Murmur2.partitions_for(b"21", 7),
            vec![1_173_551_340 % 7]
        );
        assert_eq!(Partitioner::All.partitions_for(b"x", 3), vec![0, 1, 2]);
        assert!(Partitioner::Murmur2.partitions_for(b"x", 0).is_empty());
    }

    #[test]
    fn crc32_is_librdkafka_consistent() {
        // The CRC-32/ISO-HDLC check value, as librdkafka's rd_crc32 computes it.
        assert_eq!(crc32fast::hash(b"123456789"), 0xcbf4_3926);
        assert_eq!(
            Partitioner::Crc32.partitions_for(b"123456789", 10),
            vec![(0xcbf4_3926u32 % 10) as i32]
        );
    }
}
