//! The cost row: what the domain's topics store and a replay reads, at the user's prices
//! (freshlens ships none). Per source and store topic: retained bytes (records between the
//! watermarks times the mean size of the records read; a record's size is its key, value and
//! headers, without the log's batch overhead), growth per day from the produce rate, the
//! retention the contract needs, and the monthly envelope side by side for broker-local disk
//! (times the replication factor) and shared object storage (once), plus the transfer of one
//! full replay. Informational unless `max_month` is set.

use serde::Serialize;
use serde_json::json;

use super::row::{Row, RowKind, evidence};
use crate::cluster::{CancelToken, ClusterError, ScanEvent, ScanRequest, StartAt};
use crate::freshness::Retention;
use crate::profile::{Rule, SourceDecoder, Spec};
use crate::rebuild::Readiness;
use crate::source::Source;

/// Prices are per GB: 10^9 bytes.
const GB: f64 = 1e9;
const DAY_MS: f64 = 86_400_000.0;
/// A month of storage, as cloud price lists count it (730 hours).
const MONTH_DAYS: f64 = 730.0 / 24.0;
/// Newest records per partition read for the produce rate and the store's record size.
const TAIL: i64 = 500;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicCost {
    pub topic: String,
    /// `source` or `store`.
    pub role: &'static str,
    pub records: i64,
    pub mean_record_bytes: Option<f64>,
    pub retained_bytes: Option<f64>,
    /// Records a day at the newest records' produce rate.
    pub records_per_day: Option<f64>,
    pub growth_bytes_per_day: Option<f64>,
    pub cleanup_policy: Option<String>,
    /// As configured: -1 kept forever; `None` where the cluster does not say.
    pub retention_ms: Option<i64>,
    /// The retention the contract needs, in words.
    pub needs: String,
    /// Bytes stored a month from now at that retention.
    pub envelope_bytes: Option<f64>,
    pub replication_factor: u32,
    /// `cluster` (its replicas), `contract` (where the cluster does not say) or `assumed` (1:
    /// neither says).
    pub replication_from: &'static str,
}

/// Gathers each topic's figures. `readiness` gives the sources' records and mean sizes (the
/// same read the rebuild row uses); the store's and every produce rate come from its newest
/// records.
pub fn cost_facts(
    source: &dyn Source,
    spec: &Spec,
    decoder: &SourceDecoder,
    readiness: &Readiness,
    cancel: &CancelToken,
) -> Result<Vec<TopicCost>, ClusterError> {
    let now = source.now_ms();
    let contract_rf = spec
        .contract
        .cost
        .as_ref()
        .and_then(|c| c.replication_factor);
    let mut out = Vec::new();
    let store = spec.store.as_ref().map(|s| s.as_source());
    let roles = spec
        .sources
        .iter()
        .map(|s| (s, "source"))
        .chain(store.iter().map(|s| (s, "store")));
    for (src, role) in roles {
        let info = source.topic(&src.topic)?;
        let records = info.message_count();
        let configs = source.topic_configs(&src.topic).unwrap_or_default();
        let (policy, compacted) = super::row::cleanup_policy(&configs);
        let retention = Retention::from_configs(&configs);
        let recent = crate::freshness::recent(
            source,
            src,
            decoder,
            (now - DAY_MS as i64, now),
            TAIL,
            cancel,
        )?;
        let mean = match readiness.topics.iter().find(|t| t.topic == src.topic) {
            Some(t) => t
                .bytes
                .filter(|_| t.records > 0)
                .map(|b| b as f64 / t.records as f64),
            None => tail_mean_size(source, &src.topic, cancel)?,
        };
        let replicas = info
            .partitions
            .iter()
            .map(|p| p.replicas.len())
            .max()
            .unwrap_or(0);
        let (rf, rf_from) = match (replicas, contract_rf) {
            (0, Some(rf)) => (rf, "contract"),
            (0, None) => (1, "assumed"),
            (n, _) => (n as u32, "cluster"),
        };
        // An empty topic stores nothing, whatever its records would weigh.
        let retained = if records == 0 {
            Some(0.0)
        } else {
            mean.map(|m| m * records as f64)
        };
        let per_day = recent.per_sec.map(|r| r * 86_400.0);
        let growth = per_day.zip(mean).map(|(d, m)| d * m);
        // As the rebuild's readiness says: a field that folds every event, or one another
        // field's consent depends on, needs the topic's whole history.
        let whole = role == "source"
            && spec.fields.iter().any(|f| {
                f.topic == src.topic
                    && (f.rule != Rule::Last
                        || spec
                            .fields
                            .iter()
                            .any(|g| g.consent.as_deref() == Some(f.name.as_str())))
            });
        let pii = role == "store" && spec.fields.iter().any(|f| f.pii)
            || spec.fields.iter().any(|f| f.pii && f.topic == src.topic);
        let erasure = spec
            .contract
            .erasure_within
            .filter(|_| pii)
            .map(|d| d.as_millis() as i64);
        let configured = retention.as_ms().filter(|ms| *ms >= 0);
        let (needs, envelope) = if whole {
            (
                "the whole history (a field folds every event)".to_owned(),
                retained.map(|r| r + growth.unwrap_or(0.0) * MONTH_DAYS),
            )
        } else if compacted {
            ("compacted: the latest record per key".to_owned(), retained)
        } else {
            let keep = match (configured, erasure) {
                (Some(c), Some(e)) => Some(c.min(e)),
                (c, e) => c.or(e),
            };
            match keep {
                None if retention == Retention::Never => (
                    "kept forever (retention.ms -1)".to_owned(),
                    retained.map(|r| r + growth.unwrap_or(0.0) * MONTH_DAYS),
                ),
                Some(ms) => (
                    format!(
                        "{}{}",
                        crate::time::format_duration_ms(ms),
                        if erasure == Some(ms) {
                            " (erasure_within)"
                        } else {
                            ""
                        }
                    ),
                    growth.map(|g| g * ms as f64 / DAY_MS),
                ),
                None => (
                    "as kept now (no retention known)".to_owned(),
                    retained.map(|r| r + growth.unwrap_or(0.0) * MONTH_DAYS),
                ),
            }
        };
        out.push(TopicCost {
            topic: src.topic.clone(),
            role,
            records,
            mean_record_bytes: mean,
            retained_bytes: retained,
            records_per_day: per_day,
            growth_bytes_per_day: growth,
            cleanup_policy: policy,
            retention_ms: retention.as_ms(),
            needs,
            envelope_bytes: envelope,
            replication_factor: rf,
            replication_from: rf_from,
        });
    }
    Ok(out)
}

