//! Which partitioner wrote a topic, from where its keyed records sit: the share of a sample
//! each hash partitioner explains, the best one (or "random" when none beats chance), a second
//! producer when the rest is explained by another hash, and the keys on partitions the best
//! one does not predict.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::Partitioner;
use crate::cluster::{
    CancelToken, ClusterError, Record, ScanEvent, ScanRequest, StartAt, TopicInfo,
};
use crate::source::Source;

/// Records sampled per topic unless asked otherwise.
pub const DEFAULT_SAMPLE: usize = 10_000;
/// Misplaced keys listed (all are counted).
const MISPLACED_LISTED: usize = 100;
/// Standard errors above chance a share must reach to count as explained by a hash rather than
/// luck: at 10,000 records over 12 partitions, 8.3% + 1.4%.
const SIGMAS: f64 = 5.0;
/// Fewer keyed records than this say nothing about a partitioner.
const MIN_RECORDS: u64 = 20;

/// What placed a topic's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Murmur2,
    Crc32,
    Fnv1a,
    /// Keyed records placed with no hash freshlens knows (random, round robin, or sticky).
    Random,
    /// Too few keyed records, or one partition (where every partitioner agrees).
    Undetermined,
}

impl Verdict {
    fn of(partitioner: Partitioner) -> Self {
        match partitioner {
            Partitioner::Crc32 => Self::Crc32,
            Partitioner::Fnv1a => Self::Fnv1a,
            _ => Self::Murmur2,
        }
    }

    /// The hash partitioner, when the verdict is one.
    pub fn partitioner(self) -> Option<Partitioner> {
        match self {
            Self::Murmur2 => Some(Partitioner::Murmur2),
            Self::Crc32 => Some(Partitioner::Crc32),
            Self::Fnv1a => Some(Partitioner::Fnv1a),
            Self::Random | Self::Undetermined => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self.partitioner() {
            Some(p) => p.name(),
            None if self == Self::Random => "random",
            None => "undetermined",
        }
    }
}

/// The share of the sampled keyed records each hash partitioner puts where they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Candidates {
    pub murmur2: f64,
    pub crc32: f64,
    pub fnv1a: f64,
}

impl Candidates {
    /// "murmur2 100.0% · crc32 8.2% · fnv1a 7.9%", joined by `separator`.
    pub fn summary(&self, separator: &str) -> String {
        Partitioner::HASHES
            .iter()
            .map(|p| format!("{} {:.1}%", p.name(), self.get(*p) * 100.0))
            .collect::<Vec<_>>()
            .join(separator)
    }

    pub fn get(&self, partitioner: Partitioner) -> f64 {
        match partitioner {
            Partitioner::Murmur2 => self.murmur2,
            Partitioner::Crc32 => self.crc32,
            Partitioner::Fnv1a => self.fnv1a,
            Partitioner::All | Partitioner::Auto => 0.0,
        }
    }
}

/// A key on a partition the best partitioner does not put it in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Misplaced {
    pub key: String,
    pub partition: i32,
    pub expected: i32,
    /// Another hash partitioner that does put it there, if one does.
    pub explained_by: Option<&'static str>,
}

/// A second producer: the hash that explains the records the best one does not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Second {
    pub partitioner: Partitioner,
    /// Its share of all sampled keyed records (those the best one also explains excluded).
    pub explained: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inference {
    pub partitions: i32,
    /// Keyed records looked at.
    pub sampled: u64,
    /// Records without a key: placed by the producer's null-key rule, not by a hash.
    pub null_keys: u64,
    pub best: Verdict,
    /// The share the best hash explains (the best candidate's even when the verdict is random).
    pub explained: f64,
    pub candidates: Candidates,
    pub second: Option<Second>,
    pub misplaced: Vec<Misplaced>,
    pub misplaced_records: u64,
    pub misplaced_keys: u64,
    /// One sentence: what wrote this topic, as a person would say it.
    pub verdict: String,
}

impl Inference {
    /// Whether two hash partitioners wrote this topic.
    pub fn mixed(&self) -> bool {
        self.second.is_some()
    }
}

