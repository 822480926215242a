//! `cargo xtask test`: the whole test suite, the gate before anything lands.
//!
//! Formatting, clippy with warnings denied, then every test of the workspace including the
//! `#[ignore = "needs ..."]` ones, with the tools and servers they need installed and started here.
//! Later steps add their tools (emulator, linters, browser) to `run` and their settings to `test_env`.

mod moto;
mod registry;

use xshell::{Shell, cmd};

use crate::flags;

impl flags::Test {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        step("cargo fmt --check");
        cmd!(sh, "cargo fmt --all --check").run()?;
        step("cargo clippy");
        cmd!(sh, "cargo clippy --workspace --all-targets --locked -- -D warnings").run()?;

        let (registry, moto) = package_servers(sh)?;

        step("cargo test");
        let mut tests = cmd!(sh, "cargo test --workspace --locked -- --include-ignored");
        for (name, value) in test_env().into_iter().chain(package_env(&registry, &moto)) {
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

/// The servers the packaging tests need: a local OCI registry, and moto for the assets bucket.
fn package_servers(sh: &Shell) -> anyhow::Result<(registry::Registry, moto::Moto)> {
    step("OCI registry (docker-registry on 127.0.0.1)");
    let registry = registry::Registry::start(sh)?;
    step("moto (the AWS emulator)");
    let moto = moto::Moto::start(sh)?;
    Ok((registry, moto))
}

/// Where the packaging tests find the registry and the emulator.
fn package_env(registry: &registry::Registry, moto: &moto::Moto) -> Vec<(String, String)> {
    [
        ("ALCHEMY_TEST_REGISTRY", registry.url()),
        ("AWS_ENDPOINT_URL", moto.endpoint_url()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

fn step(name: &str) {
    eprintln!("\n==> {name}");
}
