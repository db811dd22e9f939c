//! Turning record bytes into something a person can read: JSON, UTF-8 text, or binary shown as
//! base64/hex. Recognises the Confluent Schema Registry framing (magic byte 0, 4-byte schema id)
//! so the schema id is visible even where the payload itself stays binary. Never panics on input.

mod avro;
pub mod protobuf;
mod record;
pub mod registry;

use base64::Engine as _;
use serde_json::Value;

pub use avro::{AvroError, ParsedSchema};
pub use record::record_json;

/// How deeply a payload may nest, counting the payload itself as level 1 and each record,
/// array, map or object one level further in: serde_json's recursion limit (it refuses the
/// 128th array or object opened inside the others), so every reader and every walk over a
/// decoded value stops at the same depth, far below where a recursion would exhaust a stack.
pub const MAX_DEPTH: usize = 128;

/// Why a payload nested deeper than [`MAX_DEPTH`] is not decoded.
pub fn too_deep() -> String {
    format!("nested deeper than {MAX_DEPTH} levels")
}

/// Why bytes are not JSON. serde_json's error is kept in its words: it travels with each
/// undecodable record, which must be cloned and compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("{0}")]
    Syntax(String),
}

impl From<&serde_json::Error> for JsonError {
    /// Nesting past [`MAX_DEPTH`] said as such.
    fn from(error: &serde_json::Error) -> Self {
        let words = error.to_string();
        if words.starts_with("recursion limit exceeded") {
            Self::TooDeep
        } else {
            Self::Syntax(words)
        }
    }
}

/// Parses JSON (serde_json keeps its recursion limit: no `unbounded_depth`), saying
/// [`too_deep`] where the payload nests past it.
pub fn parse_json(bytes: &[u8]) -> Result<Value, JsonError> {
    serde_json::from_slice(bytes).map_err(|e| JsonError::from(&e))
}

/// Whether `value` nests deeper than [`MAX_DEPTH`] levels (found without recursing, so any
/// value, however built, can be asked).
pub fn too_deep_value(value: &Value) -> bool {
    let mut stack = vec![(value, 1usize)];
    while let Some((value, level)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        if level >= MAX_DEPTH {
            return true;
        }
        stack.extend(children.map(|child| (child, level + 1)));
    }
    false
}

/// `levels` levels of `{"next": …}` ending in `"end"`, built and taken apart without
/// recursing (dropping so deep a value the usual way would overflow a test's stack).
#[cfg(test)]
pub(crate) struct DeepValue(pub Value);

#[cfg(test)]
impl DeepValue {
    pub fn new(levels: usize) -> Self {
        let mut value = Value::String("end".into());
        for _ in 1..levels {
            let mut next = serde_json::Map::new();
            next.insert("next".into(), value);
            value = Value::Object(next);
        }
        Self(value)
    }
}

#[cfg(test)]
impl Drop for DeepValue {
    fn drop(&mut self) {
        let mut stack = vec![self.0.take()];
        while let Some(mut value) = stack.pop() {
            match &mut value {
                Value::Array(items) => stack.append(items),
                Value::Object(fields) => {
                    stack.extend(std::mem::take(fields).into_iter().map(|(_, v)| v))
                }
                _ => {}
            }
        }
    }
}

/// What the user says a payload is; `Auto` sniffs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Expect {
    #[default]
    Auto,
    Json,
    Text,
    Binary,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Json(Value),
    Text(String),
    Binary(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub payload: Payload,
    /// Schema id from the Confluent wire-format header, when present.
    pub schema_id: Option<u32>,
    /// Why the payload could not be read as what the user expected.
    pub error: Option<String>,
}

impl Decoded {
    /// `json`, `text` or `base64`: how [`Decoded::to_json`] renders the payload.
    pub fn format_name(&self) -> &'static str {
        match self.payload {
            Payload::Json(_) => "json",
            Payload::Text(_) => "text",
            Payload::Binary(_) => "base64",
        }
    }

    pub fn to_json(&self) -> Value {
        match &self.payload {
            Payload::Json(value) => value.clone(),
            Payload::Text(text) => Value::String(text.clone()),
            Payload::Binary(bytes) => Value::String(base64_string(bytes)),
        }
    }

    /// Text for a table cell: compact JSON, the text, or hex for binary.
    pub fn preview(&self, max_chars: usize) -> String {
        let full = match &self.payload {
            Payload::Json(value) => value.to_string(),
            Payload::Text(text) => text.clone(),
            Payload::Binary(bytes) => hex_string(&bytes[..bytes.len().min(max_chars / 2 + 1)]),
        };
        truncate_chars(&full, max_chars)
    }

    /// Multi-line text for a detail view: pretty JSON, the text, or a hex dump.
    pub fn pretty(&self) -> String {
        match &self.payload {
            Payload::Json(value) => {
                serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
            }
            Payload::Text(text) => text.clone(),
            Payload::Binary(bytes) => hex_dump(bytes),
        }
    }
}

