//! Time at the bottom of the house: the wall clock and durations in words, used by every
//! layer (the engine modules import it; it imports none of them).

/// Milliseconds since the Unix epoch, by the wall clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The latest time freshlens takes for real: the end of year 9999, in ms since the epoch.
pub const LATEST_MS: i64 = 253_402_300_799_999;

/// Whether `ms` can be a real event or broker time (1970 to 9999): anything else is a
/// placeholder or garbage, and arithmetic on it would overflow into nonsense.
pub fn plausible_ms(ms: i64) -> bool {
    (0..=LATEST_MS).contains(&ms)
}

/// A duration as people read it: `42s`, `3m12s`, `2h05m`, `3d04h` (negative counts as zero).
/// The one duration format of the engine and the CLI.
pub fn format_duration_ms(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        s => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// A latency: milliseconds below a second (`340 ms`), tenths of a second below a minute
/// (`4.2s`), then as [`format_duration_ms`].
pub fn format_latency_ms(ms: i64) -> String {
    match ms.max(0) {
        ms if ms < 1_000 => format!("{ms} ms"),
        ms if ms < 60_000 => format!("{:.1}s", ms as f64 / 1_000.0),
        ms => format_duration_ms(ms),
    }
}

/// An estimate in seconds, as [`format_duration_ms`] says it but with tenths below a minute
/// (an estimate of 4.2 s is not "4s").
pub fn format_seconds(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format_duration_ms((s * 1000.0) as i64)
    }
}

/// A time as `2026-11-28 07:35:49.123` (UTC); `-` for none. The one timestamp format of the
/// CLI and the GUI.
pub fn format_timestamp(ms: Option<i64>) -> String {
    match ms.and_then(chrono::DateTime::from_timestamp_millis) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        None => "-".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_durations_read_as_people_write_them() {
        assert_eq!(
            format_timestamp(Some(1_700_000_000_123)),
            "2023-11-14 22:13:20.123"
        );
        assert_eq!(format_timestamp(Some(-1)), "1969-12-31 23:59:59.999");
        assert_eq!(format_timestamp(None), "-");
        assert_eq!(format_duration_ms(192_000), "3m12s");
        assert_eq!(format_duration_ms(5_000), "5s");
        assert_eq!(format_duration_ms(7_320_000), "2h02m");
        assert_eq!(format_duration_ms(3 * 3_600_000 - 60_000), "2h59m");
        assert_eq!(format_duration_ms(-5_000), "0s");
        assert_eq!(format_duration_ms(2 * 86_400_000 + 3_600_000), "2d01h");
        assert_eq!(format_seconds(4.24), "4.2s");
        assert_eq!(format_latency_ms(340), "340 ms");
        assert_eq!(format_latency_ms(4_240), "4.2s");
        assert_eq!(format_latency_ms(192_000), "3m12s");
        assert_eq!(format_seconds(192.0), "3m12s");
    }
}
