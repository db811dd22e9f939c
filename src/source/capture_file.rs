//! Capture files: freshlens' own JSON Lines (a header with the watermarks and committed group
//! offsets at capture time, then one record per line) and kcat's `-J` envelopes, either one
//! optionally zstd-compressed. Bad lines are reported with their number and skipped.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};

use super::{Capture, CapturedGroup};
use crate::cluster::{ClusterError, Record, TimestampKind};

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const HEADER_TAG: &str = "freshlens_capture";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    Freshlens,
    /// kcat `-J` envelopes: no watermarks or groups, keys and values as text.
    Kcat,
}

fn error(path: &str, problem: impl Into<String>) -> ClusterError {
    ClusterError::Capture {
        path: path.to_owned(),
        problem: problem.into(),
    }
}

/// Reads a capture file; the warnings name each line that was skipped and why.
pub fn load_capture(path: &Path) -> Result<(Capture, Vec<String>), ClusterError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| error(&name, e.to_string()))?;
    read_capture(file, &name)
}

/// Reads a capture from any reader, zstd-compressed or not.
pub fn read_capture(reader: impl Read, name: &str) -> Result<(Capture, Vec<String>), ClusterError> {
    let mut reader = BufReader::new(reader);
    let head = reader.fill_buf().map_err(|e| error(name, e.to_string()))?;
    let lines: Box<dyn BufRead> = if head.starts_with(&ZSTD_MAGIC) {
        let decoder = zstd::Decoder::with_buffer(reader).map_err(|e| error(name, e.to_string()))?;
        Box::new(BufReader::new(decoder))
    } else {
        Box::new(reader)
    };
    let mut capture = Capture::new(name, 0);
    let mut warnings = Vec::new();
    let mut header_seen = false;
    let mut latest_ts = 0;
    for (index, line) in lines.lines().enumerate() {
        let number = index + 1;
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                // A truncated zstd frame ends the readable part of the file.
                warnings.push(format!("line {number}: {e}; the rest is unreadable"));
                break;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = match serde_json::from_str(&line) {
            Ok(value) => value,
            Err(e) => {
                warnings.push(format!("line {number}: not JSON ({e}), skipped"));
                continue;
            }
        };
        if value.get(HEADER_TAG).is_some() {
            if header_seen || number != 1 {
                warnings.push(format!("line {number}: a second header, skipped"));
                continue;
            }
            header_seen = true;
            if let Err(problem) = apply_header(&mut capture, &value) {
                warnings.push(format!("line {number}: bad header ({problem})"));
            }
            continue;
        }
        let parsed = if value.get("payload").is_some() || value.get("tstype").is_some() {
            kcat_record(&value)
        } else {
            freshlens_record(&value)
        };
        match parsed {
            Ok(record) => {
                latest_ts = latest_ts.max(record.timestamp_ms.unwrap_or(0));
                capture.push(record);
            }
            Err(problem) => warnings.push(format!("line {number}: {problem}, skipped")),
        }
    }
    if capture.captured_at_ms == 0 {
        // kcat lines say nothing of when they were taken: the newest record stands in.
        capture.captured_at_ms = latest_ts;
    }
    capture.finish();
    Ok((capture, warnings))
}

fn apply_header(capture: &mut Capture, header: &Value) -> Result<(), String> {
    if let Some(name) = header["name"].as_str() {
        capture.name = name.to_owned();
    }
    capture.captured_at_ms = header["captured_at_ms"]
        .as_i64()
        .ok_or("no captured_at_ms")?;
    for topic in header["topics"].as_array().into_iter().flatten() {
        let name = topic["name"].as_str().ok_or("a topic without a name")?;
        for p in topic["partitions"].as_array().into_iter().flatten() {
            let id = p["id"].as_i64().ok_or("a partition without an id")? as i32;
            let low = p["low"].as_i64().unwrap_or(0);
            let high = p["high"].as_i64().unwrap_or(low);
            capture.set_watermarks(name, id, low, high);
        }
        if let Some(configs) = topic["configs"].as_object() {
            let entries = configs
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect();
            capture.configs.insert(name.to_owned(), entries);
        }
    }
    for g in header["groups"].as_array().into_iter().flatten() {
        let name = g["group"].as_str().ok_or("a group without a name")?;
        let mut offsets = std::collections::BTreeMap::new();
        for o in g["offsets"].as_array().into_iter().flatten() {
            if let (Some(topic), Some(partition), Some(offset)) = (
                o["topic"].as_str(),
                o["partition"].as_i64(),
                o["offset"].as_i64(),
            ) {
                offsets.insert((topic.to_owned(), partition as i32), offset);
            }
        }
        let mut commits = Vec::new();
        for c in g["commits"].as_array().into_iter().flatten() {
            let (topic, partition, offset) = position(c)?;
            let commit_ms = c["commit_ms"]
                .as_i64()
                .ok_or("a commit without commit_ms")?;
            commits.push(super::RecordedCommit {
                topic,
                partition,
                offset,
                commit_ms,
            });
        }
        capture.groups.push(CapturedGroup {
            name: name.to_owned(),
            state: g["state"].as_str().unwrap_or("Empty").to_owned(),
            offsets,
            commits,
        });
    }
    Ok(())
}

