//! freshlens: find out why a Customer 360 profile is stale on a Kafka-compatible cluster.
//!
//! The engine (`cluster`, `codec`) never touches the UI; `cli` and `ui` are thin layers over it.

pub mod cli;
pub mod cluster;
pub mod codec;
pub mod demo;
pub mod freshness;
pub mod memory;
pub mod profile;
pub mod source;
pub mod time;
pub mod ui;
