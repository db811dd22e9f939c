//! Migration between two clusters: MirrorMaker 2's checkpoints and offset syncs decoded as
//! Kafka writes them, and what a cutover now would replay or skip per group and partition.

mod mm2;

pub use mm2::{
    Checkpoint, Cutover, Mm2Error, OffsetSync, cutover, decode_checkpoint, decode_offset_sync,
};
