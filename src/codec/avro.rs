//! Avro datums to JSON, with the schemas a datum's schema references.

use std::collections::HashMap;

use apache_avro::Schema;
use apache_avro::schema::{InnerDecimalSchema, Name, NamespaceRef, UuidSchema};
use serde_json::Value;

use super::MAX_DEPTH;
#[cfg(test)]
use super::too_deep;

const MAX_AVRO_ALLOCATION: usize = 64 << 20;

/// Datums nesting this deep or less are decoded on the caller's stack. apache-avro spends up
/// to three calls per level (record, union, named reference), some 27 KB each in a debug
/// build: 12 levels fit in any thread's stack.
const INLINE_DEPTH: usize = 12;

/// The stack a deeper datum is decoded on: [`MAX_DEPTH`] levels at three 27 KB calls each
/// take some 10 MB; only what is used is ever backed by memory.
const DEEP_STACK: usize = 64 << 20;

/// Why a schema or a datum cannot be used. apache-avro's errors are kept in words: a datum's
/// error travels with each undecodable record, which must be cloned and compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AvroError {
    #[error("bad Avro schema: {0}")]
    BadSchema(String),
    #[error("{0}")]
    Encode(String),
    #[error("nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("cannot decode a deep Avro datum: {0}")]
    NoThread(String),
    #[error("the Avro decoder panicked")]
    Panicked,
    #[error("not Avro for this schema: {0}")]
    NotForSchema(String),
    #[error("not Avro for this schema: {0} trailing bytes")]
    TrailingBytes(usize),
    #[error("Avro value has no JSON form: {0}")]
    NoJsonForm(String),
}

/// A writer schema ready to decode with, plus the named schemas it references.
#[derive(Debug)]
pub struct ParsedSchema {
    pub schema: Schema,
    pub references: Vec<Schema>,
    /// Every named schema a datum may refer to, by full name (for [`nesting_check`]).
    names: HashMap<Name, Schema>,
}

impl ParsedSchema {
    /// Parses `schema`; `references` are the texts of the schemas it names (in any order).
    pub fn parse(schema: &str, references: &[String]) -> Result<Self, AvroError> {
        // A payload announcing a huge string or array must not make the decoder allocate it:
        // no broker hands out records past a few MB, so 64 MB bounds any honest one.
        apache_avro::util::max_allocation_bytes(MAX_AVRO_ALLOCATION);
        let (schema, references) = if references.is_empty() {
            (
                Schema::parse_str(schema).map_err(|e| AvroError::BadSchema(e.to_string()))?,
                Vec::new(),
            )
        } else {
            Schema::parse_str_with_list(schema, references)
                .map_err(|e| AvroError::BadSchema(e.to_string()))?
        };
        let mut parsed = Self {
            schema,
            references,
            names: HashMap::new(),
        };
        parsed.names = apache_avro::schema::ResolvedSchema::new_with_schemata(parsed.schemata())
            .map_err(|e| AvroError::BadSchema(e.to_string()))?
            .get_names()
            .iter()
            .map(|(name, schema)| (name.clone(), (*schema).clone()))
            .collect();
        Ok(parsed)
    }

    /// Every named schema a datum may refer to: the references, and the schema itself (a
    /// record may refer to itself by name, as a linked list does).
    fn schemata(&self) -> Vec<&Schema> {
        // References first: names are resolved in order.
        self.references
            .iter()
            .chain(std::iter::once(&self.schema))
            .collect()
    }

    /// Encodes one datum (for tests and the demo generator).
    pub fn encode(
        &self,
        value: impl Into<apache_avro::types::Value>,
    ) -> Result<Vec<u8>, AvroError> {
        apache_avro::writer::datum::GenericDatumWriter::builder(&self.schema)
            .schemata(self.schemata())
            .and_then(|builder| builder.build())
            .and_then(|writer| writer.write_value_to_vec(value))
            .map_err(|e| AvroError::Encode(e.to_string()))
    }

