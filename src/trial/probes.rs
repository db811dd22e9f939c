//! Functional probes: each does what a profile pipeline does and compares what the broker
//! answered with Apache Kafka's documented behaviour. Nothing here knows any broker's gaps:
//! a probe fails when the answer differs, saying what was seen and what Kafka answers.

use std::time::{Duration, Instant};

use crate::cluster::probe::{list_offsets, offset_for_time, read_partition};
use crate::cluster::write::{NewTopicSpec, Outgoing, Writer};
use crate::cluster::{Cluster, ConnectionConfig, Record, TimestampKind};
use crate::time::now_ms;

use super::error::Seen;
use super::result::{Probe, ProbeResult};

/// The compression codecs a producer may use, each round-tripped.
pub const CODECS: [&str; 5] = ["none", "gzip", "snappy", "lz4", "zstd"];

/// Probe name → the topic it writes, under the prefix.
fn topic(prefix: &str, probe: &str) -> String {
    format!("{prefix}.probe.{probe}")
}

/// What a probe hands back: pass or fail, with what was seen.
type Outcome = Result<String, Seen>;

/// The probes in the order they run, each with the topic settings it needs.
fn plan() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let mut plan = vec![
        ("idempotent_produce", vec![]),
        ("transactions", vec![]),
        ("last_stable_offset", vec![]),
        ("list_offsets_latest", vec![]),
        ("list_offsets_by_time", vec![]),
        ("delete_records", vec![]),
        (
            "describe_configs",
            vec![("retention.ms", "3600000"), ("cleanup.policy", "delete")],
        ),
        ("headers", vec![]),
        ("create_time", vec![]),
        (
            "log_append_time",
            vec![("message.timestamp.type", "LogAppendTime")],
        ),
        ("group_commit", vec![]),
    ];
    for codec in CODECS {
        plan.push((codec_probe(codec), vec![]));
    }
    plan
}

fn codec_probe(codec: &str) -> &'static str {
    match codec {
        "gzip" => "compression_gzip",
        "snappy" => "compression_snappy",
        "lz4" => "compression_lz4",
        "zstd" => "compression_zstd",
        _ => "compression_none",
    }
}

/// Every topic the probes write, for cleanup.
pub fn topics(prefix: &str) -> Vec<String> {
    plan().iter().map(|(name, _)| topic(prefix, name)).collect()
}

/// Every group the probes commit for, for cleanup.
pub fn groups(prefix: &str) -> Vec<String> {
    vec![
        format!("{prefix}.probe-group"),
        format!("{prefix}.probe-txn"),
    ]
}

/// Runs every probe against the cluster, each at most `limit`; `on_probe` hears each result.
pub fn run(
    connection: &ConnectionConfig,
    writer: &Writer,
    prefix: &str,
    limit: Duration,
    on_probe: &mut dyn FnMut(&Probe),
) -> Vec<Probe> {
    let plan = plan();
    let specs: Vec<NewTopicSpec> = plan
        .iter()
        .map(|(name, configs)| NewTopicSpec {
            name: topic(prefix, name),
            partitions: 1,
            configs: configs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        })
        .collect();
    let created = writer
        .create_topics(&specs)
        .map_err(|e| Seen(e.to_string()))
        .and_then(|refused| match refused.first() {
            Some((name, code)) => Err(Seen(format!("cannot create {name}: {code}"))),
            None => Ok(()),
        })
        .and_then(|()| wait_for_topics(connection, &specs));
    let mut probes = Vec::new();
    for (name, _) in &plan {
        let probe = match &created {
            Err(e) => Probe {
                name: (*name).to_owned(),
                result: ProbeResult::Fail,
                detail: format!("its topic could not be made: {e}"),
            },
            Ok(()) => {
                let t = topic(prefix, name);
                let outcome = bounded(limit, {
                    let (connection, writer, prefix, name) = (
                        connection.clone(),
                        writer.clone(),
                        prefix.to_owned(),
                        (*name).to_owned(),
                    );
                    move || one(&connection, &writer, &prefix, &name, &t)
                });
                Probe {
                    name: (*name).to_owned(),
                    result: if outcome.is_ok() {
                        ProbeResult::Pass
                    } else {
                        ProbeResult::Fail
                    },
                    detail: outcome.unwrap_or_else(|e| e.0),
                }
            }
        };
        on_probe(&probe);
        probes.push(probe);
    }
    probes
}

