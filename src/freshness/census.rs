//! The stale-customer census: which customers have source events the profile builder has not
//! consumed yet, read from the builder's unread tail only (the records after its committed offset
//! on every source partition), never the whole topic.
//!
//! A tail record's key may be a linked id (anonymous, device): the spec's link sources (small,
//! identity-like topics) are read whole to map each linked id to its customer; keys that map to
//! no customer are counted and named, not guessed.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::Links;
use crate::cluster::{CancelToken, ClusterError, ScanEvent, ScanRequest};
use crate::profile::{Budget, SourceDecoder, Spec};
use crate::source::Source;

/// Why a census customer is behind; the words scripts match on.
pub const NOT_CONSUMED: &str = "not consumed yet";

/// A customer with events the builder has not consumed, at its oldest such event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingCustomer {
    pub key: String,
    /// Broker time of the oldest unconsumed event.
    pub pending_since_ms: i64,
    pub behind_ms: i64,
    pub cause: &'static str,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Unconsumed events of this customer on every source.
    pub pending_events: u64,
}

/// One source partition's unread tail: its blast radius.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionTail {
    pub topic: String,
    pub partition: i32,
    /// The builder's committed offset; `None` where it never committed (the whole partition is
    /// unread).
    pub committed: Option<i64>,
    pub high: i64,
    /// Customers with an unconsumed event here.
    pub customers: usize,
    /// Broker time of the oldest unconsumed record, where there is one.
    pub oldest_pending_ms: Option<i64>,
    /// Records read after the committed offset.
    pub records: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Census {
    pub as_of_ms: i64,
    /// Serialized as its milliseconds, under the name it always had.
    #[serde(rename = "budget_ms")]
    pub budget: Budget,
    pub builder_group: String,
    /// Worst first.
    pub customers: Vec<PendingCustomer>,
    pub over_budget: usize,
    /// Partitions with an unread tail, worst (oldest pending) first.
    pub by_partition: Vec<PartitionTail>,
    /// Tail keys no link source knows, as a customer or as a linked id: each is counted as its
    /// own customer and named here (a key cannot say whether it is a customer without an
    /// identity record or a linked id of one).
    pub unresolved_keys: Vec<String>,
    /// Tail records without a key: no customer can be named for them.
    pub keyless_records: u64,
    /// Link-source records that could not be decoded (their links are unknown).
    pub undecodable_link_records: u64,
    /// Tail records whose broker time is missing or implausible: counted, not dated.
    pub undated_records: u64,
    /// Records read: link sources plus tails.
    pub records_read: u64,
    pub cancelled: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CensusError {
    #[error("the spec has no [store] builder_group: the census reads after its commits")]
    NoBuilderGroup,
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// Per customer: its oldest pending event (broker time, topic, partition, offset) and how many.
type Pending = HashMap<String, (i64, String, i32, i64, u64)>;

/// One source topic's unread tails.
#[derive(Default)]
struct TopicTails {
    tails: Vec<PartitionTail>,
    pending: Pending,
    unresolved: std::collections::BTreeSet<String>,
    keyless: u64,
    undated: u64,
    cancelled: bool,
}

/// Counts the customers with unconsumed events for `spec`'s builder group as of `now_ms`.
pub fn census(
    source: &dyn Source,
    spec: &Spec,
    decoder: &SourceDecoder,
    now_ms: i64,
    cancel: &CancelToken,
) -> Result<Census, CensusError> {
    let builder = spec
        .store
        .as_ref()
        .and_then(|s| s.builder_group.clone())
        .ok_or(CensusError::NoBuilderGroup)?;
    let links = Links::read(source, spec, decoder, None, cancel)?;
    let mut census = Census {
        as_of_ms: now_ms,
        budget: spec.budget,
        builder_group: builder.clone(),
        undecodable_link_records: links.undecodable,
        records_read: links.records,
        ..Census::default()
    };
    // Each topic's tails are read by a client of their own, all at once: the census costs
    // about as long as its longest tail, not the sum.
    let answers = crate::cluster::in_parallel(&spec.sources, "a census tail reader", |_, src| {
        read_tails(source, spec, src, &builder, &links, cancel)
    });
    let mut pending = Pending::new();
    let mut unresolved = std::collections::BTreeSet::new();
    for answer in answers {
        let topic = answer?;
        census.cancelled |= topic.cancelled;
        census.keyless_records += topic.keyless;
        census.undated_records += topic.undated;
        census.records_read += topic.tails.iter().map(|t| t.records).sum::<u64>();
        census.by_partition.extend(topic.tails);
        unresolved.extend(topic.unresolved);
        for (customer, here) in topic.pending {
            match pending.entry(customer) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(here);
                }
                std::collections::hash_map::Entry::Occupied(mut o) => {
                    let seen = o.get_mut();
                    let count = seen.4 + here.4;
                    if (here.0, &here.1, here.2, here.3) < (seen.0, &seen.1, seen.2, seen.3) {
                        *seen = here;
                    }
                    seen.4 = count;
                }
            }
        }
    }
    census.customers = pending
        .into_iter()
        .map(
            |(key, (at, topic, partition, offset, count))| PendingCustomer {
                key,
                pending_since_ms: at,
                // The same count and time behind a lookup of this customer gives.
                behind_ms: crate::profile::Pending {
                    events: count,
                    oldest_ms: Some(at),
                }
                .behind_ms(now_ms)
                .unwrap_or(0),
                cause: NOT_CONSUMED,
                topic,
                partition,
                offset,
                pending_events: count,
            },
        )
        .collect();
    census
        .customers
        .sort_by(|a, b| b.behind_ms.cmp(&a.behind_ms).then(a.key.cmp(&b.key)));
    census.over_budget = census
        .customers
        .iter()
        .filter(|c| census.budget.is_past(c.behind_ms))
        .count();
    census.by_partition.sort_by(|a, b| {
        let age = |t: &PartitionTail| t.oldest_pending_ms.unwrap_or(i64::MAX);
        age(a)
            .cmp(&age(b))
            .then_with(|| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)))
    });
    census.unresolved_keys = unresolved.into_iter().collect();
    Ok(census)
}

