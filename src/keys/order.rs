//! Order within a key: on its partition, records come in offset order; an event older than one
//! the same key already had there is an inversion, late by the difference.

use std::collections::HashMap;

use serde::Serialize;

/// Keys with the most inversions listed.
const WORST: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyInversions {
    pub key: String,
    pub partition: i32,
    pub inversions: u64,
    pub max_lateness_ms: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Order {
    /// Keys in the sample.
    pub keys: u64,
    pub keys_with_inversions: u64,
    pub inversions: u64,
    pub max_lateness_ms: i64,
    /// Where event times came from: the spec's `event_time` or the record timestamp.
    pub event_time: String,
    /// Sampled keyed records without a readable event time (not judged).
    pub undated: u64,
    pub worst: Vec<KeyInversions>,
}

/// One keyed record as the order check needs it.
pub struct Timed<'a> {
    pub key: &'a [u8],
    pub partition: i32,
    pub offset: i64,
    pub event_ms: Option<i64>,
}

/// Counts inversions per (key, partition) in offset order.
pub fn order(mut records: Vec<Timed<'_>>, event_time: &str) -> Order {
    records.sort_by_key(|r| (r.partition, r.offset));
    #[derive(Default)]
    struct Running {
        newest: Option<i64>,
        inversions: u64,
        max_lateness: i64,
    }
    let mut running: HashMap<(&[u8], i32), Running> = HashMap::new();
    let mut keys = std::collections::HashSet::new();
    let mut undated = 0;
    for record in &records {
        keys.insert(record.key);
        let Some(event_ms) = record.event_ms else {
            undated += 1;
            continue;
        };
        let state = running.entry((record.key, record.partition)).or_default();
        match state.newest {
            Some(newest) if event_ms < newest => {
                state.inversions += 1;
                state.max_lateness = state.max_lateness.max(newest - event_ms);
            }
            _ => state.newest = Some(event_ms),
        }
    }
    let mut worst: Vec<KeyInversions> = running
        .iter()
        .filter(|(_, s)| s.inversions > 0)
        .map(|((key, partition), s)| KeyInversions {
            key: String::from_utf8_lossy(key).into_owned(),
            partition: *partition,
            inversions: s.inversions,
            max_lateness_ms: s.max_lateness,
        })
        .collect();
    worst.sort_by(|a, b| {
        (b.inversions, b.max_lateness_ms)
            .cmp(&(a.inversions, a.max_lateness_ms))
            .then(a.key.cmp(&b.key))
    });
    let keys_with_inversions = worst
        .iter()
        .map(|w| w.key.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len() as u64;
    Order {
        keys: keys.len() as u64,
        keys_with_inversions,
        inversions: worst.iter().map(|w| w.inversions).sum(),
        max_lateness_ms: worst.iter().map(|w| w.max_lateness_ms).max().unwrap_or(0),
        event_time: event_time.to_owned(),
        undated,
        worst: worst.into_iter().take(WORST).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timed(key: &'static str, offset: i64, event_ms: i64) -> Timed<'static> {
        Timed {
            key: key.as_bytes(),
            partition: 0,
            offset,
            event_ms: Some(event_ms),
        }
    }

    #[test]
    fn an_event_older_than_one_before_it_is_an_inversion() {
        // a: 10, 30, 20 (late by 10), 25 (late by 5), 40; b: in order.
        let records = vec![
            timed("a", 0, 10),
            timed("b", 1, 5),
            timed("a", 2, 30),
            timed("a", 3, 20),
            timed("b", 4, 6),
            timed("a", 5, 25),
            timed("a", 6, 40),
        ];
        let order = order(records, "record timestamp");
        assert_eq!(order.keys, 2);
        assert_eq!(order.keys_with_inversions, 1);
        assert_eq!(order.inversions, 2);
        assert_eq!(order.max_lateness_ms, 10);
        assert_eq!(order.worst[0].key, "a");
    }

    #[test]
    fn the_same_key_on_two_partitions_is_judged_per_partition() {
        let mut late = timed("a", 0, 5);
        late.partition = 1;
        let order = order(vec![timed("a", 0, 10), late], "t");
        assert_eq!(order.inversions, 0);
    }
}
