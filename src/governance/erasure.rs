//! The erasure verifier: after a customer's erasure event (the spec's `erase_when`), what of
//! them is left. In the source topics, the records of the customer's ids written before the
//! erasure, on the partitions the ids hash to (the lookup's targeted reads), with the `pii`
//! fields they carry and when retention removes them; in the store, whether the latest version
//! is a tombstone or still serves `pii` fields nothing after the erasure set. A verdict in words:
//! `clean` (no personal data left), `expiring` (all of it expires before the deadline) or
//! `violation` (personal data that never expires or outlives the deadline, or a store still
//! serving it).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::cluster::{CancelToken, ClusterError, ScanEvent, ScanRequest};
use crate::profile::{Event, Lookup, SourceDecoder, Spec};
use crate::source::Source;

/// Kafka's own default `retention.ms` (7 days), assumed where a topic's configuration does not
/// say (some brokers describe only the settings made at creation: Tansu).
pub const KAFKA_DEFAULT_RETENTION_MS: i64 = 7 * 24 * 3_600_000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Leftover {
    pub topic: String,
    pub partition: i32,
    pub records: usize,
    pub oldest_ms: i64,
    pub newest_ms: i64,
    /// The spec's `pii` fields these records carry.
    pub pii_fields: Vec<String>,
    pub cleanup_policy: Option<String>,
    pub retention_ms: Option<i64>,
    /// When retention has removed the newest of them (its broker time plus `retention.ms`;
    /// Kafka deletes whole segments, so up to a segment's span later); `None`: never.
    pub expires_by_ms: Option<i64>,
    /// How the expiry was worked out, in words.
    pub expiry: String,
    /// A compacted topic holds a later tombstone for every key here: the log cleaner removes
    /// these records (when, the topic's compaction lag decides).
    pub removed_by_compaction: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StoreLeft {
    /// The latest version is a tombstone.
    pub tombstone: bool,
    /// The latest version serves `pii` fields that nothing after the erasure set.
    pub serves_pii: bool,
    pub pii_fields: Vec<String>,
    /// Versions before the latest still on the log.
    pub older_versions: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureVerdict {
    /// What was read cannot support a verdict: records that could not be decoded, a read
    /// cancelled, identities past the cap, a topic whose settings the cluster would not give.
    Unverified,
    Violation,
    Expiring,
    Clean,
}

impl std::fmt::Display for ErasureVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ErasureVerdict::Unverified => "UNVERIFIED",
            ErasureVerdict::Violation => "VIOLATION",
            ErasureVerdict::Expiring => "expiring",
            ErasureVerdict::Clean => "clean",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErasureCheck {
    pub key: String,
    pub identities: Vec<String>,
    /// Event time of the (last) erasure; `None`: no erasure event was found for the customer.
    pub erased_at_ms: Option<i64>,
    pub verdict: ErasureVerdict,
    pub reason: String,
    pub leftovers: Vec<Leftover>,
    pub store: Option<StoreLeft>,
}

/// Verifies one customer's erasure from its lookup, with `configs` the source topics' settings
/// and `deadline_ms` how long after the erasure its data may live.
pub fn verify(
    spec: &Spec,
    found: &Lookup,
    configs: &HashMap<String, Vec<(String, String)>>,
    deadline_ms: i64,
) -> ErasureCheck {
    let events = &found.timeline.events;
    let erased = events.iter().rposition(|e| is_erasure(spec, e));
    let mut check = ErasureCheck {
        key: found.timeline.key.clone(),
        // Erasure reports are shared: an id a `pii` path linked in is never shown.
        identities: crate::profile::PiiMask::new(spec)
            .pii_ids(&found.timeline)
            .identities(&found.timeline.identities),
        erased_at_ms: erased.map(|i| events[i].event_ms),
        verdict: ErasureVerdict::Clean,
        reason: String::new(),
        leftovers: Vec::new(),
        store: None,
    };
    let Some(erased) = erased else {
        check.verdict = ErasureVerdict::Violation;
        check.reason = "no erasure event was found for this customer".into();
        return check;
    };
    let erased_at = events[erased].event_ms;
    let deadline = erased_at.saturating_add(deadline_ms);
    // Everything before the erasure event in the timeline, other than erasures themselves.
    let mut groups: BTreeMap<(String, i32), Vec<&Event>> = BTreeMap::new();
    for event in events[..erased].iter().filter(|e| !is_erasure(spec, e)) {
        groups
            .entry((event.topic.clone(), event.partition))
            .or_default()
            .push(event);
    }
    for ((topic, partition), here) in groups {
        let pii_fields: BTreeSet<String> = spec
            .fields
            .iter()
            .filter(|f| f.pii && f.topic == topic)
            .filter(|f| {
                here.iter().any(|e| {
                    crate::profile::pointer(&e.value, &f.path).is_some_and(|v| !v.is_null())
                })
            })
            .map(|f| f.name.clone())
            .collect();
        let config = configs.get(&topic);
        let setting = |name: &str| {
            config
                .and_then(|c| c.iter().find(|(k, _)| k == name))
                .map(|(_, v)| v.clone())
        };
        let policy = setting("cleanup.policy");
        let retention = setting("retention.ms").and_then(|v| v.parse::<i64>().ok());
        let newest = here.iter().map(|e| e.broker_ms).max().unwrap_or(0);
        let oldest = here.iter().map(|e| e.broker_ms).min().unwrap_or(0);
        let deletes = policy.as_deref().is_none_or(|p| p.contains("delete"));
        let compacts = policy.as_deref().is_some_and(|p| p.contains("compact"));
        // A tombstone after every leftover key's last record here: compaction removes them.
        let tombstone = crate::profile::DecodeError::Tombstone.to_string();
        let tombstoned = compacts
            && here.iter().all(|e| {
                found.timeline.undecodable.iter().any(|u| {
                    u.topic == topic
                        && u.partition == partition
                        && u.id == e.id
                        && u.offset > e.offset
                        && u.reason == tombstone
                })
            });
        let (expires_by, expiry) = match (deletes, retention) {
            (true, Some(ms)) if ms >= 0 => (
                Some(newest.saturating_add(ms)),
                format!("retention.ms {}", crate::time::format_duration_ms(ms)),
            ),
            (true, Some(_)) => (None, "retention.ms -1: kept forever".to_owned()),
            (true, None) => (
                Some(newest.saturating_add(KAFKA_DEFAULT_RETENTION_MS)),
                "retention.ms not described: Kafka's default of 7 days assumed".to_owned(),
            ),
            (false, _) if tombstoned => (
                None,
                "compacted, with a later tombstone for the key: the log cleaner removes them"
                    .to_owned(),
            ),
            (false, _) if compacts => (
                None,
                "compacted: kept until a tombstone for the key replaces it".to_owned(),
            ),
            (false, _) => (None, format!("cleanup.policy {policy:?}: never deleted")),
        };
        check.leftovers.push(Leftover {
            topic,
            partition,
            records: here.len(),
            oldest_ms: oldest,
            newest_ms: newest,
            pii_fields: pii_fields.into_iter().collect(),
            cleanup_policy: policy,
            retention_ms: retention,
            expires_by_ms: expires_by,
            expiry,
            removed_by_compaction: tombstoned && expires_by.is_none(),
        });
    }
    // What the profile holds after the erasure: the fold resets at it.
    let after = crate::profile::fold(spec, events, None);
    if let Some(latest) = found.versions.last() {
        let mut store = StoreLeft {
            tombstone: latest.fields.is_none(),
            older_versions: found.versions.len() - 1,
            ..StoreLeft::default()
        };
        if let Some(fields) = &latest.fields {
            store.pii_fields = spec
                .fields
                .iter()
                .filter(|f| f.pii)
                .filter(|f| fields.get(&f.name).is_some_and(|v| !v.is_null()))
                // Served, and not what the events after the erasure set (a re-consent may
                // set the field again, to its new value).
                .filter(|f| {
                    after.fields.get(&f.name).is_none_or(|now| {
                        fields
                            .get(&f.name)
                            .is_none_or(|served| !crate::profile::same_value(served, &now.value))
                    })
                })
                .map(|f| f.name.clone())
                .collect();
            store.serves_pii = !store.pii_fields.is_empty();
        }
        check.store = Some(store);
    }
    judge(&mut check, deadline);
    // Whatever the leftovers say, a partial read cannot prove anything clean.
    let mut gaps = Vec::new();
    let tombstone = crate::profile::DecodeError::Tombstone.to_string();
    let undecodable = found
        .timeline
        .undecodable
        .iter()
        .filter(|u| u.reason != tombstone)
        .count();
    if undecodable > 0 {
        gaps.push(format!(
            "{undecodable} of the customer's records could not be decoded"
        ));
    }
    if found.timeline.identities_capped {
        gaps.push("the customer has more linked ids than a lookup follows".into());
    }
    if found.timeline.cancelled {
        gaps.push("the read was cancelled".into());
    }
    let undescribed: Vec<&str> = check
        .leftovers
        .iter()
        .filter(|l| !configs.contains_key(&l.topic))
        .map(|l| l.topic.as_str())
        .collect();
    if !undescribed.is_empty() {
        gaps.push(format!(
            "the cluster would not describe {}",
            undescribed.join(", ")
        ));
    }
    if !gaps.is_empty() && check.verdict != ErasureVerdict::Violation {
        check.verdict = ErasureVerdict::Unverified;
        check.reason = format!("cannot verify: {}; {}", gaps.join("; "), check.reason);
    }
    check
}

fn judge(check: &mut ErasureCheck, deadline: i64) {
    let pii: Vec<&Leftover> = check
        .leftovers
        .iter()
        .filter(|l| !l.pii_fields.is_empty())
        .collect();
    let mut reasons = Vec::new();
    if let Some(store) = check.store.as_ref().filter(|s| s.serves_pii) {
        reasons.push(format!(
            "the store still serves {} (nothing after the erasure set it)",
            store.pii_fields.join(", ")
        ));
    }
    for l in &pii {
        match l.expires_by_ms {
            None if l.removed_by_compaction => {}
            None => reasons.push(format!(
                "{}/{}: {} records with {} never expire ({})",
                l.topic,
                l.partition,
                l.records,
                l.pii_fields.join(", "),
                l.expiry
            )),
            Some(by) if by > deadline => reasons.push(format!(
                "{}/{}: {} records with {} expire {} after the deadline ({})",
                l.topic,
                l.partition,
                l.records,
                l.pii_fields.join(", "),
                crate::time::format_duration_ms(by - deadline),
                l.expiry
            )),
            Some(_) => {}
        }
    }
    if !reasons.is_empty() {
        check.verdict = ErasureVerdict::Violation;
        check.reason = reasons.join("; ");
        return;
    }
    let others = check.leftovers.len() - pii.len();
    let without = if others > 0 {
        format!(" ({others} partitions still hold records without personal data)")
    } else {
        String::new()
    };
    if pii.is_empty() {
        check.verdict = ErasureVerdict::Clean;
        check.reason = format!("no personal data left{without}");
    } else {
        let last = pii
            .iter()
            .filter_map(|l| l.expires_by_ms)
            .max()
            .unwrap_or(0);
        check.verdict = ErasureVerdict::Expiring;
        check.reason = format!(
            "{} records with personal data left, all expired by {} (before the deadline){without}",
            pii.iter().map(|l| l.records).sum::<usize>(),
            crate::time::format_timestamp(Some(last))
        );
    }
}

fn is_erasure(spec: &Spec, event: &Event) -> bool {
    spec.source(&event.topic)
        .and_then(|s| s.erase_when.as_ref())
        .is_some_and(|c| c.matches(&event.value))
}

/// Every customer with an erasure event: the keys of the `erase_when` topics' matching records,
/// each mapped to its customer through the identity links.
pub fn erased_customers(
    source: &dyn Source,
    spec: &Spec,
    decoder: &SourceDecoder,
    cancel: &CancelToken,
) -> Result<BTreeSet<String>, ClusterError> {
    let links = crate::freshness::Links::read(source, spec, decoder, None, cancel)?;
    let mut keys = BTreeSet::new();
    for src in spec.sources.iter().filter(|s| s.erase_when.is_some()) {
        let condition = src.erase_when.as_ref().expect("filtered");
        source.scan(&ScanRequest::new(src.topic.clone()), cancel, &mut |event| {
            if let ScanEvent::Records(records) = event {
                for record in records {
                    let (Some(key), Some(bytes)) = (record.key.as_deref(), record.value.as_deref())
                    else {
                        continue;
                    };
                    if decoder
                        .decode(src, bytes)
                        .is_ok_and(|v| condition.matches(&v))
                    {
                        let key = String::from_utf8_lossy(key).into_owned();
                        keys.insert(links.customer_of(&key).unwrap_or(key));
                    }
                }
            }
            true
        })?;
    }
    Ok(keys)
}

/// The source topics' configurations, for expiry.
pub fn source_configs(
    source: &dyn Source,
    spec: &Spec,
) -> Result<HashMap<String, Vec<(String, String)>>, ClusterError> {
    let names: Vec<&str> = spec.sources.iter().map(|s| s.topic.as_str()).collect();
    // A topic the cluster would not describe is left out: its expiry is unknown, and the
    // verdict says so rather than assuming a retention.
    Ok(source
        .topics_configs(&names)?
        .into_iter()
        .filter_map(|(topic, configs)| Some((topic, configs.ok()?)))
        .collect())
}

/// Verifies the erasure of `key`, or of every customer with an erasure event (looked up at
/// once: each partition read once for all), worst first.
pub fn verify_erasures(
    source: &dyn Source,
    spec: &Spec,
    decoder: &SourceDecoder,
    key: Option<&str>,
    deadline_ms: i64,
    cancel: &CancelToken,
) -> Result<Vec<ErasureCheck>, ClusterError> {
    let configs = source_configs(source, spec)?;
    let now = source.now_ms();
    let keys = match key {
        Some(key) => BTreeSet::from([key.to_owned()]),
        None => erased_customers(source, spec, decoder, cancel)?,
    };
    let found = crate::profile::lookup_many(source, spec, decoder, &keys, now, cancel, &|_| {})?;
    let mut checks: Vec<ErasureCheck> = found
        .iter()
        .map(|(_, found)| verify(spec, found, &configs, deadline_ms))
        .collect();
    checks.sort_by(|a, b| a.verdict.cmp(&b.verdict).then_with(|| a.key.cmp(&b.key)));
    Ok(checks)
}
