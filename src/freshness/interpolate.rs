//! Time lag estimated from offsets, as kafka-lag-exporter does: a bounded table of sampled
//! (high-watermark offset, time) points per partition, linear interpolation between them.

use std::collections::VecDeque;

/// Sampled (offset, time) points of one partition, oldest first.
#[derive(Debug, Clone)]
pub struct OffsetTimeTable {
    points: VecDeque<(i64, i64)>,
    capacity: usize,
}

impl OffsetTimeTable {
    pub fn new(capacity: usize) -> Self {
        Self {
            points: VecDeque::with_capacity(capacity),
            capacity: capacity.max(2),
        }
    }

    /// Records that the high watermark was `offset` at `at_ms`. An idle stretch (same offset)
    /// keeps its first time: that is when the records below it had all been written.
    pub fn add(&mut self, offset: i64, at_ms: i64) {
        if let Some(&(last_offset, _)) = self.points.back() {
            if offset == last_offset {
                return;
            }
            if offset < last_offset {
                // The partition was recreated or truncated: older points no longer describe it.
                self.points.clear();
            }
        }
        if self.points.len() == self.capacity {
            self.points.pop_front();
        }
        self.points.push_back((offset, at_ms));
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// When the high watermark passed `offset`, i.e. about when the record at `offset` was
    /// written; extrapolated at the edges, `None` with fewer than two points.
    pub fn time_of(&self, offset: i64) -> Option<i64> {
        if self.points.len() < 2 {
            return self
                .points
                .front()
                .filter(|(o, _)| *o == offset)
                .map(|(_, t)| *t);
        }
        let points = self.points.iter().copied().collect::<Vec<_>>();
        let last = points.len() - 2;
        let i = points
            .windows(2)
            .position(|pair| pair[0].0 <= offset && offset <= pair[1].0)
            .unwrap_or(if offset < points[0].0 { 0 } else { last });
        let (a, b) = (&points[i], &points[i + 1]);
        let (o1, t1) = *a;
        let (o2, t2) = *b;
        let slope = (t2 - t1) as f64 / (o2 - o1) as f64;
        Some(t1 + ((offset - o1) as f64 * slope).round() as i64)
    }

    /// The high watermark at `at_ms`, interpolated between points; the first or last point's
    /// offset outside them (the table does not know how fast it moved there).
    pub fn offset_at(&self, at_ms: i64) -> Option<i64> {
        let first = *self.points.front()?;
        let last = *self.points.back()?;
        if at_ms <= first.1 {
            return Some(first.0);
        }
        if at_ms >= last.1 {
            return Some(last.0);
        }
        let points = self.points.iter().copied().collect::<Vec<_>>();
        let pair = points
            .windows(2)
            .find(|pair| pair[0].1 <= at_ms && at_ms <= pair[1].1)?;
        let ((o1, t1), (o2, t2)) = (pair[0], pair[1]);
        if t2 == t1 {
            return Some(o2);
        }
        let slope = (o2 - o1) as f64 / (t2 - t1) as f64;
        Some(o1 + ((at_ms - t1) as f64 * slope).floor() as i64)
    }

    /// Estimated time lag of a consumer at `committed`: now minus when that record was written.
    pub fn time_lag_ms(&self, committed: i64, high: i64, now_ms: i64) -> Option<i64> {
        if committed >= high {
            return Some(0);
        }
        self.time_of(committed).map(|t| (now_ms - t).max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_between_samples() {
        let mut table = OffsetTimeTable::new(10);
        table.add(100, 1_000);
        table.add(200, 2_000);
        table.add(400, 3_000);
        assert_eq!(table.time_of(150), Some(1_500));
        assert_eq!(table.time_of(300), Some(2_500));
        assert_eq!(table.time_lag_ms(300, 400, 10_000), Some(7_500));
        assert_eq!(table.time_lag_ms(400, 400, 10_000), Some(0));
    }

    #[test]
    fn offset_at_a_time_interpolates_and_holds_at_the_edges() {
        let mut table = OffsetTimeTable::new(10);
        assert_eq!(table.offset_at(0), None);
        table.add(100, 1_000);
        table.add(200, 2_000);
        assert_eq!(table.offset_at(1_500), Some(150));
        assert_eq!(table.offset_at(500), Some(100));
        assert_eq!(table.offset_at(9_000), Some(200));
    }

    #[test]
    fn extrapolates_at_the_edges() {
        let mut table = OffsetTimeTable::new(10);
        table.add(100, 1_000);
        table.add(200, 2_000);
        assert_eq!(table.time_of(50), Some(500));
        assert_eq!(table.time_of(250), Some(2_500));
    }

    #[test]
    fn idle_stretches_collapse_and_the_table_is_bounded() {
        let mut table = OffsetTimeTable::new(3);
        table.add(100, 1_000);
        table.add(100, 5_000);
        table.add(100, 9_000);
        assert_eq!(table.len(), 1);
        assert_eq!(
            table.time_of(100),
            Some(1_000),
            "first time the offset was seen"
        );
        table.add(200, 10_000);
        table.add(300, 11_000);
        table.add(400, 12_000);
        assert_eq!(table.len(), 3);
        assert_eq!(table.time_of(250), Some(10_500));
        table.add(10, 13_000);
        assert_eq!(table.len(), 1, "a truncated partition starts over");
        assert_eq!(OffsetTimeTable::new(4).time_of(1), None);
    }
}
