//! Native file dialogs, run off the UI thread (they block), and telling a dialog the user
//! cancelled from one that was never shown.

use std::time::{Duration, Instant};

/// What a file dialog answered.
pub enum Asked {
    Path(std::path::PathBuf),
    Cancelled,
    /// It came back empty at once: no dialog was shown (a desktop without
    /// xdg-desktop-portal), so the path has to be typed.
    NoDialog,
}

/// Nobody cancels a dialog this fast; an empty answer within it means none was shown.
const NO_DIALOG_WITHIN: Duration = Duration::from_millis(400);

pub fn ask(dialog: impl FnOnce() -> Option<std::path::PathBuf>) -> Asked {
    let started = Instant::now();
    match dialog() {
        Some(path) => Asked::Path(path),
        None if started.elapsed() < NO_DIALOG_WITHIN => Asked::NoDialog,
        None => Asked::Cancelled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty answer at once means no dialog was shown; an empty answer after a while is
    /// the user cancelling, which must not open the prompt.
    #[test]
    fn an_instant_empty_answer_is_a_missing_dialog() {
        assert!(matches!(ask(|| None), Asked::NoDialog));
        let slow = ask(|| {
            std::thread::sleep(NO_DIALOG_WITHIN + Duration::from_millis(50));
            None
        });
        assert!(matches!(slow, Asked::Cancelled));
        let picked = ask(|| Some("a.toml".into()));
        assert!(matches!(picked, Asked::Path(p) if p.as_os_str() == "a.toml"));
    }
}
