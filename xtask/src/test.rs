//! `cargo xtask test`: the whole test suite, the gate before anything lands.
//!
//! Formatting, clippy with warnings denied, then every test of the workspace including the
//! `#[ignore = "needs ..."]` ones, with the tools and servers they need installed and started here,
//! then the template checkers (cfn-lint, checkov, and `policy.rs`: cfn-guard and cdk-nag), which
//! `--policy-only` runs alone.
//! Each tool is installed into `target/` (or by apt, for Chromium and the registry) when missing, and
//! each server is stopped by its PID when the run ends, also when tests fail.

#[cfg(test)]
mod circles;
#[cfg(test)]
mod features;
mod moto;
mod policy;
mod registry;
pub(crate) mod server;
#[cfg(test)]
mod width;

use std::path::PathBuf;

use anyhow::Context;
use platform::env;
use xshell::{Shell, cmd};

use crate::{flags, lambda_build, site_tools, stage, synth, tools};

impl flags::Test {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        if self.policy_only {
            let policy = policy::Policy::install(sh)?;
            return check_templates(sh, &policy);
        }
        // Installing is mostly waiting on the package registries and the disk, checking is all CPU:
        // the installs run beside fmt and clippy, and the tests start when both are done.
        step("installing the test tools (apt, pip, npm) beside fmt and clippy");
        let root = sh.current_dir();
        let installs = std::thread::spawn(move || install_test_tools(&root));
        step("cargo fmt --check");
        cmd!(sh, "cargo fmt --all --check").run()?;
        step("cargo clippy");
        cmd!(sh, "cargo clippy --workspace --all-targets --all-features --locked -- -D warnings").run()?;
        step("waiting for the test tools");
        let tools = installs.join().map_err(|_| anyhow::anyhow!("installing the test tools panicked"))??;
        let (registry, moto) = servers(sh)?;

        step("cargo test: compiling");
        cmd!(sh, "cargo test --workspace --all-features --locked --no-run").run()?;
        // The tests mostly wait (on moto, Chromium, servers); the packaging builds are all CPU. They
        // run beside the tests, so that the ones that package (xtask's, last) find them done.
        step("cargo test, with the packaging builds beside it");
        let root = sh.current_dir();
        let packaging = std::thread::spawn(move || build_packaging(&root));
        let mut tests = cmd!(sh, "cargo test --workspace --all-features --locked -- --include-ignored");
        for (name, value) in test_env(&registry, &moto, &tools.numpy) {
            tests = tests.env(name, value);
        }
        let tested = tests.run();
        let packaged = packaging.join().map_err(|_| anyhow::anyhow!("the packaging builds panicked"))?;
        tested?;
        packaged?;

        check_templates(sh, &tools.policy)
    }
}

/// What the installs made that the run needs to find.
struct TestTools {
    /// The Python with numpy, for the backtest's independent check.
    numpy: PathBuf,
    /// cfn-guard and cdk-nag.
    policy: policy::Policy,
}

/// Installs everything the tests and the checkers use, each skipped when already in place: Chromium
/// and ChromeDriver, the registry and Node with apt (one after the other: apt takes a lock), then
/// cargo-lambda, numpy, moto, cfn-lint and checkov into their virtualenvs, and the policy checkers'
/// npm packages.
fn install_test_tools(root: &std::path::Path) -> anyhow::Result<TestTools> {
    let sh = Shell::new().context("a shell for the installs")?;
    sh.change_dir(root);
    site_tools::install_browser(&sh).context("installing Chromium and ChromeDriver")?;
    registry::install(&sh)?;
    site_tools::install_cargo_lambda(&sh).context("installing cargo-lambda")?;
    let numpy = tools::python_venv(&sh, "numpy", &[NUMPY])?.join("python");
    tools::python_venv(&sh, "moto", moto::MOTO_REQUIREMENTS)?;
    tools::python_venv(&sh, "cfn-lint", &[CFN_LINT])?;
    tools::python_venv(&sh, "checkov", &[CHECKOV])?;
    let policy = policy::Policy::install(&sh)?;
    eprintln!("the test tools are installed");
    Ok(TestTools { numpy, policy })
}

