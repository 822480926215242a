//! `cargo xtask test`: the whole test suite, the gate before anything lands.
//!
//! Formatting, clippy with warnings denied, then every test of the workspace including the
//! `#[ignore = "needs ..."]` ones, with the tools and servers they need installed and started here.
//! Later steps add their tools (emulator, linters, browser) to `run` and their settings to `test_env`.

use xshell::{Shell, cmd};

use platform::env;

use crate::{flags, site_tools};

impl flags::Test {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        step("cargo fmt --check");
        cmd!(sh, "cargo fmt --all --check").run()?;
        step("cargo clippy");
        cmd!(sh, "cargo clippy --workspace --all-targets --locked -- -D warnings").run()?;

        site_test_tools(sh)?;

        step("cargo test");
        let mut tests = cmd!(sh, "cargo test --workspace --locked -- --include-ignored");
        for (name, value) in test_env() {
            tests = tests.env(name, value);
        }
        tests.run()?;
        Ok(())
    }
}

/// Installs what the functions' browser and Lambda-runtime tests need.
fn site_test_tools(sh: &Shell) -> anyhow::Result<()> {
    step("Chromium and ChromeDriver");
    site_tools::install_browser(sh)?;
    step("cargo-lambda");
    site_tools::install_cargo_lambda(sh)?;
    Ok(())
}

/// Environment for the test run: where the tools and servers started above can be found.
fn test_env() -> Vec<(String, String)> {
    let mut vars = Vec::new();
    vars.push((env::TEST_CHROMIUM.to_owned(), site_tools::CHROMIUM.to_owned()));
    vars.push((env::TEST_CHROMEDRIVER.to_owned(), site_tools::CHROMEDRIVER.to_owned()));
    let cargo_lambda = site_tools::cargo_lambda_bin(&crate::project_root());
    vars.push((env::TEST_CARGO_LAMBDA_BIN.to_owned(), cargo_lambda.display().to_string()));
    vars
}

fn step(name: &str) {
    eprintln!("\n==> {name}");
}
