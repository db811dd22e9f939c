//! The job's tables: Kafka-connector tables on a cluster, or filesystem tables over JSON-lines
//! files written next to the script from a capture. Both give the same columns, so everything
//! after them is one SQL.

use std::collections::BTreeMap;
use std::path::Path;

use super::paths::literal;
use crate::cluster::is_secret_key;

/// Where the job reads and writes.
#[derive(Debug, Clone)]
pub enum Tables {
    /// The cluster, through the Kafka connector. `properties` are the command's librdkafka
    /// properties (`-X`); secrets become placeholders, never printed.
    Kafka {
        bootstrap: Option<String>,
        properties: BTreeMap<String, String>,
        /// Where the differences and the summary are written (a filesystem URI).
        results: String,
    },
    /// JSON-lines files in `dir`, one per topic (see [`super::write_capture_files`]).
    Files { dir: std::path::PathBuf },
}

/// Columns every source and store table has: key and value bytes, partition, offset and the
/// record's broker time in epoch ms (`broker_ms`; NULL or implausible reads as 0 later).
pub fn source_table(tables: &Tables, name: &str, topic: &str) -> String {
    match tables {
        Tables::Kafka {
            bootstrap,
            properties,
            ..
        } => {
            let mut with = bounded_read(bootstrap.as_deref(), topic);
            with.extend([
                ("key.fields".into(), "k".into()),
                ("value.format".into(), "raw".into()),
            ]);
            with.extend(kafka_properties(properties));
            format!(
                "CREATE TABLE {name} (\n  k BYTES,\n  v BYTES,\n  part INT METADATA FROM 'partition' VIRTUAL,\n  \
                 off BIGINT METADATA FROM 'offset' VIRTUAL,\n  ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,\n  \
                 broker_ms AS TIMESTAMPDIFF(SECOND, TO_TIMESTAMP_LTZ(0, 3), ts) * CAST(1000 AS BIGINT) + EXTRACT(MILLISECOND FROM ts)\n\
                 ) WITH (\n{}\n);\n\n",
                options(&with)
            )
        }
        Tables::Files { dir } => format!(
            "CREATE TABLE {name} (\n  k BYTES,\n  v BYTES,\n  part INT,\n  off BIGINT,\n  broker_ms BIGINT\n) WITH (\n{}\n);\n\n",
            options(&[
                ("connector".into(), "filesystem".into()),
                ("path".into(), file_uri(&dir.join(file_name(topic)))),
                ("format".into(), "json".into()),
            ])
        ),
    }
}

/// An Avro topic's table: the key, the value record's fields as columns (Flink's
/// `avro-confluent` format, schemas by id from the registry), and the metadata, named `fl_…` so
/// no field of the record can collide with them.
pub fn avro_table(
    tables: &Tables,
    name: &str,
    topic: &str,
    avro: &super::avro::AvroValue,
    columns: &[(String, String)],
) -> String {
    let Tables::Kafka {
        bootstrap,
        properties,
        ..
    } = tables
    else {
        return String::new();
    };
    let mut with = bounded_read(bootstrap.as_deref(), topic);
    with.extend([
        ("key.fields".into(), "fl_k".into()),
        ("key.fields-prefix".into(), "fl_".into()),
        ("value.format".into(), "avro-confluent".into()),
        ("value.avro-confluent.url".into(), avro.registry.clone()),
    ]);
    if avro.basic_auth {
        with.push((
            "value.avro-confluent.basic-auth.credentials-source".into(),
            "USER_INFO".into(),
        ));
        with.push((
            "value.avro-confluent.basic-auth.user-info".into(),
            "${SCHEMA_REGISTRY_USER_INFO}".into(),
        ));
    }
    with.extend(kafka_properties(properties));
    let fields: Vec<String> = columns
        .iter()
        .map(|(column, kind)| format!("  {} {kind},\n", super::avro::quote(column)))
        .collect();
    format!(
        "CREATE TABLE {name} (\n  fl_k BYTES,\n{}  fl_part INT METADATA FROM 'partition' VIRTUAL,\n  \
         fl_off BIGINT METADATA FROM 'offset' VIRTUAL,\n  fl_ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,\n  \
         fl_broker_ms AS TIMESTAMPDIFF(SECOND, TO_TIMESTAMP_LTZ(0, 3), fl_ts) * CAST(1000 AS BIGINT) + EXTRACT(MILLISECOND FROM fl_ts)\n\
         ) WITH (\n{}\n);\n\n",
        fields.concat(),
        options(&with)
    )
}

