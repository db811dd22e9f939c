//! freshlens: find out why a Customer 360 profile is stale on a Kafka-compatible cluster.
//!
//! Layers, bottom to top; each module uses only those below it (`tests/architecture.rs` checks):
//! `time`, `memory` → `cluster` → `codec` → `source` → `profile` → `freshness` → `demo` (the
//! engine, which never draws) → `cli` and `ui`, two front ends that never use each other. The
//! binary (`main.rs`) turns the command line into a `cli` run or the `ui`'s start-up.

pub mod cli;
pub mod cluster;
pub mod codec;
pub mod demo;
pub mod freshness;
pub mod governance;
pub mod keys;
pub mod memory;
pub mod migrate;
pub mod profile;
pub mod rebuild;
pub mod scorecard;
pub mod source;
pub mod time;
pub mod trial;
pub mod ui;
