//! Topic ingest delay: how long records took from their event time to the broker, bucketed by
//! broker time with percentiles.

use crate::source::Source;
use serde::Serialize;
use serde_json::Value;

use crate::cluster::{CancelToken, ClusterError, ScanEvent, ScanRequest, StartAt};
use crate::profile::parse_event_time;

/// A bounded sample of a topic's records and their ingest delay over time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestSample {
    pub topic: String,
    /// Records with both times that went into the buckets.
    pub sampled: usize,
    /// Records in the window the sample stands for.
    pub stands_for: i64,
    pub buckets: Vec<DelayBucket>,
}

/// Samples up to `per_partition` records of each partition of `topic` within [since, until],
/// reading each record's event time at the JSON `pointer`.
pub fn sample_ingest(
    cluster: &dyn Source,
    topic: &str,
    pointer: &str,
    (since, until): (Option<i64>, Option<i64>),
    per_partition: u64,
    bucket_ms: i64,
    cancel: &CancelToken,
) -> Result<IngestSample, ClusterError> {
    let info = cluster.topic(topic)?;
    let mut samples = Vec::new();
    let mut stands_for = 0i64;
    for partition in &info.partitions {
        let mut request = ScanRequest::new(topic);
        request.partitions = Some(vec![partition.id]);
        request.start = since.map_or(StartAt::Beginning, StartAt::Timestamp);
        request.max_records = Some(per_partition);
        request.end_timestamp_ms = until;
        let summary = cluster.scan(&request, cancel, &mut |event| {
            if let ScanEvent::Records(records) = event {
                for record in records {
                    let event_ms = record
                        .value
                        .as_deref()
                        .and_then(|v| serde_json::from_slice::<Value>(v).ok())
                        .and_then(|v| v.pointer(pointer).and_then(parse_event_time));
                    if let (Some(broker_ms), Some(event_ms)) = (record.timestamp_ms, event_ms) {
                        samples.push((broker_ms, event_ms));
                    }
                }
            }
            !cancel.is_cancelled()
        })?;
        stands_for += summary.progress.to_scan as i64;
    }
    Ok(IngestSample {
        topic: topic.to_owned(),
        sampled: samples.len(),
        stands_for,
        buckets: ingest_buckets(&samples, bucket_ms),
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DelayBucket {
    pub start_ms: i64,
    pub count: u64,
    pub p50_ms: i64,
    pub p95_ms: i64,
    pub max_ms: i64,
}

/// Buckets (broker time, event time) pairs by broker time into `bucket_ms` wide buckets, oldest
/// first, with nearest-rank percentiles of broker time - event time.
pub fn ingest_buckets(samples: &[(i64, i64)], bucket_ms: i64) -> Vec<DelayBucket> {
    let bucket_ms = bucket_ms.max(1);
    let mut by_bucket: std::collections::BTreeMap<i64, Vec<i64>> =
        std::collections::BTreeMap::new();
    for &(broker_ms, event_ms) in samples {
        let start = broker_ms.div_euclid(bucket_ms) * bucket_ms;
        by_bucket
            .entry(start)
            .or_default()
            .push(broker_ms.saturating_sub(event_ms));
    }
    by_bucket
        .into_iter()
        .map(|(start_ms, mut delays)| {
            delays.sort_unstable();
            DelayBucket {
                start_ms,
                count: delays.len() as u64,
                p50_ms: nearest_rank(&delays, 50),
                p95_ms: nearest_rank(&delays, 95),
                max_ms: delays.last().copied().unwrap_or(0),
            }
        })
        .collect()
}

/// The nearest-rank percentile of sorted values: the smallest value with at least `pct`% of
/// the values at or below it.
pub fn nearest_rank(sorted: &[i64], pct: u32) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (u64::from(pct) * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<i64> = (1..=100).collect();
        assert_eq!(nearest_rank(&values, 50), 50);
        assert_eq!(nearest_rank(&values, 95), 95);
        assert_eq!(nearest_rank(&values, 100), 100);
        assert_eq!(nearest_rank(&[7], 95), 7);
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 50), 2);
        assert_eq!(nearest_rank(&[], 50), 0);
    }

    #[test]
    fn buckets_by_broker_minute() {
        // Minute 0: delays 1..=20 s; minute 1: one late event (5 min) and one on time.
        let mut samples: Vec<(i64, i64)> = (1..=20).map(|d| (30_000, 30_000 - d * 1_000)).collect();
        samples.push((61_000, 61_000 - 300_000));
        samples.push((119_999, 119_999));
        let buckets = ingest_buckets(&samples, 60_000);
        assert_eq!(
            buckets,
            vec![
                DelayBucket {
                    start_ms: 0,
                    count: 20,
                    p50_ms: 10_000,
                    p95_ms: 19_000,
                    max_ms: 20_000
                },
                DelayBucket {
                    start_ms: 60_000,
                    count: 2,
                    p50_ms: 0,
                    p95_ms: 300_000,
                    max_ms: 300_000
                },
            ]
        );
        assert!(ingest_buckets(&[], 60_000).is_empty());
    }
}
