//! Time lag estimated from offsets, as kafka-lag-exporter does: a bounded table of sampled
//! (high-watermark offset, time) points per partition, linear interpolation between them.

use std::collections::VecDeque;

/// What the table says of an offset, in kafka-lag-exporter's terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lookup {
    TooFewPoints,
    /// The offset is the newest point's: nothing written after it is unread.
    LagIsZero,
    /// Infinite where the table is flat (dy = 0): kafka-lag-exporter answers the same.
    Prediction {
        time_ms: f64,
        extrapolated: bool,
    },
}

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

    /// Records that the high watermark was `offset` at `at_ms`, as kafka-lag-exporter's
    /// `addPoint` does: points out of order in time or offset are dropped, and an idle stretch
    /// (the same offset again) keeps its first point and moves its last one, so the table holds
    /// both when the stretch began and when it last was seen idle.
    pub fn add(&mut self, offset: i64, at_ms: i64) {
        let n = self.points.len();
        if let Some(&(last_offset, last_ms)) = self.points.back() {
            if last_ms >= at_ms || last_offset > offset {
                return;
            }
            if last_offset == offset && n > 1 && self.points[n - 2].0 == offset {
                self.points[n - 1] = (offset, at_ms);
                return;
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

    /// The sampled (offset, time) points, oldest first.
    pub fn points(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.points.iter().copied()
    }

    /// When the record at `offset` was written, as kafka-lag-exporter's `lookup` predicts it:
    /// interpolated in the newest pair of points that holds the offset, else extrapolated along
    /// the whole table's slope (first to last point).
    pub fn lookup(&self, offset: i64) -> Lookup {
        let Some(&(last_offset, _)) = self.points.back() else {
            return Lookup::TooFewPoints;
        };
        if offset == last_offset {
            return Lookup::LagIsZero;
        }
        if self.points.len() < 2 {
            return Lookup::TooFewPoints;
        }
        let n = self.points.len();
        let pair = (1..n)
            .rev()
            .map(|i| (self.points[i - 1], self.points[i]))
            .find(|(l, r)| l.0 <= offset && offset <= r.0);
        let ((left, right), extrapolated) = match pair {
            Some(pair) => (pair, false),
            None => ((self.points[0], self.points[n - 1]), true),
        };
        let dx = (right.1 - left.1) as f64;
        let dy = (right.0 - left.0) as f64;
        let time_ms = right.1 as f64 - (right.0 - offset) as f64 * dx / dy;
        Lookup::Prediction {
            time_ms,
            extrapolated,
        }
    }

    /// When the record at `offset` was written, in whole milliseconds; `None` when the table
    /// cannot tell (too few points, or a flat table that never moved).
    pub fn time_of(&self, offset: i64) -> Option<i64> {
        match self.lookup(offset) {
            Lookup::LagIsZero => self.points.back().map(|p| p.1),
            Lookup::TooFewPoints => None,
            Lookup::Prediction { time_ms, .. } => {
                time_ms.is_finite().then(|| time_ms.round() as i64)
            }
        }
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
        match self.lookup(committed) {
            // The table's newest point is behind the real high watermark: the record was
            // written after the last sample, so its age is at most since that sample.
            Lookup::LagIsZero => self.points.back().map(|p| (now_ms - p.1).max(0)),
            _ => self.time_of(committed).map(|t| (now_ms - t).max(0)),
        }
    }
}

#[cfg(test)]
mod tests;
