//! The lag sampler behind the Groups tab: one look at every group at a time, in the
//! background, keeping the commit log read so far between looks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::failure::Failure;
use crate::freshness;
use crate::source::Source;

/// What the sampler keeps between looks: the commit log read so far and every group
/// partition's commits, which the status rules judge.
#[derive(Debug, Default)]
pub struct SamplerState {
    watch: freshness::GroupWatch,
}

/// One look at every group, judged, and the lag at commits first seen in it.
pub struct Sampled {
    pub groups: Vec<freshness::GroupLag>,
    pub past: HashMap<String, Vec<freshness::PastLag>>,
    /// Commit records that could not be read so far.
    pub unreadable_commits: u64,
    /// The commits known of the group asked about (the spec's builder): from the commit log,
    /// or the moves the sampler saw where there is none.
    pub seen: Vec<freshness::OffsetCommit>,
}

/// One look at every group by `rules`, taken at the source's `at_ms`.
pub struct Look {
    pub at_ms: i64,
    pub result: Result<Sampled, Failure>,
}

/// Looks at every group once; a slow commit log only stretches the interval, as one look is
/// in flight at a time.
pub fn look(
    source: &dyn Source,
    rules: freshness::Rules,
    state: &Arc<Mutex<SamplerState>>,
    builder: Option<&str>,
) -> Look {
    let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
    state.watch.rules = rules;
    let at_ms = source.now_ms();
    let result = state
        .watch
        .look(source, None)
        .map(|look| Sampled {
            groups: look.groups,
            past: look.past,
            unreadable_commits: state.watch.log.unreadable().0,
            seen: builder.map_or_else(Vec::new, |g| state.watch.history.group_commits(g)),
        })
        .map_err(Failure::from);
    Look { at_ms, result }
}
