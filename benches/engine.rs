//! Engine benchmarks: the fold (events per second), the partitioners, payload decoding (JSON and
//! Avro) and the staleness computation.
//! Run with `cargo bench --bench engine`.

use std::hint::black_box;

use apache_avro::types::Value;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use freshlens::codec::{Expect, ParsedSchema, decode};
use freshlens::freshness::{Delivery, staleness};
use freshlens::profile::{Event, Partitioner, Spec, fold, sort_timeline};
use serde_json::json;

const SPEC: &str = r#"
[[source]]
topic = "identity"
[[source]]
topic = "consent"
erase_when = { path = "/type", equals = "erasure" }
[[source]]
topic = "orders"
[[source]]
topic = "clicks"
[[field]]
name = "email"
topic = "identity"
path = "/email"
rule = "last"
consent = "marketing"
[[field]]
name = "marketing"
topic = "consent"
path = "/marketing"
rule = "last"
[[field]]
name = "orders"
topic = "orders"
path = "/amount"
rule = "count"
[[field]]
name = "spent"
topic = "orders"
path = "/amount"
rule = "sum"
[[field]]
name = "largest"
topic = "orders"
path = "/amount"
rule = "max"
[[field]]
name = "pages"
topic = "clicks"
path = "/page"
rule = "distinct"
[[field]]
name = "last_page"
topic = "clicks"
path = "/page"
rule = "last"
"#;

fn events(n: usize) -> Vec<Event> {
    let mut events: Vec<Event> = (0..n)
        .map(|i| {
            let (topic, value) = match i % 10 {
                0 => ("identity", json!({"email": format!("u{}@x.io", i % 7)})),
                1 => ("consent", json!({"marketing": i % 3 != 0})),
                2..=4 => ("orders", json!({"amount": (i % 97) as i64, "sku": "A"})),
                _ => ("clicks", json!({"page": format!("/p/{}", i % 20)})),
            };
            Event {
                topic: topic.into(),
                partition: 0,
                offset: i as i64,
                broker_ms: i as i64 * 10 + 3,
                event_ms: i as i64 * 10,
                id: "c-1".into(),
                value: value.into(),
                schema_id: None,
            }
        })
        .collect();
    sort_timeline(&mut events);
    events
}

fn bench_fold(c: &mut Criterion) {
    let spec = Spec::parse(SPEC, "bench").unwrap();
    let events = events(1_000_000);
    let mut group = c.benchmark_group("fold");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("1M events, 7 fields", |b| {
        b.iter(|| fold(&spec, black_box(&events), None))
    });
    let schemaless = Spec::schemaless(&[
        "identity".into(),
        "consent".into(),
        "orders".into(),
        "clicks".into(),
    ]);
    group.bench_function("1M events, no spec", |b| {
        b.iter(|| fold(&schemaless, black_box(&events), None))
    });
    group.finish();
}

fn bench_partitioners(c: &mut Criterion) {
    let keys: Vec<String> = (0..10_000).map(|i| format!("customer-{i:08}")).collect();
    let mut group = c.benchmark_group("partitioner");
    group.throughput(Throughput::Elements(keys.len() as u64));
    for (name, partitioner) in [
        ("murmur2", Partitioner::Murmur2),
        ("crc32", Partitioner::Crc32),
        ("fnv1a", Partitioner::Fnv1a),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                keys.iter()
                    .map(|k| partitioner.partitions_for(k.as_bytes(), 12)[0])
                    .sum::<i32>()
            })
        });
    }
    group.finish();
    // Inference: every hash of every sampled key, the best one, the second, the misplaced.
    let placed: Vec<(Vec<u8>, i32)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let hash = if i % 4 == 0 {
                Partitioner::Crc32
            } else {
                Partitioner::Murmur2
            };
            (
                k.clone().into_bytes(),
                hash.partition_of(k.as_bytes(), 12).unwrap(),
            )
        })
        .collect();
    let mut group = c.benchmark_group("keys");
    group.throughput(Throughput::Elements(placed.len() as u64));
    group.bench_function("infer the partitioner of 10,000 sampled records", |b| {
        b.iter(|| {
            freshlens::profile::infer::infer(
                placed.iter().map(|(k, p)| (Some(k.as_slice()), *p)),
                black_box(12),
            )
        })
    });
    group.finish();
}

