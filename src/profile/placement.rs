//! Where a topic's keys are: the spec's partitioner, or with `partitioner = "auto"` the one
//! inferred from the topic's records, sampled once per topic for the session.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use super::infer::{DEFAULT_SAMPLE, Inference, Verdict, infer_topic};
use super::{Partitioner, Spec};
use crate::cluster::{CancelToken, ClusterError};
use crate::source::Source;

/// Which partitions of one topic a key's records can be in.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub partitions: i32,
    /// The hashes whose partitions are read; empty: every partition.
    pub by: Vec<Partitioner>,
    /// Why a lookup reads more than one hash's partition, or every partition.
    pub warning: Option<String>,
    /// Keys the sample found off the hash's partition: read where they were found too.
    pub strays: HashMap<Vec<u8>, Vec<i32>>,
}

impl Placement {
    /// The spec's own partitioner (`all` and an unresolved `auto` read every partition).
    pub fn fixed(partitioner: Partitioner, partitions: i32) -> Self {
        let by = match partitioner {
            Partitioner::All | Partitioner::Auto => Vec::new(),
            hash => vec![hash],
        };
        Self {
            partitions,
            by,
            warning: None,
            strays: HashMap::new(),
        }
    }

    /// The partitions to read for `key`, ascending.
    pub fn partitions_for(&self, key: &[u8]) -> Vec<i32> {
        if self.by.is_empty() {
            return (0..self.partitions.max(0)).collect();
        }
        let mut wanted: Vec<i32> = self
            .by
            .iter()
            .filter_map(|p| p.partition_of(key, self.partitions))
            .chain(self.strays.get(key).into_iter().flatten().copied())
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        wanted
    }

    /// How `auto` reads a topic given what was inferred of it.
    pub fn inferred(topic: &str, inference: &Inference) -> Self {
        let partitions = inference.partitions;
        match (inference.best.partitioner(), &inference.second) {
            (Some(best), None) => {
                let mut strays: HashMap<Vec<u8>, Vec<i32>> = HashMap::new();
                for m in &inference.misplaced {
                    strays
                        .entry(m.key.as_bytes().to_vec())
                        .or_default()
                        .push(m.partition);
                }
                let warning = (inference.misplaced_keys > 0).then(|| {
                    format!(
                        "{topic}: {} sampled key(s) sit on a partition {} does not put them in; \
                         a lookup reads where the sample found them, and would miss others like \
                         them (`freshlens keys -t {topic}` lists them)",
                        inference.misplaced_keys,
                        best.name()
                    )
                });
                Self {
                    partitions,
                    by: vec![best],
                    warning,
                    strays,
                }
            }
            (Some(_), Some(_)) => Self {
                partitions,
                by: Partitioner::HASHES.to_vec(),
                warning: Some(format!(
                    "{topic}: {}; reading the partitions every partitioner puts a key in",
                    inference.verdict
                )),
                strays: HashMap::new(),
            },
            (None, _) => Self {
                partitions,
                by: Vec::new(),
                warning: (inference.best == Verdict::Random)
                    .then(|| format!("{topic}: {}; reading every partition", inference.verdict)),
                strays: HashMap::new(),
            },
        }
    }
}

type CacheKey = (String, String, i32);

/// Inferences by (source, topic, partition count): a topic that grew is sampled again.
static INFERRED: LazyLock<Mutex<HashMap<CacheKey, Arc<Inference>>>> =
    LazyLock::new(Default::default);

/// The inferred partitioner of `topic`, sampled the first time it is asked for.
pub fn inferred(
    source: &dyn Source,
    topic: &str,
    cancel: &CancelToken,
) -> Result<Arc<Inference>, ClusterError> {
    let info = source.topic(topic)?;
    let key = (
        source.name(),
        topic.to_owned(),
        info.partitions.len() as i32,
    );
    if let Some(found) = INFERRED.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(found);
    }
    let inference = Arc::new(infer_topic(source, &info, DEFAULT_SAMPLE, cancel)?);
    // A cancelled sample is partial: used once, never kept.
    if !cancel.is_cancelled()
        && let Ok(mut cache) = INFERRED.lock()
    {
        cache.insert(key, inference.clone());
    }
    Ok(inference)
}

/// Where `topic`'s keys are under `partitioner`.
pub fn placement(
    source: &dyn Source,
    topic: &str,
    partitioner: Partitioner,
    cancel: &CancelToken,
) -> Result<Placement, ClusterError> {
    if partitioner == Partitioner::Auto {
        let inference = inferred(source, topic, cancel)?;
        return Ok(Placement::inferred(topic, &inference));
    }
    let partitions = source.topic(topic)?.partitions.len() as i32;
    Ok(Placement::fixed(partitioner, partitions))
}

/// Every source topic's placement under the spec.
pub fn placements(
    source: &dyn Source,
    spec: &Spec,
    cancel: &CancelToken,
) -> Result<HashMap<String, Placement>, ClusterError> {
    let mut all = HashMap::new();
    for src in &spec.sources {
        all.insert(
            src.topic.clone(),
            placement(source, &src.topic, spec.partitioner, cancel)?,
        );
    }
    Ok(all)
}

/// The source topics whose inferred partitioner is not the spec's: one sentence each, for a
/// warning beside a lookup. Nothing to say for `auto` (it follows the inference) or `all`.
pub fn disagreements(
    source: &dyn Source,
    spec: &Spec,
    cancel: &CancelToken,
) -> Result<Vec<String>, ClusterError> {
    if spec_hash(spec.partitioner).is_none() {
        return Ok(Vec::new());
    }
    let mut said = Vec::new();
    for src in &spec.sources {
        let inference = inferred(source, &src.topic, cancel)?;
        if let Some(line) = disagreement(&src.topic, spec.partitioner, &inference) {
            said.push(line);
        }
    }
    Ok(said)
}

