//! The real app driven through AccessKit against the broker: connect, pick a topic, see its
//! partitions, read its messages, find a known value.

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use freshlens::ui::{FreshlensApp, Startup};

use crate::fixtures::{TestRecord, broker, create_topic, produce, t0, unique_topic};

/// Steps frames until `found` holds; background work needs real time, so frames are spaced.
pub(crate) fn wait_for(
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
pub(crate) fn type_into(harness: &mut Harness<'_, FreshlensApp>, label: &str, text: &str) {
    harness
        .get_by_role_and_label(Role::TextInput, label)
        .focus();
    harness.step();
    harness
        .get_by_role_and_label(Role::TextInput, label)
        .type_text(text);
    harness.step();
}

/// The app started connected to `bootstrap` (as `freshlens -b` does), waited until connected.
/// The config dir lives as long as the returned guard.
fn connected_app(
    bootstrap: &str,
    size: egui::Vec2,
) -> (Harness<'static, FreshlensApp>, tempfile::TempDir) {
    app_on(&crate::fixtures::Target::Broker(bootstrap.into()), size)
}

/// The app started with nothing to read, as `freshlens` with no flags.
pub(crate) fn blank_app() -> (Harness<'static, FreshlensApp>, tempfile::TempDir) {
    let config_dir = tempfile::tempdir().unwrap();
    let dir = config_dir.path().to_owned();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| FreshlensApp::new(cc, Startup::default(), Some(dir)).unwrap());
    harness.step();
    (harness, config_dir)
}

/// The app started on a test world (the broker, or its capture), waited until connected.
fn app_on(
    target: &crate::fixtures::Target,
    size: egui::Vec2,
) -> (Harness<'static, FreshlensApp>, tempfile::TempDir) {
    let config_dir = tempfile::tempdir().unwrap();
    let dir = config_dir.path().to_owned();
    let startup = target.startup();
    let mut harness = Harness::builder()
        .with_size(size)
        .build_eframe(move |cc| FreshlensApp::new(cc, startup, Some(dir)).unwrap());
    wait_for(&mut harness, "connection", |h| {
        h.query_by_label_contains("connected to").is_some()
            || h.query_by_label_contains("reading ").is_some()
    });
    (harness, config_dir)
}

/// Opens the Profile tab, loads the scripted world's spec and looks up its customer.
fn look_up_the_scripted_customer(
    harness: &mut Harness<'_, FreshlensApp>,
    world: &crate::profile::World,
) {
    harness.get_by_label("Profile").click();
    harness.step();
    type_into(harness, "Spec", &world.spec_path.display().to_string());
    harness.get_by_label("Load spec").click();
    wait_for(harness, "the spec", |h| {
        h.query_by_label_contains("customer: 3 sources, 4 fields")
            .is_some()
    });
    type_into(harness, "Customer", "cust-42");
    harness.get_by_label("Look up").click();
    wait_for(harness, "the store diff", |h| {
        h.query_by_label_contains("Store: 3 field(s) behind")
            .is_some()
    });
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
    let (mut harness, _config_dir) = blank_app();

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

    // Selecting the record opens its detail pane with the pretty-printed value.
    harness.get_by_label_contains(&marker).click();
    wait_for(&mut harness, "the detail pane", |h| {
        h.query_by_label("Copy value").is_some()
    });
    let pretty = format!("{{\n  \"greeting\": \"{marker}\"\n}}");
    assert!(
        harness.query_by_label(&pretty).is_some(),
        "pretty JSON in the detail pane"
    );
}

