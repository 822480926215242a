//! The tools the tests and the deploy need, installed by xtask itself on a fresh machine.
//!
//! Python tools live in virtualenvs under `target/venv/<name>` and npm packages under
//! `target/node/<name>` (never committed), each with pinned versions, installed once and reused
//! while the pins are unchanged. Debian packages (Chromium, Node.js, ...) come from apt when missing.

use std::path::{Path, PathBuf};

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

/// The `node_modules` folder of `target/node/<name>`, holding exactly what `package_dir`'s
/// `package.json` and `package-lock.json` pin (`npm ci`, no dev dependencies). Installs when the
/// lock file changed; Node.js itself comes from Debian's `nodejs` package when `node` is missing.
pub(crate) fn node_packages(sh: &Shell, name: &str, package_dir: &Path) -> anyhow::Result<PathBuf> {
    let dir = sh.current_dir().join("target/node").join(name);
    let node_modules = dir.join("node_modules");
    let stamp = dir.join("package-lock.stamp");
    let lock = package_dir.join("package-lock.json");
    let wanted = std::fs::read_to_string(&lock).with_context(|| format!("reading {}", lock.display()))?;
    if std::fs::read_to_string(&stamp).is_ok_and(|it| it == wanted) {
        return Ok(node_modules);
    }
    if cmd!(sh, "node --version").quiet().ignore_stderr().read().is_err() {
        install_debian(sh, &["nodejs"], &["/usr/bin/node", "/usr/bin/npm"])?;
    }
    eprintln!("installing the npm packages of {} into {}", package_dir.display(), dir.display());
    sh.create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for file in ["package.json", "package-lock.json"] {
        sh.copy_file(package_dir.join(file), dir.join(file)).with_context(|| format!("copying {file}"))?;
    }
    cmd!(sh, "npm ci --prefix {dir} --omit=dev --no-audit --no-fund --loglevel=error")
        .run()
        .with_context(|| format!("installing the npm packages of {}", package_dir.display()))?;
    std::fs::write(&stamp, wanted).with_context(|| format!("writing {}", stamp.display()))?;
    Ok(node_modules)
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

/// Installs those of `packages` that are missing with apt; then each of `tools` must exist.
pub(crate) fn install_debian(sh: &Shell, packages: &[&str], tools: &[&str]) -> anyhow::Result<()> {
    let missing: Vec<&str> = packages.iter().copied().filter(|it| !is_installed(sh, it)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let listed = missing.join(" ");
    eprintln!("installing {listed} with apt-get");
    cmd!(sh, "apt-get update -qq").run().context("apt-get update")?;
    cmd!(sh, "apt-get install -y -qq --no-install-recommends {missing...}")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()
        .with_context(|| format!("installing {listed}"))?;
    for tool in tools {
        anyhow::ensure!(Path::new(tool).exists(), "{tool} is missing after installing {listed}");
    }
    Ok(())
}

fn is_installed(sh: &Shell, package: &str) -> bool {
    let format = "${Status}";
    let status = cmd!(sh, "dpkg-query -W -f={format} {package}").quiet().ignore_status().ignore_stderr().read();
    status.is_ok_and(|it| it.ends_with("install ok installed"))
}
