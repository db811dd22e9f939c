//! Burrow's evaluator cases (`core/internal/evaluator/caching_test.go`, `tests`, cases 0-15),
//! ported rule by rule, then freshlens's own cases.
//!
//! Translation: Burrow's `timeNow` is in seconds and its timestamps in milliseconds; here both
//! are milliseconds (`now_ms = timeNow * 1000`). Burrow's `Order` field is dropped (commits are
//! already in order). Burrow evaluates any window it has; these cases set the window to the
//! number of commits they list, so the window is full, as PENDING would otherwise answer.
//! `currentLag` is the partition's lag now; `brokerOffsets` are its recent high watermarks.
//! `checkIfOffsetsRewind` returns an index or -1; here `Some(index)` or `None`.

use super::*;

struct Case {
    offsets: &'static [(i64, i64, Option<i64>)],
    broker_offsets: &'static [i64],
    current_lag: i64,
    time_now_secs: i64,
    allowed_lag: i64,
    lag_always_not_zero: bool,
    rewind: Option<usize>,
    stopped: bool,
    stalled: bool,
    lag_not_decreasing: bool,
    recent_lag_zero: bool,
    status: Status,
}

const EVEN: &[(i64, i64, Option<i64>)] = &[
    (1000, 100_000, Some(0)),
    (2000, 200_000, Some(50)),
    (3000, 300_000, Some(100)),
    (4000, 400_000, Some(150)),
    (5000, 500_000, Some(200)),
];
const ALWAYS_LAGGING: &[(i64, i64, Option<i64>)] = &[
    (1000, 100_000, Some(50)),
    (2000, 200_000, Some(100)),
    (3000, 300_000, Some(150)),
    (4000, 400_000, Some(200)),
    (5000, 500_000, Some(250)),
];
const ZERO_LAG_RUN: &[(i64, i64, Option<i64>)] = &[
    (792748079, 1512224618356, Some(0)),
    (792748080, 1512224619362, Some(0)),
    (792748081, 1512224620366, Some(0)),
    (792748082, 1512224621367, Some(0)),
    (792748083, 1512224622370, Some(0)),
    (792748084, 1512224623373, Some(0)),
    (792748085, 1512224624378, Some(0)),
    (792748086, 1512224625379, Some(0)),
    (792748087, 1512224626383, Some(0)),
    (792748088, 1512224627383, Some(0)),
    (792748089, 1512224628383, Some(0)),
    (792748090, 1512224629388, Some(0)),
    (792748091, 1512224630391, Some(0)),
    (792748092, 1512224631394, Some(0)),
    (792748093, 1512224632397, Some(0)),
];

/// The same offset committed, the lag growing (cases 5 and 13).
const STALLED: &[(i64, i64, Option<i64>)] = &[
    (1000, 100_000, Some(100)),
    (1000, 200_000, Some(150)),
    (1000, 300_000, Some(200)),
    (1000, 400_000, Some(250)),
    (1000, 500_000, Some(300)),
];
/// Back from 3000 to 2000, then on to 4000 (cases 7 and 14).
const REWOUND_AND_PAST_IT: &[(i64, i64, Option<i64>)] = &[
    (1000, 100_000, Some(100)),
    (2000, 200_000, Some(150)),
    (3000, 300_000, Some(200)),
    (2000, 400_000, Some(1250)),
    (4000, 500_000, Some(300)),
];

