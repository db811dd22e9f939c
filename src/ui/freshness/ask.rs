//! What the Freshness tab's widgets (and the path prompt) ask: apart from the panel, so those
//! who ask need not import it.

use std::path::PathBuf;

use super::super::jobs::PanelId;

pub const ID: PanelId = "Freshness";

/// A topic's ingest delay to sample over [since, until].
pub struct IngestRequest {
    pub topic: String,
    pub pointer: String,
    pub since: i64,
    pub until: i64,
}

/// What the Freshness tab's widgets (and the path prompt) ask.
pub enum Ask {
    SampleIngest(IngestRequest),
    /// Stop the running sample: what it read is thrown away.
    CancelIngest,
    PickPng,
    SavePng(PathBuf),
}
