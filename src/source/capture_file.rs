//! Capture files: freshlens' own JSON Lines (a header with the watermarks and committed group
//! offsets at capture time, then one record per line) and kcat's `-J` envelopes, either one
//! optionally zstd-compressed. Bad lines are reported with their number and skipped.

mod byte_json;

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};

use self::byte_json::Json;
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

/// Why a file is not a capture, with the first problems found.
fn not_a_capture(what: &str, warnings: &[String]) -> String {
    let mut text = format!("not a capture: {what}");
    for w in warnings.iter().take(3) {
        text += &format!("; {w}");
    }
    if warnings.len() > 3 {
        text += &format!("; and {} more", warnings.len() - 3);
    }
    text
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

/// The longest line a capture may hold: a record far larger than any broker accepts (the
/// default `message.max.bytes` is 1 MB) means the file is not a capture.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// How reading one line ended.
enum Line {
    /// A line (without its newline); `false` at the end of the input.
    Read(bool),
    /// Longer than [`MAX_LINE_BYTES`]: nothing after it is read.
    TooLong,
}

/// Reads one line into `buf` (cleared first) without ever holding more than the cap.
fn read_line(reader: &mut dyn BufRead, buf: &mut Vec<u8>) -> std::io::Result<Line> {
    buf.clear();
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(Line::Read(!buf.is_empty()));
        }
        let (chunk, done) = match memchr::memchr(b'\n', available) {
            Some(at) => (&available[..at], Some(at + 1)),
            None => (available, None),
        };
        if buf.len() + chunk.len() > MAX_LINE_BYTES {
            return Ok(Line::TooLong);
        }
        buf.extend_from_slice(chunk);
        let used = done.unwrap_or(available.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(Line::Read(true));
        }
    }
}

