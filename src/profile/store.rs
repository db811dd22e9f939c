//! The profile store side: every version of a key still in the store topic, and the comparison
//! of the latest with the fold, naming each stale field, since when, and why.

use crate::source::Source as DataSource;
use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::cluster::{CancelToken, ClusterError, RecordFilter, ScanEvent, ScanRequest, StartAt};
use crate::profile::SourceDecoder;

use super::fold::{Profile, Provenance, field_changes, fold};
use super::spec::{Spec, Store};
use super::{Event, parse_event_time};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreVersion {
    pub partition: i32,
    pub offset: i64,
    pub broker_ms: i64,
    /// When the builder wrote it: `updated_at`, else the record timestamp.
    pub updated_ms: i64,
    /// `None` for a tombstone (the profile was deleted).
    pub fields: Option<Map<String, Value>>,
    pub watermark_ms: Option<i64>,
}

/// All versions of `key` still in the store topic, oldest first (compaction may have removed
/// some). Reads only the key's partition.
pub fn store_versions(
    cluster: &dyn DataSource,
    spec: &Spec,
    store: &Store,
    decoder: &SourceDecoder,
    key: &str,
    cancel: &CancelToken,
) -> Result<Vec<StoreVersion>, ClusterError> {
    let keys = std::collections::BTreeSet::from([key.to_owned()]);
    let mut found = store_versions_of(cluster, spec, store, decoder, &keys, cancel)?;
    Ok(found.remove(key).unwrap_or_default())
}

/// [`store_versions`] of many keys, each partition read once for all of them.
pub fn store_versions_of(
    cluster: &dyn DataSource,
    spec: &Spec,
    store: &Store,
    decoder: &SourceDecoder,
    keys: &std::collections::BTreeSet<String>,
    cancel: &CancelToken,
) -> Result<HashMap<String, Vec<StoreVersion>>, ClusterError> {
    let placement = super::placement::placement(cluster, &store.topic, spec.partitioner, cancel)?;
    let mut partitions: Vec<i32> = keys
        .iter()
        .flat_map(|key| placement.partitions_for(key.as_bytes()))
        .collect();
    partitions.sort_unstable();
    partitions.dedup();
    let request = ScanRequest {
        topic: store.topic.clone(),
        partitions: Some(partitions),
        start: StartAt::Beginning,
        resume: Default::default(),
        max_records: None,
        end_timestamp_ms: None,
        filter: RecordFilter {
            keys: keys.iter().map(|k| k.as_bytes().to_vec()).collect(),
            ..RecordFilter::default()
        },
    };
    let as_source = store.as_source();
    let mut versions: HashMap<String, Vec<StoreVersion>> = HashMap::new();
    cluster.scan(&request, cancel, &mut |event| {
        if let ScanEvent::Records(records) = event {
            for record in records {
                let broker_ms = record.timestamp_ms.unwrap_or(0);
                let decoded = record
                    .value
                    .as_deref()
                    .map(|bytes| decoder.decode(&as_source, bytes));
                let (fields, updated_ms, watermark_ms) = match decoded {
                    None => (None, broker_ms, None),
                    Some(Err(_)) => continue,
                    Some(Ok(value)) => {
                        let at = |pointer: &Option<String>| {
                            pointer
                                .as_deref()
                                .and_then(|p| value.pointer(p))
                                .and_then(parse_event_time)
                        };
                        let fields = value
                            .pointer(&store.fields)
                            .and_then(Value::as_object)
                            .cloned()
                            .unwrap_or_default();
                        (
                            Some(fields),
                            at(&store.updated_at).unwrap_or(broker_ms),
                            at(&store.watermark),
                        )
                    }
                };
                let key = String::from_utf8_lossy(record.key.as_deref().unwrap_or_default());
                versions
                    .entry(key.into_owned())
                    .or_default()
                    .push(StoreVersion {
                        partition: record.partition,
                        offset: record.offset,
                        broker_ms,
                        updated_ms,
                        fields,
                        watermark_ms,
                    });
            }
        }
        true
    })?;
    for list in versions.values_mut() {
        list.sort_by_key(|v| v.offset);
    }
    Ok(versions)
}