fn wait_for_topics(connection: &ConnectionConfig, specs: &[NewTopicSpec]) -> Result<(), Seen> {
    let cluster = Cluster::connect(connection.clone()).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + connection.timeout;
    for spec in specs {
        while cluster.topic(&spec.name).map(|t| t.partitions.len()) != Ok(1) {
            if Instant::now() > deadline {
                return Err(Seen(format!("{} did not appear after creation", spec.name)));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}

/// Runs `probe` on its own thread and gives up on it after `limit`: a broker that never
/// answers fails the probe rather than stopping the trial. The thread finishes on its own
/// client timeouts.
fn bounded(limit: Duration, probe: impl FnOnce() -> Outcome + Send + 'static) -> Outcome {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(probe());
    });
    rx.recv_timeout(limit).unwrap_or_else(|_| {
        Err(Seen(format!(
            "no answer within {}",
            humantime::format_duration(limit)
        )))
    })
}

fn one(
    connection: &ConnectionConfig,
    writer: &Writer,
    prefix: &str,
    name: &str,
    topic: &str,
) -> Outcome {
    match name {
        "idempotent_produce" => idempotent(connection, writer, topic),
        "transactions" => transactions(connection, writer, prefix, topic),
        "last_stable_offset" => last_stable_offset(connection, writer, prefix, topic),
        "list_offsets_latest" => latest_after_batch(connection, writer, topic),
        "list_offsets_by_time" => by_time(connection, writer, topic),
        "delete_records" => delete_records(connection, writer, topic),
        "describe_configs" => describe_configs(connection, topic),
        "headers" => headers(connection, writer, topic),
        "create_time" => create_time(connection, writer, topic),
        "log_append_time" => log_append_time(connection, writer, topic),
        "group_commit" => group_commit(connection, writer, prefix, topic),
        codec => {
            let codec = codec.trim_start_matches("compression_");
            compression(connection, writer, topic, codec)
        }
    }
}

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Produces `values` to partition 0 as one batch (a linger long enough to gather them),
/// with `settings`, optional timestamps and headers; answers the acknowledged offsets.
fn produce_batch(
    writer: &Writer,
    topic: &str,
    settings: &[(&str, &str)],
    values: &[Vec<u8>],
    timestamps: Option<&[i64]>,
    headers: &[(&str, Option<&[u8]>)],
) -> Result<Vec<i64>, Seen> {
    let mut all = vec![("linger.ms", "200"), ("batch.num.messages", "1000")];
    all.extend_from_slice(settings);
    let (producer, acks) = writer.acked_producer(&all).map_err(text)?;
    for (i, value) in values.iter().enumerate() {
        let key = format!("k{i}");
        producer
            .send(
                i as u64,
                Outgoing {
                    topic,
                    partition: 0,
                    timestamp_ms: timestamps.map(|t| t[i]),
                    key: Some(key.as_bytes()),
                    value: Some(value),
                },
                headers,
            )
            .map_err(text)?;
    }
    producer.flush(Duration::from_secs(15)).map_err(text)?;
    let mut offsets = vec![None; values.len()];
    for ack in acks.try_iter() {
        if let Some(e) = ack.error {
            return Err(Seen(format!("record {} was refused: {e}", ack.id)));
        }
        offsets[ack.id as usize] = ack.offset;
    }
    offsets
        .into_iter()
        .enumerate()
        .map(|(i, o)| o.ok_or_else(|| Seen(format!("record {i} was never acknowledged"))))
        .collect()
}

fn values(n: usize, tag: &str) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("{tag}-{i}").into_bytes()).collect()
}

