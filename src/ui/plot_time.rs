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
