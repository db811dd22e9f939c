//! Consumer-group offsets, read without joining: OffsetFetch through a client that carries the
//! group's id but never subscribes, never commits, and is dropped right after.

use std::collections::HashMap;

use rdkafka::consumer::Consumer as _;
use rdkafka::{Offset, TopicPartitionList};

use super::{Cluster, ClusterError, RecordingContext};

impl Cluster {
    /// The group's committed offset per partition asked for; `None` where it has no commit.
    pub fn committed_offsets(
        &self,
        group: &str,
        partitions: &[(String, i32)],
    ) -> Result<HashMap<(String, i32), Option<i64>>, ClusterError> {
        let mut config = self.config().client_config()?;
        config.set("group.id", group);
        let consumer: rdkafka::consumer::BaseConsumer<RecordingContext> = config
            .create_with_context(RecordingContext::default())
            .map_err(|e| self.explain(e))?;
        let mut request = TopicPartitionList::new();
        for (topic, partition) in partitions {
            request.add_partition(topic, *partition);
        }
        let answer = consumer
            .committed_offsets(request, self.config().timeout)
            .map_err(|e| self.explain(e))?;
        Ok(answer
            .elements()
            .iter()
            .map(|e| {
                let committed = match e.offset() {
                    Offset::Offset(offset) if offset >= 0 => Some(offset),
                    _ => None,
                };
                ((e.topic().to_owned(), e.partition()), committed)
            })
            .collect())
    }
}
