//! One customer's report as `profile --json` prints it and the app exports it: the profile
//! with provenance, the store comparison, what could not be read; `pii` values masked unless
//! revealed.

use serde_json::{Map, Value, json};

use super::{MASK, Profile, Spec, StoreComparison, Timeline};

/// Everything `freshlens profile` reports, built once for JSON and text.
pub struct ProfileReport {
    pub timeline: Timeline,
    pub profile: Profile,
    pub store: Option<StoreComparison>,
}

/// Whether a document shows `pii` values, for its readers to know what they hold.
pub fn pii_state(revealed: bool) -> &'static str {
    if revealed { "revealed" } else { "masked" }
}

/// A field's value as shown: `***` for a `pii` field unless revealed.
pub fn shown_value(spec: &Spec, field: &str, value: &Value, reveal_pii: bool) -> Value {
    let pii = spec.field(field).is_some_and(|f| f.pii);
    if pii && !reveal_pii && !value.is_null() {
        Value::String(MASK.into())
    } else {
        value.clone()
    }
}

/// The documented `profile --json` shape; `pii` fields masked unless revealed.
pub fn report_json(spec: &Spec, report: &ProfileReport, reveal_pii: bool) -> Value {
    let masked = |name: &str, value: &Value| shown_value(spec, name, value, reveal_pii);
    let ids = super::PiiMask::unless_revealed(spec, reveal_pii).pii_ids(&report.timeline);
    let fields: Map<String, Value> = report
        .profile
        .fields
        .iter()
        .map(|(name, f)| {
            (
                name.clone(),
                json!({
                    "value": masked(name, &f.value),
                    "usable": f.usable,
                    "pii": f.pii,
                    "rule": f.rule,
                    "updated_ms": f.source.event_ms,
                    "broker_ms": f.source.broker_ms,
                    "topic": f.source.topic,
                    "partition": f.source.partition,
                    "offset": f.source.offset,
                    "id": ids.show(&f.source.id),
                }),
            )
        })
        .collect();
    let store = report.store.as_ref().map(|s| {
        let served: Map<String, Value> = s
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), masked(k, v)))
            .collect();
        let stale: Vec<Value> = s
            .stale
            .iter()
            .map(|st| {
                let mut field = json!({
                    "field": st.field,
                    "expected": masked(&st.field, &st.expected),
                    "served": masked(&st.field, &st.served),
                    "pending_since_ms": st.pending_since_ms,
                    "behind_ms": st.behind_ms,
                    "cause": st.cause,
                    "source": st.source,
                    "pending": st.pending,
                });
                // `"cause": "schema_change"` with where and since which schema, beside it.
                if let (Some(change), Value::Object(map)) = (
                    st.schema_change
                        .as_ref()
                        .and_then(|c| serde_json::to_value(c).ok()),
                    &mut field,
                ) && let Value::Object(change) = change
                {
                    map.extend(change);
                }
                field
            })
            .collect();
        json!({
            "updated_ms": s.updated_ms, "deleted": s.deleted, "versions": s.versions,
            "fields": served, "stale": stale,
            "not_consumed": {
                "events": s.not_consumed.events,
                "oldest_ms": s.not_consumed.oldest_ms,
                "behind_ms": s.not_consumed.behind_ms(s.as_of_ms),
            },
        })
    });
    json!({
        "key": report.timeline.key,
        "identities": ids.identities(&report.timeline.identities),
        "pii": pii_state(reveal_pii),
        "as_of_ms": report.profile.as_of_ms,
        "erased": report.profile.erased.as_ref().map(|e| json!({"at_ms": e.at.event_ms, "topic": e.at.topic, "partition": e.at.partition, "offset": e.at.offset})),
        "fields": fields,
        "store": store,
        "undecodable": ids.undecodable(&report.timeline.undecodable),
        "unreadable_event_times": report.timeline.unreadable_event_times,
        "scanned": report.timeline.scanned,
        "placement_warnings": report.timeline.placement_warnings,
    })
}
