//! The governance row: the readers of every customer attribute can be named. For each `pii`
//! field, the principals the ACLs let read its topic (and the store, which serves every field)
//! against `[contract.readers]`; personal data discovery finds that the spec does not declare;
//! erasures that left personal data behind; topics carrying personal data kept longer than
//! `erasure_within` with no compaction to remove it; and, with a registry, each source
//! subject's compatibility level.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::json;

use super::row::{Row, RowKind, evidence};
use crate::cluster::{AclAnswer, CancelToken, ClusterError};
use crate::freshness::Retention;
use crate::governance::{
    Access, ErasureCheck, ErasureVerdict, KAFKA_DEFAULT_RETENTION_MS, TopicPii, access, discover,
};
use crate::profile::{SourceDecoder, Spec};
use crate::source::Source;

/// Records sampled per topic for undeclared personal data.
const DISCOVERY_SAMPLE: usize = crate::governance::DEFAULT_PII_SAMPLE;

/// What the governance row is judged on, gathered once.
#[derive(Debug, Clone)]
pub struct GovernanceFacts {
    pub access: Access,
    /// Where the ACLs came from: the cluster, or a `kafka-acls --list` file.
    pub acls_from: String,
    /// The answer lists bindings: an empty one says nothing (no authorizer, or a broker that
    /// answers [] without enforcing anything, as Tansu does).
    pub acls_known: bool,
    pub discovered: Vec<TopicPii>,
    /// `None`: no source of the spec says which event erases a customer.
    pub erasures: Option<Vec<ErasureCheck>>,
    /// Each topic carrying personal data, and its configuration (or why it could not be read).
    pub configs: BTreeMap<String, Result<Vec<(String, String)>, Unreadable>>,
    /// Each registry-framed source's subject and its compatibility level.
    pub compatibility: Vec<(String, Result<String, Unreadable>)>,
}

/// Why one fact could not be read, kept with the facts (the row says it, unknown).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