const BURROW: &[Case] = &[
    // 0 - OK because there is zero lag somewhere
    Case {
        offsets: EVEN,
        broker_offsets: &[5200],
        current_lag: 200,
        time_now_secs: 600,
        allowed_lag: 0,
        lag_always_not_zero: false,
        rewind: None,
        stopped: false,
        stalled: false,
        lag_not_decreasing: true,
        recent_lag_zero: false,
        status: Status::Ok,
    },
    // 1 - not STOP: the time since the last commit (400 s) equals the window's span
    Case {
        offsets: EVEN,
        broker_offsets: &[5200],
        current_lag: 200,
        time_now_secs: 900,
        allowed_lag: 0,
        lag_always_not_zero: false,
        rewind: None,
        stopped: false,
        stalled: false,
        lag_not_decreasing: true,
        recent_lag_zero: false,
        status: Status::Ok,
    },
    // 2 - STOP: 500 s since the last commit, even though the lag was zero at the start (#290)
    Case {
        offsets: EVEN,
        broker_offsets: &[5200],
        current_lag: 200,
        time_now_secs: 1000,
        allowed_lag: 0,
        lag_always_not_zero: false,
        rewind: None,
        stopped: true,
        stalled: false,
        lag_not_decreasing: true,
        recent_lag_zero: false,
        status: Status::Stop,
    },
    // 3 - STOP when the lag is always non-zero as well
    Case {
        offsets: ALWAYS_LAGGING,
        broker_offsets: &[5250],
        current_lag: 250,
        time_now_secs: 1000,
        allowed_lag: 0,
        lag_always_not_zero: true,
        rewind: None,
        stopped: true,
        stalled: false,
        lag_not_decreasing: true,
        recent_lag_zero: false,
        status: Status::Stop,
    },
    // 4 - OK because of zero lag, though the offset never moves (one more commit makes STALL)
    Case {
        offsets: &[
            (1000, 100_000, Some(0)),
            (1000, 200_000, Some(50)),
            (1000, 300_000, Some(100)),
            (1000, 400_000, Some(150)),
            (1000, 500_000, Some(200)),
        ],
        broker_offsets: &[1200],
        current_lag: 200,
        time_now_secs: 600,
        allowed_lag: 0,
        lag_always_not_zero: false,
        rewind: None,
        stopped: false,
        stalled: true,
        lag_not_decreasing: true,
        recent_lag_zero: false,
        status: Status::Ok,
    },
    // 5 - STALL: the same offset committed, the lag always non-zero
    Case {
        offsets: STALLED,
        broker_offsets: &[1300],
        current_lag: 300,
        time_now_secs: 600,
        allowed_lag: 0,
        lag_always_not_zero: true,
        rewind: None,
        stopped: false,
        stalled: true,
        lag_not_decreasing: true,
        recent_lag_zero: false,
        status: Status::Stall,
    },
    // 6 - still STALL when the lag stays the same
    Case {
        offsets: &[
            (1000, 100_000, Some(100)),
            (1000, 200_000, Some(100)),
            (1000, 300_000, Some(100)),
            (1000, 400_000, Some(100)),
            (1000, 500_000, Some(100)),
        ],
        broker_offsets: &[1100],
        current_lag: 100,
        time_now_secs: 600,
        allowed_lag: 0,
        lag_always_not_zero: true,
        rewind: None,
        stopped: false,
        stalled: true,
        lag_not_decreasing: true,
        recent_lag_zero: false,
        status: Status::Stall,
    },
    // 7 - OK: the offsets go backwards (3000 to 2000) but climb past 3000 again within the
    // window, so the rewind no longer counts, and the lag does fall once
    Case {
        offsets: REWOUND_AND_PAST_IT,
        broker_offsets: &[4300],
        current_lag: 300,
        time_now_secs: 600,
        allowed_lag: 0,
        lag_always_not_zero: true,
        rewind: Some(3),
        stopped: false,
        stalled: false,
        lag_not_decreasing: false,
        recent_lag_zero: false,
        status: Status::Ok,
    },
    // 8 - OK: the current lag is 0, though the timestamps alone would say stopped
    Case {
        offsets: ALWAYS_LAGGING,
        broker_offsets: &[5250],
        current_lag: 0,
        time_now_secs: 1000,
        allowed_lag: 0,
        lag_always_not_zero: true,
        rewind: None,
        stopped: true,
        stalled: false,
        lag_not_decreasing: true,
        recent_lag_zero: false,
        status: Status::Ok,
    },
    // 9 - STOP: lag zero at every commit, but new data arrived and nothing was committed (#290)
    Case {
        offsets: ZERO_LAG_RUN,
        broker_offsets: &[792749024, 792749000, 792748800, 792748600, 792748500],
        current_lag: 931,
        time_now_secs: 1512224650,
        allowed_lag: 0,
        lag_always_not_zero: false,
        rewind: None,
        stopped: true,
        stalled: false,
        lag_not_decreasing: true,
        recent_lag_zero: false,
        status: Status::Stop,
    },
    // 10 - OK: it would be STOP by the timestamps, but recent broker offsets show zero lag (#303)
    Case {
        offsets: ZERO_LAG_RUN,
        broker_offsets: &[792748094, 792748093, 792748093, 792748093],
        current_lag: 1,
        time_now_secs: 1512224650,
        allowed_lag: 0,
        lag_always_not_zero: false,
        rewind: None,
        stopped: true,
        stalled: false,
        lag_not_decreasing: true,
        recent_lag_zero: true,
        status: Status::Ok,
    },
    // 11 - case 0 with unknown (nil) lags between, which must not change the result
    Case {
        offsets: &[
            (1000, 100_000, Some(0)),
            (1500, 150_000, None),
            (2000, 200_000, Some(50)),
            (2500, 250_000, None),
            (3000, 300_000, Some(100)),
            (3500, 350_000, None),
            (4000, 400_000, Some(150)),
            (4500, 450_000, None),
            (5000, 500_000, Some(200)),
            (5500, 550_000, None),
        ],
        broker_offsets: &[5700],
        current_lag: 200,
        time_now_secs: 600,
        allowed_lag: 0,
        lag_always_not_zero: false,
        rewind: None,
        stopped: false,
        stalled: false,
        lag_not_decreasing: true,
        recent_lag_zero: false,
        status: Status::Ok,
    },
    // 12 - OK: lag now and stopped by the timestamps, but the current lag (1) is within the
    // allowed lag (1). Translation: freshlens counts the allowed lag in the recent-lag-zero rule
    // too (a high watermark at most `allowed_lag` past the last commit), so `recent_lag_zero`
    // is true here where Burrow's `checkIfRecentLagZero` (2001 <= 2000) is false; the status
    // is the same.
    Case {
        offsets: &[
            (1000, 100_000, Some(2)),
            (2000, 200_000, Some(1)),
            (2000, 300_000, Some(1)),
        ],
        broker_offsets: &[2001],
        current_lag: 1,
        time_now_secs: 550,
        allowed_lag: 1,
        lag_always_not_zero: false,
        rewind: None,
        stopped: true,
        stalled: false,
        lag_not_decreasing: false,
        recent_lag_zero: true,
        status: Status::Ok,
    },
    // 13 - case 5 with an allowed lag of 99: every lag is above it, still STALL
    Case {
        offsets: STALLED,
        broker_offsets: &[1300],
        current_lag: 300,
        time_now_secs: 600,
        allowed_lag: 99,
        lag_always_not_zero: true,
        rewind: None,
        stopped: false,
        stalled: true,
        lag_not_decreasing: true,
        recent_lag_zero: false,
        status: Status::Stall,
    },
    // 14 - case 7 with an allowed lag of 99: the rewind is recovered, OK
    Case {
        offsets: REWOUND_AND_PAST_IT,
        broker_offsets: &[4300],
        current_lag: 300,
        time_now_secs: 600,
        allowed_lag: 99,
        lag_always_not_zero: true,
        rewind: Some(3),
        stopped: false,
        stalled: false,
        lag_not_decreasing: false,
        recent_lag_zero: false,
        status: Status::Ok,
    },
    // 15 - REWIND: the offsets go back from 3000 to 2000 and reach only 2500 since
    Case {
        offsets: &[
            (1000, 100_000, Some(100)),
            (2000, 200_000, Some(150)),
            (3000, 300_000, Some(200)),
            (2000, 400_000, Some(1250)),
            (2500, 500_000, Some(300)),
        ],
        broker_offsets: &[4300],
        current_lag: 300,
        time_now_secs: 600,
        allowed_lag: 0,
        lag_always_not_zero: true,
        rewind: Some(3),
        stopped: false,
        stalled: false,
        lag_not_decreasing: false,
        recent_lag_zero: false,
        status: Status::Rewind,
    },
];

