//! Topics on both sides of a migration: which exist on one side only (through a name mapping:
//! identity, or MirrorMaker 2's `<alias>.<topic>`), per partition the watermarks on each side
//! and the records the target is missing, and the settings that differ. A changed partition
//! count changes where every key lands: it is said loudly.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cluster::{ClusterError, TopicInfo};

/// How a source topic is named on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rename {
    Identity,
    /// A pattern with `{topic}` in it: `src.{topic}` (MirrorMaker 2's default policy).
    Pattern(String),
}

impl Rename {
    pub fn target_name(&self, topic: &str) -> String {
        match self {
            Rename::Identity => topic.to_owned(),
            Rename::Pattern(p) => p.replace("{topic}", topic),
        }
    }

    /// MirrorMaker 2's `<alias>.<topic>` when the target holds that name for most of the
    /// source's topics (and the plain names for fewer); identity otherwise.
    pub fn detect(source: &[&str], target: &[&str]) -> Self {
        let plain = source.iter().filter(|t| target.contains(t)).count();
        let mut aliases: BTreeMap<&str, usize> = BTreeMap::new();
        for t in target {
            if let Some((alias, rest)) = t.split_once('.')
                && source.contains(&rest)
            {
                *aliases.entry(alias).or_default() += 1;
            }
        }
        match aliases.into_iter().max_by_key(|(_, n)| *n) {
            Some((alias, n)) if n > plain => Rename::Pattern(format!("{alias}.{{topic}}")),
            _ => Rename::Identity,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionSides {
    pub partition: i32,
    pub source_low: Option<i64>,
    pub source_high: Option<i64>,
    pub target_low: Option<i64>,
    pub target_high: Option<i64>,
    /// Records on the source the target does not hold (by count between the watermarks:
    /// mirrored offsets differ between clusters, counts do not).
    pub missing: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigDiff {
    pub key: String,
    pub source: Option<String>,
    pub target: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicSides {
    pub topic: String,
    pub target_topic: String,
    /// `both`, `source` or `target`.
    pub on: &'static str,
    pub partitions: Vec<PartitionSides>,
    pub config_diff: Vec<ConfigDiff>,
    /// Why the settings could not be compared (a side could not read them): then
    /// `config_diff` is empty because nothing is known, not because they agree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configs_unread: Option<String>,
    /// Said loudly: every key lands elsewhere.
    pub partition_count_differs: bool,
}

/// One side's topic settings by topic name, or why they could not be read.
pub type Configs = BTreeMap<String, Result<Vec<(String, String)>, ClusterError>>;

/// Settings whose difference changes what a cutover keeps.
const COMPARED: &[&str] = &["cleanup.policy", "retention.ms", "retention.bytes"];

/// Compares the source's topics with the target's under `rename`; `configs` are each side's
/// topic settings by topic name.
pub fn compare_topics(
    source: &[TopicInfo],
    target: &[TopicInfo],
    rename: &Rename,
    configs: (&Configs, &Configs),
) -> Vec<TopicSides> {
    let mut out = Vec::new();
    let mut matched = Vec::new();
    for s in source {
        let target_name = rename.target_name(&s.name);
        let t = target.iter().find(|t| t.name == target_name);
        if t.is_some() {
            matched.push(target_name.clone());
        }
        let count = s.partitions.len().max(t.map_or(0, |t| t.partitions.len()));
        let partitions = (0..count as i32)
            .map(|id| {
                let sp = s.partitions.iter().find(|p| p.id == id);
                let tp = t.and_then(|t| t.partitions.iter().find(|p| p.id == id));
                let held = |p: Option<&crate::cluster::PartitionInfo>| {
                    p.map_or(0, |p| p.high.saturating_sub(p.low).max(0))
                };
                PartitionSides {
                    partition: id,
                    source_low: sp.map(|p| p.low),
                    source_high: sp.map(|p| p.high),
                    target_low: tp.map(|p| p.low),
                    target_high: tp.map(|p| p.high),
                    missing: (held(sp) - held(tp)).max(0),
                }
            })
            .collect();
        let no_settings = Ok(Vec::new());
        let settings = (
            configs.0.get(&s.name).unwrap_or(&no_settings),
            configs.1.get(&target_name).unwrap_or(&no_settings),
        );
        let (config_diff, configs_unread) = match (t, settings) {
            (None, _) => (Vec::new(), None),
            (Some(_), (Ok(a), Ok(b))) => (config_diff(a, b), None),
            (Some(_), (Err(e), _)) => (Vec::new(), Some(format!("on the source: {e}"))),
            (Some(_), (_, Err(e))) => (Vec::new(), Some(format!("on the target: {e}"))),
        };
        out.push(TopicSides {
            topic: s.name.clone(),
            on: if t.is_some() { "both" } else { "source" },
            partition_count_differs: t.is_some_and(|t| t.partitions.len() != s.partitions.len()),
            target_topic: target_name,
            partitions,
            config_diff,
            configs_unread,
        });
    }
    for t in target.iter().filter(|t| !matched.contains(&t.name)) {
        out.push(TopicSides {
            topic: t.name.clone(),
            target_topic: t.name.clone(),
            on: "target",
            partitions: Vec::new(),
            config_diff: Vec::new(),
            configs_unread: None,
            partition_count_differs: false,
        });
    }
    out
}

/// The compared settings whose values differ between the two sides.
fn config_diff(source: &[(String, String)], target: &[(String, String)]) -> Vec<ConfigDiff> {
    let setting = |side: &[(String, String)], key: &str| {
        side.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    };
    COMPARED
        .iter()
        .filter_map(|key| {
            let (a, b) = (setting(source, key), setting(target, key));
            (a != b).then(|| ConfigDiff {
                key: (*key).to_owned(),
                source: a,
                target: b,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::PartitionInfo;

    fn topic(name: &str, highs: &[i64]) -> TopicInfo {
        TopicInfo {
            name: name.into(),
            partitions: highs
                .iter()
                .enumerate()
                .map(|(i, h)| PartitionInfo {
                    id: i as i32,
                    leader: 1,
                    replicas: vec![1],
                    isr: vec![1],
                    low: 0,
                    high: *h,
                    listed_high: *h,
                    high_confirmed: true,
                    error: None,
                })
                .collect(),
            error: None,
        }
    }

    #[test]
    fn mirrored_names_are_detected_and_differences_counted() {
        let source = [
            topic("orders", &[10, 10]),
            topic("clicks", &[5, 5, 5]),
            topic("only-here", &[1]),
        ];
        let target = [
            topic("src.orders", &[10, 7]),
            topic("src.clicks", &[5, 5]),
            topic("src.heartbeats", &[1]),
        ];
        let names = |ts: &[TopicInfo]| ts.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        let (s, t) = (names(&source), names(&target));
        let s: Vec<&str> = s.iter().map(String::as_str).collect();
        let t: Vec<&str> = t.iter().map(String::as_str).collect();
        let rename = Rename::detect(&s, &t);
        assert_eq!(rename, Rename::Pattern("src.{topic}".into()));
        let mut source_configs = BTreeMap::new();
        source_configs.insert(
            "orders".to_owned(),
            Ok(vec![("retention.ms".to_owned(), "604800000".to_owned())]),
        );
        let mut target_configs = BTreeMap::new();
        target_configs.insert(
            "src.orders".to_owned(),
            Ok(vec![("retention.ms".to_owned(), "86400000".to_owned())]),
        );
        let sides = compare_topics(
            &source,
            &target,
            &rename,
            (&source_configs, &target_configs),
        );
        let orders = &sides[0];
        assert_eq!(orders.on, "both");
        assert_eq!(orders.target_topic, "src.orders");
        assert_eq!(
            orders
                .partitions
                .iter()
                .map(|p| p.missing)
                .collect::<Vec<_>>(),
            [0, 3]
        );
        assert_eq!(
            orders.config_diff,
            [ConfigDiff {
                key: "retention.ms".into(),
                source: Some("604800000".into()),
                target: Some("86400000".into()),
            }]
        );
        assert_eq!(orders.configs_unread, None);
        let clicks = &sides[1];
        assert!(clicks.partition_count_differs);
        // Settings that could not be read are said, and no difference is made up from them.
        target_configs.insert(
            "src.orders".to_owned(),
            Err(ClusterError::Kafka("Local: Timed out".into())),
        );
        let unread = compare_topics(
            &source,
            &target,
            &rename,
            (&source_configs, &target_configs),
        );
        assert_eq!(unread[0].config_diff, []);
        assert_eq!(
            unread[0].configs_unread.as_deref(),
            Some("on the target: Local: Timed out")
        );
        assert_eq!(clicks.partitions[2].target_high, None);
        assert_eq!(clicks.partitions[2].missing, 5);
        assert_eq!(sides[2].on, "source");
        assert_eq!(sides[3].on, "target");
        assert_eq!(sides[3].topic, "src.heartbeats");
        assert_eq!(
            Rename::detect(&["a", "b"], &["a", "b", "x.a"]),
            Rename::Identity
        );
    }
}
