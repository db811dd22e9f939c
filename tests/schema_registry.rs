//! A Schema Registry in the test: the REST calls Confluent's serializers make to register and
//! look schemas up, and the ones freshlens makes to read them, answered with the documented
//! JSON and kept in memory (ids from 1, versions per subject from 1). Basic auth required.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

#[derive(Default)]
struct Store {
    /// By id: the registered schema document (schema, schemaType, references).
    schemas: Vec<Value>,
    /// By subject: the ids of its versions, oldest first.
    subjects: HashMap<String, Vec<usize>>,
    /// `GET /config/{subject}` answers; `""` the global one.
    config: HashMap<String, String>,
}

pub struct Registry {
    pub url: String,
    store: Arc<Mutex<Store>>,
}

impl Registry {
    /// The subjects' versions, as (subject, version, id).
    pub fn versions(&self) -> Vec<(String, usize, usize)> {
        let store = self.store.lock().unwrap();
        let mut all: Vec<_> = store
            .subjects
            .iter()
            .flat_map(|(s, ids)| {
                ids.iter()
                    .enumerate()
                    .map(move |(v, id)| (s.clone(), v + 1, *id))
            })
            .collect();
        all.sort();
        all
    }

    pub fn set_compatibility(&self, subject: &str, level: &str) {
        self.store
            .lock()
            .unwrap()
            .config
            .insert(subject.to_owned(), level.to_owned());
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn answer(store: &Mutex<Store>, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let mut store = store.lock().unwrap();
    let parts: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let not_found = (
        404,
        json!({"error_code": 40403, "message": "Schema not found"}),
    );
    let same = |doc: &Value| {
        doc["schema"] == body["schema"]
            && doc.get("schemaType").unwrap_or(&json!("AVRO"))
                == body.get("schemaType").unwrap_or(&json!("AVRO"))
            && doc.get("references").unwrap_or(&json!([]))
                == body.get("references").unwrap_or(&json!([]))
    };
    let full = |store: &Store, subject: &str, version: usize| {
        let id = store.subjects[subject][version - 1];
        let mut doc = store.schemas[id - 1].clone();
        doc["id"] = json!(id);
        doc["subject"] = json!(subject);
        doc["version"] = json!(version);
        doc
    };
    match (method, parts.as_slice()) {
        ("POST", ["subjects", subject, "versions"]) => {
            let id = match store.schemas.iter().position(same) {
                Some(i) => i + 1,
                None => {
                    let mut doc = json!({"schema": body["schema"]});
                    for key in ["schemaType", "references"] {
                        if let Some(v) = body.get(key) {
                            doc[key] = v.clone();
                        }
                    }
                    store.schemas.push(doc);
                    store.schemas.len()
                }
            };
            let versions = store.subjects.entry((*subject).to_owned()).or_default();
            if !versions.contains(&id) {
                versions.push(id);
            }
            let version = versions.iter().position(|v| *v == id).unwrap() + 1;
            (200, full(&store, subject, version))
        }
        ("POST", ["subjects", subject]) => {
            let Some(ids) = store.subjects.get(*subject) else {
                return (
                    404,
                    json!({"error_code": 40401, "message": "Subject not found"}),
                );
            };
            match ids.iter().position(|id| same(&store.schemas[id - 1])) {
                Some(v) => (200, full(&store, subject, v + 1)),
                None => not_found,
            }
        }
        ("GET", ["schemas", "ids", id]) => match id.parse::<usize>() {
            Ok(id) if (1..=store.schemas.len()).contains(&id) => {
                (200, store.schemas[id - 1].clone())
            }
            _ => not_found,
        },
        ("GET", ["schemas", "ids", id, "versions"]) => {
            let id: usize = id.parse().unwrap_or(0);
            let mut found: Vec<Value> = store
                .subjects
                .iter()
                .flat_map(|(subject, ids)| {
                    ids.iter()
                        .enumerate()
                        .filter(move |(_, i)| **i == id)
                        .map(move |(v, _)| json!({"subject": subject, "version": v + 1}))
                })
                .collect();
            found.sort_by_key(|v| v.to_string());
            if found.is_empty() {
                not_found
            } else {
                (200, Value::Array(found))
            }
        }
        ("GET", ["subjects", subject, "versions", version]) => {
            let Some(ids) = store.subjects.get(*subject) else {
                return (
                    404,
                    json!({"error_code": 40401, "message": "Subject not found"}),
                );
            };
            let version = match *version {
                "latest" => ids.len(),
                v => v.parse().unwrap_or(0),
            };
            if (1..=ids.len()).contains(&version) {
                (200, full(&store, subject, version))
            } else {
                (
                    404,
                    json!({"error_code": 40402, "message": "Version not found"}),
                )
            }
        }
        ("GET", ["config", subject]) => match store.config.get(*subject) {
            Some(level) => (200, json!({"compatibilityLevel": level})),
            None => (
                404,
                json!({"error_code": 40408, "message": "Subject does not have subject-level compatibility configured"}),
            ),
        },
        ("GET", ["config"]) => (
            200,
            json!({"compatibilityLevel": store.config.get("").cloned().unwrap_or("BACKWARD".into())}),
        ),
        _ => not_found,
    }
}

/// The bearer token the registry also takes.
pub const TOKEN: &str = "sr-token-7f3a";

/// Starts the registry; every request must carry Basic `credentials` or Bearer [`TOKEN`].
pub fn start(credentials: &str) -> Registry {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let store = Arc::new(Mutex::new(Store::default()));
    let shared = Arc::clone(&store);
    let expected = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, credentials)
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let shared = Arc::clone(&shared);
            let expected = [expected.clone(), format!("Bearer {TOKEN}")];
            std::thread::spawn(move || serve(stream, &shared, &expected));
        }
    });
    Registry { url, store }
}

/// One connection: requests until the client closes it (httpx keeps connections alive).
fn serve(stream: std::net::TcpStream, store: &Mutex<Store>, expected: &[String]) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut words = request_line.split_whitespace();
        let method = words.next().unwrap_or("").to_owned();
        let target = words.next().unwrap_or("/").to_owned();
        let path = target.split('?').next().unwrap_or("/").to_owned();
        let (mut authorized, mut length) = (false, 0usize);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.trim_end().split_once(": ") {
                if name.eq_ignore_ascii_case("authorization") {
                    authorized = expected.iter().any(|e| e == value);
                } else if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let (status, doc) = if authorized {
            answer(store, &method, &path, &body)
        } else {
            (401, json!({"error_code": 40101, "message": "Unauthorized"}))
        };
        let doc = doc.to_string();
        if write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\n\r\n{doc}",
            doc.len()
        )
        .is_err()
        {
            return;
        }
    }
}
