//! The AWS emulator for the emulator tests: `moto_server` on 127.0.0.1, from `target/venv/moto`.

use std::{process::Command, time::Duration};

use xshell::Shell;

use super::server::{Server, free_port};
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
pub(crate) struct Moto(Server);

impl Moto {
    pub(crate) fn start(sh: &Shell) -> anyhow::Result<Moto> {
        let venv_bin = tools::python_venv(sh, "moto", MOTO_REQUIREMENTS)?;
        let port = free_port()?;
        let mut command = Command::new(venv_bin.join("moto_server"));
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let log = sh.current_dir().join("target/moto.log");
        Ok(Moto(Server::start("moto_server", command, port, "/moto-api/data.json", &log, Duration::from_secs(60))?))
    }

    pub(crate) fn endpoint_url(&self) -> String {
        self.0.url()
    }
}