/// The mean size of the newest records of `topic`.
fn tail_mean_size(
    source: &dyn Source,
    topic: &str,
    cancel: &CancelToken,
) -> Result<Option<f64>, ClusterError> {
    let request = ScanRequest {
        start: StartAt::Tail(TAIL),
        ..ScanRequest::new(topic)
    };
    let (mut n, mut bytes) = (0u64, 0u64);
    source.scan(&request, cancel, &mut |event| {
        if let ScanEvent::Records(records) = event {
            for r in records {
                n += 1;
                bytes += r.size_bytes() as u64;
            }
        }
        true
    })?;
    Ok((n > 0).then(|| bytes as f64 / n as f64))
}

/// The monthly envelope of each storage option, at the contract's prices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Envelope {
    pub option: &'static str,
    pub storage_month: f64,
    pub replay: f64,
    pub total: f64,
    pub fits: Option<bool>,
}

pub fn envelopes(spec: &Spec, topics: &[TopicCost]) -> Vec<Envelope> {
    let Some(prices) = &spec.contract.cost else {
        return Vec::new();
    };
    let replay_gb: f64 = topics
        .iter()
        .filter(|t| t.role == "source")
        .filter_map(|t| t.retained_bytes)
        .sum::<f64>()
        / GB;
    let replay = prices.transfer_gb.map(|p| replay_gb * p);
    let options = [
        ("broker-local", prices.broker_gb_month, true),
        ("object storage", prices.object_gb_month, false),
    ];
    options
        .into_iter()
        .filter_map(|(option, price, replicated)| {
            let price = price?;
            let gb: f64 = topics
                .iter()
                .filter_map(|t| {
                    let rf = if replicated {
                        t.replication_factor as f64
                    } else {
                        1.0
                    };
                    Some(t.envelope_bytes? * rf)
                })
                .sum::<f64>()
                / GB;
            let storage_month = gb * price;
            let total = storage_month + replay.unwrap_or(0.0);
            Some(Envelope {
                option,
                storage_month,
                replay: replay.unwrap_or(0.0),
                total,
                fits: prices.max_month.map(|m| total <= m),
            })
        })
        .collect()
}

pub fn cost_row(spec: &Spec, topics: &[TopicCost]) -> Row {
    let prices = spec.contract.cost.as_ref();
    let options = envelopes(spec, topics);
    let (mut failures, mut unknown) = (Vec::new(), Vec::new());
    let money = |v: f64| format!("{v:.2}");
    match prices {
        None => unknown.push("no [contract.cost] prices: freshlens ships none".into()),
        Some(p) if options.is_empty() => unknown.push(format!(
            "[contract.cost] names no storage price (broker_gb_month, object_gb_month){}",
            if p.transfer_gb.is_some() {
                ""
            } else {
                " nor transfer_gb"
            }
        )),
        Some(p) => match p.max_month {
            None => unknown.push(
                "informational: no max_month in [contract.cost] to hold the envelope to".into(),
            ),
            Some(max) if options.iter().all(|o| o.fits == Some(false)) => {
                for o in &options {
                    failures.push(format!(
                        "{}: {} a month ({} storage + {} for one replay) is over max_month {}",
                        o.option,
                        money(o.total),
                        money(o.storage_month),
                        money(o.replay),
                        money(max)
                    ));
                }
            }
            Some(_) => {}
        },
    }
    for t in topics.iter().filter(|t| t.retained_bytes.is_none()) {
        unknown.push(format!(
            "{}: no record could be read to size it, so its bytes are not counted",
            t.topic
        ));
    }
    Row::judged(
        RowKind::Cost,
        format!(
            "the monthly envelope (storage at the retention the contract needs, plus one full \
             replay) of at least one storage option at most {}",
            prices
                .and_then(|p| p.max_month)
                .map_or("max_month".into(), money)
        ),
        evidence([
            ("topics", json!(topics)),
            ("options", json!(options)),
            (
                "retained_bytes",
                json!(
                    topics
                        .iter()
                        .filter_map(|t| t.retained_bytes)
                        .sum::<f64>()
                        .round()
                ),
            ),
            (
                "growth_bytes_per_day",
                json!(
                    topics
                        .iter()
                        .filter_map(|t| t.growth_bytes_per_day)
                        .sum::<f64>()
                        .round()
                ),
            ),
            ("prices", json!(prices)),
        ]),
        failures,
        unknown,
    )
}
