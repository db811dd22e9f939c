//! What the key choice costs: per source topic, the customers whose records there span several
//! partitions because the topic is keyed by linked ids (anonymous, device) rather than by the
//! customer, so their order in that topic is not guaranteed.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::cluster::{CancelToken, ClusterError, ScanEvent, ScanProgress, ScanRequest};
use crate::freshness::Links;
use crate::source::Source;

/// Split customers named per topic.
const EXAMPLES: usize = 5;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitExample {
    pub customer: String,
    pub partitions: Vec<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SplitSource {
    pub topic: String,
    /// Customers with a record in the topic.
    pub customers: u64,
    /// Of them, those whose records there sit on more than one partition.
    pub split_customers: u64,
    pub share: f64,
    pub records: u64,
    /// Records keyed by a linked id rather than by their customer.
    pub linked_key_records: u64,
    /// Keyed records no link source ties to a customer: each such key counts as a customer of
    /// its own (as the census counts them).
    pub unlinked_records: u64,
    pub examples: Vec<SplitExample>,
    pub cancelled: bool,
}

/// Reads every record key of `topic` and tallies, per customer, the partitions they sit on.
pub fn split_source(
    source: &dyn Source,
    topic: &str,
    links: &Links,
    cancel: &CancelToken,
    on_progress: &(dyn Fn(ScanProgress) + Sync),
) -> Result<SplitSource, ClusterError> {
    let mut result = SplitSource {
        topic: topic.to_owned(),
        ..SplitSource::default()
    };
    let mut partitions: HashMap<String, BTreeSet<i32>> = HashMap::new();
    // A linked id's customer, looked up once per distinct key.
    let mut owner: HashMap<Vec<u8>, Option<String>> = HashMap::new();
    let summary = source.scan(&ScanRequest::new(topic), cancel, &mut |event| {
        match event {
            ScanEvent::Progress(progress) => on_progress(progress),
            ScanEvent::Records(records) => {
                for record in records {
                    result.records += 1;
                    let Some(key) = record.key else {
                        continue;
                    };
                    let customer = match owner.get(&key) {
                        Some(customer) => customer.clone(),
                        None => {
                            let customer = links.customer_of(&String::from_utf8_lossy(&key));
                            owner.insert(key.clone(), customer.clone());
                            customer
                        }
                    };
                    let customer = match customer {
                        Some(customer) => {
                            if key != customer.as_bytes() {
                                result.linked_key_records += 1;
                            }
                            customer
                        }
                        None => {
                            result.unlinked_records += 1;
                            String::from_utf8_lossy(&key).into_owned()
                        }
                    };
                    partitions
                        .entry(customer)
                        .or_default()
                        .insert(record.partition);
                }
            }
        }
        true
    })?;
    result.cancelled = summary.cancelled;
    result.customers = partitions.len() as u64;
    let mut split: Vec<(&String, &BTreeSet<i32>)> =
        partitions.iter().filter(|(_, p)| p.len() > 1).collect();
    result.split_customers = split.len() as u64;
    result.share = result.split_customers as f64 / result.customers.max(1) as f64;
    split.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    result.examples = split
        .into_iter()
        .take(EXAMPLES)
        .map(|(customer, p)| SplitExample {
            customer: customer.clone(),
            partitions: p.iter().copied().collect(),
        })
        .collect();
    Ok(result)
}
