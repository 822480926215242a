//! `cargo xtask`: build, check, run and ship this workspace (the cargo-xtask convention).
//!
//! `.cargo/config.toml` aliases `cargo xtask` to `cargo run --package xtask --`: dev, synth and test;
//! the other commands are in the `full` feature, which the light build runs itself with.

// The light build shares stage.rs and site_tools.rs with the full one, where the rest of them is
// used; clippy checks the full build (`--all-features`), which still denies dead code.
#![cfg_attr(not(feature = "full"), allow(dead_code))]

mod dev;
mod flags;
mod lambda_build;
mod site_tools;
mod stage;
mod synth;
mod test;
mod tools;

// The commands that talk to AWS or package: the `full` feature (see xtask/Cargo.toml).
#[cfg(feature = "full")]
mod aws;
#[cfg(feature = "full")]
mod bench;
#[cfg(feature = "full")]
mod cloudformation;
#[cfg(feature = "full")]
mod cold_start;
#[cfg(feature = "full")]
mod deploy;
#[cfg(feature = "full")]
mod destroy;
#[cfg(feature = "full")]
mod logs;
#[cfg(feature = "full")]
mod package;
#[cfg(feature = "full")]
mod prompt;
#[cfg(feature = "full")]
mod run_job;
#[cfg(feature = "full")]
mod secret;
#[cfg(feature = "full")]
mod site_bench;
#[cfg(feature = "full")]
mod status;

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;
use xshell::Shell;

fn main() -> ExitCode {
    let flags = flags::Xtask::parse();
    match run(flags) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(flags: flags::Xtask) -> anyhow::Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    match flags.command {
        flags::Command::Dev(cmd) => cmd.run(&sh),
        flags::Command::Test(cmd) => cmd.run(&sh),
        flags::Command::Synth(cmd) => cmd.run(&sh),
        #[cfg(not(feature = "full"))]
        _ => with_every_command(),
        #[cfg(feature = "full")]
        flags::Command::Bench(cmd) => cmd.run(&sh),
        #[cfg(feature = "full")]
        flags::Command::Package(cmd) => cmd.run(&sh),
        #[cfg(feature = "full")]
        flags::Command::Diff(cmd) => cmd.run(&sh),
        #[cfg(feature = "full")]
        flags::Command::Deploy(cmd) => cmd.run(&sh),
        #[cfg(feature = "full")]
        flags::Command::Destroy(cmd) => cmd.run(&sh),
        #[cfg(feature = "full")]
        flags::Command::RunJob(cmd) => cmd.run(&sh),
        #[cfg(feature = "full")]
        flags::Command::Status(cmd) => cmd.run(&sh),
        #[cfg(feature = "full")]
        flags::Command::Logs(cmd) => cmd.run(&sh),
        #[cfg(feature = "full")]
        flags::Command::Secret(cmd) => match cmd.command {
            flags::SecretCommand::Set(cmd) => cmd.run(&sh),
        },
    }
}

/// Runs this very command line again with xtask built with every command (the `full` feature):
/// cargo compiles that build once, and keeps it beside the light one.
#[cfg(not(feature = "full"))]
fn with_every_command() -> anyhow::Result<()> {
    use anyhow::Context;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["run", "--quiet", "--package", "xtask", "--features", "full", "--"])
        .args(std::env::args_os().skip(1))
        .status()
        .context("running cargo xtask with every command")?;
    std::process::exit(status.code().unwrap_or(1))
}

/// The workspace root: xtask lives one level below it.
fn project_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().expect("xtask/ is one level below the root").to_owned()
}
