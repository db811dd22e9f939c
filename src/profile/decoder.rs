//! Decoding a source topic's payloads into JSON, whatever their format, so the fold never cares
//! about formats.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use super::spec::{Source, SourceFormat, Spec};
use crate::codec::protobuf::{ProtoDecoded, ProtoSchema, ProtobufError, decode_message};
use crate::codec::registry::{RegisteredSchema, RegistryClient, RegistryError};
use crate::codec::{AvroError, JsonError, ParsedSchema, confluent_frame, parse_json};

/// Why a payload is not what its source's format says (`undecodable` records carry its words).
/// A variant that adds words to the error it holds says that error itself rather than
/// returning it as `source()`: the CLI prints errors with their sources (`{:#}`), which would
/// say it twice, and per-record words are taken with `to_string()`, which would drop it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("null value (tombstone)")]
    Tombstone,
    #[error("not JSON: {0}")]
    NotJson(JsonError),
    #[error("not UTF-8: {0}")]
    NotUtf8(std::str::Utf8Error),
    #[error(transparent)]
    NotAvro(#[from] AvroError),
    #[error("source {0}: no schema_file loaded")]
    NoSchemaFile(String),
    #[error("not in the Confluent wire format (magic byte 0 and a 4-byte schema id)")]
    NotFramed,
    #[error("schema id {0}: no schema registry given (--schema-registry)")]
    NoRegistry(u32),
    /// The registry could not give the schema (a timeout is not remembered, an answer is).
    #[error("schema id {0}: {1}")]
    Registry(u32, RegistryError),
    #[error("schema id {0}: {1}")]
    WithSchema(u32, AvroError),
    #[error("schema id {0}: not JSON: {1}")]
    WithJsonSchema(u32, JsonError),
    #[error("schema id {0}: {1}")]
    WithProtobuf(u32, ProtobufError),
    #[error(transparent)]
    NotProtobuf(ProtobufError),
    #[error("source {0}: no proto files loaded")]
    NoProtoFiles(String),
}

/// Why a spec's decoder cannot be made. Each says the error it holds (see [`DecodeError`]).
#[derive(Debug, thiserror::Error)]
pub enum DecoderError {
    #[error("{topic}: format {format} needs a Schema Registry (--schema-registry URL)")]
    NeedsRegistry { topic: String, format: &'static str },
    #[error("source {topic}: cannot read {}: {error}", path.display())]
    CannotRead {
        topic: String,
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("source {topic}: {}: {error}", path.display())]
    BadSchemaFile {
        topic: String,
        path: PathBuf,
        error: AvroError,
    },
    #[error("source {topic}: {error}")]
    BadProto { topic: String, error: ProtobufError },
}

/// Decodes payloads per the spec's source formats. Shared between scan threads.
#[derive(Default)]
pub struct SourceDecoder {
    registry: Option<Arc<RegistryClient>>,
    /// Schemas of `avro-file` sources, by topic.
    files: HashMap<String, Arc<ParsedSchema>>,
    /// The message types of `protobuf-file` sources (and store), by topic.
    protos: HashMap<String, prost_reflect::MessageDescriptor>,
}

impl SourceDecoder {
    /// The same decoder for a spec whose topics are renamed (another cluster's mirror of them).
    pub fn renamed(&self, rename: impl Fn(&str) -> String) -> Self {
        Self {
            registry: self.registry.clone(),
            files: self
                .files
                .iter()
                .map(|(topic, schema)| (rename(topic), Arc::clone(schema)))
                .collect(),
            protos: self
                .protos
                .iter()
                .map(|(topic, message)| (rename(topic), message.clone()))
                .collect(),
        }
    }

