//! `freshlens bench`: the end-to-end benchmark. Seeds the demo workload, then (`lookups`) for
//! customers chosen by seed measures, alternating in one run: (a) a freshlens lookup (targeted
//! partitions, identity links, fold, store comparison); (b) what web UIs do, every partition of
//! every source topic in one polling loop, the key compared on the borrowed message; (c) the
//! limit, the partitions (a) reads read raw by the same client, with no decoding at all; and a
//! plain librdkafka loop over what (b) reads, at librdkafka's defaults. Every client is warm.
//!
//! Each mode is a file (`lookups`, `groups`, `stale`, `rebuild`, `keys`) that imports what the
//! modes share from `common`, never another mode; this file only picks the mode.

mod args;
mod common;
mod full_scan;
mod groups;
mod keys;
mod lookups;
mod rebuild;
mod stale;

use std::io::Write;

pub use args::BenchArgs;

use super::ConnectArgs;

pub fn run(connect: &ConnectArgs, args: &BenchArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let connection = connect.to_config()?;
    eprintln!(
        "bench WRITES to {}: topics and groups named {}*{}",
        connection.bootstrap,
        args.prefix,
        if args.reuse {
            " (reusing what is there)"
        } else {
            ""
        }
    );
    if let Some(groups) = args.groups {
        return groups::run(&connection, args, groups, out);
    }
    let (config, seeded) = common::seed_workload(&connection, args)?;
    if args.stale {
        return stale::run(&connection, &config, seeded, args, out);
    }
    if args.rebuild {
        return rebuild::run(&connection, &config, seeded, args, out);
    }
    if args.keys {
        return keys::run(&connection, &config, seeded, args, out);
    }
    lookups::run(&connection, &config, seeded, args, out)
}
