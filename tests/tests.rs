//! Integration tests against a real Kafka-compatible broker (Tansu in CI).
//! With `CI=true` a missing broker fails the tests; elsewhere they are skipped with a note.

mod fixtures;
mod schema_registry;

mod architecture;
mod bad_input;
mod cli;
mod cluster;
mod compare;
mod consistency;
mod demo;
mod flink;
mod freshness;
mod fuzz;
mod governance;
mod groups;
mod hardening;
mod keys;
mod outage;
mod profile;
mod protobuf;
mod readonly;
mod rebuild;
mod registry;
mod scorecard;
mod scorecard_rows;
mod snapshots;
mod stale;
mod trial;
mod ui;