#[test]
fn profile_panel_shows_stale_fields_and_their_cause() {
    let world = crate::profile::world();
    let (mut harness, _config_dir) = app_on(&world.target, egui::vec2(1500.0, 950.0));
    look_up_the_scripted_customer(&mut harness, &world);
    assert!(harness.query_by_label("marketing is stale").is_some());
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

#[test]
fn groups_panel_lists_the_lagging_group_first_with_its_time_lag() {
    let Some(bootstrap) = broker() else { return };
    let topic = unique_topic("ui-lag");
    create_topic(&bootstrap, &topic, 1);
    let now = freshlens::time::now_ms();
    let base = now - 40_000;
    let records: Vec<TestRecord> = (0..5)
        .map(|i| TestRecord::new(0, "k", "v", base + i * 1_000))
        .collect();
    produce(&bootstrap, &topic, &records);
    let prefix = unique_topic("test-group-ui").replacen("fl-test-group-ui", "fl-test-group", 1);
    let (behind, current) = (format!("{prefix}-behind"), format!("{prefix}-current"));
    crate::groups::commit(&bootstrap, &current, &topic, &[(0, 5)]);
    crate::groups::commit(&bootstrap, &behind, &topic, &[(0, 2)]);

    let opened = freshlens::time::now_ms();
    let (mut harness, _config_dir) = connected_app(&bootstrap, egui::vec2(1400.0, 900.0));
    harness.get_by_label("Groups").click();
    harness.step();
    type_into(&mut harness, "Group filter", &prefix);
    wait_for(&mut harness, "both groups", |h| {
        h.query_by_label(&behind).is_some() && h.query_by_label(&current).is_some()
    });
    let y = |h: &Harness<'_, FreshlensApp>, name: &str| h.get_by_label(name).rect().min.y;
    assert!(
        y(&harness, &behind) < y(&harness, &current),
        "the lagging group is listed first"
    );

    harness.get_by_label(&behind).click();
    wait_for(&mut harness, "the group's partitions", |h| {
        h.query_by_label("Committed").is_some()
    });
    // The next record the group reads (offset 2) was written at base + 2 s; the sample was
    // taken between opening the app and now.
    let written = base + 2_000;
    let (low, high) = (
        (opened - written) / 1000 - 1,
        (freshlens::time::now_ms() - written) / 1000 + 1,
    );
    let shown = (low..=high)
        .map(|s| freshlens::time::format_duration_ms(s * 1000))
        .find(|text| harness.query_all_by_label(text).next().is_some());
    assert!(
        shown.is_some(),
        "a time lag between {low}s and {high}s is shown"
    );
    assert!(
        harness.query_by_label(&format!("{topic}/0")).is_some(),
        "the partition table"
    );

    // The topic's view lists the groups that read it.
    harness.get_by_label("Browse").click();
    harness.step();
    type_into(&mut harness, "Search", &topic);
    wait_for(&mut harness, "the topic", |h| {
        h.query_by_label(&topic).is_some()
    });
    harness.get_by_label(&topic).click();
    wait_for(&mut harness, "its readers", |h| {
        h.query_by_label_contains("Consumer groups reading it (2)")
            .is_some()
    });
    harness
        .get_by_label_contains("Consumer groups reading it")
        .click();
    wait_for(&mut harness, "the reader rows", |h| {
        h.query_by_label(&behind).is_some()
    });
}

#[test]
fn freshness_panel_shows_a_breach_for_the_scripted_customer() {
    let world = crate::profile::world();
    let (mut harness, _config_dir) = app_on(&world.target, egui::vec2(1500.0, 1100.0));
    harness.get_by_label("Freshness").click();
    harness.step();
    assert!(
        harness
            .query_by_label_contains("Look a customer up in the Profile tab")
            .is_some()
    );
    look_up_the_scripted_customer(&mut harness, &world);

    harness.get_by_label("Freshness").click();
    wait_for(&mut harness, "the breach", |h| {
        h.query_by_label_contains("1 breaches").is_some()
    });
    assert!(harness.query_by_label("Freshness of cust-42").is_some());
    assert!(
        harness
            .query_by_label_contains("2 events not applied")
            .is_some(),
        "the late order and the revocation were never applied"
    );
    // Pending since t+8 s against a 5 min budget: breached from t+308 s, still on.
    let start = freshlens::ui::messages::format_timestamp(Some(t0() + 308_000));
    assert!(
        harness.query_by_label(&start).is_some(),
        "breach start {start}"
    );
    assert!(harness.query_by_label("ongoing").is_some());
    if let Ok(image) = harness.render() {
        let _ = image.save(std::env::temp_dir().join("freshlens-freshness.png"));
    }
}

/// The app opened on demo data, waited until the data is ready, turned to the Profile tab: on
/// the first stale customer (explained before the rest of the data is built).
fn demo_app(
    config: freshlens::demo::DemoConfig,
    size: egui::Vec2,
) -> (Harness<'static, FreshlensApp>, tempfile::TempDir) {
    let config_dir = tempfile::tempdir().unwrap();
    let dir = config_dir.path().to_owned();
    let mut harness = Harness::builder().with_size(size).build_eframe(move |cc| {
        let startup = Startup {
            demo: Some(config),
            ..Startup::default()
        };
        FreshlensApp::new(cc, startup, Some(dir)).unwrap()
    });
    wait_for(&mut harness, "the demo banner", |h| {
        h.query_by_label_contains("Demo data: ").is_some()
    });
    // It opens on the Scorecard; the first stale customer is explained in the Profile tab.
    harness.get_by_label("Profile").click();
    harness.step();
    (harness, config_dir)
}

/// The app opened on demo data, turned to the Overview.
fn demo_overview(
    config: freshlens::demo::DemoConfig,
    size: egui::Vec2,
) -> (Harness<'static, FreshlensApp>, tempfile::TempDir) {
    let (mut harness, dir) = demo_app(config, size);
    harness.get_by_label("Overview").click();
    harness.run_steps(2);
    (harness, dir)
}

#[test]
fn demo_opens_on_a_stale_customer_and_explains_it() {
    let config = freshlens::demo::DemoConfig {
        customers: 150,
        events: 12_000,
        ..freshlens::demo::DemoConfig::new(freshlens::time::now_ms())
    };
    let expected = freshlens::demo::generate(&config).unwrap().stale;
    let suggested = expected
        .first()
        .expect("the demo has stale customers")
        .clone();
    let (mut harness, _config_dir) = demo_app(config, egui::vec2(1500.0, 950.0));
    // The Profile tab has the first suggested customer explained.
    let (field, _) = &suggested.fields[0];
    wait_for(&mut harness, "the suggested customer's stale field", |h| {
        h.query_by_label_contains(&format!("{field} is stale"))
            .is_some()
    });

    // Searching a customer the builder dropped a consent change for explains that too.
    let dropped = expected
        .iter()
        .find(|c| c.fields.iter().any(|(f, _)| f == "marketing"))
        .expect("a customer with a dropped consent change");
    assert!(
        suggested.fields.iter().all(|(f, _)| f != "marketing"),
        "the first suggestion is behind a stalled partition"
    );
    assert!(
        harness
            .query_by_label_contains("marketing is stale")
            .is_none()
    );
    harness
        .get_by_role_and_label(Role::TextInput, "Customer")
        .focus();
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.step();
    harness
        .get_by_role_and_label(Role::TextInput, "Customer")
        .type_text(&dropped.key);
    harness.step();
    harness.get_by_label("Look up").click();
    wait_for(&mut harness, "the dropped consent change", |h| {
        h.query_by_label_contains("marketing is stale").is_some()
    });
    assert!(
        harness
            .query_by_label_contains("consumed but not applied")
            .is_some()
    );
}

/// The demo's Overview: the chain breaks at the stalled builder, the customers behind
/// its stalled partitions are listed, and a click on one looks it up in the Profile tab.
#[test]
fn demo_overview_names_the_breaking_hop_and_opens_a_stale_customer() {
    let config = freshlens::demo::DemoConfig {
        customers: 150,
        events: 12_000,
        ..freshlens::demo::DemoConfig::new(freshlens::time::now_ms())
    };
    let demo = freshlens::demo::generate(&config).unwrap();
    let (mut harness, _config_dir) = demo_overview(config, egui::vec2(1400.0, 900.0));
    wait_for(&mut harness, "the chain's verdict", |h| {
        h.query_by_label_contains("Out of budget at").is_some()
    });
    let builder = demo
        .spec
        .store
        .as_ref()
        .and_then(|s| s.builder_group.clone())
        .unwrap();
    assert!(
        harness
            .query_by_label(&format!("Out of budget at {builder}"))
            .is_some(),
        "the stalled builder is the breaking hop"
    );
    wait_for(&mut harness, "the stale customers", |h| {
        h.query_by_label_contains("Not consumed yet:").is_some()
    });
    // Every customer the demo stalled behind the builder is in the list (those whose consent
    // change was dropped were consumed: the census cannot see them, the sample can).
    let behind: Vec<&freshlens::demo::StaleCustomer> = demo
        .stale
        .iter()
        .filter(|c| {
            c.fields
                .iter()
                .all(|(_, cause)| !cause.contains("not applied"))
        })
        .collect();
    assert!(!behind.is_empty());
    for customer in &behind {
        assert!(
            harness
                .query_all_by_role_and_label(Role::Link, &customer.key)
                .next()
                .is_some(),
            "{} is listed",
            customer.key
        );
    }
    wait_for(&mut harness, "the sample", |h| {
        h.query_by_label_contains("Consumed but not applied:")
            .is_some()
    });
    // The top row is the worst customer: clicked, it is looked up in the Profile tab, which
    // finds its stale fields too.
    let top = harness
        .query_all_by_role(Role::Link)
        .filter(|node| {
            node.accesskit_node()
                .label()
                .is_some_and(|l| l.starts_with("cust-"))
        })
        .min_by(|a, b| a.rect().min.y.total_cmp(&b.rect().min.y))
        .expect("a customer link");
    let chosen = top.accesskit_node().label().unwrap_or_default();
    top.click();
    wait_for(&mut harness, "the chosen customer's lookup", |h| {
        h.query_by_label("Look up").is_some()
            && h.query_all_by_label_contains("is stale").next().is_some()
    });
    let key = harness
        .get_by_role_and_label(Role::TextInput, "Customer")
        .value();
    assert_eq!(key.as_deref(), Some(chosen.as_str()));
}

/// The Rebuild tab on the demo: the readiness table when it opens, a rehearsal that finds the
/// stalled builder's customers behind, and an example customer that opens in the Profile tab.
#[test]
fn demo_rebuild_rehearses_and_opens_an_example() {
    let config = freshlens::demo::DemoConfig {
        customers: 150,
        events: 12_000,
        ..freshlens::demo::DemoConfig::new(freshlens::time::now_ms())
    };
    let (mut harness, _config_dir) = demo_overview(config, egui::vec2(1400.0, 900.0));
    harness.get_by_label("Rebuild").click();
    wait_for(&mut harness, "the readiness table", |h| {
        h.query_by_label_contains("Replay: ").is_some()
    });
    assert!(harness.query_by_label("c360.orders").is_some());
    assert!(harness.query_by_label("retention bytes").is_some());
    harness.get_by_label("Rehearse").click();
    wait_for(&mut harness, "the rehearsal", |h| {
        h.query_by_label_contains("Rehearsed: ").is_some()
    });
    assert!(
        harness
            .query_by_label_contains("Rehearsed: 150 customers")
            .is_some(),
        "every demo customer compared"
    );
    let example = harness
        .query_all_by_role(Role::Link)
        .find(|n| {
            n.accesskit_node()
                .label()
                .is_some_and(|l| l.ends_with("(behind)"))
        })
        .expect("a customer the stalled builder left behind");
    let key = example
        .accesskit_node()
        .label()
        .unwrap_or_default()
        .trim_end_matches(" (behind)")
        .to_owned();
    example.click();
    wait_for(&mut harness, "the example's lookup", |h| {
        h.query_by_label("Look up").is_some()
            && h.query_all_by_label_contains("is stale").next().is_some()
    });
    let shown = harness
        .get_by_role_and_label(Role::TextInput, "Customer")
        .value();
    assert_eq!(shown.as_deref(), Some(key.as_str()));
}

/// The Governance tab on the demo: every erased customer verified (the demo keeps e-mails on a
/// compacted identity topic without tombstones: violations), personal data discovered with the
/// spec's e-mail declared, and a sentence for ACLs a demo cannot have.
#[test]
fn demo_governance_verifies_erasures_and_finds_pii() {
    // 1,000 customers: the demo erases one in 200.
    let config = freshlens::demo::DemoConfig {
        customers: 1000,
        events: 20_000,
        ..freshlens::demo::DemoConfig::new(freshlens::time::now_ms())
    };
    let (mut harness, _config_dir) = demo_overview(config, egui::vec2(1400.0, 900.0));
    harness.get_by_label("Governance").click();
    harness.run_steps(2);
    harness.get_by_label("Verify every erased customer").click();
    wait_for(&mut harness, "the erasure verdicts", |h| {
        h.query_all_by_label("VIOLATION").next().is_some()
    });
    harness.run_steps(2);
    harness.get_by_label("Discover").click();
    wait_for(&mut harness, "the PII table", |h| {
        h.query_all_by_label("declared pii").next().is_some()
    });
    assert!(harness.query_by_label("/email").is_some());
    harness.run_steps(2);
    harness.get_by_label("Read ACLs").click();
    wait_for(&mut harness, "the ACL sentence", |h| {
        h.query_by_label_contains("holds no ACLs").is_some()
    });
}

#[test]
fn demo_groups_are_judged_once_from_their_commit_history() {
    let config = freshlens::demo::DemoConfig {
        customers: 150,
        events: 12_000,
        ..freshlens::demo::DemoConfig::new(freshlens::time::now_ms())
    };
    let (mut harness, _config_dir) = demo_app(config, egui::vec2(1400.0, 900.0));
    harness.get_by_label("Groups").click();
    wait_for(&mut harness, "the demo's groups", |h| {
        h.query_by_label("c360.risk-features").is_some()
            && h.query_by_label("c360.profile-builder").is_some()
    });
    let row_y = |h: &Harness<'_, FreshlensApp>, name: &str| h.get_by_label(name).rect().center().y;
    let status_in_row = |h: &Harness<'_, FreshlensApp>, name: &str, status: &str| {
        let y = row_y(h, name);
        h.query_all_by_label(status)
            .any(|node| (node.rect().center().y - y).abs() < 4.0)
    };
    assert!(status_in_row(&harness, "c360.risk-features", "STOP"));
    assert!(status_in_row(&harness, "c360.profile-builder", "STALL"));
    // A capture is a snapshot: seconds later, after frames that would have re-sampled a live
    // cluster, the verdicts are the same.
    let until = Instant::now() + Duration::from_secs(6);
    while Instant::now() < until {
        harness.step();
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(status_in_row(&harness, "c360.risk-features", "STOP"));
    assert!(status_in_row(&harness, "c360.profile-builder", "STALL"));
    // The budget follows the demo spec's (15 minutes).
    let budget: Vec<Option<String>> = harness
        .query_all_by_label("Budget (s)")
        .map(|node| node.value())
        .collect();
    assert!(budget.contains(&Some("900".into())), "budget {budget:?}");
}

/// With *Reveal PII* off, a `pii` field's value is on no widget: not the field table, not the
/// timeline's rows, not the detail pane of a selected event. Turned on, it shows.
#[test]
fn pii_is_on_no_widget_unless_revealed() {
    let config = freshlens::demo::DemoConfig {
        customers: 150,
        events: 12_000,
        ..freshlens::demo::DemoConfig::new(freshlens::time::now_ms())
    };
    let (mut harness, _config_dir) = demo_app(config, egui::vec2(1500.0, 950.0));
    wait_for(&mut harness, "the suggested customer's timeline", |h| {
        h.query_all_by_label("c360.identity").count() > 0
    });
    // Select an identity event, whose payload carries the email.
    harness
        .query_all_by_label("c360.identity")
        .last()
        .expect("an identity event row")
        .click();
    harness.run_steps(3);
    let leaks =
        |h: &Harness<'_, FreshlensApp>| h.query_all_by_label_contains("@example.com").count();
    assert!(
        harness.query_by_label_contains("keyed by").is_some(),
        "the detail pane is open"
    );
    assert_eq!(leaks(&harness), 0, "an email address is shown");
    harness.get_by_label("Reveal PII").click();
    harness.run_steps(3);
    assert!(
        leaks(&harness) > 0,
        "revealed, the address shows: the check can see it"
    );
}

/// A cluster that accepts connections and never answers keeps Connect waiting: Cancel gives
/// up at once, and the late answer changes nothing.
#[test]
fn connect_can_be_cancelled() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let (mut harness, _config_dir) = blank_app();
    type_into(&mut harness, "Bootstrap", &address);
    harness.get_by_label("Connect").click();
    wait_for(&mut harness, "connecting", |h| {
        h.query_by_label_contains("connecting to").is_some()
    });
    harness.get_by_label("Cancel").click();
    harness.run_steps(2);
    assert!(harness.query_by_label("not connected").is_some());
    assert!(
        harness.query_by_label("Connect").is_some(),
        "Connect is back"
    );
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        harness.step();
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(harness.query_by_label("not connected").is_some());
    assert!(
        harness
            .query_by_label_contains("connection failed")
            .is_none()
    );
}

