//! Protobuf payloads as JSON: schemas compiled at run time (`.proto` text or a serialized
//! `FileDescriptorProto`, imports from the registry's references or from files, Google's
//! well-known types built in), Confluent's message-index framing, and the Protobuf JSON
//! mapping (lowerCamelCase names, 64-bit integers as strings, enums by name, Timestamp as
//! RFC 3339), so a spec path reads a Protobuf record as it reads the same record in JSON.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine as _;
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, SerializeOptions};
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};
use serde_json::Value;

/// Why a Protobuf schema or payload could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtobufError {
    #[error("schema does not compile: {0}")]
    Compile(String),
    #[error("no message {0} in the schema")]
    NoMessage(String),
    #[error("the schema holds no message")]
    Empty,
    #[error("message indexes {0:?} name no message of the schema")]
    NoSuchIndex(Vec<i64>),
    #[error("message indexes cut short or malformed")]
    BadIndexes,
    #[error("not a {message}: {detail}")]
    Decode { message: String, detail: String },
    #[error("{0}")]
    TooDeep(String),
}

/// A compiled schema and the file whose messages the message indexes count.
#[derive(Debug, Clone)]
pub struct ProtoSchema {
    pool: DescriptorPool,
    file: String,
}

/// What a framed payload was decoded as, for the message browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtoDecoded {
    pub message: String,
    pub indexes: Vec<i64>,
}

/// Files given by name: the registry's schema and its references.
struct Named(HashMap<String, File>);

impl FileResolver for Named {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        self.0
            .get(name)
            .cloned()
            .ok_or_else(|| protox::Error::file_not_found(name))
    }
}

/// `schema` as a file named `name`: a base64 `FileDescriptorProto` (the registry's
/// `?format=serialized`) or `.proto` text (its default).
fn file_of(name: &str, schema: &str) -> Result<File, ProtobufError> {
    let compact = schema.trim();
    if !compact.contains(char::is_whitespace)
        && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(compact)
        && let Ok(mut proto) = prost_types::FileDescriptorProto::decode(bytes.as_slice())
    {
        // The descriptor may carry its own name; imports name it by the reference's.
        proto.name = Some(name.to_owned());
        return Ok(File::from_file_descriptor_proto(proto));
    }
    File::from_source(name, schema).map_err(|e| ProtobufError::Compile(e.to_string()))
}

impl ProtoSchema {
    /// Compiles a registry schema: `schema` with `references` as (import name, schema) pairs.
    pub fn compile(schema: &str, references: &[(String, String)]) -> Result<Self, ProtobufError> {
        const MAIN: &str = "freshlens-registry-schema.proto";
        let mut files = HashMap::new();
        for (name, text) in references {
            files.insert(name.clone(), file_of(name, text)?);
        }
        files.insert(MAIN.to_owned(), file_of(MAIN, schema)?);
        let mut resolver = ChainFileResolver::new();
        resolver.add(Named(files));
        resolver.add(GoogleFileResolver::new());
        let mut compiler = protox::Compiler::with_file_resolver(resolver);
        compiler
            .open_file(MAIN)
            .map_err(|e| ProtobufError::Compile(e.to_string()))?;
        Ok(Self {
            pool: compiler.descriptor_pool(),
            file: MAIN.to_owned(),
        })
    }

    /// Compiles `files` (imports resolved in `include`, the spec's folder, and among Google's
    /// well-known types).
    pub fn from_files(files: &[std::path::PathBuf], include: &Path) -> Result<Self, ProtobufError> {
        let mut compiler =
            protox::Compiler::new([include]).map_err(|e| ProtobufError::Compile(e.to_string()))?;
        for file in files {
            compiler
                .open_file(file)
                .map_err(|e| ProtobufError::Compile(e.to_string()))?;
        }
        let first = compiler
            .files()
            .next()
            .map(|f| f.name().to_owned())
            .ok_or(ProtobufError::Empty)?;
        Ok(Self {
            pool: compiler.descriptor_pool(),
            file: first,
        })
    }

