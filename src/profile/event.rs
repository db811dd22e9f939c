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
