//! What "ready" means for a profile domain: the spec's `[contract]` table, the targets the
//! readiness scorecard holds each row to. Every key is optional: a row whose condition has no
//! stated target says so instead of passing.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The contract as written in the spec.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContract {
    pub fresh_share: Option<f64>,
    pub rebuild_within: Option<String>,
    pub rebuild_consumers: Option<u32>,
    pub recover_within: Option<String>,
    pub erasure_within: Option<String>,
    #[serde(default)]
    pub readers: BTreeMap<String, Vec<String>>,
    pub cost: Option<CostContract>,
}

/// The user's prices: freshlens ships none.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CostContract {
    /// Used where the cluster does not say.
    pub replication_factor: Option<u32>,
    /// Broker-local disk, per GB-month, times the replication factor.
    pub broker_gb_month: Option<f64>,
    /// Shared object storage, per GB-month.
    pub object_gb_month: Option<f64>,
    /// Per GB read for a replay (cross-zone or egress).
    pub transfer_gb: Option<f64>,
    /// The envelope must stay under this, where given.
    pub max_month: Option<f64>,
}

/// The contract, checked: durations parsed, shares and counts in range.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Contract {
    /// Share of customers whose served profile is within the budget, in (0, 1].
    pub fresh_share: Option<f64>,
    #[serde(with = "ms_option")]
    pub rebuild_within: Option<Duration>,
    pub rebuild_consumers: Option<u32>,
    #[serde(with = "ms_option")]
    pub recover_within: Option<Duration>,
    #[serde(with = "ms_option")]
    pub erasure_within: Option<Duration>,
    /// Principals allowed to read each `pii` attribute.
    pub readers: BTreeMap<String, Vec<String>>,
    pub cost: Option<CostContract>,
}

/// What is wrong with a contract, in words a spec error carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    #[error("[contract] {key} {text:?}: {problem}")]
    Duration {
        key: &'static str,
        text: String,
        problem: String,
    },
    #[error("[contract] fresh_share must be above 0 and at most 1")]
    Share,
    #[error("[contract] rebuild_consumers must be at least 1")]
    Consumers,
    #[error("[contract.cost] {0} must be a positive number")]
    Price(&'static str),
    #[error("[contract.readers] {0} is not a field of the spec")]
    UnknownField(String),
}

impl RawContract {
    /// Checks the contract against the spec's field names.
    pub fn check(self, fields: &[&str]) -> Result<Contract, ContractError> {
        let duration = |key: &'static str, text: &Option<String>| {
            text.as_ref()
                .map(|t| {
                    humantime::parse_duration(t)
                        .map_err(|e| e.to_string())
                        .and_then(|d| {
                            if d.is_zero() {
                                Err("must be longer than zero".into())
                            } else {
                                Ok(d)
                            }
                        })
                        .map_err(|problem| ContractError::Duration {
                            key,
                            text: t.clone(),
                            problem,
                        })
                })
                .transpose()
        };
        if self.fresh_share.is_some_and(|s| !(s > 0.0 && s <= 1.0)) {
            return Err(ContractError::Share);
        }
        if self.rebuild_consumers == Some(0) {
            return Err(ContractError::Consumers);
        }
        if let Some(cost) = &self.cost {
            for (name, price) in [
                ("broker_gb_month", cost.broker_gb_month),
                ("object_gb_month", cost.object_gb_month),
                ("transfer_gb", cost.transfer_gb),
                ("max_month", cost.max_month),
            ] {
                if price.is_some_and(|p| !(p.is_finite() && p >= 0.0)) {
                    return Err(ContractError::Price(name));
                }
            }
            if cost.replication_factor == Some(0) {
                return Err(ContractError::Price("replication_factor"));
            }
        }
        if let Some(unknown) = self.readers.keys().find(|k| !fields.contains(&k.as_str())) {
            return Err(ContractError::UnknownField(unknown.clone()));
        }
        Ok(Contract {
            fresh_share: self.fresh_share,
            rebuild_within: duration("rebuild_within", &self.rebuild_within)?,
            rebuild_consumers: self.rebuild_consumers,
            recover_within: duration("recover_within", &self.recover_within)?,
            erasure_within: duration("erasure_within", &self.erasure_within)?,
            readers: self.readers,
            cost: self.cost,
        })
    }
}

/// Durations as milliseconds in JSON, as every other time in freshlens.
mod ms_option {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => serializer.serialize_u64(d.as_millis() as u64),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contract_is_checked_against_the_spec() {
        let raw: RawContract = toml::from_str(
            r#"
fresh_share = 0.99
rebuild_within = "4h"
rebuild_consumers = 12
recover_within = "30m"
erasure_within = "30d"
[readers]
email = ["User:profile-builder", "User:support-assistant"]
[cost]
replication_factor = 3
broker_gb_month = 0.10
object_gb_month = 0.023
transfer_gb = 0.02
max_month = 2500
"#,
        )
        .unwrap();
        let contract = raw.clone().check(&["email"]).unwrap();
        assert_eq!(contract.rebuild_within, Some(Duration::from_secs(4 * 3600)));
        assert_eq!(
            contract.erasure_within,
            Some(Duration::from_secs(30 * 86_400))
        );
        assert_eq!(contract.readers["email"].len(), 2);
        assert_eq!(
            raw.clone().check(&["country"]).unwrap_err(),
            ContractError::UnknownField("email".into())
        );
        let bad_share = RawContract {
            fresh_share: Some(1.5),
            ..raw.clone()
        };
        assert_eq!(
            bad_share.check(&["email"]).unwrap_err(),
            ContractError::Share
        );
        let bad_time = RawContract {
            recover_within: Some("soon".into()),
            ..raw
        };
        assert!(
            bad_time
                .check(&["email"])
                .unwrap_err()
                .to_string()
                .starts_with("[contract] recover_within \"soon\": ")
        );
        assert_eq!(
            RawContract::default().check(&[]).unwrap(),
            Contract::default()
        );
    }
}