/// Whether `hits` of `n` records is more than chance (`1/partitions`) explains.
fn beats_chance(hits: u64, n: u64, partitions: i32) -> bool {
    if n == 0 {
        return false;
    }
    let chance = 1.0 / f64::from(partitions);
    let sigma = (chance * (1.0 - chance) / n as f64).sqrt();
    hits as f64 / n as f64 > chance + SIGMAS * sigma
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// Infers the partitioner from (key, partition) pairs of a topic of `partitions` partitions;
/// `None` keys are counted as null keys.
pub fn infer<'a>(
    placed: impl IntoIterator<Item = (Option<&'a [u8]>, i32)>,
    partitions: i32,
) -> Inference {
    let mut keyed: Vec<(&[u8], i32)> = Vec::new();
    let mut null_keys = 0;
    for (key, partition) in placed {
        match key {
            Some(key) => keyed.push((key, partition)),
            None => null_keys += 1,
        }
    }
    let n = keyed.len() as u64;
    // For each record, which hashes put it where it is (a bit per hash).
    let hits: Vec<u8> = keyed
        .iter()
        .map(|(key, partition)| {
            Partitioner::HASHES
                .iter()
                .enumerate()
                .filter(|(_, p)| p.partition_of(key, partitions) == Some(*partition))
                .fold(0u8, |bits, (i, _)| bits | 1 << i)
        })
        .collect();
    let count = |bit: usize| hits.iter().filter(|h| *h & (1 << bit) != 0).count() as u64;
    let counts: Vec<u64> = (0..Partitioner::HASHES.len()).map(count).collect();
    // A partitioner places a key's records together, so the verdict weighs each distinct
    // (key, partition) once: one busy key that a hash happens to place right is one lucky
    // key, not a third of the evidence.
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<u8> = keyed
        .iter()
        .zip(&hits)
        .filter(|(pair, _)| seen.insert(**pair))
        .map(|(_, h)| *h)
        .collect();
    let n_keys = distinct.len() as u64;
    let key_count = |bit: usize| distinct.iter().filter(|h| *h & (1 << bit) != 0).count() as u64;
    let key_counts: Vec<u64> = (0..Partitioner::HASHES.len()).map(key_count).collect();
    let share = |c: u64| if n == 0 { 0.0 } else { c as f64 / n as f64 };
    let candidates = Candidates {
        murmur2: share(counts[0]),
        crc32: share(counts[1]),
        fnv1a: share(counts[2]),
    };
    // Ties go to the earlier hash (murmur2, the Java default).
    let best_index = (0..key_counts.len())
        .max_by_key(|i| (key_counts[*i], counts[*i], std::cmp::Reverse(*i)))
        .unwrap_or(0);
    let best_hash = Partitioner::HASHES[best_index];
    let explained = share(counts[best_index]);
    let mut inference = Inference {
        partitions,
        sampled: n,
        null_keys,
        best: Verdict::Undetermined,
        explained,
        candidates,
        second: None,
        misplaced: Vec::new(),
        misplaced_records: 0,
        misplaced_keys: 0,
        verdict: String::new(),
    };
    if partitions <= 1 {
        inference.verdict = "one partition: every partitioner puts every key there".into();
        return inference;
    }
    // Even a hash explaining every key cannot beat chance by 5 standard errors with fewer
    // than 25/(partitions - 1) keys (26 on two partitions).
    if n_keys < MIN_RECORDS || !beats_chance(n_keys, n_keys, partitions) {
        inference.verdict =
            format!("too few distinct keys to tell ({n_keys} in {n} sampled keyed records)");
        return inference;
    }
    if !beats_chance(key_counts[best_index], n_keys, partitions) {
        inference.best = Verdict::Random;
        inference.verdict = format!(
            "no hash partitioner explains more than chance ({} for {}, chance {}): keys are \
             placed at random or by a partitioner freshlens does not know, so a lookup reads \
             every partition",
            percent(explained),
            best_hash.name(),
            percent(1.0 / f64::from(partitions)),
        );
        return inference;
    }
    inference.best = Verdict::of(best_hash);
    let best_bit = 1u8 << best_index;
    let rest: Vec<usize> = (0..hits.len())
        .filter(|i| hits[*i] & best_bit == 0)
        .collect();
    // The second producer: the other hash explaining the most of the rest, if more than chance
    // does and it is more than a handful of strays.
    let rest_n = rest.len() as u64;
    let rest_keys: Vec<u8> = distinct
        .iter()
        .copied()
        .filter(|h| h & best_bit == 0)
        .collect();
    let second = (0..Partitioner::HASHES.len())
        .filter(|i| *i != best_index)
        .map(|i| {
            let keys_i = rest_keys.iter().filter(|h| *h & (1 << i) != 0).count() as u64;
            let hits_i = rest.iter().filter(|r| hits[**r] & (1 << i) != 0).count() as u64;
            (i, keys_i, hits_i)
        })
        .max_by_key(|(i, keys_i, hits_i)| (*keys_i, *hits_i, std::cmp::Reverse(*i)))
        .filter(|(_, keys_i, _)| {
            *keys_i >= (n_keys / 100).max(10)
                && beats_chance(*keys_i, rest_keys.len() as u64, partitions)
        })
        .map(|(i, _, hits_i)| (i, hits_i));
    if let Some((i, hits_i)) = second {
        inference.second = Some(Second {
            partitioner: Partitioner::HASHES[i],
            explained: share(hits_i),
        });
    }
    let mut misplaced = BTreeSet::new();
    for index in &rest {
        let (key, partition) = keyed[*index];
        let explained_by = Partitioner::HASHES
            .iter()
            .enumerate()
            .find(|(i, _)| hits[*index] & (1 << i) != 0)
            .map(|(_, p)| p.name());
        misplaced.insert(Misplaced {
            key: String::from_utf8_lossy(key).into_owned(),
            partition,
            expected: best_hash.partition_of(key, partitions).unwrap_or(-1),
            explained_by,
        });
    }
    inference.misplaced_records = rest_n;
    inference.misplaced_keys = misplaced
        .iter()
        .map(|m| m.key.as_str())
        .collect::<BTreeSet<_>>()
        .len() as u64;
    inference.misplaced = misplaced.into_iter().take(MISPLACED_LISTED).collect();
    inference.verdict = match &inference.second {
        Some(second) => format!(
            "{} {}, {} {}: two producers disagree",
            percent(explained),
            best_hash.name(),
            percent(second.explained),
            second.partitioner.name()
        ),
        None if rest_n == 0 => format!(
            "{} explains every one of {n} sampled keyed records",
            best_hash.name()
        ),
        None => format!(
            "{} explains {} of {n} sampled keyed records; {} key(s) sit on a partition it \
             does not predict",
            best_hash.name(),
            percent(explained),
            inference.misplaced_keys
        ),
    };
    inference
}

/// The newest records of every partition of the topic `info` describes, about `n` in all
/// spread evenly: one scan, reading to the end the fetch finds.
pub fn sample(
    source: &dyn Source,
    info: &TopicInfo,
    n: usize,
    cancel: &CancelToken,
) -> Result<(i32, Vec<Record>), ClusterError> {
    let topic = info.name.as_str();
    let partitions = info.partitions.len() as i32;
    if partitions == 0 {
        return Ok((0, Vec::new()));
    }
    let per_partition = ((n as u64).div_ceil(partitions as u64) as i64).max(1);
    let request = ScanRequest {
        start: StartAt::Tail(per_partition),
        ..ScanRequest::new(topic)
    };
    let mut by_partition: BTreeMap<i32, Vec<Record>> = BTreeMap::new();
    source.scan(&request, cancel, &mut |event| {
        if let ScanEvent::Records(records) = event {
            for record in records {
                by_partition
                    .entry(record.partition)
                    .or_default()
                    .push(record);
            }
        }
        !cancel.is_cancelled()
    })?;
    // A broker whose low answer made the tail longer than asked keeps only the newest.
    let mut records = Vec::new();
    for (_, mut part) in by_partition {
        part.sort_by_key(|r| r.offset);
        let skip = part.len().saturating_sub(per_partition as usize);
        records.extend(part.into_iter().skip(skip));
    }
    Ok((partitions, records))
}

/// Samples the topic `info` describes and infers its partitioner.
pub fn infer_topic(
    source: &dyn Source,
    info: &TopicInfo,
    n: usize,
    cancel: &CancelToken,
) -> Result<Inference, ClusterError> {
    let (partitions, records) = sample(source, info, n, cancel)?;
    Ok(infer(
        records.iter().map(|r| (r.key.as_deref(), r.partition)),
        partitions,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| format!("cust-{i:05}").into_bytes())
            .collect()
    }

    fn placed_by(
        partitioner: Partitioner,
        keys: &[Vec<u8>],
        partitions: i32,
    ) -> Vec<(Vec<u8>, i32)> {
        keys.iter()
            .map(|k| (k.clone(), partitioner.partition_of(k, partitions).unwrap()))
            .collect()
    }

    fn run(placed: &[(Vec<u8>, i32)], partitions: i32) -> Inference {
        infer(
            placed.iter().map(|(k, p)| (Some(k.as_slice()), *p)),
            partitions,
        )
    }

    #[test]
    fn each_hash_is_recognised_with_nothing_misplaced() {
        for hash in Partitioner::HASHES {
            let inference = run(&placed_by(hash, &keys(2000), 12), 12);
            assert_eq!(inference.best.partitioner(), Some(hash));
            assert_eq!(inference.explained, 1.0);
            assert_eq!(inference.candidates.get(hash), 1.0);
            assert!(inference.second.is_none());
            assert_eq!(inference.misplaced_records, 0);
        }
    }

    #[test]
    fn random_placement_is_called_random() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let placed: Vec<_> = keys(5000)
            .into_iter()
            .map(|k| (k, rng.random_range(0..12)))
            .collect();
        let inference = run(&placed, 12);
        assert_eq!(inference.best, Verdict::Random);
        assert!(inference.misplaced.is_empty());
        assert!(
            inference.verdict.contains("chance"),
            "{}",
            inference.verdict
        );
    }

    #[test]
    fn two_producers_are_told_apart() {
        let all = keys(4000);
        let (java, go) = all.split_at(2880);
        let mut placed = placed_by(Partitioner::Murmur2, java, 12);
        placed.extend(placed_by(Partitioner::Crc32, go, 12));
        let inference = run(&placed, 12);
        assert_eq!(inference.best, Verdict::Murmur2);
        let second = inference.second.clone().expect("a second producer");
        assert_eq!(second.partitioner, Partitioner::Crc32);
        // crc32's records murmur2 happens to place right count for murmur2.
        let lucky = go
            .iter()
            .filter(|k| {
                Partitioner::Murmur2.partition_of(k, 12) == Partitioner::Crc32.partition_of(k, 12)
            })
            .count();
        assert_eq!(inference.explained, (2880 + lucky) as f64 / 4000.0);
        assert_eq!(second.explained, (1120 - lucky) as f64 / 4000.0);
        assert!(inference.verdict.ends_with("two producers disagree"));
        assert!(inference.verdict.starts_with("7"), "{}", inference.verdict);
    }

    #[test]
    fn a_few_strays_are_misplaced_not_a_second_producer() {
        let mut placed = placed_by(Partitioner::Fnv1a, &keys(1000), 6);
        for (key, partition) in placed.iter_mut().take(3) {
            *partition = (*partition + 1) % 6;
            let _ = key;
        }
        let inference = run(&placed, 6);
        assert_eq!(inference.best, Verdict::Fnv1a);
        assert!(inference.second.is_none());
        assert_eq!(inference.misplaced_keys, 3);
        let first = &inference.misplaced[0];
        assert_eq!(first.key, "cust-00000");
        assert_eq!(
            first.expected,
            Partitioner::Fnv1a.partition_of(b"cust-00000", 6).unwrap()
        );
        assert_eq!(first.partition, (first.expected + 1) % 6);
    }

    /// A partitioner freshlens does not know, with one busy key that murmur2 happens to place
    /// right: a third of the records, one key of many, not evidence.
    #[test]
    fn one_lucky_busy_key_does_not_name_a_hash() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut placed: Vec<(Vec<u8>, i32)> = keys(600)
            .into_iter()
            .map(|k| (k, rng.random_range(0..12)))
            .collect();
        let busy = b"busy".to_vec();
        let home = Partitioner::Murmur2.partition_of(&busy, 12).unwrap();
        placed.extend(std::iter::repeat_n((busy, home), 300));
        let inference = run(&placed, 12);
        assert_eq!(inference.best, Verdict::Random, "{}", inference.verdict);
        assert!(inference.candidates.murmur2 > 0.3);
    }

    /// On two partitions, 25 keys cannot show a hash beats chance by 5 standard errors.
    #[test]
    fn too_few_keys_for_two_partitions_is_undetermined_not_random() {
        let inference = run(&placed_by(Partitioner::Murmur2, &keys(22), 2), 2);
        assert_eq!(inference.best, Verdict::Undetermined);
        let inference = run(&placed_by(Partitioner::Murmur2, &keys(40), 2), 2);
        assert_eq!(inference.best, Verdict::Murmur2);
    }

    #[test]
    fn one_partition_or_few_records_decide_nothing() {
        assert_eq!(
            run(&placed_by(Partitioner::Murmur2, &keys(100), 1), 1).best,
            Verdict::Undetermined
        );
        assert_eq!(
            run(&placed_by(Partitioner::Murmur2, &keys(5), 12), 12).best,
            Verdict::Undetermined
        );
        let nulls = infer([(None, 0), (None, 3)], 12);
        assert_eq!((nulls.null_keys, nulls.sampled), (2, 0));
    }
}
