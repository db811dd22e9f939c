use std::process::ExitCode;

use clap::Parser as _;
use freshlens::cli::{self, Cli};

fn main() -> ExitCode {
    freshlens::ui::note_process_start();
    let args = Cli::parse();
    // A trial stops a broker on purpose and times the outage itself: librdkafka's line per
    // refused connection would bury its progress (RUST_LOG still shows them).
    let logs = match &args.command {
        Some(cli::Command::Trial(_)) => "warn,librdkafka=off,rdkafka::client=off",
        _ => "warn",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(logs)).init();
    match &args.command {
        Some(command) => cli::run(&args.connect, command),
        None => match startup(&args).and_then(freshlens::ui::run) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

/// The window's start-up, validated from the raw flags: the connection (if any was given), a
/// spec and a key to look up, the demo or a capture.
fn startup(args: &Cli) -> anyhow::Result<freshlens::ui::Startup> {
    let connect = &args.connect;
    Ok(freshlens::ui::Startup {
        connect: if connect.is_given() {
            Some(connect.to_config()?)
        } else {
            None
        },
        source: None,
        spec: args.spec.clone(),
        key: args.key.clone(),
        demo: connect
            .demo
            .then(|| freshlens::demo::DemoConfig::new(freshlens::time::now_ms())),
        capture: connect.capture.clone(),
    })
}
