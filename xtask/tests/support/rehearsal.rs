//! The stage every emulator test of the real stacks starts from: its own stage in a
//! configuration of its own, in a region that is not the clients' default. Used by
//! `rehearsal.rs` and `operate.rs`; `operate.rs` also deploys the app stack with placeholder
//! artifacts instead of packaging ([`placeholder_assembly`]).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use super::{aws_env, moto_url, sdk_config, xtask};

/// Not us-east-1 (the region of the test environment's clients and of `cargo xtask test`): the
/// stacks land here only if the stage's region of the configuration is obeyed.
pub(crate) const REGION: &str = "eu-west-1";

pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// The emulator's address and credentials, but no region: it comes from the configuration.
pub(crate) fn env() -> Vec<(&'static str, String)> {
    aws_env(&moto_url()).into_iter().filter(|(name, _)| *name != "AWS_REGION").collect()
}

/// What each test starts from: a stage of its own, its stacks' names, a configuration with that one
/// stage in [`REGION`], and clients of the emulator in that region.
pub(crate) struct Rehearsal {
    pub(crate) stage: String,
    pub(crate) bootstrap: String,
    pub(crate) network: String,
    pub(crate) data: String,
    pub(crate) app: String,
    pub(crate) work: tempfile::TempDir,
    pub(crate) config: PathBuf,
    pub(crate) env: Vec<(&'static str, String)>,
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) sdk: aws_config::SdkConfig,
    pub(crate) cfn: aws_sdk_cloudformation::Client,
    pub(crate) s3: aws_sdk_s3::Client,
}

impl Rehearsal {
    /// The stage is `<prefix><pid>` (1 to 12 lowercase letters or digits), so a rerun against the
    /// same emulator starts afresh: the job repository name is fixed per stage.
    pub(crate) fn new(prefix: &str) -> Rehearsal {
        let stage = format!("{prefix}{}", std::process::id() % 100_000_000);
        let work = tempfile::tempdir().unwrap();
        let config = write_config(work.path(), &stage, "");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let sdk = runtime.block_on(sdk_config()).to_builder().region(aws_config::Region::new(REGION)).build();
        let cfn = aws_sdk_cloudformation::Client::new(&sdk);
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
        Rehearsal {
            bootstrap: format!("invest-alchemy-{stage}-bootstrap"),
            network: format!("invest-alchemy-{stage}-network"),
            data: format!("invest-alchemy-{stage}-data"),
            app: format!("invest-alchemy-{stage}-app"),
            stage,
            work,
            config,
            env: env(),
            runtime,
            sdk,
            cfn,
            s3,
        }
    }
}

/// Writes a configuration with the one stage `stage` in [`REGION`] plus `extra` settings.
pub(crate) fn write_config(dir: &Path, stage: &str, extra: &str) -> PathBuf {
    let file = dir.join(format!("alchemy-{}.toml", extra.len()));
    std::fs::write(&file, format!("[stages.{stage}]\nregion = \"{REGION}\"\n{extra}")).unwrap();
    file
}

pub(crate) fn synth(config: &Path, stage: &str) {
    let run = xtask(&["synth", "--config", config.to_str().unwrap(), "--stage", stage], &[], None);
    assert!(run.success, "{}", run.stderr);
}

/// Physical ids of a stack's resources by logical id.
pub(crate) async fn resources(cfn: &aws_sdk_cloudformation::Client, stack: &str) -> BTreeMap<String, String> {
    let page = cfn.list_stack_resources().stack_name(stack).send().await.unwrap();
    page.stack_resource_summaries()
        .iter()
        .map(|it| {
            (
                it.logical_resource_id().unwrap_or_default().to_owned(),
                it.physical_resource_id().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// A copy of the synthesized stage of `stage` in `dir` whose manifest gives the app stack's
/// artifact parameters as fixed values (placeholder code keys and image digest) instead of
/// packaged artifacts, with placeholder zips at those keys in the assets bucket (moto's Lambda
/// reads the zip when the function is created). For the tests of what runs on a deployed stage,
/// which need no real build; the rehearsal deploys the packaged artifacts.
pub(crate) fn placeholder_assembly(
    runtime: &tokio::runtime::Runtime,
    s3: &aws_sdk_s3::Client,
    assets_bucket: &str,
    stage: &str,
    dir: &Path,
) {
    let synthesized = project_root().join("target/cfn").join(stage);
    for entry in std::fs::read_dir(&synthesized).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let values = BTreeMap::from([
        ("subscribe_zip", "functions/subscribe/0000.zip".to_owned()),
        ("web_zip", "functions/web/0000.zip".to_owned()),
        ("job_image", format!("sha256:{}", "ab".repeat(32))),
    ]);
    let manifest_file = dir.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_file).unwrap()).unwrap();
    for stack in manifest["stacks"].as_array_mut().unwrap() {
        for input in stack["inputs"].as_object_mut().unwrap().values_mut() {
            if let Some(kind) = input.get("artifact").and_then(|it| it.as_str()) {
                *input = serde_json::json!({ "config": values[kind] });
            }
        }
    }
    std::fs::write(&manifest_file, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    runtime.block_on(async {
        // An empty zip archive: its end-of-central-directory record alone.
        let mut empty_zip = b"PK\x05\x06".to_vec();
        empty_zip.resize(22, 0);
        for key in [&values["subscribe_zip"], &values["web_zip"]] {
            s3.put_object().bucket(assets_bucket).key(key).body(empty_zip.clone().into()).send().await.unwrap();
        }
    });
}
