//! `cargo xtask test`: the whole test suite, the gate before anything lands.
//!
//! Formatting, clippy with warnings denied, then every test of the workspace including the
//! `#[ignore = "needs ..."]` ones, with the tools and servers they need installed and started here.
//! Later steps add their tools (emulator, linters, browser) to `run` and their settings to `test_env`.

use xshell::{Shell, cmd};

use crate::flags;

impl flags::Test {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        step("cargo fmt --check");
        cmd!(sh, "cargo fmt --all --check").run()?;
        step("cargo clippy");
        cmd!(sh, "cargo clippy --workspace --all-targets --locked -- -D warnings").run()?;

        step("cargo test");
        let mut tests = cmd!(sh, "cargo test --workspace --locked -- --include-ignored");
        for (name, value) in test_env() {
            tests = tests.env(name, value);
        }
        tests.run()?;
        Ok(())
    }
}

/// Environment for the test run: where the tools and servers started above can be found.
fn test_env() -> Vec<(String, String)> {
    Vec::new()
}

fn step(name: &str) {
    eprintln!("\n==> {name}");
}
