//! Topics, partitions, replicas and watermarks. Watermarks for many partitions are asked in one
//! ListOffsets round per bound instead of one round trip per partition.

use std::collections::HashMap;

use rdkafka::Offset;
use rdkafka::TopicPartitionList;
use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::Consumer as _;
use serde::Serialize;

use super::{Cluster, ClusterError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionInfo {
    pub id: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub low: i64,
    /// The high watermark: ListOffsets' answer, raised to the fetch response's where a broker
    /// lists less (see `cluster::watermarks`). Every view reads this one.
    pub high: i64,
    /// What ListOffsets(latest) answered, kept to say where it differed from `high` and to
    /// start reads inside such a broker's last batch.
    pub listed_high: i64,
    /// Whether `high` is proved: by a fetch of the partition's last listed offset, or by the
    /// data itself (a capture, the demo). `false` where that fetch answered nothing in time:
    /// `high` is then ListOffsets' word, which a broker listing batches gives low.
    pub high_confirmed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PartitionInfo {
    /// Records between the watermarks; an upper bound once compaction or transactions left gaps.
    pub fn message_count(&self) -> i64 {
        self.high.saturating_sub(self.low).max(0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicInfo {
    pub name: String,
    pub partitions: Vec<PartitionInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl TopicInfo {
    pub fn message_count(&self) -> i64 {
        self.partitions
            .iter()
            .map(PartitionInfo::message_count)
            .fold(0, i64::saturating_add)
    }

    /// Partitions whose high watermark no fetch confirmed (see `PartitionInfo::high_confirmed`).
    pub fn unconfirmed_partitions(&self) -> usize {
        self.partitions.iter().filter(|p| !p.high_confirmed).count()
    }

    pub fn internal(&self) -> bool {
        is_internal_topic(&self.name)
    }
}

/// Kafka's own topics (`__consumer_offsets`, `__transaction_state`) and the conventional
/// underscore-prefixed system topics (`_schemas`, `_confluent-*`).
pub fn is_internal_topic(name: &str) -> bool {
    name.starts_with('_')
}

impl Cluster {
    /// All topics, sorted by name, with watermarks. Internal topics only when asked for.
    pub fn topics(&self, include_internal: bool) -> Result<Vec<TopicInfo>, ClusterError> {
        self.describe(None, include_internal)
    }

    /// The named topics that exist, sorted by name, with watermarks: one metadata request
    /// and watermarks for their partitions only.
    pub fn topics_named(&self, names: &[&str]) -> Result<Vec<TopicInfo>, ClusterError> {
        self.describe_where(None, &|t| names.contains(&t))
    }

    pub fn topic(&self, name: &str) -> Result<TopicInfo, ClusterError> {
        let mut topics = self.describe(Some(name), true)?;
        match topics.pop() {
            Some(topic) if topic.error.is_none() && !topic.partitions.is_empty() => Ok(topic),
            _ => Err(ClusterError::UnknownTopic(name.to_owned())),
        }
    }

    fn describe(
        &self,
        only: Option<&str>,
        include_internal: bool,
    ) -> Result<Vec<TopicInfo>, ClusterError> {
        self.describe_where(only, &|t| include_internal || !is_internal_topic(t))
    }

    fn describe_where(
        &self,
        only: Option<&str>,
        wanted: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<TopicInfo>, ClusterError> {
        let metadata = self
            .consumer()
            .fetch_metadata(only, self.config().timeout)
            .map_err(|e| self.explain(e))?;
        let mut topics: Vec<TopicInfo> = metadata
            .topics()
            .iter()
            .filter(|t| wanted(t.name()))
            .map(|t| TopicInfo {
                name: t.name().to_owned(),
                error: t.error().map(|e| format!("{e:?}")),
                partitions: t
                    .partitions()
                    .iter()
                    .map(|p| PartitionInfo {
                        id: p.id(),
                        leader: p.leader(),
                        replicas: p.replicas().to_vec(),
                        isr: p.isr().to_vec(),
                        low: 0,
                        high: 0,
                        listed_high: 0,
                        high_confirmed: true,
                        error: p.error().map(|e| format!("{e:?}")),
                    })
                    .collect(),
            })
            .collect();
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        for topic in &mut topics {
            topic.partitions.sort_by_key(|p| p.id);
        }
        self.fill_watermarks(&mut topics)?;
        Ok(topics)
    }

    fn fill_watermarks(&self, topics: &mut [TopicInfo]) -> Result<(), ClusterError> {
        let pairs: Vec<(String, i32)> = topics
            .iter()
            .flat_map(|t| t.partitions.iter().map(|p| (t.name.clone(), p.id)))
            .collect();
        if pairs.is_empty() {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let lows = self.list_offsets(&pairs, Offset::Beginning)?;
        let highs = self.list_offsets(&pairs, Offset::End)?;
        let listed = started.elapsed();
        let mut to_confirm = Vec::new();
        for topic in topics.iter_mut() {
            for partition in &mut topic.partitions {
                let key = (topic.name.clone(), partition.id);
                partition.low = lows.get(&key).copied().unwrap_or(0);
                partition.high = highs.get(&key).copied().unwrap_or(partition.low);
                partition.listed_high = partition.high;
                if partition.high > partition.low {
                    to_confirm.push((topic.name.clone(), partition.id, partition.high));
                }
            }
        }
        // Every listing confirms every non-empty partition: a sample of them can miss the
        // topics a producer batched (measured: the fullest partitions of a mixed cluster were
        // all written a record per batch, and a batched topic read "4 messages" for 200).
        let fetched = self.fetched_highs(&to_confirm)?;
        log::debug!(
            "watermarks of {} partitions: listed in {listed:?}, {} confirmed by a fetch in {:?}",
            pairs.len(),
            to_confirm.len(),
            started.elapsed() - listed
        );
        for topic in topics {
            for partition in &mut topic.partitions {
                let key = (topic.name.clone(), partition.id);
                if let Some(high) = fetched.highs.get(&key) {
                    partition.high = partition.high.max(*high);
                }
                partition.high_confirmed = !fetched.silent.contains(&key);
            }
        }
        Ok(())
    }

    /// ListOffsets for many partitions at once. `at` is `Beginning`, `End` or a timestamp in ms
    /// (`Offset::Offset(ts)`); partitions the broker has no answer for are left out.
    pub(crate) fn list_offsets(
        &self,
        partitions: &[(String, i32)],
        at: Offset,
    ) -> Result<std::collections::HashMap<(String, i32), i64>, ClusterError> {
        let mut request = TopicPartitionList::new();
        for (topic, partition) in partitions {
            request
                .add_partition_offset(topic, *partition, at)
                .map_err(|e| self.explain(e))?;
        }
        let answer = self
            .consumer()
            .offsets_for_times(request, self.config().timeout)
            .map_err(|e| self.explain(e))?;
        Ok(answer
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(offset) if e.error().is_ok() => {
                    Some(((e.topic().to_owned(), e.partition()), offset))
                }
                _ => None,
            })
            .collect())
    }

    /// The topic's configuration as the broker describes it (non-default entries first), or an
    /// error when the broker does not support DescribeConfigs.
    pub fn topic_configs(&self, topic: &str) -> Result<Vec<(String, String)>, ClusterError> {
        self.topics_configs(&[topic])?
            .remove(topic)
            .unwrap_or_else(|| Err(ClusterError::UnknownTopic(topic.to_owned())))
    }

    /// The configurations of many topics in one DescribeConfigs call (one answer per topic).
    #[allow(clippy::type_complexity)]
    pub fn topics_configs(
        &self,
        topics: &[&str],
    ) -> Result<HashMap<String, Result<Vec<(String, String)>, ClusterError>>, ClusterError> {
        // librdkafka refuses a DescribeConfigs of nothing (InvalidArgument): nothing asked,
        // nothing answered.
        if topics.is_empty() {
            return Ok(HashMap::new());
        }
        let admin: AdminClient<DefaultClientContext> = self
            .config()
            .client_config()?
            .create()
            .map_err(|e| self.explain(e))?;
        let options = AdminOptions::new().request_timeout(Some(self.config().timeout));
        let resources: Vec<ResourceSpecifier> =
            topics.iter().map(|t| ResourceSpecifier::Topic(t)).collect();
        let results = futures_executor::block_on(admin.describe_configs(&resources, &options))
            .map_err(|e| self.explain(e))?;
        let mut answers = HashMap::new();
        for (asked, result) in topics.iter().zip(results) {
            // An answer names its topic; an error does not, and takes the asked order.
            let topic = match &result {
                Ok(config) => match &config.specifier {
                    rdkafka::admin::OwnedResourceSpecifier::Topic(name) => name.clone(),
                    _ => (*asked).to_owned(),
                },
                Err(_) => (*asked).to_owned(),
            };
            let answer = result
                .map_err(|e| ClusterError::Kafka(format!("{e:?}")))
                .map(|result| {
                    let mut configs: Vec<_> = result
                        .entries
                        .into_iter()
                        .map(|e| {
                            (
                                e.is_default,
                                e.name,
                                e.value.unwrap_or_else(|| "(secret)".into()),
                            )
                        })
                        .collect();
                    configs.sort();
                    configs
                        .into_iter()
                        .map(|(_, name, value)| (name, value))
                        .collect()
                });
            answers.insert(topic, answer);
        }
        Ok(answers)
    }
}
