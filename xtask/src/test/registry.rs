//! A local OCI registry for the packaging tests: Debian's `docker-registry` (distribution 2.8),
//! installed when missing, listening on 127.0.0.1 only, storing under `target/registry/`.
//!
//! The packaged systemd service is not used: it listens on all interfaces.

use std::{
    io::{Read, Write},
    net::{Ipv4Addr, TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, format_err};
use xshell::{Shell, cmd};

/// A running registry, stopped (by its PID) when dropped, also when the tests fail.
pub(crate) struct Registry {
    child: Child,
    port: u16,
}

impl Registry {
    /// Installs `docker-registry` if needed and starts it on a free port with a fresh store.
    pub(crate) fn start(sh: &Shell) -> anyhow::Result<Registry> {
        if cmd!(sh, "which docker-registry").quiet().ignore_stdout().ignore_stderr().run().is_err() {
            eprintln!("installing the Debian package docker-registry");
            cmd!(sh, "apt-get update -qq").run().context("apt-get update")?;
            cmd!(sh, "apt-get install -y -qq docker-registry")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .run()
                .context("installing docker-registry")?;
        }
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
        let log_path = dir.join("registry.log");
        let log = std::fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting docker-registry")?;
        let mut registry = Registry { child, port };
        let started = Instant::now();
        while !registry.answers() {
            if let Some(status) = registry.child.try_wait()? {
                return Err(format_err!("docker-registry exited ({status}); see {}", log_path.display()));
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format_err!("docker-registry did not answer within 30 s; see {}", log_path.display()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("docker-registry (pid {}) answers on {}", registry.child.id(), registry.url());
        Ok(registry)
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Whether `GET /v2/` gets a 200.
    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)) else {
            return false;
        };
        let request = format!("GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n", self.port);
        let mut response = String::new();
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_to_string(&mut response).is_ok()
            && response.starts_with("HTTP/1.0 200")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

/// A port nobody listens on now (the OS picks it; the registry binds it right after).
pub(crate) fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}
