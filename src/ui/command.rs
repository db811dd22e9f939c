//! What panels ask of the shell, and the news the shell tells every panel.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

use crate::cluster::ConnectionConfig;
use crate::cluster::saved::SavedCluster;
use crate::freshness::GroupLag;
use crate::profile::Lookup;

use super::jobs::PanelId;
use super::path_prompt::PathFor;

/// Applied after drawing, so no panel changes what another draws mid-frame.
#[must_use]
pub enum Command {
    Connect(ConnectionConfig),
    /// Give up the connection attempt in flight.
    CancelConnect,
    Disconnect,
    SaveCluster(SavedCluster),
    ForgetCluster(String),
    ShowError(String),
    /// A line in the status bar: what an export wrote, say.
    Notice(String),
    LoadSpec(String),
    PickSpec,
    /// The customer in view becomes this key, and the Profile tab looks it up.
    Lookup(String),
    /// The same, bringing the Profile tab into view (a customer clicked in another tab).
    OpenCustomer(String),
    /// Bring a tab into view.
    Show(PanelId),
    PickCapture,
    OpenCapture(PathBuf),
    OpenDemo,
    /// Ask where to save `text`, then write it.
    SaveText {
        title: &'static str,
        file_name: String,
        text: String,
    },
    /// No file dialog could be shown: the path prompt asks for the path instead.
    PromptPath(PathFor),
    /// A lookup finished: the session's answer for the key in view.
    LookupFound(Arc<Lookup>),
    /// The lag sampler judged every group.
    GroupsJudged(Arc<Vec<GroupLag>>),
    /// The spec's builder group's commits the sampler knows (its log's, or the moves it saw).
    CommitsSeen(Arc<Vec<crate::freshness::OffsetCommit>>),
    /// Show `pii` values instead of masking them (or mask them again).
    RevealPii(bool),
    /// The Schema Registry the spec's sources are decoded with.
    SetRegistry(String),
    /// A request for one panel (its own, applied after drawing, or another panel's).
    To(PanelId, Box<dyn Any + Send>),
}

impl Command {
    pub fn to<A: Any + Send>(panel: PanelId, ask: A) -> Self {
        Self::To(panel, Box::new(ask))
    }
}

/// What changed app-wide, told to every panel after the session has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum News {
    /// Another source (or none): what was read from the old one is gone.
    SourceChanged,
    /// A spec was loaded (or the one loaded failed).
    SpecChanged,
    /// `session.lookup` holds a new answer.
    LookupFound,
    /// `session.groups` holds a new judgement.
    GroupsJudged,
}
