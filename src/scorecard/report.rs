//! The scorecard as a report to hand on: one self-contained HTML file (inline CSS, plots as
//! inline SVG, readable offline and printable) or Markdown tables. Both show each row's verdict,
//! condition, reasons and the same detail lines as the text output.

use std::fmt::Write;

use serde_json::Value;

use super::details::details;
use super::row::{Row, RowKind, Scorecard, Verdict};
use crate::time::{format_duration_ms, format_timestamp};

/// Text made safe inside HTML (also the trial's report).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Markdown: a summary table, then a section per row.
pub fn markdown(card: &Scorecard) -> String {
    let cell = |t: &str| t.replace('|', "\\|").replace('\n', " ");
    let mut out = String::new();
    let _ = writeln!(out, "# Readiness scorecard: {}\n", cell(&card.domain));
    let _ = writeln!(
        out,
        "As of {}, freshness budget {}.\n",
        format_timestamp(Some(card.as_of_ms)),
        format_duration_ms(card.budget_ms)
    );
    let _ = writeln!(out, "| row | verdict | passes when |\n|---|---|---|");
    for row in &card.rows {
        let _ = writeln!(
            out,
            "| {} | **{}** | {} |",
            row.row.title(),
            row.verdict.word(),
            cell(&row.condition)
        );
    }
    for row in &card.rows {
        let _ = writeln!(out, "\n## {}: {}\n", row.row.title(), row.verdict.word());
        let _ = writeln!(out, "Passes when {}.\n", row.condition);
        if !row.reasons.is_empty() {
            let _ = writeln!(out, "| reason |\n|---|");
            for reason in &row.reasons {
                let _ = writeln!(out, "| {} |", cell(reason));
            }
            out.push('\n');
        }
        let _ = writeln!(out, "| evidence |\n|---|");
        for line in details(row) {
            let _ = writeln!(out, "| {} |", cell(&line));
        }
    }
    out
}

/// The reports' one style sheet (also the trial's).
pub const CSS: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1040px;\
color:#1d232b;padding:0 16px}h1{font-size:22px;margin:0 0 4px}table{border-collapse:collapse;\
width:100%;margin:8px 0}td,th{border:1px solid #d0d6de;padding:4px 8px;text-align:left;\
vertical-align:top}th{background:#f2f4f7}.card{border:1px solid #d0d6de;border-left-width:8px;\
border-radius:4px;padding:8px 14px;margin:14px 0;break-inside:avoid}.pass{border-left-color:#2e8540}\
.fail{border-left-color:#c62828}.unknown{border-left-color:#8a8f98}.v{font-weight:700;\
padding:1px 8px;border-radius:3px;color:#fff}.vpass{background:#2e8540}.vfail{background:#c62828}\
.vunknown{background:#8a8f98}ul{margin:4px 0 8px;padding-left:20px}.ev{color:#3d4652;\
font-size:13px}svg{display:block;margin:8px 0}@media print{body{margin:0}}";

/// A verdict's CSS class.
pub fn class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Unknown => "unknown",
    }
}

/// One self-contained page.
pub fn html(card: &Scorecard) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Readiness \
         scorecard: {}</title><style>{CSS}</style></head><body><h1>Readiness scorecard: {}</h1>\
         <p>As of {}, freshness budget {}.</p><table><tr><th>row</th><th>verdict</th>\
         <th>passes when</th></tr>",
        escape(&card.domain),
        escape(&card.domain),
        escape(&format_timestamp(Some(card.as_of_ms))),
        escape(&format_duration_ms(card.budget_ms))
    );
    for row in &card.rows {
        let _ = write!(
            out,
            "<tr><td><a href=\"#{id}\">{}</a></td><td><span class=\"v v{id2}\">{}</span></td>\
             <td>{}</td></tr>",
            row.row.title(),
            row.verdict.word(),
            escape(&row.condition),
            id = row.row.title().to_lowercase(),
            id2 = class(row.verdict),
        );
    }
    out.push_str("</table>");
    for row in &card.rows {
        let _ = write!(
            out,
            "<section class=\"card {}\" id=\"{}\"><h2>{} <span class=\"v v{}\">{}</span></h2>\
             <p>Passes when {}.</p>",
            class(row.verdict),
            row.row.title().to_lowercase(),
            row.row.title(),
            class(row.verdict),
            row.verdict.word(),
            escape(&row.condition)
        );
        if !row.reasons.is_empty() {
            out.push_str("<ul>");
            for reason in &row.reasons {
                let _ = write!(out, "<li>{}</li>", escape(reason));
            }
            out.push_str("</ul>");
        }
        out.push_str(&plot(row, card.budget_ms, card.as_of_ms));
        out.push_str("<ul class=\"ev\">");
        for line in details(row) {
            let _ = write!(out, "<li>{}</li>", escape(&line));
        }
        out.push_str("</ul></section>");
    }
    out.push_str("</body></html>\n");
    out
}

