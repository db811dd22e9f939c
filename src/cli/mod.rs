//! The headless command line: the same engine as the GUI, for scripts and tests.

pub mod access;
pub mod bench;
pub mod capture;
pub mod compare;
pub mod connect;
pub mod demo;
pub mod erasure;
pub mod freshness;
pub mod groups;
pub mod keys;
pub mod messages;
pub mod pii;
pub mod profile;
pub mod rebuild;
mod rebuild_emit;
mod sample;
pub mod schemas;
pub mod scorecard;
pub mod stale;
pub mod topics;
pub mod trial;

use std::io::Write;
use std::process::ExitCode;

pub use connect::ConnectArgs;

#[derive(Debug, clap::Parser)]
#[command(
    name = "freshlens",
    version,
    about = "Debug stale Customer 360 profiles on Kafka-compatible clusters",
    long_about = "Without a subcommand, opens the desktop app (connected to -b/--cluster when given)."
)]
pub struct Cli {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Desktop app: load this profile spec at start
    #[arg(long = "spec")]
    pub spec: Option<String>,
    /// Desktop app: look this customer up once connected
    #[arg(long = "key")]
    pub key: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List topics with partitions, replicas and watermarks
    Topics(topics::TopicsArgs),
    /// Read messages from a topic
    Messages(messages::MessagesArgs),
    /// Consumer groups with lag in offsets and in time, worst first
    Groups(groups::GroupsArgs),
    /// How stale a profile was over a window, or a topic's ingest delay
    Freshness(freshness::FreshnessArgs),
    /// One customer's events across topics, in order, following identity links
    Timeline(profile::TimelineArgs),
    /// The profile a customer's events add up to, compared with the profile store
    Profile(profile::ProfileArgs),
    /// Every customer: who is stale now and why (builder's unread tail), a sampled estimate of
    /// changes consumed but not applied, the store's age, and the hop that breaks the budget
    Stale(stale::StaleArgs),
    /// Can the profile store be rebuilt from retained events, and how long would it take;
    /// --rehearse replays them and says what a rebuild would change
    Rebuild(rebuild::RebuildArgs),
    /// Personal data in sampled records of topics (e-mails, phones, IPs, cards, IBANs, telling
    /// field names), by JSON path, and whether the spec declares it
    Pii(pii::PiiArgs),
    /// The schema versions each source's records were written with, when and where each
    /// appeared, the spec paths each carries, and the subject's compatibility level
    Schemas(schemas::SchemasArgs),
    /// The readiness scorecard of a profile domain against the spec's [contract]: freshness,
    /// rebuild and migration rows, each with its evidence. Exit 0 when no row fails, 1 when one
    /// does, 2 on errors
    Scorecard(scorecard::ScorecardArgs),
    /// Is an erased customer really gone: records left before the erasure, when they expire,
    /// and whether the store still serves personal data
    Erasure(erasure::ErasureArgs),
    /// Who may read which attribute: the cluster's ACLs (DescribeAcls) joined with the spec
    Access(access::AccessArgs),
    /// Partition-key forensics: which partitioner wrote each topic (murmur2, crc32, FNV-1a or
    /// random) and which keys it misplaced, skew and hot keys, order within a key, and with
    /// --spec the customers a topic splits over several partitions
    Keys(keys::KeysArgs),
    /// Two clusters side by side for a migration: topics, group offsets translated through
    /// MirrorMaker 2's checkpoints, and whether a cutover now is safe
    Compare(compare::CompareArgs),
    /// Save topics, or one customer's lookup, to a capture file to open later with --capture
    Capture(capture::CaptureArgs),
    /// The demo workload: write it to a cluster, or to a capture file
    Demo(demo::DemoArgs),
    /// Benchmark against a cluster: lookups vs a full scan vs raw reads, or --groups. WRITES:
    /// creates topics and commits groups named under --prefix, refusing ones that exist
    Bench(bench::BenchArgs),
    /// Trial a candidate Kafka-compatible platform (-b) beside today's (--baseline): API
    /// versions and probes, a profile workload's latency at a steady rate, a burst, a broker
    /// restart, replay. WRITES: topics and groups under --prefix, refusing ones that exist,
    /// deleted at the end unless --keep. Exit 0 when no row fails, 1 when one does, 2 on errors
    Trial(trial::TrialArgs),
}

