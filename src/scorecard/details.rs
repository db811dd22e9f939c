//! A row's evidence in lines people read: the text output, the reports and the tab all show
//! these, so they say the same thing.

use serde_json::Value;

use super::row::{Row, RowKind};
use crate::time::{format_duration_ms, format_timestamp};

fn ms(v: &Value) -> String {
    v.as_i64().map_or("?".into(), format_duration_ms)
}

fn bytes(v: &Value) -> String {
    v.as_f64().map_or("?".into(), |b| match b {
        b if b >= 1e9 => format!("{:.2} GB", b / 1e9),
        b if b >= 1e6 => format!("{:.1} MB", b / 1e6),
        b if b >= 1e3 => format!("{:.1} kB", b / 1e3),
        b => format!("{b:.0} B"),
    })
}

/// An amount of the user's money: cents where it is under one.
fn money(v: f64) -> String {
    if v != 0.0 && v.abs() < 1.0 {
        format!("{v:.4}")
    } else {
        format!("{v:.2}")
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "?".into(),
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or_default();
            if f.abs() >= 100.0 {
                format!("{f:.0}")
            } else {
                format!("{f:.3}")
            }
        }
        other => other.to_string(),
    }
}

/// The evidence's scalars as `key: value`, and its tables as a line per entry.
pub fn details(row: &Row) -> Vec<String> {
    let e = &row.evidence;
    // The row's own tables first (the hops, the bursts, the envelopes: what the verdict turns
    // on), then its numbers; durations in words.
    let scalars: Vec<String> = e
        .iter()
        .filter(|(_, v)| !v.is_array() && !v.is_object() && !v.is_null())
        .map(|(k, v)| match k.strip_suffix("_ms") {
            Some(name) if v.is_i64() || v.is_u64() => {
                format!("{}: {}", name.replace('_', " "), ms(v))
            }
            _ => format!("{}: {}", k.replace('_', " "), text(v)),
        })
        .collect();
    let mut lines: Vec<String> = Vec::new();
    let list = |key: &str| {
        e.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    match row.row {
        RowKind::Freshness => {
            if let Some([lo, hi]) = e
                .get("within_share_ci95")
                .and_then(|v| serde_json::from_value::<[f64; 2]>(v.clone()).ok())
            {
                lines.push(format!(
                    "share served within the budget: 95% interval {:.1}%–{:.1}%",
                    lo * 100.0,
                    hi * 100.0
                ));
            }
            for hop in list("chain") {
                lines.push(format!(
                    "hop {} {}: {}{}",
                    text(&hop["kind"]),
                    text(&hop["hop"]),
                    ms(&hop["value_ms"]),
                    if hop["within_budget"] == Value::Bool(false) {
                        " past the budget"
                    } else {
                        ""
                    }
                ));
            }
        }
        RowKind::Elasticity => {
            for b in list("bursts") {
                lines.push(format!(
                    "burst on {} {} – {}: {} records (median {}/min); worst lag {}, back within \
                     budget {}",
                    text(&b["topic"]),
                    format_timestamp(b["start_ms"].as_i64()),
                    format_timestamp(b["end_ms"].as_i64()),
                    text(&b["records"]),
                    text(&b["median_per_minute"]),
                    ms(&b["worst_lag_ms"]),
                    match b["recovered_after_ms"].as_i64() {
                        Some(0) => "at its end (it never left the budget at a commit)".to_owned(),
                        Some(after) => format!("{} after it", format_duration_ms(after)),
                        None => "not yet".to_owned(),
                    }
                ));
            }
        }
        RowKind::Cost => {
            for t in list("topics") {
                lines.push(format!(
                    "{} ({}): {} retained, {} a day, needs {}, {} a month from now × {} replicas",
                    text(&t["topic"]),
                    text(&t["role"]),
                    bytes(&t["retained_bytes"]),
                    bytes(&t["growth_bytes_per_day"]),
                    text(&t["needs"]),
                    bytes(&t["envelope_bytes"]),
                    text(&t["replication_factor"]),
                ));
            }
            for o in list("options") {
                lines.push(format!(
                    "{}: {} a month ({} storage + {} one replay){}",
                    text(&o["option"]),
                    money(o["total"].as_f64().unwrap_or_default()),
                    money(o["storage_month"].as_f64().unwrap_or_default()),
                    money(o["replay"].as_f64().unwrap_or_default()),
                    match o["fits"].as_bool() {
                        Some(true) => ": fits",
                        Some(false) => ": over max_month",
                        None => "",
                    }
                ));
            }
        }
        RowKind::Governance => {
            for a in list("attributes") {
                let names = |v: &Value| {
                    v.as_array().map_or("not listed".into(), |a| {
                        a.iter().map(text).collect::<Vec<_>>().join(", ")
                    })
                };
                lines.push(format!(
                    "pii {}: readers {}; allowed {}",
                    text(&a["field"]),
                    match a["readers"].as_array() {
                        Some(r) if r.is_empty() => "none named".to_owned(),
                        _ => names(&a["readers"]),
                    },
                    names(&a["allowed"])
                ));
            }
            for t in list("pii_topics") {
                lines.push(format!(
                    "{}: cleanup.policy {}, retention {}",
                    text(&t["topic"]),
                    text(&t["cleanup_policy"]),
                    match t["retention_ms"].as_i64() {
                        Some(-1) => "forever".to_owned(),
                        Some(v) => format!("{} ({})", format_duration_ms(v), text(&t["read"])),
                        None => "unknown".to_owned(),
                    }
                ));
            }
            if let Some(counts) = e.get("erasures").and_then(Value::as_object) {
                let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
                if !parts.is_empty() {
                    lines.push(format!("erasures verified: {}", parts.join(", ")));
                }
            }
            for c in list("compatibility") {
                lines.push(format!(
                    "subject {}: compatibility {}",
                    text(&c["subject"]),
                    text(&c["level"])
                ));
            }
        }
        RowKind::Rebuild => {
            for f in list("fields")
                .iter()
                .filter(|f| f["exact"] == Value::Bool(false))
            {
                lines.push(format!(
                    "field {}: {}",
                    text(&f["field"]),
                    text(&f["reason"])
                ));
            }
        }
        RowKind::Migration | RowKind::Compatibility => {}
    }
    lines.extend(scalars);
    lines
}
