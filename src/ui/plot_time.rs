//! Time axes of plots: x is seconds since an origin (f64 keeps millisecond precision there,
//! not at epoch scale), labelled with the UTC clock time like every other time in the app.

use chrono::{TimeZone, Utc};

/// The UTC clock label of plot position `x` seconds after `origin_ms`.
pub fn clock_label(origin_ms: i64, x: f64) -> String {
    let ms = origin_ms + (x * 1000.0).round() as i64;
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.format("%H:%M:%S").to_string(),
        None => String::new(),
    }
}

/// Plot position of `ms` on an axis starting at `origin_ms`.
pub fn plot_x(origin_ms: i64, ms: i64) -> f64 {
    (ms - origin_ms) as f64 / 1000.0
}

/// Grid steps of an axis of seconds: the step among round durations (1 s, 15 s, 1 m, 5 m,
/// 1 h, 6 h, 1 d…) that puts about four labelled ticks over the range, with its neighbours for
/// the finer and coarser lines. egui_plot's default steps are powers of ten, which leave a
/// 0..2 h axis with the single label "0" (its 1,000 s ticks are too close to label and its
/// 10,000 s ticks out of range).
pub fn duration_steps(input: egui_plot::GridInput) -> [f64; 3] {
    const NICE: [f64; 31] = [
        0.001,
        0.002,
        0.005,
        0.01,
        0.02,
        0.05,
        0.1,
        0.2,
        0.5,
        1.0,
        2.0,
        5.0,
        10.0,
        15.0,
        30.0,
        60.0,
        120.0,
        300.0,
        600.0,
        900.0,
        1_800.0,
        3_600.0,
        7_200.0,
        10_800.0,
        21_600.0,
        43_200.0,
        86_400.0,
        172_800.0,
        604_800.0,
        2_592_000.0,
        31_536_000.0,
    ];
    let rough = (input.bounds.1 - input.bounds.0).abs() / 4.0;
    let at = NICE
        .iter()
        .position(|s| *s >= rough)
        .unwrap_or(NICE.len() - 1);
    let step = NICE[at];
    let finer = if at > 0 { NICE[at - 1] } else { step / 2.0 };
    let coarser = NICE.get(at + 1).copied().unwrap_or(step * 10.0);
    [finer, step, coarser]
}

/// Grid steps of 1, 2 or 5 times a power of ten, about four labelled ones over the range (for
/// counts; the default powers of ten leave a 0..78,000 axis with one label).
pub fn count_steps(input: egui_plot::GridInput) -> [f64; 3] {
    let range = (input.bounds.1 - input.bounds.0).abs().max(1.0);
    let rough = range / 4.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power);
    [(step / 5.0).max(1.0), step, step * 5.0]
}

/// A count as an axis label: 750, 12k, 1.5M.
pub fn count_axis(mark: egui_plot::GridMark, _range: &std::ops::RangeInclusive<f64>) -> String {
    let n = mark.value;
    if n.abs() >= 1e6 {
        format!("{:.1}M", n / 1e6)
    } else if n.abs() >= 1e4 {
        format!("{:.0}k", n / 1e3)
    } else {
        format!("{n:.0}")
    }
}

/// A y tick of a duration axis whose values are seconds: `250ms`, `1.5s`, `3m12s`, signed.
pub fn duration_axis(mark: egui_plot::GridMark, _range: &std::ops::RangeInclusive<f64>) -> String {
    signed_duration((mark.value * 1000.0).round() as i64)
}

/// The y of a latency on a log axis: log10 of seconds, a latency under 1 ms drawn at 1 ms
/// (a log axis has no zero).
pub fn log_seconds(ms: i64) -> f64 {
    (ms.max(1) as f64 / 1000.0).log10()
}