/// For a lookup that found nothing in some of `topics` on the partitions the spec's hash names:
/// whether the sampled data says the keys live elsewhere (one sentence per such topic). The
/// sample is taken once per topic for the session, so a customer who simply has no orders
/// costs one tail read of that topic the first time.
pub fn disagreements_of_empty(
    source: &dyn Source,
    spec: &Spec,
    empty_topics: &[&str],
    cancel: &CancelToken,
) -> Result<Vec<String>, ClusterError> {
    if spec_hash(spec.partitioner).is_none() {
        return Ok(Vec::new());
    }
    let mut said = Vec::new();
    for topic in empty_topics {
        let inference = inferred(source, topic, cancel)?;
        if let Some(line) = disagreement(topic, spec.partitioner, &inference) {
            said.push(line);
        }
    }
    Ok(said)
}

fn spec_hash(partitioner: Partitioner) -> Option<Partitioner> {
    Partitioner::HASHES
        .contains(&partitioner)
        .then_some(partitioner)
}

/// What is wrong with reading `topic` by `spec_partitioner`, if anything.
pub fn disagreement(
    topic: &str,
    spec_partitioner: Partitioner,
    inference: &Inference,
) -> Option<String> {
    let spec_hash = spec_hash(spec_partitioner)?;
    let name = spec_hash.name();
    match (inference.best.partitioner(), &inference.second) {
        (Some(best), None) if best == spec_hash => None,
        (Some(_), Some(_)) => Some(format!(
            "{topic}: {} — the spec reads by {name} alone, so a lookup misses the other \
             producer's records (partitioner = \"auto\" reads both)",
            inference.verdict
        )),
        (Some(best), None) => Some(format!(
            "{topic} is written with {} ({:.0}% of sampled records), not the spec's {name} \
             ({:.0}%): lookups read the wrong partitions (set partitioner = \"{}\" or \"auto\")",
            best.name(),
            inference.explained * 100.0,
            inference.candidates.get(spec_hash) * 100.0,
            best.name(),
        )),
        (None, _) if inference.best == Verdict::Random => Some(format!(
            "{topic}: {} — the spec's {name} misses most of its records (partitioner = \
             \"all\" reads every partition)",
            inference.verdict
        )),
        (None, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::infer::infer;

    fn inference_of(hashes: &[(Partitioner, usize)], partitions: i32) -> Inference {
        let mut placed = Vec::new();
        let mut next = 0;
        for (hash, n) in hashes {
            for _ in 0..*n {
                let key = format!("id-{next}").into_bytes();
                next += 1;
                let partition = hash.partition_of(&key, partitions).unwrap();
                placed.push((key, partition));
            }
        }
        infer(
            placed.iter().map(|(k, p)| (Some(k.as_slice()), *p)),
            partitions,
        )
    }

    #[test]
    fn auto_reads_the_inferred_hash_or_every_candidate() {
        let crc = inference_of(&[(Partitioner::Crc32, 500)], 8);
        let placement = Placement::inferred("t", &crc);
        assert_eq!(placement.by, vec![Partitioner::Crc32]);
        assert_eq!(
            placement.partitions_for(b"k"),
            Partitioner::Crc32.partitions_for(b"k", 8)
        );
        assert!(placement.warning.is_none());

        let mixed = inference_of(&[(Partitioner::Murmur2, 700), (Partitioner::Fnv1a, 300)], 8);
        let placement = Placement::inferred("t", &mixed);
        assert_eq!(placement.by.len(), 3);
        let mut want: Vec<i32> = Partitioner::HASHES
            .iter()
            .filter_map(|p| p.partition_of(b"k", 8))
            .collect();
        want.sort_unstable();
        want.dedup();
        assert_eq!(placement.partitions_for(b"k"), want);
        assert!(
            placement
                .warning
                .unwrap()
                .contains("two producers disagree")
        );
    }

    #[test]
    fn auto_reads_a_sampled_stray_where_it_was_found() {
        let mut placed: Vec<(Vec<u8>, i32)> = (0..300)
            .map(|i| {
                let key = format!("id-{i}").into_bytes();
                let p = Partitioner::Murmur2.partition_of(&key, 8).unwrap();
                (key, p)
            })
            .collect();
        let stray_home = (Partitioner::Murmur2.partition_of(b"id-0", 8).unwrap() + 1) % 8;
        placed[0].1 = stray_home;
        let inference = infer(placed.iter().map(|(k, p)| (Some(k.as_slice()), *p)), 8);
        let placement = Placement::inferred("t", &inference);
        let mut want = vec![
            Partitioner::Murmur2.partition_of(b"id-0", 8).unwrap(),
            stray_home,
        ];
        want.sort_unstable();
        assert_eq!(placement.partitions_for(b"id-0"), want);
        assert!(
            placement
                .warning
                .as_ref()
                .unwrap()
                .contains("1 sampled key(s)")
        );
        assert_eq!(placement.partitions_for(b"id-1").len(), 1);
    }

    #[test]
    fn a_spec_partitioner_the_data_contradicts_is_named() {
        let crc = inference_of(&[(Partitioner::Crc32, 500)], 8);
        let said = disagreement("c360.orders", Partitioner::Murmur2, &crc).unwrap();
        assert!(said.contains("written with crc32"), "{said}");
        assert!(disagreement("c360.orders", Partitioner::Crc32, &crc).is_none());
        assert!(disagreement("c360.orders", Partitioner::All, &crc).is_none());
        assert_eq!(
            Placement::fixed(Partitioner::All, 3).partitions_for(b"x"),
            vec![0, 1, 2]
        );
    }
}
