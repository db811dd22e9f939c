//! A consumer that joins a group under the writer's prefix and commits what it processed: the
//! trial's builder, and its replay readers. Joining and committing write to the cluster (the
//! group's membership and offsets), so this lives beside the other writes.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
use rdkafka::{Offset, TopicPartitionList};

use super::{WriteError, Writer};
use crate::cluster::Record;

pub struct GroupMember {
    consumer: BaseConsumer,
}

impl Writer {
    /// A member of `group` subscribed to `topics`, reading from the earliest offset where the
    /// group has no commit, committing only when told.
    pub fn join(
        &self,
        group: &str,
        topics: &[String],
        settings: &[(&str, &str)],
    ) -> Result<GroupMember, WriteError> {
        self.check_group(group)?;
        for topic in topics {
            self.check_topic(topic)?;
        }
        let mut config = self.client();
        config
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false");
        for (key, value) in settings {
            config.set(*key, *value);
        }
        let consumer: BaseConsumer = config.create()?;
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer.subscribe(&names)?;
        Ok(GroupMember { consumer })
    }
}

impl GroupMember {
    /// The next record, or `None` when none came within `timeout`.
    pub fn poll(&self, timeout: Duration) -> Option<Result<Record, WriteError>> {
        self.consumer.poll(timeout).map(|m| {
            m.map(|m| Record::from_message(&m))
                .map_err(WriteError::from)
        })
    }

    /// Commits `offsets` (topic, partition, next offset to read), waiting for the answer.
    pub fn commit(&self, offsets: &[(String, i32, i64)]) -> Result<(), WriteError> {
        if offsets.is_empty() {
            return Ok(());
        }
        let mut list = TopicPartitionList::new();
        for (topic, partition, offset) in offsets {
            list.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
        }
        Ok(self.consumer.commit(&list, CommitMode::Sync)?)
    }

    /// The group's committed offsets for what this member is assigned, read back (OffsetFetch).
    pub fn committed(&self, timeout: Duration) -> Result<Vec<(String, i32, i64)>, WriteError> {
        let list = self.consumer.committed(timeout)?;
        Ok(list
            .elements()
            .iter()
            .filter_map(|e| {
                e.offset()
                    .to_raw()
                    .map(|o| (e.topic().to_owned(), e.partition(), o))
            })
            .collect())
    }

    /// How many partitions the group gave this member.
    pub fn assigned(&self) -> usize {
        self.consumer.assignment().map_or(0, |a| a.count())
    }
}
