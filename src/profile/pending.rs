//! A customer's pending events: the source records its builder group has not consumed yet
//! (at or past the group's committed offset on their partition, or on a partition it has no
//! commit for), and how long the oldest of them has waited. The census (every customer, from
//! the partitions' unread tails), a lookup (one customer, from its timeline) and the Freshness
//! tab all count with this, so the Overview, Profile, Freshness and `stale` agree.

use serde::Serialize;

/// Whether the record at `offset` is still ahead of a group whose committed offset is
/// `committed` (the offset of the next record it will read; `None`: no commit).
pub fn not_consumed(committed: Option<i64>, offset: i64) -> bool {
    committed.is_none_or(|c| offset >= c)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Pending {
    /// Source records not consumed yet.
    pub events: u64,
    /// Broker time of the oldest of them.
    pub oldest_ms: Option<i64>,
}

impl Pending {
    /// Counts one record not consumed yet, written at `broker_ms`.
    pub fn add(&mut self, broker_ms: i64) {
        self.events += 1;
        self.oldest_ms = Some(self.oldest_ms.map_or(broker_ms, |o| o.min(broker_ms)));
    }

    /// "N events not consumed yet by GROUP, the oldest 1h57m behind", as every view says it.
    pub fn words(&self, group: &str, now_ms: i64) -> String {
        match self.behind_ms(now_ms) {
            Some(ms) => format!(
                "{} event(s) not consumed yet by {group}, the oldest {} behind",
                self.events,
                crate::time::format_duration_ms(ms)
            ),
            None => format!("every event consumed by {group}"),
        }
    }

    /// How long the oldest has waited by `now_ms`; `None` with nothing pending.
    pub fn behind_ms(&self, now_ms: i64) -> Option<i64> {
        self.oldest_ms.map(|at| now_ms.saturating_sub(at).max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_is_the_next_offset_to_read() {
        assert!(!not_consumed(Some(10), 9));
        assert!(not_consumed(Some(10), 10));
        assert!(not_consumed(None, 0));
    }

    #[test]
    fn the_oldest_pending_record_sets_the_time_behind() {
        let mut pending = Pending::default();
        assert_eq!(pending.behind_ms(1_000), None);
        for at in [500, 200, 900] {
            pending.add(at);
        }
        assert_eq!(pending.events, 3);
        assert_eq!(pending.behind_ms(1_000), Some(800));
        assert_eq!(pending.behind_ms(100), Some(0));
    }
}
