//! Why a rebuilt field differs from what the store serves, in three classes:
//! - `store behind`: the store lacks retained events: it equals the fold of the events the
//!   builder has consumed, or (by the field's rule) reflects fewer of the retained events than a
//!   rebuild does (a lower count, a sum short of retained terms, an earlier retained value);
//! - `store ahead`: the store reflects events no longer retained, so a rebuild would regress
//!   it: a count above the rebuilt one, a sum past it in the direction of the terms, a distinct
//!   set holding more, an extreme beyond every retained value, or a value where nothing retained
//!   sets the field;
//! - `different`: neither (a builder bug, a tampered store, a spec the builder does not follow).

use serde::Serialize;
use serde_json::Value;

use crate::profile::{Rule, same_value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    StoreAhead,
    StoreBehind,
    Different,
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Class::StoreAhead => "store ahead",
            Class::StoreBehind => "store behind",
            Class::Different => "different",
        })
    }
}

/// What is known of one field of one customer.
pub struct Evidence<'a> {
    pub rule: Rule,
    /// The fold of every retained event.
    pub rebuilt: Option<&'a Value>,
    /// The fold of the retained events the builder has consumed.
    pub consumed: Option<&'a Value>,
    pub served: Option<&'a Value>,
    /// Every non-null value the retained events set the field to, in time order.
    pub retained: &'a [Value],
}

fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => same_value(a, b),
        _ => false,
    }
}

