//! Governance you can prove: personal data discovered in sampled records, erasures verified
//! against what the topics and the store still hold, and who may read which attribute.

mod access;
mod acl_list;
mod detect;
mod discover;
mod erasure;

pub use access::{Access, Attribute, Reader, access, readers};

/// Records sampled per topic for PII discovery by default (`pii --sample`, the Governance tab).
pub const DEFAULT_PII_SAMPLE: usize = 1000;
/// How long after an erasure its data may live by default (`erasure --deadline 30d`, the
/// Governance tab).
pub const DEFAULT_ERASURE_DEADLINE_MS: i64 = 30 * 24 * 3_600_000;
pub use acl_list::{AclListError, parse_kafka_acls};
pub use detect::{
    PiiKind, detect_number, detect_text, is_card, is_iban, is_phone, mask, telling_name,
};
pub use discover::{FoundPath, TopicPii, declares_pii, discover};
pub use erasure::{
    ErasureCheck, ErasureVerdict, KAFKA_DEFAULT_RETENTION_MS, Leftover, StoreLeft,
    erased_customers, source_configs, verify, verify_erasures,
};
