//! One customer lookup, end to end: timeline, store versions, builder position and the store
//! comparison. The CLI and the GUI both run exactly this.

use crate::cluster::{CancelToken, ClusterError};
use crate::profile::SourceDecoder;
use crate::source::Source;

use super::timeline::ProgressFn;
use super::{
    BuilderPosition, Event, Spec, StoreComparison, StoreVersion, Timeline, Window, compare, fold,
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

#[allow(clippy::too_many_arguments)]
pub fn lookup(
    cluster: &dyn Source,
    spec: &Spec,
    decoder: &SourceDecoder,
    key: &str,
    window: &Window,
    now_ms: i64,
    cancel: &CancelToken,
    on_events: &mut dyn FnMut(&[Event]),
    on_progress: ProgressFn<'_>,
) -> Result<Lookup, ClusterError> {
    // The store's versions depend only on the key: they are read while the timeline loads.
    let (timeline, versions) = std::thread::scope(|scope| {
        let versions = spec.store.as_ref().map(|store| {
            scope.spawn(move || store_versions(cluster, spec, store, decoder, key, cancel))
        });
        let timeline = load_timeline(
            cluster,
            spec,
            decoder,
            key,
            window,
            cancel,
            on_events,
            on_progress,
        );
        let versions = versions.map(|handle| {
            handle.join().unwrap_or_else(|_| {
                Err(ClusterError::Kafka("the store scan thread panicked".into()))
            })
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
    let current = fold(spec, &timeline.events, None);
    let comparison = compare(
        spec,
        &timeline.events,
        &current,
        versions.last(),
        versions.len(),
        &builder,
        now_ms,
    );
    Ok(Lookup {
        timeline,
        versions,
        store: Some(comparison),
    })
}