fn commits(points: &[(i64, i64, Option<i64>)]) -> Vec<Commit> {
    points
        .iter()
        .map(|&(offset, at_ms, lag)| Commit { offset, at_ms, lag })
        .collect()
}

#[test]
fn burrow_evaluator_cases() {
    for (i, case) in BURROW.iter().enumerate() {
        let rules = Rules {
            allowed_lag: case.allowed_lag,
            ..Rules::default()
        };
        let window = commits(case.offsets);
        let now_ms = case.time_now_secs * 1000;
        assert_eq!(
            lag_always_not_zero(&window, &rules),
            case.lag_always_not_zero,
            "case {i}: lag always not zero"
        );
        assert_eq!(offsets_rewind(&window), case.rewind, "case {i}: rewind");
        assert_eq!(
            offsets_stopped(&window, now_ms),
            case.stopped,
            "case {i}: stopped"
        );
        assert_eq!(offsets_stalled(&window), case.stalled, "case {i}: stalled");
        assert_eq!(
            lag_not_decreasing(&window),
            case.lag_not_decreasing,
            "case {i}: lag not decreasing"
        );
        assert_eq!(
            recent_lag_zero(&window, case.broker_offsets, &rules),
            case.recent_lag_zero,
            "case {i}: recent lag zero"
        );
        let full = Rules {
            window: window.len(),
            ..rules
        };
        let verdict = evaluate(
            &window,
            case.broker_offsets,
            case.current_lag,
            now_ms,
            &full,
        );
        assert_eq!(verdict.status, case.status, "case {i}: {}", verdict.reason);
    }
}