/// Why the store does not reflect an event, judged from the builder group's position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The spec's `[store]` names no builder group to ask.
    NoBuilderGroup,
    /// The builder group has no commit on the event's partition.
    NoCommit {
        group: String,
        topic: String,
        partition: i32,
    },
    /// The builder has not read the event yet.
    NotConsumed { lag: i64, pending_ms: i64 },
    /// The producer stopped writing the field's path (a new schema renamed or dropped it):
    /// builder and spec both read a path nobody writes.
    SchemaChange(super::schema_change::SchemaChange),
    /// The builder read past the event and the store still does not show it.
    ConsumedNotApplied {
        group: String,
        committed: i64,
        topic: String,
        partition: i32,
        offset: i64,
    },
}

impl Cause {
    /// The builder has not consumed the event (with or without a commit).
    pub fn not_consumed(&self) -> bool {
        matches!(self, Self::NotConsumed { .. } | Self::NoCommit { .. })
    }

    pub fn consumed_not_applied(&self) -> bool {
        matches!(self, Self::ConsumedNotApplied { .. })
    }
}

/// The words `profile --json` prints as `cause`: the contract scripts read.
impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoBuilderGroup => {
                f.write_str("unknown: the spec's [store] names no builder_group")
            }
            Self::SchemaChange(change) => write!(f, "schema change: {change}"),
            Self::NoCommit {
                group,
                topic,
                partition,
            } => write!(
                f,
                "not consumed yet: {group} has no committed offset on {topic}/{partition}"
            ),
            Self::NotConsumed { lag, pending_ms } => write!(
                f,
                "not consumed yet: lag {lag} records, {}",
                format_duration_ms(*pending_ms)
            ),
            Self::ConsumedNotApplied {
                group,
                committed,
                topic,
                partition,
                offset,
            } => write!(
                f,
                "consumed but not applied: {group} committed offset {committed} on \
                 {topic}/{partition}, past the event at offset {offset}"
            ),
        }
    }
}

impl Serialize for Cause {
    /// The words, but for a schema change: `schema_change`, its details beside it in the
    /// stale field (`schema_id`, `since_offset`, `topic`, `partition`).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::SchemaChange(_) => serializer.serialize_str("schema_change"),
            _ => serializer.collect_str(self),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaleField {
    pub field: String,
    pub expected: Value,
    pub served: Value,
    /// Broker time of the earliest source event the store does not reflect.
    pub pending_since_ms: i64,
    pub behind_ms: i64,
    pub cause: Cause,
    /// The source event that set the expected value.
    pub source: Provenance,
    /// The earliest event the store does not reflect.
    pub pending: Provenance,
    /// With cause `schema_change`: where the path stopped being written, in words too.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub schema_change: Option<SchemaChangeJson>,
}

/// A schema change as `profile --json` prints it beside `"cause": "schema_change"`: where and
/// since which schema, and the reason in words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaChangeJson {
    #[serde(flatten)]
    pub change: super::schema_change::SchemaChange,
    pub reason: String,
}