/// The `--demo` start: the workload prepared and its first stale customer explained from its
/// own partitions (what the app shows first), and the whole demo data.
fn bench_demo(c: &mut Criterion) {
    let config = freshlens::demo::DemoConfig::new(1_800_000_000_000);
    let mut group = c.benchmark_group("demo");
    group.sample_size(10);
    group.bench_function("first stale customer explained", |b| {
        b.iter(|| {
            let prepared = freshlens::demo::prepare(&config).unwrap();
            freshlens::demo::first_stale(&prepared).unwrap()
        })
    });
    group.bench_function("whole demo data", |b| {
        b.iter(|| freshlens::demo::generate(&config).unwrap())
    });
    group.finish();
}

fn bench_decode(c: &mut Criterion) {
    let payload = json!({"customer": "c-1", "ts": 1_700_000_000_000i64, "amount": 42, "items": [{"sku": "A", "qty": 2}]})
        .to_string()
        .into_bytes();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(payload.len() as u64));
    group.bench_function("json record", |b| {
        b.iter(|| decode(black_box(&payload), Expect::Auto))
    });
    group.finish();

    let schema = ParsedSchema::parse(
        r#"{"type":"record","name":"Order","fields":[
            {"name":"customer","type":"string"},{"name":"ts","type":"long"},
            {"name":"amount","type":"double"},
            {"name":"items","type":{"type":"array","items":{"type":"record","name":"Item",
              "fields":[{"name":"sku","type":"string"},{"name":"qty","type":"int"}]}}}]}"#,
        &[],
    )
    .unwrap();
    let datum = schema
        .encode(Value::Record(vec![
            ("customer".into(), Value::String("c-1".into())),
            ("ts".into(), Value::Long(1_700_000_000_000)),
            ("amount".into(), Value::Double(42.5)),
            (
                "items".into(),
                Value::Array(vec![Value::Record(vec![
                    ("sku".into(), Value::String("A".into())),
                    ("qty".into(), Value::Int(2)),
                ])]),
            ),
        ]))
        .unwrap();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(datum.len() as u64));
    group.bench_function("avro record", |b| {
        b.iter(|| schema.decode(black_box(&datum)))
    });
    group.finish();

    // The same order in Protobuf, framed as Confluent's serializer writes it (indexes [0]),
    // rendered in the Protobuf JSON mapping.
    let proto = freshlens::codec::protobuf::ProtoSchema::compile(
        r#"syntax = "proto3";
        message Order {
          message Item { string sku = 1; int32 qty = 2; }
          string customer = 1; int64 ts = 2; double amount = 3; repeated Item items = 4;
        }"#,
        &[],
    )
    .unwrap();
    // customer="c-1", ts=1700000000000, amount=42.5, items=[{sku="A", qty=2}], after index 0.
    let framed: Vec<u8> = [
        &[0x00][..],
        &[0x0a, 3, b'c', b'-', b'1'],
        &[0x10, 0x80, 0xd0, 0x95, 0xff, 0xbc, 0x31],
        &[0x19, 0, 0, 0, 0, 0, 0x40, 0x45, 0x40],
        &[0x22, 5, 0x0a, 1, b'A', 0x10, 2],
    ]
    .concat();
    assert!(
        proto.decode_framed(&framed).is_ok(),
        "the bench's payload decodes"
    );
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(framed.len() as u64));
    group.bench_function("protobuf record", |b| {
        b.iter(|| proto.decode_framed(black_box(&framed)))
    });
    group.finish();
}

fn bench_staleness(c: &mut Criterion) {
    // A day of events every 10 s, applied 0-40 s later, a few never.
    let deliveries: Vec<Delivery> = (0..8_640i64)
        .map(|i| Delivery {
            broker_ms: i * 10_000,
            applied_ms: (i % 97 != 0).then_some(i * 10_000 + (i * 7_919) % 40_000),
        })
        .collect();
    let mut group = c.benchmark_group("staleness");
    group.throughput(Throughput::Elements(deliveries.len() as u64));
    group.bench_function("one day, 8640 events", |b| {
        b.iter(|| staleness(black_box(&deliveries), 0, 86_400_000, 300_000))
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_fold,
    bench_partitioners,
    bench_decode,
    bench_staleness,
    bench_demo
);
criterion_main!(benches);
