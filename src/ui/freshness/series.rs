//! What the Freshness tab's plots are drawn from: a finished lookup's freshness report and
//! its event points, a series per topic and kind of lag.

use egui_plot::MarkerShape;

use crate::freshness::{ProfileFreshness, Staleness};

/// Screen distance within which a click picks an event point.
pub(super) const PICK_RADIUS: f32 = 12.0;

/// Room around the plots in an exported PNG, so labels at their edges are not cut.
pub(super) const EXPORT_MARGIN: f32 = 6.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Metric {
    Ingest,
    Lag,
    EndToEnd,
    Pending,
}

impl Metric {
    pub(super) const ALL: [Metric; 4] = [Self::Ingest, Self::Lag, Self::EndToEnd, Self::Pending];

    pub(super) fn label(self) -> &'static str {
        match self {
            Self::Ingest => "ingest delay",
            Self::Lag => "source-to-profile",
            Self::EndToEnd => "end-to-end",
            Self::Pending => "pending for",
        }
    }

    pub(super) fn shape(self) -> MarkerShape {
        match self {
            Self::Ingest => MarkerShape::Circle,
            Self::Lag => MarkerShape::Square,
            Self::EndToEnd => MarkerShape::Diamond,
            Self::Pending => MarkerShape::Cross,
        }
    }
}

/// One plotted series of event points: a topic and a metric.
pub(super) struct EventSeries {
    pub(super) name: String,
    pub(super) topic: String,
    pub(super) metric: Metric,
    /// (x, y, index into the report's events).
    pub(super) points: Vec<(f64, f64, usize)>,
}

/// A finished lookup's freshness, with what its plots need.
pub struct Report {
    pub(super) key: String,
    pub(super) report: ProfileFreshness,
    pub(super) series: Vec<EventSeries>,
    /// The staleness summary for the part of the window in view.
    pub(super) in_view: Option<((i64, i64), Staleness)>,
}
