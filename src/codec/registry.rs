//! A Confluent-compatible Schema Registry client: schemas by id, schema references resolved
//! through their subjects, basic auth, and a cache so each id is fetched once per session.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use super::avro::ParsedSchema;

/// What a schema id decodes as.
#[derive(Debug)]
pub enum RegisteredSchema {
    Avro(ParsedSchema),
    /// JSON Schema: the payload after the header is JSON.
    Json,
}

pub struct RegistryClient {
    base: String,
    /// `Basic …` header value; never printed.
    authorization: Option<String>,
    agent: ureq::Agent,
    cache: Mutex<HashMap<u32, Result<Arc<RegisteredSchema>, String>>>,
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
    pub fn new(url: &str, auth: Option<&str>) -> Result<Self, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("schema registry URL {url:?} needs http:// or https://"))?;
        let (userinfo, host) = match rest.rsplit_once('@') {
            Some((userinfo, host)) => (Some(userinfo), host),
            None => (None, rest),
        };
        let credentials = auth.or(userinfo);
        let authorization = credentials.map(|c| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(c)
            )
        });
        Ok(Self {
            base: format!("{scheme}://{}", host.trim_end_matches('/')),
            authorization,
            agent: agent(DEFAULT_TIMEOUT),
            cache: Mutex::new(HashMap::new()),
            silent: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Bounds every request by `timeout` (the command's `--timeout`).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.agent = agent(timeout);
        self
    }

    /// The schema registered under `id`, fetched once and cached (failures too, so a record
    /// with an unknown id costs one request per session, not one per record).
    pub fn schema(&self, id: u32) -> Result<Arc<RegisteredSchema>, String> {
        if let Some(hit) = self
            .cache
            .lock()
            .map_err(|_| "registry cache poisoned")?
            .get(&id)
        {
            return hit.clone();
        }
        let fetched = self.fetch(id).map(Arc::new);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(id, fetched.clone());
        }
        fetched
    }

    fn fetch(&self, id: u32) -> Result<RegisteredSchema, String> {
        let doc = self
            .get(&format!("/schemas/ids/{id}"))
            .map_err(|e| format!("schema id {id}: {e}"))?;
        match doc
            .get("schemaType")
            .and_then(Value::as_str)
            .unwrap_or("AVRO")
        {
            "AVRO" => {
                let text = doc["schema"]
                    .as_str()
                    .ok_or_else(|| format!("schema id {id}: answer has no schema"))?;
                let mut references = Vec::new();
                let mut seen = HashSet::new();
                self.collect_references(&doc, &mut references, &mut seen, 0)?;
                Ok(RegisteredSchema::Avro(
                    ParsedSchema::parse(text, &references)
                        .map_err(|e| format!("schema id {id}: {e}"))?,
                ))
            }
            "JSON" => Ok(RegisteredSchema::Json),
            other => Err(format!("schema id {id}: {other} schemas are not supported")),
        }
    }

    /// Depth-first: a reference's own references come before it.
    fn collect_references(
        &self,
        doc: &Value,
        out: &mut Vec<String>,
        seen: &mut HashSet<(String, i64)>,
        depth: usize,
    ) -> Result<(), String> {
        let Some(references) = doc.get("references").and_then(Value::as_array) else {
            return Ok(());
        };
        if depth > MAX_REFERENCE_DEPTH {
            return Err("schema references nest too deep".into());
        }
        for reference in references {
            let subject = reference["subject"]
                .as_str()
                .ok_or("reference without a subject")?;
            let version = reference["version"]
                .as_i64()
                .ok_or("reference without a version")?;
            if !seen.insert((subject.to_owned(), version)) {
                continue;
            }
            let referenced = self.get(&format!(
                "/subjects/{}/versions/{version}",
                encode_path(subject)
            ))?;
            self.collect_references(&referenced, out, seen, depth + 1)?;
            out.push(
                referenced["schema"]
                    .as_str()
                    .ok_or_else(|| format!("subject {subject} version {version} has no schema"))?
                    .to_owned(),
            );
        }
        Ok(())
    }

    fn get(&self, path: &str) -> Result<Value, String> {
        use std::sync::atomic::Ordering;
        if self.silent.load(Ordering::Relaxed) {
            return Err(format!(
                "registry at {} did not answer earlier in this run: not asked again",
                self.base
            ));
        }
        let url = format!("{}{path}", self.base);
        let mut request = self
            .agent
            .get(&url)
            .header("Accept", "application/vnd.schemaregistry.v1+json");
        if let Some(auth) = &self.authorization {
            request = request.header("Authorization", auth);
        }
        let mut response = request.call().map_err(|e| {
            if matches!(e, ureq::Error::Timeout(_)) {
                self.silent.store(true, Ordering::Relaxed);
            }
            format!("registry at {}: {e}", self.base)
        })?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| format!("registry at {}: {e}", self.base))?;
        let doc: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        match status {
            200 => Ok(doc),
            401 | 403 => Err(format!(
                "registry at {} refused the credentials (HTTP {status})",
                self.base
            )),
            _ => Err(format!(
                "HTTP {status}{}",
                doc.get("message")
                    .and_then(Value::as_str)
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            )),
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
