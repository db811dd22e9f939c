//! A generated source event with its place in the log (topic, partition, offset), as the
//! builder consumes it and the capture records it.

use super::workload::SourceEvent;
use crate::profile::Event;

/// A source event with its place in the log.
#[derive(Debug, Clone)]
pub struct Placed {
    pub event: SourceEvent,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

impl Placed {
    pub(super) fn to_event(&self) -> Event {
        Event {
            topic: self.topic.clone(),
            partition: self.partition,
            offset: self.offset,
            broker_ms: self.event.broker_ms,
            event_ms: self.event.event_ms,
            id: self.event.key.clone(),
            value: self.event.value.clone(),
            schema_id: self.event.schema_id,
        }
    }
}
