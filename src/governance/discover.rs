//! PII discovery: sample a topic's newest records, spread over its partitions, walk each
//! decoded value, and report per JSON path what kind of personal data it holds, in what share
//! of the sample, with masked examples, and whether the spec declares that path `pii`. Paths
//! the spec does not declare come first, with the spec lines that would.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::detect::{PiiKind, detect_number, detect_text, mask, telling_name};
use crate::cluster::{CancelToken, ClusterError, ScanEvent, ScanRequest, StartAt};
use crate::codec::MAX_DEPTH;
use crate::profile::{SourceDecoder, Spec};
use crate::source::Source;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoundPath {
    /// A JSON pointer; array positions written `*`. `""` is the whole value (not JSON).
    pub path: String,
    pub kind: PiiKind,
    /// Sampled records with this kind at this path.
    pub records: usize,
    pub share: f64,
    /// Up to three distinct values, masked.
    pub examples: Vec<String>,
    /// The spec has a `pii` field at this topic and path.
    pub declared: bool,
    /// Where it is not declared: the spec lines that would declare it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec_lines: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicPii {
    pub topic: String,
    pub sampled: usize,
    /// Undeclared first, then by share.
    pub fields: Vec<FoundPath>,
    /// Records whose value could not be decoded (counted, not scanned).
    pub undecodable: usize,
}

/// Whether `spec` declares `path` of `topic` personal: a `pii` field's own path, or where the
/// store serves that field (`{store.fields}/{name}`).
pub fn declares_pii(spec: &Spec, topic: &str, path: &str) -> bool {
    spec.fields.iter().filter(|f| f.pii).any(|f| {
        (f.topic == topic && f.path == path)
            || spec.store.as_ref().is_some_and(|store| {
                let name = f.name.replace('~', "~0").replace('/', "~1");
                store.topic == topic && path == format!("{}/{name}", store.fields)
            })
    })
}

/// Samples about `sample` records of `topic` (the newest of each partition, an equal share
/// each) and finds the personal data in them.
pub fn discover(
    source: &dyn Source,
    topic: &str,
    spec: Option<&Spec>,
    decoder: Option<&SourceDecoder>,
    sample: usize,
    cancel: &CancelToken,
) -> Result<TopicPii, ClusterError> {
    let partitions = source.topic(topic)?.partitions.len().max(1);
    let per_partition = sample.div_ceil(partitions).max(1) as i64;
    let request = ScanRequest {
        start: StartAt::Tail(per_partition),
        ..ScanRequest::new(topic)
    };
    let source_spec = spec.and_then(|s| s.source(topic));
    let mut found: BTreeMap<(String, PiiKind), (usize, BTreeSet<String>)> = BTreeMap::new();
    let (mut sampled, mut undecodable) = (0usize, 0usize);
    source.scan(&request, cancel, &mut |event| {
        let ScanEvent::Records(records) = event else {
            return true;
        };
        for record in records {
            let Some(bytes) = record.value.as_deref() else {
                continue;
            };
            let value = match (source_spec, decoder) {
                (Some(src), Some(decoder)) => decoder.decode(src, bytes).ok(),
                _ => serde_json::from_slice::<Value>(bytes).ok().or_else(|| {
                    std::str::from_utf8(bytes)
                        .ok()
                        .map(|t| Value::String(t.into()))
                }),
            };
            let Some(value) = value else {
                undecodable += 1;
                continue;
            };
            sampled += 1;
            let mut here: BTreeMap<(String, PiiKind), String> = BTreeMap::new();
            walk(&value, &mut String::new(), None, 1, &mut here);
            for ((path, kind), text) in here {
                let entry = found.entry((path, kind)).or_default();
                entry.0 += 1;
                if entry.1.len() < 3 {
                    entry.1.insert(mask(kind, &text));
                }
            }
        }
        sampled < sample
    })?;
    let mut fields: Vec<FoundPath> = found
        .into_iter()
        .map(|((path, kind), (records, examples))| {
            let declared = spec.is_some_and(|s| declares_pii(s, topic, &path));
            let spec_lines = (!declared).then(|| spec_lines(spec, topic, &path));
            FoundPath {
                share: records as f64 / sampled.max(1) as f64,
                path,
                kind,
                records,
                examples: examples.into_iter().collect(),
                declared,
                spec_lines,
            }
        })
        .collect();
    fields.sort_by(|a, b| {
        a.declared
            .cmp(&b.declared)
            .then(b.share.total_cmp(&a.share))
            .then_with(|| a.path.cmp(&b.path))
    });
    Ok(TopicPii {
        topic: topic.to_owned(),
        sampled,
        fields,
        undecodable,
    })
}

