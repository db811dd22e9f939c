//! Staleness over time: how old the oldest source event not yet applied to the profile is, at
//! every moment of a window, its breaches of the freshness budget, and the share within budget.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StalenessPoint {
    pub t_ms: i64,
    pub staleness_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Breach {
    pub start_ms: i64,
    /// `None` while the breach is still on at the end of the window.
    pub end_ms: Option<i64>,
    pub max_staleness_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Staleness {
    /// A sawtooth: the value at each change point and just before each drop.
    pub points: Vec<StalenessPoint>,
    pub breaches: Vec<Breach>,
    pub within_budget_ratio: f64,
}

/// One source event: when the broker got it, and when the store reflected it (`None`: pending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub broker_ms: i64,
    pub applied_ms: Option<i64>,
}

impl Delivery {
    fn pending_at(&self, t: i64) -> bool {
        self.broker_ms <= t && self.applied_ms.is_none_or(|applied| applied > t)
    }
}

/// staleness(t) = t - broker time of the oldest event pending at t, or 0.
pub fn staleness_at(deliveries: &[Delivery], t: i64) -> i64 {
    deliveries
        .iter()
        .filter(|d| d.pending_at(t))
        .map(|d| t - d.broker_ms)
        .max()
        .unwrap_or(0)
}

