//! Rebuild readiness, cheap and always: what each source topic still retains (records, bytes,
//! retention settings, the oldest record per partition), which of the spec's fields a replay
//! cannot rebuild exactly because their topic's history starts after the store's oldest
//! version, and how long the replay would take at a read throughput measured on the spot.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cluster::{CancelToken, ClusterError, ScanEvent, ScanRequest};
use crate::profile::{Rule, Spec};
use crate::source::Source;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionRetained {
    pub partition: i32,
    pub low: i64,
    pub high: i64,
    /// Broker time of the record at the low watermark; `None` where none could be read.
    pub oldest_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicReadiness {
    pub topic: String,
    pub partitions: usize,
    /// Records between the watermarks (some brokers under-report the high watermark: Tansu).
    pub records: i64,
    /// Estimated: records times the mean record size of the timed read (`None` where nothing
    /// of the topic was read).
    pub bytes: Option<u64>,
    pub cleanup_policy: Option<String>,
    pub retention_ms: Option<i64>,
    pub retention_bytes: Option<i64>,
    /// The oldest retained record's broker time over every partition.
    pub oldest_ms: Option<i64>,
    /// Where some partition has lost its start (low watermark above 0), the newest of those
    /// partitions' oldest records: the topic's complete history starts there. `None`: nothing
    /// was deleted.
    pub history_from_ms: Option<i64>,
    pub by_partition: Vec<PartitionRetained>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldReadiness {
    pub field: String,
    pub topic: String,
    pub rule: Rule,
    /// Whether a replay of what is retained rebuilds it exactly.
    pub exact: bool,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub records: i64,
    pub bytes: u64,
    pub read_records_per_s: f64,
    pub read_bytes_per_s: f64,
    /// What the throughput was measured on, in words.
    pub measured: String,
    /// At the measured throughput with `consumers` clients (a client per source topic, as the
    /// rehearsal reads): `seconds_with_consumers` at that count, from the same computation.
    pub seconds: f64,
    /// The clients the throughput was measured with, and `seconds` is for.
    pub consumers: usize,
    /// With N consumers sharing the partitions: the measured rate per client times N, bounded
    /// by the partition count (a partition is read by one consumer at a time).
    pub seconds_with_consumers: BTreeMap<String, f64>,
    /// The source partitions in all: no more consumers than these read at once.
    pub partitions: usize,
}

impl Estimate {
    /// How long the replay takes with `consumers` readers, as `seconds_with_consumers` says
    /// for the counts it lists.
    pub fn seconds_for(&self, consumers: usize) -> f64 {
        let per_client = self.read_records_per_s / self.consumers.max(1) as f64;
        replay_seconds(self.records, per_client, self.partitions)(consumers)
    }

    /// `seconds_with_consumers` in consumer order, as "N: duration" for people.
    pub fn with_consumers_text(&self) -> String {
        let mut by_n: Vec<(usize, f64)> = self
            .seconds_with_consumers
            .iter()
            .filter_map(|(n, s)| Some((n.parse().ok()?, *s)))
            .collect();
        by_n.sort_by_key(|(n, _)| *n);
        by_n.iter()
            .map(|(n, s)| format!("{n}: {}", crate::time::format_seconds(*s)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Readiness {
    pub topics: Vec<TopicReadiness>,
    pub fields: Vec<FieldReadiness>,
    /// The store topic's oldest retained version (broker time).
    pub store_oldest_ms: Option<i64>,
    pub estimate: Estimate,
}

/// How long the throughput read may take.
const TIMED_READ: Duration = Duration::from_millis(1500);

/// Looks at what `spec`'s sources retain and what replaying them would take.
pub fn readiness(
    source: &dyn Source,
    spec: &Spec,
    cancel: &CancelToken,
) -> Result<Readiness, ClusterError> {
    let names: Vec<&str> = spec.sources.iter().map(|s| s.topic.as_str()).collect();
    let configs = source.topics_configs(&names)?;
    let mut topics = Vec::new();
    for src in &spec.sources {
        let info = source.topic(&src.topic)?;
        // A topic whose configs the cluster would not give has them "unknown" (None).
        let config = configs
            .get(&src.topic)
            .and_then(|c| c.as_ref().ok())
            .cloned()
            .unwrap_or_default();
        let setting = |name: &str| {
            config
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        topics.push(TopicReadiness {
            topic: src.topic.clone(),
            partitions: info.partitions.len(),
            records: info.message_count(),
            bytes: None,
            cleanup_policy: setting("cleanup.policy"),
            retention_ms: setting("retention.ms").and_then(|v| v.parse().ok()),
            retention_bytes: setting("retention.bytes").and_then(|v| v.parse().ok()),
            oldest_ms: None,
            history_from_ms: None,
            by_partition: info
                .partitions
                .iter()
                .map(|p| PartitionRetained {
                    partition: p.id,
                    low: p.low,
                    high: p.high,
                    oldest_ms: None,
                })
                .collect(),
        });
    }
    oldest_records(source, &mut topics)?;
    let store_oldest_ms = match &spec.store {
        Some(store) => {
            let info = source.topic(&store.topic)?;
            let positions: Vec<(String, i32, i64)> = info
                .partitions
                .iter()
                .filter(|p| p.high > p.low)
                .map(|p| (store.topic.clone(), p.id, p.low))
                .collect();
            let at = source.records_at(&positions)?;
            at.values().filter_map(|r| r.timestamp_ms).min()
        }
        None => None,
    };
    let estimate = estimate(source, &mut topics, cancel)?;
    let fields = field_readiness(spec, &topics, store_oldest_ms);
    Ok(Readiness {
        topics,
        fields,
        store_oldest_ms,
        estimate,
    })
}

/// The record at each partition's low watermark, read in one go for every topic.
fn oldest_records(source: &dyn Source, topics: &mut [TopicReadiness]) -> Result<(), ClusterError> {
    let positions: Vec<(String, i32, i64)> = topics
        .iter()
        .flat_map(|t| {
            t.by_partition
                .iter()
                .filter(|p| p.high > p.low)
                .map(|p| (t.topic.clone(), p.partition, p.low))
        })
        .collect();
    let at = source.records_at(&positions)?;
    for topic in topics.iter_mut() {
        for p in &mut topic.by_partition {
            let found = at.get(&(topic.topic.clone(), p.partition, p.low));
            p.oldest_ms = found.and_then(|r| r.timestamp_ms);
            // The fetch response's high watermark, where higher than ListOffsets said (Tansu
            // under-reports it when batches hold several records).
            if let Some(high) = found.and_then(|r| r.high) {
                p.high = p.high.max(high);
            }
        }
        topic.records = (topic.by_partition.iter())
            .map(|p| p.high.saturating_sub(p.low).max(0))
            .fold(0, i64::saturating_add);
        topic.oldest_ms = topic.by_partition.iter().filter_map(|p| p.oldest_ms).min();
        topic.history_from_ms = history_from(&topic.by_partition);
    }
    Ok(())
}

/// Where partitions lost their start, the newest of their oldest records.
fn history_from(partitions: &[PartitionRetained]) -> Option<i64> {
    partitions
        .iter()
        .filter(|p| p.low > 0)
        .filter_map(|p| p.oldest_ms)
        .max()
}

/// Whole-history fields (count, sum, first, distinct, min, max, and consent fields, whose
/// revocation may be what was deleted) over a topic whose complete history starts after the
/// store's oldest version cannot be rebuilt exactly.
pub fn field_readiness(
    spec: &Spec,
    topics: &[TopicReadiness],
    store_oldest_ms: Option<i64>,
) -> Vec<FieldReadiness> {
    spec.fields
        .iter()
        .map(|field| {
            let consent = spec
                .fields
                .iter()
                .any(|f| f.consent.as_deref() == Some(field.name.as_str()));
            let whole_history = consent || field.rule != Rule::Last;
            let topic = topics.iter().find(|t| t.topic == field.topic);
            let lost = topic.is_some_and(|t| t.by_partition.iter().any(|p| p.low > 0));
            let compacted = topic
                .and_then(|t| t.cleanup_policy.as_deref())
                .is_some_and(|p| p.contains("compact"));
            let from = topic.and_then(|t| t.history_from_ms);
            let (exact, reason) = if compacted && whole_history {
                (
                    false,
                    format!(
                        "{} is compacted: only each key's latest record is kept, not the \
                         history this rule adds up",
                        field.topic
                    ),
                )
            } else if !lost {
                (true, "its topic has lost nothing to retention".to_owned())
            } else {
                match (from, store_oldest_ms) {
                    (Some(from), Some(store)) if from <= store => (
                        true,
                        "retention deleted only history older than the store's oldest version"
                            .to_owned(),
                    ),
                    (Some(from), Some(store)) => (
                        false,
                        format!(
                            "{} history starts {} after the store's oldest version: events the \
                             store reflects are gone{}",
                            field.topic,
                            crate::time::format_duration_ms(from - store),
                            if whole_history {
                                ""
                            } else {
                                " (a quiet customer's newest event among them)"
                            }
                        ),
                    ),
                    _ => (
                        false,
                        format!(
                            "{} has lost records to retention, and when its history now starts \
                             or the store's age is unknown",
                            field.topic
                        ),
                    ),
                }
            };
            let what = if consent {
                "consent field"
            } else {
                rule_name(field.rule)
            };
            FieldReadiness {
                field: field.name.clone(),
                topic: field.topic.clone(),
                rule: field.rule,
                exact,
                reason: format!("{what}: {reason}"),
            }
        })
        .collect()
}

fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::Last => "last",
        Rule::First => "first",
        Rule::Count => "count",
        Rule::Sum => "sum",
        Rule::Min => "min",
        Rule::Max => "max",
        Rule::Distinct => "distinct",
    }
}

/// A short timed read of every source topic at once from its start (stated as such), the
/// replay's size from each topic's mean record size, and its duration.
fn estimate(
    source: &dyn Source,
    topics: &mut [TopicReadiness],
    cancel: &CancelToken,
) -> Result<Estimate, ClusterError> {
    let started = Instant::now();
    type Read = (u64, u64, BTreeMap<i32, i64>);
    let names: Vec<String> = topics.iter().map(|t| t.topic.clone()).collect();
    let reads =
        crate::cluster::in_parallel(&names, "a timed read", |_, topic| -> Result<Read, _> {
            let (mut records, mut bytes) = (0u64, 0u64);
            // The first record read of each partition: its oldest retained one.
            let mut first = BTreeMap::new();
            source.scan(&ScanRequest::new(topic.clone()), cancel, &mut |event| {
                if let ScanEvent::Records(batch) = event {
                    for record in &batch {
                        records += 1;
                        bytes += record.size_bytes() as u64;
                        if let Some(ms) = record.timestamp_ms {
                            first.entry(record.partition).or_insert(ms);
                        }
                    }
                }
                started.elapsed() < TIMED_READ
            })?;
            Ok((records, bytes, first))
        });
    let elapsed = started.elapsed().as_secs_f64().max(1e-3);
    let (mut read_records, mut read_bytes) = (0u64, 0u64);
    for (topic, read) in topics.iter_mut().zip(reads) {
        let (records, bytes, first) = read?;
        // Where the record at the low watermark could not be fetched alone (some brokers
        // answer nothing for an offset inside a batch: Tansu), the first one read stands in.
        for p in &mut topic.by_partition {
            if p.oldest_ms.is_none() {
                p.oldest_ms = first.get(&p.partition).copied();
            }
        }
        topic.oldest_ms = topic.by_partition.iter().filter_map(|p| p.oldest_ms).min();
        topic.history_from_ms = history_from(&topic.by_partition);
        read_records += records;
        read_bytes += bytes;
        if records > 0 {
            let mean = bytes as f64 / records as f64;
            topic.bytes = Some((mean * topic.records.max(0) as f64).round() as u64);
        }
    }
    let records: i64 = topics.iter().map(|t| t.records.max(0)).sum();
    let bytes: u64 = topics.iter().filter_map(|t| t.bytes).sum();
    let rate = read_records as f64 / elapsed;
    let clients = topics.len().max(1);
    let total_partitions: usize = topics.iter().map(|t| t.partitions).sum();
    let seconds_at = replay_seconds(records, rate / clients as f64, total_partitions);
    let mut consumers: Vec<usize> = std::iter::successors(Some(1usize), |n| Some(n * 2))
        .take_while(|n| *n < total_partitions)
        .collect();
    consumers.push(total_partitions.max(1));
    consumers.push(clients);
    consumers.sort_unstable();
    consumers.dedup();
    let seconds_with_consumers = consumers
        .into_iter()
        .map(|n| (n.to_string(), seconds_at(n)))
        .collect();
    Ok(Estimate {
        records,
        bytes,
        read_records_per_s: rate,
        read_bytes_per_s: read_bytes as f64 / elapsed,
        measured: format!(
            "a timed read of {read_records} records ({:.1} MB) from the start of every source \
             topic at once, a client each, for {:.1} s",
            read_bytes as f64 / 1e6,
            elapsed
        ),
        seconds: seconds_at(clients),
        consumers: clients,
        seconds_with_consumers,
        partitions: total_partitions,
    })
}

/// How long replaying `records` takes with N consumers: each reads at `per_client` records/s,
/// and no more consumers read at once than there are partitions (one reads a partition).
fn replay_seconds(records: i64, per_client: f64, partitions: usize) -> impl Fn(usize) -> f64 {
    move |n| {
        let readers = n.clamp(1, partitions.max(1)) as f64;
        if per_client > 0.0 {
            records.max(0) as f64 / (per_client * readers)
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replay_time_for_n_consumers_is_one_formula_bounded_by_partitions() {
        // 10,000 records, 500 records/s per client, 8 partitions.
        let at = replay_seconds(10_000, 500.0, 8);
        assert_eq!(at(1), 20.0);
        assert_eq!(at(5), 4.0);
        assert_eq!(at(8), 2.5);
        // More consumers than partitions read no faster.
        assert_eq!(at(64), 2.5);
        assert_eq!(replay_seconds(10_000, 0.0, 8)(4), 0.0);
    }

    fn topic(name: &str, lows: &[(i64, Option<i64>)]) -> TopicReadiness {
        let by_partition: Vec<PartitionRetained> = lows
            .iter()
            .enumerate()
            .map(|(i, (low, oldest))| PartitionRetained {
                partition: i as i32,
                low: *low,
                high: low + 10,
                oldest_ms: *oldest,
            })
            .collect();
        TopicReadiness {
            topic: name.into(),
            partitions: by_partition.len(),
            records: 10 * by_partition.len() as i64,
            bytes: None,
            cleanup_policy: None,
            retention_ms: None,
            retention_bytes: None,
            oldest_ms: by_partition.iter().filter_map(|p| p.oldest_ms).min(),
            history_from_ms: history_from(&by_partition),
            by_partition,
        }
    }

    const SPEC: &str = r#"
name = "customer"
budget = "5m"
[[source]]
topic = "orders"
[[source]]
topic = "consent"
[[field]]
name = "orders"
topic = "orders"
path = "/order_id"
rule = "count"
[[field]]
name = "last_order"
topic = "orders"
path = "/order_id"
rule = "last"
[[field]]
name = "marketing"
topic = "consent"
path = "/marketing"
rule = "last"
[[field]]
name = "email"
topic = "orders"
path = "/email"
rule = "last"
consent = "marketing"
"#;

    #[test]
    fn whole_history_fields_over_a_topic_cut_after_the_store_began_are_not_exact() {
        let spec = Spec::parse(SPEC, "t").unwrap();
        // orders lost its start on partition 1 (history from t=5000); consent lost nothing.
        let topics = [
            topic("orders", &[(0, Some(1000)), (7, Some(5000))]),
            topic("consent", &[(0, Some(900))]),
        ];
        let fields = field_readiness(&spec, &topics, Some(2000));
        let exact: Vec<(&str, bool)> = fields.iter().map(|f| (f.field.as_str(), f.exact)).collect();
        assert_eq!(
            exact,
            [
                ("orders", false),
                ("last_order", false),
                ("marketing", true),
                ("email", false)
            ],
            "a quiet customer's newest order may be gone too"
        );
        assert!(fields[0].reason.contains("count"), "{}", fields[0].reason);
        // A store younger than the cut: nothing it reflects is gone.
        assert!(
            field_readiness(&spec, &topics, Some(9000))
                .iter()
                .all(|f| f.exact)
        );
        // The consent field itself over a cut topic is whole-history.
        let cut_consent = [
            topic("orders", &[(0, Some(1000))]),
            topic("consent", &[(3, Some(5000))]),
        ];
        let fields = field_readiness(&spec, &cut_consent, Some(2000));
        let marketing = fields.iter().find(|f| f.field == "marketing").unwrap();
        assert!(!marketing.exact);
        assert!(
            marketing.reason.starts_with("consent field"),
            "{}",
            marketing.reason
        );
    }
}
