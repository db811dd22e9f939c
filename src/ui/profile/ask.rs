//! What the Profile tab is asked, by its widgets or by the shell: apart from the panel, so
//! those who ask need not import it.

use std::path::PathBuf;

use crate::profile::Lookup;

use super::super::jobs::PanelId;

pub const ID: PanelId = "Profile";

/// What the Profile tab is asked, by its widgets or by the shell.
pub enum Ask {
    /// Look this key up (the session's key already is it).
    Lookup(String),
    Cancel,
    /// Select a timeline event.
    SelectEvent(String, i32, i64),
    /// Show a lookup made elsewhere (the demo's first stale customer) as this key's answer.
    Explained(String, Box<Lookup>),
    /// The lookup as a capture; `true` keeps PII values (the header says so).
    ExportCapture(bool),
    /// The same, to a path typed by hand.
    ExportCaptureTo(PathBuf, bool),
}
