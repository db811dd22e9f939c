//! The window: the connection bar, the banner, the tabs, the tab in view and the status bar,
//! laid out each frame; and what is saved when the app closes.

use super::app::{FreshlensApp, SavedState, Startup};
use super::command::Command;
use super::panel::Cx;
use super::session::Origin;
use super::timing::log_since_start;
use super::{messages, profile};

/// Opens the window on what `startup` says (the binary builds it from the command line).
pub fn run(startup: Startup) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("freshlens")
            .with_app_id("freshlens")
            .with_inner_size([1280.0, 800.0]),
        ..Default::default()
    };
    eframe::run_native(
        "freshlens",
        options,
        Box::new(move |cc| Ok(Box::new(FreshlensApp::new(cc, startup, None)?))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

impl eframe::App for FreshlensApp {
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.route();
        if self.pending_lookup.is_some() {
            self.run_pending_lookup();
        }
        // Each panel starts the work that has come due (the lag sampler, the Overview's look).
        for panel in &mut self.panels {
            let in_view = panel.id() == self.tab;
            let mut out = Vec::new();
            let mut cx = Cx {
                session: &self.session,
                jobs: &self.jobs,
                out: &mut out,
            };
            panel.tick(&mut cx, in_view);
            self.queued.extend(out);
        }
        self.flush();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        if !self.first_frame_logged {
            self.first_frame_logged = true;
            log_since_start("first frame");
        }
        let mut commands = Vec::new();
        egui::Panel::top("connection").show(ui, |ui| {
            commands.extend(self.connect.ui(ui, &mut self.state.connect));
        });
        egui::Panel::bottom("status").show(ui, |ui| {
            // The status bar follows the work of the tab in view.
            let busy = self
                .panels
                .iter()
                .find(|p| p.id() == self.tab)
                .and_then(|p| p.busy(&self.jobs));
            commands.extend(match busy {
                Some(busy) => self
                    .status
                    .ui(ui, busy.progress.as_ref(), busy.running, busy.cancel),
                None => self.status.ui(ui, None, false, Command::Show(self.tab)),
            });
        });
        commands.extend(self.banner_ui(ui));
        self.path_prompt_ui(ui.ctx());
        egui::Panel::top("tabs").show(ui, |ui| {
            ui.horizontal(|ui| {
                for panel in &self.panels {
                    ui.selectable_value(&mut self.tab, panel.id(), panel.id());
                }
            });
        });
        let tab = self.tab;
        if let Some(panel) = self.panels.iter_mut().find(|p| p.id() == tab) {
            let session = &self.session;
            if panel.own_layout() {
                panel.ui(ui, session, &mut commands);
            } else {
                egui::CentralPanel::default().show(ui, |ui| panel.ui(ui, session, &mut commands));
            }
        }
        // The moment the demo's explained customer is first on screen, for the log.
        if let Some((key, _, logged @ true)) = &mut self.demo_first
            && self.tab == profile::ID
            && self.session.lookup.is_some()
        {
            log_since_start(&format!("explained customer {key} drawn"));
            *logged = false;
        }
        self.queued.extend(commands);
        self.flush();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        let state = SavedState {
            connect: self.state.connect.without_secrets(),
            tab: self.tab.to_owned(),
            // Without a password typed into the URL: secrets are never saved.
            registry: crate::codec::registry::split_credentials(&self.session.registry).0,
            panels: self
                .panels
                .iter()
                .filter_map(|p| Some((p.id().to_owned(), p.saved()?)))
                .collect(),
        };
        eframe::set_value(storage, eframe::APP_KEY, &state);
    }
}

impl FreshlensApp {
    /// Says when the data is not a live cluster: demo data (with stale customers to look at)
    /// or a capture (and when it was taken).
    fn banner_ui(&mut self, ui: &mut egui::Ui) -> Option<Command> {
        // While the rest of the demo is built behind its first customer, a line in the same
        // place keeps the window from jumping when the demo's banner arrives.
        if let Some((key, ..)) = &self.demo_first
            && self.session.source.is_none()
            && self.connect.is_connecting()
        {
            egui::Panel::top("banner").show(ui, |ui| {
                ui.colored_label(
                    egui::Color32::from_rgb(230, 180, 60),
                    format!("Demo: {key} is explained below; building the rest of the demo data…"),
                );
            });
            return None;
        }
        if self.session.source.as_ref().is_none_or(|c| !c.is_capture()) {
            return None;
        }
        let mut command = None;
        egui::Panel::top("banner").show(ui, |ui| {
            ui.horizontal_wrapped(|ui| match &self.session.origin {
                Origin::Demo {
                    customers,
                    records,
                    stale,
                } => {
                    ui.colored_label(
                        egui::Color32::from_rgb(230, 180, 60),
                        format!(
                            "Demo data: {customers} customers, {records} records generated in memory. \
                             Connect to a real cluster in the bar above."
                        ),
                    );
                    if !stale.is_empty() {
                        ui.label("Stale customers:");
                        for customer in stale {
                            let why = customer
                                .fields
                                .iter()
                                .map(|(f, cause)| format!("{f}: {cause}"))
                                .collect::<Vec<_>>()
                                .join("\n");
                            if ui.button(&customer.key).on_hover_text(why).clicked() {
                                command = Some(Command::OpenCustomer(customer.key.clone()));
                            }
                        }
                    }
                }
                Origin::Capture {
                    name,
                    taken_ms,
                    records,
                } => {
                    ui.colored_label(
                        egui::Color32::from_rgb(120, 160, 240),
                        format!(
                            "Capture {name}: {records} records, taken {}. Offline and read-only.",
                            messages::format_timestamp(Some(*taken_ms))
                        ),
                    );
                }
                Origin::Cluster => {}
            });
        });
        command
    }

    /// The typed-path prompt, and what its path is for once given.
    fn path_prompt_ui(&mut self, ctx: &egui::Context) {
        let Some(prompt) = &mut self.path_prompt else {
            return;
        };
        let Some(answer) = prompt.ui(ctx) else {
            return;
        };
        let purpose = self.path_prompt.take().map(|p| p.purpose);
        if let (Some(path), Some(purpose)) = (answer, purpose) {
            self.path_given(purpose, path);
            self.flush();
        }
    }
}
