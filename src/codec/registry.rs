//! A Confluent-compatible Schema Registry client: schemas by id, schema references resolved
//! through their subjects, basic auth, and a cache so each id is fetched once per session.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use super::avro::{AvroError, ParsedSchema};
use super::protobuf::{ProtoSchema, ProtobufError};

/// What a schema id decodes as.
#[derive(Debug)]
pub enum RegisteredSchema {
    Avro(Box<ParsedSchema>),
    Protobuf(Box<ProtoSchema>),
    /// JSON Schema: the payload after the header is JSON.
    Json,
}

/// Why a schema could not be had, typed so the client knows what to remember: an answer (not
/// found, refused, unusable) holds for the session; no answer (a timeout, a dropped
/// connection) may not hold next time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("registry at {base}: {detail}")]
    Unreachable { base: String, detail: String },
    #[error("registry at {base} did not answer earlier in this run: not asked again")]
    Silent { base: String },
    #[error("registry at {base} refused the credentials (HTTP {status})")]
    Refused { base: String, status: u16 },
    #[error("{what}: HTTP {status}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Answered {
        what: String,
        status: u16,
        message: Option<String>,
    },
    #[error("{0}")]
    Unusable(String),
    /// Says the schema's error itself rather than as `source()`, as `DecodeError` does.
    #[error("schema id {0}: {1}")]
    BadSchema(u32, AvroError),
    #[error("schema id {0}: {1}")]
    BadProtobuf(u32, ProtobufError),
    #[error("schema registry URL {shown:?} needs http:// or https://")]
    NotAUrl { shown: String },
}

impl RegistryError {
    /// Whether the registry answered, so asking again would get the same answer.
    pub fn is_an_answer(&self) -> bool {
        !matches!(self, Self::Unreachable { .. } | Self::Silent { .. })
    }
}

pub struct RegistryClient {
    base: String,
    /// `Basic …` or `Bearer …` header value; never printed.
    authorization: Option<String>,
    agent: ureq::Agent,
    cache: Mutex<HashMap<u32, Result<Arc<RegisteredSchema>, RegistryError>>>,
    /// Subject and version by schema id.
    subjects: Mutex<HashMap<u32, Option<(String, u32)>>>,
    /// Set when a request got no answer in time: later ids fail at once instead of each
    /// waiting out the timeout again, so one timeout bounds a whole command.
    silent: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// An HTTP URL split into what may be shown (the URL without its `user:password@`) and that
/// user information, which only ever goes into a Basic `Authorization` header.
pub fn split_credentials(url: &str) -> (String, Option<&str>) {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let (userinfo, host) = match rest.rsplit_once('@') {
        Some((userinfo, host)) => (Some(userinfo), host),
        None => (None, rest),
    };
    let shown = match scheme {
        Some(scheme) => format!("{scheme}://{host}"),
        None => host.to_owned(),
    };
    (shown, userinfo)
}

/// A `Basic …` header value for `user:password`.
pub fn basic_authorization(credentials: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    )
}

const MAX_REFERENCE_DEPTH: usize = 16;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into()
}