fn position(value: &Value) -> Result<(String, i32, i64), String> {
    let topic = value["topic"].as_str().ok_or("no topic")?;
    let partition = value["partition"].as_i64().ok_or("no partition")?;
    let offset = value["offset"].as_i64().ok_or("no offset")?;
    Ok((topic.to_owned(), partition as i32, offset))
}

/// Text as is, or base64 under `<field>_b64` for bytes that are not UTF-8.
fn bytes(value: &Value, field: &str) -> Result<Option<Vec<u8>>, String> {
    if let Some(text) = value.get(field).and_then(Value::as_str) {
        return Ok(Some(text.as_bytes().to_vec()));
    }
    match value.get(format!("{field}_b64")).and_then(Value::as_str) {
        Some(encoded) => B64
            .decode(encoded)
            .map(Some)
            .map_err(|e| format!("{field}_b64 is not base64 ({e})")),
        None => Ok(None),
    }
}

fn put_bytes(out: &mut Map<String, Value>, field: &str, data: Option<&[u8]>) {
    match data.map(std::str::from_utf8) {
        None => {
            out.insert(field.to_owned(), Value::Null);
        }
        Some(Ok(text)) => {
            out.insert(field.to_owned(), Value::from(text));
        }
        Some(Err(_)) => {
            out.insert(
                format!("{field}_b64"),
                Value::from(B64.encode(data.unwrap_or_default())),
            );
        }
    }
}

fn freshlens_record(value: &Value) -> Result<Record, String> {
    let (topic, partition, offset) = position(value)?;
    let timestamp_ms = value["timestamp_ms"].as_i64();
    let timestamp_kind = match value["timestamp_type"].as_str() {
        Some("log_append_time") => TimestampKind::LogAppendTime,
        Some("not_available") => TimestampKind::NotAvailable,
        _ if timestamp_ms.is_none() => TimestampKind::NotAvailable,
        _ => TimestampKind::CreateTime,
    };
    let mut headers = Vec::new();
    for h in value["headers"].as_array().into_iter().flatten() {
        let name = h["key"].as_str().ok_or("a header without a key")?;
        headers.push((name.to_owned(), bytes(h, "value")?));
    }
    Ok(Record {
        topic,
        partition,
        offset,
        timestamp_ms,
        timestamp_kind,
        key: bytes(value, "key")?,
        value: bytes(value, "value")?,
        headers,
    })
}

fn kcat_record(value: &Value) -> Result<Record, String> {
    let (topic, partition, offset) = position(value)?;
    let timestamp_ms = value["ts"].as_i64().filter(|ts| *ts >= 0);
    let timestamp_kind = match (value["tstype"].as_str(), timestamp_ms) {
        (_, None) | (Some("none"), _) => TimestampKind::NotAvailable,
        (Some("logappend"), _) => TimestampKind::LogAppendTime,
        _ => TimestampKind::CreateTime,
    };
    // kcat lists headers as a flat array: name, value, name, value...
    let flat = value["headers"].as_array().cloned().unwrap_or_default();
    let headers = flat
        .chunks(2)
        .filter_map(|pair| {
            let name = pair.first()?.as_str()?.to_owned();
            let data = pair.get(1)?.as_str().map(|s| s.as_bytes().to_vec());
            Some((name, data))
        })
        .collect();
    Ok(Record {
        topic,
        partition,
        offset,
        timestamp_ms,
        timestamp_kind,
        key: value["key"].as_str().map(|s| s.as_bytes().to_vec()),
        value: value["payload"].as_str().map(|s| s.as_bytes().to_vec()),
        headers,
    })
}

/// Writes `capture` as JSON Lines in `format`, zstd-compressed when `compress`.
pub fn write_capture(
    capture: &Capture,
    out: impl Write,
    format: CaptureFormat,
    compress: bool,
) -> std::io::Result<()> {
    if compress {
        let mut encoder = zstd::Encoder::new(out, 3)?;
        write_lines(capture, &mut encoder, format)?;
        encoder.finish()?.flush()
    } else {
        let mut out = std::io::BufWriter::new(out);
        write_lines(capture, &mut out, format)?;
        out.flush()
    }
}