/// Reads the builder's unread tail of every partition of one source topic, in one scan.
fn read_tails(
    source: &dyn Source,
    spec: &Spec,
    src: &crate::profile::spec::Source,
    builder: &str,
    links: &Links,
    cancel: &CancelToken,
) -> Result<TopicTails, ClusterError> {
    let info = source.topic(&src.topic)?;
    let partitions: Vec<(String, i32)> = info
        .partitions
        .iter()
        .map(|p| (src.topic.clone(), p.id))
        .collect();
    let committed = source.committed_offsets(builder, &partitions)?;
    let mut out = TopicTails::default();
    // Per partition: its tail, the customers in it, and whether ListOffsets says it is behind.
    type Tail = (PartitionTail, std::collections::HashSet<String>, bool);
    let mut tails: BTreeMap<i32, Tail> = BTreeMap::new();
    let mut resume = HashMap::new();
    for p in &info.partitions {
        let commit = committed.get(&(src.topic.clone(), p.id)).copied().flatten();
        let from = commit.unwrap_or(p.low).max(p.low);
        // The scan reads to the end the fetch finds, past a high watermark some brokers
        // under-report (Tansu); a partition at its end by ListOffsets is still looked at.
        resume.insert(p.id, from);
        let behind = from < p.high;
        let tail = PartitionTail {
            topic: src.topic.clone(),
            partition: p.id,
            committed: commit,
            high: p.high,
            customers: 0,
            oldest_pending_ms: None,
            records: 0,
        };
        tails.insert(p.id, (tail, Default::default(), behind));
    }
    let resolving = !links.customers.is_empty();
    let links_here = links_topic(spec, &src.topic);
    let request = ScanRequest {
        partitions: Some(resume.keys().copied().collect()),
        resume,
        ..ScanRequest::new(src.topic.clone())
    };
    let summary = source.scan(&request, cancel, &mut |event| {
        let ScanEvent::Records(records) = event else {
            return true;
        };
        for record in records {
            let Some((tail, here, _)) = tails.get_mut(&record.partition) else {
                continue;
            };
            tail.records += 1;
            tail.high = tail.high.max(record.offset + 1);
            let Some(key) = record.key.as_deref() else {
                out.keyless += 1;
                continue;
            };
            let key = String::from_utf8_lossy(key).into_owned();
            let customer = match links.customer_of(&key) {
                Some(customer) => customer,
                None => {
                    if resolving && !links_here {
                        out.unresolved.insert(key.clone());
                    }
                    key
                }
            };
            let Some(at) = record
                .timestamp_ms
                .filter(|ms| crate::time::plausible_ms(*ms))
            else {
                out.undated += 1;
                continue;
            };
            tail.oldest_pending_ms = Some(tail.oldest_pending_ms.map_or(at, |o| o.min(at)));
            here.insert(customer.clone());
            let entry = out.pending.entry(customer).or_insert((
                at,
                record.topic.clone(),
                record.partition,
                record.offset,
                0,
            ));
            entry.4 += 1;
            if at < entry.0 {
                (entry.0, entry.1, entry.2, entry.3) =
                    (at, record.topic.clone(), record.partition, record.offset);
            }
        }
        true
    })?;
    out.cancelled = summary.cancelled;
    out.tails = tails
        .into_values()
        // A partition the watermarks say is behind stays listed even when the read found
        // nothing there (a broker that answers nothing from inside a batch): never dropped.
        .filter(|(tail, _, behind)| tail.records > 0 || *behind)
        .map(|(mut tail, here, _)| {
            tail.customers = here.len();
            tail
        })
        .collect();
    Ok(out)
}