/// Marks of a [`log_seconds`] axis: every decade (1ms, 10ms, … 100s) with 2× and 5× between,
/// so milliseconds and a restart's tens of seconds read on one plot.
pub fn log_seconds_marks(input: egui_plot::GridInput) -> Vec<egui_plot::GridMark> {
    let (lo, hi) = input.bounds;
    // 1 µs to 30 years: a zoomed-out view does not ask for a mark per decade to infinity.
    let (first, last) = (lo.floor().max(-6.0) as i32, hi.ceil().min(9.0) as i32);
    let mut marks = Vec::new();
    for decade in first..=last {
        for (factor, step_size) in [(1.0f64, 1.0), (2.0, 0.3), (5.0, 0.3)] {
            let value = f64::from(decade) + factor.log10();
            if (lo..=hi).contains(&value) {
                marks.push(egui_plot::GridMark { value, step_size });
            }
        }
    }
    marks
}

/// A tick of a [`log_seconds`] axis, as a duration: `5ms`, `200ms`, `20s`.
pub fn log_seconds_axis(
    mark: egui_plot::GridMark,
    _range: &std::ops::RangeInclusive<f64>,
) -> String {
    signed_duration(log_seconds_ms(mark.value))
}

/// The latency a [`log_seconds`] y stands for, in ms.
pub fn log_seconds_ms(y: f64) -> i64 {
    (10f64.powf(y) * 1000.0).round() as i64
}

/// A duration that may be negative, readable at every scale (sub-second values included, so
/// an axis of small lags does not read "0s" at every tick).
pub fn signed_duration(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs() as i64;
    let text = match ms {
        0 => "0".to_owned(),
        1..=999 => format!("{ms}ms"),
        1_000..=59_999 if ms % 1_000 != 0 => format!("{:.1}s", ms as f64 / 1000.0),
        _ => crate::time::format_duration_ms(ms),
    };
    format!("{sign}{text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_every_scale() {
        assert_eq!(signed_duration(0), "0");
        assert_eq!(signed_duration(250), "250ms");
        assert_eq!(signed_duration(1_500), "1.5s");
        assert_eq!(signed_duration(-2_000), "-2s");
        assert_eq!(signed_duration(192_000), "3m12s");
    }

    fn input(lo: f64, hi: f64) -> egui_plot::GridInput {
        egui_plot::GridInput {
            bounds: (lo, hi),
            base_step_size: 1.0,
        }
    }

    #[test]
    fn axes_get_round_steps_about_four_to_the_range() {
        // Two hours of lag: 30 m ticks, 15 m and 1 h around them.
        assert_eq!(
            duration_steps(input(0.0, 7_200.0)),
            [900.0, 1_800.0, 3_600.0]
        );
        assert_eq!(duration_steps(input(0.0, 40.0)), [5.0, 10.0, 15.0]);
        // 78,000 records: 20k ticks.
        assert_eq!(
            count_steps(input(0.0, 78_000.0)),
            [4_000.0, 20_000.0, 100_000.0]
        );
        assert_eq!(count_steps(input(0.0, 3.0)), [1.0, 1.0, 5.0]);
        let mark = |value| egui_plot::GridMark {
            value,
            step_size: 1.0,
        };
        assert_eq!(count_axis(mark(60_000.0), &(0.0..=1.0)), "60k");
        assert_eq!(count_axis(mark(2_500.0), &(0.0..=1.0)), "2500");
        assert_eq!(count_axis(mark(1_500_000.0), &(0.0..=1.0)), "1.5M");
    }

    #[test]
    fn a_log_latency_axis_marks_decades_and_reads_back_in_ms() {
        assert_eq!(log_seconds(0), log_seconds(1), "no zero on a log axis");
        assert_eq!(log_seconds_ms(log_seconds(250)), 250);
        assert_eq!(log_seconds_ms(log_seconds(42_000)), 42_000);
        // 5 ms to 20 s: 5ms 10ms 20ms 50ms … 10s 20s.
        let labels: Vec<String> = log_seconds_marks(input(log_seconds(5), log_seconds(20_000)))
            .into_iter()
            .map(|m| log_seconds_axis(m, &(0.0..=1.0)))
            .collect();
        assert_eq!(labels.first().map(String::as_str), Some("5ms"));
        assert_eq!(labels.last().map(String::as_str), Some("20s"));
        assert_eq!(labels.len(), 12, "{labels:?}");
        assert!(labels.contains(&"1s".to_owned()), "{labels:?}");
        // A view zoomed far out stays bounded.
        assert!(log_seconds_marks(input(-1e9, 1e9)).len() <= 48);
    }
}
