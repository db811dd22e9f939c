//! The capture's records of the spec's topics as JSON-lines files, one per topic, which the
//! job's filesystem tables read: key and value base64 (Flink's JSON format reads BYTES so),
//! partition, offset and broker time.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::profile::Spec;
use crate::source::Capture;

/// A file written for the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    pub topic: String,
    pub path: PathBuf,
    pub records: usize,
}

/// Writes one file per source and store topic of `spec` into `dir` (made if missing). A topic
/// the capture does not hold gets an empty file: the job then reads it as empty, as the
/// rehearsal does.
pub fn write_capture_files(
    capture: &Capture,
    spec: &Spec,
    dir: &Path,
) -> std::io::Result<Vec<WrittenFile>> {
    std::fs::create_dir_all(dir)?;
    let topics = spec
        .sources
        .iter()
        .map(|s| &s.topic)
        .chain(spec.store.as_ref().map(|s| &s.topic));
    let mut written = Vec::new();
    for topic in topics {
        let path = dir.join(super::tables::file_name(topic));
        // Written under another name and renamed, so an interrupted run leaves no half file.
        let partial = path.with_extension("jsonl.partial");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&partial)?);
        let mut records = 0;
        for partition in capture
            .topics
            .get(topic)
            .into_iter()
            .flat_map(|p| p.values())
        {
            for record in &partition.records {
                let line = serde_json::json!({
                    "k": record.key.as_deref().map(|k| B64.encode(k)),
                    "v": record.value.as_deref().map(|v| B64.encode(v)),
                    "part": record.partition,
                    "off": record.offset,
                    "broker_ms": record.timestamp_ms,
                });
                serde_json::to_writer(&mut out, &line)?;
                out.write_all(b"\n")?;
                records += 1;
            }
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&partial, &path)?;
        written.push(WrittenFile {
            topic: topic.clone(),
            path,
            records,
        });
    }
    Ok(written)
}
