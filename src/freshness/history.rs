//! Lag history while freshlens runs: a bounded ring of samples per partition, and the Burrow
//! status of each partition over a sliding window of them.

use std::collections::{HashMap, VecDeque};

use super::interpolate::OffsetTimeTable;
use super::lag::GroupLag;
use super::status::{Sample, evaluate};

/// Points kept per partition for interpolating time lag.
const TABLE_POINTS: usize = 120;

#[derive(Debug, Clone)]
pub struct LagHistory {
    capacity: usize,
    rings: HashMap<(String, String, i32), VecDeque<Sample>>,
    /// Sampled high watermarks per topic partition, shared by every group reading it.
    watermarks: HashMap<(String, i32), OffsetTimeTable>,
}

impl LagHistory {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(2),
            rings: HashMap::new(),
            watermarks: HashMap::new(),
        }
    }

    /// Adds this look at the group as a sample of each of its partitions.
    pub fn record(&mut self, lag: &GroupLag, now_ms: i64) {
        for p in &lag.partitions {
            self.watermarks
                .entry((p.topic.clone(), p.partition))
                .or_insert_with(|| OffsetTimeTable::new(TABLE_POINTS))
                .add(p.high, now_ms);
            let ring = self
                .rings
                .entry((lag.group.clone(), p.topic.clone(), p.partition))
                .or_insert_with(|| VecDeque::with_capacity(self.capacity));
            if ring.len() == self.capacity {
                ring.pop_front();
            }
            ring.push_back(Sample {
                at_ms: now_ms,
                committed: p.committed,
                lag: p.lag,
                commit_ms: p.last_commit_ms,
            });
        }
    }

    pub fn samples(&self, group: &str, topic: &str, partition: i32) -> Option<&VecDeque<Sample>> {
        self.rings
            .get(&(group.to_owned(), topic.to_owned(), partition))
    }

    /// Sets each partition's status from its samples within `window_ms`, and its estimated time
    /// lag from the sampled watermarks; then the group's status and totals.
    pub fn apply_status(&self, lag: &mut GroupLag, now_ms: i64, window_ms: i64) {
        for p in &mut lag.partitions {
            if let Some(table) = self.watermarks.get(&(p.topic.clone(), p.partition)) {
                p.estimated_time_lag_ms =
                    table.time_lag_ms(p.committed.unwrap_or(p.low), p.high, now_ms);
            }
            if let Some(ring) = self.samples(&lag.group, &p.topic, p.partition) {
                let samples: Vec<Sample> = ring.iter().copied().collect();
                p.status = evaluate(&samples, now_ms, window_ms);
            }
        }
        lag.summarize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freshness::{PartitionLag, Status};

    fn look(committed: i64, high: i64) -> GroupLag {
        GroupLag {
            group: "g".into(),
            state: "Stable".into(),
            status: Status::Ok,
            lag: 0,
            max_time_lag_ms: None,
            partitions: vec![PartitionLag {
                topic: "t".into(),
                partition: 0,
                committed: Some(committed),
                low: 0,
                high,
                lag: high - committed,
                time_lag_ms: None,
                estimated_time_lag_ms: None,
                status: Status::Ok,
                last_commit_ms: None,
                topic_deleted: false,
            }],
        }
    }

    #[test]
    fn ring_is_bounded_and_feeds_the_status() {
        let mut history = LagHistory::new(3);
        for (i, high) in [20, 30, 40, 50].into_iter().enumerate() {
            history.record(&look(10, high), i as i64 * 5_000);
        }
        assert_eq!(history.samples("g", "t", 0).unwrap().len(), 3);
        let mut now = look(10, 50);
        history.apply_status(&mut now, 15_000, 60_000);
        assert_eq!(now.status, Status::Stall);
        assert_eq!(now.lag, 40);
        // The high watermark passed offset 10 before the first sample; interpolating back from
        // 20 at 0 s and 30 at 5 s puts it at -5 s, 20 s before "now" (15 s).
        assert_eq!(now.partitions[0].estimated_time_lag_ms, Some(20_000));
    }
}
