//! Raw reads the trial's compatibility probes compare with Apache Kafka's documented answers:
//! ListOffsets latest exactly as the broker answers it (no raising to the fetch's high
//! watermark, which `watermarks` does for every view), ListOffsets by time, the last stable
//! offset, and a partition read whole at either isolation level. Read-only clients.

use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer as _;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::{ClusterError, ConnectionConfig, Consumer, Record, RecordingContext};

/// A read-only client; `read_committed` reads and lists as a transactional reader does.
fn client(config: &ConnectionConfig, read_committed: bool) -> Result<Consumer, ClusterError> {
    let mut client = config.client_config()?;
    client.set(
        "isolation.level",
        if read_committed {
            "read_committed"
        } else {
            "read_uncommitted"
        },
    );
    client
        .create_with_context(RecordingContext::default())
        .map_err(|e| ClusterError::Kafka(config.redact(&e.to_string())))
}

fn kafka(config: &ConnectionConfig, e: KafkaError) -> ClusterError {
    ClusterError::Kafka(config.redact(&e.to_string()))
}

/// (low, high) as ListOffsets answers them; at `read_committed` the high one is the last
/// stable offset.
pub fn list_offsets(
    config: &ConnectionConfig,
    topic: &str,
    partition: i32,
    read_committed: bool,
) -> Result<(i64, i64), ClusterError> {
    client(config, read_committed)?
        .fetch_watermarks(topic, partition, config.timeout)
        .map_err(|e| kafka(config, e))
}

/// The first offset whose timestamp is at or after `timestamp_ms` (ListOffsets by time);
/// `None` when the broker answers that none is.
pub fn offset_for_time(
    config: &ConnectionConfig,
    topic: &str,
    partition: i32,
    timestamp_ms: i64,
) -> Result<Option<i64>, ClusterError> {
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, partition, Offset::Offset(timestamp_ms))
        .map_err(|e| kafka(config, e))?;
    let answer = client(config, false)?
        .offsets_for_times(list, config.timeout)
        .map_err(|e| kafka(config, e))?;
    let element = answer
        .find_partition(topic, partition)
        .ok_or_else(|| ClusterError::UnknownTopic(topic.to_owned()))?;
    element.error().map_err(|e| kafka(config, e))?;
    Ok(match element.offset() {
        Offset::Offset(o) => Some(o),
        _ => None,
    })
}

/// Every record of `topic`/`partition` from `from` until the partition's end (or `limit`
/// records, or the timeout); at `read_committed` as a transactional reader sees them.
pub fn read_partition(
    config: &ConnectionConfig,
    topic: &str,
    partition: i32,
    from: i64,
    limit: usize,
    read_committed: bool,
) -> Result<Vec<Record>, ClusterError> {
    let consumer = client(config, read_committed)?;
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, partition, Offset::Offset(from))
        .map_err(|e| kafka(config, e))?;
    consumer.assign(&list).map_err(|e| kafka(config, e))?;
    let deadline = Instant::now() + config.timeout;
    let mut records = Vec::new();
    while records.len() < limit && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Ok(message)) => records.push(Record::from_message(&message)),
            Some(Err(KafkaError::PartitionEOF(_))) => break,
            Some(Err(KafkaError::MessageConsumption(RDKafkaErrorCode::OffsetOutOfRange))) => {
                break;
            }
            Some(Err(e)) => return Err(kafka(config, e)),
        }
    }
    Ok(records)
}
