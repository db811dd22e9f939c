//! Folding a timeline into a profile: per-field rules, provenance, consent, erasure and time
//! travel. Accumulators keep event indices, not values, so the hot loop rarely clones JSON.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::Event;
use super::spec::{Rule, Spec};

/// Where a field's value came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provenance {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub event_ms: i64,
    pub broker_ms: i64,
    pub id: String,
}

impl Provenance {
    pub(crate) fn of(event: &Event) -> Self {
        Self {
            topic: event.topic.clone(),
            partition: event.partition,
            offset: event.offset,
            event_ms: event.event_ms,
            broker_ms: event.broker_ms,
            id: event.id.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldValue {
    pub value: Value,
    /// False while the field's consent field is not true.
    pub usable: bool,
    pub rule: Option<Rule>,
    pub pii: bool,
    /// The event that last changed the value.
    pub source: Provenance,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Erasure {
    pub at: Provenance,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Profile {
    pub as_of_ms: Option<i64>,
    pub fields: BTreeMap<String, FieldValue>,
    /// The last erasure applied, if any.
    pub erased: Option<Erasure>,
    /// Events folded (those at or before `as_of_ms`).
    pub events_applied: usize,
}

#[derive(Debug, Clone)]
enum Acc {
    Empty,
    /// Value at this event's pointer (last, first).
    At(usize),
    Count(u64),
    Number(Sum),
    Extreme(Value),
    Distinct(Vec<Value>),
}

#[derive(Clone)]
struct Slot {
    name: Arc<str>,
    path: Arc<str>,
    rule: Option<Rule>,
    pii: bool,
    consent: Option<Arc<str>>,
    acc: Acc,
    changed_by: Option<usize>,
}

impl Slot {
    fn new(
        name: Arc<str>,
        path: Arc<str>,
        rule: Option<Rule>,
        pii: bool,
        consent: Option<Arc<str>>,
    ) -> Self {
        Self {
            name,
            path,
            rule,
            pii,
            consent,
            acc: Acc::Empty,
            changed_by: None,
        }
    }

    fn apply(&mut self, index: usize, value: &Value) {
        if value.is_null() {
            self.acc = Acc::Empty;
            self.changed_by = Some(index);
            return;
        }
        let rule = self.rule.unwrap_or(Rule::Last);
        let changed = match (&mut self.acc, rule) {
            (acc, Rule::Last) => {
                *acc = Acc::At(index);
                true
            }
            (acc @ Acc::Empty, Rule::First) => {
                *acc = Acc::At(index);
                true
            }
            (_, Rule::First) => false,
            (Acc::Count(n), Rule::Count) => {
                *n += 1;
                true
            }
            (acc, Rule::Count) => {
                *acc = Acc::Count(1);
                true
            }
            (acc, Rule::Sum) => match value.as_f64() {
                Some(x) => {
                    let term = Sum::of(x, value.is_i64() || value.is_u64());
                    *acc = match acc {
                        Acc::Number(sum) => Acc::Number(sum.add(term)),
                        _ => Acc::Number(term),
                    };
                    true
                }
                None => false,
            },
            (acc, Rule::Min | Rule::Max) => {
                let better = match acc {
                    Acc::Extreme(current) => match compare(value, current) {
                        Some(std::cmp::Ordering::Less) => rule == Rule::Min,
                        Some(std::cmp::Ordering::Greater) => rule == Rule::Max,
                        _ => false,
                    },
                    _ => true,
                };
                if better {
                    *acc = Acc::Extreme(value.clone());
                }
                better
            }
            (Acc::Distinct(values), Rule::Distinct) => {
                let new = !values.contains(value);
                if new {
                    values.push(value.clone());
                }
                new
            }
            (acc, Rule::Distinct) => {
                *acc = Acc::Distinct(vec![value.clone()]);
                true
            }
        };
        if changed {
            self.changed_by = Some(index);
        }
    }

    fn value(&self, events: &[Event]) -> Option<Value> {
        Some(match &self.acc {
            Acc::Empty => return None,
            Acc::At(i) => super::pointer(&events[*i].value, &self.path)
                .cloned()
                .unwrap_or(Value::Null),
            Acc::Count(n) => Value::from(*n),
            Acc::Number(sum) => sum.value(),
            Acc::Extreme(v) => v.clone(),
            Acc::Distinct(values) => Value::Array(values.clone()),
        })
    }
}

/// A running sum that remembers how many decimals its terms had, so that amounts like 12.34
/// add up to 20612.7 rather than binary residue such as 20612.699999999997.
#[derive(Debug, Clone, Copy)]
struct Sum {
    total: f64,
    integral: bool,
    /// The most decimals any term had; `None` once a term had more than `MAX_DECIMALS`.
    decimals: Option<i32>,
}

const MAX_DECIMALS: i32 = 9;

impl Sum {
    fn of(x: f64, integral: bool) -> Self {
        Self {
            total: x,
            integral,
            decimals: if integral { Some(0) } else { decimals(x) },
        }
    }

    fn add(self, term: Self) -> Self {
        Self {
            total: self.total + term.total,
            integral: self.integral && term.integral,
            decimals: self.decimals.zip(term.decimals).map(|(a, b)| a.max(b)),
        }
    }

    fn value(&self) -> Value {
        if self.integral && self.total.abs() < 9.0e15 {
            return Value::from(self.total as i64);
        }
        match self.decimals {
            Some(d) => {
                let scale = 10f64.powi(d);
                let scaled = self.total * scale;
                if scaled.abs() < 9.0e15 {
                    return Value::from(scaled.round() / scale);
                }
                Value::from(self.total)
            }
            None => Value::from(self.total),
        }
    }
}

/// Decimal places in the shortest form of `x`, up to `MAX_DECIMALS`.
fn decimals(x: f64) -> Option<i32> {
    (0..=MAX_DECIMALS).find(|&d| {
        let scaled = x * 10f64.powi(d);
        scaled.abs() < 9.0e15 && (scaled - scaled.round()).abs() <= 1e-12 * scaled.abs().max(1.0)
    })
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Folds time-ordered `events` (see [`super::sort_timeline`]) into a profile as of `as_of_ms`
/// (event time; `None` for everything).
pub fn fold(spec: &Spec, events: &[Event], as_of_ms: Option<i64>) -> Profile {
    let plan = FoldPlan::new(spec);
    let mut state = plan.start();
    plan.advance(&mut state, events, as_of_ms);
    plan.profile(&state, events, as_of_ms)
}

/// What a fold needs from the spec, worked out once for any number of folds.
struct FoldPlan<'s> {
    spec: &'s Spec,
    by_topic: HashMap<&'s str, Vec<usize>>,
    erase_rules: HashMap<&'s str, &'s super::spec::Condition>,
}

/// A fold part way along a timeline: the first `applied` events are in it. Cloning one keeps
/// a point to resume from when later events arrive out of order.
#[derive(Clone, Default)]
struct FoldState {
    slots: Vec<Slot>,
    dynamic: HashMap<String, usize>,
    erased: Option<Erasure>,
    applied: usize,
}

impl<'s> FoldPlan<'s> {
    fn new(spec: &'s Spec) -> Self {
        let mut by_topic: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, field) in spec.fields.iter().enumerate() {
            by_topic.entry(field.topic.as_str()).or_default().push(i);
        }
        Self {
            spec,
            by_topic,
            erase_rules: erase_rules(spec),
        }
    }

    fn start(&self) -> FoldState {
        FoldState {
            slots: self
                .spec
                .fields
                .iter()
                .map(|f| {
                    Slot::new(
                        f.name.as_str().into(),
                        f.path.as_str().into(),
                        Some(f.rule),
                        f.pii,
                        f.consent.as_deref().map(Arc::from),
                    )
                })
                .collect(),
            dynamic: HashMap::new(),
            erased: None,
            applied: 0,
        }
    }

    /// Folds `events[state.applied..]` in, up to `as_of_ms`. `events` must hold the same
    /// events as when `state` was made up to `state.applied`.
    fn advance(&self, state: &mut FoldState, events: &[Event], as_of_ms: Option<i64>) {
        let schemaless = self.spec.fields.is_empty();
        let slots = &mut state.slots;
        for (index, event) in events.iter().enumerate().skip(state.applied) {
            if as_of_ms.is_some_and(|t| event.event_ms > t) {
                break;
            }
            state.applied += 1;
            if let Some(condition) = self.erase_rules.get(event.topic.as_str())
                && condition.matches(&event.value)
            {
                for slot in slots.iter_mut() {
                    slot.acc = Acc::Empty;
                    slot.changed_by = None;
                }
                state.erased = Some(Erasure {
                    at: Provenance::of(event),
                });
                continue;
            }
            if schemaless {
                if let Value::Object(object) = event.value.as_ref() {
                    for (key, value) in object {
                        let slot = *state.dynamic.entry(key.clone()).or_insert_with(|| {
                            slots.push(Slot::new(
                                key.as_str().into(),
                                format!("/{}", escape(key)).into(),
                                None,
                                false,
                                None,
                            ));
                            slots.len() - 1
                        });
                        slots[slot].apply(index, value);
                    }
                }
                continue;
            }
            if let Some(indices) = self.by_topic.get(event.topic.as_str()) {
                for &slot in indices {
                    if let Some(value) = super::pointer(&event.value, &slots[slot].path) {
                        slots[slot].apply(index, value);
                    }
                }
            }
        }
    }

    /// The field values `state` stands for, without provenance or consent.
    fn values(&self, state: &FoldState, events: &[Event]) -> serde_json::Map<String, Value> {
        state
            .slots
            .iter()
            .filter(|slot| slot.changed_by.is_some())
            .filter_map(|slot| Some((slot.name.to_string(), slot.value(events)?)))
            .collect()
    }

    /// The profile `state` stands for.
    fn profile(&self, state: &FoldState, events: &[Event], as_of_ms: Option<i64>) -> Profile {
        let mut profile = Profile {
            as_of_ms,
            erased: state.erased.clone(),
            events_applied: state.applied,
            ..Profile::default()
        };
        let slots = &state.slots;
        for slot in slots {
            let (Some(value), Some(by)) = (slot.value(events), slot.changed_by) else {
                continue;
            };
            profile.fields.insert(
                slot.name.to_string(),
                FieldValue {
                    value,
                    usable: true,
                    rule: slot.rule,
                    pii: slot.pii,
                    source: Provenance::of(&events[by]),
                },
            );
        }
        let consents: Vec<(String, bool)> = slots
            .iter()
            .filter_map(|s| s.consent.as_ref().map(|c| (s.name.to_string(), c)))
            .map(|(name, consent)| {
                let granted = profile
                    .fields
                    .get(consent.as_ref())
                    .is_some_and(|f| f.value == Value::Bool(true));
                (name, granted)
            })
            .collect();
        for (name, granted) in consents {
            if let Some(field) = profile.fields.get_mut(&name) {
                field.usable = granted;
            }
        }
        profile
    }
}

/// A profile kept current as batches of events arrive, in any order: each batch is merged
/// into the timeline and the fold resumes from the last point before the earliest new event,
/// instead of starting over.
pub struct Refold<'s> {
    plan: FoldPlan<'s>,
    events: Vec<Event>,
    /// The fold after every `CHECKPOINT_EVERY` events, oldest first; the first is the empty
    /// fold. Per batch would not do: a batch that reaches back past the last checkpoint would
    /// throw it away, and the next batch would start over.
    checkpoints: Vec<FoldState>,
    current: FoldState,
}

const CHECKPOINT_EVERY: usize = 256;

impl<'s> Refold<'s> {
    pub fn new(spec: &'s Spec) -> Self {
        let plan = FoldPlan::new(spec);
        let checkpoints = vec![plan.start()];
        Self {
            current: plan.start(),
            plan,
            events: Vec::new(),
            checkpoints,
        }
    }

    /// Adds a batch and answers the field values of everything added so far.
    pub fn add(&mut self, mut batch: Vec<Event>) -> serde_json::Map<String, Value> {
        super::sort_timeline(&mut batch);
        if let Some(head) = batch.first() {
            // A stable sort keeps an equal key after the events already there.
            let first = self
                .events
                .partition_point(|e| e.order_key() <= head.order_key());
            self.events.extend(batch);
            super::sort_timeline(&mut self.events);
            let mut state = if first >= self.current.applied {
                // Everything new sorts after what is folded: carry on from there.
                std::mem::take(&mut self.current)
            } else {
                self.checkpoints.truncate(
                    self.checkpoints
                        .partition_point(|c| c.applied <= first)
                        .max(1),
                );
                self.checkpoints[self.checkpoints.len() - 1].clone()
            };
            let total = self.events.len();
            while state.applied < total {
                let until = ((state.applied / CHECKPOINT_EVERY + 1) * CHECKPOINT_EVERY).min(total);
                self.plan.advance(&mut state, &self.events[..until], None);
                if until.is_multiple_of(CHECKPOINT_EVERY) {
                    self.checkpoints.push(state.clone());
                }
            }
            self.current = state;
        }
        self.plan.values(&self.current, &self.events)
    }

    /// The timeline so far, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }
}

/// Every change of one field along the timeline: (event index, value after it; `None` when
/// cleared by a null or an erasure). What the store comparison walks back through.
pub fn field_changes(spec: &Spec, events: &[Event], name: &str) -> Vec<(usize, Option<Value>)> {
    let (topic, mut slot) = match spec.field(name) {
        Some(f) => (
            Some(f.topic.as_str()),
            Slot::new(
                f.name.as_str().into(),
                f.path.as_str().into(),
                Some(f.rule),
                f.pii,
                None,
            ),
        ),
        None => (
            None,
            Slot::new(
                name.into(),
                format!("/{}", escape(name)).into(),
                None,
                false,
                None,
            ),
        ),
    };
    let erase_rules = erase_rules(spec);
    let mut changes = Vec::new();
    for (index, event) in events.iter().enumerate() {
        if let Some(condition) = erase_rules.get(event.topic.as_str())
            && condition.matches(&event.value)
        {
            if !matches!(slot.acc, Acc::Empty) {
                slot.acc = Acc::Empty;
                changes.push((index, None));
            }
            continue;
        }
        if topic.is_some_and(|t| t != event.topic) {
            continue;
        }
        if let Some(value) = super::pointer(&event.value, &slot.path) {
            slot.changed_by = None;
            slot.apply(index, value);
            if slot.changed_by == Some(index) {
                changes.push((index, slot.value(events)));
            }
        }
    }
    changes
}

/// The erasure condition of each source topic that has one.
fn erase_rules(spec: &Spec) -> HashMap<&str, &super::spec::Condition> {
    spec.sources
        .iter()
        .filter_map(|s| s.erase_when.as_ref().map(|c| (s.topic.as_str(), c)))
        .collect()
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Spec;
    use serde_json::json;

    const SPEC: &str = r#"
[[source]]
topic = "id"
links = ["/device"]
[[source]]
topic = "consent"
erase_when = { path = "/type", equals = "erasure" }
[[source]]
topic = "orders"

[[field]]
name = "email"
topic = "id"
path = "/email"
rule = "last"
pii = true
consent = "marketing"
[[field]]
name = "first_email"
topic = "id"
path = "/email"
rule = "first"
[[field]]
name = "marketing"
topic = "consent"
path = "/marketing"
rule = "last"
[[field]]
name = "orders"
topic = "orders"
path = "/amount"
rule = "count"
[[field]]
name = "spent"
topic = "orders"
path = "/amount"
rule = "sum"
[[field]]
name = "smallest"
topic = "orders"
path = "/amount"
rule = "min"
[[field]]
name = "largest"
topic = "orders"
path = "/amount"
rule = "max"
[[field]]
name = "skus"
topic = "orders"
path = "/sku"
rule = "distinct"
"#;

    fn ev(topic: &str, offset: i64, event_ms: i64, value: Value) -> Event {
        Event {
            topic: topic.into(),
            partition: 0,
            offset,
            broker_ms: event_ms + 5,
            event_ms,
            id: "c-1".into(),
            value: value.into(),
            schema_id: None,
        }
    }

    fn timeline() -> Vec<Event> {
        let mut events = vec![
            ev("id", 0, 100, json!({"email": "a@x.io"})),
            ev("consent", 0, 110, json!({"marketing": true})),
            ev("orders", 0, 120, json!({"amount": 30, "sku": "A"})),
            ev("orders", 1, 130, json!({"amount": 12, "sku": "B"})),
            // Late: event time before the previous order.
            ev("orders", 2, 125, json!({"amount": 50, "sku": "A"})),
            ev("id", 1, 140, json!({"email": "b@x.io"})),
            ev("consent", 1, 150, json!({"marketing": false})),
        ];
        crate::profile::sort_timeline(&mut events);
        events
    }

    #[test]
    fn rules_fold_with_provenance() {
        let spec = Spec::parse(SPEC, "t").unwrap();
        let events = timeline();
        let profile = fold(&spec, &events, None);
        let value = |name: &str| profile.fields[name].value.clone();
        assert_eq!(value("email"), json!("b@x.io"));
        assert_eq!(value("first_email"), json!("a@x.io"));
        assert_eq!(value("orders"), json!(3));
        assert_eq!(value("spent"), json!(92));
        assert_eq!(value("smallest"), json!(12));
        assert_eq!(value("largest"), json!(50));
        assert_eq!(value("skus"), json!(["A", "B"]));
        // The late order (offset 2) sorts before offset 1, so the max came from offset 2 and
        // the count's last change from offset 1.
        assert_eq!(profile.fields["largest"].source.offset, 2);
        assert_eq!(profile.fields["orders"].source.offset, 1);
        assert_eq!(profile.fields["email"].source.event_ms, 140);
        // Consent revoked after it was granted: the email is no longer usable.
        assert!(!profile.fields["email"].usable);
        assert!(profile.fields["email"].pii);
    }

    #[test]
    fn refolding_batches_in_any_order_matches_a_fold_from_scratch() {
        use rand::{Rng, SeedableRng};
        let spec = Spec::parse(SPEC, "t").unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut events: Vec<Event> = (0..2_000)
            .map(|i| {
                let at = rng.random_range(0..10_000);
                match rng.random_range(0..10) {
                    0 => ev("consent", i, at, json!({"type": "erasure"})),
                    1 | 2 => ev("consent", i, at, json!({"marketing": rng.random_bool(0.5)})),
                    3 | 4 => ev("id", i, at, json!({"email": format!("{i}@x.io")})),
                    _ => ev(
                        "orders",
                        i,
                        at,
                        json!({"amount": rng.random_range(1..500) as f64 / 4.0, "sku": i % 7}),
                    ),
                }
            })
            .collect();
        // Batches arrive in broker order, which is not event-time order.
        events.sort_by_key(|e| e.offset);
        let mut refold = Refold::new(&spec);
        let mut seen = Vec::new();
        let mut rest = events.as_slice();
        while !rest.is_empty() {
            let (batch, later) = rest.split_at(rng.random_range(1..=rest.len().min(60)));
            rest = later;
            seen.extend_from_slice(batch);
            let values = refold.add(batch.to_vec());
            let mut timeline = seen.clone();
            crate::profile::sort_timeline(&mut timeline);
            assert_eq!(refold.events(), timeline.as_slice());
            let expected: serde_json::Map<String, Value> = fold(&spec, &timeline, None)
                .fields
                .into_iter()
                .map(|(name, f)| (name, f.value))
                .collect();
            let mut got: Vec<_> = values.into_iter().collect();
            got.sort_by(|a, b| a.0.cmp(&b.0));
            let expected: Vec<_> = expected.into_iter().collect();
            assert_eq!(got, expected, "after {} events", seen.len());
        }
    }

    #[test]
    fn money_sums_keep_their_decimals() {
        let spec = Spec::parse(SPEC, "t").unwrap();
        let amounts = [0.1, 0.2, 12.34, 19.99, 7.05, 0.07, 3.3];
        let events: Vec<Event> = amounts
            .iter()
            .enumerate()
            .map(|(i, a)| ev("orders", i as i64, 100 + i as i64, json!({"amount": a})))
            .collect();
        let naive: f64 = amounts.iter().sum();
        assert_ne!(naive, 43.05, "the binary residue this test is about");
        let profile = fold(&spec, &events, None);
        assert_eq!(profile.fields["spent"].value, json!(43.05));

        // Terms with more decimals than a currency keep them; beyond nine, the raw sum.
        let fine = [
            json!({"amount": 1}),
            json!({"amount": 0.125}),
            json!({"amount": 2.5}),
        ];
        let events: Vec<Event> = fine
            .into_iter()
            .enumerate()
            .map(|(i, v)| ev("orders", i as i64, 100 + i as i64, v))
            .collect();
        assert_eq!(
            fold(&spec, &events, None).fields["spent"].value,
            json!(3.625)
        );
        let third = 1.0 / 3.0;
        let events = vec![
            ev("orders", 0, 100, json!({"amount": third})),
            ev("orders", 1, 101, json!({"amount": 1})),
        ];
        assert_eq!(
            fold(&spec, &events, None).fields["spent"].value,
            json!(third + 1.0)
        );
    }

    #[test]
    fn time_travel_and_consent_as_of() {
        let spec = Spec::parse(SPEC, "t").unwrap();
        let events = timeline();
        let profile = fold(&spec, &events, Some(125));
        assert_eq!(profile.fields["email"].value, json!("a@x.io"));
        assert!(profile.fields["email"].usable, "consent granted at 110");
        assert_eq!(profile.fields["orders"].value, json!(2));
        assert_eq!(profile.events_applied, 4);
        assert!(fold(&spec, &events, Some(0)).fields.is_empty());
    }

    #[test]
    fn null_clears_and_absent_leaves_alone() {
        let spec = Spec::parse(SPEC, "t").unwrap();
        let mut events = timeline();
        events.push(ev("id", 2, 200, json!({"other": 1})));
        assert_eq!(
            fold(&spec, &events, None).fields["email"].value,
            json!("b@x.io")
        );
        events.push(ev("id", 3, 210, json!({"email": null})));
        let profile = fold(&spec, &events, None);
        assert!(!profile.fields.contains_key("email"));
    }

    #[test]
    fn erasure_clears_everything_before_it() {
        let spec = Spec::parse(SPEC, "t").unwrap();
        let mut events = timeline();
        events.push(ev("consent", 2, 300, json!({"type": "erasure"})));
        events.push(ev("orders", 3, 310, json!({"amount": 7, "sku": "Z"})));
        let profile = fold(&spec, &events, None);
        assert_eq!(profile.erased.as_ref().unwrap().at.event_ms, 300);
        assert!(!profile.fields.contains_key("email"));
        assert_eq!(profile.fields["orders"].value, json!(1));
        assert_eq!(profile.fields["skus"].value, json!(["Z"]));
        // Before the erasure, the profile was whole.
        assert!(fold(&spec, &events, Some(299)).erased.is_none());
    }

    #[test]
    fn field_changes_list_every_change_and_clear() {
        let spec = Spec::parse(SPEC, "t").unwrap();
        let mut events = timeline();
        events.push(ev("consent", 2, 300, json!({"type": "erasure"})));
        let changes = field_changes(&spec, &events, "marketing");
        let values: Vec<Option<Value>> = changes.iter().map(|(_, v)| v.clone()).collect();
        assert_eq!(values, vec![Some(json!(true)), Some(json!(false)), None]);
        let firsts = field_changes(&spec, &events, "first_email");
        assert_eq!(firsts.len(), 2, "set once, then cleared by the erasure");
    }

    #[test]
    fn without_fields_top_level_keys_merge_latest_wins() {
        let spec = Spec::schemaless(&["a".into(), "b".into()]);
        let events = vec![
            ev("a", 0, 1, json!({"name": "Ann", "tier": "silver"})),
            ev("b", 0, 2, json!({"tier": "gold", "a/b": 1})),
        ];
        let profile = fold(&spec, &events, None);
        assert_eq!(profile.fields["name"].value, json!("Ann"));
        assert_eq!(profile.fields["tier"].value, json!("gold"));
        assert_eq!(profile.fields["tier"].source.topic, "b");
        assert_eq!(profile.fields["a/b"].value, json!(1));
    }
}
