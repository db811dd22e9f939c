//! What the Browse tab's parts (the topic list, the messages, the keys) ask of it: apart from
//! the panel, so those parts need not import it.

use crate::cluster::ScanRequest;

use super::jobs::PanelId;

pub const ID: PanelId = "Browse";

/// What the Browse tab's widgets ask.
pub enum Ask {
    RefreshTopics,
    SelectTopic(String),
    StartScan(ScanRequest),
    CancelScan,
    /// Sample a topic's keys: partitioner, skew, order within a key.
    LookAtKeys(String),
    CancelKeys,
}
