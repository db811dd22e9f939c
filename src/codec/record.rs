//! A record rendered as one JSON object: the shape `freshlens messages --json` prints and the
//! GUI copies.

use serde_json::Value;

use super::{Expect, decode, key_text};

/// A record as one JSON object, the shape `freshlens messages --json` prints.
pub fn record_json(record: &crate::cluster::Record, expect: Expect) -> Value {
    let mut object = serde_json::Map::new();
    object.insert("topic".into(), record.topic.clone().into());
    object.insert("partition".into(), record.partition.into());
    object.insert("offset".into(), record.offset.into());
    object.insert("timestamp_ms".into(), record.timestamp_ms.into());
    object.insert(
        "timestamp_type".into(),
        serde_json::to_value(record.timestamp_kind).unwrap_or(Value::Null),
    );
    let (key, key_format) = match &record.key {
        Some(key) => {
            let (text, format) = key_text(key);
            (Value::String(text), Value::String(format.into()))
        }
        None => (Value::Null, Value::Null),
    };
    object.insert("key".into(), key);
    object.insert("key_format".into(), key_format);
    let headers = record
        .headers
        .iter()
        .map(|(name, value)| {
            let value = value.as_deref().map(|v| key_text(v).0);
            serde_json::json!({ "key": name, "value": value })
        })
        .collect();
    object.insert("headers".into(), Value::Array(headers));
    match &record.value {
        Some(bytes) => {
            let decoded = decode(bytes, expect);
            object.insert("value".into(), decoded.to_json());
            object.insert("value_format".into(), decoded.format_name().into());
            if let Some(id) = decoded.schema_id {
                object.insert("schema_id".into(), id.into());
            }
            if let Some(error) = decoded.error {
                object.insert("error".into(), error.into());
            }
        }
        None => {
            object.insert("value".into(), Value::Null);
            object.insert("value_format".into(), Value::Null);
        }
    }
    Value::Object(object)
}