/// Reads a capture from any reader, zstd-compressed or not. Each line is read on its own:
/// a bad one is reported with its number and skipped. A file that yields no records (unless
/// its header says its topics were empty), or where more lines failed than were read, is an
/// error: it is not a capture, and an empty answer from it would be a confident wrong one.
pub fn read_capture(reader: impl Read, name: &str) -> Result<(Capture, Vec<String>), ClusterError> {
    let mut reader = BufReader::new(reader);
    let head = reader.fill_buf().map_err(|e| error(name, e.to_string()))?;
    let mut lines: Box<dyn BufRead> = if head.starts_with(&ZSTD_MAGIC) {
        let decoder = zstd::Decoder::with_buffer(reader).map_err(|e| error(name, e.to_string()))?;
        Box::new(BufReader::new(decoder))
    } else {
        Box::new(reader)
    };
    let mut capture = Capture::new(name, 0);
    let mut warnings = Vec::new();
    let mut header_seen = false;
    let mut latest_ts = 0;
    let (mut failed, mut not_utf8) = (0usize, Vec::new());
    let mut buf = Vec::new();
    let mut number = 0;
    loop {
        number += 1;
        match read_line(lines.as_mut(), &mut buf) {
            Ok(Line::Read(true)) => {}
            Ok(Line::Read(false)) => break,
            Ok(Line::TooLong) => {
                failed += 1;
                warnings.push(format!(
                    "line {number}: longer than {} MB; the rest is not read",
                    MAX_LINE_BYTES >> 20
                ));
                break;
            }
            Err(e) => {
                // A truncated or corrupt zstd stream ends the readable part of the file.
                failed += 1;
                warnings.push(format!("line {number}: {e}; the rest is unreadable"));
                break;
            }
        }
        // kcat writes key, payload and header bytes of 0x80 and up raw inside its JSON strings
        // (yajl does not escape them): a line that is not UTF-8 is read byte for byte, its
        // strings as the bytes they hold.
        let (read, exact) = match std::str::from_utf8(&buf) {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => (serde_json::from_str(line).map_err(|e| e.to_string()), None),
            Err(_) => match byte_json::parse(&buf) {
                Ok(json) => (Ok(json.to_value()), Some(json)),
                Err(e) => (Err(e.to_string()), None),
            },
        };
        let value: Value = match read {
            Ok(value) => value,
            Err(e) => {
                failed += 1;
                warnings.push(format!("line {number}: not JSON ({e}), skipped"));
                continue;
            }
        };
        let kcat = value.get(HEADER_TAG).is_none()
            && (value.get("payload").is_some() || value.get("tstype").is_some());
        if exact.is_some() && !kcat {
            // Only kcat lines hold raw bytes; anything else is read with U+FFFD for them.
            not_utf8.push(number);
        }
        if value.get(HEADER_TAG).is_some() {
            if header_seen || number != 1 {
                failed += 1;
                warnings.push(format!("line {number}: a second header, skipped"));
                continue;
            }
            header_seen = true;
            if let Some(problem) = impossible_numbers(&value) {
                return Err(error(name, format!("line {number}: {problem}")));
            }
            if let Err(problem) = apply_header(&mut capture, &value) {
                warnings.push(format!("line {number}: bad header ({problem})"));
            }
            continue;
        }
        let parsed = if kcat {
            kcat_record(&value, exact.as_ref())
        } else {
            freshlens_record(&value)
        };
        match parsed {
            Ok(record) if !possible_offset(record.offset) => {
                return Err(error(
                    name,
                    format!(
                        "line {number}: record offset {} of {}/{} is impossible ({})",
                        record.offset, record.topic, record.partition, OFFSET_RANGE
                    ),
                ));
            }
            Ok(record) => {
                latest_ts = latest_ts.max(record.timestamp_ms.unwrap_or(0));
                capture.push(record);
            }
            Err(problem) => {
                failed += 1;
                warnings.push(format!("line {number}: {problem}, skipped"));
            }
        }
    }
    if !not_utf8.is_empty() {
        let shown: Vec<String> = not_utf8.iter().take(5).map(|n| n.to_string()).collect();
        warnings.push(format!(
            "{} line(s) held bytes that are not UTF-8 (line {}{}): read with those bytes \
             replaced by U+FFFD",
            not_utf8.len(),
            shown.join(", "),
            if not_utf8.len() > 5 { ", …" } else { "" }
        ));
    }
    let read = capture.record_count();
    let declared_empty = header_seen
        && capture
            .topics
            .values()
            .flat_map(|t| t.values())
            .all(|p| p.high <= p.low);
    if read == 0 && !declared_empty {
        return Err(error(
            name,
            not_a_capture("no records could be read", &warnings),
        ));
    }
    if failed > read {
        return Err(error(
            name,
            not_a_capture(
                &format!("{failed} lines could not be read, {read} records could"),
                &warnings,
            ),
        ));
    }
    if capture.captured_at_ms == 0 {
        // kcat lines say nothing of when they were taken: the newest record stands in.
        capture.captured_at_ms = latest_ts;
    }
    capture.finish();
    Ok((capture, warnings))
}

/// The largest offset a capture may hold: 2^53, past which JSON readers lose integer precision
/// and which no log reaches (285 years at a million records a second). Sums of watermarks and
/// lags of such offsets stay far from overflowing an i64.
const MAX_OFFSET: i64 = 1 << 53;
const OFFSET_RANGE: &str = "offsets and watermarks are 0 to 2^53";

fn possible_offset(offset: i64) -> bool {
    (0..=MAX_OFFSET).contains(&offset)
}

/// The first watermark or offset in a header that no cluster could have answered: negative,
/// past [`MAX_OFFSET`], or a high watermark below the low one.
fn impossible_numbers(header: &Value) -> Option<String> {
    for topic in header["topics"].as_array().into_iter().flatten() {
        let name = topic["name"].as_str().unwrap_or("?");
        for p in topic["partitions"].as_array().into_iter().flatten() {
            let id = &p["id"];
            let low = p["low"].as_i64();
            let high = p["high"].as_i64();
            for (what, mark) in [("low", low), ("high", high)] {
                if let Some(mark) = mark.filter(|m| !possible_offset(*m)) {
                    return Some(format!(
                        "topic {name} partition {id}: {what} watermark {mark} is impossible \
                         ({OFFSET_RANGE})"
                    ));
                }
            }
            if let (Some(low), Some(high)) = (low, high)
                && high < low
            {
                return Some(format!(
                    "topic {name} partition {id}: high watermark {high} is below the low \
                     watermark {low}"
                ));
            }
        }
    }
    for g in header["groups"].as_array().into_iter().flatten() {
        let group = g["group"].as_str().unwrap_or("?");
        let offsets = g["offsets"].as_array().into_iter().flatten();
        let commits = g["commits"].as_array().into_iter().flatten();
        for (what, o) in offsets
            .map(|o| ("committed offset", o))
            .chain(commits.map(|c| ("commit", c)))
        {
            if let Some(offset) = o["offset"].as_i64().filter(|o| !possible_offset(*o)) {
                return Some(format!(
                    "group {group}: {what} {offset} on {}/{} is impossible ({OFFSET_RANGE})",
                    o["topic"].as_str().unwrap_or("?"),
                    o["partition"]
                ));
            }
        }
    }
    None
}

