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

    /// The record at each (topic, partition, offset): its timestamp (`None` where no record is
    /// there any more, by retention or compaction, or yet) and the high watermark the fetch
    /// response carried, which some brokers report higher than ListOffsets does (Tansu). One
    /// client reads every topic at once; a partition asked for at several offsets is read in
    /// several rounds.
    pub fn records_at(
        &self,
        positions: &[(String, i32, i64)],
    ) -> Result<HashMap<(String, i32, i64), RecordAt>, ClusterError> {
        let mut answers: HashMap<(String, i32, i64), RecordAt> = positions
            .iter()
            .map(|p| (p.clone(), RecordAt::default()))
            .collect();
        let mut rounds: Vec<HashMap<(String, i32), i64>> = Vec::new();
        for (topic, partition, offset) in answers.keys() {
            let key = (topic.clone(), *partition);
            match rounds.iter_mut().find(|r| !r.contains_key(&key)) {
                Some(round) => {
                    round.insert(key, *offset);
                }
                None => rounds.push(HashMap::from([(key, *offset)])),
            }
        }
        if rounds.is_empty() {
            return Ok(answers);
        }
        // Clients are kept by what they read: the same set of topics next time reuses this one.
        let mut topics: Vec<&str> = positions.iter().map(|p| p.0.as_str()).collect();
        topics.sort_unstable();
        topics.dedup();
        let pool_key = topics.join("\u{0}");
        // Each partition's low and listed high, to start inside a broker's last batch and to
        // step back no further than the low watermark (see `watermarks`).
        let mut pairs: Vec<(String, i32)> = positions.iter().map(|p| (p.0.clone(), p.1)).collect();
        pairs.sort_unstable();
        pairs.dedup();
        let lows = self.list_offsets(&pairs, Offset::Beginning)?;
        let listed = self.list_offsets(&pairs, Offset::End)?;
        let bounds: Bounds = pairs
            .into_iter()
            .map(|key| {
                let low = lows.get(&key).copied().unwrap_or(0);
                let high = listed.get(&key).copied().unwrap_or(i64::MAX);
                (key, (low, high))
            })
            .collect();
        let consumer = self.take_reader(&pool_key)?;
        for round in rounds {
            let started = std::time::Instant::now();
            let found = self.read_round(&consumer, &round, &bounds)?;
            log::debug!("read {} positions in {:?}", round.len(), started.elapsed());
            for ((topic, partition), (timestamp_ms, high)) in found {
                let offset = round[&(topic.clone(), partition)];
                answers.insert((topic, partition, offset), RecordAt { timestamp_ms, high });
            }
        }
        self.give_back_reader(&pool_key, consumer);
        Ok(answers)
    }

    /// Reads the record at each position (one per partition): its timestamp and the fetch's
    /// high watermark.
    #[allow(clippy::type_complexity)]
    fn read_round(
        &self,
        consumer: &super::Consumer,
        round: &HashMap<(String, i32), i64>,
        bounds: &Bounds,
    ) -> Result<HashMap<(String, i32), (Option<i64>, Option<i64>)>, ClusterError> {
        let mut assignment = TopicPartitionList::new();
        let mut asked: HashMap<(String, i32), i64> = HashMap::new();
        for ((topic, partition), offset) in round {
            let key = (topic.clone(), *partition);
            let (low, listed) = bounds.get(&key).copied().unwrap_or((0, i64::MAX));
            let at = super::watermarks::probe_start(*offset, low, listed);
            asked.insert(key, at);
            assignment
                .add_partition_offset(topic, *partition, Offset::Offset(at))
                .map_err(|e| self.explain(e))?;
        }
        let mut covered: std::collections::HashSet<(String, i32)> = Default::default();
        let names: HashMap<(String, i32), std::ffi::CString> = round
            .keys()
            .filter_map(|k| Some((k.clone(), std::ffi::CString::new(k.0.as_str()).ok()?)))
            .collect();
        let high_of = |key: &(String, i32)| {
            names
                .get(key)
                .and_then(|name| super::watermarks::cached_high_watermark(consumer, name, key.1))
        };
        // A kept client remembers the high watermarks of its last read: one only counts as
        // this fetch's answer once it changed, or a record came.
        let before: HashMap<(String, i32), Option<i64>> =
            round.keys().map(|k| (k.clone(), high_of(k))).collect();
        consumer.assign(&assignment).map_err(|e| self.explain(e))?;
        let mut paused = TopicPartitionList::new();
        let mut found: HashMap<(String, i32), (Option<i64>, Option<i64>)> = HashMap::new();
        let mut pending: std::collections::HashSet<(String, i32)> = round.keys().cloned().collect();
        let deadline = std::time::Instant::now() + self.config().timeout;
        // A position past the end fails its fetch (auto.offset.reset is "error") with an error
        // that names no partition: once one came, the rest get a moment, not the timeout.
        let mut failed_at: Option<std::time::Instant> = None;
        // When each partition last brought a record (or its fetch first answered): one silent
        // for a moment after answering has nothing at or past the offset to give.
        let mut heard: HashMap<(String, i32), std::time::Instant> = HashMap::new();
        while !pending.is_empty()
            && std::time::Instant::now() < deadline
            && failed_at.is_none_or(|at| at.elapsed() < std::time::Duration::from_millis(500))
        {
            // Everything already fetched is taken in before the partitions are looked at again:
            // reaching an offset deep in a batch means passing every record before it.
            let mut polled = consumer.poll(std::time::Duration::from_millis(50));
            while let Some(result) = polled.take() {
                match result {
                    Err(rdkafka::error::KafkaError::PartitionEOF(_)) => {}
                    Err(_) => {
                        failed_at.get_or_insert_with(std::time::Instant::now);
                    }
                    Ok(message) => {
                        use rdkafka::Message as _;
                        let key = (message.topic().to_owned(), message.partition());
                        heard.insert(key.clone(), std::time::Instant::now());
                        let wanted = round.get(&key).copied().unwrap_or(i64::MAX);
                        // Past the offset at first: its batch began before where the fetch
                        // was asked (a broker serving whole batches only); ask again from
                        // further back.
                        let back = (!covered.contains(&key)
                            && message.offset() > wanted
                            && self.lists_low())
                        .then(|| {
                            let low = bounds.get(&key).map_or(0, |b| b.0);
                            asked.get(&key).and_then(|at| {
                                super::watermarks::step_back(wanted, *at, message.offset(), low)
                            })
                        })
                        .flatten()
                        .filter(|back| {
                            consumer
                                .seek(&key.0, key.1, Offset::Offset(*back), self.config().timeout)
                                .is_ok()
                        });
                        if let Some(back) = back {
                            log::trace!(
                                "{key:?}: {wanted} came at {}, from {back}",
                                message.offset()
                            );
                            asked.insert(key, back);
                        } else {
                            covered.insert(key.clone());
                            // A later record than asked for means the one at the offset is
                            // gone (compaction, a transaction marker): its time stays unknown.
                            if message.offset() >= wanted && pending.remove(&key) {
                                let ts = (message.offset() == wanted)
                                    .then(|| message.timestamp().to_millis())
                                    .flatten();
                                // Found: no more of it is fetched while the rest are read.
                                let mut one = TopicPartitionList::new();
                                one.add_partition(&key.0, key.1);
                                if consumer.pause(&one).is_ok() {
                                    paused.add_partition(&key.0, key.1);
                                }
                                found.insert(key, (ts, None));
                            }
                        }
                    }
                }
                if pending.is_empty() || std::time::Instant::now() >= deadline {
                    break;
                }
                polled = consumer.poll(std::time::Duration::ZERO);
            }
            // Nothing at or past the offset: the fetch response's high watermark says so
            // (end-of-partition events name no topic, so they cannot tell topics apart). A
            // partition whose fetch answered but that has been silent for a moment has no
            // record there: its time stays unknown.
            let now = std::time::Instant::now();
            pending.retain(|key| {
                let high = high_of(key);
                let answered = heard.contains_key(key) || high != before[key];
                match high {
                    Some(high) if answered && high <= round[key] => false,
                    Some(_) if answered => {
                        let since = heard.entry(key.clone()).or_insert(now);
                        now.duration_since(*since) < std::time::Duration::from_millis(500)
                    }
                    _ => true,
                }
            });
        }
        if !pending.is_empty() {
            log::debug!(
                "no record or end seen in time for {:?}",
                pending
                    .iter()
                    .map(|k| (k, round[k], high_of(k)))
                    .collect::<Vec<_>>()
            );
        }
        for key in round.keys() {
            found.entry(key.clone()).or_default().1 = high_of(key);
        }
        // Paused is kept with the partition, not the assignment: resumed for the next read.
        if paused.count() > 0 {
            let _ = consumer.resume(&paused);
        }
        consumer.unassign().map_err(|e| self.explain(e))?;
        Ok(found)
    }
}

