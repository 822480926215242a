//! `cargo xtask dev`: the whole product on this machine, with no account, no token and no network.
//!
//! Builds the signal job and the web function in one cargo run (found in cargo's target directory,
//! `CARGO_TARGET_DIR` included), runs the job on the bundled sample data for the latest trading days
//! into `target/dev/data/` (replaced on each run), prints the newest report, then serves the site
//! (the web function with the subscribe API on the same address) on `http://127.0.0.1:3000/` until Ctrl-C.

use std::path::Path;

use anyhow::Context;
use xshell::{Shell, cmd};

use crate::{flags, tools};

impl flags::Dev {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let data_dir = sh.current_dir().join("target/dev/data");
        if data_dir.exists() {
            sh.remove_path(&data_dir).with_context(|| format!("clearing {}", data_dir.display()))?;
        }
        // One cargo run for both binaries: their shared dependencies compile once, in parallel.
        eprintln!("building the signal job and the site");
        cmd!(sh, "cargo build --quiet --package jobs --bin signal --package functions --bin web")
            .run()
            .context("building the signal job and the web function")?;
        let binaries = tools::cargo_target_dir(sh)?.join("debug");
        let (signal, web) = (binaries.join("signal"), binaries.join("web"));
        let days = self.days.to_string();
        eprintln!("running the signal job on sample data for the latest {days} trading days");
        cmd!(sh, "{signal} --source sample --last {days} --data-dir {data_dir}")
            .run()
            .context("running the signal job")?;

        let reports_dir = data_dir.join("reports/dma-11-22");
        let mut reports: Vec<_> = std::fs::read_dir(&reports_dir)
            .with_context(|| format!("listing {}", reports_dir.display()))?
            .filter_map(|entry| entry.ok().map(|it| it.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
            .collect();
        reports.sort();
        let newest = reports.last().context("the job wrote no report")?;
        let text = std::fs::read_to_string(newest).with_context(|| format!("reading {}", newest.display()))?;
        println!("\n{}:\n\n{text}", newest.display());
        println!("data folder: {}", data_dir.display());
        println!("reports:     {} ({} days)", reports_dir.display(), reports.len());
        println!(
            "outbox:      {} (a mail per subscriber whose choice matches the day)",
            data_dir.join("outbox").display()
        );
        if self.no_serve {
            return Ok(());
        }
        serve(sh, &web, &data_dir, self.port)
    }
}

/// Runs the web function `web` locally on the data folder; returns when it stops (Ctrl-C).
fn serve(sh: &Shell, web: &Path, data_dir: &Path, port: u16) -> anyhow::Result<()> {
    println!("subscribers: {}", data_dir.join("subscribers.json").display());
    println!("\nthe site: http://127.0.0.1:{port}/ (Ctrl-C stops)\n");
    cmd!(sh, "{web}")
        .env(platform::env::DATA_DIR, data_dir)
        .env(platform::env::PORT, port.to_string())
        .run()
        .context("serving the site")?;
    Ok(())
}
