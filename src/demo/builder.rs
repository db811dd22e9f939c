//! The built-in profile builder: consumes the source partitions a little behind, folds each
//! customer's applied events with the same rules freshlens uses, and writes a store version per
//! customer per batch, committing its offsets at the end of every batch. It is deliberately
//! imperfect: two partitions stalled for the last two hours ("not consumed yet"; the builder
//! keeps committing the same offset there, as a Java consumer does for a partition it is stuck
//! on) and some consent revocations read but dropped ("consumed but not applied").

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde_json::json;

use super::DemoConfig;
use super::placed::Placed;
use super::workload::{CLICKS, ORDERS, SOURCES};
use crate::profile::{Event, Refold, Spec};

/// How far the stalled partitions are behind at the end of the window: longer than ten
/// 10-minute commits, so Burrow's rules see a whole window of commits at one offset.
pub const STALL_MS: i64 = 2 * 3_600_000;

/// Why a customer's stored profile is behind, by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Behind {
    /// An event on a stalled partition, older than the freshness budget.
    Stalled,
    /// A consent change the builder read and dropped.
    Dropped,
}

/// (customer id, store version value as JSON bytes, write time).
pub type Version = (String, Vec<u8>, i64);

/// One customer's versions, and why its store is behind if it is.
type CustomerBuilt = (Vec<Version>, Option<(usize, Behind)>);

pub fn stalled(config: &DemoConfig, source: usize, partition: i32) -> bool {
    let n = config.partitions.max(1);
    (source == ORDERS && partition == 3 % n) || (source == CLICKS && partition == 7 % n)
}

/// When the builder consumes `e`: the end of the first batch after it reached the broker plus
/// the partition's consumer lag; `None` when it has not yet.
fn consumed_at(config: &DemoConfig, e: &Placed) -> Option<i64> {
    let end = config.end_ms;
    let start = end - config.span_ms;
    if stalled(config, e.event.source, e.partition) && e.event.broker_ms > end - STALL_MS {
        return None;
    }
    let lag = 5_000 + (e.partition as i64 * 7_919 + e.event.source as i64 * 104_729) % 40_000;
    let batch = config.batch_ms.max(1_000);
    let ready = catch_up(config, e.event.broker_ms + lag) - start;
    let at = start + (ready + batch - 1).div_euclid(batch) * batch;
    (at <= end).then_some(at)
}

/// When the builder reaches what the broker had at `at`: at once, except through the burst. It
/// reads the burst's five minutes in twenty-five (its lag growing past the budget), then the
/// backlog at five times the usual pace, back on time thirty minutes after the burst began.
pub fn catch_up(config: &DemoConfig, at: i64) -> i64 {
    let (from, to) = super::workload::burst_window(config);
    let burst = to - from;
    let slow_until = from + 5 * burst;
    let back = from + 6 * burst;
    if at < from || at >= back {
        at
    } else if at < to {
        from + (at - from) * 5
    } else {
        slow_until + (at - to) / 5
    }
}

/// The builder group's committed offset per source (topic, partition).
pub type Committed = BTreeMap<(String, i32), i64>;

/// When the builder consumed each placed event (by index; `None`: not yet), and the offsets it
/// committed per source partition.
pub fn consume(config: &DemoConfig, placed: &[Placed]) -> (Vec<Option<i64>>, Committed) {
    let consumed: Vec<Option<i64>> = placed.iter().map(|e| consumed_at(config, e)).collect();
    // By source index, not topic name: a String per event is most of the cost here.
    let mut committed: HashMap<(usize, i32), i64> = HashMap::new();
    let mut high: HashMap<(usize, i32), i64> = HashMap::new();
    for (e, at) in placed.iter().zip(&consumed) {
        let tp = (e.event.source, e.partition);
        let h = high.entry(tp).or_insert(0);
        *h = (*h).max(e.offset + 1);
        if at.is_none() {
            let c = committed.entry(tp).or_insert(i64::MAX);
            *c = (*c).min(e.offset);
        }
    }
    let committed: BTreeMap<(String, i32), i64> = high
        .into_iter()
        .map(|((source, partition), h)| {
            let c = committed.get(&(source, partition)).copied().unwrap_or(h);
            ((config.topic(SOURCES[source]), partition), c.min(h))
        })
        .collect();
    (consumed, committed)
}

/// Each customer's placed events (indices), in customer order.
pub fn by_customer(placed: &[Placed]) -> Vec<(usize, Vec<usize>)> {
    let mut by_customer: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, e) in placed.iter().enumerate() {
        by_customer.entry(e.event.customer).or_default().push(i);
    }
    let mut customers: Vec<(usize, Vec<usize>)> = by_customer.into_iter().collect();
    customers.sort_by_key(|(c, _)| *c);
    customers
}

/// Why a customer's store is behind by construction, if it is.
pub fn behind(
    config: &DemoConfig,
    budget_ms: i64,
    placed: &[Placed],
    consumed: &[Option<i64>],
    indices: &[usize],
) -> Option<Behind> {
    let mut behind = None;
    for &i in indices {
        match consumed[i] {
            Some(_) if placed[i].event.skipped => {
                behind.get_or_insert(Behind::Dropped);
            }
            None if placed[i].event.broker_ms < config.end_ms - budget_ms => {
                behind = Some(Behind::Stalled);
            }
            _ => {}
        }
    }
    behind
}

/// The store versions of `customers`, and why each one's store is behind if it is.
pub fn build(
    config: &DemoConfig,
    spec: &Spec,
    placed: &[Placed],
    consumed: &[Option<i64>],
    customers: &[(usize, Vec<usize>)],
) -> (Vec<Version>, Vec<(usize, Behind)>) {
    let budget_ms = spec.budget.ms();
    let results: Vec<CustomerBuilt> = customers
        .par_iter()
        .map(|(customer, indices)| {
            let id = super::workload::customer_id(*customer);
            let mut batches: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
            for &i in indices {
                if let Some(at) = consumed[i].filter(|_| !placed[i].event.skipped) {
                    batches.entry(at).or_default().push(i);
                }
            }
            let behind = behind(config, budget_ms, placed, consumed, indices);
            let mut profile = Refold::new(spec);
            let mut versions = Vec::with_capacity(batches.len());
            let mut watermark = i64::MIN;
            for (at, new) in batches {
                let fresh: Vec<Event> = new.iter().map(|&i| placed[i].to_event()).collect();
                watermark = fresh.iter().map(|e| e.event_ms).fold(watermark, i64::max);
                let fields = profile.add(fresh);
                // Writing takes the builder a moment after its batch closes.
                let written = at + (*customer as i64 * 37 + at / 1_000) % 2_000;
                let value = json!({
                    "customer_id": id, "profile": fields, "updated_at": written,
                    "watermark": watermark,
                });
                versions.push((
                    id.clone(),
                    serde_json::to_vec(&value).unwrap_or_default(),
                    written,
                ));
            }
            (versions, behind.map(|b| (*customer, b)))
        })
        .collect();
    let mut versions = Vec::new();
    let mut behind = Vec::new();
    for (v, b) in results {
        versions.extend(v);
        behind.extend(b);
    }
    (versions, behind)
}
