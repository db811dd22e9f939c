//! `freshlens messages`: stream records from a topic, kcat style, as text or JSON Lines.

use crate::profile::Spec;
use crate::source::Source;
use std::io::Write;

use anyhow::Context as _;
use regex::bytes::Regex;

use crate::cluster::{CancelToken, RecordFilter, ScanEvent, ScanRequest, StartAt};
use crate::codec::{self, Expect};

#[derive(Debug, Clone, clap::Args)]
pub struct MessagesArgs {
    /// Topic to read
    #[arg(short = 't', long)]
    pub topic: String,
    /// Partition to read (repeatable); all when absent
    #[arg(short = 'p', long = "partition")]
    pub partitions: Vec<i32>,
    /// Start: beginning, end, OFFSET, -N (last N per partition) or @TIMESTAMP_MS
    #[arg(
        short = 'o',
        long = "offset",
        default_value = "beginning",
        allow_hyphen_values = true
    )]
    pub start: String,
    /// Stop after this many matching records (at least 1)
    #[arg(short = 'c', long = "count", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Stop each partition at its first record after this time (ms since the epoch)
    #[arg(long = "until")]
    pub until_ms: Option<i64>,
    /// Only records with exactly this key
    #[arg(long)]
    pub key: Option<String>,
    /// Only records whose key or value contains this text
    #[arg(long)]
    pub contains: Option<String>,
    /// Only records whose key or value matches this regular expression
    #[arg(long = "grep")]
    pub grep: Option<String>,
    /// How to read values
    #[arg(long = "value-format", value_enum, default_value_t = Expect::Auto)]
    pub value_format: Expect,
    /// Print JSON Lines, one record per line
    #[arg(long)]
    pub json: bool,
    /// Print progress to stderr
    #[arg(long)]
    pub progress: bool,
    /// A profile spec whose `pii` fields are masked in the values shown
    #[arg(long)]
    pub spec: Option<std::path::PathBuf>,
    /// With --spec: show `pii` values instead of masking them
    #[arg(long, requires = "spec")]
    pub reveal_pii: bool,
    /// With --spec: how its Avro and Protobuf sources are read
    #[command(flatten)]
    pub registry: super::profile::RegistryArgs,
}

impl MessagesArgs {
    pub fn to_request(&self) -> anyhow::Result<ScanRequest> {
        let start: StartAt = self.start.parse().map_err(anyhow::Error::msg)?;
        let regex = self
            .grep
            .as_deref()
            .map(Regex::new)
            .transpose()
            .context("--grep is not a valid regular expression")?;
        Ok(ScanRequest {
            topic: self.topic.clone(),
            partitions: (!self.partitions.is_empty()).then(|| self.partitions.clone()),
            start,
            resume: Default::default(),
            max_records: self.count,
            end_timestamp_ms: self.until_ms,
            filter: RecordFilter {
                keys: self.key.iter().map(|k| k.as_bytes().to_vec()).collect(),
                contains: self.contains.as_ref().map(|c| c.as_bytes().to_vec()),
                regex,
            },
        })
    }
}

/// A record read through its spec's schema: the masked value (or why it did not decode), the
/// schema id, and for Protobuf the message and indexes.
fn show_viewed(json: &mut serde_json::Value, viewed: crate::profile::view::Viewed) {
    let format = if viewed.message.is_some() {
        "protobuf"
    } else {
        "avro"
    };
    match viewed.value {
        Ok(value) => {
            json["value"] = value;
            json["value_format"] = format.into();
            if let Some(object) = json.as_object_mut() {
                object.remove("error");
            }
        }
        Err(why) => {
            json["value"] = crate::profile::MASK.into();
            json["value_format"] = "masked".into();
            json["error"] = why.to_string().into();
        }
    }
    if let Some(id) = viewed.schema_id {
        json["schema_id"] = id.into();
    }
    if let Some(message) = viewed.message {
        json["message"] = message.into();
        json["message_indexes"] = viewed.indexes.into();
    }
}

