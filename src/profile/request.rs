//! What one lookup reads: the key, the spec and decoder, the window of event times, and "now".
//! Apart from the lookup and the timeline that both read it, so neither imports the other.

use crate::cluster::CancelToken;

use super::{SourceDecoder, Spec};

/// Event times to read, either side open.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
}

/// What one lookup reads: the request the CLI, the GUI, the demo and the bench fill in.
#[derive(Clone)]
pub struct LookupRequest<'a> {
    pub spec: &'a Spec,
    pub decoder: &'a SourceDecoder,
    pub key: &'a str,
    /// Event times to read; everything by default.
    pub window: Window,
    /// "Now" for the store comparison: the wall clock, or when a capture was taken.
    pub now_ms: i64,
    pub cancel: CancelToken,
}

impl<'a> LookupRequest<'a> {
    /// The whole history of `key`, compared as of `now_ms`, not cancelled.
    pub fn new(spec: &'a Spec, decoder: &'a SourceDecoder, key: &'a str, now_ms: i64) -> Self {
        Self {
            spec,
            decoder,
            key,
            window: Window::default(),
            now_ms,
            cancel: CancelToken::default(),
        }
    }
}
