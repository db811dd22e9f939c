//! A source topic's traffic now, from its newest records alone: the ingest delay (broker time
//! minus event time) of those in the recent window and the rate they were produced at. Reading
//! the last N records of each partition needs no lookup of offsets by time, which some brokers
//! answer wrongly (Tansu 0.6.0 answers offset 0), and costs the same on a topic of any size.

use std::collections::BTreeMap;

use crate::cluster::{CancelToken, ClusterError, ScanEvent, ScanRequest, StartAt};
use crate::profile::spec::Source as SourceSpec;
use crate::profile::{SourceDecoder, parse_event_time};
use crate::source::Source;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recent {
    /// Records in the window with both times (the delay's sample).
    pub in_window: usize,
    pub delay_p95_ms: Option<i64>,
    /// Records per second produced over the window (estimated where the newest records of a
    /// partition do not reach back to its start).
    pub per_sec: Option<f64>,
    /// Records read whose value could not be decoded or had no event time.
    pub undated: u64,
}

/// The newest `per_partition` records of every partition of `src`, judged over
/// [since, until]: one scan for all partitions.
pub fn recent(
    source: &dyn Source,
    src: &SourceSpec,
    decoder: &SourceDecoder,
    (since, until): (i64, i64),
    per_partition: i64,
    cancel: &CancelToken,
) -> Result<Recent, ClusterError> {
    let request = ScanRequest {
        start: StartAt::Tail(per_partition),
        ..ScanRequest::new(src.topic.clone())
    };
    let mut stamps: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    let mut delays = Vec::new();
    let mut undated = 0;
    source.scan(&request, cancel, &mut |event| {
        let ScanEvent::Records(records) = event else {
            return true;
        };
        for record in records {
            let Some(broker_ms) = record.timestamp_ms else {
                undated += 1;
                continue;
            };
            stamps.entry(record.partition).or_default().push(broker_ms);
            if broker_ms < since || broker_ms > until {
                continue;
            }
            let event_ms = src.event_time.as_deref().and_then(|pointer| {
                let bytes = record.value.as_deref()?;
                let value = decoder.decode(src, bytes).ok()?;
                value.pointer(pointer).and_then(parse_event_time)
            });
            match event_ms {
                Some(event_ms) => delays.push(broker_ms.saturating_sub(event_ms)),
                None => undated += 1,
            }
        }
        !cancel.is_cancelled()
    })?;
    delays.sort_unstable();
    Ok(Recent {
        in_window: delays.len(),
        delay_p95_ms: (!delays.is_empty()).then(|| super::nearest_rank(&delays, 95)),
        per_sec: produce_rate(&stamps, per_partition, (since, until)),
        undated,
    })
}

/// Records per second over [since, until] from each partition's newest broker times. A
/// partition whose newest records reach back before `since` (or that holds fewer than were
/// asked for) is counted exactly; one whose newest `per_partition` all fall in the window was
/// produced to at least that fast, and is estimated from the span they cover.
pub fn produce_rate(
    stamps: &BTreeMap<i32, Vec<i64>>,
    per_partition: i64,
    (since, until): (i64, i64),
) -> Option<f64> {
    let window_s = ((until - since) as f64 / 1000.0).max(1.0);
    if stamps.is_empty() {
        return None;
    }
    let rate = stamps
        .values()
        .map(|times| {
            let oldest = times.iter().copied().min().unwrap_or(until);
            let covered = (times.len() as i64) < per_partition || oldest < since;
            if covered {
                times
                    .iter()
                    .filter(|t| (since..=until).contains(*t))
                    .count() as f64
                    / window_s
            } else {
                let span_s = ((until - oldest) as f64 / 1000.0).max(1.0);
                times.len() as f64 / span_s
            }
        })
        .sum();
    Some(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_000_000_000;
    const WINDOW: (i64, i64) = (NOW - 300_000, NOW);

    #[test]
    fn a_partition_read_back_past_the_window_is_counted_exactly() {
        // 30 records in the window, one before it: 30 in 300 s.
        let mut times: Vec<i64> = (0..30).map(|i| NOW - i * 10_000).collect();
        times.push(NOW - 400_000);
        let stamps = BTreeMap::from([(0, times)]);
        assert_eq!(produce_rate(&stamps, 500, WINDOW), Some(0.1));
    }

    #[test]
    fn a_busy_partition_is_estimated_from_the_span_its_newest_records_cover() {
        // 100 records asked for, all in the last 50 s: 2 per second, not 100 / 300.
        let times: Vec<i64> = (0..100).map(|i| NOW - i * 500 - 500).collect();
        let stamps = BTreeMap::from([(0, times), (1, vec![NOW - 1_000])]);
        let rate = produce_rate(&stamps, 100, WINDOW).unwrap();
        assert!((rate - (2.0 + 1.0 / 300.0)).abs() < 1e-9, "{rate}");
    }

    #[test]
    fn an_idle_topic_has_no_rate_to_tell_and_a_quiet_one_has_zero() {
        assert_eq!(produce_rate(&BTreeMap::new(), 10, WINDOW), None);
        let quiet = BTreeMap::from([(0, vec![NOW - 3_600_000])]);
        assert_eq!(produce_rate(&quiet, 10, WINDOW), Some(0.0));
    }
}
