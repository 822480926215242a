//! A server the tests start as a child process on 127.0.0.1: started, waited for until a probe
//! answers 200, and stopped by its PID when dropped (also when the tests fail).

use std::{
    io::{Read, Write},
    net::{Ipv4Addr, TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, format_err};

/// A running server.
pub(crate) struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Starts `command` (its output to `log`) and waits up to `timeout` for `GET probe` on `port`
    /// to answer 200; `name` says which server in messages.
    pub(crate) fn start(
        name: &str,
        mut command: Command,
        port: u16,
        probe: &str,
        log: &Path,
        timeout: Duration,
    ) -> anyhow::Result<Server> {
        let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let mut server = Server { child, port };
        let started = Instant::now();
        while !server.answers(probe) {
            if let Some(status) = server.child.try_wait()? {
                return Err(format_err!("{name} exited ({status}); see {}", log.display()));
            }
            if started.elapsed() > timeout {
                return Err(format_err!("{name} did not answer within {} s; see {}", timeout.as_secs(), log.display()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("{name} (pid {}) answers on {}", server.child.id(), server.url());
        Ok(server)
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Whether `GET path` gets a 200.
    fn answers(&self, path: &str) -> bool {
        let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)) else {
            return false;
        };
        let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n", self.port);
        let mut response = String::new();
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_to_string(&mut response).is_ok()
            && response.split_whitespace().nth(1) == Some("200")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on now (the OS picks it; the server binds it right after).
pub(crate) fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_is_waited_for_until_it_answers_and_one_that_exits_is_an_error_naming_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port().unwrap();
        let mut python = Command::new("python3");
        python.args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string()]).current_dir(dir.path());
        let log = dir.path().join("http.log");
        let server = Server::start("http.server", python, port, "/", &log, Duration::from_secs(30)).unwrap();
        assert!(server.answers("/"));
        assert!(!server.answers("/nothing-here"), "a 404 is not an answer");
        drop(server);

        let err =
            Server::start("false", Command::new("false"), free_port().unwrap(), "/", &log, Duration::from_secs(30))
                .err()
                .unwrap();
        assert!(err.to_string().starts_with("false exited (exit status: 1); see "), "{err}");
    }
}