/// Walks a value: every leaf that looks like personal data, and every non-null value under a
/// name that says so, by path (array positions as `*`). `level` is the value's (1 for the
/// payload): nothing nested past [`MAX_DEPTH`] is walked into, whoever built the value.
fn walk(
    value: &Value,
    path: &mut String,
    name: Option<&str>,
    level: usize,
    out: &mut BTreeMap<(String, PiiKind), String>,
) {
    let leaf_kind = match value {
        Value::String(text) => detect_text(text).map(|k| (k, text.clone())),
        Value::Number(n) => detect_number(n).map(|k| (k, n.to_string())),
        _ => None,
    };
    if let Some((kind, text)) = leaf_kind {
        out.entry((path.clone(), kind)).or_insert(text);
    } else if name.is_some_and(telling_name) && !value.is_null() && !value.is_object() {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.entry((path.clone(), PiiKind::FieldName))
            .or_insert(text);
    }
    if level >= MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let len = path.len();
                path.push('/');
                path.push_str(&key.replace('~', "~0").replace('/', "~1"));
                walk(v, path, Some(key), level + 1, out);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for v in items {
                let len = path.len();
                path.push_str("/*");
                walk(v, path, name, level + 1, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// The spec lines that would declare `path` of `topic` PII: `pii = true` on the field that
/// reads it, or a new field.
fn spec_lines(spec: Option<&Spec>, topic: &str, path: &str) -> String {
    // A field's own path, or where the store serves it.
    let served = |s: &Spec, f: &crate::profile::Field| {
        s.store
            .as_ref()
            .is_some_and(|st| st.topic == topic && path == format!("{}/{}", st.fields, f.name))
    };
    if let Some(field) = spec.and_then(|s| {
        s.fields
            .iter()
            .find(|f| (f.topic == topic && f.path == path) || served(s, f))
    }) {
        return format!("# in [[field]] name = \"{}\"\npii = true", field.name);
    }
    let name: String = path
        .rsplit('/')
        .find(|t| !t.is_empty() && *t != "*")
        .unwrap_or("value")
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    // Pointers have no wildcard: an array position is declared one by one.
    let (path, note) = if path.contains("/*") {
        (
            path.replace("/*", "/0"),
            "# an array: declare each position that holds it (0 shown)\n",
        )
    } else {
        (path.to_owned(), "")
    };
    format!(
        "{note}[[field]]\nname = \"{name}\"\ntopic = \"{topic}\"\npath = \"{path}\"\nrule = \"last\"\npii = true"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_walk_finds_leaves_and_telling_names_by_path() {
        let value = json!({
            "email": "jane@example.com",
            "contact": {"phone": "+44 20 7946 0958", "first_name": "Jane"},
            "cards": [{"number": "4111111111111111"}],
            "order_id": 2026112800001234u64,
            "page": "/p/shoes",
        });
        let mut out = BTreeMap::new();
        walk(&value, &mut String::new(), None, 1, &mut out);
        let found: Vec<(&str, PiiKind)> = out.keys().map(|(p, k)| (p.as_str(), *k)).collect();
        assert_eq!(
            found,
            [
                ("/cards/*/number", PiiKind::Card),
                ("/contact/first_name", PiiKind::FieldName),
                ("/contact/phone", PiiKind::Phone),
                ("/email", PiiKind::Email),
            ]
        );
    }

    #[test]
    fn a_walk_stops_at_the_depth_limit() {
        let mut deep = crate::codec::DeepValue::new(10_000);
        if let Value::Object(top) = &mut deep.0 {
            top.insert("email".into(), json!("jane@example.com"));
        }
        let mut out = BTreeMap::new();
        walk(&deep.0, &mut String::new(), None, 1, &mut out);
        let found: Vec<&str> = out.keys().map(|(p, _)| p.as_str()).collect();
        assert_eq!(found, ["/email"]);
    }

    #[test]
    fn the_spec_lines_declare_the_path() {
        let lines = spec_lines(None, "c360.orders", "/billing/iban");
        assert!(lines.contains("name = \"iban\""), "{lines}");
        assert!(lines.contains("path = \"/billing/iban\""), "{lines}");
        assert!(lines.ends_with("pii = true"), "{lines}");
    }
}
