//! The tools the functions' tests and benches need: Debian's Chromium and ChromeDriver (with a CJK
//! font, so the screenshots are readable) for the browser test, cargo-lambda for the Lambda-runtime
//! test, and Debian's wrk for the site bench.

use std::path::{Path, PathBuf};

use xshell::Shell;

use crate::tools;

/// Where Debian installs Chromium.
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
/// Where Debian installs ChromeDriver (package `chromium-driver`).
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The Debian packages of the browser test.
const BROWSER_PACKAGES: &[&str] = &["chromium", "chromium-driver", "fonts-wqy-zenhei"];

/// cargo-lambda and the zig it cross-links with, from PyPI (`cargo install` compiles for too long).
const CARGO_LAMBDA: &[&str] = &["cargo-lambda==1.9.2", "ziglang==0.17.1"];
/// The virtualenv holding cargo-lambda, under `target/venv/`.
const CARGO_LAMBDA_VENV: &str = "cargo-lambda";

/// Installs Chromium, ChromeDriver and a CJK font with apt when any is missing.
pub(crate) fn install_browser(sh: &Shell) -> anyhow::Result<()> {
    tools::install_debian(sh, BROWSER_PACKAGES, &[CHROMIUM, CHROMEDRIVER])
}

/// Installs wrk, the site bench's load generator, with apt when it is missing.
pub(crate) fn install_wrk(sh: &Shell) -> anyhow::Result<()> {
    tools::install_debian(sh, &["wrk"], &["/usr/bin/wrk"])
}

/// Installs cargo-lambda into `target/venv/cargo-lambda` when its pins changed; returns its `bin`.
pub(crate) fn install_cargo_lambda(sh: &Shell) -> anyhow::Result<PathBuf> {
    tools::python_venv(sh, CARGO_LAMBDA_VENV, CARGO_LAMBDA)
}

/// The `bin` folder of the cargo-lambda virtualenv.
pub(crate) fn cargo_lambda_bin(root: &Path) -> PathBuf {
    root.join("target/venv").join(CARGO_LAMBDA_VENV).join("bin")
}
