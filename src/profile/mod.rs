//! A customer's profile: the spec that defines it, the partitions a key lands in, the timeline of
//! events across topics (following identity links), the fold into fields with provenance, and the
//! comparison with what the profile store serves.

mod event;
mod fold;
mod partitioner;
pub mod spec;

pub use event::{Event, parse_event_time, sort_timeline};
pub use fold::{Erasure, FieldValue, Profile, Provenance, fold};
pub use partitioner::{Partitioner, murmur2};
pub use spec::{Rule, Spec, SpecError};
