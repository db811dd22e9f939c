//! The status bar: scan progress (records of records, bytes, rate), cancel, and the last error.

use crate::cluster::ScanProgress;

use super::command::Command;

#[derive(Default)]
pub struct StatusBar {
    pub message: Option<String>,
    pub error: Option<String>,
}

impl StatusBar {
    /// `cancel` is what the Cancel button asks for.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        progress: Option<&ScanProgress>,
        scanning: bool,
        cancel: Command,
    ) -> Option<Command> {
        let mut command = None;
        ui.horizontal(|ui| {
            if let Some(p) = progress {
                if scanning {
                    super::busy::indicator(ui);
                }
                // A finished read shows full, whatever the estimate of records to scan was.
                let (fraction, shown) = if scanning {
                    (p.fraction(), p.scanned.min(p.to_scan.max(p.scanned)))
                } else {
                    (1.0, p.scanned)
                };
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .desired_width(160.0)
                        .text(format!("{shown} / {}", p.to_scan.max(p.scanned))),
                );
                ui.label(progress_text(p));
                if scanning && ui.button("Cancel").clicked() {
                    command = Some(cancel);
                }
            }
            if let Some(message) = &self.message {
                ui.label(message);
            }
            if let Some(error) = self.error.clone() {
                // librdkafka's errors run long: the first line, cut, with the whole on hover.
                let short = short_error(&error);
                ui.colored_label(ui.visuals().error_fg_color, short)
                    .on_hover_text(&error);
                if ui
                    .small_button("Copy")
                    .on_hover_text("Copy the whole error")
                    .clicked()
                {
                    ui.ctx().copy_text(error.clone());
                }
                if ui.small_button("Dismiss").clicked() {
                    self.error = None;
                }
            }
        });
        command
    }
}

/// Below this, a rate is noise (a read from memory finishes in microseconds): not shown.
const MEASURABLE: std::time::Duration = std::time::Duration::from_millis(250);

/// What a read has done; rates only over a span long enough to mean something.
pub fn progress_text(p: &ScanProgress) -> String {
    let mut text = format!(
        "{} matched · {:.1} MB · partitions {}/{} · {:.1}s",
        p.matched,
        p.bytes as f64 / 1e6,
        p.partitions_done,
        p.partitions,
        p.elapsed.as_secs_f64()
    );
    if p.elapsed >= MEASURABLE {
        text += &format!(
            " · {:.0} rec/s · {:.1} MB/s",
            p.records_per_sec(),
            p.bytes_per_sec() / 1e6
        );
    }
    text
}

/// An error's first line, at most 120 characters.
fn short_error(error: &str) -> String {
    let first = error.lines().next().unwrap_or_default();
    crate::codec::truncate_chars(first, 120)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_only_over_a_measurable_span_and_errors_cut_short() {
        let mut p = ScanProgress {
            scanned: 30_415,
            matched: 51,
            bytes: 1_800_000,
            elapsed: std::time::Duration::from_micros(1_000),
            ..ScanProgress::default()
        };
        assert!(
            !progress_text(&p).contains("rec/s"),
            "{}",
            progress_text(&p)
        );
        p.elapsed = std::time::Duration::from_secs(2);
        assert!(
            progress_text(&p).contains("15208 rec/s"),
            "{}",
            progress_text(&p)
        );
        let long = format!("{}\nsecond line", "x".repeat(500));
        let short = short_error(&long);
        assert!(short.chars().count() <= 121 && !short.contains("second"));
    }
}
