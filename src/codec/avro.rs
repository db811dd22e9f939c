//! Avro datums to JSON, with the schemas a datum's schema references.

use apache_avro::Schema;
use serde_json::Value;

const MAX_AVRO_ALLOCATION: usize = 64 << 20;

/// A writer schema ready to decode with, plus the named schemas it references.
#[derive(Debug)]
pub struct ParsedSchema {
    pub schema: Schema,
    pub references: Vec<Schema>,
}

impl ParsedSchema {
    /// Parses `schema`; `references` are the texts of the schemas it names (in any order).
    pub fn parse(schema: &str, references: &[String]) -> Result<Self, String> {
        // A payload announcing a huge string or array must not make the decoder allocate it:
        // no broker hands out records past a few MB, so 64 MB bounds any honest one.
        apache_avro::util::max_allocation_bytes(MAX_AVRO_ALLOCATION);
        let (schema, references) = if references.is_empty() {
            (
                Schema::parse_str(schema).map_err(|e| format!("bad Avro schema: {e}"))?,
                Vec::new(),
            )
        } else {
            Schema::parse_str_with_list(schema, references)
                .map_err(|e| format!("bad Avro schema: {e}"))?
        };
        Ok(Self { schema, references })
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
    pub fn encode(&self, value: impl Into<apache_avro::types::Value>) -> Result<Vec<u8>, String> {
        apache_avro::writer::datum::GenericDatumWriter::builder(&self.schema)
            .schemata(self.schemata())
            .and_then(|builder| builder.build())
            .and_then(|writer| writer.write_value_to_vec(value))
            .map_err(|e| e.to_string())
    }

    /// Decodes one datum; trailing bytes mean the schema is not the writer's.
    pub fn decode(&self, bytes: &[u8]) -> Result<Value, String> {
        let mut reader = bytes;
        let value = apache_avro::reader::datum::GenericDatumReader::builder(&self.schema)
            .writer_schemata(self.schemata())
            .and_then(|builder| builder.build())
            .and_then(|datum_reader| datum_reader.read_value(&mut reader))
            .map_err(|e| format!("not Avro for this schema: {e}"))?;
        if !reader.is_empty() {
            return Err(format!(
                "not Avro for this schema: {} trailing bytes",
                reader.len()
            ));
        }
        Value::try_from(value).map_err(|e| format!("Avro value has no JSON form: {e}"))
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

    #[test]
    fn wrong_bytes_and_schemas_are_errors_not_panics() {
        let parsed = ParsedSchema::parse(CUSTOMER, &[ADDRESS.to_owned()]).unwrap();
        let mut bytes = encoded(&parsed);
        bytes.push(0);
        assert!(parsed.decode(&bytes).unwrap_err().contains("trailing"));
        assert!(parsed.decode(&[0xff, 0xff, 0xff]).is_err());
        assert!(parsed.decode(&[]).is_err());
        assert!(
            ParsedSchema::parse("{nope", &[])
                .unwrap_err()
                .starts_with("bad Avro schema")
        );
        assert!(
            ParsedSchema::parse(CUSTOMER, &[]).is_err(),
            "unresolved reference"
        );
    }
}
