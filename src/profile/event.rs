//! A source event on a customer's timeline: a decoded record plus its event time and the identity
//! it was keyed by.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Broker (record) timestamp.
    #[serde(rename = "timestamp_ms")]
    pub broker_ms: i64,
    #[serde(rename = "event_time_ms")]
    pub event_ms: i64,
    /// The identity this event was keyed by.
    pub id: String,
    /// Shared: the UI streams events while a lookup runs, and a copy must not copy payloads.
    pub value: Arc<Value>,
    /// The schema id of a registry-framed payload (`avro`, `protobuf`, `json-schema`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_id: Option<u32>,
}

impl Event {
    /// Timeline order: event time, then broker time, topic, offset.
    pub fn order_key(&self) -> (i64, i64, &str, i64) {
        (
            self.event_ms,
            self.broker_ms,
            self.topic.as_str(),
            self.offset,
        )
    }
}

pub fn sort_timeline(events: &mut [Event]) {
    events.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
}

/// Adds a batch to a timeline already in order: the batch is sorted and merged in, so a
/// timeline streamed in many batches is never sorted whole again.
pub fn merge_into_timeline(timeline: &mut Vec<Event>, mut batch: Vec<Event>) {
    sort_timeline(&mut batch);
    if timeline
        .last()
        .zip(batch.first())
        .is_none_or(|(last, first)| last.order_key() <= first.order_key())
    {
        timeline.extend(batch);
        return;
    }
    let old = std::mem::take(timeline);
    timeline.reserve(old.len() + batch.len());
    let (mut a, mut b) = (old.into_iter().peekable(), batch.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x.order_key() <= y.order_key() => a.next(),
            (Some(_), Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (None, None) => break,
        };
        timeline.extend(next);
    }
}

/// Reads an event time from a JSON value: epoch milliseconds, or an RFC 3339 string.
pub fn parse_event_time(value: &Value) -> Option<i64> {
    let ms = match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => {
            if let Ok(ms) = s.parse::<i64>() {
                return Some(ms).filter(|ms| crate::time::plausible_ms(*ms));
            }
            chrono::DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.timestamp_millis())
        }
        _ => None,
    };
    ms.filter(|ms| crate::time::plausible_ms(*ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merging_batches_keeps_the_timeline_in_order() {
        let event = |ms: i64, offset: i64| Event {
            topic: "t".into(),
            partition: 0,
            offset,
            broker_ms: ms,
            event_ms: ms,
            id: "k".into(),
            value: json!({}).into(),
            schema_id: None,
        };
        let mut timeline = Vec::new();
        let mut all = Vec::new();
        for batch in [vec![5, 1, 9], vec![3, 10], vec![11, 12], vec![0, 7]] {
            let events: Vec<Event> = batch.iter().map(|ms| event(*ms, *ms)).collect();
            all.extend(events.clone());
            merge_into_timeline(&mut timeline, events);
        }
        sort_timeline(&mut all);
        assert_eq!(timeline, all);
    }

    #[test]
    fn event_times_from_numbers_and_rfc3339() {
        assert_eq!(
            parse_event_time(&json!(1_700_000_000_000i64)),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            parse_event_time(&json!("1700000000000")),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            parse_event_time(&json!("2023-11-14T22:13:20Z")),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            parse_event_time(&json!("2023-11-14T22:13:20.250Z")),
            Some(1_700_000_000_250)
        );
        assert_eq!(
            parse_event_time(&json!("2023-11-15T00:13:20+02:00")),
            Some(1_700_000_000_000)
        );
        assert_eq!(parse_event_time(&json!("yesterday")), None);
        assert_eq!(parse_event_time(&json!("not-a-date")), None);
        assert_eq!(parse_event_time(&json!("9999-99-99T99:99:99Z")), None);
        assert_eq!(parse_event_time(&json!(i64::MAX)), None, "beyond year 9999");
        assert_eq!(parse_event_time(&json!(-5)), None, "before 1970");
        assert_eq!(parse_event_time(&json!(null)), None);
    }
}
