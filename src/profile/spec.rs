//! The profile spec: which topics feed a profile, how each field folds, and where the profile
//! store lives. Loaded from TOML; every error names the line it is about.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use super::{Budget, Partitioner};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    #[default]
    Json,
    /// Confluent wire format, schemas from a Schema Registry.
    Avro,
    /// Raw Avro datums written with the schema in `schema_file`.
    AvroFile,
    /// Confluent wire format with message indexes, schemas from a Schema Registry.
    Protobuf,
    /// Plain Protobuf messages of type `message`, compiled from the `proto` files.
    ProtobufFile,
    /// Confluent wire format around JSON (the registry's JSON Schema).
    JsonSchema,
    Text,
}

impl SourceFormat {
    /// Whether payloads carry a schema id the registry must be asked about.
    pub fn needs_registry(self) -> bool {
        matches!(self, Self::Avro | Self::Protobuf)
    }

    /// Written with Confluent's framing (a schema id the registry knows): JSON Schema too,
    /// though its payload reads without the registry.
    pub fn registry_framed(self) -> bool {
        matches!(self, Self::Avro | Self::Protobuf | Self::JsonSchema)
    }

    /// The spec's word for the format.
    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Avro => "avro",
            Self::AvroFile => "avro-file",
            Self::Protobuf => "protobuf",
            Self::ProtobufFile => "protobuf-file",
            Self::JsonSchema => "json-schema",
            Self::Text => "text",
        }
    }
}

/// The `.proto` files of a `protobuf-file` source (relative to the spec, imports resolved in
/// its folder) and the message its records hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProtoFiles {
    pub files: Vec<PathBuf>,
    pub message: String,
    /// The spec's folder.
    pub root: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    Last,
    First,
    Count,
    Sum,
    Min,
    Max,
    Distinct,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub path: String,
    pub equals: Value,
}

