//! GUI benchmarks, driven headless through egui_kittest: frame time (median and p99 over 300
//! frames while scrolling) with a million rows in the message browser and in the timeline, the
//! memory that takes, and how long `--demo` takes to its first frame and to its data.
//! Run with `cargo bench --bench gui`.

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use freshlens::cluster::{Record, TimestampKind};
use freshlens::ui::{FreshlensApp, Startup};

const ROWS: usize = 1_000_000;
const FRAMES: usize = 300;

fn rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0)
        / 1024
}

/// A million records over `partitions` partitions.
fn capture(
    topic: &str,
    partitions: usize,
    key: impl Fn(usize) -> String,
) -> freshlens::source::Capture {
    let mut capture = freshlens::source::Capture::new("bench", 1_800_000_000_000);
    for i in 0..ROWS {
        let ts = 1_700_000_000_000 + i as i64 * 10;
        capture.push(Record {
            topic: topic.into(),
            partition: (i % partitions) as i32,
            offset: (i / partitions) as i64,
            timestamp_ms: Some(ts),
            timestamp_kind: TimestampKind::CreateTime,
            key: Some(key(i).into_bytes()),
            value: Some(
                format!(
                    r#"{{"ts":{ts},"page":"/p/{}","amount":{}}}"#,
                    i % 50,
                    i % 97
                )
                .into_bytes(),
            ),
            headers: Vec::new(),
        });
    }
    capture
}

fn app(source: freshlens::source::Capture) -> (Harness<'static, FreshlensApp>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().to_owned();
    let harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| {
            let startup = Startup {
                source: Some(source),
                ..Startup::default()
            };
            FreshlensApp::new(cc, startup, Some(config_dir)).unwrap()
        });
    (harness, dir)
}

fn wait_for(
    harness: &mut Harness<'_, FreshlensApp>,
    what: &str,
    found: impl Fn(&Harness<'_, FreshlensApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        harness.step();
        if found(harness) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if let Ok(image) = harness.render() {
        let _ = image.save(std::env::temp_dir().join("freshlens-gui-bench-timeout.png"));
    }
    panic!("timed out waiting for {what}");
}

fn type_into(harness: &mut Harness<'_, FreshlensApp>, label: &str, text: &str) {
    harness
        .get_by_role_and_label(Role::TextInput, label)
        .focus();
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.step();
    harness
        .get_by_role_and_label(Role::TextInput, label)
        .type_text(text);
    harness.step();
}

/// Frame times while the mouse wheel scrolls the table under `at`.
fn frames(harness: &mut Harness<'_, FreshlensApp>, at: egui::Pos2) -> (f64, f64) {
    harness.hover_at(at);
    let mut times = Vec::with_capacity(FRAMES);
    for i in 0..FRAMES {
        let down = if (i / 100) % 2 == 0 { -400.0 } else { 400.0 };
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, down),
            modifiers: egui::Modifiers::NONE,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
        });
        let started = Instant::now();
        harness.step();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[FRAMES / 2], times[FRAMES * 99 / 100])
}

fn main() {
    // GUI_BENCH=demo|browser|timeline runs one part.
    let only = std::env::var("GUI_BENCH").ok();
    let runs = |part: &str| only.as_deref().is_none_or(|o| o == part);
    if runs("demo") {
        demo();
    }
    if runs("browser") {
        browser();
    }
    if runs("timeline") {
        timeline();
    }
}

fn demo() {
    // --demo: construction and first frame, then the generated data in view.
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().to_owned();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| {
            let startup = Startup {
                demo: Some(freshlens::demo::DemoConfig::new(
                    freshlens::freshness::now_ms(),
                )),
                ..Startup::default()
            };
            FreshlensApp::new(cc, startup, Some(config_dir)).unwrap()
        });
    harness.step();
    let first_frame = started.elapsed();
    wait_for(&mut harness, "the demo data", |h| {
        h.query_all_by_label_contains("is stale").next().is_some()
    });
    println!(
        "--demo: first frame {} ms, a stale customer explained {} ms",
        first_frame.as_millis(),
        started.elapsed().as_millis()
    );
}

/// The message browser with a million rows.
fn browser() {
    let source = capture("bench.messages", 1, |i| format!("cust-{:06}", i % 20_000));
    let before = rss_mb();
    let (mut harness, _dir) = app(source);
    wait_for(&mut harness, "the topic list", |h| {
        h.query_by_label("bench.messages").is_some()
    });
    harness.get_by_label("bench.messages").click();
    // Clicks land where a widget was last drawn: let the partition table settle first.
    wait_for(&mut harness, "the partition table", |h| {
        h.query_by_label_contains("1000000 messages").is_some()
    });
    for _ in 0..3 {
        harness.step();
    }
    harness
        .get_by_role_and_label(Role::TextInput, "Start")
        .set_text_value_accesskit("beginning");
    harness.step();
    let loading = Instant::now();
    harness.get_by_label("Read messages").click();
    wait_for(&mut harness, "a million rows", |h| {
        h.query_by_label("1000000 records").is_some() && h.query_by_label("Read messages").is_some()
    });
    let loaded = loading.elapsed();
    let (median, p99) = frames(&mut harness, egui::pos2(900.0, 500.0));
    println!(
        "message browser, {ROWS} rows: loaded in {} ms, frame median {median:.2} ms, p99 {p99:.2} ms, \
         resident {} MB ({} MB of it the capture it reads)",
        loaded.as_millis(),
        rss_mb(),
        before
    );
}

/// The timeline with a million events of one customer.
fn timeline() {
    let source = capture("bench.events", 1, |_| "cust-1".into());
    let before = rss_mb();
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("bench.toml");
    std::fs::write(
        &spec,
        "[[source]]\ntopic = \"bench.events\"\nevent_time = \"/ts\"\n\n[[field]]\nname = \"page\"\ntopic = \"bench.events\"\npath = \"/page\"\nrule = \"last\"\n",
    )
    .unwrap();
    let (mut harness, _dir) = app(source);
    harness.get_by_label("Profile").click();
    harness.step();
    type_into(&mut harness, "Spec", &spec.display().to_string());
    harness.get_by_label("Load spec").click();
    wait_for(&mut harness, "the spec", |h| {
        h.query_all_by_label_contains("1 sources").next().is_some()
    });
    type_into(&mut harness, "Customer", "cust-1");
    let loading = Instant::now();
    harness.get_by_label("Look up").click();
    wait_for(&mut harness, "a million events", |h| {
        h.query_by_label("Timeline: 1000000 events").is_some()
            && h.query_all_by_label_contains("read 1000000 records")
                .next()
                .is_some()
    });
    let loaded = loading.elapsed();
    let (median, p99) = frames(&mut harness, egui::pos2(700.0, 700.0));
    println!(
        "timeline, {ROWS} events: looked up in {} ms, frame median {median:.2} ms, p99 {p99:.2} ms, \
         resident {} MB ({before} MB of it the capture it reads)",
        loaded.as_millis(),
        rss_mb()
    );
}
