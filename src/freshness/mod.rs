//! Freshness: how far behind consumer groups are, in offsets and in time, whether they are
//! recovering (Burrow's rules), time lag estimated from sampled watermarks; and for a profile,
//! when the store applied each source event, staleness over time and topic ingest delay.

mod applied;
mod backfill;
mod census;
mod chain;
mod commit_log;
mod connectors;
mod domain;
mod drain;
mod history;
mod ingest;
mod interpolate;
mod lag;
mod links;
mod offsets_topic;
mod projection;
mod recent;
mod report;
mod sample;
mod series;
mod staleness;
mod status;
mod store_age;
mod watch;

pub use applied::{EventFreshness, applied_times};
pub use backfill::{PastLag, group_time_lag_history, past_lags};
pub use census::{Census, CensusError, NOT_CONSUMED, PartitionTail, PendingCustomer, census};
pub use chain::{ChainVerdict, Hop, chain, verdict};
pub use commit_log::CommitLog;
pub use connectors::{ConnectError, connector_hops};
pub use domain::{DEFAULT_SAMPLE, Domain, DomainError, DomainRequest, DomainStep, look_at_domain};
pub use drain::{Drain, Retention, RetentionRisk, back_within_budget_ms};
pub use history::LagHistory;
pub use ingest::{DelayBucket, IngestSample, ingest_buckets, nearest_rank, sample_ingest};
pub use interpolate::OffsetTimeTable;
pub use lag::{
    GroupLag, PartitionLag, Steps, apply_commit_history, look_at_groups, look_at_groups_timed,
};
pub use links::Links;
pub use offsets_topic::{
    OFFSETS_TOPIC, OffsetCommit, OffsetsRecord, decode_offsets_record, offsets_partition,
};
pub use projection::{BackWithinBudget, back_within_budget};
pub use recent::{Recent, produce_rate, recent};
pub use report::{ProfileFreshness, profile_freshness};
pub use sample::{StoreSample, pick_keys, sample_store, wilson_95};
pub use series::{LagPoint, merge_partitions};
pub use staleness::{Breach, Delivery, Staleness, StalenessPoint, staleness, staleness_at};
pub use status::{Commit, Rules, Status, Verdict, evaluate};
pub use store_age::{LatestVersion, StoreAge, StoreAgeError, StoreLatest, store_age, store_latest};
pub use watch::{GroupWatch, Look};

pub use crate::time::now_ms;