pub fn run(
    cluster: &dyn Source,
    args: &MessagesArgs,
    request: ScanRequest,
    timeout: std::time::Duration,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let (mask, spec) = match &args.spec {
        Some(path) => {
            let spec = Spec::load(path)?;
            let mask = crate::profile::PiiMask::unless_revealed(&spec, args.reveal_pii);
            // Avro and Protobuf sources are read through their schemas; a decoder that cannot
            // be made (an Avro spec without a registry) leaves them masked whole, and says so.
            let decoder = match args.registry.decoder(&spec, timeout) {
                Ok(decoder) => Some(decoder),
                Err(e) => {
                    eprintln!("warning: the spec's schemas are not used: {e:#}");
                    None
                }
            };
            (mask, decoder.map(|d| (spec, d)))
        }
        None => (crate::profile::PiiMask::none(), None),
    };
    if let StartAt::Offset(offset) = request.start {
        past_every_end(cluster, &request, offset)?;
    }
    let cancel = CancelToken::default();
    let mut write_error: Option<std::io::Error> = None;
    let mut undecodable = 0u64;
    let mut masked_whole = 0u64;
    let summary = cluster.scan(&request, &cancel, &mut |event| match event {
        ScanEvent::Records(records) => {
            for record in &records {
                // Decoded as the spec's format and masked before any view of it is made; not
                // decodable so, it is masked whole.
                let (shown, whole) = match record.value.as_deref() {
                    Some(value) if !mask.is_empty() => mask.mask_payload(&record.topic, value),
                    _ => (std::borrow::Cow::Borrowed(&[][..]), None),
                };
                let mut json = match (&shown, &whole) {
                    (std::borrow::Cow::Owned(shown), None) => codec::record_json(
                        &crate::cluster::Record {
                            value: Some(shown.clone()),
                            key: record.key.clone(),
                            headers: record.headers.clone(),
                            topic: record.topic.clone(),
                            ..*record
                        },
                        args.value_format,
                    ),
                    _ => codec::record_json(record, args.value_format),
                };
                let viewed = spec.as_ref().and_then(|(spec, decoder)| {
                    crate::profile::view::view(
                        spec,
                        decoder,
                        &mask,
                        &record.topic,
                        record.value.as_deref()?,
                    )
                });
                if let Some(viewed) = viewed {
                    show_viewed(&mut json, viewed);
                    if json.get("error").is_some() {
                        undecodable += 1;
                    }
                } else if let Some(why) = whole {
                    masked_whole += 1;
                    json["value"] = crate::profile::MASK.into();
                    json["value_format"] = "masked".into();
                    json["masked"] = why.into();
                    if let Some(object) = json.as_object_mut() {
                        object.remove("error");
                        object.remove("schema_id");
                    }
                }
                if json.get("error").is_some() && json.get("message").is_none() {
                    undecodable += 1;
                }
                let written = if args.json {
                    serde_json::to_writer(&mut *out, &json)
                        .map_err(std::io::Error::from)
                        .and_then(|()| writeln!(out))
                } else {
                    write_text(out, record, &json["value"])
                };
                if let Err(e) = written {
                    write_error = Some(e);
                    return false;
                }
            }
            out.flush().is_ok()
        }
        ScanEvent::Progress(p) => {
            if args.progress {
                eprintln!(
                    "scanned {}/{} records, {} matched, {:.0} records/s, {:.1} MB/s",
                    p.scanned,
                    p.to_scan,
                    p.matched,
                    p.records_per_sec(),
                    p.bytes_per_sec() / 1e6
                );
            }
            true
        }
    })?;
    if let Some(e) = write_error {
        return Err(e.into());
    }
    for warning in &summary.warnings {
        eprintln!("warning: {warning}");
    }
    if masked_whole > 0 {
        eprintln!(
            "{masked_whole} record(s) of a topic with pii fields did not decode as the spec's \
             format: masked whole"
        );
    }
    if undecodable > 0 {
        eprintln!(
            "{undecodable} record(s) could not be decoded as {:?}",
            args.value_format
        );
    }
    Ok(())
}

/// An offset at or past the high watermark of every partition read would print nothing and
/// wait for nothing: an error naming the watermarks.
fn past_every_end(cluster: &dyn Source, request: &ScanRequest, offset: i64) -> anyhow::Result<()> {
    let topic = cluster.topic(&request.topic)?;
    let read: Vec<_> = topic
        .partitions
        .iter()
        .filter(|p| {
            request
                .partitions
                .as_ref()
                .is_none_or(|only| only.contains(&p.id))
        })
        .collect();
    if read.is_empty() || read.iter().any(|p| offset < p.high) {
        return Ok(());
    }
    let highs: Vec<String> = read
        .iter()
        .map(|p| format!("{}: {}", p.id, p.high))
        .collect();
    anyhow::bail!(
        "offset {offset} is past the end of every partition read of {} (high watermarks {}): \
         pass an offset below one of them, or -o -N for the last N records",
        request.topic,
        highs.join(", ")
    )
}

/// One line per record: position, time, key, value (the value as decoded and masked).
fn write_text(
    out: &mut dyn Write,
    record: &crate::cluster::Record,
    value: &serde_json::Value,
) -> std::io::Result<()> {
    let key = record
        .key
        .as_deref()
        .map_or_else(|| "(null)".to_owned(), |k| codec::key_text(k).0);
    let value = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "(null)".into(),
        other => other.to_string(),
    };
    let timestamp = record
        .timestamp_ms
        .map_or_else(|| "null".to_owned(), |t| t.to_string());
    writeln!(
        out,
        "{}/{}@{}\t{timestamp}\t{key}\t{value}",
        record.topic, record.partition, record.offset
    )
}
