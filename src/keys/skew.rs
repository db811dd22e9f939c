//! How evenly a topic's records spread: records per partition (watermarks), their max over
//! mean and Gini coefficient, and the keys that take the largest share of a sample.

use std::collections::HashMap;

use serde::Serialize;

use crate::cluster::{PartitionInfo, Record};

/// Hot keys listed.
const HOT_KEYS: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotKey {
    pub key: String,
    /// Its estimated share of the topic's records: each partition's sample stands for all the
    /// records of that partition (the sample takes as many from a small partition as from a
    /// big one).
    pub share: f64,
    /// Its records in the sample.
    pub records: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Skew {
    /// Records per partition, by partition id.
    pub records: Vec<i64>,
    pub max_over_mean: f64,
    /// 0: every partition holds the same; towards 1: one partition holds everything.
    pub gini: f64,
    pub hot_keys: Vec<HotKey>,
    /// Partitions whose records were read past the high watermark the broker reported (Tansu
    /// reports it low for batches of several records): their count is what was read.
    pub read_past_high: u32,
}

/// The Gini coefficient of `values` (0 for none or all zero).
pub fn gini(values: &[i64]) -> f64 {
    let total: i64 = values.iter().sum();
    if values.is_empty() || total <= 0 {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len() as f64;
    let weighted: f64 = sorted
        .iter()
        .enumerate()
        .map(|(i, x)| (i as f64 + 1.0) * *x as f64)
        .sum();
    (2.0 * weighted) / (n * total as f64) - (n + 1.0) / n
}

/// Records per partition: the watermarks' span, or further where the sample read past a high
/// watermark a broker reported low (Tansu 0.6.0 does for batches of several records).
pub fn records_per_partition(partitions: &[PartitionInfo], sample: &[Record]) -> Vec<i64> {
    let mut read_to: HashMap<i32, i64> = HashMap::new();
    for record in sample {
        let end = read_to.entry(record.partition).or_insert(0);
        *end = (*end).max(record.offset + 1);
    }
    let mut sorted: Vec<&PartitionInfo> = partitions.iter().collect();
    sorted.sort_by_key(|p| p.id);
    sorted
        .iter()
        .map(|p| {
            let high = p.high.max(read_to.get(&p.id).copied().unwrap_or(0));
            (high - p.low.max(0)).max(0)
        })
        .collect()
}

pub fn skew(partitions: &[PartitionInfo], sample: &[Record]) -> Skew {
    let records = records_per_partition(partitions, sample);
    // In partition order, as `records` is.
    let mut by_id: Vec<&PartitionInfo> = partitions.iter().collect();
    by_id.sort_by_key(|p| p.id);
    let read_past_high = by_id
        .iter()
        .zip(&records)
        .filter(|(p, n)| **n > (p.high - p.low.max(0)).max(0))
        .count() as u32;
    let total: i64 = records.iter().sum();
    let mean = total as f64 / records.len().max(1) as f64;
    let max = records.iter().copied().max().unwrap_or(0);
    let mut sampled: HashMap<i32, u64> = HashMap::new();
    for record in sample {
        *sampled.entry(record.partition).or_default() += 1;
    }
    // What one sampled record of each partition stands for, and all the records they stand for.
    let weight: HashMap<i32, f64> = by_id
        .iter()
        .zip(&records)
        .filter_map(|(p, n)| {
            let taken = *sampled.get(&p.id)?;
            Some((p.id, *n as f64 / taken as f64))
        })
        .collect();
    let stood_for: f64 = by_id
        .iter()
        .zip(&records)
        .filter(|(p, _)| sampled.contains_key(&p.id))
        .map(|(_, n)| *n as f64)
        .sum::<f64>()
        .max(1.0);
    let mut per_key: HashMap<&[u8], (f64, u64)> = HashMap::new();
    for record in sample {
        if let Some(key) = record.key.as_deref() {
            let entry = per_key.entry(key).or_default();
            entry.0 += weight.get(&record.partition).copied().unwrap_or(0.0);
            entry.1 += 1;
        }
    }
    let mut hot: Vec<(&[u8], (f64, u64))> = per_key.into_iter().collect();
    hot.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then(a.0.cmp(b.0)));
    let hot_keys = hot
        .into_iter()
        .take(HOT_KEYS)
        .map(|(key, (estimated, n))| HotKey {
            key: String::from_utf8_lossy(key).into_owned(),
            share: estimated / stood_for,
            records: n,
        })
        .collect();
    Skew {
        max_over_mean: if mean > 0.0 { max as f64 / mean } else { 0.0 },
        gini: gini(&records),
        records,
        hot_keys,
        read_past_high,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gini_is_zero_when_even_and_grows_with_concentration() {
        assert_eq!(gini(&[5, 5, 5, 5]), 0.0);
        assert_eq!(gini(&[]), 0.0);
        // One of four holds everything: (n-1)/n.
        assert!((gini(&[0, 0, 0, 8]) - 0.75).abs() < 1e-12);
        // 1,2,3,4: 2*(1+4+9+16)/(4*10) - 5/4 = 0.25.
        assert!((gini(&[4, 1, 3, 2]) - 0.25).abs() < 1e-12);
    }

    fn partition(id: i32, low: i64, high: i64) -> PartitionInfo {
        PartitionInfo {
            id,
            leader: 0,
            replicas: vec![],
            isr: vec![],
            low,
            high,
            listed_high: high,
            high_confirmed: true,
            error: None,
        }
    }

    fn record(partition: i32, offset: i64, key: &str) -> Record {
        Record {
            topic: "t".into(),
            partition,
            offset,
            timestamp_ms: None,
            timestamp_kind: crate::cluster::TimestampKind::NotAvailable,
            key: Some(key.as_bytes().to_vec()),
            value: None,
            headers: vec![],
        }
    }

    #[test]
    fn a_high_watermark_read_low_is_corrected_by_what_was_read() {
        let parts = [partition(1, 0, 4), partition(0, 2, 10)];
        let sample = [record(1, 6, "a"), record(0, 9, "b"), record(1, 5, "a")];
        let skew = skew(&parts, &sample);
        assert_eq!(skew.records, vec![8, 7]);
        assert_eq!(skew.read_past_high, 1);
        assert!((skew.max_over_mean - 8.0 / 7.5).abs() < 1e-12);
        // b's one sampled record stands for partition 0's 8, a's two for partition 1's 7.
        assert_eq!(skew.hot_keys[0].key, "b");
        assert!((skew.hot_keys[0].share - 8.0 / 15.0).abs() < 1e-12);
        assert!((skew.hot_keys[1].share - 7.0 / 15.0).abs() < 1e-12);
    }
}