/// Why a header or record line cannot be read, in the words its warning quotes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum LineError {
    /// What the line lacks: "no topic", "a header without a key".
    #[error("{0}")]
    Missing(&'static str),
    #[error("{field}_b64 is not base64 ({error})")]
    NotBase64 {
        field: String,
        error: base64::DecodeError,
    },
}

impl From<&'static str> for LineError {
    fn from(missing: &'static str) -> Self {
        Self::Missing(missing)
    }
}

fn apply_header(capture: &mut Capture, header: &Value) -> Result<(), LineError> {
    if let Some(name) = header["name"].as_str() {
        capture.name = name.to_owned();
    }
    capture.pii = header["pii"].as_str().map(str::to_owned);
    capture.captured_at_ms = header["captured_at_ms"]
        .as_i64()
        .filter(|ms| crate::time::plausible_ms(*ms))
        .ok_or("no captured_at_ms between 1970 and 9999")?;
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

fn position(value: &Value) -> Result<(String, i32, i64), LineError> {
    let topic = value["topic"].as_str().ok_or("no topic")?;
    let partition = value["partition"].as_i64().ok_or("no partition")?;
    let offset = value["offset"].as_i64().ok_or("no offset")?;
    Ok((topic.to_owned(), partition as i32, offset))
}

/// Text as is, or base64 under `<field>_b64` for bytes that are not UTF-8.
fn bytes(value: &Value, field: &str) -> Result<Option<Vec<u8>>, LineError> {
    if let Some(text) = value.get(field).and_then(Value::as_str) {
        return Ok(Some(text.as_bytes().to_vec()));
    }
    match value.get(format!("{field}_b64")).and_then(Value::as_str) {
        Some(encoded) => B64
            .decode(encoded)
            .map(Some)
            .map_err(|error| LineError::NotBase64 {
                field: field.to_owned(),
                error,
            }),
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

fn freshlens_record(value: &Value) -> Result<Record, LineError> {
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

/// A kcat line as a record. `exact` is the line read byte for byte where it was not UTF-8: the
/// key, payload and header values come from it, so raw bytes stay the record's bytes (topic and
/// header names are text in Kafka).
fn kcat_record(value: &Value, exact: Option<&Json>) -> Result<Record, LineError> {
    let field = |name: &str| match exact.and_then(|line| line.get(name)) {
        Some(json) => Cow::Borrowed(json),
        None => Cow::Owned(Json::from(&value[name])),
    };
    let (topic, partition, offset) = position(value)?;
    let timestamp_ms = value["ts"].as_i64().filter(|ts| *ts >= 0);
    let timestamp_kind = match (value["tstype"].as_str(), timestamp_ms) {
        (_, None) | (Some("none"), _) => TimestampKind::NotAvailable,
        (Some("logappend"), _) => TimestampKind::LogAppendTime,
        _ => TimestampKind::CreateTime,
    };
    // kcat lists headers as a flat array: name, value, name, value...
    let headers = match &*field("headers") {
        Json::Array(flat) => flat
            .chunks(2)
            .filter_map(|pair| {
                let Json::Bytes(name) = pair.first()? else {
                    return None;
                };
                let data = match pair.get(1)? {
                    Json::Bytes(data) => Some(data.clone()),
                    _ => None,
                };
                Some((String::from_utf8_lossy(name).into_owned(), data))
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(Record {
        topic,
        partition,
        offset,
        timestamp_ms,
        timestamp_kind,
        key: kcat_bytes(&field("key")),
        value: kcat_bytes(&field("payload")),
        headers,
    })
}

/// A kcat field's bytes: a string's bytes as they are; a deserialized payload (`-s value=avro`
/// prints the record as a JSON object) as that JSON; null as none.
fn kcat_bytes(field: &Json) -> Option<Vec<u8>> {
    match field {
        Json::Null => None,
        Json::Bytes(bytes) => Some(bytes.clone()),
        other => serde_json::to_vec(&other.to_value()).ok(),
    }
}

/// Saves `capture` to `path` in `format`, zstd-compressed when the name ends in `.zst`.
pub fn save_capture(
    capture: &Capture,
    path: &Path,
    format: CaptureFormat,
) -> Result<(), ClusterError> {
    let name = path.display().to_string();
    let compress = path.extension().is_some_and(|e| e == "zst");
    let partial = partial_path(path);
    let file = std::fs::File::create(&partial)
        .map_err(|e| error(&name, format!("cannot create {}: {e}", partial.display())))?;
    let written = write_capture(capture, &file, format, compress)
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write: {e}"))
        .and_then(|()| {
            std::fs::rename(&partial, path)
                .map_err(|e| format!("cannot rename {} to it: {e}", partial.display()))
        });
    written.map_err(|problem| {
        let _ = std::fs::remove_file(&partial);
        error(&name, problem)
    })
}

/// Where a capture is written before it is complete: a hidden name in the same directory
/// (so the rename to the final name is atomic), unique to this process. An interrupted write
/// leaves at most this file, never a truncated capture under the name asked for.
pub fn partial_path(path: &Path) -> std::path::PathBuf {
    let file_name = path
        .file_name()
        .map_or_else(|| "capture".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{file_name}.partial-{}", std::process::id()))
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
        "pii": capture.pii,
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

    fn sample_lines() -> Vec<String> {
        let mut bytes = Vec::new();
        write_capture(&sample(), &mut bytes, CaptureFormat::Freshlens, false).unwrap();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn a_bad_line_is_reported_with_its_number_and_skipped() {
        let lines = sample_lines();
        // Line 3 loses its offset; the lines around it still count.
        let broken = lines[2].replace("\"offset\":6,", "");
        let text = format!("{}\n{}\n{broken}\n{}\n", lines[0], lines[1], lines[3]);
        let (capture, warnings) = read_capture(text.as_bytes(), "broken.jsonl").unwrap();
        assert_eq!(capture.record_count(), 2);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("line 3: no offset"),
            "{}",
            warnings[0]
        );
    }

    #[test]
    fn more_bad_lines_than_records_is_not_a_capture() {
        let lines = sample_lines();
        let broken = lines[2].replace("\"offset\":6,", "");
        let truncated = &lines[3][..lines[3].len() / 2];
        let text = format!(
            "{}\n{}\n{broken}\nnot json\n{truncated}",
            lines[0], lines[1]
        );
        let error = read_capture(text.as_bytes(), "broken.jsonl")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("not a capture: 3 lines could not be read, 1 records could")
                && error.contains("line 3: no offset")
                && error.contains("line 4: not JSON"),
            "{error}"
        );
    }

    #[test]
    fn nothing_readable_is_an_error_never_an_empty_capture() {
        let mut random = vec![0u8; 4096];
        let mut x: u32 = 12345;
        for b in &mut random {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            *b = (x >> 16) as u8;
        }
        let mut broken_zstd = ZSTD_MAGIC.to_vec();
        broken_zstd.extend_from_slice(&random[..64]);
        for (what, bytes) in [
            ("empty", Vec::new()),
            ("random", random),
            ("broken zstd", broken_zstd),
        ] {
            let result = read_capture(bytes.as_slice(), what);
            let error = result.expect_err(what).to_string();
            assert!(error.contains("not a capture"), "{what}: {error}");
        }
        // A header whose topics were empty is a capture of nothing, truthfully.
        let header = r#"{"freshlens_capture":1,"captured_at_ms":5,"topics":[{"name":"t","partitions":[{"id":0,"low":3,"high":3}]}]}"#;
        let (capture, _) = read_capture(header.as_bytes(), "empty topics").unwrap();
        assert_eq!(capture.record_count(), 0);
    }

    #[test]
    fn a_line_may_not_grow_without_bound() {
        // /dev/zero, and a small zstd file that expands to one huge line.
        let zeros = std::io::repeat(0).take(MAX_LINE_BYTES as u64 + 10);
        let error = read_capture(zeros, "/dev/zero").unwrap_err().to_string();
        assert!(error.contains("line 1: longer than 64 MB"), "{error}");
        let mut bomb = Vec::new();
        {
            let mut encoder = zstd::Encoder::new(&mut bomb, 19).unwrap();
            std::io::copy(
                &mut std::io::repeat(b'a').take(MAX_LINE_BYTES as u64 + 1),
                &mut encoder,
            )
            .unwrap();
            encoder.finish().unwrap();
        }
        assert!(bomb.len() < 100_000, "{} bytes", bomb.len());
        let error = read_capture(bomb.as_slice(), "bomb.zst")
            .unwrap_err()
            .to_string();
        assert!(error.contains("longer than 64 MB"), "{error}");
    }

    #[test]
    fn kcat_lines_with_raw_bytes_and_avro_payloads() {
        // yajl writes bytes of 0x80 and up raw inside strings: line 2 is not UTF-8, and its
        // payload is read byte for byte.
        let good = |offset: i64, payload: &str| {
            format!(
                r#"{{"topic":"t","partition":0,"offset":{offset},"tstype":"create","ts":1700000000000,"key":"k","payload":{payload}}}"#
            )
            .into_bytes()
        };
        let mut bytes = good(0, r#""{\"a\":1}""#);
        bytes.push(b'\n');
        let mut raw = good(1, "\"xy\"");
        let at = raw.iter().position(|b| *b == b'x').unwrap();
        raw.splice(at..at + 1, [0xff, 0xfe]);
        bytes.extend(raw);
        bytes.push(b'\n');
        // kcat -s value=avro prints the decoded record as a JSON object.
        bytes.extend(good(2, r#"{"customer_id":"cust-1","amount":12.5}"#));
        let (capture, warnings) = read_capture(bytes.as_slice(), "kcat.jsonl").unwrap();
        assert_eq!(capture.record_count(), 3, "{warnings:?}");
        assert!(warnings.is_empty(), "{warnings:?}");
        let values: Vec<Option<&[u8]>> = capture.records().map(|r| r.value.as_deref()).collect();
        assert_eq!(
            values[2],
            Some(&br#"{"customer_id":"cust-1","amount":12.5}"#[..])
        );
        assert_eq!(values[1], Some(&[0xff, 0xfe, b'y'][..]));
    }

    /// A string as kcat's `-J` writes it: yajl's `yajl_string_encode` with kcat's settings
    /// (no UTF-8 validation, no `\/`) between quotes: `"`, `\` and the bytes below 0x20 escaped
    /// (`\u00XX` in capitals where no short escape exists), every other byte as it is.
    fn yajl_string(bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![b'"'];
        for &b in bytes {
            match b {
                b'\r' => out.extend(b"\\r"),
                b'\n' => out.extend(b"\\n"),
                b'\\' => out.extend(b"\\\\"),
                b'"' => out.extend(b"\\\""),
                0x0c => out.extend(b"\\f"),
                0x08 => out.extend(b"\\b"),
                b'\t' => out.extend(b"\\t"),
                0..0x20 => out.extend(format!("\\u00{b:02X}").bytes()),
                _ => out.push(b),
            }
        }
        out.push(b'"');
        out
    }

    /// One line of kcat `-J` (json.c's `fmt_msg_output_json`, field for field), with a header
    /// and the key and payload as yajl writes them; `None` is kcat's null.
    fn kcat_json_line(
        offset: i64,
        header: &[u8],
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
    ) -> Vec<u8> {
        let string = |data: Option<&[u8]>| data.map_or(b"null".to_vec(), yajl_string);
        let mut line = format!(
            r#"{{"topic":"c360.orders","partition":0,"offset":{offset},"tstype":"create","ts":1700000000000,"broker":1,"headers":["trace","#
        )
        .into_bytes();
        line.extend(yajl_string(header));
        line.extend(b"],\"key\":");
        line.extend(string(key));
        line.extend(b",\"payload\":");
        line.extend(string(payload));
        line.push(b'}');
        line
    }

    #[test]
    fn kcat_raw_bytes_come_through_byte_for_byte() {
        // Bytes 0x80 and 0xff raw, bytes below 0x20 escaped, a quote, a backslash, DEL, and a
        // UTF-8 "é" among them: the key, the payload and the header value as on the cluster.
        let key: &[u8] = &[0x80, 0xff, 0x00, b'k', 0x1f];
        let payload: &[u8] = &[
            0xff, 0xfe, 0x80, b'"', b'\\', b'\n', 0x01, 0x7f, 0xc3, 0xa9, b'/', 0xc3,
        ];
        let header: &[u8] = &[0x80, 0x09, 0xff];
        let line = kcat_json_line(7, header, Some(key), Some(payload));
        assert!(std::str::from_utf8(&line).is_err());
        assert!(line.windows(6).any(|w| w == br"\u001F"), "kcat's escape");
        let (capture, warnings) = read_capture(line.as_slice(), "kcat.jsonl").unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let record = capture.records().next().unwrap();
        assert_eq!(record.key.as_deref(), Some(key));
        assert_eq!(record.value.as_deref(), Some(payload));
        assert_eq!(
            record.headers,
            vec![("trace".to_owned(), Some(header.to_vec()))]
        );
        assert_eq!(
            (record.topic.as_str(), record.offset, record.timestamp_ms),
            ("c360.orders", 7, Some(1_700_000_000_000))
        );
        // The same record with text only is read as it always was.
        let text = kcat_json_line(8, b"web", Some(b"cust-\xc3\xa9"), Some(b"{\"n\":1}"));
        let (capture, warnings) = read_capture(text.as_slice(), "kcat.jsonl").unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let record = capture.records().next().unwrap();
        assert_eq!(record.key.as_deref(), Some("cust-é".as_bytes()));
        assert_eq!(record.value.as_deref(), Some(&b"{\"n\":1}"[..]));
    }

    #[test]
    fn a_framed_avro_payload_captured_by_kcat_decodes_as_on_the_cluster() {
        use crate::codec::{ParsedSchema, confluent_frame};
        let schema = ParsedSchema::parse(
            r#"{"type":"record","name":"Order","namespace":"c360","fields":[
                {"name":"customer_id","type":"string"},
                {"name":"ts","type":"long"},
                {"name":"amount","type":"double"}]}"#,
            &[],
        )
        .unwrap();
        let mut order = apache_avro::types::Record::new(&schema.schema).unwrap();
        order.put("customer_id", "cust-1");
        order.put("ts", 1_700_000_000_000i64);
        order.put("amount", -1.5f64);
        // Confluent framing: magic byte 0, schema id 7, then the binary datum.
        let mut framed = vec![0, 0, 0, 0, 7];
        framed.extend(schema.encode(order).unwrap());
        assert!(framed.iter().any(|b| *b >= 0x80) && framed.iter().any(|b| *b < 0x20));
        // A binary key: a UUID's 16 bytes.
        let key: Vec<u8> = (0..16u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
        let line = kcat_json_line(3, b"web", Some(&key), Some(&framed));
        let (capture, warnings) = read_capture(line.as_slice(), "kcat.jsonl").unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let record = capture.records().next().unwrap();
        assert_eq!(record.key.as_deref(), Some(key.as_slice()));
        assert_eq!(record.value.as_deref(), Some(framed.as_slice()));
        let (id, body) = confluent_frame(record.value.as_deref().unwrap()).unwrap();
        assert_eq!(id, 7);
        assert_eq!(
            schema.decode(body).unwrap(),
            json!({"customer_id": "cust-1", "ts": 1_700_000_000_000i64, "amount": -1.5})
        );
    }

    #[test]
    fn bad_lines_that_are_not_utf8_are_reported_as_before() {
        let good = kcat_json_line(0, b"web", Some(b"k"), Some(b"v"));
        let raw = kcat_json_line(1, b"web", Some(&[0x80]), Some(&[0xff, 0x80, 0x81, 0x82]));
        // Cut inside the payload, and a broken escape after a raw byte.
        let cut = &raw[..raw.len() - 4];
        let mut bad_escape = raw.clone();
        let at = bad_escape.iter().position(|b| *b == 0xff).unwrap();
        bad_escape.splice(at + 1..at + 1, *br"\q");
        // A freshlens line holding a raw byte is read with U+FFFD and said so, as before.
        let mut lossy = sample_lines()[1].clone().into_bytes();
        let at = lossy.windows(6).position(|w| w == b"cust-1").unwrap();
        lossy[at + 5] = 0xff;
        let mut text = Vec::new();
        for line in [&good[..], cut, &bad_escape, &lossy, &raw] {
            text.extend_from_slice(line);
            text.push(b'\n');
        }
        let (capture, warnings) = read_capture(text.as_slice(), "mixed.jsonl").unwrap();
        assert_eq!(capture.record_count(), 3, "{warnings:?}");
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings[0].starts_with("line 2: not JSON (EOF while parsing a string at byte ")
                && warnings[0].ends_with("), skipped"),
            "{}",
            warnings[0]
        );
        assert!(
            warnings[1].starts_with("line 3: not JSON (invalid escape at byte "),
            "{}",
            warnings[1]
        );
        assert!(
            warnings[2].starts_with("1 line(s) held bytes that are not UTF-8 (line 4)"),
            "{}",
            warnings[2]
        );
        let keys: Vec<Option<&[u8]>> = capture.records().map(|r| r.key.as_deref()).collect();
        assert!(keys.contains(&Some("cust-\u{fffd}".as_bytes())), "{keys:?}");
        assert!(keys.contains(&Some(&[0x80][..])), "{keys:?}");
    }

    /// A record's key and value, `None` where null.
    type KeyAndValue<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

    /// The records of kcat lines that must all read without a warning.
    fn records_read(text: &[u8]) -> Vec<Record> {
        let (capture, warnings) = read_capture(text, "kcat.jsonl").unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        capture.records().cloned().collect()
    }

    /// What kcat's tests read with jq: the key and the payload.
    fn key_and_value(record: &Record) -> KeyAndValue<'_> {
        (record.key.as_deref(), record.value.as_deref())
    }

    /// kcat's own `-J` tests, as the lines kcat prints for them. `tests/0002-delim.sh`:
    /// records produced with `-K` key delimiters and `-Z` (empty is null), read back with
    /// `jq '.key + "=" + .payload'`. `tests/0003-avro.sh`: `-s value=avro` prints the value as
    /// avro-c's one-line JSON verbatim (`{"number": 63, "name": "TestName"}`) and `-s key=avro`
    /// a string key as a JSON string, each with its schema id beside it.
    #[test]
    fn kcat_own_json_tests() {
        let delim: [KeyAndValue; 8] = [
            (Some(b"Key1"), Some(b"Value1")),
            (None, Some(b"Value2")),
            (Some(b"Key3"), None),
            (None, Some(b"Value4")),
            (Some(b"The First"), Some(b"Message1")),
            (Some(b"Is The"), None),
            (None, Some(b"Greatest")),
            (None, Some(b"For sure")),
        ];
        let mut text = Vec::new();
        for (offset, (key, payload)) in delim.iter().enumerate() {
            text.extend(kcat_json_line(offset as i64, b"web", *key, *payload));
            text.push(b'\n');
        }
        let records = records_read(&text);
        assert_eq!(records.iter().map(key_and_value).collect::<Vec<_>>(), delim);

        let avro = [
            r#"{"topic":"kcat_test_avro","partition":0,"offset":0,"tstype":"create","ts":1700000000000,"broker":1,"key":null,"payload":{"number": 63, "name": "TestName"},"value_schema_id":1}"#,
            r#"{"topic":"kcat_test_avro","partition":0,"offset":1,"tstype":"create","ts":1700000000001,"broker":1,"key":"An Avro Key","key_schema_id":2,"payload":{"number": 63, "name": "TestName"},"value_schema_id":1}"#,
        ]
        .join("\n");
        let records = records_read(avro.as_bytes());
        let value = &br#"{"number":63,"name":"TestName"}"#[..];
        assert_eq!(
            records.iter().map(key_and_value).collect::<Vec<_>>(),
            [
                (None, Some(value)),
                (Some(&b"An Avro Key"[..]), Some(value))
            ]
        );
    }

    #[test]
    fn a_truncated_zstd_file_keeps_what_it_could_read() {
        let mut capture = Capture::new("big", 1_700_000_100_000);
        for offset in 0..20_000 {
            capture.push(Record {
                topic: "t".into(),
                partition: 0,
                offset,
                timestamp_ms: Some(1_700_000_000_000 + offset),
                timestamp_kind: TimestampKind::CreateTime,
                key: Some(format!("key-{offset}").into_bytes()),
                value: Some(
                    format!("{{\"n\":{offset},\"pad\":\"{offset:x}{offset:o}\"}}").into_bytes(),
                ),
                headers: Vec::new(),
            });
        }
        let mut bytes = Vec::new();
        write_capture(&capture, &mut bytes, CaptureFormat::Freshlens, true).unwrap();
        bytes.truncate(bytes.len() * 2 / 3);
        let (read, warnings) = read_capture(bytes.as_slice(), "cut.jsonl.zst").unwrap();
        assert!(read.record_count() > 1_000, "{}", read.record_count());
        assert!(read.record_count() < 20_000);
        assert!(
            warnings.last().unwrap().contains("the rest is unreadable"),
            "{warnings:?}"
        );
    }

    #[test]
    fn impossible_watermarks_and_offsets_are_errors_naming_their_line() {
        let header = |topics: Value, groups: Value| {
            json!({HEADER_TAG: 1, "captured_at_ms": 1_700_000_100_000i64,
                "topics": topics, "groups": groups})
            .to_string()
        };
        let record = json!({"topic": "t", "partition": 0, "offset": 0, "value": "v"}).to_string();
        let part = |low: i64, high: i64| json!([{"name": "t", "partitions": [{"id": 0, "low": low, "high": high}]}]);
        let committed = |offset: i64| json!([{"group": "g", "offsets": [{"topic": "t", "partition": 0, "offset": offset}]}]);
        for (text, says) in [
            (
                format!("{}\n{record}", header(part(0, i64::MAX), json!([]))),
                "line 1: topic t partition 0: high watermark 9223372036854775807 is impossible",
            ),
            (
                format!("{}\n{record}", header(part(-3, 4), json!([]))),
                "line 1: topic t partition 0: low watermark -3 is impossible",
            ),
            (
                format!("{}\n{record}", header(part(5, 4), json!([]))),
                "line 1: topic t partition 0: high watermark 4 is below the low watermark 5",
            ),
            (
                format!("{}\n{record}", header(part(0, 4), committed(-5))),
                "line 1: group g: committed offset -5 on t/0 is impossible",
            ),
            (
                format!(
                    "{}\n{record}\n{}",
                    header(part(0, 4), json!([])),
                    json!({"topic": "t", "partition": 0, "offset": -1, "value": "v"})
                ),
                "line 3: record offset -1 of t/0 is impossible",
            ),
        ] {
            let err = read_capture(text.as_bytes(), "bad.jsonl")
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{err}");
            assert!(err.contains("bad.jsonl"), "{err}");
        }
    }

    #[test]
    fn a_capture_appears_whole_under_its_name_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.jsonl");
        std::fs::write(&path, "an older capture").unwrap();
        save_capture(&sample(), &path, CaptureFormat::Freshlens).unwrap();
        assert_eq!(load_capture(&path).unwrap().0, sample());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("c.jsonl")]);
        // Written to a hidden name first: the final name never holds a partial file.
        assert_eq!(
            partial_path(&path),
            dir.path()
                .join(format!(".c.jsonl.partial-{}", std::process::id()))
        );
        // A final name that cannot be replaced (a directory) leaves no partial file behind.
        let taken = dir.path().join("taken");
        std::fs::create_dir(&taken).unwrap();
        std::fs::write(taken.join("x"), "").unwrap();
        assert!(save_capture(&sample(), &taken, CaptureFormat::Freshlens).is_err());
        assert!(!partial_path(&taken).exists());
    }
}
