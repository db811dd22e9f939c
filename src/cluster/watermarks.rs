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
use rdkafka::error::KafkaError;
use rdkafka::{Message as _, Offset, TopicPartitionList};

use super::{Cluster, ClusterError};

/// How long a partition that delivered records is waited on for more of its last batch.
const SETTLE: Duration = Duration::from_millis(50);
/// How long a confirmation waits without progress (a record, or a partition's end) before
/// it gives up on the partitions still silent; all of it within the connection's timeout. An
/// idle limit, not a total: a loaded broker confirming a thousand partitions keeps going as
/// long as answers come (a total of 3 s once left a batched topic reading 4 records for 99).
const CONFIRM_IDLE: Duration = Duration::from_secs(3);

/// What a confirmation fetch proved.
#[derive(Debug, Default)]
pub(crate) struct Confirmed {
    /// One past the last record delivered, per partition.
    pub highs: HashMap<(String, i32), i64>,
    /// Partitions that delivered neither a record nor their end in time: their listed high
    /// watermark stands unconfirmed (and may be low, on a broker that lists batches).
    pub silent: HashSet<(String, i32)>,
}
/// The first step back from an offset whose batch began before it.
const FIRST_STEP: i64 = 64;

/// Where to ask for `want` first: the offset itself on a broker whose ListOffsets is the
/// high watermark, the last batch's base where ListOffsets lists that instead (`listed_high`
/// - 1, which on such a broker is where the last batch begins).
pub(crate) fn probe_start(want: i64, low: i64, listed_high: i64) -> i64 {
    want.min(listed_high - 1).max(low)
}

/// Where to ask next when a read asked at `tried` got its first record at `came`, past `want`:
/// further back by a growing step, never below `low`. The batch holding `want` ends just
/// before `came`, and batches of one producer are alike in size, so the step is at least four
/// times the distance to `came` (one step, mostly). `None` once `tried` is `low`: the record
/// at `want` is gone (compaction, a transaction marker), not in an earlier batch.
pub(crate) fn step_back(want: i64, tried: i64, came: i64, low: i64) -> Option<i64> {
    (tried > low).then(|| {
        let step = ((want - tried).max(came - want).max(0) * 4).max(FIRST_STEP);
        (tried - step).max(low)
    })
}

/// The partitions of `asked` that answered neither a record (`delivered`) nor that nothing
/// lies past their listed high (`answered_empty`).
fn silent<'a>(
    asked: impl Iterator<Item = &'a (String, i32)>,
    delivered: &HashMap<(String, i32), i64>,
    answered_empty: impl Fn(&(String, i32)) -> bool,
) -> HashSet<(String, i32)> {
    asked
        .filter(|k| !delivered.contains_key(*k) && !answered_empty(k))
        .cloned()
        .collect()
}

/// The high watermark from the latest fetch response, which librdkafka caches per partition.
pub(crate) fn cached_high_watermark(
    consumer: &super::Consumer,
    topic: &CString,
    partition: i32,
) -> Option<i64> {
    let (mut low, mut high) = (-1i64, -1i64);
    // SAFETY: the client pointer is live for the borrow of `consumer`, the topic is a valid C
    // string, and librdkafka only writes the two out-parameters.
    let err = unsafe {
        rdkafka::bindings::rd_kafka_get_watermark_offsets(
            consumer.client().native_ptr(),
            topic.as_ptr(),
            partition,
            &mut low,
            &mut high,
        )
    };
    (err == rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0)
        .then_some(high)
}