fn number(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

/// `None` when the store serves what a rebuild gives.
pub fn classify(e: &Evidence<'_>) -> Option<Class> {
    if same(e.rebuilt, e.served) {
        return None;
    }
    if same(e.consumed, e.served) {
        return Some(Class::StoreBehind);
    }
    let Some(served) = e.served else {
        // The store lacks a value retained events set.
        return Some(Class::StoreBehind);
    };
    if e.retained.is_empty() && e.rebuilt.is_none() {
        // Nothing retained sets the field, yet the store has it: from history now gone.
        return Some(Class::StoreAhead);
    }
    let among_retained = e.retained.iter().any(|v| same_value(v, served));
    let class = match e.rule {
        Rule::Count => match (number(Some(served)), number(e.rebuilt).or(Some(0.0))) {
            (Some(s), Some(r)) if s > r => Class::StoreAhead,
            (Some(s), Some(_)) if s >= 0.0 => Class::StoreBehind,
            _ => Class::Different,
        },
        Rule::Sum => {
            let terms: Vec<f64> = e.retained.iter().filter_map(Value::as_f64).collect();
            let positive = terms.iter().all(|t| *t >= 0.0);
            let negative = terms.iter().all(|t| *t <= 0.0);
            match (number(Some(served)), number(e.rebuilt).or(Some(0.0))) {
                (Some(s), Some(r)) if (positive && s > r) || (negative && s < r) => {
                    Class::StoreAhead
                }
                (Some(s), Some(r)) if (positive && s < r) || (negative && s > r) => {
                    Class::StoreBehind
                }
                _ => Class::Different,
            }
        }
        Rule::Distinct => {
            let set = |v: Option<&Value>| v.and_then(Value::as_array).cloned().unwrap_or_default();
            let (s, r) = (set(Some(served)), set(e.rebuilt));
            let contains = |big: &[Value], small: &[Value]| {
                small.iter().all(|x| big.iter().any(|y| same_value(x, y)))
            };
            if s.len() > r.len() && contains(&s, &r) {
                Class::StoreAhead
            } else if s.len() < r.len() && contains(&r, &s) {
                Class::StoreBehind
            } else {
                Class::Different
            }
        }
        Rule::Min | Rule::Max => {
            let beyond = match (number(Some(served)), number(e.rebuilt)) {
                (Some(s), Some(r)) => {
                    (e.rule == Rule::Min && s < r) || (e.rule == Rule::Max && s > r)
                }
                _ => false,
            };
            if beyond && !among_retained {
                Class::StoreAhead
            } else if among_retained {
                Class::StoreBehind
            } else {
                Class::Different
            }
        }
        // An earlier retained value: the builder stopped short. A value nothing retained
        // carries, where retained events do set the field: not from lost history.
        Rule::Last => {
            if among_retained {
                Class::StoreBehind
            } else {
                Class::Different
            }
        }
        // The first value kept by the store, if no retained event carries it, came from
        // history now gone.
        Rule::First => {
            if among_retained {
                Class::Different
            } else {
                Class::StoreAhead
            }
        }
    };
    Some(class)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn judge(
        rule: Rule,
        rebuilt: Value,
        consumed: Value,
        served: Value,
        retained: &[Value],
    ) -> Option<Class> {
        let opt = |v: &Value| (!v.is_null()).then_some(v.clone());
        let (r, c, s) = (opt(&rebuilt), opt(&consumed), opt(&served));
        classify(&Evidence {
            rule,
            rebuilt: r.as_ref(),
            consumed: c.as_ref(),
            served: s.as_ref(),
            retained,
        })
    }

    #[test]
    fn a_count_above_the_retained_events_is_the_store_ahead() {
        let three = [json!("o1"), json!("o2"), json!("o3")];
        assert_eq!(
            judge(Rule::Count, json!(3), json!(3), json!(3), &three),
            None
        );
        assert_eq!(
            judge(Rule::Count, json!(3), json!(3), json!(5), &three),
            Some(Class::StoreAhead)
        );
        assert_eq!(
            judge(Rule::Count, json!(3), json!(2), json!(2), &three),
            Some(Class::StoreBehind)
        );
        // Below what the builder consumed: it dropped some.
        assert_eq!(
            judge(Rule::Count, json!(3), json!(3), json!(1), &three),
            Some(Class::StoreBehind)
        );
        assert_eq!(
            judge(Rule::Count, json!(3), json!(3), json!("x"), &three),
            Some(Class::Different)
        );
    }

    #[test]
    fn a_sum_is_ahead_past_the_rebuild_in_the_direction_of_its_terms() {
        let terms = [json!(10.5), json!(20)];
        assert_eq!(
            judge(Rule::Sum, json!(30.5), json!(30.5), json!(80.5), &terms),
            Some(Class::StoreAhead)
        );
        assert_eq!(
            judge(Rule::Sum, json!(30.5), json!(30.5), json!(10.5), &terms),
            Some(Class::StoreBehind)
        );
        let mixed = [json!(10), json!(-20)];
        assert_eq!(
            judge(Rule::Sum, json!(-10), json!(-10), json!(5), &mixed),
            Some(Class::Different)
        );
    }

    #[test]
    fn last_and_first_tell_an_old_value_from_a_foreign_one() {
        let values = [json!("FR"), json!("DE")];
        assert_eq!(
            judge(Rule::Last, json!("DE"), json!("DE"), json!("FR"), &values),
            Some(Class::StoreBehind)
        );
        assert_eq!(
            judge(Rule::Last, json!("DE"), json!("DE"), json!("ZZ"), &values),
            Some(Class::Different)
        );
        assert_eq!(
            judge(Rule::Last, json!(null), json!(null), json!("ZZ"), &[]),
            Some(Class::StoreAhead)
        );
        assert_eq!(
            judge(Rule::First, json!("FR"), json!("FR"), json!("US"), &values),
            Some(Class::StoreAhead)
        );
        assert_eq!(
            judge(Rule::First, json!("FR"), json!("FR"), json!("DE"), &values),
            Some(Class::Different)
        );
    }

    #[test]
    fn distinct_sets_and_extremes() {
        let r = json!(["a", "b"]);
        assert_eq!(
            judge(
                Rule::Distinct,
                r.clone(),
                r.clone(),
                json!(["a", "b", "z"]),
                &[]
            ),
            Some(Class::StoreAhead)
        );
        assert_eq!(
            judge(
                Rule::Distinct,
                r.clone(),
                r.clone(),
                json!(["a"]),
                &[json!("a"), json!("b")]
            ),
            Some(Class::StoreBehind)
        );
        assert_eq!(
            judge(Rule::Distinct, r.clone(), r, json!(["a", "z"]), &[]),
            Some(Class::Different)
        );
        let seen = [json!(5), json!(9)];
        assert_eq!(
            judge(Rule::Max, json!(9), json!(9), json!(12), &seen),
            Some(Class::StoreAhead)
        );
        assert_eq!(
            judge(Rule::Max, json!(9), json!(9), json!(5), &seen),
            Some(Class::StoreBehind)
        );
        assert_eq!(
            judge(Rule::Min, json!(5), json!(5), json!(7), &seen),
            Some(Class::Different)
        );
    }
}
