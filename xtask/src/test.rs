//! `cargo xtask test`: the whole test suite, the gate before anything lands.
//!
//! Formatting, clippy with warnings denied, then every test of the workspace.

use xshell::{Shell, cmd};

use crate::flags;

impl flags::Test {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        step("cargo fmt --check");
        cmd!(sh, "cargo fmt --all --check").run()?;
        step("cargo clippy");
        cmd!(sh, "cargo clippy --workspace --all-targets --locked -- -D warnings").run()?;
        step("cargo test");
        cmd!(sh, "cargo test --workspace --locked").run()?;
        Ok(())
    }
}

fn step(name: &str) {
    eprintln!("\n==> {name}");
}
