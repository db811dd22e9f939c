//! One record of a spec source as the message browser and `messages --spec` show it: decoded
//! through the spec's format where the bytes alone cannot be read (Avro, Protobuf), masked by
//! its `pii` paths, with the schema id and, for Protobuf, the message its indexes chose.

use serde_json::Value;

use super::spec::SourceFormat;
use super::{PiiMask, SourceDecoder, Spec};

#[derive(Debug, Clone, PartialEq)]
pub struct Viewed {
    /// The decoded value, masked; or why it did not decode.
    pub value: Result<Value, super::DecodeError>,
    pub schema_id: Option<u32>,
    /// The Protobuf message the payload was read as.
    pub message: Option<String>,
    /// Confluent's message indexes that chose it (empty for a `protobuf-file` source).
    pub indexes: Vec<i64>,
}

/// `bytes` of `topic` decoded as the spec says, where its format needs the spec to read
/// (`avro`, `avro-file`, `protobuf`, `protobuf-file`); `None` for other topics and formats,
/// which read as they are.
pub fn view(
    spec: &Spec,
    decoder: &SourceDecoder,
    mask: &PiiMask,
    topic: &str,
    bytes: &[u8],
) -> Option<Viewed> {
    let store = spec.store.as_ref().map(super::spec::Store::as_source);
    let source = spec
        .sources
        .iter()
        .chain(store.iter())
        .find(|s| s.topic == topic)?;
    if !matches!(
        source.format,
        SourceFormat::Avro
            | SourceFormat::AvroFile
            | SourceFormat::Protobuf
            | SourceFormat::ProtobufFile
    ) {
        return None;
    }
    let schema_id = matches!(source.format, SourceFormat::Avro | SourceFormat::Protobuf)
        .then(|| crate::codec::confluent_frame(bytes).map(|(id, _)| id))
        .flatten();
    Some(match decoder.decode_detailed(source, bytes) {
        Ok((value, proto)) => Viewed {
            value: Ok(mask.apply(topic, &value).into_owned()),
            schema_id,
            message: proto.as_ref().map(|p| p.message.clone()),
            indexes: proto.map(|p| p.indexes).unwrap_or_default(),
        },
        Err(e) => Viewed {
            value: Err(e),
            schema_id,
            message: None,
            indexes: Vec::new(),
        },
    })
}
