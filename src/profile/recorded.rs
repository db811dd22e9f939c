//! One lookup recorded: exactly the records it read, saved as a capture that `--capture` opens
//! offline. `capture --spec --key` and the Profile tab's export both make it here.

use crate::cluster::ClusterError;
use crate::source::{Capture, Recording, Source};

use super::{Lookup, LookupRequest, PiiMask, lookup};

/// What `request`'s lookup read, as a capture with its `pii` values masked unless
/// `reveal_pii` (linked ids that are PII too; the capture's header says which), and the
/// lookup's answer.
pub fn capture_lookup(
    source: &dyn Source,
    request: &LookupRequest<'_>,
    reveal_pii: bool,
) -> Result<(Capture, Lookup), ClusterError> {
    let recording = Recording::new(source);
    let found = lookup(&recording, request)?;
    let mut capture = recording.into_capture();
    let mask = PiiMask::unless_revealed(request.spec, reveal_pii);
    mask.apply_to_capture(&mut capture, reveal_pii, &mask.pii_ids(&found.timeline));
    Ok((capture, found))
}