pub const CONFLUENT_MAGIC: u8 = 0;

/// Splits a Confluent wire-format payload into (schema id, body), only where it can be one:
/// magic byte 0, a schema id that is a positive int32 (Schema Registry ids are), and a body.
/// Anything else is left whole, so no byte disappears from what is shown.
pub fn confluent_frame(bytes: &[u8]) -> Option<(u32, &[u8])> {
    match bytes {
        [CONFLUENT_MAGIC, a, b, c, d, body @ ..] if !body.is_empty() => {
            let id = i32::from_be_bytes([*a, *b, *c, *d]);
            (id > 0).then_some((id as u32, body))
        }
        _ => None,
    }
}

pub fn decode(bytes: &[u8], expect: Expect) -> Decoded {
    let (schema_id, body) = match confluent_frame(bytes) {
        Some((id, body)) if expect != Expect::Text => (Some(id), body),
        _ => (None, bytes),
    };
    let (payload, error) = match expect {
        Expect::Auto => (sniff(body, schema_id.is_some()), None),
        Expect::Json => match parse_json(body) {
            Ok(value) => (Payload::Json(value), None),
            Err(e) => (fallback(body), Some(format!("not JSON: {e}"))),
        },
        Expect::Text => match std::str::from_utf8(body) {
            Ok(text) => (Payload::Text(text.to_owned()), None),
            Err(e) => (
                Payload::Binary(body.to_vec()),
                Some(format!("not UTF-8: {e}")),
            ),
        },
        Expect::Binary => (Payload::Binary(body.to_vec()), None),
    };
    Decoded {
        payload,
        schema_id,
        error,
    }
}

