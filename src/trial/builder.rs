//! The trial's live profile builder: a group member that reads the source topics, folds each
//! customer's events with the spec's rules, writes the customer's new profile to the store
//! topic, waits for the store's acknowledgement, then commits. Each source record's latency is
//! its produce time (CreateTime) to the acknowledgement of the store version carrying it.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cluster::Record;
use crate::cluster::write::{Outgoing, Writer};
use crate::profile::{Event, Refold, SourceDecoder, Spec, parse_event_time};
use crate::time::now_ms;

/// One applied source record: when its store version was acknowledged, and its latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub at_ms: i64,
    pub latency_ms: i64,
}

/// What the builder shares with the run while it works.
#[derive(Debug, Default)]
pub struct BuilderState {
    pub applied: Mutex<Vec<Applied>>,
    /// Records read that did not decode (still committed past: a real builder dead-letters).
    pub undecodable: Mutex<u64>,
    /// The last error the builder met, if it is failing now.
    pub failing: Mutex<Option<String>>,
}

pub struct BuilderSetup {
    pub spec: Spec,
    pub group: String,
    pub store: String,
    pub sources: Vec<String>,
}

/// How much the builder takes per fold-and-write round.
const BATCH: usize = 2_000;
const BATCH_WAIT: Duration = Duration::from_millis(50);

/// Runs until `stop`, applying what it reads.
pub fn run(writer: &Writer, setup: &BuilderSetup, state: &BuilderState, stop: &AtomicBool) {
    let decoder = match SourceDecoder::new(&setup.spec, None) {
        Ok(d) => d,
        Err(e) => {
            *state.failing.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
            return;
        }
    };
    let fail = |e: String| {
        *state.failing.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
    };
    let member = match writer.join(&setup.group, &setup.sources, &[]) {
        Ok(m) => m,
        Err(e) => return fail(format!("cannot join {}: {e}", setup.group)),
    };
    let store = match writer.acked_producer(&[("linger.ms", "5"), ("acks", "all")]) {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot write the store: {e}")),
    };
    let (store, acks) = store;
    let mut folds: HashMap<String, Refold<'_>> = HashMap::new();
    let mut alias: HashMap<String, String> = HashMap::new();
    let mut next_id = 0_u64;
    while !stop.load(Ordering::Relaxed) {
        let mut batch: Vec<Record> = Vec::new();
        let started = Instant::now();
        while batch.len() < BATCH && started.elapsed() < BATCH_WAIT {
            match member.poll(Duration::from_millis(10)) {
                Some(Ok(record)) => batch.push(record),
                Some(Err(e)) => {
                    fail(format!("reading the sources: {e}"));
                    break;
                }
                None if !batch.is_empty() => break,
                None => {}
            }
        }
        if batch.is_empty() {
            continue;
        }
        // Customer → its new events and the produce times of the records behind them.
        let mut touched: BTreeMap<String, (Vec<Event>, Vec<i64>)> = BTreeMap::new();
        let mut positions: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for record in &batch {
            positions.insert((record.topic.clone(), record.partition), record.offset + 1);
            let produced = record.timestamp_ms.unwrap_or_else(now_ms);
            let (Some(source), Some(key)) = (setup.spec.source(&record.topic), &record.key) else {
                continue;
            };
            let key = String::from_utf8_lossy(key).into_owned();
            let value = match record.value.as_deref().map(|v| decoder.decode(source, v)) {
                Some(Ok(value)) => value,
                _ => {
                    *state.undecodable.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                    continue;
                }
            };
            for link in &source.links {
                if let Some(Value::String(linked)) = value.pointer(link) {
                    alias.insert(linked.clone(), key.clone());
                }
            }
            let customer = alias.get(&key).cloned().unwrap_or_else(|| key.clone());
            let event_ms = source
                .event_time
                .as_deref()
                .and_then(|p| value.pointer(p))
                .and_then(parse_event_time)
                .unwrap_or(produced);
            let entry = touched.entry(customer).or_default();
            entry.0.push(Event {
                topic: record.topic.clone(),
                partition: record.partition,
                offset: record.offset,
                broker_ms: produced,
                event_ms,
                id: key,
                value: Arc::new(value),
                schema_id: None,
            });
            entry.1.push(produced);
        }
        let mut waiting: HashMap<u64, Vec<i64>> = HashMap::new();
        for (customer, (events, produced)) in touched {
            let fields = folds
                .entry(customer.clone())
                .or_insert_with(|| Refold::new(&setup.spec))
                .add(events);
            let profile = json!({"customer": customer, "fields": fields}).to_string();
            let sent = store.send(
                next_id,
                Outgoing {
                    topic: &setup.store,
                    partition: -1,
                    timestamp_ms: None,
                    key: Some(customer.as_bytes()),
                    value: Some(profile.as_bytes()),
                },
                &[],
            );
            if let Err(e) = sent {
                fail(format!("writing the store: {e}"));
                continue;
            }
            waiting.insert(next_id, produced);
            next_id += 1;
        }
        // The store version must be acknowledged before the sources are committed past: a
        // builder that commits first loses updates when it dies in between.
        while !waiting.is_empty() && !stop.load(Ordering::Relaxed) {
            let Ok(ack) = acks.recv_timeout(Duration::from_millis(100)) else {
                continue;
            };
            let Some(produced) = waiting.remove(&ack.id) else {
                continue;
            };
            if let Some(e) = ack.error {
                fail(format!("the store refused a version: {e}"));
                continue;
            }
            let mut applied = state.applied.lock().unwrap_or_else(|p| p.into_inner());
            applied.extend(produced.iter().map(|p| Applied {
                at_ms: ack.at_ms,
                latency_ms: (ack.at_ms - p).max(0),
            }));
        }
        let offsets: Vec<(String, i32, i64)> =
            positions.into_iter().map(|((t, p), o)| (t, p, o)).collect();
        // A commit that fails is retried with the next round's positions, as a builder does;
        // the round's records are applied either way.
        match member.commit(&offsets) {
            Ok(()) => *state.failing.lock().unwrap_or_else(|p| p.into_inner()) = None,
            Err(e) => fail(format!("committing: {e}")),
        }
    }
}
