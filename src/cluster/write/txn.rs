//! A transactional producer under the writer's prefix, for the trial's transaction probes:
//! records committed and aborted as a pipeline that writes exactly once does.

use std::time::Duration;

use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};

use super::{Outgoing, WriteError, Writer};

pub struct TxnProducer<'w> {
    writer: &'w Writer,
    producer: BaseProducer,
    timeout: Duration,
}

impl Writer {
    /// A producer with `transactional.id` = `id` (under the prefix), its transactions
    /// initialised (InitProducerId).
    pub fn transactional(&self, id: &str) -> Result<TxnProducer<'_>, WriteError> {
        self.check_group(id)?;
        let producer: BaseProducer = self
            .client()
            .set("transactional.id", id)
            .set("transaction.timeout.ms", "60000")
            .create()?;
        let timeout = self.connection.timeout;
        producer.init_transactions(timeout)?;
        Ok(TxnProducer {
            writer: self,
            producer,
            timeout,
        })
    }
}

impl TxnProducer<'_> {
    pub fn begin(&self) -> Result<(), WriteError> {
        Ok(self.producer.begin_transaction()?)
    }

    /// Queues `record` in the open transaction and waits for it to be sent.
    pub fn send(&self, record: Outgoing<'_>) -> Result<(), WriteError> {
        self.writer.check_topic(record.topic)?;
        let out = record.fill(BaseRecord::<[u8], [u8]>::to(record.topic));
        self.producer.send(out).map_err(|(e, _)| e)?;
        Ok(self.producer.flush(self.timeout)?)
    }

    pub fn commit(&self) -> Result<(), WriteError> {
        Ok(self.producer.commit_transaction(self.timeout)?)
    }

    pub fn abort(&self) -> Result<(), WriteError> {
        Ok(self.producer.abort_transaction(self.timeout)?)
    }
}