impl Condition {
    pub fn matches(&self, value: &Value) -> bool {
        super::pointer(value, &self.path) == Some(&self.equals)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub topic: String,
    #[serde(default)]
    pub format: SourceFormat,
    /// JSON pointer to the event time (epoch ms or RFC 3339); absent: the record timestamp.
    pub event_time: Option<String>,
    /// JSON pointers to ids that join this customer's identity set.
    #[serde(default)]
    pub links: Vec<String>,
    pub erase_when: Option<Condition>,
    /// Avro schema for `avro-file` sources, relative to the spec file.
    pub schema_file: Option<PathBuf>,
    /// `.proto` files of a `protobuf-file` source, relative to the spec file.
    #[serde(default)]
    pub proto: Vec<PathBuf>,
    /// The message type of a `protobuf-file` source's records (`package.Message`).
    pub message: Option<String>,
    /// Where `proto` files and their imports are looked for: the spec's folder.
    #[serde(skip)]
    pub proto_root: Option<PathBuf>,
}

impl Source {
    /// A `protobuf-file` source's files and message, when it has them.
    pub fn proto_files(&self) -> Option<ProtoFiles> {
        (self.format == SourceFormat::ProtobufFile).then(|| ProtoFiles {
            files: self.proto.clone(),
            message: self.message.clone().unwrap_or_default(),
            root: self
                .proto_root
                .clone()
                .unwrap_or_else(|| PathBuf::from(".")),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    pub topic: String,
    pub path: String,
    pub rule: Rule,
    #[serde(default)]
    pub pii: bool,
    /// Name of a boolean field that must be true for this one to be usable.
    pub consent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Store {
    pub topic: String,
    #[serde(default)]
    pub format: SourceFormat,
    /// JSON pointer to when the builder wrote this version; absent: the record timestamp.
    pub updated_at: Option<String>,
    /// JSON pointer to the object whose keys are field names; empty: the whole value.
    #[serde(default)]
    pub fields: String,
    pub builder_group: Option<String>,
    /// JSON pointer to the newest source event time the builder had applied.
    pub watermark: Option<String>,
    /// As a source's, for a `protobuf-file` store.
    #[serde(default)]
    pub proto: Vec<PathBuf>,
    pub message: Option<String>,
    #[serde(skip)]
    pub proto_root: Option<PathBuf>,
}

impl Store {
    /// The store topic as a source, for decoding its records with the spec's decoder.
    pub fn as_source(&self) -> Source {
        Source {
            topic: self.topic.clone(),
            format: self.format,
            event_time: None,
            links: Vec::new(),
            erase_when: None,
            schema_file: None,
            proto: self.proto.clone(),
            message: self.message.clone(),
            proto_root: self.proto_root.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub name: String,
    pub partitioner: Partitioner,
    pub budget: Budget,
    pub sources: Vec<Source>,
    pub fields: Vec<Field>,
    pub store: Option<Store>,
    /// What "ready" means for the domain (the scorecard's targets); empty when not written.
    pub contract: super::contract::Contract,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file}{}: {problem}", line.map(|n| format!(":{n}")).unwrap_or_default())]
pub struct SpecError {
    pub file: String,
    /// The line the problem is on, when it has one.
    pub line: Option<usize>,
    pub problem: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    #[serde(default = "default_name")]
    name: String,
    #[serde(default)]
    partitioner: Partitioner,
    budget: Option<Spanned<String>>,
    #[serde(default, rename = "source")]
    sources: Vec<Spanned<Source>>,
    #[serde(default, rename = "field")]
    fields: Vec<Spanned<Field>>,
    store: Option<Spanned<Store>>,
    contract: Option<Spanned<super::contract::RawContract>>,
}

fn default_name() -> String {
    "profile".into()
}

impl Spec {
    pub fn load(path: &Path) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|e| SpecError {
            file: path.display().to_string(),
            line: None,
            problem: format!("cannot read: {e}"),
        })?;
        let mut spec = Self::parse(&text, &path.display().to_string())?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for source in &mut spec.sources {
            if let Some(schema) = &mut source.schema_file
                && schema.is_relative()
            {
                *schema = dir.join(&*schema);
            }
            source.proto_root = Some(dir.to_owned());
        }
        if let Some(store) = &mut spec.store {
            store.proto_root = Some(dir.to_owned());
        }
        Ok(spec)
    }

    /// Parses spec text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, SpecError> {
        let error = |span: Option<std::ops::Range<usize>>, problem: String| SpecError {
            file: file.to_owned(),
            line: span.map(|s| line_of(text, s.start)),
            problem,
        };
        let raw: RawSpec =
            toml::from_str(text).map_err(|e| error(e.span(), e.message().to_owned()))?;
        let budget = match &raw.budget {
            Some(budget) => {
                let at = Some(budget.span());
                let text = budget.get_ref();
                let parsed = humantime::parse_duration(text)
                    .map_err(|e| error(at.clone(), format!("budget {text:?}: {e}")))?;
                // Times are i64 milliseconds: a budget must fit, and mean something.
                Budget::new(parsed).map_err(|e| error(at, format!("budget {text:?}: {e}")))?
            }
            None => Budget::DEFAULT,
        };
        if raw.sources.is_empty() {
            return Err(error(
                None,
                "no [[source]]: a spec names at least one source topic".into(),
            ));
        }
        if let Some(store) = &raw.store {
            let at = Some(store.span());
            let s = store.get_ref();
            check_proto(s.format, &s.proto, s.message.as_deref())
                .map_err(|p| error(at.clone(), format!("[store]: {p}")))?;
            if s.format == SourceFormat::AvroFile {
                return Err(error(
                    at,
                    "[store]: format avro-file is for sources (the store takes avro, \
                     protobuf, protobuf-file, json-schema, json or text)"
                        .into(),
                ));
            }
            for (name, pointer) in [
                ("updated_at", s.updated_at.as_deref()),
                ("fields", Some(s.fields.as_str())),
                ("watermark", s.watermark.as_deref()),
            ] {
                if let Some(pointer) = pointer {
                    check_pointer(pointer)
                        .map_err(|p| error(at.clone(), format!("[store] {name}: {p}")))?;
                }
            }
            if s.builder_group
                .as_deref()
                .is_some_and(|g| g.trim().is_empty())
            {
                return Err(error(
                    at,
                    "[store] builder_group is empty: name the consumer group that builds the \
                     store, or leave the line out"
                        .into(),
                ));
            }
        }
        let mut seen_topics = Vec::new();
        for source in &raw.sources {
            let s = source.get_ref();
            if seen_topics.contains(&&s.topic) {
                return Err(error(
                    Some(source.span()),
                    format!("topic {} is a source twice", s.topic),
                ));
            }
            seen_topics.push(&s.topic);
            let erase = s.erase_when.iter().map(|e| &e.path);
            for pointer in s.event_time.iter().chain(&s.links).chain(erase) {
                check_pointer(pointer).map_err(|p| error(Some(source.span()), p.to_string()))?;
            }
            if s.format == SourceFormat::AvroFile && s.schema_file.is_none() {
                return Err(error(
                    Some(source.span()),
                    format!("source {}: format avro-file needs schema_file", s.topic),
                ));
            }
            check_proto(s.format, &s.proto, s.message.as_deref())
                .map_err(|p| error(Some(source.span()), format!("source {}: {p}", s.topic)))?;
        }
        let names: Vec<&str> = raw
            .fields
            .iter()
            .map(|f| f.get_ref().name.as_str())
            .collect();
        for (i, field) in raw.fields.iter().enumerate() {
            let f = field.get_ref();
            let at = Some(field.span());
            if names[..i].contains(&f.name.as_str()) {
                return Err(error(at, format!("field {} is defined twice", f.name)));
            }
            if !raw.sources.iter().any(|s| s.get_ref().topic == f.topic) {
                return Err(error(
                    at,
                    format!("field {}: topic {} is not a [[source]]", f.name, f.topic),
                ));
            }
            check_pointer(&f.path)
                .map_err(|p| error(at.clone(), format!("field {}: {p}", f.name)))?;
            if let Some(consent) = &f.consent
                && !names.contains(&consent.as_str())
            {
                return Err(error(
                    at,
                    format!("field {}: consent field {consent} is not defined", f.name),
                ));
            }
        }
        let contract = match raw.contract {
            Some(contract) => {
                let at = Some(contract.span());
                contract
                    .into_inner()
                    .check(&names)
                    .map_err(|e| error(at, e.to_string()))?
            }
            None => super::contract::Contract::default(),
        };
        Ok(Self {
            name: raw.name,
            partitioner: raw.partitioner,
            budget,
            contract,
            sources: raw.sources.into_iter().map(Spanned::into_inner).collect(),
            fields: raw.fields.into_iter().map(Spanned::into_inner).collect(),
            store: raw.store.map(Spanned::into_inner),
        })
    }

    /// A spec for topics without one: every top-level JSON field, latest event wins.
    pub fn schemaless(topics: &[String]) -> Self {
        Self {
            name: "profile".into(),
            partitioner: Partitioner::Murmur2,
            budget: Budget::DEFAULT,
            contract: super::contract::Contract::default(),
            sources: topics
                .iter()
                .map(|topic| Source {
                    topic: topic.clone(),
                    format: SourceFormat::Json,
                    event_time: None,
                    links: Vec::new(),
                    erase_when: None,
                    schema_file: None,
                    proto: Vec::new(),
                    message: None,
                    proto_root: None,
                })
                .collect(),
            fields: Vec::new(),
            store: None,
        }
    }

    pub fn source(&self, topic: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.topic == topic)
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Why a spec's JSON pointer cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum PointerError {
    #[error("{0:?} is not a JSON pointer (it must start with /)")]
    NoLeadingSlash(String),
    #[error(
        "a JSON pointer {tokens} levels down reaches past what a payload may nest ({} levels)",
        crate::codec::MAX_DEPTH
    )]
    TooDeep { tokens: usize },
}

/// What a source's `proto` and `message` keys get wrong.
#[derive(Debug, thiserror::Error)]
enum ProtoKeys {
    #[error("format protobuf-file needs proto = [\"file.proto\", …]")]
    NoFiles,
    #[error("format protobuf-file needs message = \"package.Message\"")]
    NoMessage,
    #[error("proto and message are for format protobuf-file, not {0}")]
    NotProtobufFile(&'static str),
}

/// `protobuf-file` needs its files and message; nothing else takes them.
fn check_proto(
    format: SourceFormat,
    proto: &[PathBuf],
    message: Option<&str>,
) -> Result<(), ProtoKeys> {
    match (format, proto.is_empty(), message) {
        (SourceFormat::ProtobufFile, true, _) => Err(ProtoKeys::NoFiles),
        (SourceFormat::ProtobufFile, false, None) => Err(ProtoKeys::NoMessage),
        (SourceFormat::ProtobufFile, false, Some(_)) => Ok(()),
        (other, false, _) | (other, true, Some(_)) => Err(ProtoKeys::NotProtobufFile(other.name())),
        (_, true, None) => Ok(()),
    }
}

fn check_pointer(pointer: &str) -> Result<(), PointerError> {
    let tokens = pointer.matches('/').count();
    if !(pointer.is_empty() || pointer.starts_with('/')) {
        Err(PointerError::NoLeadingSlash(pointer.to_owned()))
    } else if tokens >= crate::codec::MAX_DEPTH {
        // Nothing decoded sits that deep, and a rebuild would make a value that deep.
        Err(PointerError::TooDeep { tokens })
    } else {
        Ok(())
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
name = "customer"
partitioner = "murmur2"
budget = "5m"

[[source]]
topic = "c360.identity"
format = "json"
event_time = "/ts"
links = ["/anonymous_id", "/device_id"]

[[source]]
topic = "c360.consent"
event_time = "/ts"
erase_when = { path = "/type", equals = "erasure" }

[[field]]
name = "email"
topic = "c360.identity"
path = "/email"
rule = "last"
pii = true
consent = "marketing"

[[field]]
name = "marketing"
topic = "c360.consent"
path = "/marketing"
rule = "last"

[store]
topic = "c360.profiles"
format = "json"
updated_at = "/updated_at"
fields = "/profile"
builder_group = "profile-builder"
"#;

    #[test]
    fn parses_the_documented_example() {
        let spec = Spec::parse(EXAMPLE, "c360.toml").unwrap();
        assert_eq!(spec.budget, Budget::DEFAULT);
        assert_eq!(spec.partitioner, Partitioner::Murmur2);
        assert_eq!(spec.sources.len(), 2);
        assert_eq!(spec.sources[0].links, vec!["/anonymous_id", "/device_id"]);
        let erase = spec.sources[1].erase_when.as_ref().unwrap();
        assert!(erase.matches(&serde_json::json!({"type": "erasure"})));
        assert_eq!(
            spec.field("email").unwrap().consent.as_deref(),
            Some("marketing")
        );
        assert_eq!(
            spec.store.unwrap().builder_group.as_deref(),
            Some("profile-builder")
        );
    }

    #[test]
    fn specs_that_cannot_mean_anything_are_errors_with_a_line() {
        let no_sources = "name = \"x\"\nbudget = \"5m\"\n";
        let err = Spec::parse(no_sources, "c.toml").unwrap_err().to_string();
        assert_eq!(
            err,
            "c.toml: no [[source]]: a spec names at least one source topic"
        );
        for budget in ["\"500000000years\"", "\"0s\""] {
            let text = EXAMPLE.replace("\"5m\"", budget);
            let err = Spec::parse(&text, "c.toml").unwrap_err().to_string();
            assert!(
                err.starts_with("c.toml:4: budget") && err.contains("at most 10 years"),
                "{err}"
            );
        }
        let bad_store = EXAMPLE.replace(
            "updated_at = \"/updated_at\"",
            "updated_at = \"updated_at\"",
        );
        let err = Spec::parse(&bad_store, "c.toml").unwrap_err().to_string();
        assert!(
            err.contains("[store] updated_at: \"updated_at\" is not a JSON pointer"),
            "{err}"
        );
        assert!(err.starts_with("c.toml:"), "{err}");
        let no_group = EXAMPLE.replace(
            "builder_group = \"profile-builder\"",
            "builder_group = \"\"",
        );
        let err = Spec::parse(&no_group, "c.toml").unwrap_err().to_string();
        assert!(err.contains("[store] builder_group is empty"), "{err}");
        assert!(err.starts_with("c.toml:"), "{err}");
    }

    #[test]
    fn errors_name_the_line() {
        let bad_rule = EXAMPLE.replace("rule = \"last\"\npii", "rule = \"newest\"\npii");
        let err = Spec::parse(&bad_rule, "c.toml").unwrap_err().to_string();
        assert!(err.starts_with("c.toml:21:"), "{err}");
        assert!(err.contains("newest"), "{err}");

        let bad_topic = EXAMPLE.replace(
            "topic = \"c360.consent\"\npath",
            "topic = \"c360.nope\"\npath",
        );
        let err = Spec::parse(&bad_topic, "c.toml").unwrap_err().to_string();
        assert!(err.starts_with("c.toml:25:"), "{err}");
        assert!(err.contains("c360.nope is not a [[source]]"), "{err}");

        let bad_budget = EXAMPLE.replace("\"5m\"", "\"soon\"");
        let err = Spec::parse(&bad_budget, "c.toml").unwrap_err().to_string();
        assert!(err.starts_with("c.toml:4:"), "{err}");

        let bad_consent = EXAMPLE.replace("consent = \"marketing\"", "consent = \"nobody\"");
        assert!(
            Spec::parse(&bad_consent, "c")
                .unwrap_err()
                .problem
                .contains("consent field nobody")
        );

        let bad_pointer = EXAMPLE.replace("path = \"/email\"", "path = \"email\"");
        assert!(
            Spec::parse(&bad_pointer, "c")
                .unwrap_err()
                .problem
                .contains("not a JSON pointer")
        );
        let deep = "/a".repeat(10_000);
        let too_deep = EXAMPLE.replace("path = \"/email\"", &format!("path = \"{deep}\""));
        assert!(
            Spec::parse(&too_deep, "c")
                .unwrap_err()
                .problem
                .contains("10000 levels down reaches past what a payload may nest (128 levels)")
        );
        let deepest = EXAMPLE.replace(
            "path = \"/email\"",
            &format!("path = \"{}\"", "/a".repeat(127)),
        );
        assert!(Spec::parse(&deepest, "c").is_ok());
        assert!(
            Spec::parse("unknown = 1", "c")
                .unwrap_err()
                .to_string()
                .starts_with("c:1:")
        );
    }
}