fn idempotent(connection: &ConnectionConfig, writer: &Writer, topic: &str) -> Outcome {
    let sent = values(20, "idempotent");
    let offsets = produce_batch(
        writer,
        topic,
        &[("enable.idempotence", "true"), ("acks", "all")],
        &sent,
        None,
        &[],
    )?;
    let read = read_partition(connection, topic, 0, 0, 1000, false).map_err(text)?;
    let got: Vec<&[u8]> = read.iter().filter_map(|r| r.value.as_deref()).collect();
    let expected: Vec<&[u8]> = sent.iter().map(Vec::as_slice).collect();
    if got != expected {
        return Err(Seen(format!(
            "{} records sent with idempotence on, {} read back (Kafka: each exactly once, in order)",
            sent.len(),
            got.len()
        )));
    }
    Ok(format!(
        "{} records acknowledged at offsets {}–{}, read back once each, in order",
        sent.len(),
        offsets.first().unwrap_or(&0),
        offsets.last().unwrap_or(&0)
    ))
}

fn transactions(
    connection: &ConnectionConfig,
    writer: &Writer,
    prefix: &str,
    topic: &str,
) -> Outcome {
    let txn = writer
        .transactional(&format!("{prefix}.probe-txn"))
        .map_err(|e| format!("InitProducerId failed: {e}"))?;
    let send = |value: &str| {
        txn.send(Outgoing {
            topic,
            partition: 0,
            timestamp_ms: None,
            key: Some(b"k"),
            value: Some(value.as_bytes()),
        })
    };
    txn.begin().map_err(text)?;
    for v in ["committed-0", "committed-1", "committed-2"] {
        send(v).map_err(text)?;
    }
    txn.commit()
        .map_err(|e| format!("committing a transaction failed: {e}"))?;
    txn.begin().map_err(text)?;
    for v in ["aborted-0", "aborted-1", "aborted-2"] {
        send(v).map_err(text)?;
    }
    txn.abort()
        .map_err(|e| format!("aborting a transaction failed: {e}"))?;
    let read = read_partition(connection, topic, 0, 0, 1000, true).map_err(text)?;
    let got: Vec<String> = read
        .iter()
        .filter_map(|r| r.value.as_deref())
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    let aborted = got.iter().filter(|v| v.starts_with("aborted")).count();
    let committed = got.iter().filter(|v| v.starts_with("committed")).count();
    if aborted > 0 || committed != 3 {
        return Err(Seen(format!(
            "read_committed returned {committed} committed and {aborted} aborted record(s) \
             (Kafka: the 3 committed only)"
        )));
    }
    Ok("read_committed returned the 3 committed records and none of the 3 aborted".into())
}

fn last_stable_offset(
    connection: &ConnectionConfig,
    writer: &Writer,
    prefix: &str,
    topic: &str,
) -> Outcome {
    produce_batch(writer, topic, &[], &values(2, "plain"), None, &[])?;
    let txn = writer
        .transactional(&format!("{prefix}.probe-txn"))
        .map_err(|e| format!("InitProducerId failed: {e}"))?;
    txn.begin().map_err(text)?;
    txn.send(Outgoing {
        topic,
        partition: 0,
        timestamp_ms: None,
        key: Some(b"k"),
        value: Some(b"open"),
    })
    .map_err(text)?;
    let uncommitted = list_offsets(connection, topic, 0, false).map_err(text);
    let committed = list_offsets(connection, topic, 0, true).map_err(text);
    // Closed whatever was seen, so the partition does not stay held.
    let aborted = txn.abort();
    let ((_, high), (_, stable)) = (uncommitted?, committed?);
    if stable != 2 || high != 3 {
        return Err(Seen(format!(
            "with a transaction open at offset 2, the high watermark read {high} and the last \
             stable offset {stable} (Kafka: 3 and 2)"
        )));
    }
    aborted.map_err(|e| format!("aborting the open transaction failed: {e}"))?;
    Ok(
        "the last stable offset held at 2, the open transaction's first record; high watermark 3"
            .into(),
    )
}

fn latest_after_batch(connection: &ConnectionConfig, writer: &Writer, topic: &str) -> Outcome {
    let offsets = produce_batch(writer, topic, &[], &values(10, "batched"), None, &[])?;
    let expected = offsets.last().map_or(0, |o| o + 1);
    let (_, high) = list_offsets(connection, topic, 0, false).map_err(text)?;
    if high != expected {
        return Err(Seen(format!(
            "ListOffsets latest answered {high} after 10 records in one batch at offsets \
             {}–{} (Kafka: {expected})",
            offsets.first().unwrap_or(&0),
            expected - 1
        )));
    }
    Ok(format!(
        "ListOffsets latest answered {high} after 10 records in one batch"
    ))
}

