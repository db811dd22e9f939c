//! A path typed by hand. File dialogs go through xdg-desktop-portal, which some desktops lack:
//! there a dialog never opens and the pick comes back empty at once. Such a pick shows this
//! prompt, which says why and takes the path instead.

use std::path::PathBuf;

/// What the path is for.
#[derive(Debug, Clone)]
pub enum PathFor {
    Spec,
    Capture,
    Png,
    /// Text to write (CSV, JSON) once a path is given.
    Text {
        title: &'static str,
        text: String,
    },
    /// The current lookup as a capture; `true` keeps PII.
    LookupCapture(bool),
}

impl PathFor {
    fn what(&self) -> &str {
        match self {
            Self::Spec => "Open a profile spec",
            Self::Capture => "Open a capture",
            Self::Png => "Export the plots as PNG",
            Self::Text { title, .. } => title,
            Self::LookupCapture(_) => "Export this lookup as a capture",
        }
    }
}

pub struct PathPrompt {
    pub purpose: PathFor,
    path: String,
    focused: bool,
}

impl PathPrompt {
    pub fn new(purpose: PathFor, suggested: impl Into<String>) -> Self {
        Self {
            purpose,
            path: suggested.into(),
            focused: false,
        }
    }

    /// Draws the prompt; `Some(Some(path))` once a path is given, `Some(None)` when dismissed.
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<Option<PathBuf>> {
        let mut answer = None;
        egui::Window::new(self.purpose.what().to_owned())
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::vec2(0.0, 0.0))
            .show(ctx, |ui| {
                ui.label(
                    "No file dialog could be opened here (it needs xdg-desktop-portal or \
                     zenity). Type the path instead.",
                );
                let label = ui.label("Path");
                let field = ui
                    .add(egui::TextEdit::singleline(&mut self.path).desired_width(420.0))
                    .labelled_by(label.id);
                // Asked until it holds: a new window's first frame only sizes it.
                if !self.focused {
                    self.focused = field.has_focus();
                    field.request_focus();
                }
                let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.horizontal(|ui| {
                    let ok = ui
                        .add_enabled(!self.path.trim().is_empty(), egui::Button::new("OK"))
                        .clicked();
                    if (ok || entered) && !self.path.trim().is_empty() {
                        answer = Some(Some(PathBuf::from(self.path.trim())));
                    }
                    if ui.button("Cancel").clicked() {
                        answer = Some(None);
                    }
                });
            });
        answer
    }
}
