//! The command line: the daily run's flags, or a subcommand.

use crate::{backtest::BacktestFlags, config::Flags};

/// Compute the day's double moving average signals, store the report and e-mail it.
#[derive(Debug, clap::Parser)]
#[command(name = "signal", version, long_about = None, args_conflicts_with_subcommands = true)]
pub(crate) struct Cli {
    /// What else to do than the daily run.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    /// The daily run.
    #[command(flatten)]
    pub(crate) run: Flags,
}

/// What else `signal` can do.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Replay the published signals over a range of days: what following them would have earned.
    Backtest(BacktestFlags),
}