impl From<&super::schema_change::SchemaChange> for SchemaChangeJson {
    fn from(change: &super::schema_change::SchemaChange) -> Self {
        Self {
            change: change.clone(),
            reason: change.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreComparison {
    pub updated_ms: i64,
    pub deleted: bool,
    pub fields: Map<String, Value>,
    pub stale: Vec<StaleField>,
    /// Versions of the key still in the store topic.
    pub versions: usize,
    /// The customer's events its builder group has not consumed yet (none counted without a
    /// builder group).
    pub not_consumed: super::Pending,
    /// "Now" the comparison was made at, for the time behind.
    pub as_of_ms: i64,
}

/// What the builder group has read: committed offsets and high watermarks per source partition.
#[derive(Debug, Clone, Default)]
pub struct BuilderPosition {
    pub group: Option<String>,
    pub committed: HashMap<(String, i32), Option<i64>>,
    pub high: HashMap<(String, i32), i64>,
}

impl BuilderPosition {
    /// Reads the builder group's committed offsets for every partition the timeline touched.
    pub fn read(
        cluster: &dyn DataSource,
        group: Option<&str>,
        events: &[Event],
    ) -> Result<Self, ClusterError> {
        let Some(group) = group else {
            return Ok(Self::default());
        };
        let mut partitions: Vec<(String, i32)> = events
            .iter()
            .map(|e| (e.topic.clone(), e.partition))
            .collect();
        partitions.sort();
        partitions.dedup();
        if partitions.is_empty() {
            return Ok(Self {
                group: Some(group.to_owned()),
                ..Self::default()
            });
        }
        let committed = cluster.committed_offsets(group, &partitions)?;
        let mut high = HashMap::new();
        let mut topics: Vec<&str> = partitions.iter().map(|(t, _)| t.as_str()).collect();
        topics.dedup();
        for topic in topics {
            for p in cluster.topic(topic)?.partitions {
                high.insert((topic.to_owned(), p.id), p.high);
            }
        }
        Ok(Self {
            group: Some(group.to_owned()),
            committed,
            high,
        })
    }

    /// Whether the builder group has read `event` (its committed offset is past it).
    fn consumed(&self, event: &Event) -> bool {
        let at = (event.topic.clone(), event.partition);
        !super::not_consumed(self.committed.get(&at).copied().flatten(), event.offset)
    }

    /// The events the builder group has not consumed yet; nothing without a builder group.
    pub fn not_consumed(&self, events: &[Event]) -> super::Pending {
        let mut pending = super::Pending::default();
        if self.group.is_some() {
            // Records without a plausible broker time are left out, as the census leaves them
            // (it counts them apart as undated): no time behind can be measured from them.
            for event in events
                .iter()
                .filter(|e| !self.consumed(e) && crate::time::plausible_ms(e.broker_ms))
            {
                pending.add(event.broker_ms);
            }
        }
        pending
    }

    fn unconsumed_any(&self, events: &[Event]) -> bool {
        self.group.is_some() && events.iter().any(|e| !self.consumed(e))
    }

    fn cause(&self, pending: &Event, now_ms: i64) -> Cause {
        let Some(group) = &self.group else {
            return Cause::NoBuilderGroup;
        };
        let at = (pending.topic.clone(), pending.partition);
        match self.committed.get(&at).copied().flatten() {
            None => Cause::NoCommit {
                group: group.clone(),
                topic: pending.topic.clone(),
                partition: pending.partition,
            },
            Some(committed) if committed <= pending.offset => {
                let high = self.high.get(&at).copied().unwrap_or(committed);
                Cause::NotConsumed {
                    lag: high.saturating_sub(committed).max(0),
                    pending_ms: now_ms.saturating_sub(pending.broker_ms),
                }
            }
            Some(committed) => Cause::ConsumedNotApplied {
                group: group.clone(),
                committed,
                topic: pending.topic.clone(),
                partition: pending.partition,
                offset: pending.offset,
            },
        }
    }
}

/// Compares the latest store version with the fold as of now.
pub fn compare(
    spec: &Spec,
    events: &[Event],
    profile: &Profile,
    latest: Option<&StoreVersion>,
    versions: usize,
    builder: &BuilderPosition,
    now_ms: i64,
) -> StoreComparison {
    let served_fields = latest.and_then(|v| v.fields.clone()).unwrap_or_default();
    let mut stale = Vec::new();
    let names: Vec<String> = if spec.fields.is_empty() {
        profile.fields.keys().cloned().collect()
    } else {
        spec.fields.iter().map(|f| f.name.clone()).collect()
    };
    // What the store would serve had the builder applied everything it has consumed. When that
    // is what it serves, the missing changes are the unread ones, whatever order they came in.
    let consumed_fold = std::cell::OnceCell::new();
    let consumed_fold = || {
        consumed_fold
            .get_or_init(|| {
                builder.unconsumed_any(events).then(|| {
                    let consumed: Vec<Event> = events
                        .iter()
                        .filter(|e| builder.consumed(e))
                        .cloned()
                        .collect();
                    fold(spec, &consumed, None)
                })
            })
            .as_ref()
    };
    for name in names {
        let value_in = |p: &Profile| p.fields.get(&name).map(|f| f.value.clone());
        let expected = value_in(profile).unwrap_or(Value::Null);
        let served = served_fields.get(&name).cloned().unwrap_or(Value::Null);
        if same_value(&expected, &served) {
            continue;
        }
        let changes = field_changes(spec, events, &name);
        let unread = consumed_fold()
            .filter(|consumed| same_value(&value_in(consumed).unwrap_or(Value::Null), &served))
            .and_then(|_| {
                changes
                    .iter()
                    .filter(|(i, _)| !builder.consumed(&events[*i]))
                    .min_by_key(|(i, _)| (events[*i].broker_ms, *i))
            });
        let pending_index = match unread {
            Some(&(i, _)) => i,
            None => {
                // The store reflects the state after the last change whose value it serves;
                // the change after that is the first it is missing. A value it never had
                // means it reflects none.
                let reflected = changes.iter().rposition(|(_, value)| {
                    same_value(value.as_ref().unwrap_or(&Value::Null), &served)
                });
                let first_missing = reflected.map_or(0, |i| i + 1);
                let Some(&(i, _)) = changes.get(first_missing) else {
                    continue;
                };
                i
            }
        };
        let pending = &events[pending_index];
        let source = profile
            .fields
            .get(&name)
            .map(|f| f.source.clone())
            .unwrap_or_else(|| {
                Provenance::of(&events[changes.last().map_or(pending_index, |c| c.0)])
            });
        stale.push(StaleField {
            field: name,
            expected,
            served,
            pending_since_ms: pending.broker_ms,
            behind_ms: (now_ms - pending.broker_ms).max(0),
            cause: builder.cause(pending, now_ms),
            source,
            pending: Provenance::of(pending),
            schema_change: None,
        });
    }
    StoreComparison {
        updated_ms: latest.map_or(0, |v| v.updated_ms),
        deleted: latest.is_some_and(|v| v.fields.is_none()),
        fields: served_fields,
        stale,
        versions,
        not_consumed: builder.not_consumed(events),
        as_of_ms: now_ms,
    }
}

/// Equal, with numbers equal up to the rounding a builder summing in another order produces.
/// Compared without recursing, so a value of any depth is safe to compare.
pub fn same_value(a: &Value, b: &Value) -> bool {
    let mut pairs = vec![(a, b)];
    while let Some((a, b)) = pairs.pop() {
        let same = match (a, b) {
            (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => (x - y).abs() <= 1e-10 * x.abs().max(y.abs()).max(1.0),
                _ => x == y,
            },
            (Value::Array(x), Value::Array(y)) => {
                pairs.extend(x.iter().zip(y));
                x.len() == y.len()
            }
            (Value::Object(x), Value::Object(y)) => {
                for (k, v) in x {
                    match y.get(k) {
                        Some(w) => pairs.push((v, w)),
                        None => return false,
                    }
                }
                x.len() == y.len()
            }
            // Either scalars or values of different kinds: `==` does not recurse.
            _ => a == b,
        };
        if !same {
            return false;
        }
    }
    true
}

/// Kept for `ui/profile.rs` until the ui rewrite imports it from `crate::time`, where the
/// engine and the CLI take it.
pub use crate::time::format_duration_ms;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Spec, fold};
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
[[field]]
name = "spent"
topic = "consent"
path = "/amount"
rule = "sum"
[store]
topic = "profiles"
fields = "/profile"
builder_group = "builder"
"#;

    fn ev(offset: i64, ms: i64, value: Value) -> Event {
        Event {
            topic: "consent".into(),
            partition: 3,
            offset,
            broker_ms: ms,
            event_ms: ms,
            id: "c".into(),
            value: value.into(),
            schema_id: None,
        }
    }

    fn version(fields: Value) -> StoreVersion {
        StoreVersion {
            partition: 0,
            offset: 9,
            broker_ms: 0,
            updated_ms: 1_500,
            fields: fields.as_object().cloned(),
            watermark_ms: None,
        }
    }

    /// The latest version `store` against the fold of `events`.
    fn compared(
        spec: &Spec,
        events: &[Event],
        store: &StoreVersion,
        versions: usize,
        builder: &BuilderPosition,
        now_ms: i64,
    ) -> StoreComparison {
        let profile = fold(spec, events, None);
        compare(
            spec,
            events,
            &profile,
            Some(store),
            versions,
            builder,
            now_ms,
        )
    }

    fn builder(committed: Option<i64>) -> BuilderPosition {
        BuilderPosition {
            group: Some("builder".into()),
            committed: HashMap::from([(("consent".to_owned(), 3), committed)]),
            high: HashMap::from([(("consent".to_owned(), 3), 240)]),
        }
    }

    #[test]
    fn values_of_any_depth_compare_without_recursing() {
        use crate::codec::DeepValue;
        let (a, b) = (DeepValue::new(10_000), DeepValue::new(10_000));
        assert!(same_value(&a.0, &b.0));
        assert!(!same_value(&a.0, &DeepValue::new(9_999).0));
        assert!(same_value(
            &json!({"a": [1.0, {"b": 2}]}),
            &json!({"a": [1, {"b": 2.0}]})
        ));
        assert!(!same_value(&json!({"a": [1]}), &json!({"a": [1, 2]})));
        assert!(!same_value(&json!({"a": 1}), &json!({"b": 1})));
        assert!(!same_value(&json!([]), &json!({})));
    }

    #[test]
    fn names_the_first_unreflected_event_and_the_cause() {
        let spec = Spec::parse(SPEC, "t").unwrap();
        let events = vec![
            ev(5, 1_000, json!({"marketing": true, "tier": "gold"})),
            ev(8, 2_000, json!({"marketing": false})),
            ev(9, 3_000, json!({"marketing": true})),
        ];
        let profile = fold(&spec, &events, None);
        // The store applied the first event only.
        let store = version(json!({"marketing": true, "tier": "gold"}));
        // Served `true` equals the latest value: the field is fresh even though the store
        // missed two changes in between.
        let fresh = compared(&spec, &events, &store, 1, &builder(Some(8)), 10_000);
        assert!(fresh.stale.is_empty(), "{:?}", fresh.stale);

        let store = version(json!({"marketing": false, "tier": "silver"}));
        let result = compared(&spec, &events, &store, 2, &builder(Some(8)), 63_000);
        let fields: Vec<&str> = result.stale.iter().map(|s| s.field.as_str()).collect();
        assert_eq!(fields, vec!["marketing", "tier"]);
        let marketing = &result.stale[0];
        assert_eq!(
            (marketing.expected.clone(), marketing.served.clone()),
            (json!(true), json!(false))
        );
        assert_eq!(marketing.pending.offset, 9);
        assert_eq!(marketing.pending_since_ms, 3_000);
        assert_eq!(marketing.behind_ms, 60_000);
        assert_eq!(
            marketing.cause.to_string(),
            "not consumed yet: lag 232 records, 1m00s"
        );
        // A value the store never had: nothing of the field is reflected.
        assert_eq!(result.stale[1].pending.offset, 5);

        let past = compared(&spec, &events, &store, 2, &builder(Some(10)), 63_000);
        assert!(
            past.stale[0].cause.consumed_not_applied(),
            "{}",
            past.stale[0].cause
        );
        let none = compare(
            &spec,
            &events,
            &profile,
            Some(&store),
            2,
            &builder(None),
            63_000,
        );
        assert!(
            none.stale[0]
                .cause
                .to_string()
                .contains("no committed offset")
        );
    }

    #[test]
    fn a_late_unread_event_behind_a_sum_is_not_consumed_yet() {
        let spec = Spec::parse(SPEC, "t").unwrap();
        let mut late = ev(9, 2_000, json!({"amount": 5}));
        late.broker_ms = 4_000;
        let mut events = vec![
            ev(5, 1_000, json!({"amount": 10.1})),
            ev(8, 3_000, json!({"amount": 20.2})),
            late,
        ];
        crate::profile::sort_timeline(&mut events);
        let profile = fold(&spec, &events, None);
        assert_eq!(profile.fields["spent"].value, json!(35.3));
        // The builder read offsets 5 and 8 and summed them in its own order; the late order at
        // offset 9 sorts between them by event time, so no prefix of the timeline sums to 30.3.
        let store = version(json!({"spent": 20.2 + 10.1}));
        let result = compared(&spec, &events, &store, 1, &builder(Some(9)), 10_000);
        assert_eq!(result.stale.len(), 1, "{:?}", result.stale);
        let spent = &result.stale[0];
        assert_eq!(spent.pending.offset, 9);
        assert_eq!(spent.pending_since_ms, 4_000);
        assert!(spent.cause.not_consumed(), "{}", spent.cause);

        // Once the builder is past it, a served sum that is still short was not applied.
        let result = compared(&spec, &events, &store, 1, &builder(Some(10)), 10_000);
        assert!(result.stale[0].cause.consumed_not_applied());
        // The same sum added in another order is not stale.
        let store = version(json!({"spent": 5.0 + 20.2 + 10.1}));
        let fresh = compared(&spec, &events, &store, 1, &builder(Some(10)), 10_000);
        assert!(fresh.stale.is_empty(), "{:?}", fresh.stale);
    }

    #[test]
    fn tombstone_means_deleted_and_everything_is_pending() {
        let spec = Spec::parse(SPEC, "t").unwrap();
        let events = vec![ev(5, 1_000, json!({"marketing": true}))];
        let mut store = version(json!({}));
        store.fields = None;
        let result = compared(
            &spec,
            &events,
            &store,
            1,
            &BuilderPosition::default(),
            2_000,
        );
        assert!(result.deleted);
        assert_eq!(result.stale.len(), 1);
        assert_eq!(result.stale[0].cause, Cause::NoBuilderGroup);
    }
}
