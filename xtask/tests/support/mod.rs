//! Helpers of the xtask integration tests: run the real `cargo xtask` binary, reach the emulator.

#![allow(dead_code, reason = "each test file uses a part of the helpers")]

pub(crate) mod fake_cloudformation;
pub(crate) mod rehearsal;

use std::{
    path::Path,
    process::{Command, Output, Stdio},
};

/// The moto endpoint `cargo xtask test` started (`AWS_ENDPOINT_URL`); fails loudly without it.
pub(crate) use test_support::moto::endpoint as moto_url;

/// One finished run of `cargo xtask`, its output as text.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) success: bool,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    fn from_output(output: Output) -> Run {
        Run {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs `cargo xtask args...` with no terminal on stdin (or `stdin` piped in), the AWS settings
/// of `env` and nothing else from the AWS environment of the test process.
pub(crate) fn xtask(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    // No shared config files and no instance metadata: only what the test gives counts.
    command.env("AWS_CONFIG_FILE", "/nonexistent/aws-config");
    command.env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials");
    command.env("AWS_EC2_METADATA_DISABLED", "true");
    command.envs(env.iter().copied());
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = command.spawn().expect("starting xtask");
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    Run::from_output(child.wait_with_output().expect("waiting for xtask"))
}

/// Credentials and region for an endpoint (moto or the fake), as `cargo xtask test` sets them.
pub(crate) fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
    ]
}

/// `aws_env` as the borrowed pairs `xtask` takes.
pub(crate) fn pairs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(name, value)| (*name, value.as_str())).collect()
}

/// An input of a hand-written manifest: `(parameter, part, output key)`.
pub(crate) type OutputInput<'a> = (&'a str, &'a str, &'a str);

/// Writes `<dir>/manifest.json` for hand-written templates, as `cargo xtask synth` writes it for
/// synthesized ones: the stacks `(part, inputs)` of `stage` in us-east-1, in the order given,
/// each input `(parameter, part, output key)` an earlier stack's output.
pub(crate) fn write_manifest(dir: &Path, stage: &str, stacks: &[(&str, &[OutputInput<'_>])]) {
    let stacks: Vec<serde_json::Value> = stacks
        .iter()
        .map(|(part, inputs)| {
            let inputs: serde_json::Map<String, serde_json::Value> = inputs
                .iter()
                .map(|(parameter, from, key)| {
                    (parameter.to_string(), serde_json::json!({ "output": { "part": from, "key": key } }))
                })
                .collect();
            serde_json::json!({
                "part": part,
                "stack_name": format!("invest-alchemy-{stage}-{part}"),
                "region": "us-east-1",
                "template": format!("{part}.yaml"),
                "inputs": inputs,
                "outputs": {},
                "resources": {},
                "retained": [],
                "termination_protection": false,
                "adopt": null,
            })
        })
        .collect();
    let manifest = serde_json::json!({ "stage": stage, "region": "us-east-1", "stacks": stacks });
    std::fs::write(dir.join("manifest.json"), serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
}

/// Writes `<dir>/<part>.yaml` with `stage` put in for `STAGE`.
pub(crate) fn write_template(dir: &Path, part: &str, stage: &str, template: &str) {
    std::fs::write(dir.join(format!("{part}.yaml")), template.replace("STAGE", stage)).unwrap();
}

/// A client of a service at the emulator, for checking what the commands did.
pub(crate) async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto_url())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new("test", "test", None, None, "tests"))
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                    aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https(),
        )
        .load()
        .await
}
