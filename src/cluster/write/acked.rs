//! A producer that reports each record's fate: acknowledged at which offset, or failed, and
//! when. The trial times source-to-store latency from these and checks after a broker restart
//! that every acknowledged record is still there.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use rdkafka::ClientContext;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Message as _, OwnedHeaders};
use rdkafka::producer::{
    BaseRecord, DeliveryResult, Producer as _, ProducerContext, PurgeConfig, ThreadedProducer,
};
use rdkafka::types::RDKafkaErrorCode;

use super::{Outgoing, WriteError, Writer};

/// One record's fate, as librdkafka's delivery report gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// The id the caller sent it with.
    pub id: u64,
    pub topic: String,
    pub partition: i32,
    /// Where the broker put it; `None` when it failed.
    pub offset: Option<i64>,
    pub error: Option<String>,
    /// Dropped by the client itself (`purge`), not refused by the broker.
    pub purged: bool,
    /// Wall-clock time of the report.
    pub at_ms: i64,
}

/// Hands delivery reports to a channel; the sender sits behind a mutex because librdkafka
/// calls back from its own thread and `Sender` is not `Sync` on every toolchain we build with.
pub struct AckContext {
    acks: Mutex<Sender<Ack>>,
}

impl ClientContext for AckContext {}

impl ProducerContext for AckContext {
    type DeliveryOpaque = Box<u64>;

    fn delivery(&self, result: &DeliveryResult<'_>, id: Self::DeliveryOpaque) {
        let ack = match result {
            Ok(message) => Ack {
                id: *id,
                topic: message.topic().to_owned(),
                partition: message.partition(),
                offset: Some(message.offset()),
                error: None,
                purged: false,
                at_ms: crate::time::now_ms(),
            },
            Err((error, message)) => Ack {
                id: *id,
                topic: message.topic().to_owned(),
                partition: message.partition(),
                offset: None,
                error: Some(error.to_string()),
                purged: matches!(
                    error,
                    KafkaError::MessageProduction(
                        RDKafkaErrorCode::PurgeQueue | RDKafkaErrorCode::PurgeInflight
                    )
                ),
                at_ms: crate::time::now_ms(),
            },
        };
        if let Ok(acks) = self.acks.lock() {
            // The receiver gone means nobody waits for reports any more.
            let _ = acks.send(ack);
        }
    }
}

/// A producer under the writer's prefix whose every record is reported on a channel.
pub struct AckedProducer<'w> {
    writer: &'w Writer,
    producer: ThreadedProducer<AckContext>,
}

impl Writer {
    /// A producer with these librdkafka settings on top of the connection's, and the channel
    /// its delivery reports arrive on.
    pub fn acked_producer(
        &self,
        settings: &[(&str, &str)],
    ) -> Result<(AckedProducer<'_>, Receiver<Ack>), WriteError> {
        let mut config = self.client();
        for (key, value) in settings {
            config.set(*key, *value);
        }
        let (tx, rx) = channel();
        let producer = config.create_with_context(AckContext {
            acks: Mutex::new(tx),
        })?;
        Ok((
            AckedProducer {
                writer: self,
                producer,
            },
            rx,
        ))
    }
}

impl AckedProducer<'_> {
    /// Queues `record` (a negative partition lets the partitioner choose) with `headers`,
    /// reported under `id`; waits while librdkafka's queue is full.
    pub fn send(
        &self,
        id: u64,
        record: Outgoing<'_>,
        headers: &[(&str, Option<&[u8]>)],
    ) -> Result<(), WriteError> {
        while !self.try_send(id, record, headers)? {
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    /// Queues `record` as [`send`](Self::send) does, or answers `false` at once when
    /// librdkafka's queue is full (the broker is behind).
    pub fn try_send(
        &self,
        id: u64,
        record: Outgoing<'_>,
        headers: &[(&str, Option<&[u8]>)],
    ) -> Result<bool, WriteError> {
        self.writer.check_topic(record.topic)?;
        let mut owned = OwnedHeaders::new_with_capacity(headers.len());
        for (key, value) in headers {
            owned = owned.insert(Header { key, value: *value });
        }
        let out = record.fill(
            BaseRecord::<[u8], [u8], Box<u64>>::with_opaque_to(record.topic, Box::new(id))
                .headers(owned),
        );
        match self.producer.send(out) {
            Ok(()) => Ok(true),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => Ok(false),
            Err((e, _)) => Err(e.into()),
        }
    }

    /// Waits until every queued record is reported, at most `timeout`.
    pub fn flush(&self, timeout: Duration) -> Result<(), WriteError> {
        Ok(self.producer.flush(timeout)?)
    }

    /// Drops every record still queued or in flight (each reported as failed): a run that is
    /// over stops loading a broker that fell behind.
    pub fn purge(&self) {
        self.producer
            .purge(PurgeConfig::default().queue().inflight());
    }

    /// Records queued and not reported yet.
    pub fn in_flight(&self) -> i32 {
        self.producer.in_flight_count()
    }
}