/// Gathers the facts: `acls` replaces the cluster's answer where given (a listing the platform
/// team exported), since many clients may not describe ACLs and some brokers answer none.
pub fn governance_facts(
    source: &dyn Source,
    spec: &Spec,
    decoder: &SourceDecoder,
    acls: Option<(String, Vec<crate::cluster::Acl>)>,
    cancel: &CancelToken,
) -> Result<GovernanceFacts, ClusterError> {
    let (acls_from, answer) = match acls {
        Some((from, acls)) => (from, AclAnswer::Acls(acls)),
        None => ("the cluster".to_owned(), source.describe_acls()?),
    };
    let access = access(spec, &answer);
    let acls_known = matches!(&answer, AclAnswer::Acls(acls) if !acls.is_empty());
    let mut discovered = Vec::new();
    let store = spec.store.iter().map(|s| s.topic.as_str());
    for topic in spec.sources.iter().map(|s| s.topic.as_str()).chain(store) {
        discovered.push(discover(
            source,
            topic,
            Some(spec),
            Some(decoder),
            DISCOVERY_SAMPLE,
            cancel,
        )?);
    }
    let deadline = spec
        .contract
        .erasure_within
        .map_or(crate::governance::DEFAULT_ERASURE_DEADLINE_MS, |d| {
            d.as_millis() as i64
        });
    let erasures = if spec.sources.iter().any(|s| s.erase_when.is_some()) {
        Some(crate::governance::verify_erasures(
            source, spec, decoder, None, deadline, cancel,
        )?)
    } else {
        None
    };
    let topics = pii_topics(spec, &discovered);
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    let configs = source
        .topics_configs(&names)?
        .into_iter()
        .map(|(topic, answer)| (topic, answer.map_err(|e| Unreadable(e.to_string()))))
        .collect();
    let compatibility = match decoder.registry() {
        Some(registry) => spec
            .sources
            .iter()
            .filter(|s| s.format.registry_framed())
            .map(|s| {
                // Confluent's default TopicNameStrategy.
                let subject = format!("{}-value", s.topic);
                let level = registry
                    .compatibility(&subject)
                    .map_err(|e| Unreadable(e.to_string()));
                (subject, level)
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(GovernanceFacts {
        access,
        acls_from,
        acls_known,
        discovered,
        erasures,
        configs,
        compatibility,
    })
}

/// Topics that carry personal data: a `pii` field's, the store's when it serves one, and any
/// where discovery found some.
fn pii_topics(spec: &Spec, discovered: &[TopicPii]) -> BTreeSet<String> {
    let mut topics: BTreeSet<String> = spec
        .fields
        .iter()
        .filter(|f| f.pii)
        .map(|f| f.topic.clone())
        .collect();
    if let Some(store) = &spec.store
        && spec.fields.iter().any(|f| f.pii)
    {
        topics.insert(store.topic.clone());
    }
    topics.extend(
        discovered
            .iter()
            .filter(|t| !t.fields.is_empty())
            .map(|t| t.topic.clone()),
    );
    topics
}

#[derive(Debug, Serialize)]
struct AttributeReaders {
    field: String,
    topics: Vec<String>,
    readers: Vec<String>,
    allowed: Option<Vec<String>>,
    unlisted: Vec<String>,
}

#[derive(Debug, Serialize)]
struct TopicRetention {
    topic: String,
    cleanup_policy: Option<String>,
    retention_ms: Option<i64>,
    /// How the retention was read: "configured", "Kafka's default", or why it is unknown.
    read: String,
}

pub fn governance_row(spec: &Spec, facts: &GovernanceFacts) -> Row {
    let contract = &spec.contract;
    let (mut failures, mut unknown) = (Vec::new(), Vec::new());
    let acls_known = facts.acls_known;
    if !acls_known {
        unknown.push(format!(
            "who may read cannot be named from {}: {}",
            facts.acls_from, facts.access.note
        ));
    }
    let mut attributes = Vec::new();
    for attr in facts.access.attributes.iter().filter(|a| a.pii) {
        let allowed = contract.readers.get(&attr.field);
        let mut readers: BTreeMap<String, String> = BTreeMap::new();
        for r in attr.readers.iter().chain(&attr.store_readers) {
            readers
                .entry(r.principal.clone())
                .or_insert_with(|| r.describe());
        }
        let unlisted: Vec<String> = match allowed {
            Some(allowed) => readers
                .keys()
                .filter(|p| !allowed.contains(p))
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        if acls_known && readers.is_empty() {
            // With an authorizer that leaves super users (and, with
            // allow.everyone.if.no.acl.found, everyone): nobody a listing can name.
            unknown.push(format!(
                "no ACL grants READ on {} or the store: who reads pii field {} depends on the \
                 broker's super.users and allow.everyone.if.no.acl.found",
                attr.topic, attr.field
            ));
        }
        if acls_known {
            for principal in &unlisted {
                failures.push(format!(
                    "{principal} may read pii field {} ({}) but is not among its [contract.readers]",
                    attr.field, readers[principal]
                ));
            }
        }
        if allowed.is_none() {
            unknown.push(format!(
                "no [contract.readers] entry for pii field {}: nobody to hold its readers to",
                attr.field
            ));
        }
        attributes.push(AttributeReaders {
            field: attr.field.clone(),
            topics: [attr.topic.clone()]
                .into_iter()
                .chain(attr.store_topic.clone())
                .collect(),
            readers: readers.into_keys().collect(),
            allowed: allowed.cloned(),
            unlisted,
        });
    }
    let mut undeclared = Vec::new();
    for topic in &facts.discovered {
        for found in topic.fields.iter().filter(|f| !f.declared) {
            failures.push(format!(
                "{} {} holds {} in {:.1}% of {} sampled records and is not declared pii: \
                 its readers cannot be named",
                topic.topic,
                found.path,
                found.kind,
                found.share * 100.0,
                topic.sampled
            ));
            undeclared.push(json!({
                "topic": topic.topic, "path": found.path, "kind": found.kind,
                "records": found.records, "sampled": topic.sampled, "examples": found.examples,
            }));
        }
        if topic.undecodable > 0 {
            unknown.push(format!(
                "{}: {} sampled records could not be decoded, so discovery could not look in them",
                topic.topic, topic.undecodable
            ));
        }
    }
    let mut erasure_counts = BTreeMap::new();
    match &facts.erasures {
        Some(checks) => {
            for check in checks {
                *erasure_counts.entry(check.verdict.to_string()).or_insert(0) += 1;
                match check.verdict {
                    ErasureVerdict::Violation => {
                        failures.push(format!("erasure of {}: {}", check.key, check.reason))
                    }
                    ErasureVerdict::Unverified => unknown.push(format!(
                        "erasure of {} unverified: {}",
                        check.key, check.reason
                    )),
                    _ => {}
                }
            }
        }
        None => unknown.push("no source has erase_when: erasures cannot be found to verify".into()),
    }
    let mut retention = Vec::new();
    for (topic, answer) in &facts.configs {
        let configs = match answer {
            Ok(configs) => configs,
            Err(why) => {
                unknown.push(format!("the retention of {topic} could not be read: {why}"));
                retention.push(TopicRetention {
                    topic: topic.clone(),
                    cleanup_policy: None,
                    retention_ms: None,
                    read: why.to_string(),
                });
                continue;
            }
        };
        let (policy, compacted) = super::row::cleanup_policy(configs);
        let (ms, read) = match Retention::from_configs(configs) {
            Retention::Unknown => {
                // A broker that describes only what was set at creation (Tansu): Kafka's
                // default is a guess, not evidence.
                unknown.push(format!(
                    "{topic} does not report retention.ms: Kafka's default {} assumed",
                    crate::time::format_duration_ms(KAFKA_DEFAULT_RETENTION_MS)
                ));
                (Some(KAFKA_DEFAULT_RETENTION_MS), "Kafka's default")
            }
            Retention::Never => (None, "configured"),
            Retention::Ms(ms) => (Some(ms), "configured"),
        };
        if let Some(within) = contract.erasure_within
            && !compacted
        {
            let within_ms = within.as_millis() as i64;
            match ms {
                None => failures.push(format!(
                    "{topic} carries personal data and keeps it forever without compaction: \
                     nothing removes it within erasure_within {}",
                    crate::time::format_duration_ms(within_ms)
                )),
                Some(ms) if ms > within_ms => failures.push(format!(
                    "{topic} carries personal data for {} ({read} retention.ms) without \
                     compaction: longer than erasure_within {}",
                    crate::time::format_duration_ms(ms),
                    crate::time::format_duration_ms(within_ms)
                )),
                _ => {}
            }
        }
        retention.push(TopicRetention {
            topic: topic.clone(),
            cleanup_policy: policy,
            retention_ms: Some(ms.unwrap_or(-1)),
            read: read.into(),
        });
    }
    if contract.erasure_within.is_none() {
        unknown.push(
            "no erasure_within in the spec's [contract]: nothing to hold retention to".into(),
        );
    }
    let compatibility: Vec<_> = facts
        .compatibility
        .iter()
        .map(|(subject, level)| match level {
            Ok(level) => json!({"subject": subject, "level": level}),
            Err(why) => json!({"subject": subject, "level": null, "error": why.0}),
        })
        .collect();
    Row::judged(
        RowKind::Governance,
        "every reader of each pii attribute is named in [contract.readers], no undeclared \
         personal data, no erasure violated, and no topic keeps personal data past \
         erasure_within without compaction"
            .into(),
        evidence([
            ("acls_from", json!(facts.acls_from)),
            ("acls", json!(facts.access.note)),
            ("attributes", json!(attributes)),
            ("undeclared_pii", json!(undeclared)),
            ("erasures", json!(erasure_counts)),
            ("pii_topics", json!(retention)),
            ("compatibility", json!(compatibility)),
            (
                "erasure_within_ms",
                json!(contract.erasure_within.map(|d| d.as_millis() as u64)),
            ),
        ]),
        failures,
        unknown,
    )
}
