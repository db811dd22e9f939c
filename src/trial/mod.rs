//! `trial`: one bounded profile workload run on a candidate Kafka-compatible platform and on
//! today's, side by side: compatibility (API versions and functional probes), source-to-store
//! latency at a steady rate, a burst, a broker restart, replay throughput, and the scorecard
//! rows those fill. It writes, under its prefix only, and deletes what it made.

pub mod apis;
mod builder;
mod compare;
mod error;
mod latency;
pub mod load;
pub mod probes;
mod replay;
pub mod report;
pub mod result;
mod rows;
pub mod run;
