//! Freshness: how far behind consumer groups are, in offsets and in time, whether they are
//! recovering (Burrow's rules), and time lag estimated from sampled watermarks.

mod history;
mod interpolate;
mod lag;
mod status;

pub use history::LagHistory;
pub use interpolate::OffsetTimeTable;
pub use lag::{GroupLag, PartitionLag, group_lag};
pub use status::{Sample, Status, evaluate};

/// Milliseconds since the Unix epoch, by the wall clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
