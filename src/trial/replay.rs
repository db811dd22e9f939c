//! Replay: every trial record read from the start by 1, 2, 4… readers at once, each reading its
//! share of the partitions with its own client, as a rebuild's readers would.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::cluster::{CancelToken, Cluster, ConnectionConfig, ScanEvent, ScanRequest};

use super::error::StepError;
use super::result::ReplayRate;

/// How long a broker still working off the run may take to answer the replay's readers.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// Reads every partition of `topics` (topic, partition count) with `consumers` readers.
pub fn replay(
    connection: &ConnectionConfig,
    topics: &[(String, i32)],
    consumers: u32,
    cancel: &CancelToken,
) -> Result<ReplayRate, StepError> {
    let readers = consumers.max(1) as usize;
    let mut shares: Vec<Vec<(String, i32)>> = vec![Vec::new(); readers];
    let all = topics
        .iter()
        .flat_map(|(t, n)| (0..*n).map(move |p| (t.clone(), p)));
    for (i, tp) in all.enumerate() {
        shares[i % readers].push(tp);
    }
    // Connected before the clock starts: a rebuild's readers are running before they read.
    let clusters: Vec<Cluster> = (0..readers)
        .map(|_| super::load::answering(connection, PATIENCE).map_err(StepError::Connect))
        .collect::<Result<_, _>>()?;
    let records = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let started = Instant::now();
    let failures: Vec<StepError> = std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .iter()
            .zip(&clusters)
            .map(|(share, cluster)| {
                let (records, bytes) = (&records, &bytes);
                scope.spawn(move || -> Result<(), StepError> {
                    let mut by_topic: std::collections::BTreeMap<&str, Vec<i32>> =
                        Default::default();
                    for (t, p) in share {
                        by_topic.entry(t).or_default().push(*p);
                    }
                    for (topic, partitions) in by_topic {
                        let request = ScanRequest {
                            partitions: Some(partitions),
                            ..ScanRequest::new(topic)
                        };
                        cluster
                            .scan(&request, cancel, &mut |event| {
                                if let ScanEvent::Records(batch) = event {
                                    records.fetch_add(batch.len() as u64, Ordering::Relaxed);
                                    let size: usize = batch.iter().map(|r| r.size_bytes()).sum();
                                    bytes.fetch_add(size as u64, Ordering::Relaxed);
                                }
                                true
                            })
                            .map_err(|source| StepError::Read {
                                topic: topic.to_owned(),
                                source,
                            })?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(StepError::ReaderPanicked))
                    .err()
            })
            .collect()
    });
    if let Some(first) = failures.into_iter().next() {
        return Err(first);
    }
    let seconds = started.elapsed().as_secs_f64().max(1e-6);
    let (records, bytes) = (records.into_inner(), bytes.into_inner());
    Ok(ReplayRate {
        consumers,
        records,
        bytes,
        seconds,
        records_per_s: records as f64 / seconds,
        mb_per_s: bytes as f64 / seconds / 1e6,
    })
}