/// The cargo-lambda builds the tests ask for, in [`lambda_build::TEST_PROFILE`] and their order: the
/// job alone (`xtask/src/package/tests.rs`), then the job with the functions (the rehearsal's deploy).
fn build_packaging(root: &std::path::Path) -> anyhow::Result<()> {
    let sh = Shell::new().context("a shell for the packaging builds")?;
    sh.change_dir(root);
    let job = [(lambda_build::JOB_PACKAGE, lambda_build::JOB_BINARY)];
    let functions = lambda_build::FUNCTION_BINARIES.iter().map(|it| (lambda_build::FUNCTIONS_PACKAGE, *it));
    let with_functions: Vec<(&str, &str)> = job.iter().copied().chain(functions).collect();
    let started = std::time::Instant::now();
    for binaries in [&job[..], &with_functions] {
        let (target, profile, kept) =
            (lambda_build::JOB_TARGET, lambda_build::TEST_PROFILE, lambda_build::Output::Kept);
        lambda_build::build(&sh, target, binaries, profile, kept)?;
    }
    eprintln!(
        "\nthe packaging builds ({}) are done after {} s",
        lambda_build::TEST_PROFILE,
        started.elapsed().as_secs()
    );
    Ok(())
}

/// Synthesizes every stage and runs every template checker over those templates and the snapshots.
fn check_templates(sh: &Shell, policy: &policy::Policy) -> anyhow::Result<()> {
    let templates = cloudformation_templates(sh)?;
    cfn_lint(sh, &templates)?;
    checkov(sh, &templates)?;
    step("cfn-guard (AWS Control Tower rules)");
    policy.cfn_guard(sh, &templates)?;
    step("cdk-nag (AwsSolutions)");
    policy.cdk_nag(sh, &templates)?;
    step("done");
    Ok(())
}

/// The servers the tests talk to: a local OCI registry, and moto for S3, SNS, CloudFormation & co.
fn servers(sh: &Shell) -> anyhow::Result<(registry::Registry, moto::Moto)> {
    step("OCI registry (docker-registry on 127.0.0.1)");
    let registry = registry::Registry::start(sh)?;
    step("moto (the AWS emulator)");
    let moto = moto::Moto::start(sh)?;
    Ok((registry, moto))
}

/// Environment for the test run: where the tools and servers started above can be found. The AWS
/// variables point every SDK client at moto with dummy credentials and no instance metadata.
fn test_env(registry: &registry::Registry, moto: &moto::Moto, numpy: &std::path::Path) -> Vec<(String, String)> {
    let cargo_lambda = site_tools::cargo_lambda_bin(&crate::project_root());
    [
        (env::TEST_CHROMIUM, site_tools::CHROMIUM.to_owned()),
        (env::TEST_CHROMEDRIVER, site_tools::CHROMEDRIVER.to_owned()),
        (env::TEST_CARGO_LAMBDA_BIN, cargo_lambda.display().to_string()),
        (env::TEST_NUMPY_PYTHON, numpy.display().to_string()),
        (env::PACKAGE_PROFILE, lambda_build::TEST_PROFILE.to_owned()),
        ("ALCHEMY_TEST_REGISTRY", registry.url()),
        ("AWS_ENDPOINT_URL", moto.endpoint_url()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

/// Starts a step, saying how long the run has taken so far: the figures the CI budget is kept by.
fn step(name: &str) {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let elapsed = START.get_or_init(std::time::Instant::now).elapsed().as_secs();
    eprintln!("\n==> {name} (at {}:{:02})", elapsed / 60, elapsed % 60);
}

/// numpy for the backtest's independent check (`jobs/tests/backtest/check.py`), pinned.
const NUMPY: &str = "numpy==2.3.5";
/// AWS's CloudFormation linter, pinned.
const CFN_LINT: &str = "cfn-lint==1.58.0";
/// The security scanner, pinned; it pins an old boto3, hence its own virtualenv.
const CHECKOV: &str = "checkov==3.3.30";

/// Every template the checkers look at: each stage of `alchemy.toml` synthesized to `target/cfn/`,
/// and the committed snapshots (which `cargo test` just proved current), which include a stage with a domain.
fn cloudformation_templates(sh: &Shell) -> anyhow::Result<Vec<PathBuf>> {
    step("cargo xtask synth (every stage)");
    let config = stage::load(sh, None)?;
    let mut templates = Vec::new();
    for stage in config.stages() {
        // The stacks' templates; an import template is a subset of its stack's.
        let synthesized = synth::write_stage(sh, stage)?;
        templates.extend(synthesized.assembly.stacks.iter().map(|it| synthesized.dir.join(&it.template)));
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
