//! `freshlens rebuild --emit flink-sql`: writes the rebuild job for Flink, over the cluster
//! (Kafka connector) or over a capture (filesystem connector, files written beside the script).

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;

use super::rebuild::RebuildArgs;
use crate::cluster::ConnectionConfig;
use crate::profile::Spec;
use std::collections::BTreeMap;

use crate::codec::registry::RegistryClient;
use crate::profile::spec::SourceFormat;
use crate::rebuild::flink::{
    AvroValue, EmitRequest, Tables, builder_committed, flink_sql, write_capture_files,
};
use crate::source::{Source, load_capture};

/// Where a job over a cluster writes its results unless `--results` says otherwise.
const DEFAULT_RESULTS: &str = "file:///tmp/freshlens-rebuild";

pub fn run(
    source: &dyn Source,
    spec: &Spec,
    args: &RebuildArgs,
    config: Option<&ConnectionConfig>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let spec_name = args.spec.display().to_string();
    if let (Some(capture_path), Some(dir)) = (&args.from_capture, &args.out) {
        let (capture, warnings) = load_capture(capture_path)?;
        for warning in warnings {
            eprintln!("warning: {}: {warning}", capture_path.display());
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let dir = dir
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", dir.display()))?;
        let request = EmitRequest {
            spec,
            spec_name,
            tables: Tables::Files { dir: dir.clone() },
            sink_topic: args.sink_topic.clone(),
            committed: builder_committed(&capture, spec)?,
            reveal_pii: args.reveal_pii,
            avro: BTreeMap::new(),
        };
        // Refused before anything is written.
        let script = flink_sql(&request)?;
        let files = write_capture_files(&capture, spec, &dir)
            .with_context(|| format!("cannot write the capture's files to {}", dir.display()))?;
        let script_path = args.output.clone().unwrap_or_else(|| dir.join("job.sql"));
        write_file(&script_path, &script)?;
        writeln!(out, "wrote {}", script_path.display())?;
        for file in files {
            writeln!(
                out,
                "wrote {} ({} records of {})",
                file.path.display(),
                file.records,
                file.topic
            )?;
        }
        writeln!(out, "results go to {}", dir.join("results").display())?;
        return Ok(());
    }
    let request = EmitRequest {
        spec,
        spec_name,
        tables: Tables::Kafka {
            bootstrap: config.map(|c| c.bootstrap.clone()),
            properties: config.map(|c| c.properties.clone()).unwrap_or_default(),
            results: args
                .results
                .clone()
                .unwrap_or_else(|| DEFAULT_RESULTS.to_owned()),
        },
        sink_topic: args.sink_topic.clone(),
        committed: builder_committed(source, spec)?,
        reveal_pii: args.reveal_pii,
        avro: avro_schemas(spec, args)?,
    };
    let script = flink_sql(&request)?;
    match &args.output {
        Some(path) => {
            write_file(path, &script)?;
            writeln!(out, "wrote {}", path.display())?;
        }
        None => out.write_all(script.as_bytes())?,
    }
    Ok(())
}

/// The latest value schema of every Avro topic the spec reads, where a registry is given.
fn avro_schemas(spec: &Spec, args: &RebuildArgs) -> anyhow::Result<BTreeMap<String, AvroValue>> {
    let mut schemas = BTreeMap::new();
    let Some(url) = &args.registry.schema_registry else {
        return Ok(schemas);
    };
    let client = RegistryClient::new(url, args.registry.schema_registry_auth.as_deref())
        .map_err(anyhow::Error::msg)?;
    let avro_topics = spec
        .sources
        .iter()
        .map(|s| (&s.topic, s.format))
        .chain(spec.store.iter().map(|s| (&s.topic, s.format)))
        .filter(|(_, format)| *format == SourceFormat::Avro);
    for (topic, _) in avro_topics {
        let schema = client
            .latest_schema_text(&format!("{topic}-value"))
            .map_err(anyhow::Error::msg)?;
        schemas.insert(
            topic.clone(),
            AvroValue {
                schema,
                registry: client.url().to_owned(),
                basic_auth: client.authenticates(),
            },
        );
    }
    Ok(schemas)
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
