//! A customer's profile: the spec that defines it, the partitions a key lands in, the timeline of
//! events across topics (following identity links), the fold into fields with provenance, and the
//! comparison with what the profile store serves.

mod batch;
mod budget;
pub mod contract;
mod decoder;
mod event;
mod fold;
pub mod infer;
mod lookup;
mod partitioner;
mod pending;
mod pii;
pub mod placement;
mod pointer;
mod recorded;
mod report;
mod request;
mod schema_cause;
pub mod schema_change;
pub mod schemas;
pub mod spec;
mod store;
mod timeline;
pub mod view;

pub use batch::lookup_many;
pub use budget::{Budget, BudgetOutOfRange, MAX_BUDGET, Standing};
pub use decoder::{DecodeError, DecoderError, SourceDecoder};
pub use event::{Event, merge_into_timeline, parse_event_time, sort_timeline};
pub use fold::{Erasure, FieldValue, Profile, Provenance, Refold, field_changes, fold};
pub use lookup::{Lookup, lookup, lookup_streaming};
pub use partitioner::{Partitioner, fnv1a, murmur2};
pub use pending::{Pending, not_consumed};
pub use pii::{MASK, PiiIds, PiiMask};
pub use pointer::pointer;
pub use recorded::capture_lookup;
pub use report::{ProfileReport, pii_state, report_json, shown_value};
pub use request::{LookupRequest, Window};
pub use spec::{Field, Rule, Spec, SpecError};
pub use store::{
    BuilderPosition, Cause, StaleField, StoreComparison, StoreVersion, compare, format_duration_ms,
    same_value, store_versions, store_versions_of,
};
pub use timeline::{
    MAX_HOPS, MAX_IDENTITIES, ProgressFn, ScanStats, Timeline, Undecodable, id_text, load_timeline,
    to_event,
};
