//! A producer that renames or drops a field leaves the builder and the spec reading a path
//! nobody writes any more: the store and the fold agree, and the profile silently stops
//! changing. Seen in the records of one customer, that is a spec field's path present in
//! records of one schema id and absent from every record of the newest one.

use serde::Serialize;

use super::{Event, Spec};

/// Where a field's path stopped being written: the first record of the schema that lacks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaChange {
    pub path: String,
    pub schema_id: u32,
    /// The last schema id whose records carried the path.
    pub previous_schema_id: u32,
    /// The registry's subject and version of `schema_id`, where it said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    pub topic: String,
    pub partition: i32,
    pub since_offset: i64,
}

impl std::fmt::Display for SchemaChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} absent since schema id {}", self.path, self.schema_id)?;
        if let (Some(subject), Some(version)) = (&self.subject, self.version) {
            write!(f, " ({subject} v{version})")?;
        }
        write!(
            f,
            " at {}/{}@{} (schema id {} carried it)",
            self.topic, self.partition, self.since_offset, self.previous_schema_id
        )
    }
}

/// The change behind `field`'s path in `events` (a timeline, in time order), if its newest
/// schema id dropped the path an earlier one carried.
pub fn change_of(spec: &Spec, field: &str, events: &[Event]) -> Option<SchemaChange> {
    let field = spec.fields.iter().find(|f| f.name == field)?;
    let mut on_topic: Vec<&Event> = events
        .iter()
        .filter(|e| e.topic == field.topic && e.schema_id.is_some())
        .collect();
    // Written order: broker time, then offset (the timeline is in event-time order).
    on_topic.sort_by_key(|e| (e.broker_ms, e.partition, e.offset));
    let newest = on_topic.last()?.schema_id?;
    let carries = |e: &&Event| super::pointer(&e.value, &field.path).is_some();
    let of_newest: Vec<&&Event> = on_topic
        .iter()
        .filter(|e| e.schema_id == Some(newest))
        .collect();
    if of_newest.iter().any(|e| carries(e)) {
        return None;
    }
    let previous = on_topic
        .iter()
        .rev()
        .find(|e| e.schema_id != Some(newest) && carries(e))?;
    // The first record of the newest schema written after the last one that carried the path.
    let first = on_topic
        .iter()
        .filter(|e| e.schema_id == Some(newest))
        .find(|e| (e.broker_ms, e.offset) >= (previous.broker_ms, previous.offset))?;
    Some(SchemaChange {
        path: field.path.clone(),
        schema_id: newest,
        previous_schema_id: previous.schema_id?,
        subject: None,
        version: None,
        topic: first.topic.clone(),
        partition: first.partition,
        since_offset: first.offset,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::*;

    fn ev(offset: i64, schema_id: u32, value: Value) -> Event {
        Event {
            topic: "c360.identity".into(),
            partition: 3,
            offset,
            broker_ms: 1_000 + offset,
            event_ms: 1_000 + offset,
            id: "cust-1".into(),
            value: Arc::new(value),
            schema_id: Some(schema_id),
        }
    }

    fn spec() -> Spec {
        Spec::parse(
            r#"
[[source]]
topic = "c360.identity"
format = "json-schema"
[[field]]
name = "email"
topic = "c360.identity"
path = "/email"
rule = "last"
"#,
            "s",
        )
        .unwrap()
    }

    #[test]
    fn a_path_the_newest_schema_dropped_is_named_with_its_first_record() {
        let events = [
            ev(1200, 6, json!({"email": "a@x"})),
            ev(1300, 7, json!({"email_address": "b@x"})),
            ev(1400, 7, json!({"email_address": "c@x"})),
        ];
        let change = change_of(&spec(), "email", &events).unwrap();
        assert_eq!(
            (
                change.schema_id,
                change.previous_schema_id,
                change.since_offset
            ),
            (7, 6, 1300)
        );
        assert_eq!(
            change.to_string(),
            "/email absent since schema id 7 at c360.identity/3@1300 (schema id 6 carried it)"
        );
        // Still carried by the newest schema, or never carried at all: no change.
        let carried = [
            ev(1200, 6, json!({"email": "a@x"})),
            ev(1300, 7, json!({"email": "b@x"})),
        ];
        assert_eq!(change_of(&spec(), "email", &carried), None);
        let never = [ev(1300, 7, json!({"other": 1}))];
        assert_eq!(change_of(&spec(), "email", &never), None);
        // A rename reverted: the newest schema carries the path again.
        let reverted = [
            ev(1200, 6, json!({"email": "a@x"})),
            ev(1300, 7, json!({"email_address": "b@x"})),
            ev(1400, 8, json!({"email": "c@x"})),
        ];
        assert_eq!(change_of(&spec(), "email", &reverted), None);
    }
}