/// At 1024×700 the top bar wraps rather than losing its end: the data in use is named; an
/// unknown customer says where it was looked for, and the Freshness tab does not call it
/// "within budget".
#[test]
fn small_window_and_empty_states_say_what_is_going_on() {
    let config = freshlens::demo::DemoConfig {
        customers: 150,
        events: 12_000,
        ..freshlens::demo::DemoConfig::new(freshlens::time::now_ms())
    };
    let (mut harness, _config_dir) = demo_app(config, egui::vec2(1024.0, 700.0));
    let status = harness.get_by_label_contains("reading demo data");
    assert!(
        status.rect().max.x <= 1024.0 && status.rect().min.x >= 0.0,
        "the top bar's status is inside the window: {:?}",
        status.rect()
    );
    assert!(harness.query_by_label("Demo data").is_some());
    // The suggested customer's lookup runs first; its button comes back when it is done.
    wait_for(&mut harness, "the first lookup", |h| {
        h.query_by_label("Look up").is_some()
    });
    harness
        .get_by_role_and_label(Role::TextInput, "Customer")
        .focus();
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.step();
    harness
        .get_by_role_and_label(Role::TextInput, "Customer")
        .type_text("cust-nobody");
    harness.step();
    harness.get_by_label("Look up").click();
    wait_for(&mut harness, "the empty answer", |h| {
        h.query_by_label_contains("No events for cust-nobody in the")
            .is_some()
    });
    harness.get_by_label("Freshness").click();
    harness.run_steps(3);
    assert!(
        harness
            .query_by_label_contains("No events for cust-nobody")
            .is_some()
    );
    assert!(harness.query_by_label_contains("Within budget").is_none());
}

