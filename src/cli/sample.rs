//! What the sampling commands (`pii`, `keys`) share: the sample size's bounds, and the refusal
//! of a report judged on no record.

/// A sample size: at least one record, or nothing would be judged.
pub fn sample_size() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(1..)
}

/// An error naming the topics of which no record could be sampled: a report of no personal
/// data, or of no misplaced key, judged on nothing must not exit 0.
pub fn sampled_something<'a>(
    topics: impl IntoIterator<Item = (&'a str, u64)>,
) -> anyhow::Result<()> {
    let empty: Vec<&str> = topics
        .into_iter()
        .filter(|(_, sampled)| *sampled == 0)
        .map(|(topic, _)| topic)
        .collect();
    if empty.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "no record could be sampled from {}: nothing was judged there (an empty topic, or \
         watermarks with no record between them)",
        empty.join(", ")
    )
}