fn links_topic(spec: &Spec, topic: &str) -> bool {
    spec.source(topic).is_some_and(|s| !s.links.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{Record, TimestampKind};
    use crate::source::{Capture, CapturedGroup};

    const SPEC: &str = r#"
name = "customer"
budget = "10m"

[[source]]
topic = "identity"
links = ["/anonymous_id"]

[[source]]
topic = "clicks"

[[source]]
topic = "orders"

[[field]]
name = "orders"
topic = "orders"
path = "/n"
rule = "count"

[store]
topic = "profiles"
builder_group = "builder"
"#;

    const MIN: i64 = 60_000;
    const NOW: i64 = 1_795_000_000_000;

    fn push(capture: &mut Capture, topic: &str, partition: i32, key: Option<&str>, value: &str) {
        let offset = capture
            .topics
            .get(topic)
            .and_then(|t| t.get(&partition))
            .map_or(0, |p| p.high);
        capture.push(Record {
            topic: topic.into(),
            partition,
            offset,
            // Older records first: offset n was written (10 - n) minutes before now.
            timestamp_ms: Some(NOW - (10 - offset) * MIN),
            timestamp_kind: TimestampKind::CreateTime,
            key: key.map(|k| k.as_bytes().to_vec()),
            value: Some(value.as_bytes().to_vec()),
            headers: Vec::new(),
        });
    }

    /// identity: cust-1 ↔ anon-1, cust-2 ↔ anon-2 (consumed). clicks/0 committed at 1 of 3,
    /// clicks/1 never committed; orders/0 fully consumed, orders/1 committed at 0.
    fn world() -> Capture {
        let mut c = Capture::new("census", NOW);
        c.add_topic("identity", 1);
        c.add_topic("clicks", 2);
        c.add_topic("orders", 2);
        push(
            &mut c,
            "identity",
            0,
            Some("cust-1"),
            r#"{"anonymous_id":"anon-1"}"#,
        );
        push(
            &mut c,
            "identity",
            0,
            Some("cust-2"),
            r#"{"anonymous_id":"anon-2"}"#,
        );
        push(&mut c, "identity", 0, Some("cust-9"), "not json");
        push(&mut c, "clicks", 0, Some("anon-1"), "{}"); // 0: consumed
        push(&mut c, "clicks", 0, Some("anon-1"), "{}"); // 1: pending, 9 min
        push(&mut c, "clicks", 0, Some("anon-7"), "{}"); // 2: pending, unresolved
        push(&mut c, "clicks", 1, Some("anon-2"), "{}"); // 0: pending, 10 min
        push(&mut c, "clicks", 1, None, "{}"); // 1: keyless
        push(&mut c, "orders", 0, Some("cust-1"), "{}"); // consumed
        push(&mut c, "orders", 1, Some("cust-1"), "{}"); // 0: pending, 10 min (oldest)
        push(&mut c, "orders", 1, Some("cust-3"), "{}"); // 1: pending, 9 min
        let offsets = [
            (("identity".to_owned(), 0), 3),
            (("clicks".to_owned(), 0), 1),
            (("orders".to_owned(), 0), 1),
            (("orders".to_owned(), 1), 0),
        ];
        c.groups.push(CapturedGroup {
            name: "builder".into(),
            state: "Stable".into(),
            offsets: offsets.into_iter().collect(),
            commits: Vec::new(),
        });
        c
    }

    fn run(capture: &Capture, spec: &Spec) -> Census {
        let decoder = SourceDecoder::new(spec, None).unwrap();
        census(capture, spec, &decoder, NOW, &CancelToken::default()).unwrap()
    }

    #[test]
    fn names_the_customers_after_the_builders_commits_with_linked_ids_resolved() {
        let spec = Spec::parse(SPEC, "c.toml").unwrap();
        let census = run(&world(), &spec);
        let got: Vec<_> = census
            .customers
            .iter()
            .map(|c| {
                let at = (c.key.as_str(), c.behind_ms / MIN, c.topic.as_str());
                (at.0, at.1, at.2, c.partition, c.offset, c.pending_events)
            })
            .collect();
        // cust-1: clicks/0@1 (9 min, via anon-1) and orders/1@0 (10 min): the older one counts.
        // cust-2 via anon-2 on clicks/1@0 (10 min); cust-3 on orders/1@1; anon-7 and cust-3 are
        // known to no link source and are their own. Worst first, ties by key.
        assert_eq!(
            got,
            vec![
                ("cust-1", 10, "orders", 1, 0, 2),
                ("cust-2", 10, "clicks", 1, 0, 1),
                ("cust-3", 9, "orders", 1, 1, 1),
                ("anon-7", 8, "clicks", 0, 2, 1),
            ]
        );
        assert!(census.customers.iter().all(|c| c.cause == NOT_CONSUMED));
        assert_eq!(census.unresolved_keys, vec!["anon-7", "cust-3"]);
        assert_eq!(census.keyless_records, 1);
        assert_eq!(census.undecodable_link_records, 1);
        assert_eq!(census.over_budget, 0, "budget 10m: nobody is past it yet");
        let tails: Vec<_> = census
            .by_partition
            .iter()
            .map(|t| {
                let at = (t.topic.as_str(), t.partition, t.committed, t.high);
                (at.0, at.1, at.2, at.3, t.customers, t.records)
            })
            .collect();
        assert_eq!(
            tails,
            vec![
                ("clicks", 1, None, 2, 1, 2),
                ("orders", 1, Some(0), 2, 2, 2),
                ("clicks", 0, Some(1), 3, 2, 2),
            ]
        );
        assert_eq!(
            census.by_partition[0].oldest_pending_ms,
            Some(NOW - 10 * MIN)
        );
    }

    #[test]
    fn over_budget_counts_those_behind_more_than_the_budget() {
        let spec = Spec::parse(&SPEC.replace("10m", "9m"), "c.toml").unwrap();
        let census = run(&world(), &spec);
        assert_eq!(census.over_budget, 2, "{:?}", census.customers);
    }

    #[test]
    fn without_a_builder_group_there_is_nothing_to_read_after() {
        let spec = Spec::parse(&SPEC.replace("builder_group = \"builder\"", ""), "c.toml").unwrap();
        let decoder = SourceDecoder::new(&spec, None).unwrap();
        let err = census(&world(), &spec, &decoder, NOW, &CancelToken::default()).unwrap_err();
        assert!(matches!(err, CensusError::NoBuilderGroup));
    }
}