impl RegistryClient {
    /// `url` may carry `user:password@`; `auth` (`user:password`) overrides it.
    pub fn new(url: &str, auth: Option<&str>) -> Result<Self, RegistryError> {
        let (shown, userinfo) = split_credentials(url);
        if !url.contains("://") {
            return Err(RegistryError::NotAUrl { shown });
        }
        let authorization = auth.or(userinfo).map(basic_authorization);
        Ok(Self {
            base: shown.trim_end_matches('/').to_owned(),
            authorization,
            agent: agent(DEFAULT_TIMEOUT),
            cache: Mutex::new(HashMap::new()),
            subjects: Mutex::new(HashMap::new()),
            silent: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Sends `token` as a bearer token (`Authorization: Bearer …`) instead of basic auth.
    pub fn with_bearer(mut self, token: &str) -> Self {
        self.authorization = Some(format!("Bearer {}", token.trim()));
        self
    }

    /// Bounds every request by `timeout` (the command's `--timeout`).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.agent = agent(timeout);
        self
    }

    /// The schema registered under `id`, fetched once and cached; the registry's answers are
    /// cached too (an unknown id costs one request per session, not one per record), but not
    /// its silence.
    pub fn schema(&self, id: u32) -> Result<Arc<RegisteredSchema>, RegistryError> {
        let hit = self.cache.lock().ok().and_then(|c| c.get(&id).cloned());
        if let Some(hit) = hit {
            return hit;
        }
        let fetched = self.fetch(id).map(Arc::new);
        if fetched
            .as_ref()
            .err()
            .is_none_or(RegistryError::is_an_answer)
            && let Ok(mut cache) = self.cache.lock()
        {
            cache.insert(id, fetched.clone());
        }
        fetched
    }

    /// The subject and version `id` is registered under (the first the registry lists), asked
    /// once per id; `None` where the registry cannot say.
    pub fn subject_version(&self, id: u32) -> Option<(String, u32)> {
        if let Some(hit) = self.subjects.lock().ok().and_then(|c| c.get(&id).cloned()) {
            return hit;
        }
        let answer = self
            .get(
                &format!("/schemas/ids/{id}/versions"),
                &format!("subjects of schema id {id}"),
            )
            .ok()
            .and_then(|doc| {
                let first = doc.as_array()?.first()?.clone();
                Some((
                    first["subject"].as_str()?.to_owned(),
                    u32::try_from(first["version"].as_u64()?).ok()?,
                ))
            });
        if let Ok(mut cache) = self.subjects.lock() {
            cache.insert(id, answer.clone());
        }
        answer
    }

    /// The text of the latest schema registered under `subject`
    /// (`GET /subjects/{subject}/versions/latest`).
    pub fn latest_schema_text(&self, subject: &str) -> Result<String, RegistryError> {
        let doc = self.get(
            &format!("/subjects/{}/versions/latest", encode_path(subject)),
            &format!("the latest schema of {subject}"),
        )?;
        doc["schema"].as_str().map(str::to_owned).ok_or_else(|| {
            RegistryError::Unusable(format!(
                "the latest schema of {subject}: answer has no schema"
            ))
        })
    }

    /// The registry's URL, without credentials.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// Whether requests carry an `Authorization` header.
    pub fn authenticates(&self) -> bool {
        self.authorization.is_some()
    }

    /// The compatibility level of `subject`, or the registry's global one where the subject
    /// has none (`GET /config/{subject}`, then `GET /config`).
    pub fn compatibility(&self, subject: &str) -> Result<String, RegistryError> {
        let level = |doc: &Value| {
            doc.get("compatibilityLevel")
                .or_else(|| doc.get("compatibility"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match self.get(
            &format!("/config/{}", encode_path(subject)),
            &format!("compatibility of {subject}"),
        ) {
            Ok(doc) if level(&doc).is_some() => Ok(level(&doc).unwrap_or_default()),
            Ok(_) | Err(RegistryError::Answered { status: 404, .. }) => {
                let doc = self.get("/config", "the global compatibility")?;
                level(&doc).ok_or_else(|| {
                    RegistryError::Unusable("the global config names no compatibility".into())
                })
            }
            Err(e) => Err(e),
        }
    }

    fn fetch(&self, id: u32) -> Result<RegisteredSchema, RegistryError> {
        let unusable = |e: String| RegistryError::Unusable(format!("schema id {id}: {e}"));
        let doc = self.get(&format!("/schemas/ids/{id}"), &format!("schema id {id}"))?;
        let kind = doc
            .get("schemaType")
            .and_then(Value::as_str)
            .unwrap_or("AVRO");
        match kind {
            "JSON" => return Ok(RegisteredSchema::Json),
            "AVRO" | "PROTOBUF" => {}
            other => return Err(unusable(format!("{other} schemas are not supported"))),
        }
        // Avro and Protobuf both come as schema text with references, resolved the same way.
        let text = doc["schema"]
            .as_str()
            .ok_or_else(|| unusable("answer has no schema".into()))?;
        let mut references = Vec::new();
        self.collect_references(&doc, &mut references, &mut HashSet::new(), 0)?;
        if kind == "PROTOBUF" {
            return Ok(RegisteredSchema::Protobuf(Box::new(
                ProtoSchema::compile(text, &references)
                    .map_err(|e| RegistryError::BadProtobuf(id, e))?,
            )));
        }
        let texts: Vec<String> = references.into_iter().map(|(_, text)| text).collect();
        Ok(RegisteredSchema::Avro(Box::new(
            ParsedSchema::parse(text, &texts).map_err(|e| RegistryError::BadSchema(id, e))?,
        )))
    }

    /// Depth-first: a reference's own references come before it. Each as (the name it is
    /// imported by, its schema).
    fn collect_references(
        &self,
        doc: &Value,
        out: &mut Vec<(String, String)>,
        seen: &mut HashSet<(String, i64)>,
        depth: usize,
    ) -> Result<(), RegistryError> {
        let unusable = |e: &str| RegistryError::Unusable(e.to_owned());
        let Some(references) = doc.get("references").and_then(Value::as_array) else {
            return Ok(());
        };
        if depth > MAX_REFERENCE_DEPTH {
            return Err(unusable("schema references nest too deep"));
        }
        for reference in references {
            let subject = reference["subject"]
                .as_str()
                .ok_or_else(|| unusable("reference without a subject"))?;
            let version = reference["version"]
                .as_i64()
                .ok_or_else(|| unusable("reference without a version"))?;
            if !seen.insert((subject.to_owned(), version)) {
                continue;
            }
            let referenced = self.get(
                &format!("/subjects/{}/versions/{version}", encode_path(subject)),
                &format!("subject {subject} version {version}"),
            )?;
            self.collect_references(&referenced, out, seen, depth + 1)?;
            // Protobuf imports a reference by its `name`; Avro needs no name.
            let name = reference["name"].as_str().unwrap_or(subject).to_owned();
            out.push((
                name,
                referenced["schema"]
                    .as_str()
                    .ok_or_else(|| {
                        RegistryError::Unusable(format!(
                            "subject {subject} version {version} has no schema"
                        ))
                    })?
                    .to_owned(),
            ));
        }
        Ok(())
    }

    /// GETs `path`; `what` names the thing asked for in errors.
    fn get(&self, path: &str, what: &str) -> Result<Value, RegistryError> {
        use std::sync::atomic::Ordering;
        let base = self.base.clone();
        if self.silent.load(Ordering::Relaxed) {
            return Err(RegistryError::Silent { base });
        }
        let url = format!("{}{path}", self.base);
        let mut request = self
            .agent
            .get(&url)
            .header("Accept", "application/vnd.schemaregistry.v1+json");
        if let Some(auth) = &self.authorization {
            request = request.header("Authorization", auth);
        }
        let unreachable = |e: ureq::Error| {
            if matches!(e, ureq::Error::Timeout(_)) {
                self.silent.store(true, Ordering::Relaxed);
            }
            RegistryError::Unreachable {
                base: self.base.clone(),
                detail: e.to_string(),
            }
        };
        let mut response = request.call().map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_string()
            .map_err(unreachable)?;
        let doc: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        match status {
            200 => Ok(doc),
            401 | 403 => Err(RegistryError::Refused { base, status }),
            _ => Err(RegistryError::Answered {
                what: what.to_owned(),
                status,
                message: doc
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            }),
        }
    }
}

fn encode_path(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_url_are_split_off_and_never_shown() {
        assert_eq!(
            split_credentials("http://admin:Pw-Secret@host:8083/x"),
            ("http://host:8083/x".into(), Some("admin:Pw-Secret"))
        );
        assert_eq!(
            split_credentials("https://host:8081"),
            ("https://host:8081".into(), None)
        );
        let error = RegistryClient::new("admin:Pw-Secret@host:8081", None)
            .unwrap_err()
            .to_string();
        assert!(!error.contains("Pw-Secret"), "{error}");
        assert!(error.contains("host:8081"), "{error}");
        let client = RegistryClient::new("http://admin:Pw-Secret@host:8081/", None).unwrap();
        assert!(!format!("{client:?}").contains("Pw-Secret"));
        assert_eq!(
            basic_authorization("admin:Pw-Secret"),
            "Basic YWRtaW46UHctU2VjcmV0"
        );
    }
}
