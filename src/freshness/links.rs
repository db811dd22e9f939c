//! Linked id → customer, from the spec's link sources (identity-like topics, small) read whole:
//! how the census and the rebuild rehearsal route an event keyed by an anonymous or device id
//! to its customer.

use std::collections::{BTreeMap, HashMap};

use crate::cluster::{CancelToken, ClusterError, ScanEvent, ScanRequest};
use crate::profile::{DecodeError, SourceDecoder, Spec};
use crate::source::Source;

/// Linked id → customer, from the link sources read whole.
#[derive(Debug, Default)]
pub struct Links {
    /// Every key a link source holds: these are customers.
    pub customers: std::collections::HashSet<String>,
    /// Linked id → its customer.
    pub alias: HashMap<String, String>,
    pub undecodable: u64,
    pub records: u64,
}

impl Links {
    /// The customer `key` belongs to: itself when a link source holds it, else the customer
    /// that links it.
    pub fn customer_of(&self, key: &str) -> Option<String> {
        if self.customers.contains(key) {
            return Some(key.to_owned());
        }
        self.alias.get(key).cloned()
    }

    /// Reads every link source whole (or only `partitions` of each): each record's key is a
    /// customer, its link pointers name the customer's other ids.
    pub fn read(
        source: &dyn Source,
        spec: &Spec,
        decoder: &SourceDecoder,
        partitions: Option<&[i32]>,
        cancel: &CancelToken,
    ) -> Result<Links, ClusterError> {
        let mut links = Links::default();
        // A linked id claimed by two customers goes to the first in key order: the same answer
        // whatever order the partitions were read in.
        let mut claims: BTreeMap<String, String> = BTreeMap::new();
        for src in spec.sources.iter().filter(|s| !s.links.is_empty()) {
            let request = ScanRequest {
                partitions: partitions.map(<[i32]>::to_vec),
                ..ScanRequest::new(src.topic.clone())
            };
            source.scan(&request, cancel, &mut |event| {
                let ScanEvent::Records(records) = event else {
                    return true;
                };
                for record in records {
                    links.records += 1;
                    let Some(key) = record.key.as_deref() else {
                        continue;
                    };
                    let key = String::from_utf8_lossy(key).into_owned();
                    let value = match record.value.as_deref() {
                        Some(bytes) => decoder.decode(src, bytes),
                        None => Err(DecodeError::Tombstone),
                    };
                    links.customers.insert(key.clone());
                    match value {
                        Ok(value) => {
                            for pointer in &src.links {
                                if let Some(id) = crate::profile::pointer(&value, pointer)
                                    .and_then(crate::profile::id_text)
                                    .filter(|id| *id != key)
                                {
                                    let claim = claims.entry(id).or_insert_with(|| key.clone());
                                    if key < *claim {
                                        claim.clone_from(&key);
                                    }
                                }
                            }
                        }
                        Err(DecodeError::Tombstone) => {}
                        Err(_) => links.undecodable += 1,
                    }
                }
                true
            })?;
        }
        links.alias = claims.into_iter().collect();
        Ok(links)
    }
}
