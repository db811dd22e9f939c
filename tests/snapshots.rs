//! Every tab on the demo, drawn at 1024×700 and 1600×1000 and compared with the committed
//! pictures in `tests/snapshots/` (`UPDATE_SNAPSHOTS=1` rewrites them after a deliberate
//! change: look at them before committing). The demo's clock is fixed, so what differs between
//! runs is only timings (a lookup's milliseconds): a few thousand pixels are allowed for those.

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use freshlens::ui::{FreshlensApp, Startup};

/// 2026-11-18 11:06:40 UTC: any fixed time will do.
const DEMO_END_MS: i64 = 1_795_000_000_000;

fn demo_config() -> freshlens::demo::DemoConfig {
    freshlens::demo::DemoConfig {
        customers: 150,
        events: 12_000,
        ..freshlens::demo::DemoConfig::new(DEMO_END_MS)
    }
}

fn demo_at(size: egui::Vec2) -> (Harness<'static, FreshlensApp>, tempfile::TempDir) {
    let config = demo_config();
    let config_dir = tempfile::tempdir().unwrap();
    let dir = config_dir.path().to_owned();
    let mut harness = Harness::builder().with_size(size).build_eframe(move |cc| {
        let startup = Startup {
            demo: Some(config),
            ..Startup::default()
        };
        FreshlensApp::new(cc, startup, Some(dir)).unwrap()
    });
    // The app opens on the Scorecard (the demo's spec states a contract), the Profile tab
    // ready with the first stale customer; the Overview's look ends with the sample and a
    // Refresh button.
    wait_until(&mut harness, |h| {
        h.query_by_label_contains("Demo data: ").is_some()
    });
    harness.get_by_label("Overview").click();
    wait_until(&mut harness, |h| {
        h.query_by_label_contains("Consumed but not applied:")
            .is_some()
            && h.query_by_label("Refresh").is_some()
    });
    (harness, config_dir)
}

