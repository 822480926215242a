//! The AWS emulator for the emulator tests: `moto_server` on 127.0.0.1, from `target/venv/moto`.

use std::{
    io::{Read, Write},
    net::{Ipv4Addr, TcpStream},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, format_err};
use xshell::Shell;

use crate::tools;

/// The AWS emulator and what it needs, pinned to what pip resolved for `moto[server]` 5.2.
pub(crate) const MOTO_REQUIREMENTS: &[&str] = &[
    "moto[server]==5.2.5",
    "boto3==1.44.8",
    "botocore==1.44.8",
    "flask==3.1.3",
    "flask-cors==6.0.5",
    "werkzeug==3.1.9",
    "requests==2.34.2",
    "responses==0.26.3",
];

/// A running `moto_server`, stopped (by its PID) when dropped.
pub(crate) struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    pub(crate) fn start(sh: &Shell) -> anyhow::Result<Moto> {
        let venv_bin = tools::python_venv(sh, "moto", MOTO_REQUIREMENTS)?;
        let port = super::registry::free_port()?;
        let log_path = sh.current_dir().join("target/moto.log");
        let log = std::fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
        let child = Command::new(venv_bin.join("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting moto_server")?;
        let mut moto = Moto { child, port };
        let started = Instant::now();
        while !moto.answers() {
            if let Some(status) = moto.child.try_wait()? {
                return Err(format_err!("moto_server exited ({status}); see {}", log_path.display()));
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(format_err!("moto_server did not answer within 60 s; see {}", log_path.display()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("moto_server (pid {}) answers on {}", moto.child.id(), moto.endpoint_url());
        Ok(moto)
    }

    pub(crate) fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)) else {
            return false;
        };
        let request = format!("GET /moto-api/data.json HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n", self.port);
        let mut response = String::new();
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_to_string(&mut response).is_ok()
            && response.starts_with("HTTP/1.")
            && response.contains(" 200 ")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
