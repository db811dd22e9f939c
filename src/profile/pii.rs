//! Masking a spec's `pii` fields wherever an event's payload is shown or written: the value at
//! each `pii` field's path, in events of that field's topic, reads `***` unless revealed. A
//! payload of such a topic that does not decode as the spec's format (so its `pii` paths cannot
//! be found) is masked whole; ids that a `pii` path links into the identity set are masked too.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::Spec;
use super::spec::SourceFormat;

pub const MASK: &str = "***";

/// Where a spec's `pii` fields sit, per topic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PiiMask {
    paths: HashMap<String, Vec<String>>,
    /// How the payloads of each topic in `paths` are written, per the spec.
    formats: HashMap<String, SourceFormat>,
    /// Per source topic, its `links` that are `pii` paths: the ids they give are PII too.
    pii_links: HashMap<String, Vec<String>>,
}

impl PiiMask {
    pub fn new(spec: &Spec) -> Self {
        let mut paths: HashMap<String, Vec<String>> = HashMap::new();
        for field in spec.fields.iter().filter(|f| f.pii) {
            paths
                .entry(field.topic.clone())
                .or_default()
                .push(field.path.clone());
            // The store serves the field too, under its name.
            if let Some(store) = &spec.store {
                paths.entry(store.topic.clone()).or_default().push(format!(
                    "{}/{}",
                    store.fields,
                    escape_token(&field.name)
                ));
            }
        }
        let formats = paths
            .keys()
            .map(|topic| {
                let format = spec.source(topic).map(|s| s.format).or_else(|| {
                    spec.store
                        .as_ref()
                        .filter(|s| &s.topic == topic)
                        .map(|s| s.format)
                });
                (topic.clone(), format.unwrap_or_default())
            })
            .collect();
        let mut pii_links: HashMap<String, Vec<String>> = HashMap::new();
        for source in &spec.sources {
            let pii: Vec<String> = source
                .links
                .iter()
                .filter(|link| {
                    spec.fields
                        .iter()
                        .any(|f| f.pii && f.topic == source.topic && within(link, &f.path))
                })
                .cloned()
                .collect();
            if !pii.is_empty() {
                pii_links.insert(source.topic.clone(), pii);
            }
        }
        Self {
            paths,
            formats,
            pii_links,
        }
    }

    /// No field is `pii`, or the user chose to see them: nothing is masked.
    pub fn none() -> Self {
        Self::default()
    }

    /// The mask for `spec`, or none when PII is revealed.
    pub fn unless_revealed(spec: &Spec, reveal: bool) -> Self {
        if reveal {
            Self::none()
        } else {
            Self::new(spec)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// `value` (an event of `topic`) with every `pii` value replaced by `***`; borrowed when
    /// there is nothing to mask.
    pub fn apply<'a>(&self, topic: &str, value: &'a Value) -> Cow<'a, Value> {
        let Some(paths) = self.paths.get(topic) else {
            return Cow::Borrowed(value);
        };
        let present: Vec<&String> = paths
            .iter()
            .filter(|p| value.pointer(p).is_some_and(|v| !v.is_null()))
            .collect();
        if present.is_empty() {
            return Cow::Borrowed(value);
        }
        let mut masked = value.clone();
        for path in present {
            if let Some(slot) = masked.pointer_mut(path) {
                *slot = Value::String(MASK.into());
            }
        }
        Cow::Owned(masked)
    }

    /// Masks every record of `capture`, and the keys that are `ids`, and says so in its header
    /// (`revealed` when this mask is empty because the user revealed PII).
    pub fn apply_to_capture(
        &self,
        capture: &mut crate::source::Capture,
        revealed: bool,
        ids: &PiiIds,
    ) {
        capture.pii = Some(if revealed { "revealed" } else { "masked" }.into());
        for (topic, partitions) in capture.topics.iter_mut() {
            let payloads = self.paths.contains_key(topic);
            for record in partitions.values_mut().flat_map(|p| p.records.iter_mut()) {
                if record
                    .key
                    .as_deref()
                    .and_then(|k| std::str::from_utf8(k).ok())
                    .is_some_and(|k| ids.0.contains(k))
                {
                    record.key = Some(MASK.as_bytes().to_vec());
                }
                if payloads
                    && let Some(value) = &record.value
                    && let Cow::Owned(masked) = self.apply_bytes(topic, value)
                {
                    record.value = Some(masked);
                }
            }
        }
    }

