//! Migration between two clusters: the topics on both sides (name mapping, watermarks, missing
//! records, settings), MirrorMaker 2's checkpoints and offset syncs decoded as Kafka writes them,
//! and what a cutover now would replay or skip per group and partition.

mod compare;
mod customer;
mod groups;
mod mm2;
mod topics;

pub use compare::{CompareRequest, Comparison, compare};
pub use customer::{AlignedRow, CustomerDiff, EventRef, FieldDiff, diff_customer, renamed_spec};
pub use groups::{
    Checkpoints, GroupPartition, GroupSides, OffsetSyncs, read_checkpoints, read_offset_syncs,
    translate_groups,
};
pub use mm2::{
    Checkpoint, Cutover, Mm2Error, OffsetSync, cutover, decode_checkpoint, decode_offset_sync,
};
pub use topics::{ConfigDiff, Configs, PartitionSides, Rename, TopicSides, compare_topics};
