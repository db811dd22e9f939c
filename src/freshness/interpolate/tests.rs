//! kafka-lag-exporter's `LookupTableSpec` cases, ported, then freshlens's own.
//!
//! Translation: `Point(offset, time)` is `add(offset, time)`; `Prediction(x)` compares the
//! predicted time within 1e-9 (the Scala spec compares doubles exactly; the arithmetic is the
//! same, so only rounding in the last bit could differ). The Redis-backed table is not ported.

use super::*;

fn predicts(table: &OffsetTimeTable, offset: i64, expected: f64) {
    match table.lookup(offset) {
        Lookup::Prediction { time_ms, .. } => {
            assert!(
                (time_ms - expected).abs() < 1e-9 || time_ms == expected,
                "lookup({offset}) = {time_ms}, expected {expected}"
            )
        }
        other => panic!("lookup({offset}) = {other:?}, expected {expected}"),
    }
}

#[test]
fn kle_invalids_and_edge_conditions() {
    let mut table = OffsetTimeTable::new(10);
    assert!(table.is_empty());
    assert_eq!(table.lookup(0), Lookup::TooFewPoints);
    table.add(100, 100);
    assert_eq!(table.lookup(0), Lookup::TooFewPoints);
    // Must increase monotonically in time and offset: all of these are dropped.
    for (offset, time) in [(110, 90), (90, 110), (0, 0), (110, -1), (-1, 110), (-1, -1)] {
        table.add(offset, time);
    }
    assert_eq!(table.len(), 1, "out-of-order points are skipped");
}

#[test]
fn kle_square_lookups() {
    let mut table = OffsetTimeTable::new(10);
    table.add(100, 100);
    table.add(200, 200);
    // Interpolation, extrapolation under the table, over it.
    for expected in [150, 190, 110, 10, 0, -100, 300] {
        predicts(&table, expected, expected as f64);
    }
    // KLE's list ends with 100, the first point: a prediction there, not "lag is zero".
    predicts(&table, 100, 100.0);
}

#[test]
fn kle_lookups_with_flat_sections() {
    let mut table = OffsetTimeTable::new(10);
    table.add(100, 30);
    table.add(200, 60);
    table.add(200, 120);
    table.add(200, 700);
    assert_eq!(
        table.len(),
        3,
        "the middle of the flat stretch is compressed"
    );
    table.add(300, 730);
    table.add(300, 9000);
    table.add(400, 9030);
    predicts(&table, 199, 59.7);
    // The newest (right-hand) end of a flat stretch: not the idle duration before it.
    predicts(&table, 200, 700.0);
    predicts(&table, 201, 700.3);
    predicts(&table, 250, 715.0);
    predicts(&table, 299, 729.7);
    predicts(&table, 300, 9000.0);
    predicts(&table, 301, 9000.3);
}

#[test]
fn kle_flat_table_at_the_looked_up_offset() {
    let mut table = OffsetTimeTable::new(5);
    table.add(0, 0);
    table.add(0, 100);
    assert_eq!(table.lookup(0), Lookup::LagIsZero);
}

#[test]
fn kle_infinite_lookups_on_a_flat_curve() {
    let mut table = OffsetTimeTable::new(10);
    for time in [100, 200, 300, 400] {
        table.add(100, time);
    }
    assert_eq!(table.len(), 2, "flat entries compress to one segment");
    assert_eq!(
        table.points().last(),
        Some((100, 400)),
        "keeps the last time"
    );
    predicts(&table, 99, f64::NEG_INFINITY);
    predicts(&table, 101, f64::INFINITY);
    // freshlens turns the infinite prediction into "unknown", never a time lag of infinity.
    assert_eq!(table.time_of(99), None);
}

#[test]
fn kle_normal_case_truncates_with_different_rates() {
    let mut table = OffsetTimeTable::new(5);
    for (offset, time) in [(-2, -2), (-1, -1), (0, 0), (10, 1), (200, 2)] {
        table.add(offset, time);
    }
    assert_eq!(table.len(), 5);
    table.add(3000, 3);
    table.add(40000, 4);
    assert_eq!(table.len(), 5, "limited to 5 entries");
    predicts(&table, 1600, 2.5);
    predicts(&table, 0, 0.0);
    predicts(&table, 1, 0.09999999999999998);
    predicts(&table, 9, 0.9);
    predicts(&table, 10, 1.0);
    predicts(&table, 200, 2.0);
    predicts(&table, 2999, 2.9996428571428573);
    predicts(&table, 3000, 3.0);
    predicts(&table, 3001, 3.000027027027027);
    // Extrapolation uses the whole table's slope, first point to last.
    predicts(&table, -10000, -1.0);
    predicts(&table, 50000, 5.0);
    // KLE's spec expects Prediction(4) here, written before its `lookup` answered LagIsZero
    // for the newest point's offset; its current `lookup` (and ours) answers LagIsZero.
    assert_eq!(table.lookup(40000), Lookup::LagIsZero);
}

#[test]
fn kle_most_recent_point() {
    let mut table = OffsetTimeTable::new(5);
    assert_eq!(table.points().last(), None);
    for n in 0..=10 {
        table.add(n, n * 10);
        assert_eq!(table.points().last().map(|p| p.0), Some(n));
    }
}

#[test]
fn time_lag_from_the_table() {
    let mut table = OffsetTimeTable::new(10);
    table.add(100, 1_000);
    table.add(200, 2_000);
    table.add(400, 3_000);
    assert_eq!(table.time_of(150), Some(1_500));
    assert_eq!(table.time_lag_ms(300, 400, 10_000), Some(7_500));
    assert_eq!(table.time_lag_ms(400, 400, 10_000), Some(0));
    // An idle stretch does not age the next record: the high watermark sat at 400 from 3 s to
    // 9 s, so the record at 400 was written after 9 s, not at 3 s.
    table.add(400, 9_000);
    table.add(400, 9_500);
    table.add(500, 10_000);
    assert_eq!(table.time_lag_ms(400, 500, 10_000), Some(500));
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
