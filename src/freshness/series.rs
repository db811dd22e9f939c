//! Lag series of a group's partitions merged into one, for plots of a whole group or topic.

/// (time, offset lag, time lag): one point of a lag series.
pub type LagPoint = (i64, i64, Option<i64>);

/// At every time any partition has a point: the partitions' offset lags as last seen, summed,
/// and the worst time lag. Partitions are seen at different times when the points come from
/// their commits, so summing points of equal time only would undercount.
pub fn merge_partitions(parts: &[Vec<LagPoint>]) -> Vec<LagPoint> {
    let mut times: Vec<i64> = parts.iter().flatten().map(|p| p.0).collect();
    times.sort_unstable();
    times.dedup();
    let mut next = vec![0usize; parts.len()];
    times
        .into_iter()
        .map(|t| {
            let (mut lag, mut time_lag) = (0, None);
            for (part, i) in parts.iter().zip(next.iter_mut()) {
                while *i < part.len() && part[*i].0 <= t {
                    *i += 1;
                }
                if let Some(&(_, l, tl)) = i.checked_sub(1).and_then(|last| part.get(last)) {
                    lag += l;
                    time_lag = time_lag.max(tl);
                }
            }
            (t, lag, time_lag)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_seen_at_different_times_carry_their_last_value() {
        let a = vec![(10, 5, Some(1_000)), (30, 0, Some(0))];
        let b = vec![(20, 7, Some(4_000))];
        assert_eq!(
            merge_partitions(&[a, b]),
            vec![
                (10, 5, Some(1_000)),
                (20, 12, Some(4_000)),
                (30, 7, Some(4_000))
            ]
        );
        assert!(merge_partitions(&[]).is_empty());
    }
}