#[test]
fn a_rewind_outranks_zero_lag_until_the_offset_is_reached_again() {
    // Caught up, then rewound to the earliest offset: the window still holds the zero lags of
    // before, but the rewind comes first (as in Burrow), and says where it went.
    let rules = Rules {
        window: 4,
        allowed_lag: 0,
    };
    let rewound = commits(&[
        (900, 0, Some(0)),
        (1000, 60_000, Some(0)),
        (0, 120_000, Some(1000)),
        (400, 180_000, Some(600)),
    ]);
    let verdict = evaluate(&rewound, &[1000], 600, 200_000, &rules);
    assert_eq!(verdict.status, Status::Rewind);
    assert_eq!(
        verdict.reason,
        "the committed offset went back from 1000 to 0 and has not reached 1000 again"
    );
    // Back at 1000: the rewind no longer counts and the zero lags make it OK.
    let recovered = commits(&[
        (1000, 60_000, Some(0)),
        (0, 120_000, Some(1000)),
        (400, 180_000, Some(600)),
        (1000, 240_000, Some(100)),
    ]);
    let verdict = evaluate(&recovered, &[1100], 100, 260_000, &rules);
    assert_eq!(verdict.status, Status::Ok, "{}", verdict.reason);
}

#[test]
fn the_window_is_the_last_n_commits_not_a_span_of_time() {
    // A consumer that commits every 20 minutes, the lag falling: judged on its last 3 commits
    // however long they span; older commits (a stall last week) no longer count.
    let mut points = vec![(100, 0, Some(50)), (100, 60_000, Some(60))];
    for i in 0..3 {
        points.push((
            200 + i * 100,
            7 * 86_400_000 + i * 1_200_000,
            Some(90 - i * 30),
        ));
    }
    let window = commits(&points);
    let rules = Rules {
        window: 3,
        allowed_lag: 0,
    };
    let now = 7 * 86_400_000 + 2 * 1_200_000 + 600_000;
    let verdict = evaluate(&window, &[], 30, now, &rules);
    assert_eq!(verdict.status, Status::Ok, "{}", verdict.reason);
}

#[test]
fn pending_until_the_window_fills_never_ok() {
    let rules = Rules {
        window: 10,
        allowed_lag: 0,
    };
    let window = commits(&[(10, 0, Some(5)), (10, 5_000, Some(8))]);
    let verdict = evaluate(&window, &[], 8, 10_000, &rules);
    assert_eq!(verdict.status, Status::Pending);
    assert!(verdict.reason.contains("2 of 10"), "{}", verdict.reason);
    assert_eq!(evaluate(&[], &[], 8, 0, &rules).status, Status::Pending);
    // Caught up needs no history.
    assert_eq!(evaluate(&[], &[], 0, 0, &rules).status, Status::Ok);
}

#[test]
fn allowed_lag_counts_as_none() {
    let rules = Rules {
        window: 3,
        allowed_lag: 10,
    };
    // Stalled at one offset, 4 records behind: within the allowance, so OK.
    let stalled = commits(&[(50, 0, Some(4)), (50, 1_000, Some(4)), (50, 2_000, Some(4))]);
    assert_eq!(evaluate(&stalled, &[], 4, 2_500, &rules).status, Status::Ok);
    // A lag of 8 at some commit counts as zero for rule 1.
    let moving = commits(&[
        (50, 0, Some(30)),
        (60, 1_000, Some(8)),
        (70, 2_000, Some(40)),
    ]);
    assert_eq!(evaluate(&moving, &[], 40, 2_500, &rules).status, Status::Ok);
    let strict = Rules {
        allowed_lag: 0,
        ..rules
    };
    assert_eq!(
        evaluate(&stalled, &[], 4, 2_500, &strict).status,
        Status::Stall
    );
}

#[test]
fn stop_and_stall_say_why_in_words() {
    let rules = Rules {
        window: 3,
        allowed_lag: 0,
    };
    let window = commits(&[
        (10, 0, Some(5)),
        (20, 1_800_000, Some(9)),
        (30, 5_400_000, Some(12)),
    ]);
    let hours_later = 5_400_000 + 3 * 3_600_000 - 60_000;
    let verdict = evaluate(&window, &[], 12, hours_later, &rules);
    assert_eq!(verdict.status, Status::Stop);
    assert_eq!(
        verdict.reason,
        "no commit for 2h59m; the window of 3 commits spans 1h30m"
    );
}

#[test]
fn committed_past_the_high_watermark_is_invalid() {
    let verdict = inconsistency(Some(12), 10).unwrap();
    assert_eq!(verdict.status, Status::Invalid);
    assert!(verdict.reason.contains("12") && verdict.reason.contains("10"));
    assert_eq!(inconsistency(Some(10), 10), None);
    assert_eq!(inconsistency(None, 10), None);
}

#[test]
fn statuses_order_from_best_to_worst() {
    let worst = [Status::Warn, Status::Ok, Status::Pending, Status::Stall]
        .into_iter()
        .max();
    assert_eq!(worst, Some(Status::Stall));
    assert!(Status::Pending < Status::Warn && Status::Invalid > Status::Warn);
    assert_eq!(Status::Stop.to_string(), "STOP");
}
