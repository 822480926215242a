//! What the tests that run real processes share: free ports, waiting, tools, children killed on drop.
//! The sample reports they serve come from `test_support::reports`.

#![allow(dead_code, reason = "each test binary uses a part")]

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A port free on 127.0.0.1 right now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Calls `probe` until it returns `Some` or `limit` passes; panics with `what` then.
pub(crate) fn wait_for<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(it) = probe() {
            return it;
        }
        assert!(start.elapsed() < limit, "gave up waiting for {what} after {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `target/<sub>` of the workspace, created.
pub(crate) fn target_dir(sub: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target").join(sub);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A tool's path from the variable `name`, else `default`.
pub(crate) fn tool(name: &str, default: &str) -> PathBuf {
    std::env::var_os(name).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// Starts a tool `cargo xtask test` installs, its output discarded; panics saying so when it cannot start.
pub(crate) fn start_tool(command: &mut Command) -> Running {
    let child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap_or_else(|err| {
        let program = Path::new(command.get_program()).display();
        panic!("cannot start {program} ({err}): install it with `cargo xtask test`")
    });
    Running(child)
}

/// A child process, killed when dropped: also when a test panics before it is done with it.
pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
