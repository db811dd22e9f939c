//! Consumed but not applied, estimated: the census sees what the builder has not read, not what
//! it read and dropped. That needs a full lookup per customer, so a seeded sample of the store's
//! keys is looked up and the share found is reported with a 95% Wilson interval.

use rand::SeedableRng as _;
use rand::seq::SliceRandom as _;
use serde::Serialize;

use crate::cluster::CancelToken;
use std::collections::BTreeSet;

use crate::profile::ProgressFn;
use crate::profile::{SourceDecoder, Spec, lookup_many};
use crate::source::Source;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StoreSample {
    /// Customers looked up (those whose lookup failed are in `failed`, not here).
    pub n: usize,
    pub consumed_but_not_applied: usize,
    pub share: f64,
    pub ci95: [f64; 2],
    /// The customers found, in key order.
    pub keys: Vec<String>,
    /// Customers whose lookup failed, and why: left out of `n`, never counted as fine.
    pub failed: Vec<(String, String)>,
    pub seed: u64,
    pub cancelled: bool,
    /// Source topics the spec's partitioner does not place (the count is then unreliable).
    pub placement_warnings: Vec<String>,
    /// Sampled customers with a stale field more than the budget behind (the rest are served
    /// within it).
    pub past_budget: usize,
    /// Sampled customers with a field whose path the producer stopped writing (a new schema
    /// renamed or dropped it), in key order, with the first such field's reason. Not counted
    /// in `consumed_but_not_applied`: that is not what happened to them.
    pub schema_changes: Vec<(String, String)>,
}

impl StoreSample {
    /// "3 of 200 sampled (1.5%, 95% interval 0.5%–4.3%)"; with no customer looked up, that
    /// none was: an empty sample has no share and no interval (not a [0, 0] that reads as
    /// "certainly none").
    pub fn summary(&self) -> String {
        if self.n > 0 {
            return format!(
                "{} of {} sampled ({:.1}%, 95% interval {:.1}%–{:.1}%)",
                self.consumed_but_not_applied,
                self.n,
                self.share * 100.0,
                self.ci95[0] * 100.0,
                self.ci95[1] * 100.0
            );
        }
        match self.failed.len() {
            0 => "unknown, no customer was sampled (--sample 0, or an empty store)".into(),
            n => format!("unknown, no customer was sampled ({n} lookups failed)"),
        }
    }
}

/// `n` of `keys`, chosen by `seed`: the same keys for the same store and seed.
pub fn pick_keys(keys: &[String], n: usize, seed: u64) -> Vec<String> {
    let mut sorted: Vec<&String> = keys.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (picked, _) = sorted.partial_shuffle(&mut rng, n);
    let mut picked: Vec<String> = picked.iter().map(|k| (*k).clone()).collect();
    picked.sort();
    picked
}

/// Looks `keys` up, all at once (each source partition read once for the whole sample), and
/// counts those whose store diff says a field was consumed but not applied. `on_progress`
/// hears the reading. A failed read fails every key, each listed in `failed`: none is counted
/// as fine.
pub fn sample_store(
    source: &dyn Source,
    spec: &Spec,
    decoder: &SourceDecoder,
    keys: &[String],
    now_ms: i64,
    cancel: &CancelToken,
    on_progress: ProgressFn<'_>,
) -> StoreSample {
    let wanted: BTreeSet<String> = keys.iter().cloned().collect();
    let mut sample = StoreSample::default();
    match lookup_many(source, spec, decoder, &wanted, now_ms, cancel, on_progress) {
        Ok(found) => {
            if let Some((_, first)) = found.first() {
                sample.placement_warnings = first.timeline.placement_warnings.clone();
            }
            for (key, found) in found {
                sample.n += 1;
                let stale = || found.store.iter().flat_map(|s| &s.stale);
                let dropped = stale().any(|f| f.cause.consumed_not_applied());
                if stale().any(|f| spec.budget.is_past(f.behind_ms)) {
                    sample.past_budget += 1;
                }
                if let Some(change) = stale().find_map(|f| match &f.cause {
                    crate::profile::Cause::SchemaChange(change) => {
                        Some(format!("{}: {change}", f.field))
                    }
                    _ => None,
                }) {
                    sample.schema_changes.push((key.clone(), change));
                }
                if dropped {
                    sample.keys.push(key);
                }
            }
        }
        Err(e) => {
            let why = e.to_string();
            sample.failed = wanted.into_iter().map(|k| (k, why.clone())).collect();
        }
    }
    sample.cancelled = cancel.is_cancelled();
    sample.consumed_but_not_applied = sample.keys.len();
    if sample.n > 0 {
        sample.share = sample.consumed_but_not_applied as f64 / sample.n as f64;
    }
    sample.ci95 = wilson_95(sample.consumed_but_not_applied, sample.n);
    sample
}

/// The 95% Wilson score interval of `k` successes in `n` trials (`[0, 1]` for none): unlike the
/// normal approximation it stays inside [0, 1] and is not zero-width when `k` is 0 or `n`.
pub fn wilson_95(k: usize, n: usize) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    const Z: f64 = 1.959_963_984_540_054;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = Z * Z;
    let denominator = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denominator;
    let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    [(center - half).max(0.0), (center + half).min(1.0)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from the worked examples of Wilson (1927) as tabulated by Newcombe (1998),
    /// Statistics in Medicine 17, table I (method 3): 81/263, 15/148, 0/20, 1/29.
    #[test]
    fn wilson_matches_newcombes_table() {
        let cases = [
            (81, 263, [0.2553, 0.3662]),
            (15, 148, [0.0624, 0.1605]),
            (0, 20, [0.0, 0.1611]),
            (1, 29, [0.0061, 0.1718]),
        ];
        for (k, n, [lo, hi]) in cases {
            let [got_lo, got_hi] = wilson_95(k, n);
            assert!((got_lo - lo).abs() < 5e-4, "{k}/{n}: {got_lo} vs {lo}");
            assert!((got_hi - hi).abs() < 5e-4, "{k}/{n}: {got_hi} vs {hi}");
        }
        assert_eq!(wilson_95(0, 0), [0.0, 1.0]);
    }

    #[test]
    fn the_same_seed_picks_the_same_keys() {
        let keys: Vec<String> = (0..100).map(|i| format!("cust-{i:03}")).collect();
        let a = pick_keys(&keys, 10, 7);
        assert_eq!(a.len(), 10);
        assert_eq!(
            a,
            pick_keys(&keys.iter().rev().cloned().collect::<Vec<_>>(), 10, 7)
        );
        assert_ne!(a, pick_keys(&keys, 10, 8));
        assert_eq!(
            pick_keys(&keys, 500, 1).len(),
            100,
            "never more than there are"
        );
    }
}
