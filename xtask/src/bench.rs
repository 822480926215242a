//! `cargo xtask bench`: figures of the shipped artifacts, measured on this machine.
//!
//! `--cold-start` builds the Lambda bootstraps as packaging does (release, cargo-lambda), zips
//! them, makes sample data with the release job, and starts each function `--runs` times under a
//! local Lambda runtime API ([`crate::cold_start`]), with its data in a local folder (so the
//! figure is the function's own start, not an emulator's latency): the size of each zip and the
//! median and worst init and first answer.
//!
//! `--site` serves the site from the release web binary and drives its pages with wrk
//! ([`crate::site_bench`]).

use std::time::Duration;

use anyhow::Context;
use stacks::ecs::Architecture;
use xshell::{Shell, cmd};

use crate::{cold_start, flags, package, site_bench, tools};

impl flags::Bench {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        if !self.cold_start && !self.site {
            anyhow::bail!(
                "say what to measure: --cold-start (each function's zip size and cold start), --site (the pages' requests per second)"
            );
        }
        if self.site {
            site_bench::run(sh, self.connections, self.seconds)?;
        }
        if !self.cold_start {
            return Ok(());
        }
        anyhow::ensure!(self.runs > 0, "--runs must be at least 1");
        // The figures are those of the binaries as released.
        let profile = crate::lambda_build::packaging_profile()?;
        anyhow::ensure!(
            profile == "release",
            "{}={profile} would measure binaries built otherwise than for release: unset it",
            platform::env::PACKAGE_PROFILE
        );
        let functions: Vec<(&str, &str)> =
            package::FUNCTION_BINARIES.iter().map(|binary| (package::FUNCTIONS_PACKAGE, *binary)).collect();
        let built = package::build(sh, Architecture::X86_64, &functions)?;
        let out = tools::cargo_target_dir(sh)?.join("bench");
        let data = out.join("data");
        if data.exists() {
            sh.remove_path(&data).with_context(|| format!("clearing {}", data.display()))?;
        }
        let job = &built.job;
        eprintln!("making sample data for the web function in {}", data.display());
        cmd!(sh, "{job} --source sample --last 30 --no-publish --data-dir {data}")
            .quiet()
            .run()
            .context("running the job")?;

        let runtime = tokio::runtime::Runtime::new()?;
        println!(
            "{:<10} {:>10} {:>10} {:>11} {:>11} {:>13} {:>13}",
            "function", "bootstrap", "zip", "init p50", "init max", "answer p50", "answer max"
        );
        for (name, bootstrap) in &built.functions {
            let zip = package::zip::write(bootstrap, &out.join(format!("{name}.zip")))?;
            let event = match name.as_str() {
                "subscribe" => {
                    cold_start::http_api_event("POST", "/api/subscribe", Some(r#"{"email":"cold@example.com"}"#))
                }
                _ => cold_start::http_api_event("GET", "/", None),
            };
            let env = [(platform::env::DATA_DIR, data.display().to_string())];
            let mut starts = Vec::new();
            for _ in 0..self.runs {
                let start = runtime.block_on(cold_start::measure(bootstrap, &env, &event))?;
                let status = start.answer["statusCode"].as_u64().unwrap_or(0);
                anyhow::ensure!((200..300).contains(&status), "{name} answered {}", start.answer);
                starts.push(start);
            }
            let (init, answer) = (
                median_and_max(starts.iter().map(|it| it.init)),
                median_and_max(starts.iter().map(|it| it.first_answer)),
            );
            println!(
                "{name:<10} {:>10} {:>10} {:>11} {:>11} {:>13} {:>13}",
                std::fs::metadata(bootstrap)?.len(),
                zip.size,
                ms(init.0),
                ms(init.1),
                ms(answer.0),
                ms(answer.1)
            );
        }
        println!("({} starts each; data in {})", self.runs, data.display());
        Ok(())
    }
}

fn median_and_max(values: impl Iterator<Item = Duration>) -> (Duration, Duration) {
    let mut values: Vec<Duration> = values.collect();
    values.sort();
    (values[values.len() / 2], values[values.len() - 1])
}

fn ms(value: Duration) -> String {
    format!("{:.1} ms", value.as_secs_f64() * 1000.0)
}