impl Cluster {
    /// Each partition's high watermark as the records prove it: one past the last record a
    /// fetch from `listed_high - 1` delivers (on a broker listing the last batch's base, that
    /// batch's records; on Kafka, the last record, so nothing changes). Delivered records, not
    /// the fetch's cached high watermark: under read_committed that is the high watermark, past
    /// the last stable offset ListOffsets rightly answers. Partitions that deliver nothing
    /// in time (no read permission, a broker too busy to answer) are named silent; one whose
    /// fetch reaches the end with no record (a transaction marker last) keeps its listed high,
    /// confirmed. `partitions` holds (topic, partition, listed high) with listed high > 0.
    pub(crate) fn fetched_highs(
        &self,
        partitions: &[(String, i32, i64)],
    ) -> Result<Confirmed, ClusterError> {
        let mut delivered: HashMap<(String, i32), i64> = HashMap::new();
        if partitions.is_empty() {
            return Ok(Confirmed::default());
        }
        let mut assignment = TopicPartitionList::new();
        for (topic, partition, listed) in partitions {
            assignment
                .add_partition_offset(topic, *partition, Offset::Offset(listed - 1))
                .map_err(|e| self.explain(e))?;
        }
        // A new client each time: the high watermark a client caches from its fetches is then
        // this fetch's answer, never an earlier one's (a kept client's would say "nothing past
        // the listed offset" for a partition that has grown since).
        let consumer = super::new_consumer(self.config())?;
        consumer.assign(&assignment).map_err(|e| self.explain(e))?;
        let listed: HashMap<(String, i32), i64> = partitions
            .iter()
            .map(|(t, p, l)| ((t.clone(), *p), *l))
            .collect();
        let names: HashMap<&str, CString> = partitions
            .iter()
            .filter_map(|(t, _, _)| Some((t.as_str(), CString::new(t.as_str()).ok()?)))
            .collect();
        // The fetch answered and nothing lies at or past the listed high's last offset (a
        // transaction marker last): the listed high stands, confirmed. librdkafka's end-of-
        // partition event cannot say this: it names the partition, not its topic.
        let answered_empty = |key: &(String, i32)| {
            let cached = names
                .get(key.0.as_str())
                .and_then(|name| cached_high_watermark(&consumer, name, key.1));
            matches!((cached, listed.get(key)), (Some(high), Some(l)) if high <= *l)
        };
        // When each partition last delivered a record.
        let mut heard: HashMap<(String, i32), Instant> = HashMap::new();
        let started = Instant::now();
        let deadline = started + self.config().timeout.max(CONFIRM_IDLE);
        let mut progress = started;
        loop {
            // Everything already fetched is taken in before the partitions are looked at.
            let mut polled = consumer.poll(Duration::from_millis(20));
            while let Some(result) = polled.take() {
                match result {
                    Ok(message) => {
                        let key = (message.topic().to_owned(), message.partition());
                        let next = message.offset() + 1;
                        let at = delivered.entry(key.clone()).or_insert(next);
                        *at = (*at).max(next);
                        progress = Instant::now();
                        heard.insert(key, progress);
                    }
                    // Some partition's end reached (see `answered_empty`): an answer.
                    Err(KafkaError::PartitionEOF(_)) => progress = Instant::now(),
                    Err(e) => log::debug!("confirming high watermarks: {e}"),
                }
                if Instant::now() >= deadline {
                    break;
                }
                polled = consumer.poll(Duration::ZERO);
            }
            let now = Instant::now();
            // Done when every partition delivered and has been quiet a moment (the rest of
            // a batch comes in the same response), or the budget is spent.
            let quiet = listed.keys().all(|k| match heard.get(k) {
                Some(at) => now.duration_since(*at) >= SETTLE,
                None => answered_empty(k),
            });
            if quiet || now >= deadline || now.duration_since(progress) >= CONFIRM_IDLE {
                break;
            }
        }
        let silent = silent(listed.keys(), &delivered, answered_empty);
        if !silent.is_empty() {
            log::warn!(
                "{} high watermark(s) not confirmed by a fetch within {:?}",
                silent.len(),
                started.elapsed()
            );
        }
        if delivered
            .iter()
            .any(|(k, high)| listed.get(k).is_some_and(|l| high > l))
        {
            self.lists_low
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(Confirmed {
            highs: delivered,
            silent,
        })
    }

    /// Whether this cluster was seen listing a high watermark below its records (so reads
    /// from an offset may need to step back; on Kafka a record past the offset asked for is
    /// a compaction or transaction gap, and stepping back would only re-read).
    pub(crate) fn lists_low(&self) -> bool {
        self.lists_low.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_that_answered_nothing_is_named_silent() {
        let asked = [
            ("a".to_owned(), 0),
            ("a".to_owned(), 1),
            ("b".to_owned(), 2),
        ];
        let delivered = HashMap::from([(("a".to_owned(), 0), 99)]);
        // b's partition 2 answered that nothing lies past its listed high: confirmed. a's
        // partition 2 would not say so for b's.
        let empty = |k: &(String, i32)| *k == ("b".to_owned(), 2);
        assert_eq!(
            silent(asked.iter(), &delivered, empty),
            HashSet::from([("a".to_owned(), 1)])
        );
        assert!(silent(asked.iter(), &delivered, |k| k.1 != 0).is_empty());
    }

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
        // The next batch begins right after the offset: at least the first step.
        assert_eq!(step_back(1_000, 1_000, 1_001, 0), Some(936));
        assert_eq!(step_back(1_000, 936, 1_001, 0), Some(680));
        assert_eq!(step_back(1_000, 680, 1_001, 0), Some(0));
        assert_eq!(step_back(1_000, 0, 1_001, 0), None);
        assert_eq!(step_back(100, 100, 101, 90), Some(90));
        assert_eq!(step_back(100, 90, 101, 90), None);
        // 500 records to the next batch: batches of about that size, one step covers it.
        assert_eq!(step_back(10_000, 10_000, 10_500, 0), Some(8_000));
    }
}