const W: f64 = 960.0;

/// Horizontal bars with an optional limit line: (label, value, over the limit).
fn bars(
    items: &[(String, f64)],
    limit: Option<(f64, String)>,
    unit: &dyn Fn(f64) -> String,
) -> String {
    if items.is_empty() {
        return String::new();
    }
    let max = items
        .iter()
        .map(|(_, v)| *v)
        .chain(limit.as_ref().map(|(l, _)| *l))
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let (left, right) = (260.0, 120.0);
    let span = W - left - right;
    let h = 22.0 * items.len() as f64 + 24.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{h}\" \
         viewBox=\"0 0 {W} {h}\" font-size=\"12\">"
    );
    for (i, (label, value)) in items.iter().enumerate() {
        let y = 4.0 + 22.0 * i as f64;
        let over = limit.as_ref().is_some_and(|(l, _)| value > l);
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{left}\" y=\"{y}\" \
             width=\"{:.1}\" height=\"16\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{}\">{}</text>",
            left - 6.0,
            y + 12.0,
            escape(label),
            (value / max * span).max(1.0),
            if over { "#c62828" } else { "#4a7bb7" },
            left + (value / max * span).max(1.0) + 4.0,
            y + 12.0,
            escape(&unit(*value))
        );
    }
    if let Some((l, text)) = limit {
        let x = left + l / max * span;
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"0\" y2=\"{}\" stroke=\"#1d232b\" \
             stroke-dasharray=\"4 3\"/><text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            h - 16.0,
            h - 4.0,
            escape(&text)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The builder's lag over time, bursts shaded, the budget dashed.
fn lag_plot(row: &Row, budget_ms: i64, as_of_ms: i64) -> String {
    let series: Vec<(i64, i64)> = row
        .evidence
        .get("lag_series")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((p.get(0)?.as_i64()?, p.get(1)?.as_i64()?)))
                .collect()
        })
        .unwrap_or_default();
    if series.len() < 2 {
        return String::new();
    }
    // Up to the scorecard's now, so a builder that stopped committing shows how long ago.
    let (t0, t1) = (series[0].0, as_of_ms.max(series[0].0 + 1));
    let top = series
        .iter()
        .map(|(_, l)| *l)
        .max()
        .unwrap_or(0)
        .max(budget_ms) as f64
        * 1.1;
    let (left, h, plot_h) = (70.0, 220.0, 180.0);
    let x = |t: i64| left + (t - t0) as f64 / (t1 - t0) as f64 * (W - left - 10.0);
    let y = |l: f64| 10.0 + plot_h - l / top * plot_h;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{h}\" \
         viewBox=\"0 0 {W} {h}\" font-size=\"12\"><text x=\"4\" y=\"14\">builder lag</text>"
    );
    for b in row
        .evidence
        .get("bursts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(s), Some(e)) = (b["start_ms"].as_i64(), b["end_ms"].as_i64()) else {
            continue;
        };
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"10\" width=\"{:.1}\" height=\"{plot_h}\" fill=\"#f4b400\" \
             fill-opacity=\"0.35\"><title>burst on {}</title></rect>",
            x(s.max(t0)),
            (x(e.min(t1)) - x(s.max(t0))).max(2.0),
            escape(b["topic"].as_str().unwrap_or_default())
        );
    }
    let points: Vec<String> = series
        .iter()
        .map(|(t, l)| format!("{:.1},{:.1}", x(*t), y(*l as f64)))
        .collect();
    let _ = write!(
        svg,
        "<polyline fill=\"none\" stroke=\"#4a7bb7\" stroke-width=\"1.5\" points=\"{}\"/>\
         <line x1=\"{left}\" x2=\"{W}\" y1=\"{b:.1}\" y2=\"{b:.1}\" stroke=\"#c62828\" \
         stroke-dasharray=\"4 3\"/><text x=\"{left}\" y=\"{:.1}\">budget {}</text>\
         <text x=\"{left}\" y=\"{}\">{}</text><text x=\"{W}\" y=\"{}\" text-anchor=\"end\">{}</text>\
         <text x=\"4\" y=\"{:.1}\">{}</text></svg>",
        points.join(" "),
        y(budget_ms as f64) - 4.0,
        escape(&format_duration_ms(budget_ms)),
        h - 8.0,
        escape(&format_timestamp(Some(t0))),
        h - 8.0,
        escape(&format_timestamp(Some(t1))),
        y(top / 1.1) + 4.0,
        escape(&format_duration_ms((top / 1.1) as i64)),
        b = y(budget_ms as f64),
    );
    svg
}