    /// A payload's bytes as they may be shown: as they are on a topic without `pii` paths, else
    /// decoded as the spec's format, masked, and written again (never the raw bytes, which may
    /// hold a value the decoded one dropped, such as a repeated key); `***` whole when they do
    /// not decode.
    pub fn apply_bytes<'a>(&self, topic: &str, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        self.mask_payload(topic, bytes).0
    }

    /// [`PiiMask::apply_bytes`], with why the payload was masked whole when it was (words that
    /// never quote the payload).
    pub fn mask_payload<'a>(
        &self,
        topic: &str,
        bytes: &'a [u8],
    ) -> (Cow<'a, [u8]>, Option<String>) {
        let Some(format) = self.formats.get(topic) else {
            return (Cow::Borrowed(bytes), None);
        };
        let whole = |why: String| (Cow::Owned(MASK.as_bytes().to_vec()), Some(why));
        match format {
            SourceFormat::Json => match serde_json::from_slice::<Value>(bytes) {
                Ok(value) => {
                    let masked = self.apply(topic, &value);
                    (
                        Cow::Owned(serde_json::to_vec(&masked).unwrap_or_default()),
                        None,
                    )
                }
                Err(e) => whole(format!("not JSON: {e}")),
            },
            SourceFormat::Text => match std::str::from_utf8(bytes) {
                Ok(text) => {
                    let value = Value::String(text.to_owned());
                    match self.apply(topic, &value) {
                        Cow::Borrowed(_) => (Cow::Borrowed(bytes), None),
                        Cow::Owned(_) => (Cow::Owned(MASK.as_bytes().to_vec()), None),
                    }
                }
                Err(_) => whole("not UTF-8 text".into()),
            },
            // The Confluent header kept, the JSON after it masked as JSON is.
            SourceFormat::JsonSchema => match crate::codec::confluent_frame(bytes)
                .map(|(_, body)| (&bytes[..bytes.len() - body.len()], body))
                .map(|(header, body)| (header, serde_json::from_slice::<Value>(body)))
            {
                Some((header, Ok(value))) => {
                    let mut masked = header.to_vec();
                    masked
                        .extend(serde_json::to_vec(&self.apply(topic, &value)).unwrap_or_default());
                    (Cow::Owned(masked), None)
                }
                Some((_, Err(e))) => whole(format!("not JSON after the schema id: {e}")),
                None => whole("not in the Confluent wire format".into()),
            },
            // Avro and Protobuf are not decoded here (no schema at hand, nothing to write them
            // back with), and their bytes carry strings as they are.
            SourceFormat::Avro | SourceFormat::AvroFile => {
                whole("Avro, which is not decoded here".into())
            }
            SourceFormat::Protobuf | SourceFormat::ProtobufFile => {
                whole("Protobuf, which is not decoded here".into())
            }
        }
    }

    /// The ids of `timeline` that a `pii` path linked in (its key, which the user gave, aside).
    pub fn pii_ids(&self, timeline: &super::Timeline) -> PiiIds {
        self.linked_ids(Some(&timeline.key), &timeline.events)
    }

    /// The ids of `events` that a `pii` path linked in, `key` (the one looked up) aside.
    pub fn linked_ids(&self, key: Option<&str>, events: &[super::Event]) -> PiiIds {
        let mut ids = HashSet::new();
        if !self.pii_links.is_empty() {
            for event in events {
                for link in self.pii_links.get(&event.topic).into_iter().flatten() {
                    if let Some(id) = super::pointer(&event.value, link).and_then(super::id_text) {
                        ids.insert(id);
                    }
                }
            }
        }
        if let Some(key) = key {
            ids.remove(key);
        }
        PiiIds(ids)
    }
}

/// Ids that are PII values (a `pii` path linked them in): shown as `***`.
#[derive(Debug, Clone, Default)]
pub struct PiiIds(HashSet<String>);

