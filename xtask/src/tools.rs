//! The tools the tests and the deploy need, installed by xtask itself on a fresh machine.
//!
//! Python tools live in virtualenvs under `target/venv/<name>` (never committed), each with pinned
//! versions, created once and reused while the pins are unchanged.

use std::path::PathBuf;

use anyhow::Context;
use xshell::{Shell, cmd};

/// The `bin` folder of a virtualenv `target/venv/<name>` holding exactly `requirements` (pinned
/// `name==version` specs). Creates or refreshes it when the pins changed.
pub(crate) fn python_venv(sh: &Shell, name: &str, requirements: &[&str]) -> anyhow::Result<PathBuf> {
    let dir = sh.current_dir().join("target/venv").join(name);
    let bin = dir.join("bin");
    let stamp = dir.join("requirements.stamp");
    let wanted = requirements.join("\n");
    if std::fs::read_to_string(&stamp).is_ok_and(|it| it == wanted) {
        return Ok(bin);
    }
    eprintln!("installing {} into {}", requirements.join(" "), dir.display());
    if !bin.join("pip").exists() {
        cmd!(sh, "python3 -m venv {dir}")
            .run()
            .with_context(|| format!("creating the virtualenv {}", dir.display()))?;
    }
    let pip = bin.join("pip");
    cmd!(sh, "{pip} install --quiet --disable-pip-version-check {requirements...}")
        .run()
        .with_context(|| format!("installing {} with pip", requirements.join(" ")))?;
    std::fs::write(&stamp, wanted).with_context(|| format!("writing {}", stamp.display()))?;
    Ok(bin)
}

/// Where cargo puts what it builds: its `target_directory` (`CARGO_TARGET_DIR`, `build.target-dir`,
/// or `target/` of the workspace).
pub(crate) fn cargo_target_dir(sh: &Shell) -> anyhow::Result<PathBuf> {
    let metadata = cmd!(sh, "cargo metadata --format-version 1 --no-deps --offline")
        .quiet()
        .read()
        .context("asking cargo metadata for the target directory")?;
    let metadata: serde_json::Value = serde_json::from_str(&metadata).context("reading cargo metadata's answer")?;
    let dir = metadata["target_directory"].as_str().context("cargo metadata gave no target_directory")?;
    Ok(PathBuf::from(dir))
}