    /// Decodes one datum; trailing bytes mean the schema is not the writer's.
    pub fn decode(&self, bytes: &[u8]) -> Result<Value, AvroError> {
        // apache-avro's decoder recurses once per nested value with no limit (a recursive
        // schema nested 10,000 levels deep overflowed the stack), and its frames are large.
        // The bytes are walked first with the depth counted: past `MAX_DEPTH` they are not
        // decoded at all; a deep datum within it is decoded on a thread with stack enough
        // for `MAX_DEPTH` levels.
        let mut check = NestingCheck {
            names: &self.names,
            input: bytes,
            deepest: 0,
        };
        if let Err(Stop::TooDeep) = check.value(&self.schema, None, 1) {
            return Err(AvroError::TooDeep);
        }
        if check.deepest <= INLINE_DEPTH {
            return self.decode_checked(bytes);
        }
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("avro-deep".into())
                .stack_size(DEEP_STACK)
                .spawn_scoped(scope, || self.decode_checked(bytes))
                .map_err(|e| AvroError::NoThread(e.to_string()))?
                .join()
                .unwrap_or(Err(AvroError::Panicked))
        })
    }

    /// Decodes a datum [`NestingCheck`] found no deeper than [`MAX_DEPTH`].
    fn decode_checked(&self, bytes: &[u8]) -> Result<Value, AvroError> {
        let mut reader = bytes;
        let value = apache_avro::reader::datum::GenericDatumReader::builder(&self.schema)
            .writer_schemata(self.schemata())
            .and_then(|builder| builder.build())
            .and_then(|datum_reader| datum_reader.read_value(&mut reader))
            .map_err(|e| AvroError::NotForSchema(e.to_string()))?;
        if !reader.is_empty() {
            return Err(AvroError::TrailingBytes(reader.len()));
        }
        Value::try_from(value).map_err(|e| AvroError::NoJsonForm(e.to_string()))
    }
}

/// Why [`NestingCheck`] stopped walking.
#[derive(Debug, PartialEq)]
enum Stop {
    /// A record, array or map sits [`MAX_DEPTH`] levels down.
    TooDeep,
    /// The bytes are not a datum of the schema: the decoder says how.
    Malformed,
}

/// Walks a datum's bytes as apache-avro's decoder reads them (its leniencies at the end of
/// the input included), recursing only as deep as [`MAX_DEPTH`], without building anything.
struct NestingCheck<'a> {
    names: &'a HashMap<Name, Schema>,
    input: &'a [u8],
    /// The deepest level walked.
    deepest: usize,
}

