//! `signal`: the daily job. Fetches prices, classifies every fund, stores the day's report and
//! e-mails it to the subscribers.
//!
//! Every flag has an environment twin (the container is configured by env). Exit codes: 0 done
//! (also on a non-trading day, having written nothing), 2 bad input or configuration, 1 anything
//! else; each failure is one line on stderr.

mod backtest;
mod cli;
mod config;
mod failure;
mod performance;
mod prices;
mod run;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,jobs=info,platform=info".into()),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(it) => it,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let done = match cli.command {
        Some(cli::Command::Backtest(flags)) => runtime.block_on(backtest::main(flags)),
        None => runtime.block_on(run::main(cli.run)),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure::Failure::BadInput(err)) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
        Err(failure::Failure::Failed(err)) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