/// A topic written with crc32 under a spec that says murmur2: the Profile tab warns after a
/// lookup, and the topic's Keys view in Browse names crc32 and draws its skew.
#[test]
fn keys_view_and_profile_warning_name_a_crc32_topic() {
    use freshlens::profile::Partitioner;
    let target = crate::fixtures::Target::new();
    let topic = unique_topic("ui-keys");
    target.create_topic(&topic, 6);
    let records: Vec<TestRecord> = (0..60)
        .map(|i| {
            let key = format!("cust-{i:03}");
            let partition = Partitioner::Crc32.partition_of(key.as_bytes(), 6).unwrap();
            TestRecord::new(partition, &key, r#"{"amount":1}"#, t0() + i)
        })
        .collect();
    target.produce(&topic, &records);
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.toml");
    std::fs::write(
        &spec,
        format!(
            "name = \"customer\"\nbudget = \"5m\"\npartitioner = \"murmur2\"\n[[source]]\n\
             topic = \"{topic}\"\n[[field]]\nname = \"amount\"\ntopic = \"{topic}\"\n\
             path = \"/amount\"\nrule = \"sum\"\n"
        ),
    )
    .unwrap();
    let (mut harness, _config_dir) = app_on(&target, egui::vec2(1280.0, 800.0));
    harness.get_by_label("Profile").click();
    harness.step();
    type_into(&mut harness, "Spec", &spec.display().to_string());
    harness.get_by_label("Load spec").click();
    wait_for(&mut harness, "the spec", |h| {
        h.query_by_label_contains("customer: 1 sources").is_some()
    });
    type_into(&mut harness, "Customer", "cust-001");
    harness.get_by_label("Look up").click();
    wait_for(&mut harness, "the partitioner warning", |h| {
        h.query_by_label_contains("written with crc32").is_some()
    });

    harness.get_by_label("Browse").click();
    wait_for(&mut harness, "the topic list", |h| {
        h.query_by_label(&topic).is_some()
    });
    type_into(&mut harness, "Search", &topic);
    harness.get_by_label(&topic).click();
    harness.run_steps(2);
    harness.get_by_label("Keys").click();
    wait_for(&mut harness, "the partitioner verdict", |h| {
        h.query_by_label_contains("crc32 explains every one of 60")
            .is_some()
    });
    assert!(harness.query_by_label_contains("Skew: max/mean").is_some());
    // The loaded spec reads the topic: its customers' split over partitions (keyed by the
    // customer id itself, none is).
    wait_for(&mut harness, "the key choice", |h| {
        h.query_by_label_contains("Key choice: 0 of 60 customers")
            .is_some()
    });
    assert!(
        harness
            .query_by_label_contains("the spec's murmur2")
            .is_some()
    );
}

/// An e-mail a `pii` link brought into the identity set, and payloads that are not strict
/// JSON, are on no widget of the Profile tab (identities line, timeline rows, detail pane)
/// unless revealed.
#[test]
fn linked_emails_are_on_no_widget_unless_revealed() {
    let dir = tempfile::tempdir().unwrap();
    let (capture, spec) = crate::hardening::linked_by_email_capture(dir.path());
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().to_owned();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1500.0, 950.0))
        .build_eframe(move |cc| {
            let startup = Startup {
                capture: Some(capture.into()),
                spec: Some(spec),
                key: Some("cust-1".into()),
                ..Startup::default()
            };
            FreshlensApp::new(cc, startup, Some(config)).unwrap()
        });
    wait_for(&mut harness, "the identities", |h| {
        h.query_by_label_contains("identities:").is_some()
    });
    assert!(
        harness.query_by_label("identities: cust-1, ***").is_some(),
        "the linked e-mail is masked among the identities"
    );
    let address = crate::hardening::ADDRESS;
    let leaks = |h: &Harness<'_, FreshlensApp>| h.query_all_by_label_contains(address).count();
    // The event keyed by the address: its row and its detail pane.
    harness
        .query_all_by_label("***")
        .last()
        .expect("a row keyed by a masked id")
        .click();
    harness.run_steps(3);
    assert!(
        harness.query_by_label_contains("keyed by ***").is_some(),
        "the detail pane is open on the event keyed by the address"
    );
    assert_eq!(leaks(&harness), 0, "the address is shown");
    harness.get_by_label("Reveal PII").click();
    harness.run_steps(3);
    assert!(leaks(&harness) > 0, "revealed, the address shows");
}
