//! Masking a spec's `pii` fields wherever an event's payload is shown or written: the value at
//! each `pii` field's path, in events of that field's topic, reads `***` unless revealed.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;

use super::Spec;

pub const MASK: &str = "***";

/// Where a spec's `pii` fields sit, per topic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PiiMask {
    paths: HashMap<String, Vec<String>>,
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
        Self { paths }
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

    /// Masks every record of `capture` and says so in its header (`revealed` when this mask
    /// is empty because the user revealed PII).
    pub fn apply_to_capture(&self, capture: &mut crate::source::Capture, revealed: bool) {
        capture.pii = Some(if revealed { "revealed" } else { "masked" }.into());
        for (topic, partitions) in capture.topics.iter_mut() {
            if !self.paths.contains_key(topic) {
                continue;
            }
            for record in partitions.values_mut().flat_map(|p| p.records.iter_mut()) {
                if let Some(value) = &record.value
                    && let Cow::Owned(masked) = self.apply_bytes(topic, value)
                {
                    record.value = Some(masked);
                }
            }
        }
    }

    /// A payload's bytes with `pii` values masked where it is JSON; other bytes as they are
    /// (a spec's paths only reach into JSON).
    pub fn apply_bytes<'a>(&self, topic: &str, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        if !self.paths.contains_key(topic) {
            return Cow::Borrowed(bytes);
        }
        let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
            return Cow::Borrowed(bytes);
        };
        match self.apply(topic, &value) {
            Cow::Borrowed(_) => Cow::Borrowed(bytes),
            Cow::Owned(masked) => Cow::Owned(serde_json::to_vec(&masked).unwrap_or_default()),
        }
    }
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
}