/// JSON when it parses as JSON, else UTF-8 text, else binary. A framed body is Avro or Protobuf
/// more often than not, so it is only read as JSON (JSON Schema serializers), never as text.
fn sniff(body: &[u8], framed: bool) -> Payload {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let json_like = matches!(
        first,
        Some(b'{' | b'[' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9')
    );
    if json_like && let Ok(value) = serde_json::from_slice::<Value>(body) {
        return Payload::Json(value);
    }
    if framed {
        return Payload::Binary(body.to_vec());
    }
    fallback(body)
}

fn fallback(body: &[u8]) -> Payload {
    match std::str::from_utf8(body) {
        Ok(text) if !text.chars().any(|c| c.is_control() && !c.is_whitespace()) => {
            Payload::Text(text.to_owned())
        }
        _ => Payload::Binary(body.to_vec()),
    }
}

/// A key as text when it is printable UTF-8, else base64: (rendering, `text`|`base64`).
pub fn key_text(key: &[u8]) -> (String, &'static str) {
    match std::str::from_utf8(key) {
        Ok(text) if !text.chars().any(char::is_control) => (text.to_owned(), "text"),
        _ => (base64_string(key), "base64"),
    }
}

pub fn base64_string(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn hex_string(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Classic 16-bytes-a-line dump with offsets and an ASCII column.
pub fn hex_dump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        out.push_str(&format!(
            "{:08x}  {:<47}  {ascii}\n",
            line * 16,
            hex_string(chunk)
        ));
    }
    out
}

pub fn truncate_chars(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn auto_detects_json_text_and_binary() {
        let d = decode(br#"{"a":1}"#, Expect::Auto);
        assert_eq!(d.payload, Payload::Json(json!({"a":1})));
        assert_eq!(d.format_name(), "json");
        let d = decode(b"hello world", Expect::Auto);
        assert_eq!(d.payload, Payload::Text("hello world".into()));
        let d = decode(&[0xff, 0xfe, 0x01], Expect::Auto);
        assert_eq!(d.format_name(), "base64");
        assert_eq!(d.to_json(), json!("//4B"));
        // Looks like JSON but is not: text, no panic.
        assert_eq!(decode(b"{oops", Expect::Auto).format_name(), "text");
        assert_eq!(decode(b"", Expect::Auto).format_name(), "text");
    }

    #[test]
    fn confluent_framing_shows_schema_id() {
        let mut bytes = vec![0, 0, 0, 1, 0xa4];
        bytes.extend_from_slice(&[0x02, 0x06, b'a', b'b', b'c']);
        let d = decode(&bytes, Expect::Auto);
        assert_eq!(d.schema_id, Some(420));
        assert_eq!(
            d.payload,
            Payload::Binary(vec![0x02, 0x06, b'a', b'b', b'c'])
        );
        let mut json_schema = vec![0, 0, 0, 0, 7];
        json_schema.extend_from_slice(br#"{"x":true}"#);
        let d = decode(&json_schema, Expect::Auto);
        assert_eq!(
            (d.schema_id, d.payload),
            (Some(7), Payload::Json(json!({"x":true})))
        );
        // Too short to be framed.
        assert_eq!(decode(&[0, 1], Expect::Auto).schema_id, None);
        // Not a registry id (negative as an int32), or no body: the bytes stay whole.
        let d = decode(&[0x00, 0x9f, 0x92, 0x96, 0xff], Expect::Auto);
        assert_eq!(
            (d.schema_id, d.payload),
            (None, Payload::Binary(vec![0x00, 0x9f, 0x92, 0x96, 0xff]))
        );
        assert_eq!(decode(&[0, 0, 0, 0, 7], Expect::Auto).schema_id, None);
        assert_eq!(decode(&[0, 0, 0, 0, 0, 1], Expect::Auto).schema_id, None);
    }

    #[test]
    fn expected_format_reports_why_not() {
        let d = decode(b"{\"a\":", Expect::Json);
        assert!(d.error.as_deref().unwrap().starts_with("not JSON"), "{d:?}");
        let d = decode(&[0xc3, 0x28], Expect::Text);
        assert!(d.error.as_deref().unwrap().starts_with("not UTF-8"));
        assert_eq!(decode(b"{}", Expect::Binary).format_name(), "base64");
    }

    #[test]
    fn json_nested_past_the_limit_is_refused_in_words() {
        let deep = [vec![b'['; 10_000], vec![b']'; 10_000]].concat();
        assert_eq!(
            parse_json(&deep).unwrap_err().to_string(),
            "nested deeper than 128 levels"
        );
        let d = decode(&deep, Expect::Json);
        assert_eq!(
            d.error.as_deref(),
            Some("not JSON: nested deeper than 128 levels")
        );
        assert_eq!(decode(&deep, Expect::Auto).format_name(), "text");
        // The limit is serde_json's: 127 arrays inside each other are read, 128 are not.
        let nested = |n: usize| [vec![b'['; n], vec![b']'; n]].concat();
        assert!(parse_json(&nested(MAX_DEPTH - 1)).is_ok());
        assert_eq!(
            parse_json(&nested(MAX_DEPTH)).unwrap_err().to_string(),
            too_deep()
        );
        assert_eq!(
            parse_json(b"[1,").unwrap_err().to_string(),
            "EOF while parsing a value at line 1 column 3"
        );
    }

    #[test]
    fn values_too_deep_are_found_without_recursing() {
        assert!(too_deep_value(&DeepValue::new(10_000).0));
        assert!(!too_deep_value(&DeepValue::new(MAX_DEPTH).0));
        assert!(too_deep_value(&DeepValue::new(MAX_DEPTH + 1).0));
        let text = DeepValue::new(MAX_DEPTH).0.to_string();
        assert!(
            parse_json(text.as_bytes()).is_ok(),
            "serde_json reads it back"
        );
        assert!(!too_deep_value(&serde_json::json!({"a": [1, {"b": null}]})));
    }

    #[test]
    fn keys_and_truncation() {
        assert_eq!(key_text(b"cust-1"), ("cust-1".into(), "text"));
        assert_eq!(key_text(&[0, 1]).1, "base64");
        assert_eq!(truncate_chars("héllo", 2), "hé…");
        assert_eq!(truncate_chars("hi", 5), "hi");
        assert!(hex_dump(b"abc").starts_with("00000000  61 62 63"));
    }
}
