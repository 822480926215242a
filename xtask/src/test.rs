//! `cargo xtask test`: the whole test suite, the gate before anything lands.
//!
//! Formatting, clippy with warnings denied, then every test of the workspace including the
//! `#[ignore = "needs ..."]` ones, with the tools and servers they need installed and started here.
//! Later steps add their tools (emulator, linters, browser) to `run` and their settings to `test_env`.

use std::{
    fs::File,
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;
use xshell::{Shell, cmd};

use platform::env;

use crate::{flags, site_tools, synth, tools};

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

        site_test_tools(sh)?;
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

        let templates = cloudformation_templates(sh)?;
        cfn_lint(sh, &templates)?;
        checkov(sh, &templates)?;
        Ok(())
    }
}

/// Installs what the functions' browser and Lambda-runtime tests need.
fn site_test_tools(sh: &Shell) -> anyhow::Result<()> {
    step("Chromium and ChromeDriver");
    site_tools::install_browser(sh)?;
    step("cargo-lambda");
    site_tools::install_cargo_lambda(sh)?;
    Ok(())
}

/// Environment for the test run: where the tools and servers started above can be found.
fn test_env(moto: &Moto) -> Vec<(String, String)> {
    let cargo_lambda = site_tools::cargo_lambda_bin(&crate::project_root());
    let vars = [
        (env::TEST_CHROMIUM, site_tools::CHROMIUM.to_owned()),
        (env::TEST_CHROMEDRIVER, site_tools::CHROMEDRIVER.to_owned()),
        (env::TEST_CARGO_LAMBDA_BIN, cargo_lambda.display().to_string()),
        ("AWS_ENDPOINT_URL", moto.endpoint_url()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ];
    vars.into_iter().map(|(name, value)| (name.to_owned(), value)).collect()
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

/// AWS's CloudFormation linter, pinned.
const CFN_LINT: &str = "cfn-lint==1.58.0";
/// The security scanner, pinned; it pins an old boto3, hence its own virtualenv.
const CHECKOV: &str = "checkov==3.3.30";

/// Every template the checkers look at: each stage of `alchemy.toml` synthesized to `target/cfn/`,
/// and the committed snapshots (which `cargo test` just proved current), which include a stage with a domain.
fn cloudformation_templates(sh: &Shell) -> anyhow::Result<Vec<PathBuf>> {
    step("cargo xtask synth (every stage)");
    let config = synth::load_config(sh)?;
    let mut templates = Vec::new();
    for stage in config.stages() {
        templates.extend(synth::write_stage(sh, stage)?.into_iter().map(|it| it.path));
    }
    let snapshots = sh.current_dir().join("stacks/snapshots");
    let mut committed: Vec<PathBuf> = sh
        .read_dir(&snapshots)
        .with_context(|| format!("listing {}", snapshots.display()))?
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    committed.sort();
    anyhow::ensure!(!committed.is_empty(), "no snapshots in {}", snapshots.display());
    templates.extend(committed);
    Ok(templates)
}

/// cfn-lint on every template: any error, warning or informational finding fails; a rule that does
/// not fit is ignored in the resource's `Metadata` by the construct, with its reason.
fn cfn_lint(sh: &Shell, templates: &[PathBuf]) -> anyhow::Result<()> {
    step("cfn-lint");
    let cfn_lint = tools::python_venv(sh, "cfn-lint", &[CFN_LINT])?.join("cfn-lint");
    cmd!(sh, "{cfn_lint} -- {templates...}").run().context("cfn-lint found problems in the templates")?;
    Ok(())
}

/// checkov on every template: any failed check fails; a check that does not fit is skipped in the
/// resource's `Metadata` by the construct, with its reason.
fn checkov(sh: &Shell, templates: &[PathBuf]) -> anyhow::Result<()> {
    step("checkov");
    let checkov = tools::python_venv(sh, "checkov", &[CHECKOV])?.join("checkov");
    let files: Vec<String> = templates.iter().flat_map(|it| ["-f".to_owned(), it.display().to_string()]).collect();
    cmd!(sh, "{checkov} {files...} --framework cloudformation --compact --quiet --skip-download")
        .run()
        .context("checkov failed checks in the templates")?;
    Ok(())
}