/// Steps until `done` holds; 30 s without it fails the test, with a picture of the window.
#[track_caller]
fn wait_until(
    harness: &mut Harness<'static, FreshlensApp>,
    done: impl Fn(&Harness<'static, FreshlensApp>) -> bool,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        harness.step();
        if done(harness) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    if let Ok(image) = harness.render() {
        let _ = image.save(std::env::temp_dir().join("freshlens-snapshot-timeout.png"));
    }
    panic!("timed out at {}", std::panic::Location::caller());
}

fn snapshot(harness: &mut Harness<'_, FreshlensApp>, name: &str) {
    harness.run_steps(4);
    let options = egui_kittest::SnapshotOptions::new().max_failed_pixels(4_000);
    harness.snapshot_options(name, &options);
}

fn every_tab_at(w: f32, h: f32) {
    {
        let (mut harness, _dir) = demo_at(egui::vec2(w, h));
        let size = format!("{w}x{h}");
        snapshot(&mut harness, &format!("overview_{size}"));
        harness.get_by_label("Profile").click();
        wait_until(&mut harness, |h| {
            h.query_all_by_label_contains("is stale").next().is_some()
                && h.query_by_label("Look up").is_some()
        });
        snapshot(&mut harness, &format!("profile_{size}"));
        harness.get_by_label("Groups").click();
        harness.run_steps(4);
        harness.get_by_label("c360.profile-builder").click();
        snapshot(&mut harness, &format!("groups_{size}"));
        harness.get_by_label("Freshness").click();
        snapshot(&mut harness, &format!("freshness_{size}"));
        legends_fit(&harness, w, h);
        harness.get_by_label("Browse").click();
        snapshot(&mut harness, &format!("browse_{size}"));
        // The selected topic's Keys view: partitioner, skew bars, hot keys, inversions.
        harness.get_by_label("c360.orders").click();
        harness.run_steps(2);
        harness.get_by_label("Keys").click();
        wait_until(&mut harness, |h| h.query_by_label("Partitioner:").is_some());
        snapshot(&mut harness, &format!("keys_{size}"));
        // The Rebuild tab after a rehearsal (the measured rates differ between runs: a few
        // glyphs, within the allowance).
        harness.get_by_label("Rebuild").click();
        wait_until(&mut harness, |h| {
            h.query_by_label_contains("Replay: ").is_some()
        });
        harness.get_by_label("Rehearse").click();
        wait_until(&mut harness, |h| {
            h.query_by_label_contains("Rehearsed").is_some()
        });
        snapshot(&mut harness, &format!("rebuild_{size}"));
        harness.get_by_label("Governance").click();
        harness.run_steps(2);
        harness.get_by_label("Verify every erased customer").click();
        // The 150-customer demo erases nobody: the verifier says so.
        wait_until(&mut harness, |h| {
            h.query_all_by_label("VIOLATION").next().is_some()
                || h.query_by_label("No erasure events found.").is_some()
        });
        harness.run_steps(2);
        harness.get_by_label("Discover").click();
        wait_until(&mut harness, |h| h.query_by_label("declared pii").is_some());
        harness.run_steps(2);
        harness.get_by_label("Read ACLs").click();
        wait_until(&mut harness, |h| {
            h.query_by_label_contains("holds no ACLs").is_some()
        });
        snapshot(&mut harness, &format!("governance_{size}"));
        // Compare needs a second cluster: on the demo, its empty form.
        harness.get_by_label("Compare").click();
        snapshot(&mut harness, &format!("compare_{size}"));
        // The Trial tab before a trial: its targets, settings and what Start writes.
        harness.get_by_label("Trial").click();
        wait_until(&mut harness, |h| h.query_by_label("Start").is_some());
        snapshot(&mut harness, &format!("trial_{size}"));
        // What must be visible, whatever the pixels: the top bar's status at every size.
        let status = harness.get_by_label_contains("reading demo data");
        assert!(status.rect().max.x <= w, "{size}: {:?}", status.rect());
        // The Scorecard, scored in the background since the demo opened on it: six cards,
        // each with the verdict the engine gives the same data.
        harness.get_by_label("Scorecard").click();
        wait_until(&mut harness, |h| {
            h.query_by_label("Export report…").is_some()
        });
        snapshot(&mut harness, &format!("scorecard_{size}"));
        // Each card's badge, in reading order (rows of cards, left to right).
        let mut badges: Vec<(i32, i32, String)> = Vec::new();
        for verdict in ["PASS", "FAIL", "UNKNOWN"] {
            for node in harness.query_all_by_label_contains(verdict) {
                // A label's text is its accessible value.
                if node
                    .accesskit_node()
                    .value()
                    .is_some_and(|l| l.trim() == verdict)
                {
                    let at = node.rect().min;
                    badges.push((at.y as i32 / 50, at.x as i32, verdict.to_owned()));
                }
            }
        }
        badges.sort();
        let shown: Vec<String> = badges.into_iter().map(|(_, _, v)| v).collect();
        assert_eq!(shown, scored_verdicts(), "{size}: the cards, in order");
    }
}

/// The verdicts the engine gives the snapshots' demo, row by row.
fn scored_verdicts() -> Vec<String> {
    let demo = freshlens::demo::generate(&demo_config()).unwrap();
    let decoder = freshlens::profile::SourceDecoder::new(&demo.spec, None).unwrap();
    let request = freshlens::scorecard::ScoreRequest {
        sample: freshlens::freshness::DEFAULT_SAMPLE,
        seed: 1,
        timeout: std::time::Duration::from_secs(10),
        acls: None,
        target: None,
        rehearse: false,
        seen: Vec::new(),
    };
    let cancel = freshlens::cluster::CancelToken::default();
    let card = freshlens::scorecard::score(
        &demo.capture,
        &demo.spec,
        &decoder,
        &request,
        &cancel,
        &|_| {},
    )
    .unwrap();
    card.rows
        .iter()
        .map(|r| format!("{:?}", r.verdict).to_uppercase())
        .collect()
}

/// Every legend entry and series toggle (egui_plot's legend entries are checkboxes) lies in the
/// window and on no other: a legend that overflows its plot lands on the next plot's.
fn legends_fit(harness: &Harness<'_, FreshlensApp>, w: f32, h: f32) {
    let entries: Vec<(String, egui::Rect)> = harness
        .query_all_by_role(egui::accesskit::Role::CheckBox)
        .map(|node| {
            (
                node.accesskit_node().label().unwrap_or_default(),
                node.rect(),
            )
        })
        .collect();
    assert!(
        entries.iter().any(|(label, _)| label == "budget"),
        "the staleness plot's legend is shown: {entries:?}"
    );
    for (i, (label, rect)) in entries.iter().enumerate() {
        assert!(
            rect.max.x <= w && rect.max.y <= h,
            "{label} at {rect:?} is outside {w}x{h}"
        );
        for (other, other_rect) in &entries[i + 1..] {
            let overlap = rect.shrink(1.0).intersect(other_rect.shrink(1.0));
            assert!(
                !overlap.is_positive(),
                "{label} at {rect:?} overlaps {other} at {other_rect:?}"
            );
        }
    }
}

#[test]
fn every_tab_at_1024x700() {
    every_tab_at(1024.0, 700.0);
}

#[test]
fn every_tab_at_1600x1000() {
    every_tab_at(1600.0, 1000.0);
}

/// A capture of the demo opened with its spec: the banner says what it is and when it was
/// taken, the top bar no longer says the demo is being read, and the Overview reads the
/// capture as it reads a cluster.
fn capture_at(w: f32, h: f32) {
    let config = freshlens::demo::DemoConfig {
        customers: 150,
        events: 12_000,
        ..freshlens::demo::DemoConfig::new(DEMO_END_MS)
    };
    let demo = freshlens::demo::generate(&config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("c360.jsonl.zst");
    freshlens::source::save_capture(
        &demo.capture,
        &capture,
        freshlens::source::CaptureFormat::Freshlens,
    )
    .unwrap();
    let spec = dir.path().join("c360.toml");
    std::fs::write(&spec, &demo.spec_text).unwrap();
    let config_dir = dir.path().join("config");
    let mut harness = Harness::builder()
        .with_size(egui::vec2(w, h))
        .build_eframe(move |cc| {
            let startup = Startup {
                capture: Some(capture),
                spec: Some(spec.display().to_string()),
                ..Startup::default()
            };
            FreshlensApp::new(cc, startup, Some(config_dir)).unwrap()
        });
    wait_until(&mut harness, |h| {
        h.query_by_label_contains("Capture c360.jsonl.zst: ")
            .is_some()
    });
    harness.get_by_label("Overview").click();
    wait_until(&mut harness, |h| {
        h.query_by_label_contains("Consumed but not applied:")
            .is_some()
            && h.query_by_label("Refresh").is_some()
    });
    assert!(
        harness
            .query_by_label_contains("reading demo data")
            .is_none()
    );
    let banner = harness.get_by_label_contains("Offline and read-only.");
    assert!(banner.rect().max.x <= w, "{:?}", banner.rect());
    snapshot(&mut harness, &format!("capture_overview_{w}x{h}"));
}

#[test]
fn a_capture_at_1024x700() {
    capture_at(1024.0, 700.0);
}

#[test]
fn a_capture_at_1600x1000() {
    capture_at(1600.0, 1000.0);
}
