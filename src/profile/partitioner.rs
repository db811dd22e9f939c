//! Which partition a key lands in, so a lookup reads only that partition: Kafka's Java default
//! (murmur2), librdkafka's `consistent` (crc32), and Sarama's and kafka-go's hash (FNV-1a).

use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Partitioner {
    /// The Java producer's default: `(murmur2(key) & 0x7fffffff) % partitions`.
    #[default]
    Murmur2,
    /// librdkafka's `consistent` (and the keyed half of its default `consistent_random`):
    /// `crc32(key) % partitions`.
    Crc32,
    /// Sarama's default hash partitioner and kafka-go's `Hash` balancer:
    /// `abs(int32(fnv1a(key)) % partitions)`.
    Fnv1a,
    /// Unknown partitioning: scan every partition.
    All,
    /// Each topic's partitioner as inferred from a sample of its records (see
    /// [`super::placement`]); unresolved, it reads every partition.
    Auto,
}

impl Partitioner {
    /// The hash partitioners a topic can be written with, in the order a tie is broken.
    pub const HASHES: [Partitioner; 3] = [Self::Murmur2, Self::Crc32, Self::Fnv1a];

    /// The name specs and reports use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Murmur2 => "murmur2",
            Self::Crc32 => "crc32",
            Self::Fnv1a => "fnv1a",
            Self::All => "all",
            Self::Auto => "auto",
        }
    }

    /// The one partition a hash partitioner puts `key` in (`None` for `all` and `auto`).
    pub fn partition_of(self, key: &[u8], partitions: i32) -> Option<i32> {
        if partitions <= 0 {
            return None;
        }
        let n = partitions as u32;
        match self {
            Self::Murmur2 => Some(((murmur2(key) & 0x7fff_ffff) % n) as i32),
            Self::Crc32 => Some((crc32fast::hash(key) % n) as i32),
            // Go's `%` on int32 keeps the dividend's sign; Sarama and kafka-go then negate.
            Self::Fnv1a => Some(((fnv1a(key) as i32) % partitions).abs()),
            Self::All | Self::Auto => None,
        }
    }

    /// The partitions to read for `key` in a topic of `partitions` partitions.
    pub fn partitions_for(self, key: &[u8], partitions: i32) -> Vec<i32> {
        if partitions <= 0 {
            return Vec::new();
        }
        match self.partition_of(key, partitions) {
            Some(partition) => vec![partition],
            None => (0..partitions).collect(),
        }
    }
}

/// 32-bit FNV-1a (Go's `hash/fnv.New32a`), as Sarama and kafka-go hash keys.
pub fn fnv1a(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5u32, |h, byte| {
        (h ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
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

    /// Sarama's `TestHashPartitionerMinInt32` key (its FNV-1a is 2^31, int32's minimum) and
    /// kafka-go's `TestHashBalancer` cases.
    #[test]
    fn fnv1a_places_keys_as_sarama_and_kafka_go_do() {
        assert_eq!(fnv1a(b"1468509572224"), 2_147_483_648);
        // int32 min % 50 is -48 in Go; Sarama negates it.
        assert_eq!(
            Partitioner::Fnv1a.partition_of(b"1468509572224", 50),
            Some(48)
        );
        assert_eq!(Partitioner::Fnv1a.partition_of(b"blah", 2), Some(0));
        assert_eq!(Partitioner::Fnv1a.partition_of(b"blah", 3), Some(1));
        assert_eq!(Partitioner::Fnv1a.partition_of(b"boop", 3), Some(2));
        // The FNV-1a reference values (Go's hash/fnv tests).
        assert_eq!(fnv1a(b""), 0x811c_9dc5);
        assert_eq!(fnv1a(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a(b"ab"), 0x4d25_05ca);
        assert_eq!(fnv1a(b"abc"), 0x1a47_e90b);
    }

    /// Sarama's `TestConsistentCRCHashPartitioner` cases: crc32 taken unsigned, as librdkafka does.
    #[test]
    fn crc32_matches_saramas_librdkafka_compatible_cases() {
        for (key, want) in [
            ("abc123def456", 57),
            ("SheetJS", 26),
            ("9e8c7f4cf45857cfff7645d6", 24),
            ("3900446192ff85a5f67da10c", 75),
            ("0f4407b7a67d6d27de372198", 50),
        ] {
            assert_eq!(
                Partitioner::Crc32.partition_of(key.as_bytes(), 100),
                Some(want),
                "{key}"
            );
        }
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