fn write_lines(
    capture: &Capture,
    out: &mut dyn Write,
    format: CaptureFormat,
) -> std::io::Result<()> {
    if format == CaptureFormat::Freshlens {
        serde_json::to_writer(&mut *out, &header(capture))?;
        writeln!(out)?;
    }
    for record in capture.records() {
        let line = match format {
            CaptureFormat::Freshlens => freshlens_line(record),
            CaptureFormat::Kcat => kcat_line(record),
        };
        serde_json::to_writer(&mut *out, &line)?;
        writeln!(out)?;
    }
    Ok(())
}

fn header(capture: &Capture) -> Value {
    let topics: Vec<Value> = capture
        .topics
        .iter()
        .map(|(name, partitions)| {
            let partitions: Vec<Value> = partitions
                .iter()
                .map(|(id, p)| json!({"id": id, "low": p.low, "high": p.high}))
                .collect();
            let mut topic = json!({"name": name, "partitions": partitions});
            if let Some(configs) = capture.configs.get(name) {
                let configs: Map<String, Value> = configs
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                    .collect();
                topic["configs"] = Value::Object(configs);
            }
            topic
        })
        .collect();
    let groups: Vec<Value> = capture
        .groups
        .iter()
        .map(|g| {
            let offsets: Vec<Value> = g
                .offsets
                .iter()
                .map(|((topic, partition), offset)| {
                    json!({"topic": topic, "partition": partition, "offset": offset})
                })
                .collect();
            let commits: Vec<Value> = g
                .commits
                .iter()
                .map(|c| {
                    json!({"topic": c.topic, "partition": c.partition, "offset": c.offset,
                        "commit_ms": c.commit_ms})
                })
                .collect();
            json!({"group": g.name, "state": g.state, "offsets": offsets, "commits": commits})
        })
        .collect();
    json!({
        HEADER_TAG: 1,
        "name": capture.name,
        "captured_at_ms": capture.captured_at_ms,
        "topics": topics,
        "groups": groups,
    })
}

fn freshlens_line(record: &Record) -> Value {
    let mut line = Map::new();
    line.insert("topic".into(), record.topic.clone().into());
    line.insert("partition".into(), record.partition.into());
    line.insert("offset".into(), record.offset.into());
    line.insert("timestamp_ms".into(), record.timestamp_ms.into());
    line.insert("timestamp_type".into(), json!(record.timestamp_kind));
    put_bytes(&mut line, "key", record.key.as_deref());
    put_bytes(&mut line, "value", record.value.as_deref());
    let headers: Vec<Value> = record
        .headers
        .iter()
        .map(|(name, data)| {
            let mut h = Map::new();
            h.insert("key".into(), name.clone().into());
            put_bytes(&mut h, "value", data.as_deref());
            Value::Object(h)
        })
        .collect();
    line.insert("headers".into(), headers.into());
    Value::Object(line)
}

