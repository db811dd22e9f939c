//! Scoring a domain: each row's facts gathered and judged in turn, every row handed to
//! `on_row` as soon as it is ready (the Scorecard tab shows them as they come).

use std::time::Duration;

use super::cost::{cost_facts, cost_row};
use super::elasticity::{elasticity_facts, elasticity_row};
use super::freshness::freshness_row;
use super::governance::{governance_facts, governance_row};
use super::migration::{migration_row, no_migration_target};
use super::rebuild::rebuild_row;
use super::row::{Row, RowKind, Scorecard};
use crate::cluster::{Acl, CancelToken, ClusterError};
use crate::freshness::{DomainError, DomainRequest, look_at_domain};
use crate::migrate::CompareRequest;
use crate::profile::{SourceDecoder, Spec};
use crate::rebuild::{RehearseError, RehearseRequest};
use crate::source::Source;

/// The cluster to migrate to, for the migration row.
pub struct Target {
    /// As the user named it.
    pub name: String,
    pub source: Box<dyn Source>,
    /// The target's name for each source topic, e.g. "backup.{topic}" (`None`: detected).
    pub rename: Option<String>,
}

pub struct ScoreRequest {
    /// Customers sampled from the store's keys for a full lookup each.
    pub sample: usize,
    pub seed: u64,
    pub timeout: Duration,
    /// ACLs read from a `kafka-acls --list` file, and its name, instead of the cluster's.
    pub acls: Option<(String, Vec<Acl>)>,
    pub target: Option<Target>,
    /// Replay the sources for the rebuild row.
    pub rehearse: bool,
    /// The builder group's commits a sampler saw, for a source that keeps no commit log.
    pub seen: Vec<crate::freshness::OffsetCommit>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Rehearse(#[from] RehearseError),
    #[error("{0}")]
    Read(String),
    #[error("the scorecard was cancelled")]
    Cancelled,
}

/// What is being done, for progress.
#[derive(Debug, Clone, PartialEq)]
pub enum ScoreStep {
    /// Gathering the facts of this row.
    Gathering(RowKind),
    Row(Row),
}

/// Every row of `spec`'s domain in turn. A row whose evidence cannot be read is unknown, with
/// the error as its reason and in the scorecard's `errors` (the other rows are still scored);
/// only a cancel stops it.
pub fn score(
    source: &dyn Source,
    spec: &Spec,
    decoder: &SourceDecoder,
    request: &ScoreRequest,
    cancel: &CancelToken,
    on_step: &(dyn Fn(ScoreStep) + Sync),
) -> Result<Scorecard, ScoreError> {
    let now = source.now_ms();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut done = |kind: RowKind, row: Result<Row, ScoreError>| -> Result<(), ScoreError> {
        if cancel.is_cancelled() {
            return Err(ScoreError::Cancelled);
        }
        let row = row.unwrap_or_else(|e| {
            errors.push(format!("{}: {e}", kind.title()));
            Row::unreadable(kind, &e.to_string())
        });
        on_step(ScoreStep::Row(row.clone()));
        rows.push(row);
        Ok(())
    };
    let names: Vec<&str> = spec
        .sources
        .iter()
        .map(|s| s.topic.as_str())
        .chain(spec.store.iter().map(|s| s.topic.as_str()))
        .collect();

    on_step(ScoreStep::Gathering(RowKind::Freshness));
    let freshness = || -> Result<Row, ScoreError> {
        let domain_request = DomainRequest {
            sample: request.sample,
            seed: request.seed,
            connect: None,
            timeout: request.timeout,
        };
        let domain = look_at_domain(source, spec, decoder, &domain_request, now, cancel, &|_| {})?;
        let mut topics = Vec::new();
        for name in &names {
            topics.push(source.topic(name)?);
        }
        Ok(freshness_row(spec, &domain, &topics))
    };
    done(RowKind::Freshness, freshness())?;

    on_step(ScoreStep::Gathering(RowKind::Rebuild));
    // The rebuild and cost rows share what the sources retain.
    let readiness = crate::rebuild::readiness(source, spec, cancel);
    let rebuild = || -> Result<Row, ScoreError> {
        let readiness = readiness
            .as_ref()
            .map_err(|e| ScoreError::Read(e.to_string()))?;
        let rehearsal = if request.rehearse {
            let ask = RehearseRequest {
                partitions: None,
                examples: 0,
                reveal_pii: false,
            };
            Some(crate::rebuild::rehearse(
                source,
                spec,
                decoder,
                &ask,
                cancel,
                &|_| {},
            )?)
        } else {
            None
        };
        Ok(rebuild_row(spec, readiness, rehearsal.as_ref()))
    };
    done(RowKind::Rebuild, rebuild())?;

    on_step(ScoreStep::Gathering(RowKind::Governance));
    let governance = || -> Result<Row, ScoreError> {
        let facts = governance_facts(source, spec, decoder, request.acls.clone(), cancel)?;
        Ok(governance_row(spec, &facts))
    };
    done(RowKind::Governance, governance())?;

    on_step(ScoreStep::Gathering(RowKind::Elasticity));
    let elasticity = || -> Result<Row, ScoreError> {
        let facts = elasticity_facts(source, spec, &request.seen, cancel)?;
        Ok(elasticity_row(spec, &facts))
    };
    done(RowKind::Elasticity, elasticity())?;

    on_step(ScoreStep::Gathering(RowKind::Cost));
    let cost = || -> Result<Row, ScoreError> {
        let readiness = readiness
            .as_ref()
            .map_err(|e| ScoreError::Read(e.to_string()))?;
        let topics = cost_facts(source, spec, decoder, readiness, cancel)?;
        Ok(cost_row(spec, &topics))
    };
    done(RowKind::Cost, cost())?;

    on_step(ScoreStep::Gathering(RowKind::Migration));
    let migration = || -> Result<Row, ScoreError> {
        let Some(target) = &request.target else {
            return Ok(no_migration_target());
        };
        // The domain's topics and its builder group: the rest of the cluster is not this
        // scorecard's (without a builder group, no group is).
        let groups: Vec<String> = spec
            .store
            .iter()
            .filter_map(|s| s.builder_group.clone())
            .collect();
        let ask = CompareRequest {
            rename: target.rename.clone(),
            topics: names.iter().map(|t| (*t).to_owned()).collect(),
            no_groups: groups.is_empty(),
            groups,
            ..Default::default()
        };
        let found = crate::migrate::compare(source, target.source.as_ref(), &ask, cancel)?;
        Ok(migration_row(&target.name, &found))
    };
    done(RowKind::Migration, migration())?;
    Ok(Scorecard {
        domain: spec.name.clone(),
        as_of_ms: now,
        budget_ms: spec.budget.ms(),
        rows,
        errors,
    })
}