    /// The main file as a serialized `FileDescriptorProto` (what the registry's
    /// `?format=serialized` answers).
    pub fn descriptor_bytes(&self) -> Vec<u8> {
        self.pool
            .get_file_by_name(&self.file)
            .map(|f| f.file_descriptor_proto().encode_to_vec())
            .unwrap_or_default()
    }

    /// The message named `full_name` (`package.Message`).
    pub fn message(&self, full_name: &str) -> Result<MessageDescriptor, ProtobufError> {
        self.pool
            .get_message_by_name(full_name)
            .ok_or_else(|| ProtobufError::NoMessage(full_name.to_owned()))
    }

    /// The message Confluent's indexes point at: the first index counts the schema's top-level
    /// messages, each further one the previous message's nested ones.
    pub fn message_at(&self, indexes: &[i64]) -> Result<MessageDescriptor, ProtobufError> {
        let missing = || ProtobufError::NoSuchIndex(indexes.to_vec());
        let file = self.pool.get_file_by_name(&self.file).ok_or_else(missing)?;
        let (first, rest) = indexes.split_first().ok_or_else(missing)?;
        let mut message = usize::try_from(*first)
            .ok()
            .and_then(|i| file.messages().nth(i))
            .ok_or_else(missing)?;
        for index in rest {
            message = usize::try_from(*index)
                .ok()
                .and_then(|i| message.child_messages().nth(i))
                .ok_or_else(missing)?;
        }
        Ok(message)
    }

    /// A Confluent-framed body (after the magic byte and schema id): its message indexes, then
    /// the message.
    pub fn decode_framed(&self, body: &[u8]) -> Result<(Value, ProtoDecoded), ProtobufError> {
        let (indexes, message_bytes) = message_indexes(body).ok_or(ProtobufError::BadIndexes)?;
        let message = self.message_at(&indexes)?;
        let value = decode_message(&message, message_bytes)?;
        Ok((
            value,
            ProtoDecoded {
                message: message.full_name().to_owned(),
                indexes,
            },
        ))
    }
}

/// `bytes` as a `message`, in the Protobuf JSON mapping. Every field is shown, defaults
/// included: proto3 does not write a `false` or a `0`, and the fold must still see it.
pub fn decode_message(message: &MessageDescriptor, bytes: &[u8]) -> Result<Value, ProtobufError> {
    let decoded =
        DynamicMessage::decode(message.clone(), bytes).map_err(|e| ProtobufError::Decode {
            message: message.full_name().to_owned(),
            detail: e.to_string(),
        })?;
    let options = SerializeOptions::new().skip_default_fields(false);
    let value = decoded
        .serialize_with_options(serde_json::value::Serializer, &options)
        .map_err(|e| ProtobufError::Decode {
            message: message.full_name().to_owned(),
            detail: e.to_string(),
        })?;
    if super::too_deep_value(&value) {
        return Err(ProtobufError::TooDeep(super::too_deep()));
    }
    Ok(value)
}

/// Confluent's message-index array: a zigzag varint count, then that many zigzag varint
/// indexes; a count of 0 stands for `[0]`, the first message. The rest is the message.
pub fn message_indexes(bytes: &[u8]) -> Option<(Vec<i64>, &[u8])> {
    let (count, mut rest) = zigzag(bytes)?;
    if count == 0 {
        return Some((vec![0], rest));
    }
    // Each index takes at least a byte: a count past what is left is malformed, not a
    // reason to allocate.
    let count = usize::try_from(count).ok().filter(|&n| n <= rest.len())?;
    let mut indexes = Vec::with_capacity(count);
    for _ in 0..count {
        let (index, after) = zigzag(rest)?;
        indexes.push(index);
        rest = after;
    }
    Some((indexes, rest))
}

/// One zigzag-encoded varint (at most 10 bytes) and what follows it.
fn zigzag(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let mut value: u64 = 0;
    for (i, byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let decoded = ((value >> 1) as i64) ^ -((value & 1) as i64);
            return Some((decoded, &bytes[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
#[path = "protobuf_tests.rs"]
mod tests;
