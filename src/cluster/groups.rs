//! Consumer-group offsets, read without joining: OffsetFetch through a client that carries the
//! group's id but never subscribes and never commits (kept for the next sample).

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
        let consumer = match self.group_clients.take(group) {
            Some(consumer) => consumer,
            None => {
                let mut config = self.config().client_config()?;
                config.set("group.id", group);
                config
                    .create_with_context(RecordingContext::default())
                    .map_err(|e| self.explain(e))?
            }
        };
        let mut request = TopicPartitionList::new();
        for (topic, partition) in partitions {
            request.add_partition(topic, *partition);
        }
        let answer = consumer
            .committed_offsets(request, self.config().timeout)
            .map_err(|e| self.explain(e))?;
        self.group_clients.put(group, consumer);
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

/// A consumer group as the broker describes it (DescribeGroups through librdkafka).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupInfo {
    pub name: String,
    pub state: String,
    pub protocol_type: String,
    pub protocol: String,
    pub members: Vec<GroupMember>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupMember {
    pub id: String,
    pub client_id: String,
    pub host: String,
    /// Topic and partitions assigned to this member, for `consumer` groups.
    pub assignment: Vec<(String, Vec<i32>)>,
}

impl GroupInfo {
    /// Topics the group's members are assigned, sorted.
    pub fn assigned_topics(&self) -> Vec<String> {
        let mut topics: Vec<String> = self
            .members
            .iter()
            .flat_map(|m| m.assignment.iter().map(|(t, _)| t.clone()))
            .collect();
        topics.sort();
        topics.dedup();
        topics
    }
}

impl Cluster {
    /// Every consumer group the cluster knows, sorted by name.
    pub fn groups(&self) -> Result<Vec<GroupInfo>, ClusterError> {
        let list = self
            .consumer()
            .fetch_group_list(None, self.config().timeout)
            .map_err(|e| self.explain(e))?;
        let mut groups: Vec<GroupInfo> = list.groups().iter().map(group_info).collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(groups)
    }

    /// One group; a group the cluster does not know is an error.
    pub fn group(&self, name: &str) -> Result<GroupInfo, ClusterError> {
        let list = self
            .consumer()
            .fetch_group_list(Some(name), self.config().timeout)
            .map_err(|e| self.explain(e))?;
        let group = list
            .groups()
            .iter()
            .map(group_info)
            .find(|g| g.name == name);
        match group {
            Some(group) if group.state != "Dead" => Ok(group),
            // Brokers describe an unknown group as Dead with no members, but a group that only
            // has committed offsets is Empty; Dead with offsets still counts as known below.
            _ => Err(ClusterError::UnknownGroup(name.to_owned())),
        }
    }

    /// The timestamp of the record at each (partition, offset) of `topic`: the next record a
    /// group will read. `None` where no record is there any more (retention, compaction) or yet.
    pub fn timestamps_at(
        &self,
        topic: &str,
        positions: &[(i32, i64)],
    ) -> Result<HashMap<i32, Option<i64>>, ClusterError> {
        let mut answers: HashMap<i32, Option<i64>> =
            positions.iter().map(|(p, _)| (*p, None)).collect();
        if positions.is_empty() {
            return Ok(answers);
        }
        let consumer = self.take_reader(topic)?;
        let mut assignment = TopicPartitionList::new();
        for (partition, offset) in positions {
            assignment
                .add_partition_offset(topic, *partition, Offset::Offset(*offset))
                .map_err(|e| self.explain(e))?;
        }
        consumer.assign(&assignment).map_err(|e| self.explain(e))?;
        let wanted: HashMap<i32, i64> = positions.iter().copied().collect();
        let mut pending: std::collections::HashSet<i32> = wanted.keys().copied().collect();
        let deadline = std::time::Instant::now() + self.config().timeout;
        while !pending.is_empty() && std::time::Instant::now() < deadline {
            match consumer.poll(std::time::Duration::from_millis(100)) {
                Some(Ok(message)) => {
                    use rdkafka::Message as _;
                    let partition = message.partition();
                    // A later record than asked for means the one at the offset is gone
                    // (compaction, a transaction marker): its time stays unknown.
                    if pending.remove(&partition)
                        && wanted.get(&partition) == Some(&message.offset())
                    {
                        answers.insert(partition, message.timestamp().to_millis());
                    }
                }
                Some(Err(rdkafka::error::KafkaError::PartitionEOF(partition))) => {
                    pending.remove(&partition);
                }
                Some(Err(_)) | None => {}
            }
        }
        self.give_back_reader(topic, consumer);
        Ok(answers)
    }
}

