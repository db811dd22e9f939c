//! The synthetic Customer 360 event streams: identity (with anonymous and device ids that later
//! join the customer), consent granted and sometimes revoked, a few erasures, orders, clicks and
//! support tickets, with ingest jitter and some late events.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde_json::{Value, json};

use super::DemoConfig;

pub const SOURCES: [&str; 5] = ["identity", "consent", "orders", "clicks", "support"];
pub const IDENTITY: usize = 0;
pub const CONSENT: usize = 1;
pub const ORDERS: usize = 2;
pub const CLICKS: usize = 3;
pub const SUPPORT: usize = 4;

const COUNTRIES: [&str; 6] = ["DE", "FR", "GB", "US", "ES", "NL"];
const PAGES: [&str; 8] = [
    "/",
    "/search",
    "/p/shoes",
    "/p/jackets",
    "/cart",
    "/checkout",
    "/help",
    "/account",
];

/// One generated source event, before partitions and offsets are assigned.
#[derive(Debug, Clone)]
pub struct SourceEvent {
    pub source: usize,
    pub customer: usize,
    pub key: String,
    pub event_ms: i64,
    pub broker_ms: i64,
    pub value: std::sync::Arc<Value>,
    /// The builder reads it but never applies it (a consent change it drops).
    pub skipped: bool,
    /// The JSON Schema id the producer framed it with (identity events only).
    pub schema_id: Option<u32>,
}

/// The identity topic's schema ids: the first, and the one whose producer renamed `email` to
/// `email_address`.
pub const IDENTITY_SCHEMA: u32 = 1;
pub const RENAMED_SCHEMA: u32 = 2;

/// When customer `c`'s identity events start being written by the renaming producer: for one
/// customer in fifty, three quarters of the way from sign-in to the end (no random draw, so
/// the rest of the workload is the same with or without it).
fn renamed_from(c: usize, signed_in: i64, end: i64) -> Option<i64> {
    (c % 50 == 17).then(|| signed_in + (end - signed_in) * 3 / 4)
}

pub fn customer_id(c: usize) -> String {
    format!("cust-{c:05}")
}

/// Every source event of the workload, in no particular order.
pub fn generate(config: &DemoConfig) -> Vec<SourceEvent> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let end = config.end_ms;
    let start = end - config.span_ms;
    let customers = config.customers.max(1);
    let mut events = Vec::with_capacity(config.events);
    let mut signed_in = Vec::with_capacity(customers);

    for c in 0..customers {
        let id = customer_id(c);
        let at = rng.random_range(start..start + config.span_ms / 3);
        signed_in.push(at);
        let country = COUNTRIES[rng.random_range(0..COUNTRIES.len())];
        // Browsing before sign-in, under an anonymous id the identity event then links.
        for _ in 0..rng.random_range(0..3) {
            let t = rng.random_range(start.min(at - 1)..at);
            let page = PAGES[rng.random_range(0..PAGES.len())];
            keep(
                &mut events,
                end,
                event(
                    &mut rng,
                    CLICKS,
                    c,
                    format!("anon-{c:05}"),
                    t,
                    json!({"ts": t, "page": page}),
                ),
            );
        }
        let identity = json!({
            "ts": at, "customer_id": id, "email": format!("{id}@example.com"), "country": country,
            "anonymous_id": format!("anon-{c:05}"), "device_id": format!("dev-{c:05}"),
        });
        keep(
            &mut events,
            end,
            event(&mut rng, IDENTITY, c, id.clone(), at, identity),
        );
        let renamed = renamed_from(c, at, end);
        if rng.random_bool(0.15) {
            let t = rng.random_range(at..end);
            let moved = COUNTRIES[rng.random_range(0..COUNTRIES.len())];
            let mut e = event(
                &mut rng,
                IDENTITY,
                c,
                id.clone(),
                t,
                json!({"ts": t, "customer_id": id, "country": moved}),
            );
            if renamed.is_some_and(|from| t >= from) {
                e.schema_id = Some(RENAMED_SCHEMA);
            }
            keep(&mut events, end, e);
        }
        if let Some(from) = renamed {
            // The new producer writes the e-mail under its new name: the spec's `/email` and
            // the builder never see it.
            // Built without a random draw: the rest of the workload stays as it was. The whole
            // identity record, as the new producer writes it: only the e-mail's name changed.
            let value = json!({
                "ts": from, "customer_id": id, "email_address": format!("{id}@example.net"),
                "country": country, "anonymous_id": format!("anon-{c:05}"),
                "device_id": format!("dev-{c:05}"),
            });
            keep(
                &mut events,
                end,
                SourceEvent {
                    source: IDENTITY,
                    customer: c,
                    key: id.clone(),
                    event_ms: from,
                    broker_ms: from + 1_500,
                    value: value.into(),
                    skipped: false,
                    schema_id: Some(RENAMED_SCHEMA),
                },
            );
        }
        if rng.random_bool(0.8) {
            let granted = rng.random_range(at..at + (end - at) / 4);
            keep(
                &mut events,
                end,
                event(
                    &mut rng,
                    CONSENT,
                    c,
                    id.clone(),
                    granted,
                    json!({"ts": granted, "customer_id": id, "marketing": true}),
                ),
            );
            if rng.random_bool(0.2) {
                let revoked = rng.random_range(granted..end);
                let mut e = event(
                    &mut rng,
                    CONSENT,
                    c,
                    id.clone(),
                    revoked,
                    json!({"ts": revoked, "customer_id": id, "marketing": false}),
                );
                e.skipped = rng.random_bool(0.25);
                keep(&mut events, end, e);
            }
        }
        if rng.random_bool(0.005) {
            let t = rng.random_range(end - config.span_ms / 4..end);
            keep(
                &mut events,
                end,
                event(
                    &mut rng,
                    CONSENT,
                    c,
                    id.clone(),
                    t,
                    json!({"ts": t, "customer_id": id, "type": "erasure"}),
                ),
            );
        }
    }

    // The bulk of the events, in chunks generated in parallel, each from its own stream of the
    // seed, so the result does not depend on the number of threads.
    let remaining = config.events.saturating_sub(events.len());
    let chunks: Vec<Vec<SourceEvent>> = (0..remaining.div_ceil(CHUNK))
        .into_par_iter()
        .map(|chunk| {
            let want = CHUNK.min(remaining - chunk * CHUNK);
            activity(config, &signed_in, chunk, want)
        })
        .collect();
    events.extend(chunks.into_iter().flatten());
    events.extend(burst(config, &signed_in));
    events
}

