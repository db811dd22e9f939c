//! `rebuild --emit flink-sql`: the spec compiled to one Flink SQL script (batch mode) that
//! replays the retained log, folds every customer as freshlens folds, compares with the store's
//! latest versions and classifies each difference as the rehearsal does, so a rebuild too large
//! for a laptop runs on the team's Flink and still answers what `rebuild --rehearse` answers.
//! Whatever SQL cannot say exactly is refused with the reason, never emitted approximately.

mod avro;
mod capture_files;
mod fold;
mod paths;
mod refusal;
mod request;
mod script;
mod tables;
mod values;

pub use avro::AvroValue;
pub use capture_files::{WrittenFile, write_capture_files};
pub use refusal::{Refusal, Refused};
pub use request::{EmitRequest, builder_committed};
pub use script::flink_sql;
pub use tables::{Tables, kafka_properties};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Spec;
    use std::collections::BTreeMap;
    use std::collections::BTreeSet;

    fn demo_spec() -> Spec {
        let text = include_str!("../../../assets/demo/c360.toml");
        Spec::parse(text, "c360.toml").unwrap()
    }

    fn kafka(
        spec: &Spec,
        properties: &[(&str, &str)],
        sink: Option<&str>,
    ) -> Result<String, Refused> {
        flink_sql(&EmitRequest {
            spec,
            spec_name: "c360.toml".into(),
            tables: Tables::Kafka {
                bootstrap: Some("broker-1:9092,broker-2:9092".into()),
                properties: properties
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                results: "s3://bucket/rebuild".into(),
            },
            sink_topic: sink.map(str::to_owned),
            committed: [(("c360.orders".to_owned(), 0), 42)].into_iter().collect(),
            reveal_pii: false,
            avro: BTreeMap::new(),
        })
    }

    /// The options of every `WITH (…)` clause, per table.
    fn with_options(script: &str) -> Vec<(String, BTreeMap<String, String>)> {
        let mut tables = Vec::new();
        for statement in script.split("CREATE TABLE ").skip(1) {
            let name = statement.split_whitespace().next().unwrap().to_owned();
            let with = statement.split(") WITH (").nth(1).unwrap();
            let with = &with[..with.find("\n);").unwrap()];
            let options = with
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let (k, v) = l.trim().trim_end_matches(',').split_once(" = ").unwrap();
                    (
                        k.trim_matches('\'').to_owned(),
                        v.trim_matches('\'').replace("''", "'"),
                    )
                })
                .collect();
            tables.push((name, options));
        }
        tables
    }

    /// Flink's documented options of the Kafka, Upsert Kafka and FileSystem connectors
    /// (docs/connectors/table/kafka, upsert-kafka, filesystem).
    const KAFKA_OPTIONS: &[&str] = &[
        "connector",
        "topic",
        "topic-pattern",
        "properties.bootstrap.servers",
        "properties.group.id",
        "format",
        "key.format",
        "key.fields",
        "key.fields-prefix",
        "value.format",
        "value.fields-include",
        "scan.startup.mode",
        "scan.startup.specific-offsets",
        "scan.startup.timestamp-millis",
        "scan.bounded.mode",
        "scan.bounded.specific-offsets",
        "scan.bounded.timestamp-millis",
        "scan.topic-partition-discovery.interval",
        // docs/connectors/table/formats/avro-confluent, under the value format's prefix.
        "value.avro-confluent.url",
        "value.avro-confluent.basic-auth.credentials-source",
        "value.avro-confluent.basic-auth.user-info",
    ];
    const UPSERT_OPTIONS: &[&str] = &[
        "connector",
        "topic",
        "properties.bootstrap.servers",
        "key.format",
        "key.fields-prefix",
        "value.format",
        "value.fields-include",
        "sink.parallelism",
        "sink.buffer-flush.max-rows",
        "sink.buffer-flush.interval",
    ];
    const FILESYSTEM_OPTIONS: &[&str] = &["connector", "path", "format"];
    /// The Kafka connector's readable metadata.
    const KAFKA_METADATA: &[&str] = &[
        "topic",
        "partition",
        "headers",
        "leader-epoch",
        "offset",
        "timestamp",
        "timestamp-type",
    ];

    #[test]
    fn the_kafka_form_uses_only_flinks_documented_options() {
        let script = kafka(
            &demo_spec(),
            &[
                ("security.protocol", "sasl_ssl"),
                ("sasl.mechanisms", "SCRAM-SHA-512"),
                ("sasl.username", "builder"),
                ("sasl.password", "hunter2-secret"),
                ("ssl.ca.location", "/etc/ca.pem"),
                ("ssl.key.password", "another-secret"),
            ],
            Some("c360.profiles.rebuilt"),
        )
        .unwrap();
        let tables = with_options(&script);
        assert_eq!(
            tables.len(),
            5 + 1 + 2 + 1,
            "sources, store, results, profiles"
        );
        let mut kafka_tables = 0;
        for (name, options) in &tables {
            let documented: &[&str] = match options["connector"].as_str() {
                "kafka" => {
                    kafka_tables += 1;
                    assert_eq!(options["scan.startup.mode"], "earliest-offset", "{name}");
                    assert_eq!(options["scan.bounded.mode"], "latest-offset", "{name}");
                    assert_eq!(options["key.format"], "raw", "{name}");
                    assert_eq!(options["value.format"], "raw", "{name}");
                    assert_eq!(options["value.fields-include"], "EXCEPT_KEY");
                    KAFKA_OPTIONS
                }
                "upsert-kafka" => {
                    assert_eq!(options["topic"], "c360.profiles.rebuilt");
                    UPSERT_OPTIONS
                }
                "filesystem" => {
                    assert!(options["path"].starts_with("s3://bucket/rebuild/"));
                    FILESYSTEM_OPTIONS
                }
                other => panic!("{name}: connector {other}"),
            };
            for key in options.keys() {
                assert!(
                    documented.contains(&key.as_str()) || key.starts_with("properties."),
                    "{name}: {key} is not a documented option"
                );
            }
            if options["connector"].contains("kafka") {
                assert_eq!(
                    options["properties.bootstrap.servers"],
                    "broker-1:9092,broker-2:9092"
                );
                assert_eq!(options["properties.security.protocol"], "SASL_SSL");
                assert_eq!(options["properties.sasl.mechanism"], "SCRAM-SHA-512");
                assert_eq!(options["properties.ssl.truststore.type"], "PEM");
                assert!(options["properties.sasl.jaas.config"].contains(
                    "ScramLoginModule required username=\"builder\" password=\"${SASL_PASSWORD}\""
                ));
                assert_eq!(
                    options["properties.ssl.key.password"],
                    "${SSL_KEY_PASSWORD}"
                );
            }
        }
        assert_eq!(kafka_tables, 6);
        assert!(!script.contains("hunter2") && !script.contains("another-secret"));
        let metadata: BTreeSet<&str> = script
            .split("METADATA FROM '")
            .skip(1)
            .map(|s| &s[..s.find('\'').unwrap()])
            .collect();
        assert_eq!(
            metadata,
            ["offset", "partition", "timestamp"].into_iter().collect()
        );
        assert!(metadata.iter().all(|m| KAFKA_METADATA.contains(m)));
        assert!(script.contains("SET 'execution.runtime-mode' = 'batch';"));
        assert!(
            script.contains("(CAST('c360.orders' AS STRING), 0, CAST(42 AS BIGINT))"),
            "the offsets as emitted"
        );
        // pii is masked in the differences unless revealed.
        assert!(
            script.contains("CASE WHEN pii AND R IS NOT NULL THEN '\"***\"'"),
            "{script}"
        );
    }

    #[test]
    fn without_a_connection_the_bootstrap_is_a_placeholder() {
        let script = flink_sql(&EmitRequest {
            spec: &demo_spec(),
            spec_name: "c360.toml".into(),
            tables: Tables::Kafka {
                bootstrap: None,
                properties: BTreeMap::new(),
                results: "file:///tmp/r".into(),
            },
            sink_topic: None,
            committed: BTreeMap::new(),
            reveal_pii: true,
            avro: BTreeMap::new(),
        })
        .unwrap();
        assert!(script.contains("'properties.bootstrap.servers' = '${BOOTSTRAP_SERVERS}'"));
        assert!(!script.contains("rebuilt_profiles"));
        assert!(!script.contains("'***'"));
    }

    #[test]
    fn what_sql_cannot_say_exactly_is_refused_with_every_reason() {
        let text = include_str!("../../../assets/demo/c360.toml")
            .replace(
                "path = \"/page\"\nrule = \"last\"",
                "path = \"/pages/0\"\nrule = \"last\"",
            )
            .replace("equals = \"erasure\"", "equals = [\"erasure\"]")
            .replace(
                "topic = \"c360.orders\"\nevent_time",
                "topic = \"c360.orders\"\nformat = \"text\"\nevent_time",
            );
        let spec = Spec::parse(&text, "c360.toml").unwrap();
        let refused = kafka(&spec, &[], None).unwrap_err();
        let message = refused.to_string();
        assert_eq!(refused.0.len(), 3, "{message}");
        assert!(
            message.contains("source c360.orders: format text is not compiled"),
            "{message}"
        );
        assert!(
            message.contains("field last_page: \"/pages/0\" has the token \"0\""),
            "{message}"
        );
        assert!(
            message.contains("erase_when equals an array or object"),
            "{message}"
        );
        let mut no_store = demo_spec();
        no_store.store = None;
        assert!(
            kafka(&no_store, &[], None)
                .unwrap_err()
                .to_string()
                .contains("no [store]")
        );
    }

    #[test]
    fn an_avro_source_reads_through_avro_confluent_with_the_registrys_columns() {
        let text = include_str!("../../../assets/demo/c360.toml").replace(
            "topic = \"c360.orders\"\nevent_time",
            "topic = \"c360.orders\"\nformat = \"avro\"\nevent_time",
        );
        let spec = Spec::parse(&text, "c360.toml").unwrap();
        let schema = r#"{"type":"record","name":"Order","fields":[{"name":"ts","type":"long"},
            {"name":"amount","type":["null","double"]},{"name":"k","type":"string"}]}"#;
        let avro = AvroValue {
            schema: schema.into(),
            registry: "https://registry:8081".into(),
            basic_auth: true,
        };
        let request = |tables: Tables| EmitRequest {
            spec: &spec,
            spec_name: "c360.toml".into(),
            tables,
            sink_topic: None,
            committed: BTreeMap::new(),
            reveal_pii: false,
            avro: [("c360.orders".to_owned(), avro.clone())]
                .into_iter()
                .collect(),
        };
        let script = flink_sql(&request(Tables::Kafka {
            bootstrap: None,
            properties: BTreeMap::new(),
            results: "file:///tmp/r".into(),
        }))
        .unwrap();
        let tables = with_options(&script);
        let (_, orders) = tables
            .iter()
            .find(|(_, o)| o["topic"] == "c360.orders")
            .unwrap();
        assert_eq!(orders["value.format"], "avro-confluent");
        assert_eq!(orders["value.avro-confluent.url"], "https://registry:8081");
        assert_eq!(
            orders["value.avro-confluent.basic-auth.user-info"],
            "${SCHEMA_REGISTRY_USER_INFO}"
        );
        assert_eq!(orders["key.fields"], "fl_k");
        for key in orders.keys() {
            assert!(
                KAFKA_OPTIONS.contains(&key.as_str()) || key.starts_with("properties."),
                "{key}"
            );
        }
        // A field named like a metadata column does not collide with it.
        assert!(
            script.contains(
                "fl_k BYTES,\n  `ts` BIGINT,\n  `amount` DOUBLE,\n  `k` STRING,\n  fl_part INT"
            ),
            "{script}"
        );
        assert!(script.contains("JSON_STRING(CAST(ROW(`ts`, `amount`, `k`) AS ROW<`ts` BIGINT, `amount` DOUBLE, `k` STRING>))"));
        // Without the registry's schema, or over a capture's files: refused.
        let mut without = request(Tables::Kafka {
            bootstrap: None,
            properties: BTreeMap::new(),
            results: "file:///tmp/r".into(),
        });
        without.avro.clear();
        assert!(
            flink_sql(&without)
                .unwrap_err()
                .to_string()
                .contains("needs --schema-registry")
        );
        let files = flink_sql(&request(Tables::Files {
            dir: "/tmp/x".into(),
        }))
        .unwrap_err();
        assert!(
            files.to_string().contains("not for a capture's files"),
            "{files}"
        );
    }
}