/// The staleness series over `[from_ms, until_ms]` with its breaches of `budget_ms`.
pub fn staleness(
    deliveries: &[Delivery],
    from_ms: i64,
    until_ms: i64,
    budget_ms: i64,
) -> Staleness {
    let until_ms = until_ms.max(from_ms);
    let mut cuts: Vec<i64> = deliveries
        .iter()
        .flat_map(|d| [Some(d.broker_ms), d.applied_ms])
        .flatten()
        .filter(|t| (from_ms..=until_ms).contains(t))
        .chain([from_ms, until_ms])
        .collect();
    cuts.sort_unstable();
    cuts.dedup();

    // A sweep over the cuts: events join the pending set at their broker time and leave it
    // when applied, so the oldest pending one is the smallest key of a multiset.
    let ever_pending = || {
        deliveries
            .iter()
            .filter(|d| d.applied_ms.is_none_or(|a| a > d.broker_ms))
    };
    let mut enters: Vec<i64> = ever_pending().map(|d| d.broker_ms).collect();
    enters.sort_unstable();
    let mut exits: Vec<(i64, i64)> = ever_pending()
        .filter_map(|d| d.applied_ms.map(|a| (a, d.broker_ms)))
        .collect();
    exits.sort_unstable();
    let (mut entered, mut exited) = (0, 0);
    let mut pending: std::collections::BTreeMap<i64, usize> = std::collections::BTreeMap::new();

    let mut points = Vec::new();
    let mut breaches: Vec<Breach> = Vec::new();
    let mut breached_ms = 0i64;
    for (i, &start) in cuts.iter().enumerate() {
        while entered < enters.len() && enters[entered] <= start {
            *pending.entry(enters[entered]).or_default() += 1;
            entered += 1;
        }
        while exited < exits.len() && exits[exited].0 <= start {
            let broker = exits[exited].1;
            if let Some(count) = pending.get_mut(&broker) {
                *count -= 1;
                if *count == 0 {
                    pending.remove(&broker);
                }
            }
            exited += 1;
        }
        // The pending set, and so the oldest pending event, is constant on [start, next).
        let oldest = pending.keys().next().copied();
        let value = |t: i64| oldest.map_or(0, |o| t - o);
        points.push(StalenessPoint {
            t_ms: start,
            staleness_ms: value(start),
        });
        let Some(&end) = cuts.get(i + 1) else {
            break;
        };
        let Some(oldest) = oldest else {
            continue;
        };
        points.push(StalenessPoint {
            t_ms: end,
            staleness_ms: end - oldest,
        });
        let over_from = (oldest + budget_ms).max(start);
        if over_from >= end {
            continue;
        }
        breached_ms += end - over_from;
        match breaches.last_mut() {
            Some(last) if last.end_ms == Some(over_from) => {
                last.end_ms = Some(end);
                last.max_staleness_ms = last.max_staleness_ms.max(end - oldest);
            }
            _ => breaches.push(Breach {
                start_ms: over_from,
                end_ms: Some(end),
                max_staleness_ms: end - oldest,
            }),
        }
    }
    if let Some(last) = breaches.last_mut()
        && last.end_ms == Some(until_ms)
        && staleness_at(deliveries, until_ms) > budget_ms
    {
        last.end_ms = None;
    }
    points.dedup();
    let span = (until_ms - from_ms).max(1) as f64;
    Staleness {
        points,
        breaches,
        within_budget_ratio: (1.0 - breached_ms as f64 / span).clamp(0.0, 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(broker_ms: i64, applied_ms: Option<i64>) -> Delivery {
        Delivery {
            broker_ms,
            applied_ms,
        }
    }

    #[test]
    fn staleness_is_the_age_of_the_oldest_pending_event() {
        let deliveries = [d(100, Some(400)), d(200, Some(250)), d(500, None)];
        assert_eq!(staleness_at(&deliveries, 50), 0);
        assert_eq!(
            staleness_at(&deliveries, 300),
            200,
            "event at 100 still pending"
        );
        assert_eq!(staleness_at(&deliveries, 400), 0, "applied at 400");
        assert_eq!(staleness_at(&deliveries, 450), 0);
        assert_eq!(
            staleness_at(&deliveries, 700),
            200,
            "event at 500 never applied"
        );
    }

    #[test]
    fn breaches_start_at_budget_and_end_when_applied() {
        // Budget 150: the event at 100 breaches from 250 until it is applied at 400.
        let deliveries = [d(100, Some(400)), d(200, Some(250)), d(500, None)];
        let result = staleness(&deliveries, 0, 1_000, 150);
        assert_eq!(
            result.breaches,
            vec![
                Breach {
                    start_ms: 250,
                    end_ms: Some(400),
                    max_staleness_ms: 300
                },
                Breach {
                    start_ms: 650,
                    end_ms: None,
                    max_staleness_ms: 500
                },
            ]
        );
        let within = 1.0 - (150.0 + 350.0) / 1_000.0;
        assert!((result.within_budget_ratio - within).abs() < 1e-9);
        // The sawtooth rises to 300 just before 400 and drops to 0 there.
        assert!(result.points.contains(&StalenessPoint {
            t_ms: 400,
            staleness_ms: 300
        }));
        assert!(result.points.contains(&StalenessPoint {
            t_ms: 400,
            staleness_ms: 0
        }));
    }

    #[test]
    fn a_breach_spanning_several_events_is_one_breach() {
        // The event at 0 stays pending until 500 while others come and go.
        let deliveries = [d(0, Some(500)), d(100, Some(150)), d(300, Some(350))];
        let result = staleness(&deliveries, 0, 600, 100);
        assert_eq!(
            result.breaches,
            vec![Breach {
                start_ms: 100,
                end_ms: Some(500),
                max_staleness_ms: 500
            }]
        );
    }

    #[test]
    fn nothing_pending_is_always_within_budget() {
        let result = staleness(&[d(10, Some(20))], 0, 100, 50);
        assert!(result.breaches.is_empty());
        assert_eq!(result.within_budget_ratio, 1.0);
        assert_eq!(
            staleness(&[], 0, 100, 50).points,
            vec![
                StalenessPoint {
                    t_ms: 0,
                    staleness_ms: 0
                },
                StalenessPoint {
                    t_ms: 100,
                    staleness_ms: 0
                },
            ]
        );
    }

    #[test]
    fn the_sweep_agrees_with_staleness_at_every_change() {
        // Overlapping, out-of-order, never-applied and applied-at-once events.
        let deliveries: Vec<Delivery> = (0..300i64)
            .map(|i| {
                d(
                    (i * 37) % 1_000,
                    (i % 11 != 0).then_some((i * 37) % 1_000 + (i * 13) % 90),
                )
            })
            .collect();
        let result = staleness(&deliveries, 0, 1_200, 50);
        for t in deliveries
            .iter()
            .flat_map(|d| [Some(d.broker_ms), d.applied_ms])
            .flatten()
        {
            let expected = staleness_at(&deliveries, t);
            assert!(
                result
                    .points
                    .iter()
                    .any(|p| p.t_ms == t && p.staleness_ms == expected),
                "staleness at {t} should be {expected}"
            );
        }
    }
}