fn kcat_line(record: &Record) -> Value {
    let text = |data: Option<&[u8]>| data.map(|d| String::from_utf8_lossy(d).into_owned());
    let headers: Vec<Value> = record
        .headers
        .iter()
        .flat_map(|(name, data)| [Value::from(name.clone()), json!(text(data.as_deref()))])
        .collect();
    json!({
        "topic": record.topic, "partition": record.partition, "offset": record.offset,
        "tstype": match record.timestamp_kind {
            TimestampKind::CreateTime => "create",
            TimestampKind::LogAppendTime => "logappend",
            TimestampKind::NotAvailable => "none",
        },
        "ts": record.timestamp_ms.unwrap_or(-1), "broker": -1, "headers": headers,
        "key": text(record.key.as_deref()), "payload": text(record.value.as_deref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source as _;

    fn sample() -> Capture {
        let mut capture = Capture::new("sample", 1_700_000_100_000);
        capture.add_topic("t", 2);
        capture.set_watermarks("t", 0, 5, 8);
        let record = |offset: i64, key: Option<&[u8]>, value: Option<&[u8]>| Record {
            topic: "t".into(),
            partition: 0,
            offset,
            timestamp_ms: Some(1_700_000_000_000 + offset),
            timestamp_kind: TimestampKind::CreateTime,
            key: key.map(<[u8]>::to_vec),
            value: value.map(<[u8]>::to_vec),
            headers: vec![
                ("trace".into(), Some(b"abc".to_vec())),
                ("none".into(), None),
            ],
        };
        capture.push(record(5, Some(b"cust-1"), Some(br#"{"n":1}"#)));
        capture.push(record(6, Some(&[0xff, 0x00, 0x10]), Some(&[0xc3, 0x28])));
        capture.push(record(7, None, None));
        capture.groups.push(CapturedGroup {
            name: "builder".into(),
            state: "Empty".into(),
            offsets: [(("t".to_owned(), 0), 7)].into_iter().collect(),
            commits: vec![super::super::RecordedCommit {
                topic: "t".into(),
                partition: 0,
                offset: 6,
                commit_ms: 1_699_999_000_000,
            }],
        });
        capture
            .configs
            .insert("t".into(), vec![("retention.ms".into(), "86400000".into())]);
        capture.finish();
        capture
    }

    fn round_trip(
        capture: &Capture,
        format: CaptureFormat,
        compress: bool,
    ) -> (Capture, Vec<String>) {
        let mut bytes = Vec::new();
        write_capture(capture, &mut bytes, format, compress).unwrap();
        assert_eq!(bytes.starts_with(&ZSTD_MAGIC), compress);
        read_capture(bytes.as_slice(), "sample").unwrap()
    }

    #[test]
    fn freshlens_captures_round_trip_bytes_watermarks_and_groups() {
        let capture = sample();
        for compress in [false, true] {
            let (back, warnings) = round_trip(&capture, CaptureFormat::Freshlens, compress);
            assert!(warnings.is_empty(), "{warnings:?}");
            assert_eq!(back, capture);
            assert_eq!(back.now_ms(), 1_700_000_100_000);
            assert_eq!(
                back.committed_offsets("builder", &[("t".into(), 0)])
                    .unwrap()[&("t".into(), 0)],
                Some(7)
            );
        }
    }

    #[test]
    fn kcat_lines_round_trip_text_records() {
        let mut capture = Capture::new("kcat", 0);
        capture.push(Record {
            topic: "orders".into(),
            partition: 1,
            offset: 41,
            timestamp_ms: Some(1_000),
            timestamp_kind: TimestampKind::CreateTime,
            key: Some(b"cust-9".to_vec()),
            value: Some(br#"{"amount":3}"#.to_vec()),
            headers: vec![("h".into(), Some(b"v".to_vec()))],
        });
        capture.finish();
        let (back, warnings) = round_trip(&capture, CaptureFormat::Kcat, false);
        assert!(warnings.is_empty());
        assert_eq!(
            back.records().collect::<Vec<_>>(),
            capture.records().collect::<Vec<_>>()
        );
        // Without a header the newest record stands for the capture time.
        assert_eq!(back.now_ms(), 1_000);
        let topic = back.topic("orders").unwrap();
        assert_eq!(
            (topic.partitions[0].low, topic.partitions[0].high),
            (41, 42)
        );
    }

    #[test]
    fn reads_what_kcat_prints() {
        let line = r#"{"topic":"c360.orders","partition":0,"offset":3,"tstype":"create","ts":1700000000000,"broker":1,"headers":["source","web"],"key":"cust-1","payload":"{\"amount\":12.5}"}"#;
        let (capture, warnings) = read_capture(line.as_bytes(), "kcat.jsonl").unwrap();
        assert!(warnings.is_empty());
        let record = capture.records().next().unwrap();
        assert_eq!(record.key.as_deref(), Some(&b"cust-1"[..]));
        assert_eq!(record.value.as_deref(), Some(&br#"{"amount":12.5}"#[..]));
        assert_eq!(
            record.headers,
            vec![("source".to_owned(), Some(b"web".to_vec()))]
        );
        assert_eq!(record.timestamp_ms, Some(1_700_000_000_000));
    }

    #[test]
    fn corrupt_and_truncated_lines_are_reported_with_their_number_and_skipped() {
        let mut bytes = Vec::new();
        write_capture(&sample(), &mut bytes, CaptureFormat::Freshlens, false).unwrap();
        let mut text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // Line 3 loses its offset, and the file ends in the middle of a line.
        let broken = lines[2].replace("\"offset\":6,", "");
        let truncated = &lines[3][..lines[3].len() / 2];
        text = format!(
            "{}\n{}\n{broken}\nnot json\n{truncated}",
            lines[0], lines[1]
        );
        let (capture, warnings) = read_capture(text.as_bytes(), "broken.jsonl").unwrap();
        assert_eq!(capture.record_count(), 1, "only the intact record");
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings[0].starts_with("line 3: no offset"),
            "{}",
            warnings[0]
        );
        assert!(
            warnings[1].starts_with("line 4: not JSON"),
            "{}",
            warnings[1]
        );
        assert!(
            warnings[2].starts_with("line 5: not JSON"),
            "{}",
            warnings[2]
        );
    }

    #[test]
    fn a_truncated_zstd_file_keeps_what_it_could_read() {
        let mut bytes = Vec::new();
        write_capture(&sample(), &mut bytes, CaptureFormat::Freshlens, true).unwrap();
        bytes.truncate(bytes.len() - 8);
        let (_, warnings) = read_capture(bytes.as_slice(), "cut.jsonl.zst").unwrap();
        assert!(!warnings.is_empty());
    }
}
