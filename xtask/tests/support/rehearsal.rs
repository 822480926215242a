//! The stage every emulator test of the real stacks starts from: its own stage in a
//! configuration of its own, the synthesized templates as moto can take them, and the values the
//! app stack needs that moto's change sets do not give as outputs. Used by `rehearsal.rs` and
//! `operate.rs`.

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

/// The templates moto is given: the synthesized ones of `stage`, as they are, except app's.
///
/// moto gap: `Fn::GetAtt` on a resource type moto's CloudFormation skips fails the whole stack,
/// and in `Outputs` it is an HTTP 500 (`'NoneType' object has no attribute 'has_cfn_attr'`).
/// The app's `ApiEndpoint` output is `GetAtt Api.ApiEndpoint` on an `AWS::ApiGatewayV2::Api`,
/// which moto skips, so the copy moto gets lacks that one output. Everything else is the
/// synthesized template, byte for byte for bootstrap and network.
pub(crate) fn templates_for_moto(stage: &str, dir: &Path) {
    let synthesized = project_root().join("target/cfn").join(stage);
    for part in ["bootstrap", "network"] {
        std::fs::copy(synthesized.join(format!("{part}.yaml")), dir.join(format!("{part}.yaml"))).unwrap();
    }
    let app = std::fs::read_to_string(synthesized.join("app.yaml")).unwrap();
    let mut app: serde_yaml::Value = serde_yaml::from_str(&app).unwrap();
    let outputs = app.get_mut("Outputs").and_then(|it| it.as_mapping_mut()).unwrap();
    assert!(outputs.remove("ApiEndpoint").is_some(), "the app template has no ApiEndpoint output any more");
    std::fs::write(dir.join("app.yaml"), serde_yaml::to_string(&app).unwrap()).unwrap();
}

/// `cargo xtask deploy` of `stacks` from `templates` with `--parameters FILE`, then `extra`, confirmed.
pub(crate) fn deploy_args<'a>(
    config: &'a str,
    stage: &'a str,
    stacks: &'a str,
    templates: &'a Path,
    parameters: &'a Path,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec!["deploy", "--config", config, "--stage", stage, "--stacks", stacks];
    args.extend(["--templates", templates.to_str().unwrap(), "--parameters", parameters.to_str().unwrap()]);
    args.extend(extra);
    args.push("--yes");
    args
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

/// The app stack's parameters that the bootstrap and network stacks give as outputs, read as
/// their resources' physical ids instead.
///
/// moto gap: ExecuteChangeSet does not evaluate `Outputs`, so the stacks made by deploy have
/// none and cannot feed app's AssetsBucketName, SubnetIds and SecurityGroupId by name. The
/// tests read them as physical ids (which moto does fill) and hand them over with
/// `deploy --parameters`. Against AWS they come from the outputs.
pub(crate) fn moto_stage_parameters(
    runtime: &tokio::runtime::Runtime,
    cfn: &aws_sdk_cloudformation::Client,
    bootstrap: &str,
    network: &str,
) -> BTreeMap<&'static str, String> {
    let (assets, network_ids) =
        runtime.block_on(async { (resources(cfn, bootstrap).await, resources(cfn, network).await) });
    BTreeMap::from([
        ("AssetsBucketName", assets["Assets"].clone()),
        ("SubnetIds", format!("{},{}", network_ids["VpcSubnetA"], network_ids["VpcSubnetB"])),
        ("SecurityGroupId", network_ids["JobSecurityGroup"].clone()),
    ])
}

/// Values packaging would provide (code keys, an image digest), with placeholder zips at those
/// keys in the assets bucket: moto's Lambda reads the zip from S3 when the function is created.
pub(crate) fn placeholder_artifacts(
    runtime: &tokio::runtime::Runtime,
    s3: &aws_sdk_s3::Client,
    assets_bucket: &str,
) -> BTreeMap<&'static str, String> {
    let code_keys = [("SubscribeCodeKey", "functions/subscribe/0000.zip"), ("WebCodeKey", "functions/web/0000.zip")];
    runtime.block_on(async {
        // An empty zip archive: its end-of-central-directory record alone.
        let mut empty_zip = b"PK\x05\x06".to_vec();
        empty_zip.resize(22, 0);
        for (_, key) in code_keys {
            s3.put_object().bucket(assets_bucket).key(key).body(empty_zip.clone().into()).send().await.unwrap();
        }
    });
    let mut parameters: BTreeMap<&'static str, String> = code_keys.iter().map(|(k, v)| (*k, v.to_string())).collect();
    parameters.insert("JobImageDigest", format!("sha256:{}", "ab".repeat(32)));
    parameters
}
