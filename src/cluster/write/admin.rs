//! Deleting what a writing command made: its topics, its groups, and records before an offset
//! (the trial's DeleteRecords probe). Every name is checked against the writer's prefix first.

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::{WriteError, Writer};

impl Writer {
    fn admin(&self) -> Result<(AdminClient<DefaultClientContext>, AdminOptions), WriteError> {
        let admin = self.client().create()?;
        let options = AdminOptions::new()
            .request_timeout(Some(self.connection.timeout))
            .operation_timeout(Some(self.connection.timeout));
        Ok((admin, options))
    }

    /// Deletes `topics`; answers the ones the broker refused, with its reason (a topic that is
    /// already gone is not refused).
    pub fn delete_topics(
        &self,
        topics: &[String],
    ) -> Result<Vec<(String, RDKafkaErrorCode)>, WriteError> {
        for topic in topics {
            self.check_topic(topic)?;
        }
        if topics.is_empty() {
            return Ok(Vec::new());
        }
        let (admin, options) = self.admin()?;
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        let results = futures_executor::block_on(admin.delete_topics(&names, &options))?;
        Ok(results
            .into_iter()
            .filter_map(Result::err)
            .filter(|(_, code)| *code != RDKafkaErrorCode::UnknownTopicOrPartition)
            .collect())
    }

    /// Deletes `groups`; answers the ones the broker refused (a group already gone is not).
    pub fn delete_groups(
        &self,
        groups: &[String],
    ) -> Result<Vec<(String, RDKafkaErrorCode)>, WriteError> {
        for group in groups {
            self.check_group(group)?;
        }
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let (admin, options) = self.admin()?;
        let names: Vec<&str> = groups.iter().map(String::as_str).collect();
        let results = futures_executor::block_on(admin.delete_groups(&names, &options))?;
        Ok(results
            .into_iter()
            .filter_map(Result::err)
            .filter(|(_, code)| *code != RDKafkaErrorCode::GroupIdNotFound)
            .collect())
    }

    /// Deletes the records of `topic`/`partition` before `offset` (DeleteRecords); answers the
    /// new low watermark the broker reports.
    pub fn delete_records(
        &self,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<i64, WriteError> {
        self.check_topic(topic)?;
        let (admin, options) = self.admin()?;
        let mut list = TopicPartitionList::new();
        list.add_partition_offset(topic, partition, Offset::Offset(offset))?;
        let answer = futures_executor::block_on(admin.delete_records(&list, &options))?;
        let element = answer
            .find_partition(topic, partition)
            .ok_or(WriteError::Kafka(rdkafka::error::KafkaError::AdminOp(
                RDKafkaErrorCode::UnknownTopicOrPartition,
            )))?;
        element.error()?;
        Ok(element.offset().to_raw().unwrap_or(-1))
    }
}
