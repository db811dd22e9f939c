//! When the profile store reflected each source event: the first store version written after
//! the event reached the broker whose values for the event's fields are the fold's values right
//! after it, or later ones (a later version may already carry a newer value). With a builder
//! watermark, the first version whose watermark is at or past the event's time.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::profile::{Event, Spec, StoreVersion, field_changes, fold};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventFreshness {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub event_time_ms: i64,
    pub broker_time_ms: i64,
    /// `None` while no store version reflects the event.
    pub applied_ms: Option<i64>,
}

impl EventFreshness {
    /// Broker time - event time.
    pub fn ingest_delay_ms(&self) -> i64 {
        self.broker_time_ms.saturating_sub(self.event_time_ms)
    }

    /// Applied time - broker time: the source-to-profile lag.
    pub fn lag_ms(&self) -> Option<i64> {
        self.applied_ms
            .map(|a| a.saturating_sub(self.broker_time_ms))
    }

    /// Applied time - event time.
    pub fn end_to_end_ms(&self) -> Option<i64> {
        self.applied_ms
            .map(|a| a.saturating_sub(self.event_time_ms))
    }
}

/// The events that set profile fields, each with its applied time. `versions` oldest first.
pub fn applied_times(
    spec: &Spec,
    events: &[Event],
    versions: &[StoreVersion],
    watermark: bool,
) -> Vec<EventFreshness> {
    let names: Vec<String> = if spec.fields.is_empty() {
        fold(spec, events, None).fields.into_keys().collect()
    } else {
        spec.fields.iter().map(|f| f.name.clone()).collect()
    };
    // A version shows a change to a field applied when it serves the value right after the
    // change or a later one: when the value's last appearance in the field's history is at or
    // after the change. Values are compared in their JSON text, so they can be hashed.
    let mut last_seen: Vec<HashMap<String, usize>> = Vec::with_capacity(names.len());
    let mut accepted: HashMap<usize, Vec<(usize, usize)>> = HashMap::new();
    for (f, name) in names.iter().enumerate() {
        let changes = field_changes(spec, events, name);
        let mut seen = HashMap::new();
        for (k, (index, value)) in changes.iter().enumerate() {
            seen.insert(text(value.as_ref().unwrap_or(&Value::Null)), k);
            accepted.entry(*index).or_default().push((f, k));
        }
        last_seen.push(seen);
    }
    // Each version's served values, in the same text form, once.
    let served: Vec<Option<Vec<String>>> = versions
        .iter()
        .map(|v| {
            v.fields.as_ref().map(|fields| {
                names
                    .iter()
                    .map(|name| text(fields.get(name).unwrap_or(&Value::Null)))
                    .collect()
            })
        })
        .collect();
    let mut indices: Vec<usize> = accepted.keys().copied().collect();
    indices.sort_unstable();
    indices
        .into_iter()
        .map(|index| {
            let event = &events[index];
            let changed = &accepted[&index];
            let applied_ms = versions
                .iter()
                .zip(&served)
                .filter(|(v, _)| v.updated_ms >= event.broker_ms)
                .find(|(v, served)| {
                    if watermark {
                        return v.watermark_ms.is_some_and(|w| w >= event.event_ms);
                    }
                    let Some(served) = served else {
                        return false;
                    };
                    changed
                        .iter()
                        .all(|&(f, k)| last_seen[f].get(&served[f]).is_some_and(|last| *last >= k))
                })
                .map(|(v, _)| v.updated_ms);
            EventFreshness {
                topic: event.topic.clone(),
                partition: event.partition,
                offset: event.offset,
                event_time_ms: event.event_ms,
                broker_time_ms: event.broker_ms,
                applied_ms,
            }
        })
        .collect()
}

fn text(value: &Value) -> String {
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPEC: &str = r#"
[[source]]
topic = "consent"
[[field]]
name = "marketing"
topic = "consent"
path = "/marketing"
rule = "last"
[[field]]
name = "tier"
topic = "consent"
path = "/tier"
rule = "last"
"#;

    fn ev(offset: i64, event_ms: i64, broker_ms: i64, value: Value) -> Event {
        Event {
            topic: "consent".into(),
            partition: 0,
            offset,
            broker_ms,
            event_ms,
            id: "c".into(),
            value: value.into(),
            schema_id: None,
        }
    }

    fn version(updated_ms: i64, fields: Value, watermark_ms: Option<i64>) -> StoreVersion {
        StoreVersion {
            partition: 0,
            offset: 0,
            broker_ms: updated_ms,
            updated_ms,
            fields: fields.as_object().cloned(),
            watermark_ms,
        }
    }

    #[test]
    fn applied_by_the_first_version_with_its_values_or_later_ones() {
        let spec = Spec::parse(SPEC, "t").unwrap();
        let events = vec![
            ev(0, 900, 1_000, json!({"marketing": true, "tier": "gold"})),
            ev(1, 1_900, 2_000, json!({"marketing": false})),
            ev(2, 2_900, 3_000, json!({"tier": "silver"})),
            ev(3, 3_900, 4_000, json!({"marketing": true})),
        ];
        let versions = vec![
            version(1_500, json!({"marketing": true, "tier": "gold"}), None),
            // Skips the change at offset 1 and jumps to offset 3's value: both count as applied.
            version(4_500, json!({"marketing": true, "tier": "gold"}), None),
        ];
        let result = applied_times(&spec, &events, &versions, false);
        let applied: Vec<(i64, Option<i64>)> =
            result.iter().map(|e| (e.offset, e.applied_ms)).collect();
        // Offset 2's tier change is never served: it stays pending.
        assert_eq!(
            applied,
            vec![
                (0, Some(1_500)),
                (1, Some(4_500)),
                (2, None),
                (3, Some(4_500))
            ]
        );
        assert_eq!(result[0].ingest_delay_ms(), 100);
        assert_eq!(result[0].lag_ms(), Some(500));
        assert_eq!(result[0].end_to_end_ms(), Some(600));
        assert_eq!(result[2].lag_ms(), None);
    }

    #[test]
    fn a_version_before_the_event_reached_the_broker_does_not_count() {
        let spec = Spec::parse(SPEC, "t").unwrap();
        let events = vec![ev(0, 900, 2_000, json!({"marketing": true}))];
        let versions = vec![version(1_000, json!({"marketing": true}), None)];
        assert_eq!(
            applied_times(&spec, &events, &versions, false)[0].applied_ms,
            None
        );
    }

    #[test]
    fn watermark_variant_uses_event_time() {
        let spec = Spec::parse(SPEC, "t").unwrap();
        let events = vec![
            ev(0, 900, 1_000, json!({"marketing": true})),
            ev(1, 2_900, 3_000, json!({"marketing": false})),
        ];
        let versions = vec![
            version(1_200, json!({}), Some(500)),
            version(1_400, json!({}), Some(1_000)),
            version(3_500, json!({}), Some(2_000)),
        ];
        let applied: Vec<Option<i64>> = applied_times(&spec, &events, &versions, true)
            .iter()
            .map(|e| e.applied_ms)
            .collect();
        assert_eq!(applied, vec![Some(1_400), None]);
    }
}
