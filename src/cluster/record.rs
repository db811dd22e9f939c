//! One Kafka record as freshlens keeps it: owned bytes, detached from librdkafka's buffers.

use rdkafka::Message;
use rdkafka::message::{BorrowedMessage, Headers, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampKind {
    CreateTime,
    LogAppendTime,
    NotAvailable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
    pub timestamp_kind: TimestampKind,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Record {
    pub fn from_message(message: &BorrowedMessage<'_>) -> Self {
        let (timestamp_ms, timestamp_kind) = match message.timestamp() {
            Timestamp::NotAvailable => (None, TimestampKind::NotAvailable),
            Timestamp::CreateTime(ms) => (Some(ms), TimestampKind::CreateTime),
            Timestamp::LogAppendTime(ms) => (Some(ms), TimestampKind::LogAppendTime),
        };
        let headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            topic: message.topic().to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            timestamp_ms,
            timestamp_kind,
            key: message.key().map(<[u8]>::to_vec),
            value: message.payload().map(<[u8]>::to_vec),
            headers,
        }
    }

    /// Bytes of key, value and headers: what the scan's byte counters add up.
    pub fn size_bytes(&self) -> usize {
        self.key.as_ref().map_or(0, Vec::len)
            + self.value.as_ref().map_or(0, Vec::len)
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
                .sum::<usize>()
    }
}