fn by_time(connection: &ConnectionConfig, writer: &Writer, topic: &str) -> Outcome {
    let t0 = now_ms() - 600_000;
    let stamps: Vec<i64> = (0..5).map(|i| t0 + i * 1_000).collect();
    let offsets = produce_batch(writer, topic, &[], &values(5, "timed"), Some(&stamps), &[])?;
    let asked = t0 + 2_500;
    let expected = offsets[3];
    match offset_for_time(connection, topic, 0, asked).map_err(text)? {
        Some(o) if o == expected => Ok(format!(
            "by time {asked} (between the 3rd and 4th record's) answered offset {o}, the 4th"
        )),
        got => Err(Seen(format!(
            "by time {asked} answered {} (Kafka: {expected}, the first record at or after it)",
            got.map_or("no offset".to_owned(), |o| o.to_string())
        ))),
    }
}

fn delete_records(connection: &ConnectionConfig, writer: &Writer, topic: &str) -> Outcome {
    produce_batch(writer, topic, &[], &values(5, "deleted"), None, &[])?;
    let reported = writer
        .delete_records(topic, 0, 2)
        .map_err(|e| format!("DeleteRecords before offset 2 failed: {e}"))?;
    let (low, _) = list_offsets(connection, topic, 0, false).map_err(text)?;
    if low != 2 {
        return Err(Seen(format!(
            "after DeleteRecords before offset 2 (answered {reported}), the low watermark \
             reads {low} (Kafka: 2)"
        )));
    }
    Ok("DeleteRecords before offset 2 moved the low watermark to 2".into())
}

fn describe_configs(connection: &ConnectionConfig, topic: &str) -> Outcome {
    let cluster = Cluster::connect(connection.clone()).map_err(text)?;
    let configs = cluster.topic_configs(topic).map_err(text)?;
    let get = |key: &str| {
        configs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    match (get("retention.ms"), get("cleanup.policy")) {
        (Some(r), Some(c)) if r == "3600000" && c == "delete" => Ok(format!(
            "retention.ms={r} and cleanup.policy={c}, as the topic was created"
        )),
        (r, c) => Err(Seen(format!(
            "retention.ms={} cleanup.policy={} (created with 3600000 and delete)",
            r.unwrap_or_else(|| "(missing)".into()),
            c.unwrap_or_else(|| "(missing)".into())
        ))),
    }
}

fn headers(connection: &ConnectionConfig, writer: &Writer, topic: &str) -> Outcome {
    let binary: &[u8] = &[0, 1, 0xfe, 0xff, b'\n'];
    let sent: Vec<(&str, Option<&[u8]>)> = vec![
        ("trace-id", Some(b"4bf92f3577b34da6".as_slice())),
        ("binary", Some(binary)),
        ("empty", Some(b"".as_slice())),
        ("null", None),
        ("repeated", Some(b"1".as_slice())),
        ("repeated", Some(b"2".as_slice())),
    ];
    produce_batch(writer, topic, &[], &values(3, "headed"), None, &sent)?;
    let read = read_partition(connection, topic, 0, 0, 1000, false).map_err(text)?;
    let expected: Vec<(String, Option<Vec<u8>>)> = sent
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.map(<[u8]>::to_vec)))
        .collect();
    let wrong = read.iter().filter(|r| r.headers != expected).count();
    if read.len() != 3 || wrong > 0 {
        return Err(Seen(format!(
            "{} of {} records read back with headers other than sent (binary, empty, null and \
             repeated keys, in order)",
            wrong,
            read.len()
        )));
    }
    Ok("6 headers (binary, empty, null, a repeated key) read back byte-exact, in order".into())
}

/// Bytes that compress well and bytes that do not, so each codec's both paths run.
fn mixed_values() -> Vec<Vec<u8>> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..8)
        .map(|i| {
            if i % 2 == 0 {
                format!("{{\"customer\":\"cust-{i:05}\",\"page\":\"/p/shoes\"}}")
                    .repeat(20)
                    .into_bytes()
            } else {
                (0..600)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state as u8
                    })
                    .collect()
            }
        })
        .collect()
}