fn group_info(group: &rdkafka::groups::GroupInfo) -> GroupInfo {
    GroupInfo {
        name: group.name().to_owned(),
        state: group.state().to_owned(),
        protocol_type: group.protocol_type().to_owned(),
        protocol: group.protocol().to_owned(),
        members: group
            .members()
            .iter()
            .map(|m| GroupMember {
                id: m.id().to_owned(),
                client_id: m.client_id().to_owned(),
                host: m.client_host().to_owned(),
                assignment: if group.protocol_type() == "consumer" {
                    m.assignment()
                        .and_then(|a| decode_assignment(a).ok())
                        .unwrap_or_default()
                } else {
                    Vec::new()
                },
            })
            .collect(),
    }
}

/// Decodes Kafka's ConsumerProtocolAssignment (versions 0 to 3): an i16 version, then an array
/// of (topic string, array of i32 partitions), then user data this reader ignores.
pub fn decode_assignment(bytes: &[u8]) -> Result<Vec<(String, Vec<i32>)>, String> {
    let mut reader = Reader(bytes);
    let _version = reader.i16()?;
    let topics = reader.array_len()?;
    let mut out = Vec::with_capacity(topics.min(1024));
    for _ in 0..topics {
        let topic = reader.string()?;
        let count = reader.array_len()?;
        let mut partitions = Vec::with_capacity(count.min(4096));
        for _ in 0..count {
            partitions.push(reader.i32()?);
        }
        out.push((topic, partitions));
    }
    Ok(out)
}

/// A bounds-checked big-endian reader for Kafka's binary formats.
pub(crate) struct Reader<'a>(pub &'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        if self.0.len() < n {
            return Err(format!(
                "truncated: wanted {n} bytes, {} left",
                self.0.len()
            ));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    pub fn i16(&mut self) -> Result<i16, String> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    pub fn i32(&mut self) -> Result<i32, String> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn i64(&mut self) -> Result<i64, String> {
        let b = self.take(8)?;
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(b);
        Ok(i64::from_be_bytes(bytes))
    }

    pub fn array_len(&mut self) -> Result<usize, String> {
        let n = self.i32()?;
        usize::try_from(n.max(0)).map_err(|_| "bad array length".to_owned())
    }

    pub fn string(&mut self) -> Result<String, String> {
        let n = self.i16()?;
        if n < 0 {
            return Ok(String::new());
        }
        let bytes = self.take(n as usize)?;
        String::from_utf8(bytes.to_vec()).map_err(|e| format!("not UTF-8: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assignment_bytes() -> Vec<u8> {
        let mut b = vec![0, 1]; // version 1
        b.extend(2i32.to_be_bytes());
        for (topic, partitions) in [("orders", vec![0i32, 3]), ("clicks", vec![7])] {
            b.extend((topic.len() as i16).to_be_bytes());
            b.extend(topic.as_bytes());
            b.extend((partitions.len() as i32).to_be_bytes());
            for p in partitions {
                b.extend(p.to_be_bytes());
            }
        }
        b.extend((-1i32).to_be_bytes()); // null user data
        b
    }

    #[test]
    fn decodes_consumer_protocol_assignments() {
        assert_eq!(
            decode_assignment(&assignment_bytes()).unwrap(),
            vec![
                ("orders".to_owned(), vec![0, 3]),
                ("clicks".to_owned(), vec![7])
            ]
        );
    }

    #[test]
    fn truncated_assignments_are_errors() {
        let bytes = assignment_bytes();
        for cut in [0, 1, 5, 9, 14] {
            assert!(decode_assignment(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        // A huge claimed length must not allocate or panic.
        let mut evil = vec![0, 0];
        evil.extend(i32::MAX.to_be_bytes());
        assert!(decode_assignment(&evil).is_err());
    }
}
