//! What a tab is: a [`Panel`] owns its state and its jobs, draws from the [`Session`], and
//! asks for everything else through [`Command`]s. Adding a tab means one file that implements
//! this and one line in the shell's list of panels.

use std::any::Any;

use super::command::{Command, News};
use super::jobs::{Jobs, PanelId};
use super::session::Session;

/// What a panel may use outside drawing: the session to read, the jobs to start and cancel,
/// and commands for the shell.
pub struct Cx<'a> {
    pub session: &'a Session,
    pub jobs: &'a Jobs,
    pub out: &'a mut Vec<Command>,
}

/// The progress and cancel of the work of the tab in view, for the status bar.
pub struct Busy {
    pub progress: Option<crate::cluster::ScanProgress>,
    pub running: bool,
    pub cancel: Command,
}

pub trait Panel {
    /// The tab's title, which also names it in routing and in the saved state.
    fn id(&self) -> PanelId;

    /// Whether the panel lays out its own side and central panels (else it is drawn inside
    /// the window's central panel).
    fn own_layout(&self) -> bool {
        false
    }

    /// Draws the tab. The panel's own widgets change as the user works them; anything else
    /// is asked for through `out` and applied after drawing.
    fn ui(&mut self, ui: &mut egui::Ui, session: &Session, out: &mut Vec<Command>);

    /// A request addressed to this panel (its own buttons, or another panel's ask).
    fn ask(&mut self, _ask: Box<dyn Any + Send>, _cx: &mut Cx<'_>) {}

    /// A message of one of this panel's jobs; only messages of its current jobs arrive.
    fn take(&mut self, _message: Box<dyn Any + Send>, _cx: &mut Cx<'_>) {}

    /// Something app-wide changed: the source, the spec, a lookup, the groups.
    fn observe(&mut self, _news: &News, _cx: &mut Cx<'_>) {}

    /// Before each frame: start work that has come due.
    fn tick(&mut self, _cx: &mut Cx<'_>, _in_view: bool) {}

    /// What of the panel is saved between runs (never a secret).
    fn saved(&self) -> Option<serde_json::Value> {
        None
    }

    /// What was saved, at start.
    fn restore(&mut self, _saved: serde_json::Value) {}

    /// The work in flight the status bar shows while this tab is in view.
    fn busy(&self, _jobs: &Jobs) -> Option<Busy> {
        None
    }
}

/// Takes a panel's message as the type it sent, or says it was another (a bug).
pub fn expect<M: 'static>(message: Box<dyn Any + Send>, panel: PanelId) -> Option<M> {
    match message.downcast::<M>() {
        Ok(message) => Some(*message),
        Err(_) => {
            log::error!("{panel}: a message of an unexpected type was dropped");
            None
        }
    }
}
