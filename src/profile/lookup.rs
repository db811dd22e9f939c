//! One customer lookup, end to end: timeline, store versions, builder position and the store
//! comparison. The CLI and the GUI both run exactly this.

use crate::cluster::ClusterError;
use crate::source::Source;

use super::request::LookupRequest;
use super::timeline::ProgressFn;
use super::{
    BuilderPosition, Event, Spec, StoreComparison, StoreVersion, Timeline, compare, fold,
    load_timeline, store_versions,
};

#[derive(Debug, Clone, Default)]
pub struct Lookup {
    pub timeline: Timeline,
    /// Every version of the key still in the store topic, oldest first.
    pub versions: Vec<StoreVersion>,
    /// The latest version compared with the fold as of `now_ms`; `None` without a `[store]`.
    pub store: Option<StoreComparison>,
}

/// A lookup that nobody watches while it runs.
pub fn lookup(cluster: &dyn Source, request: &LookupRequest<'_>) -> Result<Lookup, ClusterError> {
    lookup_streaming(cluster, request, &mut |_| {}, &|_| {})
}

/// A lookup whose events are handed to `on_events` as each source's scan delivers them, and
/// whose progress goes to `on_progress` from the scan threads.
pub fn lookup_streaming(
    cluster: &dyn Source,
    request: &LookupRequest<'_>,
    on_events: &mut dyn FnMut(&[Event]),
    on_progress: ProgressFn<'_>,
) -> Result<Lookup, ClusterError> {
    let LookupRequest {
        spec,
        decoder,
        key,
        now_ms,
        ref cancel,
        ..
    } = *request;
    // The store's versions depend only on the key: they are read while the timeline loads.
    let (timeline, versions) = std::thread::scope(|scope| {
        let versions = spec.store.as_ref().map(|store| {
            scope.spawn(move || store_versions(cluster, spec, store, decoder, key, cancel))
        });
        let timeline = load_timeline(cluster, request, on_events, on_progress);
        let versions = versions.map(|handle| {
            handle
                .join()
                .unwrap_or_else(|_| Err(ClusterError::Panicked("the store scan thread".into())))
        });
        (timeline, versions)
    });
    let timeline = timeline?;
    let (Some(store), Some(versions)) = (&spec.store, versions) else {
        return Ok(Lookup {
            timeline,
            ..Lookup::default()
        });
    };
    let versions = versions?;
    let builder = BuilderPosition::read(cluster, store.builder_group.as_deref(), &timeline.events)?;
    Ok(compared(
        spec, decoder, timeline, versions, &builder, now_ms,
    ))
}

/// The lookup of a timeline and its store versions: the fold compared with the latest version.
pub(super) fn compared(
    spec: &Spec,
    decoder: &super::SourceDecoder,
    timeline: Timeline,
    versions: Vec<StoreVersion>,
    builder: &BuilderPosition,
    now_ms: i64,
) -> Lookup {
    let current = fold(spec, &timeline.events, None);
    let comparison = compare(
        spec,
        &timeline.events,
        &current,
        versions.last(),
        versions.len(),
        builder,
        now_ms,
    );
    let mut comparison = comparison;
    // A field whose path the producer stopped writing is named as such, store agreeing or not.
    super::schema_cause::apply(&mut comparison, spec, &timeline.events, &|id| {
        decoder.subject_version(id)
    });
    Lookup {
        timeline,
        versions,
        store: Some(comparison),
    }
}