/// A flash sale: for five minutes half way through the window, clicks at several times their
/// usual rate (one event in forty of the workload, on top of it). The builder falls behind on
/// it and catches up on its own (`builder::catch_up`).
pub fn burst_window(config: &DemoConfig) -> (i64, i64) {
    let start = config.end_ms - config.span_ms;
    let batch = config.batch_ms.max(1_000);
    // On a batch boundary, so the builder's commits fall at known points of the catch-up.
    let from = start + (config.span_ms / 2).div_euclid(batch) * batch;
    (from, from + BURST_MS)
}

pub const BURST_MS: i64 = 5 * 60_000;

fn burst(config: &DemoConfig, signed_in: &[i64]) -> Vec<SourceEvent> {
    // A stream of its own: the rest of the workload is the same with or without it.
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    rng.set_stream(u64::MAX);
    let (from, to) = burst_window(config);
    let mut events = Vec::new();
    let ready: Vec<usize> = (0..signed_in.len())
        .filter(|c| signed_in[*c] < from)
        .collect();
    if ready.is_empty() {
        return events;
    }
    for _ in 0..config.events / 40 {
        let c = ready[rng.random_range(0..ready.len())];
        let t = rng.random_range(from..to);
        let page = PAGES[rng.random_range(0..PAGES.len())];
        keep(
            &mut events,
            config.end_ms,
            event(
                &mut rng,
                CLICKS,
                c,
                customer_id(c),
                t,
                json!({"ts": t, "page": page}),
            ),
        );
    }
    events
}

const CHUNK: usize = 16_384;

/// `want` clicks, orders and support tickets of customers who have signed in.
fn activity(config: &DemoConfig, signed_in: &[i64], chunk: usize, want: usize) -> Vec<SourceEvent> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    rng.set_stream(chunk as u64 + 1);
    let end = config.end_ms;
    let customers = signed_in.len();
    let mut events = Vec::with_capacity(want);
    let mut order_no = 0u64;
    let mut ticket_no = 0u64;
    while events.len() < want {
        // A few customers are far busier than most.
        let u: f64 = rng.random();
        let c = ((u * u * u) * customers as f64) as usize % customers;
        let id = customer_id(c);
        let t = rng.random_range(signed_in[c]..end);
        let kind: f64 = rng.random();
        if kind < 0.75 {
            let page = PAGES[rng.random_range(0..PAGES.len())];
            let key = if rng.random_bool(0.1) {
                format!("dev-{c:05}")
            } else {
                id
            };
            keep(
                &mut events,
                end,
                event(&mut rng, CLICKS, c, key, t, json!({"ts": t, "page": page})),
            );
        } else if kind < 0.93 {
            order_no += 1;
            let amount = rng.random_range(500..30_000) as f64 / 100.0;
            let value = json!({"ts": t, "customer_id": id, "order_id": format!("o-{chunk}-{order_no}"), "amount": amount});
            keep(&mut events, end, event(&mut rng, ORDERS, c, id, t, value));
        } else {
            ticket_no += 1;
            let status = if rng.random_bool(0.6) {
                "open"
            } else {
                "closed"
            };
            let value = json!({"ts": t, "customer_id": id, "ticket_id": format!("t-{chunk}-{ticket_no}"), "status": status});
            keep(&mut events, end, event(&mut rng, SUPPORT, c, id, t, value));
        }
    }
    events
}

/// Keeps events the broker already has at the end of the window.
fn keep(events: &mut Vec<SourceEvent>, end: i64, event: SourceEvent) {
    if event.broker_ms <= end {
        events.push(event);
    }
}

fn event(
    rng: &mut ChaCha8Rng,
    source: usize,
    customer: usize,
    key: String,
    event_ms: i64,
    value: Value,
) -> SourceEvent {
    // Most events reach the broker within seconds; some arrive from devices that were offline.
    let late = matches!(source, CLICKS | ORDERS) && rng.random_bool(0.03);
    let delay = if late {
        rng.random_range(120_000..1_200_000)
    } else {
        rng.random_range(20..3_000)
    };
    SourceEvent {
        source,
        customer,
        key,
        event_ms,
        broker_ms: event_ms + delay,
        value: value.into(),
        skipped: false,
        schema_id: (source == IDENTITY).then_some(IDENTITY_SCHEMA),
    }
}
