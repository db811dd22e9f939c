//! Rebuild readiness and rehearsal: can the profile store be rebuilt from the events the
//! cluster still retains, what would a rebuild regress, and how long would it take.
//!
//! Readiness is cheap: topic metadata and configs, the record at each low watermark, and a
//! short timed read. The rehearsal replays every retained record (or a slice of partitions,
//! whose customers hold whole histories when sources are co-partitioned), folds each customer
//! and compares the result with the store's latest version.

mod classify;
pub mod flink;
mod readiness;
mod rehearse;
mod replay;

pub use classify::{Class, Evidence, classify};
pub use readiness::{
    Estimate, FieldReadiness, PartitionRetained, Readiness, TopicReadiness, field_readiness,
    readiness,
};
pub use rehearse::{
    Example, FieldResult, Rehearsal, RehearseError, RehearseRequest, Whole, rehearse,
};
pub use replay::set_pointer;
