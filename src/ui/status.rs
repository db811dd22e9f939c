//! The status bar: scan progress (records of records, bytes, rate), cancel, and the last error.

use crate::cluster::ScanProgress;

use super::Command;

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
                ui.add(
                    egui::ProgressBar::new(p.fraction())
                        .desired_width(160.0)
                        .text(format!("{} / {}", p.scanned, p.to_scan)),
                );
                ui.label(format!(
                    "{} matched · {:.1} MB · {:.0} rec/s · {:.1} MB/s · partitions {}/{} · {:.1}s",
                    p.matched,
                    p.bytes as f64 / 1e6,
                    p.records_per_sec(),
                    p.bytes_per_sec() / 1e6,
                    p.partitions_done,
                    p.partitions,
                    p.elapsed.as_secs_f64()
                ));
                if scanning && ui.button("Cancel").clicked() {
                    command = Some(cancel);
                }
            }
            if let Some(message) = &self.message {
                ui.label(message);
            }
            if let Some(error) = self.error.clone() {
                ui.colored_label(ui.visuals().error_fg_color, &error);
                if ui.small_button("Dismiss").clicked() {
                    self.error = None;
                }
            }
        });
        command
    }
}
