//! A schema change named as the cause of the stale fields it explains (see
//! [`super::schema_change`]): kept apart from the comparison, which it edits after the fact.

use super::schema_change::change_of;
use super::store::{Cause, SchemaChangeJson, StaleField, StoreComparison};
use super::{Event, Provenance, Spec};

/// Names a schema change as the cause of every spec field it explains: a stale field's cause
/// becomes the change, and a field the store agrees on is listed as stale all the same (both
/// read the path nobody writes). `subject_of` gives a schema id's subject and version.
pub fn apply(
    comparison: &mut StoreComparison,
    spec: &Spec,
    events: &[Event],
    subject_of: &dyn Fn(u32) -> Option<(String, u32)>,
) {
    for field in &spec.fields {
        let Some(mut change) = change_of(spec, &field.name, events) else {
            continue;
        };
        if let Some((subject, version)) = subject_of(change.schema_id) {
            change.subject = Some(subject);
            change.version = Some(version);
        }
        let first = events
            .iter()
            .find(|e| {
                e.topic == change.topic
                    && e.partition == change.partition
                    && e.offset == change.since_offset
            })
            .map(Provenance::of);
        let behind_ms = |since: i64| (comparison.as_of_ms - since).max(0);
        let json = Some(SchemaChangeJson::from(&change));
        match comparison.stale.iter_mut().find(|s| s.field == field.name) {
            Some(stale) => {
                stale.cause = Cause::SchemaChange(change);
                stale.schema_change = json;
            }
            None => {
                let Some(first) = first else { continue };
                let served = comparison
                    .fields
                    .get(&field.name)
                    .cloned()
                    .unwrap_or_default();
                comparison.stale.push(StaleField {
                    field: field.name.clone(),
                    expected: served.clone(),
                    served,
                    pending_since_ms: first.broker_ms,
                    behind_ms: behind_ms(first.broker_ms),
                    cause: Cause::SchemaChange(change),
                    source: first.clone(),
                    pending: first,
                    schema_change: json,
                });
            }
        }
    }
}
