//! A busy indicator that repaints a few times a second. egui's spinner repaints every frame,
//! which on a software renderer (a laptop without GPU drivers, Xvfb) takes a core away from
//! the work it is waiting for.

use std::time::Duration;

const STEP: Duration = Duration::from_millis(150);

pub fn indicator(ui: &mut egui::Ui) {
    let step = (ui.input(|i| i.time) / STEP.as_secs_f64()) as usize % 4;
    ui.monospace(["|", "/", "-", "\\"][step]);
    ui.ctx().request_repaint_after(STEP);
}