fn plot(row: &Row, budget_ms: i64, as_of_ms: i64) -> String {
    let list = |key: &str| {
        row.evidence
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let duration = |v: f64| format_duration_ms(v as i64);
    match row.row {
        RowKind::Freshness => {
            let mut items: Vec<(String, f64)> = list("chain")
                .iter()
                .filter_map(|h| {
                    Some((
                        format!("{} {}", h["kind"].as_str()?, h["hop"].as_str()?),
                        h["value_ms"].as_f64()?,
                    ))
                })
                .collect();
            if let Some(age) = row.evidence.get("store_age_p95_ms").and_then(Value::as_f64) {
                items.push(("store age p95".into(), age));
            }
            bars(
                &items,
                Some((
                    budget_ms as f64,
                    format!("budget {}", format_duration_ms(budget_ms)),
                )),
                &duration,
            )
        }
        RowKind::Elasticity => lag_plot(row, budget_ms, as_of_ms),
        RowKind::Cost => {
            let items: Vec<(String, f64)> = list("options")
                .iter()
                .filter_map(|o| {
                    Some((
                        format!("{} a month", o["option"].as_str()?),
                        o["total"].as_f64()?,
                    ))
                })
                .collect();
            let limit = row
                .evidence
                .get("prices")
                .and_then(|p| p.get("max_month"))
                .and_then(Value::as_f64)
                .map(|m| (m, format!("max_month {m:.2}")));
            bars(&items, limit, &|v| format!("{v:.2}"))
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn card() -> Scorecard {
        let row = |kind, verdict, reason: &str| Row {
            row: kind,
            verdict,
            condition: "x < 1 & y > 2".into(),
            evidence: super::super::row::evidence([("count", json!(3))]),
            reasons: vec![reason.to_owned()],
        };
        Scorecard {
            domain: "c<360>".into(),
            as_of_ms: 1_700_000_000_000,
            budget_ms: 900_000,
            rows: vec![
                row(RowKind::Freshness, Verdict::Fail, "a | b <script>"),
                row(RowKind::Migration, Verdict::Unknown, "no target"),
            ],
            errors: Vec::new(),
        }
    }

    #[test]
    fn html_escapes_what_it_shows_and_colours_each_verdict() {
        let page = html(&card());
        assert!(page.contains("c&lt;360&gt;"));
        assert!(page.contains("a | b &lt;script&gt;"));
        assert!(!page.contains("<script>"));
        assert!(page.contains("class=\"card fail\""));
        assert!(page.contains("class=\"card unknown\""));
        assert!(page.contains("<li>count: 3</li>"));
    }

    #[test]
    fn markdown_keeps_a_pipe_inside_its_cell() {
        let md = markdown(&card());
        assert!(md.contains("| Freshness | **FAIL** | x < 1 & y > 2 |"));
        assert!(md.contains("| a \\| b <script> |"));
    }
}
