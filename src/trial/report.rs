//! The trial as one self-contained HTML page: both sides' latency on one time axis (relative
//! to each side's start) with the budget line and the burst and restart marked, the
//! compatibility table side by side, the replay bars, the rows and the differences.

use std::fmt::Write as _;

use crate::scorecard::{REPORT_CSS, html_escape as escape, verdict_class};
use crate::time::format_latency_ms;

use super::result::{ProbeResult, Side, TrialReport};

const W: f64 = 960.0;
const H: f64 = 240.0;
const COLOURS: [&str; 2] = ["#1f6feb", "#c2410c"];

fn sides(report: &TrialReport) -> Vec<(&'static str, &Side)> {
    let mut out = vec![("candidate", &report.candidate)];
    if let Some(b) = &report.baseline {
        out.push(("baseline", b));
    }
    out
}

pub fn html(report: &TrialReport) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Platform trial\
         </title><style>{REPORT_CSS}</style></head><body><h1>Platform trial</h1><p>Prefix {}, \
         seed {}, budget {}; topics and groups {}.</p>",
        escape(&report.prefix),
        report.seed,
        escape(&format_latency_ms(report.budget_ms)),
        if report.cleaned_up {
            "deleted at the end"
        } else {
            "kept"
        }
    );
    let all = sides(report);
    // Rows side by side.
    out.push_str("<h2>Scorecard rows</h2><table><tr><th>row</th>");
    for (name, side) in &all {
        let _ = write!(out, "<th>{name}: {}</th>", escape(&side.bootstrap));
    }
    out.push_str("</tr>");
    for (i, row) in report.candidate.rows.iter().enumerate() {
        let _ = write!(out, "<tr><td>{}</td>", row.row.title());
        for (_, side) in &all {
            match side.rows.get(i) {
                Some(r) => {
                    let _ = write!(
                        out,
                        "<td><span class=\"v v{}\">{}</span> {}</td>",
                        verdict_class(r.verdict),
                        r.verdict.word(),
                        escape(&r.reasons.join("; "))
                    );
                }
                None => out.push_str("<td></td>"),
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    if !report.differences.is_empty() {
        out.push_str("<h2>Differences</h2><ul>");
        for d in &report.differences {
            let _ = write!(out, "<li>{}</li>", escape(d));
        }
        out.push_str("</ul>");
    }
    out.push_str("<h2>Latency, source event to store version</h2>");
    out.push_str(&latency_plot(&all, report.budget_ms));
    out.push_str(
        "<table><tr><th></th><th>p50</th><th>p95</th><th>p99</th><th>applied</th>\
                  <th>burst worst lag</th><th>burst back within budget</th><th>restart</th></tr>",
    );
    let ms = |v: Option<i64>| v.map_or("–".to_owned(), format_latency_ms);
    for (name, side) in &all {
        let restart = side.restart.as_ref().map_or("not run".to_owned(), |r| {
            format!(
                "unavailable {}, {} of {} read back, {} lost, {} duplicates, back within budget {}",
                format_latency_ms(r.unavailable_ms),
                r.read_back,
                r.acknowledged,
                r.lost,
                r.duplicates,
                ms(r.back_within_budget_ms)
            )
        });
        let _ = write!(
            out,
            "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td></tr>",
            ms(side.latency.p50_ms),
            ms(side.latency.p95_ms),
            ms(side.latency.p99_ms),
            side.latency.applied,
            ms(side.burst.as_ref().map(|b| b.worst_lag_ms)),
            side.burst.as_ref().map_or("–".to_owned(), |b| b
                .back_within_budget_ms
                .map_or("not within the run".to_owned(), format_latency_ms)),
            escape(&restart)
        );
    }
    out.push_str("</table><h2>Compatibility</h2><table><tr><th>request or probe</th>");
    for (name, _) in &all {
        let _ = write!(out, "<th>{name}</th>");
    }
    out.push_str("</tr>");
    for (i, api) in report.candidate.compatibility.apis.iter().enumerate() {
        let _ = write!(out, "<tr><td>{} (v{}+)</td>", api.name, api.needed);
        for (_, side) in &all {
            let cell =
                side.compatibility
                    .apis
                    .get(i)
                    .map_or("–".to_owned(), |a| match (a.min, a.max) {
                        (Some(min), Some(max)) => format!("v{min}–v{max}"),
                        _ => "not served".to_owned(),
                    });
            let ok = side.compatibility.apis.get(i).is_some_and(|a| a.supported);
            let _ = write!(
                out,
                "<td class=\"{}\">{}</td>",
                if ok { "" } else { "bad" },
                escape(&cell)
            );
        }
        out.push_str("</tr>");
    }
    for (i, probe) in report.candidate.compatibility.probes.iter().enumerate() {
        let _ = write!(out, "<tr><td>{}</td>", escape(&probe.name));
        for (_, side) in &all {
            match side.compatibility.probes.get(i) {
                Some(p) => {
                    let class = match p.result {
                        ProbeResult::Pass => "pass",
                        ProbeResult::Fail => "fail",
                        ProbeResult::Skipped => "unknown",
                    };
                    let _ = write!(
                        out,
                        "<td><span class=\"v v{class}\">{class}</span> {}</td>",
                        escape(&p.detail)
                    );
                }
                None => out.push_str("<td></td>"),
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</table><h2>Replay</h2>");
    out.push_str(&replay_bars(&all));
    for (name, side) in &all {
        if !side.errors.is_empty() {
            let _ = write!(out, "<h2>Steps that failed on the {name}</h2><ul>");
            for e in &side.errors {
                let _ = write!(out, "<li>{}</li>", escape(e));
            }
            out.push_str("</ul>");
        }
    }
    out.push_str("</body></html>\n");
    out
}

/// p99 per interval of each side, seconds from its start; the budget dashed; the burst and
/// restart shaded in the side's colour.
fn latency_plot(all: &[(&str, &Side)], budget_ms: i64) -> String {
    let start = |s: &Side| s.latency.intervals.first().map_or(0, |i| i.start_ms);
    let span = all
        .iter()
        .map(|(_, s)| s.latency.intervals.last().map_or(0, |i| i.start_ms) - start(s))
        .max()
        .unwrap_or(0)
        .max(1_000) as f64;
    let top = all
        .iter()
        .flat_map(|(_, s)| s.latency.intervals.iter().filter_map(|i| i.p99_ms))
        .max()
        .unwrap_or(0)
        .max(budget_ms * 2)
        .max(1) as f64;
    let (left, bottom) = (60.0, H - 24.0);
    let x = |ms: i64| left + (ms as f64 / span) * (W - left - 10.0);
    let y = |ms: i64| bottom - (ms as f64 / top) * (bottom - 10.0);
    let mut svg = format!(
        "<svg width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"p99 latency per second\">"
    );
    for (i, (_, side)) in all.iter().enumerate() {
        let s0 = start(side);
        let colour = COLOURS[i % 2];
        let mut marks = Vec::new();
        if let Some(b) = &side.burst {
            marks.push((b.start_ms, b.end_ms));
        }
        if let Some(r) = &side.restart {
            marks.push((r.start_ms, r.end_ms));
        }
        for (a, b) in marks {
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"10\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\" \
                 opacity=\"0.08\"/>",
                x(a - s0),
                (x(b - s0) - x(a - s0)).max(1.0),
                bottom - 10.0
            );
        }
        let points: Vec<String> = side
            .latency
            .intervals
            .iter()
            .filter_map(|iv| {
                iv.p99_ms
                    .map(|p| format!("{:.1},{:.1}", x(iv.start_ms - s0), y(p)))
            })
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/>",
            points.join(" ")
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"{left}\" x2=\"{W}\" y1=\"{b:.1}\" y2=\"{b:.1}\" stroke=\"#c62828\" \
         stroke-dasharray=\"4 3\"/><text x=\"{l2}\" y=\"{b2:.1}\" font-size=\"11\">budget {}</text>\
         <line x1=\"{left}\" x2=\"{W}\" y1=\"{bottom}\" y2=\"{bottom}\" stroke=\"#8a8f98\"/>\
         <text x=\"4\" y=\"16\" font-size=\"11\">{}</text><text x=\"{left}\" y=\"{H}\" \
         font-size=\"11\">0 s</text><text x=\"{r}\" y=\"{H}\" font-size=\"11\">{:.0} s</text>",
        format_latency_ms(budget_ms),
        format_latency_ms(top as i64),
        span / 1_000.0,
        b = y(budget_ms),
        b2 = y(budget_ms) - 3.0,
        l2 = left + 4.0,
        r = W - 40.0,
    );
    for (i, (name, _)) in all.iter().enumerate() {
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"16\" font-size=\"12\" fill=\"{}\">— {name} p99</text>",
            W - 300.0 + i as f64 * 140.0,
            COLOURS[i % 2]
        );
    }
    svg.push_str("</svg>");
    svg
}

fn replay_bars(all: &[(&str, &Side)]) -> String {
    let top = all
        .iter()
        .flat_map(|(_, s)| s.replay.iter().map(|r| r.records_per_s))
        .fold(1.0_f64, f64::max);
    let rows: usize = all.iter().map(|(_, s)| s.replay.len()).sum();
    let height = rows as f64 * 22.0 + 10.0;
    let mut svg = format!(
        "<svg width=\"{W}\" height=\"{height}\" role=\"img\" aria-label=\"replay throughput\">"
    );
    let mut row = 0.0;
    for (i, (name, side)) in all.iter().enumerate() {
        for r in &side.replay {
            let width = r.records_per_s / top * (W - 420.0);
            let _ = write!(
                svg,
                "<text x=\"0\" y=\"{ty:.1}\" font-size=\"12\">{name}, {} reader(s)</text><rect \
                 x=\"170\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"16\" fill=\"{}\"/><text \
                 x=\"{tx:.1}\" y=\"{ty:.1}\" font-size=\"12\">{:.0} records/s · {:.2} MB/s</text>",
                r.consumers,
                COLOURS[i % 2],
                r.records_per_s,
                r.mb_per_s,
                y = row * 22.0 + 4.0,
                ty = row * 22.0 + 16.0,
                tx = 176.0 + width,
            );
            row += 1.0;
        }
    }
    svg.push_str("</svg>");
    svg
}
