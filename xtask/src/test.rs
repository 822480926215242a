//! `cargo xtask test`: the whole test suite, the gate before anything lands.
//!
//! Formatting, clippy with warnings denied, then every test of the workspace including the
//! `#[ignore = "needs ..."]` ones, with the tools and servers they need installed and started here.
//! Later steps add their tools (emulator, linters, browser) to `run` and their settings to `test_env`.

use std::{
    fs::File,
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;
use xshell::{Shell, cmd};

use crate::{flags, tools};

/// The AWS emulator and what it needs, pinned to what pip resolved for `moto[server]` 5.2.
const MOTO_REQUIREMENTS: &[&str] = &[
    "moto[server]==5.2.5",
    "boto3==1.44.8",
    "botocore==1.44.8",
    "flask==3.1.3",
    "flask-cors==6.0.5",
    "werkzeug==3.1.9",
    "requests==2.34.2",
    "responses==0.26.3",
];

impl flags::Test {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        step("cargo fmt --check");
        cmd!(sh, "cargo fmt --all --check").run()?;
        step("cargo clippy");
        cmd!(sh, "cargo clippy --workspace --all-targets --locked -- -D warnings").run()?;

        step("moto (the AWS emulator)");
        let moto_bin = tools::python_venv(sh, "moto", MOTO_REQUIREMENTS)?;
        // Stopped when this guard drops: after the tests, and also when they fail.
        let moto = Moto::start(&moto_bin, &sh.current_dir().join("target/moto.log"))?;

        step("cargo test");
        let mut tests = cmd!(sh, "cargo test --workspace --locked -- --include-ignored");
        for (name, value) in test_env(&moto) {
            tests = tests.env(name, value);
        }
        tests.run()?;
        Ok(())
    }
}

/// Environment for the test run: where the tools and servers started above can be found.
fn test_env(moto: &Moto) -> Vec<(String, String)> {
    let aws = [
        ("AWS_ENDPOINT_URL", moto.endpoint_url()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ];
    aws.into_iter().map(|(name, value)| (name.to_owned(), value)).collect()
}

/// A running `moto_server` on 127.0.0.1, stopped (by its PID) when dropped.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    /// Starts the server from the virtualenv's `bin` on a free port and waits until it answers.
    fn start(venv_bin: &Path, log: &Path) -> anyhow::Result<Moto> {
        let port = free_port()?;
        let log_file = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let child = Command::new(venv_bin.join("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .context("starting moto_server")?;
        let mut moto = Moto { child, port };
        let started = Instant::now();
        while !moto.answers() {
            if let Some(status) = moto.child.try_wait()? {
                anyhow::bail!("moto_server exited ({status}) before answering; see {}", log.display());
            }
            if started.elapsed() > Duration::from_secs(60) {
                anyhow::bail!("moto_server did not answer within 60 s; see {}", log.display());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("moto_server (pid {}) answers on {}", moto.child.id(), moto.endpoint_url());
        Ok(moto)
    }

    fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Whether `GET /moto-api/data.json` gets a 200.
    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let request = format!("GET /moto-api/data.json HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n", self.port);
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut head = [0; 12];
        stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // `Child::kill` signals exactly this PID; `wait` reaps it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago: bind port 0 on 127.0.0.1 and let it go.
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

fn step(name: &str) {
    eprintln!("\n==> {name}");
}
