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

/// A y tick of a duration axis whose values are seconds: `250ms`, `1.5s`, `3m12s`, signed.
pub fn duration_axis(mark: egui_plot::GridMark, _range: &std::ops::RangeInclusive<f64>) -> String {
    signed_duration((mark.value * 1000.0).round() as i64)
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
}
