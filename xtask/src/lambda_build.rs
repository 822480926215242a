//! The cargo-lambda builds of the job and the functions: what `package` ships, and what `cargo
//! xtask test` builds ahead of the tests that package (in the light build, which has no `package`).

use anyhow::Context;
use platform::env;
use xshell::{Shell, cmd};

use crate::{site_tools, tools};

/// The package holding the function binaries, and their names: one zip each.
pub(crate) const FUNCTIONS_PACKAGE: &str = "functions";
pub(crate) const FUNCTION_BINARIES: &[&str] = &["subscribe", "web"];

/// The job's package and binary: the image's entrypoint `/signal`.
pub(crate) const JOB_PACKAGE: &str = "jobs";
pub(crate) const JOB_BINARY: &str = "signal";

/// The job image is built for x86_64 only: it carries this machine's glibc and libraries.
pub(crate) const JOB_TARGET: &str = "x86_64-unknown-linux-gnu";

/// The profile `cargo xtask test` packages with (`Cargo.toml` says what it is).
pub(crate) const TEST_PROFILE: &str = "package-test";

/// Where a build's cargo output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// To this process's output, as it comes.
    Shown,
    /// Kept, and shown only in the error when the build fails (a build beside the tests).
    Kept,
}

/// Builds `binaries` (`(package, binary)` pairs) for `target` with cargo-lambda and `profile`, in one
/// cargo run, without the default features: the functions link no 127.0.0.1 server (`local-server`)
/// and the web function no subscribe API; the job no credential chain beyond what an ECS task has
/// (`credential-chain`). The bootstraps land in `target/lambda/<binary>/bootstrap`.
pub(crate) fn build(
    sh: &Shell,
    target: &str,
    binaries: &[(&str, &str)],
    profile: &str,
    output: Output,
) -> anyhow::Result<()> {
    // The same pinned virtualenv the Lambda-runtime tests use.
    let venv_bin = site_tools::install_cargo_lambda(sh)?;
    let mut args = vec!["--no-default-features".to_owned()];
    for (package, binary) in binaries {
        args.extend(["--package".to_owned(), (*package).to_owned(), "--bin".to_owned(), (*binary).to_owned()]);
    }
    let path = std::env::join_paths(
        std::iter::once(venv_bin.clone()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )?;
    let cargo_lambda = venv_bin.join("cargo-lambda");
    // cargo-lambda moves each binary from cargo's output to `target/lambda/`, outside cargo's lock:
    // two builds at once (two deploys, or `cargo xtask test`'s build beside a test's) would take
    // each other's binaries. One at a time, then.
    let _one_at_a_time = lock(sh)?;
    let build =
        cmd!(sh, "{cargo_lambda} lambda build --profile {profile} --target {target} {args...}").env("PATH", path);
    let context = || format!("building {binaries:?} for {target} with cargo-lambda (profile {profile})");
    match output {
        Output::Shown => {
            eprintln!("{}", context());
            build.run().with_context(context)
        }
        Output::Kept => {
            let out = build.quiet().ignore_status().output().with_context(context)?;
            let stderr = String::from_utf8_lossy(&out.stderr);
            let lines: Vec<&str> = stderr.lines().collect();
            let last = lines[lines.len().saturating_sub(40)..].join("\n");
            anyhow::ensure!(out.status.success(), "{}: {}\n{last}", context(), out.status);
            Ok(())
        }
    }
}

/// Waits for, then holds, the lock of the packaging builds of this target directory.
fn lock(sh: &Shell) -> anyhow::Result<std::fs::File> {
    lock_in(&tools::cargo_target_dir(sh)?.join("lambda"))
}

/// Waits for, then holds, the lock file `.build.lock` in `dir`.
fn lock_in(dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(".build.lock");
    let file = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    file.lock().with_context(|| format!("locking {}", path.display()))?;
    Ok(file)
}

/// The cargo profile of the packaging build, from `ALCHEMY_PACKAGE_PROFILE` ([`profile`]).
pub(crate) fn packaging_profile() -> anyhow::Result<String> {
    profile(std::env::var(env::PACKAGE_PROFILE).ok())
}

/// The cargo profile of the packaging build: `release`, or the one `ALCHEMY_PACKAGE_PROFILE` names
/// (`cargo xtask test` sets [`TEST_PROFILE`]).
fn profile(named: Option<String>) -> anyhow::Result<String> {
    let Some(profile) = named.filter(|it| !it.is_empty()) else {
        return Ok("release".to_owned());
    };
    let valid = profile.chars().all(|it| it.is_ascii_alphanumeric() || it == '-' || it == '_');
    anyhow::ensure!(
        valid,
        "{}={profile:?} is not a cargo profile name (letters, digits, - and _)",
        env::PACKAGE_PROFILE
    );
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_packaging_build_at_a_time_holds_the_target_directorys_lock() {
        // A folder of its own: the target directory's lock may be held by a build beside the tests.
        let dir = tempfile::tempdir().unwrap();
        let held = lock_in(dir.path()).unwrap();
        let other = std::fs::File::open(dir.path().join(".build.lock")).unwrap();
        assert!(other.try_lock().is_err(), "a second build would run beside the first");
        drop(held);
        other.try_lock().expect("free once the first is done");
    }

    #[test]
    fn the_packaging_builds_release_unless_the_tests_name_their_profile_and_refuses_a_strange_name() {
        assert_eq!(profile(None).unwrap(), "release");
        assert_eq!(profile(Some(String::new())).unwrap(), "release");
        assert_eq!(profile(Some(TEST_PROFILE.to_owned())).unwrap(), "package-test");
        let err = profile(Some("release --offline".to_owned())).unwrap_err().to_string();
        assert!(err.contains("ALCHEMY_PACKAGE_PROFILE=\"release --offline\" is not a cargo profile name"), "{err}");
    }
}