fn compression(
    connection: &ConnectionConfig,
    writer: &Writer,
    topic: &str,
    codec: &str,
) -> Outcome {
    let sent = mixed_values();
    produce_batch(
        writer,
        topic,
        &[("compression.codec", codec)],
        &sent,
        None,
        &[],
    )?;
    let read = read_partition(connection, topic, 0, 0, 1000, false).map_err(text)?;
    let same = read
        .iter()
        .zip(&sent)
        .filter(|(r, s)| r.value.as_deref() == Some(s.as_slice()))
        .count();
    if read.len() != sent.len() || same != sent.len() {
        return Err(Seen(format!(
            "{same} of {} {codec} records read back byte-exact ({} read)",
            sent.len(),
            read.len()
        )));
    }
    Ok(format!(
        "{} records in one {codec} batch read back byte-exact",
        sent.len()
    ))
}

fn timestamp_of(record: &Record) -> String {
    format!("{:?} {:?}", record.timestamp_kind, record.timestamp_ms)
}

fn create_time(connection: &ConnectionConfig, writer: &Writer, topic: &str) -> Outcome {
    let stamp = now_ms() - 3_600_000;
    produce_batch(
        writer,
        topic,
        &[],
        &values(1, "created"),
        Some(&[stamp]),
        &[],
    )?;
    let read = read_partition(connection, topic, 0, 0, 10, false).map_err(text)?;
    match read.first() {
        Some(r)
            if r.timestamp_kind == TimestampKind::CreateTime && r.timestamp_ms == Some(stamp) =>
        {
            Ok(format!(
                "the producer's timestamp {stamp} read back as CreateTime"
            ))
        }
        Some(r) => Err(Seen(format!(
            "sent with CreateTime {stamp}, read back as {} (Kafka: the same CreateTime)",
            timestamp_of(r)
        ))),
        None => Err(Seen("the record was not read back".into())),
    }
}

fn log_append_time(connection: &ConnectionConfig, writer: &Writer, topic: &str) -> Outcome {
    let stamp = now_ms() - 3_600_000;
    let before = now_ms();
    produce_batch(
        writer,
        topic,
        &[],
        &values(1, "appended"),
        Some(&[stamp]),
        &[],
    )?;
    let after = now_ms();
    let read = read_partition(connection, topic, 0, 0, 10, false).map_err(text)?;
    match read.first() {
        Some(r)
            if r.timestamp_kind == TimestampKind::LogAppendTime
                && r.timestamp_ms.is_some_and(|t| t >= before - 1_000 && t <= after + 1_000) =>
        {
            Ok("a topic with message.timestamp.type=LogAppendTime stamped the record with the broker's time".into())
        }
        Some(r) => Err(Seen(format!(
            "on a LogAppendTime topic, a record sent with {stamp} read back as {} (Kafka: \
             LogAppendTime between {before} and {after})",
            timestamp_of(r)
        ))),
        None => Err(Seen("the record was not read back".into())),
    }
}

fn group_commit(
    connection: &ConnectionConfig,
    writer: &Writer,
    prefix: &str,
    topic: &str,
) -> Outcome {
    produce_batch(writer, topic, &[], &values(5, "committed"), None, &[])?;
    let group = format!("{prefix}.probe-group");
    writer
        .commit(&group, &[(topic.to_owned(), 0, 3)])
        .map_err(|e| format!("OffsetCommit failed: {e}"))?;
    let cluster = Cluster::connect(connection.clone()).map_err(text)?;
    let read = cluster
        .committed_offsets(&group, &[(topic.to_owned(), 0)])
        .map_err(|e| format!("OffsetFetch failed: {e}"))?;
    match read.get(&(topic.to_owned(), 0)).copied().flatten() {
        Some(3) => Ok("offset 3 committed and read back (OffsetFetch)".into()),
        other => Err(Seen(format!(
            "offset 3 committed, read back {}",
            other.map_or("nothing".to_owned(), |o| o.to_string())
        ))),
    }
}