/// The results tables: differences and summary.
pub fn result_tables(tables: &Tables) -> String {
    let base = match tables {
        Tables::Kafka { results, .. } => results.trim_end_matches('/').to_owned(),
        Tables::Files { dir } => file_uri(&dir.join("results")),
    };
    let sink = |name: &str, columns: &str| {
        format!(
            "CREATE TABLE {name} (\n{columns}\n) WITH (\n{}\n);\n\n",
            options(&[
                ("connector".into(), "filesystem".into()),
                ("path".into(), format!("{base}/{name}")),
                ("format".into(), "json".into()),
            ])
        )
    };
    sink(
        "rebuild_differences",
        "  customer STRING,\n  field STRING,\n  class STRING,\n  rebuilt STRING,\n  served STRING",
    ) + &sink(
        "rebuild_summary",
        "  metric STRING,\n  field STRING,\n  n BIGINT",
    )
}

/// The rebuilt profiles' table: the topic (upsert by key) on a cluster, a file from a capture.
pub fn profiles_table(tables: &Tables, topic: &str) -> String {
    match tables {
        Tables::Kafka {
            bootstrap,
            properties,
            ..
        } => {
            let mut with = vec![
                ("connector".to_owned(), "upsert-kafka".to_owned()),
                ("topic".to_owned(), topic.to_owned()),
                (
                    "properties.bootstrap.servers".to_owned(),
                    bootstrap
                        .clone()
                        .unwrap_or_else(|| "${BOOTSTRAP_SERVERS}".into()),
                ),
                ("key.format".into(), "raw".into()),
                ("value.format".into(), "raw".into()),
                ("value.fields-include".into(), "EXCEPT_KEY".into()),
            ];
            with.extend(kafka_properties(properties));
            format!(
                "CREATE TABLE rebuilt_profiles (\n  customer STRING,\n  profile STRING,\n  PRIMARY KEY (customer) NOT ENFORCED\n) WITH (\n{}\n);\n\n",
                options(&with)
            )
        }
        Tables::Files { dir } => format!(
            "-- From a capture, the profiles that would go to {topic} are written to a file.\n\
             CREATE TABLE rebuilt_profiles (\n  customer STRING,\n  profile STRING\n) WITH (\n{}\n);\n\n",
            options(&[
                ("connector".into(), "filesystem".into()),
                (
                    "path".into(),
                    file_uri(&dir.join("results").join("profiles"))
                ),
                ("format".into(), "json".into()),
            ])
        ),
    }
}

/// A Kafka table read from the earliest offset up to the latest when the job starts, with a raw
/// key and the value's columns after it.
fn bounded_read(bootstrap: Option<&str>, topic: &str) -> Vec<(String, String)> {
    vec![
        ("connector".to_owned(), "kafka".to_owned()),
        ("topic".to_owned(), topic.to_owned()),
        (
            "properties.bootstrap.servers".to_owned(),
            bootstrap.unwrap_or("${BOOTSTRAP_SERVERS}").to_owned(),
        ),
        ("scan.startup.mode".into(), "earliest-offset".into()),
        ("scan.bounded.mode".into(), "latest-offset".into()),
        ("key.format".into(), "raw".into()),
        ("value.fields-include".into(), "EXCEPT_KEY".into()),
    ]
}

/// The file a topic's records are written to.
pub fn file_name(topic: &str) -> String {
    format!("{topic}.jsonl")
}

fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn options(with: &[(String, String)]) -> String {
    with.iter()
        .map(|(k, v)| format!("  {} = {}", literal(k), literal(v)))
        .collect::<Vec<_>>()
        .join(",\n")
}

/// librdkafka properties as the Java client's, under `properties.`: the ones that mean the same
/// are carried over, secrets as `${…}` placeholders; SASL/PLAIN and SCRAM credentials become a
/// JAAS line whose password is a placeholder.
pub fn kafka_properties(librdkafka: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let placeholder = |key: &str| format!("${{{}}}", key.to_uppercase().replace(['.', '-'], "_"));
    for (key, value) in librdkafka {
        let java = match key.as_str() {
            "security.protocol" => Some(("security.protocol", value.to_uppercase())),
            "sasl.mechanisms" | "sasl.mechanism" => Some(("sasl.mechanism", value.clone())),
            "ssl.ca.location" => Some(("ssl.truststore.location", value.clone())),
            "client.id" => Some(("client.id", value.clone())),
            "sasl.username" | "sasl.password" => None,
            _ if is_secret_key(key) => Some((key.as_str(), placeholder(key))),
            _ => None,
        };
        if let Some((k, v)) = java {
            out.push((format!("properties.{k}"), v));
            if key == "ssl.ca.location" {
                out.push(("properties.ssl.truststore.type".into(), "PEM".into()));
            }
        }
    }
    if let Some(user) = librdkafka.get("sasl.username") {
        let module = match librdkafka
            .get("sasl.mechanisms")
            .or(librdkafka.get("sasl.mechanism"))
            .map(String::as_str)
        {
            Some(m) if m.starts_with("SCRAM") => {
                "org.apache.kafka.common.security.scram.ScramLoginModule"
            }
            _ => "org.apache.kafka.common.security.plain.PlainLoginModule",
        };
        out.push((
            "properties.sasl.jaas.config".into(),
            format!("{module} required username=\"{user}\" password=\"${{SASL_PASSWORD}}\";"),
        ));
    }
    out
}
