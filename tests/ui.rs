//! The real app driven through AccessKit against the broker: connect, pick a topic, see its
//! partitions, read its messages, find a known value.

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use freshlens::ui::{FreshlensApp, Startup};

use crate::fixtures::{TestRecord, broker, create_topic, produce, t0, unique_topic};

/// Steps frames until `found` holds; background work needs real time, so frames are spaced.
fn wait_for(
    harness: &mut Harness<'_, FreshlensApp>,
    what: &str,
    found: impl Fn(&Harness<'_, FreshlensApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        harness.step();
        if found(harness) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if let Ok(image) = harness.render() {
        let _ = image.save(std::env::temp_dir().join("freshlens-ui-timeout.png"));
    }
    panic!("timed out waiting for {what}");
}

/// Focuses the text input labelled `label` and types `text` into it.
fn type_into(harness: &mut Harness<'_, FreshlensApp>, label: &str, text: &str) {
    harness
        .get_by_role_and_label(Role::TextInput, label)
        .focus();
    harness.step();
    harness
        .get_by_role_and_label(Role::TextInput, label)
        .type_text(text);
    harness.step();
}

#[test]
fn connect_pick_topic_and_find_a_known_record() {
    let Some(bootstrap) = broker() else { return };
    let topic = unique_topic("ui");
    create_topic(&bootstrap, &topic, 2);
    let marker = format!("hello-from-kittest-{}", std::process::id());
    produce(
        &bootstrap,
        &topic,
        &[
            TestRecord::new(0, "c-1", r#"{"n":1}"#, t0()),
            TestRecord::new(1, "c-2", &format!(r#"{{"greeting":"{marker}"}}"#), t0() + 1),
        ],
    );
    let config_dir = tempfile::tempdir().unwrap();
    let dir = config_dir.path().to_owned();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| FreshlensApp::new(cc, Startup::default(), Some(dir)).unwrap());
    harness.step();

    type_into(&mut harness, "Bootstrap", &bootstrap);
    harness.get_by_label("Connect").click();
    wait_for(&mut harness, "connection", |h| {
        h.query_by_label_contains("connected to").is_some()
    });
    wait_for(&mut harness, "topic list", |h| {
        h.query_by_label(&topic).is_some()
    });

    type_into(&mut harness, "Search", &topic);
    harness.get_by_label(&topic).click();
    wait_for(&mut harness, "partition table", |h| {
        h.query_by_label("ISR").is_some() && h.query_by_label_contains("2 partitions").is_some()
    });

    harness.get_by_label("Read messages").click();
    wait_for(&mut harness, "the known record", |h| {
        h.query_by_label_contains(&marker).is_some()
    });
    assert!(harness.query_by_label("2 records").is_some());
}

#[test]
fn profile_panel_shows_stale_fields_and_their_cause() {
    let Some(bootstrap) = broker() else { return };
    let world = crate::profile::world(&bootstrap);
    let config_dir = tempfile::tempdir().unwrap();
    let dir = config_dir.path().to_owned();
    let config = freshlens::cluster::ConnectionConfig::new(&bootstrap);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1500.0, 950.0))
        .build_eframe(move |cc| {
            let startup = Startup {
                connect: Some(config),
                ..Startup::default()
            };
            FreshlensApp::new(cc, startup, Some(dir)).unwrap()
        });
    wait_for(&mut harness, "connection", |h| {
        h.query_by_label_contains("connected to").is_some()
    });
    harness.get_by_label("Profile").click();
    harness.step();

    let spec = world.spec_path.display().to_string();
    type_into(&mut harness, "Spec", &spec);
    harness.get_by_label("Load spec").click();
    wait_for(&mut harness, "the spec", |h| {
        h.query_by_label_contains("customer: 3 sources, 4 fields")
            .is_some()
    });

    type_into(&mut harness, "Customer", "cust-42");
    harness.get_by_label("Look up").click();
    wait_for(&mut harness, "the store diff", |h| {
        h.query_by_label_contains("Store: 3 stale field(s)")
            .is_some()
    });
    assert!(
        harness
            .query_by_label_contains("marketing is stale: behind")
            .is_some()
    );
    assert!(
        harness.query_by_label("no consent").is_some(),
        "email lost its consent"
    );
    assert!(
        harness
            .query_by_label_contains("not consumed yet: lag")
            .is_some()
    );
    assert_eq!(
        harness
            .query_all_by_label_contains("consumed but not applied")
            .count(),
        2
    );
    assert!(
        harness.query_by_label("\"a@x.io\"").is_none(),
        "PII masked until revealed"
    );
    assert!(harness.query_by_label("Timeline: 6 events").is_some());
}
