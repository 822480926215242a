//! `signal`: the daily job. Fetches prices, classifies every fund, stores the day's report and
//! e-mails it to the subscribers.
//!
//! Every flag has an environment twin (the container is configured by env). Exit codes: 0 done
//! (also on a non-trading day, having written nothing), 2 bad input or configuration, 1 anything
//! else; each failure is one line on stderr.

mod backtest;
mod channels;
mod cli;
mod config;
mod failure;
mod performance;
mod prices;
mod run;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::{filter::Targets, layer::SubscriberExt, util::SubscriberInitExt};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_tracing();
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

/// Logs to stderr, filtered by `RUST_LOG` (default `warn,signal=info,platform=info`: the job's
/// modules log as the binary's crate, `signal`, not as the package, `jobs`).
///
/// `RUST_LOG` is a list of `level` and `target=level` directives, read as [`Targets`]: unlike
/// `EnvFilter` it has no span or field filters, so the binary links no regex engine for them. A
/// value that does not parse is ignored.
fn init_tracing() {
    let filter = std::env::var("RUST_LOG").ok().and_then(|text| text.parse::<Targets>().ok()).unwrap_or_else(|| {
        Targets::new()
            .with_default(tracing::Level::WARN)
            .with_target("signal", tracing::Level::INFO)
            .with_target("platform", tracing::Level::INFO)
    });
    let format = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    tracing_subscriber::registry().with(filter).with(format).init();
}