    /// Loads every `schema_file` the spec names; Avro sources need `registry`.
    pub fn new(spec: &Spec, registry: Option<Arc<RegistryClient>>) -> Result<Self, DecoderError> {
        // Without a registry every Avro payload would be undecodable: say so up front instead
        // of answering with a profile missing a whole source.
        let store = spec.store.as_ref().map(super::spec::Store::as_source);
        let every = || spec.sources.iter().chain(store.iter());
        if registry.is_none()
            && let Some(source) = every().find(|s| s.format.needs_registry())
        {
            return Err(DecoderError::NeedsRegistry {
                topic: source.topic.clone(),
                format: source.format.name(),
            });
        }
        let mut protos = HashMap::new();
        for source in every() {
            if let Some(files) = source.proto_files() {
                let bad = |error| DecoderError::BadProto {
                    topic: source.topic.clone(),
                    error,
                };
                let schema = ProtoSchema::from_files(&files.files, &files.root).map_err(bad)?;
                let message = schema.message(&files.message).map_err(bad)?;
                protos.insert(source.topic.clone(), message);
            }
        }
        let mut files = HashMap::new();
        for source in &spec.sources {
            if let (SourceFormat::AvroFile, Some(path)) = (source.format, &source.schema_file) {
                let text = std::fs::read_to_string(path).map_err(|e| DecoderError::CannotRead {
                    topic: source.topic.clone(),
                    path: path.clone(),
                    error: e,
                })?;
                let parsed =
                    ParsedSchema::parse(&text, &[]).map_err(|e| DecoderError::BadSchemaFile {
                        topic: source.topic.clone(),
                        path: path.clone(),
                        error: e,
                    })?;
                files.insert(source.topic.clone(), Arc::new(parsed));
            }
        }
        Ok(Self {
            registry,
            files,
            protos,
        })
    }

    /// The registry's subject and version of schema `id`, where there is a registry to say.
    pub fn subject_version(&self, id: u32) -> Option<(String, u32)> {
        self.registry.as_ref()?.subject_version(id)
    }

    /// The registry client all registry-framed formats share, if any.
    pub fn registry(&self) -> Option<&RegistryClient> {
        self.registry.as_deref()
    }

    pub fn decode(&self, source: &Source, bytes: &[u8]) -> Result<Value, DecodeError> {
        self.decode_detailed(source, bytes).map(|(value, _)| value)
    }

