//! Avro sources through Flink's `avro-confluent` format: the value's record schema (the
//! registry's latest for `<topic>-value`) becomes the table's columns, and the job turns each
//! row back into the JSON freshlens decodes Avro to, so everything after the table is the same SQL.

use apache_avro::Schema;

use super::refusal::Refusal;

/// An Avro source's schema and where its registry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvroValue {
    /// The latest value schema's text.
    pub schema: String,
    /// The registry's URL, without credentials.
    pub registry: String,
    /// Whether the registry takes basic auth (its credentials become a placeholder).
    pub basic_auth: bool,
}

/// The record's fields as (column, Flink type), or why a field has no exact column.
pub fn columns(what: &str, schema: &str) -> Result<Vec<(String, String)>, Refusal> {
    let parsed = Schema::parse_str(schema)
        .map_err(|e| Refusal::new(what, format!("its registry schema does not parse: {e}")))?;
    let Schema::Record(record) = &parsed else {
        return Err(Refusal::new(
            what,
            "its value schema is not a record: avro-confluent maps a record's fields to columns",
        ));
    };
    record
        .fields
        .iter()
        .map(|f| Ok((f.name.clone(), flink_type(what, &f.schema, 0)?)))
        .collect()
}

/// The Flink type Flink's Avro format reads `schema` as, where freshlens's JSON of the value and
/// Flink's `JSON_STRING` of the column agree.
fn flink_type(what: &str, schema: &Schema, depth: usize) -> Result<String, Refusal> {
    if depth > 32 {
        return Err(Refusal::new(
            what,
            "its schema nests records deeper than 32 levels",
        ));
    }
    let refuse = |kind: &str| {
        Err(Refusal::new(
            what,
            format!(
                "its schema has {kind}, which freshlens renders as JSON differently from Flink's \
                 JSON_STRING (so a fold over it would not be exact)"
            ),
        ))
    };
    Ok(match schema {
        Schema::Boolean => "BOOLEAN".into(),
        Schema::Int => "INT".into(),
        Schema::Long => "BIGINT".into(),
        Schema::Double => "DOUBLE".into(),
        Schema::String | Schema::Enum(_) => "STRING".into(),
        Schema::Array(a) => format!("ARRAY<{}>", flink_type(what, &a.items, depth + 1)?),
        Schema::Map(m) => format!("MAP<STRING, {}>", flink_type(what, &m.types, depth + 1)?),
        Schema::Record(r) => {
            let fields: Result<Vec<String>, Refusal> = r
                .fields
                .iter()
                .map(|f| {
                    Ok(format!(
                        "{} {}",
                        quote(&f.name),
                        flink_type(what, &f.schema, depth + 1)?
                    ))
                })
                .collect();
            format!("ROW<{}>", fields?.join(", "))
        }
        Schema::Union(u) => {
            let others: Vec<&Schema> = u
                .variants()
                .iter()
                .filter(|s| **s != Schema::Null)
                .collect();
            match others.as_slice() {
                [one] if u.is_nullable() => flink_type(what, one, depth + 1)?,
                _ => return refuse("a union of several types"),
            }
        }
        Schema::Float => return refuse("a float (widened to a double by freshlens)"),
        Schema::Bytes | Schema::Fixed(_) | Schema::Duration(_) => return refuse("bytes"),
        Schema::Ref { .. } => return refuse("a named type used twice"),
        Schema::Null => return refuse("a null-only field"),
        _ => return refuse("a logical type (a decimal, a date, a time or a uuid)"),
    })
}

/// A column name quoted for Flink SQL.
pub fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_schema_becomes_columns() {
        let schema = r#"{"type":"record","name":"Order","fields":[
            {"name":"amount","type":"double"},
            {"name":"sku","type":["null","string"],"default":null},
            {"name":"at","type":"long"},
            {"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[{"name":"qty","type":"int"}]}}},
            {"name":"tags","type":{"type":"map","values":"string"}},
            {"name":"state","type":{"type":"enum","name":"S","symbols":["A","B"]}}
        ]}"#;
        assert_eq!(
            columns("source o", schema).unwrap(),
            vec![
                ("amount".into(), "DOUBLE".into()),
                ("sku".into(), "STRING".into()),
                ("at".into(), "BIGINT".into()),
                ("lines".into(), "ARRAY<ROW<`qty` INT>>".into()),
                ("tags".into(), "MAP<STRING, STRING>".into()),
                ("state".into(), "STRING".into()),
            ]
        );
    }

    #[test]
    fn what_renders_differently_is_refused() {
        for field in [
            r#""bytes""#,
            r#""float""#,
            r#"["null","string","long"]"#,
            r#"{"type":"long","logicalType":"timestamp-millis"}"#,
            r#"{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}"#,
        ] {
            let schema = format!(
                r#"{{"type":"record","name":"R","fields":[{{"name":"x","type":{field}}}]}}"#
            );
            let refused = columns("source t", &schema).unwrap_err();
            assert!(
                refused.to_string().starts_with("source t: its schema has"),
                "{field}: {refused}"
            );
        }
        assert!(
            columns("source t", r#""string""#)
                .unwrap_err()
                .why
                .contains("not a record")
        );
    }
}
