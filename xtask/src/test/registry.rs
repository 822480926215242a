//! A local OCI registry for the packaging tests: Debian's `docker-registry` (distribution 2.8),
//! installed when missing, listening on 127.0.0.1 only, storing under `target/registry/`.
//!
//! The packaged systemd service is not used: it listens on all interfaces.

use std::{path::Path, process::Command, time::Duration};

use anyhow::Context;
use xshell::{Shell, cmd};

use super::server::{Server, free_port};

/// A running registry, stopped (by its PID) when dropped, also when the tests fail.
pub(crate) struct Registry(Server);

impl Registry {
    /// Starts the installed registry ([`install`]) on a free port with a fresh store.
    pub(crate) fn start(sh: &Shell) -> anyhow::Result<Registry> {
        let dir = sh.current_dir().join("target/registry");
        let storage = dir.join("storage");
        if storage.exists() {
            std::fs::remove_dir_all(&storage).with_context(|| format!("clearing {}", storage.display()))?;
        }
        std::fs::create_dir_all(&storage).with_context(|| format!("creating {}", storage.display()))?;
        let port = free_port()?;
        let config = dir.join("config.yml");
        std::fs::write(&config, config_yaml(port, &storage))
            .with_context(|| format!("writing {}", config.display()))?;
        let mut command = Command::new("docker-registry");
        command.arg("serve").arg(&config);
        let log = dir.join("registry.log");
        Ok(Registry(Server::start("docker-registry", command, port, "/v2/", &log, Duration::from_secs(30))?))
    }

    pub(crate) fn url(&self) -> String {
        self.0.url()
    }
}

/// Installs the Debian package `docker-registry` if it is missing.
pub(crate) fn install(sh: &Shell) -> anyhow::Result<()> {
    if cmd!(sh, "which docker-registry").quiet().ignore_stdout().ignore_stderr().run().is_ok() {
        return Ok(());
    }
    eprintln!("installing the Debian package docker-registry");
    cmd!(sh, "apt-get update -qq").run().context("apt-get update")?;
    cmd!(sh, "apt-get install -y -qq docker-registry")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()
        .context("installing docker-registry")?;
    Ok(())
}

fn config_yaml(port: u16, storage: &Path) -> String {
    format!(
        "version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {}
http:
  addr: 127.0.0.1:{port}
",
        storage.display()
    )
}
