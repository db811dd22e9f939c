//! `freshlens timeline` and `freshlens profile`: one customer's events across topics, the profile
//! they fold into, and what the profile store serves instead.

use crate::source::Source;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::codec::registry::RegistryClient;
use crate::profile::SourceDecoder;
use crate::profile::{
    LookupRequest, PiiMask, ProfileReport, Spec, Timeline, Window, fold, load_timeline, lookup,
    pii_state, report_json, shown_value,
};

#[derive(Debug, Clone, clap::Args)]
pub struct TimelineArgs {
    /// Profile spec (TOML)
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// Source topics, when there is no spec (repeatable)
    #[arg(short = 't', long = "topic", conflicts_with = "spec")]
    pub topics: Vec<String>,
    /// Customer id (the record key)
    #[arg(long)]
    pub key: String,
    /// Only events from this time: ms since the epoch, RFC 3339, or a duration ago (`2h`)
    #[arg(long)]
    pub since: Option<String>,
    /// Only events up to this time, same forms as --since
    #[arg(long)]
    pub until: Option<String>,
    /// Print one JSON document
    #[arg(long)]
    pub json: bool,
    /// Print the values of fields marked `pii` instead of masking them (in events too)
    #[arg(long)]
    pub reveal_pii: bool,
    /// The command's `--timeout`, which bounds the Schema Registry too.
    #[arg(skip = crate::cluster::DEFAULT_TIMEOUT)]
    pub timeout: std::time::Duration,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// The Schema Registry flags of every command that decodes a spec's sources.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegistryArgs {
    /// Confluent-compatible Schema Registry for `avro`, `protobuf` and `json-schema` sources
    #[arg(long = "schema-registry", env = "FRESHLENS_SCHEMA_REGISTRY")]
    pub schema_registry: Option<String>,
    /// Schema Registry basic auth, USER:PASSWORD
    #[arg(
        long = "schema-registry-auth",
        env = "FRESHLENS_SCHEMA_REGISTRY_AUTH",
        hide_env_values = true
    )]
    pub schema_registry_auth: Option<String>,
    /// Schema Registry bearer token (an OAuth access token), instead of basic auth
    #[arg(
        long = "schema-registry-token",
        env = "FRESHLENS_SCHEMA_REGISTRY_TOKEN",
        hide_env_values = true,
        conflicts_with = "schema_registry_auth"
    )]
    pub schema_registry_token: Option<String>,
}

impl RegistryArgs {
    /// The spec's decoder, with a registry client bounded by `timeout` where one is named.
    pub fn decoder(
        &self,
        spec: &Spec,
        timeout: std::time::Duration,
    ) -> anyhow::Result<SourceDecoder> {
        let registry = self
            .schema_registry
            .as_deref()
            .map(|url| RegistryClient::new(url, self.schema_registry_auth.as_deref()))
            .transpose()
            .map_err(anyhow::Error::msg)?
            .map(|client| match &self.schema_registry_token {
                Some(token) => client.with_bearer(token),
                None => client,
            })
            .map(|client| Arc::new(client.with_timeout(timeout)));
        SourceDecoder::new(spec, registry).map_err(anyhow::Error::msg)
    }

