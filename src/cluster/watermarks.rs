//! A partition's watermarks as one answer for every view, and reads that start inside a batch.
//!
//! Kafka's ListOffsets(latest) is the high watermark. Some brokers (Tansu 0.6) answer the last
//! batch's base offset + 1 instead, which reads low as soon as producers batch several records,
//! as real ones do; the fetch response carries the real high watermark. So the high
//! watermark every view shows is the higher of the two: ListOffsets', raised by a fetch of
//! the last listed offset.
//!
//! The same brokers answer a fetch from an offset inside a batch with the batches that *start*
//! at or after it, so the rest of that batch never arrives (Kafka returns the whole batch and
//! the client drops what precedes the offset). A read from an offset therefore starts at
//! [`probe_start`] and, where the first record it gets lies past the offset wanted, steps back
//! ([`step_back`]) until the batch holding that offset comes back.

use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer as _;
use rdkafka::{Message as _, Offset, TopicPartitionList};

use super::{Cluster, ClusterError};

/// How long partitions that answered without a record (a transaction marker last on Kafka)
/// are waited for once every other partition has answered.
const SETTLE: Duration = Duration::from_millis(250);
/// The first step back from an offset whose batch began before it.
const FIRST_STEP: i64 = 64;

/// Where to ask for `want` first: the offset itself on a broker whose ListOffsets is the
/// high watermark, the last batch's base where ListOffsets lists that instead (`listed_high`
/// - 1, which on such a broker is where the last batch begins).
pub(crate) fn probe_start(want: i64, low: i64, listed_high: i64) -> i64 {
    want.min(listed_high - 1).max(low)
}

/// Where to ask next when a read asked at `tried` got a first record past `want`: further
/// back by a growing step, never below `low`. `None` once `tried` is `low`: the record at
/// `want` is gone (compaction, a transaction marker), not in an earlier batch.
pub(crate) fn step_back(want: i64, tried: i64, low: i64) -> Option<i64> {
    (tried > low).then(|| {
        let step = ((want - tried).max(0) * 4).max(FIRST_STEP);
        (tried - step).max(low)
    })
}

impl Cluster {
    /// The high watermark of each partition asked for as the fetch response carries it, asked
    /// for at `listed_high - 1`; partitions whose fetch did not answer within the timeout are
    /// left out. `partitions` holds (topic, partition, listed high) with listed high > 0.
    pub(crate) fn fetched_highs(
        &self,
        partitions: &[(String, i32, i64)],
    ) -> Result<HashMap<(String, i32), i64>, ClusterError> {
        let mut answers = HashMap::new();
        if partitions.is_empty() {
            return Ok(answers);
        }
        let mut assignment = TopicPartitionList::new();
        for (topic, partition, listed) in partitions {
            assignment
                .add_partition_offset(topic, *partition, Offset::Offset(listed - 1))
                .map_err(|e| self.explain(e))?;
        }
        // One client kept for these reads; a record it brings back is from a fetch made after
        // this assignment, so the high watermark cached with it is current.
        // Kept by the topics it confirmed: a client asked about a topic it has not seen waits
        // for a metadata refresh (up to a second) before it fetches, a new one does not.
        let mut topics: Vec<&str> = partitions.iter().map(|(t, _, _)| t.as_str()).collect();
        topics.sort_unstable();
        topics.dedup();
        let pool_key = topics.join("\u{0}");
        let consumer = match self.confirmers.take(&pool_key) {
            Some(consumer) => consumer,
            None => super::new_consumer(self.config())?,
        };
        consumer.assign(&assignment).map_err(|e| self.explain(e))?;
        let names: HashMap<&str, CString> = partitions
            .iter()
            .filter_map(|(t, _, _)| Some((t.as_str(), CString::new(t.as_str()).ok()?)))
            .collect();
        let high_of = |topic: &str, partition: i32| {
            names
                .get(topic)
                .and_then(|name| super::scan::cached_high_watermark(&consumer, name, partition))
        };
        let mut pending: HashSet<(String, i32)> =
            partitions.iter().map(|(t, p, _)| (t.clone(), *p)).collect();
        let deadline = Instant::now() + self.config().timeout;
        let mut settle_from: Option<Instant> = None;
        while !pending.is_empty()
            && Instant::now() < deadline
            && settle_from.is_none_or(|at| at.elapsed() < SETTLE)
        {
            match consumer.poll(Duration::from_millis(20)) {
                Some(Ok(message)) => {
                    pending.remove(&(message.topic().to_owned(), message.partition()));
                }
                Some(Err(e)) => log::debug!("confirming high watermarks: {e}"),
                None => {}
            }
            // What remains has a fetch answer without a record (a transaction marker last):
            // a moment more for a record, then the cached high watermark stands.
            if settle_from.is_none() && pending.iter().all(|(t, p)| high_of(t, *p).is_some()) {
                settle_from = Some(Instant::now());
            }
        }
        if !pending.is_empty() {
            log::debug!(
                "high watermarks answered without a record: {:?}",
                pending
                    .iter()
                    .map(|(t, p)| ((t, p), high_of(t, *p)))
                    .collect::<Vec<_>>()
            );
        }
        for (topic, partition, _) in partitions {
            if let Some(high) = high_of(topic, *partition) {
                answers.insert((topic.clone(), *partition), high);
            }
        }
        if consumer.unassign().is_ok() {
            self.confirmers.put(&pool_key, consumer);
        }
        Ok(answers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broker_listing_the_real_high_is_asked_at_the_offset_itself() {
        // Kafka: the listed high is the high watermark, so want < listed_high always.
        assert_eq!(probe_start(500, 0, 1_000), 500);
        assert_eq!(probe_start(999, 0, 1_000), 999);
        assert_eq!(probe_start(0, 0, 1), 0);
    }

    #[test]
    fn an_offset_in_the_last_batch_is_asked_at_that_batch_base() {
        // Tansu: the last batch starts at 1,200 and holds 1,200..1,450; ListOffsets says 1,201.
        assert_eq!(probe_start(1_300, 0, 1_201), 1_200);
        assert_eq!(probe_start(1_449, 0, 1_201), 1_200);
        // Never below the low watermark.
        assert_eq!(probe_start(5, 10, 8), 10);
    }

    #[test]
    fn steps_back_grow_and_stop_at_the_low_watermark() {
        assert_eq!(step_back(1_000, 1_000, 0), Some(936));
        assert_eq!(step_back(1_000, 936, 0), Some(680));
        assert_eq!(step_back(1_000, 680, 0), Some(0));
        assert_eq!(step_back(1_000, 0, 0), None);
        assert_eq!(step_back(100, 100, 90), Some(90));
        assert_eq!(step_back(100, 90, 90), None);
    }
}