    /// [`Self::decode`], and for a registry-framed Protobuf payload which message its indexes
    /// chose (the message browser shows it).
    pub fn decode_detailed(
        &self,
        source: &Source,
        bytes: &[u8],
    ) -> Result<(Value, Option<ProtoDecoded>), DecodeError> {
        let plain = |value: Value| (value, None);
        match source.format {
            SourceFormat::Json => parse_json(bytes).map(plain).map_err(DecodeError::NotJson),
            SourceFormat::Text => std::str::from_utf8(bytes)
                .map(|t| plain(Value::String(t.to_owned())))
                .map_err(DecodeError::NotUtf8),
            SourceFormat::AvroFile => self
                .files
                .get(&source.topic)
                .ok_or_else(|| DecodeError::NoSchemaFile(source.topic.clone()))?
                .decode(bytes)
                .map(plain)
                .map_err(DecodeError::from),
            SourceFormat::ProtobufFile => {
                let message = self
                    .protos
                    .get(&source.topic)
                    .ok_or_else(|| DecodeError::NoProtoFiles(source.topic.clone()))?;
                let value = decode_message(message, bytes).map_err(DecodeError::NotProtobuf)?;
                let decoded = ProtoDecoded {
                    message: message.full_name().to_owned(),
                    indexes: Vec::new(),
                };
                Ok((value, Some(decoded)))
            }
            SourceFormat::Avro | SourceFormat::Protobuf | SourceFormat::JsonSchema => {
                let (id, body) = confluent_frame(bytes).ok_or(DecodeError::NotFramed)?;
                // JSON Schema payloads are JSON after the header: no schema needed to read them.
                let registry = match (&self.registry, source.format) {
                    (None, SourceFormat::JsonSchema) => {
                        return parse_json(body)
                            .map(plain)
                            .map_err(|e| DecodeError::WithJsonSchema(id, e));
                    }
                    (registry, _) => registry.as_ref().ok_or(DecodeError::NoRegistry(id))?,
                };
                // The registry says what the id is, whatever the spec expected.
                match &*registry
                    .schema(id)
                    .map_err(|e| DecodeError::Registry(id, e))?
                {
                    RegisteredSchema::Avro(schema) => schema
                        .decode(body)
                        .map(plain)
                        .map_err(|e| DecodeError::WithSchema(id, e)),
                    RegisteredSchema::Protobuf(schema) => schema
                        .decode_framed(body)
                        .map(|(value, decoded)| (value, Some(decoded)))
                        .map_err(|e| DecodeError::WithProtobuf(id, e)),
                    RegisteredSchema::Json => parse_json(body)
                        .map(plain)
                        .map_err(|e| DecodeError::WithJsonSchema(id, e)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_nested_past_the_limit_is_undecodable_in_words() {
        let spec = Spec::parse("[[source]]\ntopic = \"t\"\n", "s").unwrap();
        let decoder = SourceDecoder::new(&spec, None).unwrap();
        let deep = [vec![b'['; 10_000], vec![b']'; 10_000]].concat();
        assert_eq!(
            decoder
                .decode(&spec.sources[0], &deep)
                .unwrap_err()
                .to_string(),
            "not JSON: nested deeper than 128 levels"
        );
    }

    #[test]
    fn avro_sources_without_a_registry_are_refused_up_front() {
        let spec = Spec::parse(
            "[[source]]\ntopic = \"c360.identity\"\nformat = \"avro\"\n",
            "c.toml",
        )
        .unwrap();
        let error = SourceDecoder::new(&spec, None).err().unwrap();
        assert_eq!(
            error.to_string(),
            "c360.identity: format avro needs a Schema Registry (--schema-registry URL)"
        );
    }

    #[test]
    fn avro_file_sources_decode_raw_datums() {
        let dir = tempfile::tempdir().unwrap();
        let schema = r#"{"type":"record","name":"Click","fields":[{"name":"page","type":"string"},{"name":"ts","type":"long"}]}"#;
        std::fs::write(dir.path().join("click.avsc"), schema).unwrap();
        let spec_path = dir.path().join("spec.toml");
        std::fs::write(
            &spec_path,
            "[[source]]\ntopic = \"clicks\"\nformat = \"avro-file\"\nschema_file = \"click.avsc\"\n",
        )
        .unwrap();
        let spec = Spec::load(&spec_path).unwrap();
        let decoder = SourceDecoder::new(&spec, None).unwrap();
        let parsed = ParsedSchema::parse(schema, &[]).unwrap();
        let mut click = apache_avro::types::Record::new(&parsed.schema).unwrap();
        click.put("page", "/cart");
        click.put("ts", 42i64);
        let bytes = parsed.encode(click).unwrap();
        let source = &spec.sources[0];
        assert_eq!(
            decoder.decode(source, &bytes).unwrap(),
            json!({"page": "/cart", "ts": 42})
        );
        assert!(decoder.decode(source, b"\xff").is_err());
    }

    #[test]
    fn avro_without_registry_or_framing_is_a_clear_error() {
        let spec = Spec::parse("[[source]]\ntopic = \"t\"\nformat = \"avro\"\n", "s").unwrap();
        assert!(SourceDecoder::new(&spec, None).is_err(), "no registry");
        // Nothing listens on port 9: the framing is checked before the registry is asked.
        let registry = RegistryClient::new("http://127.0.0.1:9", None).unwrap();
        let decoder = SourceDecoder::new(&spec, Some(Arc::new(registry))).unwrap();
        let source = &spec.sources[0];
        let error = decoder.decode(source, b"{}").unwrap_err();
        assert_eq!(error, DecodeError::NotFramed);
        assert!(error.to_string().contains("Confluent wire format"));
        let missing = Spec::parse(
            "[[source]]\ntopic = \"t\"\nformat = \"avro-file\"\nschema_file = \"/nonexistent.avsc\"\n",
            "s",
        )
        .unwrap();
        assert!(SourceDecoder::new(&missing, None).is_err());
    }
}