/// Runs a subcommand; a closed stdout (`| head`) ends quietly with success, as ripgrep does.
pub fn run(connect: &ConnectArgs, command: &Command) -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = dispatch(connect, command, &mut out).and_then(|()| Ok(out.flush()?));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        // The scorecard printed its rows: a failed row is its answer, not an error.
        Err(e) if e.downcast_ref::<scorecard::RowsFailed>().is_some() => ExitCode::from(1),
        Err(e) if e.downcast_ref::<trial::TrialRowsFailed>().is_some() => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            match command {
                Command::Scorecard(_) | Command::Trial(_) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn dispatch(connect: &ConnectArgs, command: &Command, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        Command::Topics(args) => topics::run(connect.open()?.as_ref(), args, out),
        Command::Messages(args) => {
            let request = args.to_request()?;
            messages::run(
                connect.open()?.as_ref(),
                args,
                request,
                connect.timeout(),
                out,
            )
        }
        Command::Groups(args) => groups::run(connect.open()?.as_ref(), args, out),
        Command::Freshness(args) => {
            freshness::run(connect.open()?.as_ref(), args, connect.timeout(), out)
        }
        Command::Timeline(args) => {
            let spec = args.spec()?;
            let args = profile::TimelineArgs {
                timeout: connect.timeout(),
                ..args.clone()
            };
            profile::run_timeline(connect.open()?.as_ref(), &args, &spec, out)
        }
        Command::Profile(args) => {
            let spec = args.timeline.spec()?;
            let mut args = args.clone();
            args.timeline.timeout = connect.timeout();
            profile::run_profile(connect.open()?.as_ref(), &args, &spec, out)
        }
        Command::Stale(args) => stale::run(connect.open()?.as_ref(), args, connect.timeout(), out),
        Command::Rebuild(args) if args.emit.is_some() => {
            let spec = crate::profile::Spec::load(&args.spec)?;
            if connect.is_given() {
                // The job reads the cluster itself: its connection goes into the script.
                let config = connect.to_config()?;
                let cluster = crate::cluster::Cluster::connect(config.clone())?;
                rebuild_emit::run(&cluster, &spec, args, Some(&config), out)
            } else {
                rebuild_emit::run(connect.open()?.as_ref(), &spec, args, None, out)
            }
        }
        Command::Rebuild(args) => {
            rebuild::run(connect.open()?.as_ref(), args, connect.timeout(), out)
        }
        Command::Pii(args) => pii::run(connect.open()?.as_ref(), args, connect.timeout(), out),
        Command::Scorecard(args) => {
            scorecard::run(connect.open()?.as_ref(), args, connect.timeout(), out)
        }
        Command::Schemas(args) => {
            schemas::run(connect.open()?.as_ref(), args, connect.timeout(), out)
        }
        Command::Erasure(args) => {
            erasure::run(connect.open()?.as_ref(), args, connect.timeout(), out)
        }
        Command::Access(args) => access::run(connect.open()?.as_ref(), args, out),
        Command::Keys(args) => keys::run(connect.open()?.as_ref(), args, connect.timeout(), out),
        Command::Compare(args) => {
            compare::run(connect.open()?.as_ref(), args, connect.timeout(), out)
        }
        Command::Capture(args) => {
            capture::run(connect.open()?.as_ref(), args, connect.timeout(), out)
        }
        Command::Demo(args) => demo::run(connect, args, out),
        Command::Bench(args) => bench::run(connect, args, out),
        Command::Trial(args) => trial::run(connect.to_config()?, args, out),
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
