//! How old the serving store's profiles are: for the compacted store topic, the latest version
//! of every key and the age of its `updated_at` (else its broker time). An old profile is not
//! stale by itself (a quiet customer has nothing new to apply); ages over the budget say how
//! much of the store the budget could be breaking for, and the census says which are.

use std::collections::HashMap;

use serde::Serialize;

use crate::cluster::{CancelToken, ClusterError, ScanEvent, ScanRequest};
use crate::profile::{SourceDecoder, Spec, parse_event_time};
use crate::source::Source;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StoreAge {
    /// Keys whose latest version is a profile (not a tombstone).
    pub keys: usize,
    pub age_p50_ms: i64,
    pub age_p95_ms: i64,
    pub age_max_ms: i64,
    pub over_budget: usize,
    /// Keys whose latest version is a tombstone: deleted profiles, not aged.
    pub deleted: usize,
    /// Latest versions that could not be decoded: their age is unknown, so they are counted
    /// here and left out of the percentiles.
    pub undecodable: usize,
    /// Every age, ascending, for a histogram.
    #[serde(skip)]
    pub ages_ms: Vec<i64>,
    /// The keys with a live profile, in key order: what a sample is drawn from.
    #[serde(skip)]
    pub profile_keys: Vec<String>,
    pub records_read: u64,
    pub cancelled: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreAgeError {
    #[error("the spec has no [store]: there is no store to age")]
    NoStore,
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// The latest version of a store key still on the log.
#[derive(Debug, Clone)]
pub struct LatestVersion {
    pub offset: i64,
    pub partition: i32,
    /// Broker time, where plausible.
    pub broker_ms: Option<i64>,
    /// `None`: a tombstone.
    pub value: Option<Vec<u8>>,
}

/// The store topic's latest version of every key (of `partitions` only, where given), still
/// encoded, and how many records were read.
pub struct StoreLatest {
    pub latest: HashMap<Vec<u8>, LatestVersion>,
    pub records_read: u64,
    pub cancelled: bool,
}

/// Reads the store topic keeping only each key's latest version. A key lives in one
/// partition, so its highest offset is its latest version whatever order the partitions
/// arrive in. Nothing is decoded here: an uncompacted store holds many versions per key, and
/// decoding is most of the cost of reading them.
pub fn store_latest(
    source: &dyn Source,
    store: &crate::profile::spec::Store,
    partitions: Option<Vec<i32>>,
    cancel: &CancelToken,
) -> Result<StoreLatest, ClusterError> {
    let mut found = StoreLatest {
        latest: HashMap::new(),
        records_read: 0,
        cancelled: false,
    };
    let request = ScanRequest {
        partitions,
        ..ScanRequest::new(store.topic.clone())
    };
    let summary = source.scan(&request, cancel, &mut |event| {
        let ScanEvent::Records(records) = event else {
            return true;
        };
        for record in records {
            found.records_read += 1;
            let Some(key) = record.key else {
                continue;
            };
            if found
                .latest
                .get(&key)
                .is_some_and(|v| v.offset > record.offset)
            {
                continue;
            }
            let version = LatestVersion {
                offset: record.offset,
                partition: record.partition,
                broker_ms: record
                    .timestamp_ms
                    .filter(|ms| crate::time::plausible_ms(*ms)),
                value: record.value,
            };
            found.latest.insert(key, version);
        }
        true
    })?;
    found.cancelled = summary.cancelled;
    Ok(found)
}

/// Ages the latest version of every key of the store topic as of `now_ms`.
pub fn store_age(
    source: &dyn Source,
    spec: &Spec,
    decoder: &SourceDecoder,
    now_ms: i64,
    cancel: &CancelToken,
) -> Result<StoreAge, StoreAgeError> {
    let store = spec.store.as_ref().ok_or(StoreAgeError::NoStore)?;
    let as_source = store.as_source();
    let found = store_latest(source, store, None, cancel)?;
    let mut age = StoreAge {
        records_read: found.records_read,
        cancelled: found.cancelled,
        ..StoreAge::default()
    };
    let budget_ms = spec.budget.ms();
    for (key, version) in found.latest {
        let broker_ms = version.broker_ms;
        let Some(bytes) = version.value else {
            age.deleted += 1;
            continue;
        };
        let updated = match decoder.decode(&as_source, &bytes) {
            Ok(value) => store
                .updated_at
                .as_deref()
                .and_then(|p| value.pointer(p))
                .and_then(parse_event_time)
                .or(broker_ms),
            Err(_) => None,
        };
        match updated {
            Some(at) => {
                age.ages_ms.push(now_ms.saturating_sub(at).max(0));
                age.profile_keys
                    .push(String::from_utf8_lossy(&key).into_owned());
            }
            None => age.undecodable += 1,
        }
    }
    age.ages_ms.sort_unstable();
    age.profile_keys.sort();
    age.keys = age.ages_ms.len();
    age.age_p50_ms = super::nearest_rank(&age.ages_ms, 50);
    age.age_p95_ms = super::nearest_rank(&age.ages_ms, 95);
    age.age_max_ms = age.ages_ms.last().copied().unwrap_or(0);
    age.over_budget = age.ages_ms.iter().filter(|a| **a > budget_ms).count();
    Ok(age)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{Record, TimestampKind};
    use crate::source::Capture;

    const NOW: i64 = 1_795_000_000_000;
    const MIN: i64 = 60_000;

    const SPEC: &str = r#"
name = "customer"
budget = "5m"

[[source]]
topic = "orders"

[[field]]
name = "orders"
topic = "orders"
path = "/n"
rule = "count"

[store]
topic = "profiles"
updated_at = "/updated_at"
"#;

    fn version(c: &mut Capture, partition: i32, key: &str, value: Option<String>, broker: i64) {
        let offset = c
            .topics
            .get("profiles")
            .and_then(|t| t.get(&partition))
            .map_or(0, |p| p.high);
        c.push(Record {
            topic: "profiles".into(),
            partition,
            offset,
            timestamp_ms: Some(broker),
            timestamp_kind: TimestampKind::CreateTime,
            key: Some(key.as_bytes().to_vec()),
            value: value.map(String::into_bytes),
            headers: Vec::new(),
        });
    }

    fn written(minutes_ago: i64) -> Option<String> {
        Some(format!(r#"{{"updated_at":{}}}"#, NOW - minutes_ago * MIN))
    }

    /// The latest version of each key counts (its `updated_at`, not its broker time); deleted
    /// and undecodable latest versions are counted apart, never aged.
    #[test]
    fn ages_the_latest_version_of_every_key() {
        let spec = Spec::parse(SPEC, "c.toml").unwrap();
        let mut c = Capture::new("store", NOW);
        c.add_topic("profiles", 2);
        version(&mut c, 0, "a", written(60), NOW);
        version(&mut c, 0, "a", written(2), NOW); // a: 2 min
        version(&mut c, 0, "b", written(10), NOW - MIN); // b: 10 min (updated_at wins)
        version(&mut c, 1, "c", written(1), NOW);
        version(&mut c, 1, "c", None, NOW); // c: deleted
        version(&mut c, 1, "d", Some("not json".into()), NOW); // d: undecodable
        version(&mut c, 1, "e", written(30), NOW); // e: 30 min
        let decoder = SourceDecoder::new(&spec, None).unwrap();
        let age = store_age(&c, &spec, &decoder, NOW, &CancelToken::default()).unwrap();
        assert_eq!(age.ages_ms, vec![2 * MIN, 10 * MIN, 30 * MIN]);
        assert_eq!(
            (age.keys, age.deleted, age.undecodable, age.over_budget),
            (3, 1, 1, 2)
        );
        assert_eq!(
            (age.age_p50_ms, age.age_p95_ms, age.age_max_ms),
            (10 * MIN, 30 * MIN, 30 * MIN)
        );
        assert_eq!(age.records_read, 7);
        assert_eq!(age.profile_keys, vec!["a", "b", "e"]);
    }

    #[test]
    fn a_spec_without_a_store_has_no_age() {
        let spec = Spec::parse(&SPEC[..SPEC.find("[store]").unwrap()], "c.toml").unwrap();
        let decoder = SourceDecoder::new(&spec, None).unwrap();
        let c = Capture::new("empty", NOW);
        let err = store_age(&c, &spec, &decoder, NOW, &CancelToken::default()).unwrap_err();
        assert!(matches!(err, StoreAgeError::NoStore));
    }
}