/// Each partition's low watermark and the high watermark ListOffsets listed.
type Bounds = HashMap<(String, i32), (i64, i64)>;

/// What reading at a position found: the record's timestamp, and the high watermark the fetch
/// response carried (`None` where no fetch answered).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordAt {
    pub timestamp_ms: Option<i64>,
    pub high: Option<i64>,
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
pub fn decode_assignment(bytes: &[u8]) -> Result<Vec<(String, Vec<i32>)>, FormatError> {
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

/// Why bytes in one of Kafka's binary formats could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("truncated: wanted {wanted} bytes, {left} left")]
    Truncated { wanted: usize, left: usize },
    /// A version this reader does not know (a newer Kafka's).
    #[error("unknown {what} version {version}")]
    UnknownVersion { what: &'static str, version: i16 },
    #[error("{0}")]
    Invalid(String),
}

/// A bounds-checked big-endian reader for Kafka's binary formats.
pub(crate) struct Reader<'a>(pub &'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], FormatError> {
        if self.0.len() < n {
            return Err(FormatError::Truncated {
                wanted: n,
                left: self.0.len(),
            });
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    pub fn i16(&mut self) -> Result<i16, FormatError> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    pub fn i32(&mut self) -> Result<i32, FormatError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn i64(&mut self) -> Result<i64, FormatError> {
        let b = self.take(8)?;
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(b);
        Ok(i64::from_be_bytes(bytes))
    }

    pub fn array_len(&mut self) -> Result<usize, FormatError> {
        let n = self.i32()?;
        usize::try_from(n.max(0)).map_err(|_| FormatError::Invalid("bad array length".into()))
    }

    /// Kafka's unsigned varint (flexible versions' lengths and tags).
    pub fn unsigned_varint(&mut self) -> Result<u32, FormatError> {
        let mut value: u32 = 0;
        for shift in (0..35).step_by(7) {
            let byte = self.take(1)?[0];
            value |= u32::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(FormatError::Invalid("varint longer than 5 bytes".into()))
    }

    /// A flexible version's COMPACT_STRING: length + 1 as an unsigned varint, 0 for null.
    pub fn compact_string(&mut self) -> Result<String, FormatError> {
        let n = self.unsigned_varint()?;
        if n == 0 {
            return Ok(String::new());
        }
        let bytes = self.take(n as usize - 1)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|e| FormatError::Invalid(format!("not UTF-8: {e}")))
    }

    /// Skips a flexible version's tagged fields (tags this reader does not know), checking
    /// that each one's bytes are there.
    pub fn skip_tagged_fields(&mut self) -> Result<u32, FormatError> {
        let count = self.unsigned_varint()?;
        for _ in 0..count {
            let _tag = self.unsigned_varint()?;
            let size = self.unsigned_varint()?;
            self.take(size as usize)?;
        }
        Ok(count)
    }

    pub fn string(&mut self) -> Result<String, FormatError> {
        let n = self.i16()?;
        if n < 0 {
            return Ok(String::new());
        }
        let bytes = self.take(n as usize)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|e| FormatError::Invalid(format!("not UTF-8: {e}")))
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
