use std::process::ExitCode;

use clap::Parser as _;
use freshlens::cli::{self, Cli};

fn main() -> ExitCode {
    freshlens::ui::note_process_start();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args = Cli::parse();
    match &args.command {
        Some(command) => cli::run(&args.connect, command),
        None => match freshlens::ui::run(&args.connect, args.spec.clone(), args.key.clone()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}