impl PiiIds {
    /// `id`, or `***` when it is PII.
    pub fn show<'a>(&self, id: &'a str) -> &'a str {
        if self.0.contains(id) { MASK } else { id }
    }

    /// Identities as they may be shown.
    pub fn identities(&self, ids: &[String]) -> Vec<String> {
        ids.iter().map(|id| self.show(id).to_owned()).collect()
    }

    /// Undecodable records as they may be shown: the id each was keyed by masked when PII.
    pub fn undecodable(&self, records: &[super::Undecodable]) -> Vec<super::Undecodable> {
        records
            .iter()
            .map(|u| super::Undecodable {
                id: self.show(&u.id).to_owned(),
                ..u.clone()
            })
            .collect()
    }
}

/// Whether the value at pointer `link` lies in the one at `path` (the same, or inside it).
fn within(link: &str, path: &str) -> bool {
    link.strip_prefix(path)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A field name as one JSON pointer token (RFC 6901: `~` and `/` escaped).
fn escape_token(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPEC: &str = r#"
[[source]]
topic = "identity"
[[source]]
topic = "orders"
[[field]]
name = "email"
topic = "identity"
path = "/contact/email"
rule = "last"
pii = true
[[field]]
name = "country"
topic = "identity"
path = "/country"
rule = "last"
[store]
topic = "profiles"
fields = "/profile"
"#;

    #[test]
    fn masks_pii_paths_of_their_topic_only() {
        let spec = Spec::parse(SPEC, "s").unwrap();
        let mask = PiiMask::new(&spec);
        let event = json!({"contact": {"email": "a@x.io"}, "country": "FR"});
        assert_eq!(
            mask.apply("identity", &event).into_owned(),
            json!({"contact": {"email": "***"}, "country": "FR"})
        );
        assert!(matches!(mask.apply("orders", &event), Cow::Borrowed(_)));
        let no_email = json!({"country": "FR"});
        assert!(matches!(
            mask.apply("identity", &no_email),
            Cow::Borrowed(_)
        ));
        let bytes = serde_json::to_vec(&event).unwrap();
        let masked = mask.apply_bytes("identity", &bytes);
        assert!(!String::from_utf8_lossy(&masked).contains("a@x.io"));
        assert!(PiiMask::unless_revealed(&spec, true).is_empty());
        // What the store serves is masked too.
        let version = json!({"profile": {"email": "a@x.io", "country": "FR"}});
        assert_eq!(
            mask.apply("profiles", &version).into_owned(),
            json!({"profile": {"email": "***", "country": "FR"}})
        );
    }

    /// Payloads that are not strict JSON, where a lenient reader (or none) would find the
    /// address: masked whole, never shown as they are.
    fn not_strict_json(address: &str) -> Vec<Vec<u8>> {
        let object = format!(r#"{{"contact":{{"email":"{address}"}}}}"#);
        let mut deep = "[".repeat(200);
        deep.push_str(&format!(r#"{{"contact":{{"email":"{address}"}}}}"#));
        deep.push_str(&"]".repeat(200));
        let mut latin1 = br#"{"contact":{"email":""#.to_vec();
        latin1.extend(address.as_bytes());
        latin1.extend(b"\xe9\"}}");
        let mut framed = vec![0, 0, 0, 0, 7];
        framed.extend(object.as_bytes());
        let mut invalid = object.as_bytes().to_vec();
        invalid.insert(2, 0xff);
        vec![
            format!("\u{feff}{object}").into_bytes(),
            format!("{object} trailing {address}").into_bytes(),
            format!("{object}{object}").into_bytes(),
            format!(r#"{{"n":1e400,"contact":{{"email":"{address}"}}}}"#).into_bytes(),
            format!(r#"{{"n":NaN,"contact":{{"email":"{address}"}}}}"#).into_bytes(),
            format!("// {address}\n{object}").into_bytes(),
            format!("{{/* c */\"contact\":{{\"email\":\"{address}\"}}}}").into_bytes(),
            deep.into_bytes(),
            latin1,
            framed,
            invalid,
        ]
    }

    #[test]
    fn payloads_that_do_not_decode_as_the_spec_says_are_masked_whole() {
        let spec = Spec::parse(SPEC, "s").unwrap();
        let mask = PiiMask::new(&spec);
        for payload in not_strict_json("a@x.io") {
            let (shown, whole) = mask.mask_payload("identity", &payload);
            assert_eq!(
                &*shown,
                MASK.as_bytes(),
                "{}",
                String::from_utf8_lossy(&payload)
            );
            let why = whole.unwrap();
            assert!(why.starts_with("not JSON: "), "{why}");
            assert!(!why.contains("a@x.io"), "{why}");
            // The same bytes on a topic without pii paths, or revealed, are left alone.
            assert_eq!(&*mask.apply_bytes("orders", &payload), &payload[..]);
            let revealed = PiiMask::unless_revealed(&spec, true);
            assert_eq!(&*revealed.apply_bytes("identity", &payload), &payload[..]);
        }
        // A repeated key: the decoded value keeps the last, the bytes hold both.
        let repeated = br#"{"contact":{"email":"a@x.io"},"contact":{"phone":1}}"#;
        let shown = mask.apply_bytes("identity", repeated);
        assert!(!String::from_utf8_lossy(&shown).contains("a@x.io"));
        let repeated = br#"{"contact":{"email":"a@x.io","email":null}}"#;
        let shown = mask.apply_bytes("identity", repeated);
        assert_eq!(&*shown, br#"{"contact":{"email":null}}"#);
    }

    #[test]
    fn avro_and_text_topics_mask_by_their_format() {
        let spec = Spec::parse(
            r#"
[[source]]
topic = "a"
format = "avro-file"
schema_file = "a.avsc"
[[source]]
topic = "t"
format = "text"
[[field]]
name = "email"
topic = "a"
path = "/email"
rule = "last"
pii = true
[[field]]
name = "note"
topic = "t"
path = ""
rule = "last"
pii = true
"#,
            "s",
        )
        .unwrap();
        let mask = PiiMask::new(&spec);
        let (shown, whole) = mask.mask_payload("a", b"\x0ca@x.io");
        assert_eq!((&*shown, whole.is_some()), (MASK.as_bytes(), true));
        let (shown, whole) = mask.mask_payload("t", b"call a@x.io");
        assert_eq!((&*shown, whole), (MASK.as_bytes(), None));
        let (shown, whole) = mask.mask_payload("t", b"\xe9 a@x.io");
        assert_eq!((&*shown, whole.is_some()), (MASK.as_bytes(), true));
    }

    #[test]
    fn ids_a_pii_path_links_in_are_masked() {
        let spec = Spec::parse(
            r#"
[[source]]
topic = "identity"
links = ["/email", "/device", "/contact/phone", "/contactless"]
[[field]]
name = "email"
topic = "identity"
path = "/email"
rule = "last"
pii = true
[[field]]
name = "contact"
topic = "identity"
path = "/contact"
rule = "last"
pii = true
"#,
            "s",
        )
        .unwrap();
        let event = |id: &str, value: Value| super::super::Event {
            topic: "identity".into(),
            partition: 0,
            offset: 0,
            broker_ms: 0,
            event_ms: 0,
            id: id.into(),
            value: value.into(),
            schema_id: None,
        };
        let timeline = super::super::Timeline {
            key: "cust-1".into(),
            identities: vec!["cust-1".into(), "a@x.io".into(), "dev-9".into()],
            events: vec![
                event(
                    "cust-1",
                    json!({"email": "a@x.io", "device": "dev-9",
                        "contact": {"phone": "+33 6"}, "contactless": "card-1"}),
                ),
                event("a@x.io", json!({"device": "dev-9"})),
            ],
            ..Default::default()
        };
        let ids = PiiMask::new(&spec).pii_ids(&timeline);
        assert_eq!(
            ids.identities(&timeline.identities),
            vec!["cust-1", MASK, "dev-9"]
        );
        assert_eq!(ids.show("a@x.io"), MASK);
        assert_eq!(ids.show("cust-1"), "cust-1");
        // A link inside a `pii` value is PII too; one that only shares its name's start is not.
        assert_eq!(ids.show("+33 6"), MASK);
        assert_eq!(ids.show("card-1"), "card-1");
        let revealed = PiiMask::unless_revealed(&spec, true).pii_ids(&timeline);
        assert_eq!(revealed.show("a@x.io"), "a@x.io");
    }
}
