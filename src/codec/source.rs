//! Decoding a source topic's payloads into JSON, whatever their format, so the fold never cares
//! about formats.

use serde_json::Value;

use crate::profile::spec::{Source, SourceFormat};

/// Decodes payloads per the spec's source formats. Cheap to share between scan threads.
#[derive(Default)]
pub struct SourceDecoder {}

impl SourceDecoder {
    pub fn decode(&self, source: &Source, bytes: &[u8]) -> Result<Value, String> {
        match source.format {
            SourceFormat::Json => {
                serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))
            }
            SourceFormat::Text => std::str::from_utf8(bytes)
                .map(|t| Value::String(t.to_owned()))
                .map_err(|e| format!("not UTF-8: {e}")),
            SourceFormat::Avro | SourceFormat::AvroFile => {
                Err("Avro decoding is not configured".into())
            }
        }
    }
}
