//! `cargo xtask`: build, check, run and ship this workspace (the cargo-xtask convention).
//!
//! `.cargo/config.toml` aliases `cargo xtask` to `cargo run --package xtask --`.

mod aws;
mod bench;
mod cloudformation;
mod cold_start;
mod deploy;
mod destroy;
mod dev;
mod flags;
mod logs;
mod package;
mod prompt;
mod run_job;
mod secret;
mod site_bench;
mod site_tools;
mod stage;
mod status;
mod synth;
mod test;
mod tools;

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
        flags::Command::Bench(cmd) => cmd.run(&sh),
        flags::Command::Dev(cmd) => cmd.run(&sh),
        flags::Command::Test(cmd) => cmd.run(&sh),
        flags::Command::Package(cmd) => cmd.run(&sh),
        flags::Command::Synth(cmd) => cmd.run(&sh),
        flags::Command::Diff(cmd) => cmd.run(&sh),
        flags::Command::Deploy(cmd) => cmd.run(&sh),
        flags::Command::Destroy(cmd) => cmd.run(&sh),
        flags::Command::RunJob(cmd) => cmd.run(&sh),
        flags::Command::Status(cmd) => cmd.run(&sh),
        flags::Command::Logs(cmd) => cmd.run(&sh),
        flags::Command::Secret(cmd) => match cmd.command {
            flags::SecretCommand::Set(cmd) => cmd.run(&sh),
        },
    }
}

/// The workspace root: xtask lives one level below it.
fn project_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().expect("xtask/ is one level below the root").to_owned()
}