    /// The spec at `path`, if one is named, with its decoder.
    pub fn spec_and_decoder(
        &self,
        path: Option<&std::path::Path>,
        timeout: std::time::Duration,
    ) -> anyhow::Result<Option<(Spec, SourceDecoder)>> {
        let Some(path) = path else {
            return Ok(None);
        };
        let spec = Spec::load(path)?;
        let decoder = self.decoder(&spec, timeout)?;
        Ok(Some((spec, decoder)))
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct ProfileArgs {
    #[command(flatten)]
    pub timeline: TimelineArgs,
    /// The profile as of this time (event time), same forms as --since
    #[arg(long)]
    pub at: Option<String>,
}

impl TimelineArgs {
    pub fn spec(&self) -> anyhow::Result<Spec> {
        match &self.spec {
            Some(path) => Ok(Spec::load(path)?),
            None if !self.topics.is_empty() => Ok(Spec::schemaless(&self.topics)),
            None => anyhow::bail!("pass --spec FILE or at least one -t TOPIC"),
        }
    }

    pub fn decoder(&self, spec: &Spec) -> anyhow::Result<SourceDecoder> {
        self.registry.decoder(spec, self.timeout)
    }

    pub fn window(&self, now_ms: i64) -> anyhow::Result<Window> {
        let (since_ms, until_ms) =
            parse_range(self.since.as_deref(), self.until.as_deref(), now_ms)?;
        Ok(Window { since_ms, until_ms })
    }
}

/// A `--since`/`--until` pair, each in any form [`parse_time`] takes.
pub fn parse_range(
    since: Option<&str>,
    until: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<(Option<i64>, Option<i64>)> {
    let parse = |t: Option<&str>| t.map(|t| parse_time(t, now_ms)).transpose();
    let (from, to) = (parse(since)?, parse(until)?);
    if let Some(from) = from
        && from >= to.unwrap_or(now_ms)
    {
        anyhow::bail!(
            "--since {} is not before --until {} (a duration counts back from now: \
             --since 2h --until 1h is the hour before the last)",
            since.unwrap_or_default(),
            until.unwrap_or("now")
        );
    }
    Ok((from, to))
}

/// A customer id to look up: an empty one names no customer.
pub fn customer_key(text: &str) -> Result<String, String> {
    match text.trim().is_empty() {
        true => Err("an empty key names no customer: pass the customer id".into()),
        false => Ok(text.to_owned()),
    }
}

/// A lookup that found nothing for the key (no event, no store version, nothing undecodable):
/// an error saying so, rather than a report of an empty, "fresh" profile.
pub fn found_something(
    spec: &Spec,
    key: &str,
    found: &crate::profile::Lookup,
) -> anyhow::Result<()> {
    let timeline = &found.timeline;
    if !timeline.events.is_empty() || !found.versions.is_empty() || !timeline.undecodable.is_empty()
    {
        return Ok(());
    }
    let topics: Vec<&str> = spec.sources.iter().map(|s| s.topic.as_str()).collect();
    anyhow::bail!(
        "no events were found for key {key:?} in {} (nor in the store): check the key, the \
         window, and the spec's topics and partitioner",
        topics.join(", ")
    )
}

/// ms since the epoch (optionally `@`-prefixed), RFC 3339, or a duration before `now_ms`.
pub fn parse_time(text: &str, now_ms: i64) -> anyhow::Result<i64> {
    let text = text.trim();
    let digits = text.strip_prefix('@').unwrap_or(text);
    if let Ok(ms) = digits.parse::<i64>() {
        return Ok(ms);
    }
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.timestamp_millis());
    }
    let ago = humantime::parse_duration(text.trim_end_matches(" ago")).with_context(|| {
        format!("time {text:?}: expected ms since the epoch, RFC 3339 or a duration like 2h")
    })?;
    Ok(now_ms - ago.as_millis() as i64)
}

pub use crate::freshness::now_ms;

fn load(
    cluster: &dyn Source,
    args: &TimelineArgs,
    spec: &Spec,
    decoder: &SourceDecoder,
) -> anyhow::Result<Timeline> {
    let window = args.window(cluster.now_ms())?;
    let request = LookupRequest {
        window,
        ..LookupRequest::new(spec, decoder, &args.key, cluster.now_ms())
    };
    Ok(load_timeline(cluster, &request, &mut |_| {}, &|_| {})?)
}

pub fn run_timeline(
    cluster: &dyn Source,
    args: &TimelineArgs,
    spec: &Spec,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let timeline = load(cluster, args, spec, &args.decoder(spec)?)?;
    let mask = PiiMask::unless_revealed(spec, args.reveal_pii);
    let ids = mask.pii_ids(&timeline);
    if args.json {
        let events: Vec<Value> = timeline
            .events
            .iter()
            .map(|e| {
                let mut event = serde_json::to_value(e).unwrap_or_default();
                event["value"] = mask.apply(&e.topic, &e.value).into_owned();
                event["id"] = ids.show(&e.id).into();
                event
            })
            .collect();
        let doc = json!({
            "key": timeline.key,
            "identities": ids.identities(&timeline.identities),
            "pii": pii_state(args.reveal_pii),
            "events": events,
            "undecodable": ids.undecodable(&timeline.undecodable),
            "unreadable_event_times": timeline.unreadable_event_times,
            "scanned": timeline.scanned,
            "placement_warnings": timeline.placement_warnings,
        });
        serde_json::to_writer(&mut *out, &doc)?;
        writeln!(out)?;
        return nothing_decoded(&timeline);
    }
    writeln!(
        out,
        "{} events for {} (identities: {})",
        timeline.events.len(),
        timeline.key,
        ids.identities(&timeline.identities).join(", ")
    )?;
    for e in &timeline.events {
        writeln!(
            out,
            "{}  {}/{}@{}  {}  {}",
            crate::time::format_timestamp(Some(e.event_ms)),
            e.topic,
            e.partition,
            e.offset,
            ids.show(&e.id),
            mask.apply(&e.topic, &e.value)
        )?;
    }
    read_problems(&timeline, spec, &ids, out)?;
    writeln!(
        out,
        "read {} records from {} partitions in {} ms",
        timeline.scanned.records, timeline.scanned.partitions, timeline.scanned.elapsed_ms
    )?;
    nothing_decoded(&timeline)
}

/// Every record read was undecodable: the answer would be an empty profile given with
/// confidence. The output is printed, then this fails the command.
fn nothing_decoded(timeline: &Timeline) -> anyhow::Result<()> {
    match timeline.undecodable.first() {
        Some(first) if timeline.events.is_empty() => anyhow::bail!(
            "none of the {} records read could be decoded (first, {}/{}@{}: {})",
            timeline.undecodable.len(),
            first.topic,
            first.partition,
            first.offset,
            first.reason
        ),
        _ => Ok(()),
    }
}

/// What could not be read, in the text output as in JSON: each undecodable record, and per
/// source how many event times fell back to the broker time.
fn read_problems(
    timeline: &Timeline,
    spec: &Spec,
    ids: &crate::profile::PiiIds,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    for warning in &timeline.placement_warnings {
        writeln!(out, "partitioner: {warning}")?;
    }
    for u in &timeline.undecodable {
        writeln!(
            out,
            "undecodable {}/{}@{} (key {}): {}",
            u.topic,
            u.partition,
            u.offset,
            ids.show(&u.id),
            u.reason
        )?;
    }
    for (topic, count) in &timeline.unreadable_event_times {
        let pointer = spec
            .source(topic)
            .and_then(|s| s.event_time.as_deref())
            .unwrap_or("event_time");
        writeln!(
            out,
            "{count} record(s) of {topic} had an unreadable {pointer}; their broker time was used"
        )?;
    }
    Ok(())
}

pub fn build_report(
    cluster: &dyn Source,
    spec: &Spec,
    args: &ProfileArgs,
) -> anyhow::Result<ProfileReport> {
    let now = cluster.now_ms();
    let decoder = args.timeline.decoder(spec)?;
    let window = args.timeline.window(now)?;
    let as_of = args.at.as_deref().map(|t| parse_time(t, now)).transpose()?;
    let request = LookupRequest {
        window,
        ..LookupRequest::new(spec, &decoder, &args.timeline.key, now)
    };
    let found = lookup(cluster, &request)?;
    let profile = fold(spec, &found.timeline.events, as_of);
    Ok(ProfileReport {
        timeline: found.timeline,
        profile,
        store: found.store,
    })
}

pub fn run_profile(
    cluster: &dyn Source,
    args: &ProfileArgs,
    spec: &Spec,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let report = build_report(cluster, spec, args)?;
    let reveal = args.timeline.reveal_pii;
    let ids = PiiMask::unless_revealed(spec, reveal).pii_ids(&report.timeline);
    if args.timeline.json {
        serde_json::to_writer(&mut *out, &report_json(spec, &report, reveal))?;
        writeln!(out)?;
        return nothing_decoded(&report.timeline);
    }
    writeln!(
        out,
        "profile of {} ({} events, identities: {})",
        report.timeline.key,
        report.timeline.events.len(),
        ids.identities(&report.timeline.identities).join(", ")
    )?;
    if let Some(erased) = &report.profile.erased {
        writeln!(
            out,
            "erased at {}",
            crate::time::format_timestamp(Some(erased.at.event_ms))
        )?;
    }
    for (name, f) in &report.profile.fields {
        let at = &f.source;
        writeln!(
            out,
            "  {name:<24} {:<40} {}/{}@{}{}",
            shown_value(spec, name, &f.value, reveal).to_string(),
            at.topic,
            at.partition,
            at.offset,
            if f.usable {
                ""
            } else {
                "  (not usable: no consent)"
            }
        )?;
    }
    read_problems(&report.timeline, spec, &ids, out)?;
    match &report.store {
        None => writeln!(out, "no [store] in the spec")?,
        Some(store) => {
            writeln!(out, "store: {} stale field(s)", store.stale.len())?;
            if let Some(group) = spec.store.as_ref().and_then(|s| s.builder_group.as_deref()) {
                writeln!(out, "  {}", store.not_consumed.words(group, store.as_of_ms))?;
            }
            for s in &store.stale {
                writeln!(
                    out,
                    "  {}: expected {} served {}, behind {} ({})",
                    s.field,
                    shown_value(spec, &s.field, &s.expected, reveal),
                    shown_value(spec, &s.field, &s.served, reveal),
                    crate::time::format_duration_ms(s.behind_ms),
                    s.cause
                )?;
            }
        }
    }
    nothing_decoded(&report.timeline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_every_documented_form() {
        let now = 1_700_000_000_000;
        assert_eq!(parse_time("1699999999000", now).unwrap(), 1_699_999_999_000);
        assert_eq!(parse_time("@5", now).unwrap(), 5);
        assert_eq!(parse_time("2023-11-14T22:13:20Z", now).unwrap(), now);
        assert_eq!(parse_time("2h", now).unwrap(), now - 7_200_000);
        assert_eq!(parse_time("15m ago", now).unwrap(), now - 900_000);
        assert!(parse_time("whenever", now).is_err());
    }
}