impl NestingCheck<'_> {
    /// `level` is the value's: 1 for the datum, one more inside each record, array and map.
    fn value(
        &mut self,
        schema: &Schema,
        namespace: NamespaceRef,
        level: usize,
    ) -> Result<(), Stop> {
        let container = matches!(
            schema,
            Schema::Record(_) | Schema::Array(_) | Schema::Map(_)
        );
        if container && level >= MAX_DEPTH {
            return Err(Stop::TooDeep);
        }
        self.deepest = self.deepest.max(level);
        match schema {
            Schema::Null => Ok(()),
            // At the end of the input the decoder reads a boolean as null.
            Schema::Boolean => match self.take(1) {
                Some([0 | 1]) | None => Ok(()),
                Some(_) => Err(Stop::Malformed),
            },
            Schema::Int
            | Schema::Long
            | Schema::Enum(_)
            | Schema::Date
            | Schema::TimeMillis
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => self.long().map(drop),
            Schema::Float => self.skip(4),
            Schema::Double => self.skip(8),
            Schema::Duration(_) => self.skip(12),
            Schema::Fixed(fixed)
            | Schema::Decimal(apache_avro::schema::DecimalSchema {
                inner: InnerDecimalSchema::Fixed(fixed),
                ..
            })
            | Schema::Uuid(UuidSchema::Fixed(fixed)) => self.skip(fixed.size),
            Schema::Bytes | Schema::Decimal(_) | Schema::BigDecimal | Schema::Uuid(_) => {
                let len = self.len()?;
                self.skip(len)
            }
            // The decoder reads a string cut short by the end of the input as null.
            Schema::String => {
                let len = self.len()?;
                self.input = self.input.get(len..).unwrap_or_default();
                Ok(())
            }
            Schema::Array(array) => {
                self.blocks(|check| check.value(&array.items, namespace, level + 1))
            }
            Schema::Map(map) => self.blocks(|check| {
                let len = check.len()?;
                check.skip(len)?;
                check.value(&map.types, namespace, level + 1)
            }),
            Schema::Union(union) => {
                // The decoder reads a union cut short by the end of the input as null.
                let index = match self.long() {
                    Err(_) if self.input.is_empty() => return Ok(()),
                    index => index?,
                };
                let variant = usize::try_from(index)
                    .ok()
                    .and_then(|i| union.variants().get(i))
                    .ok_or(Stop::Malformed)?;
                self.value(variant, namespace, level)
            }
            Schema::Record(record) => {
                let name = record.name.fully_qualified_name(namespace);
                for field in &record.fields {
                    self.value(&field.schema, name.namespace(), level + 1)?;
                }
                Ok(())
            }
            Schema::Ref { name } => {
                let name = name.fully_qualified_name(namespace);
                let named = self.names.get(&name).ok_or(Stop::Malformed)?;
                self.value(named, name.namespace(), level)
            }
        }
    }

    /// Array or map blocks: a count (negative: followed by a byte size), its items, until a
    /// count of 0.
    fn blocks(&mut self, mut item: impl FnMut(&mut Self) -> Result<(), Stop>) -> Result<(), Stop> {
        // The decoder refuses more items than the allocation limit holds as values; so does
        // the walk, rather than walking ever on through items that take no bytes.
        let most = MAX_AVRO_ALLOCATION / size_of::<apache_avro::types::Value>();
        let mut total = 0usize;
        loop {
            let count = self.long()?;
            if count == 0 {
                return Ok(());
            }
            if count < 0 {
                self.long()?;
            }
            let count = usize::try_from(count.unsigned_abs()).map_err(|_| Stop::Malformed)?;
            total = total.saturating_add(count);
            if total > most {
                return Err(Stop::Malformed);
            }
            for _ in 0..count {
                item(self)?;
            }
        }
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (taken, rest) = self.input.split_at_checked(n)?;
        self.input = rest;
        Some(taken)
    }

    fn skip(&mut self, n: usize) -> Result<(), Stop> {
        self.take(n).map(drop).ok_or(Stop::Malformed)
    }

    /// A zigzag varint long.
    fn long(&mut self) -> Result<i64, Stop> {
        let mut raw = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1).ok_or(Stop::Malformed)?[0];
            raw |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok((raw >> 1) as i64 ^ -((raw & 1) as i64));
            }
        }
        Err(Stop::Malformed)
    }

    /// A length: a long that is not negative.
    fn len(&mut self) -> Result<usize, Stop> {
        usize::try_from(self.long()?).map_err(|_| Stop::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apache_avro::types::Record;
    use serde_json::json;

    const ADDRESS: &str = r#"{"type":"record","name":"Address","namespace":"c360","fields":[{"name":"city","type":"string"}]}"#;
    const CUSTOMER: &str = r#"{"type":"record","name":"Customer","namespace":"c360","fields":[
        {"name":"id","type":"string"},
        {"name":"ts","type":"long"},
        {"name":"email","type":["null","string"],"default":null},
        {"name":"home","type":"c360.Address"}]}"#;

    fn encoded(parsed: &ParsedSchema) -> Vec<u8> {
        let mut address = Record::new(&parsed.references[0]).unwrap();
        address.put("city", "Lyon");
        let mut record = Record::new(&parsed.schema).unwrap();
        record.put("id", "c-1");
        record.put("ts", 1_700_000_000_000i64);
        record.put(
            "email",
            apache_avro::types::Value::Union(1, Box::new("a@x.io".into())),
        );
        record.put("home", address);
        parsed.encode(record).unwrap()
    }

    #[test]
    fn decodes_a_datum_with_a_referenced_schema() {
        let parsed = ParsedSchema::parse(CUSTOMER, &[ADDRESS.to_owned()]).unwrap();
        let bytes = encoded(&parsed);
        assert_eq!(
            parsed.decode(&bytes).unwrap(),
            json!({"id": "c-1", "ts": 1_700_000_000_000i64, "email": "a@x.io", "home": {"city": "Lyon"}})
        );
    }

    #[test]
    fn decodes_a_record_that_refers_to_itself() {
        let list = r#"{"type":"record","name":"Node","namespace":"c360","fields":[
            {"name":"value","type":"int"},
            {"name":"next","type":["null","c360.Node"],"default":null}]}"#;
        let parsed = ParsedSchema::parse(list, &[]).unwrap();
        let node = |value: i32, next: apache_avro::types::Value| {
            apache_avro::types::Value::Record(vec![
                ("value".into(), apache_avro::types::Value::Int(value)),
                ("next".into(), next),
            ])
        };
        let none = apache_avro::types::Value::Union(0, Box::new(apache_avro::types::Value::Null));
        let tail = node(2, none);
        let head = node(1, apache_avro::types::Value::Union(1, Box::new(tail)));
        let bytes = parsed.encode(head).unwrap();
        assert_eq!(
            parsed.decode(&bytes).unwrap(),
            json!({"value": 1, "next": {"value": 2, "next": null}})
        );
    }

    const LINKED: &str = r#"{"type":"record","name":"L","fields":[
        {"name":"next","type":["null","L"]}]}"#;

    /// `records` records of [`LINKED`], each the `next` of the one before.
    fn linked(records: usize) -> Vec<u8> {
        let mut bytes = vec![0x02; records - 1];
        bytes.push(0x00);
        bytes
    }

    #[test]
    fn records_nested_past_the_limit_are_refused_not_a_stack_overflow() {
        let parsed = ParsedSchema::parse(LINKED, &[]).unwrap();
        // 10,000 levels (a 10 KB payload) overflowed the decoder's stack.
        for records in [10_000, 1_000, MAX_DEPTH] {
            assert_eq!(
                parsed.decode(&linked(records)),
                Err(AvroError::TooDeep),
                "{records}"
            );
        }
        // As deep as serde_json reads back: 127 records inside each other.
        let deepest = parsed.decode(&linked(MAX_DEPTH - 1)).unwrap();
        assert!(!crate::codec::too_deep_value(&deepest));
        let text = deepest.to_string();
        assert_eq!(text.matches('{').count(), MAX_DEPTH - 1);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), deepest);
        // Arrays and maps count as levels too.
        let arrays = ParsedSchema::parse(
            r#"{"type":"record","name":"A","fields":[{"name":"a","type":{"type":"array","items":"A"}}]}"#,
            &[],
        )
        .unwrap();
        let mut bytes = [0x02, 0x02].repeat(10_000);
        bytes.push(0);
        assert_eq!(parsed.decode(&bytes).unwrap_err().to_string(), too_deep());
        assert_eq!(arrays.decode(&bytes).unwrap_err().to_string(), too_deep());
        let maps = ParsedSchema::parse(
            r#"{"type":"record","name":"M","fields":[{"name":"m","type":{"type":"map","values":"M"}}]}"#,
            &[],
        )
        .unwrap();
        let mut bytes = [0x02, 0x02, b'k'].repeat(10_000);
        bytes.push(0);
        assert_eq!(maps.decode(&bytes).unwrap_err().to_string(), too_deep());
    }

    #[test]
    fn a_record_holding_itself_reads_no_bytes_and_stops_at_the_limit() {
        // No value of it can end, and the decoder would recurse without reading a byte.
        let endless = r#"{"type":"record","name":"E","fields":[{"name":"flag","type":"boolean"},{"name":"e","type":"E"}]}"#;
        let parsed = ParsedSchema::parse(endless, &[]).unwrap();
        assert_eq!(parsed.decode(&[]).unwrap_err().to_string(), too_deep());
        assert_eq!(
            parsed.decode(&[1; 10_000]).unwrap_err().to_string(),
            too_deep()
        );
    }

    #[test]
    fn the_walk_stops_on_bytes_the_decoder_refuses() {
        let parsed = ParsedSchema::parse(LINKED, &[]).unwrap();
        let mut check = NestingCheck {
            names: &parsed.names,
            input: &[0x04],
            deepest: 0,
        };
        assert_eq!(check.value(&parsed.schema, None, 1), Err(Stop::Malformed));
        let huge = ParsedSchema::parse(r#"{"type":"array","items":"null"}"#, &[]).unwrap();
        let mut check = NestingCheck {
            names: &huge.names,
            input: &[0xfe, 0xff, 0xff, 0xff, 0x0f],
            deepest: 0,
        };
        assert_eq!(check.value(&huge.schema, None, 1), Err(Stop::Malformed));
        assert!(huge.decode(&[0xfe, 0xff, 0xff, 0xff, 0x0f]).is_err());
    }

    #[test]
    fn wrong_bytes_and_schemas_are_errors_not_panics() {
        let parsed = ParsedSchema::parse(CUSTOMER, &[ADDRESS.to_owned()]).unwrap();
        let mut bytes = encoded(&parsed);
        bytes.push(0);
        assert!(
            parsed
                .decode(&bytes)
                .unwrap_err()
                .to_string()
                .contains("trailing")
        );
        assert!(parsed.decode(&[0xff, 0xff, 0xff]).is_err());
        assert!(parsed.decode(&[]).is_err());
        assert!(
            ParsedSchema::parse("{nope", &[])
                .unwrap_err()
                .to_string()
                .starts_with("bad Avro schema")
        );
        assert!(
            ParsedSchema::parse(CUSTOMER, &[]).is_err(),
            "unresolved reference"
        );
    }
}
