//! `cargo xtask deploy / diff / destroy / secret / run-job` through the real binary: against
//! moto (started by `cargo xtask test`) for the flows, and against a scripted CloudFormation
//! endpoint for the failures moto cannot produce.
//!
//! Each moto test uses its own stage, so they can run in parallel against one emulator.

mod support;

use std::time::Instant;

use support::{
    aws_env,
    fake_cloudformation::{Execution, FakeCloudFormation},
    moto_url, pairs, sdk_config, write_manifest, write_template, xtask,
};

/// A network stack whose outputs feed the app stack's parameters.
const NETWORK: &str = include_str!("fixtures/network.yaml");

/// A bootstrap stack without parameters: its "no changes" comes as a FAILED change set.
const BOOTSTRAP: &str = include_str!("fixtures/bootstrap.yaml");

/// A small app stack: a topic, a retained bucket, a setting and a parameter from the network stack.
const APP: &str = include_str!("fixtures/app.yaml");

/// Writes app.yaml for `stage` with the app's setting `setting`, and creates its network stack.
///
/// moto gap: a stack made by executing a change set has no outputs in moto (ExecuteChangeSet
/// does not evaluate `Outputs`), so a network stack deployed by xtask could not feed the app
/// stack's `SubnetIds`. The test creates the network stack with CreateStack, which moto does
/// evaluate, and deploys the app stack through xtask, which reads the network's outputs.
fn templates(stage: &str, setting: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_template(dir.path(), "bootstrap", stage, BOOTSTRAP);
    write_template(dir.path(), "app", stage, &APP.replace("SETTING", setting));
    write_manifest(
        dir.path(),
        stage,
        &[("bootstrap", &[]), ("network", &[]), ("app", &[("SubnetIds", "network", "SubnetIds")])],
    );
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let cfn = aws_sdk_cloudformation::Client::new(&sdk_config().await);
        let name = format!("invest-alchemy-{stage}-network");
        let exists = cfn.describe_stacks().stack_name(&name).send().await.is_ok();
        if !exists {
            cfn.create_stack().stack_name(&name).template_body(NETWORK.replace("STAGE", stage)).send().await.unwrap();
        }
    });
    dir
}

/// A folder with a one-topic app template, and the arguments deploying it from there.
type OneTopicApp = (tempfile::TempDir, Vec<String>);

/// A folder with a one-topic app template for `stage`, and the arguments deploying it from there.
fn one_topic_app(stage: &str) -> OneTopicApp {
    let dir = tempfile::tempdir().unwrap();
    write_template(dir.path(), "app", stage, "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n");
    write_manifest(dir.path(), stage, &[("app", &[])]);
    let templates = dir.path().to_str().unwrap().to_owned();
    let args = ["deploy", "--stage", stage, "--stacks", "app", "--templates", &templates].map(str::to_owned).to_vec();
    (dir, args)
}

/// The fake CloudFormation with the stack in `status` (none: no stack yet) and `execution`, the
/// one-topic app template for `stage`, and the environment pointing at the fake.
fn against_the_fake(
    status: Option<&'static str>,
    execution: Execution,
    stage: &str,
) -> (FakeCloudFormation, OneTopicApp, Vec<(&'static str, String)>) {
    let fake = FakeCloudFormation::start(status, execution);
    let env = aws_env(&fake.url);
    (fake, one_topic_app(stage), env)
}

/// `args` as `&str`s, with `extra` after them.
fn with<'a>(args: &'a [String], extra: &[&'a str]) -> Vec<&'a str> {
    args.iter().map(String::as_str).chain(extra.iter().copied()).collect()
}

/// What `run` returned, and how long it took.
fn timed<T>(run: impl FnOnce() -> T) -> (T, std::time::Duration) {
    let started = Instant::now();
    (run(), started.elapsed())
}

/// Deploys the app stack of `stage` with its setting `v1`, and checks that it worked.
fn deployed_v1(stage: &str) {
    let run = deploy(stage, templates(stage, "v1").path());
    assert!(run.success, "{}", run.stderr);
}

fn deploy(stage: &str, dir: &std::path::Path) -> support::Run {
    deploy_stacks(stage, "app", dir)
}

fn deploy_stacks(stage: &str, stacks: &str, dir: &std::path::Path) -> support::Run {
    let env = aws_env(&moto_url());
    let dir = dir.to_str().unwrap();
    xtask(&["deploy", "--stage", stage, "--stacks", stacks, "--templates", dir, "--yes"], &pairs(&env), None)
}

#[test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
fn deploy_creates_the_stacks_saves_the_outputs_and_a_second_deploy_has_no_changes() {
    let stage = "tnoop";
    let dir = templates(stage, "v1");

    let (first, full) = timed(|| deploy_stacks(stage, "bootstrap,app", dir.path()));
    assert!(first.success, "{}", first.stderr);
    // The app's SubnetIds parameter came from the network's output: moto refuses to execute a change set
    // that leaves a parameter without a default unset.
    assert!(first.stderr.contains("invest-alchemy-tnoop-app: 3 to add, 0 to modify, 0 to remove"), "{}", first.stderr);
    assert!(first.stderr.contains("CREATE_COMPLETE"), "{}", first.stderr);
    // moto gap (see `templates`): the app stack's outputs are empty, so only the file's shape is checked here;
    // the fake CloudFormation test checks that outputs are printed.
    let saved = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/outputs/tnoop.json")).unwrap();
    let saved: serde_json::Value = serde_json::from_str(&saved).unwrap();
    assert!(saved["invest-alchemy-tnoop-app"].is_object(), "{saved}");

    let (second, no_op) = timed(|| deploy_stacks(stage, "bootstrap,app", dir.path()));
    assert!(second.success, "{}", second.stderr);
    assert!(second.stderr.contains("invest-alchemy-tnoop-bootstrap: no changes"), "{}", second.stderr);
    assert!(second.stderr.contains("invest-alchemy-tnoop-app: no changes"), "{}", second.stderr);
    eprintln!("deploy of 2 stacks: {full:?}; no-op deploy: {no_op:?}");

    // The empty change sets were deleted. moto gap: it keeps executed change sets (CloudFormation
    // drops them) and lists every stack's, so only this stage's unexecuted ones count.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let left: Vec<String> = runtime.block_on(async {
        let cfn = aws_sdk_cloudformation::Client::new(&sdk_config().await);
        let res = cfn.list_change_sets().stack_name("invest-alchemy-tnoop-bootstrap").send().await.unwrap();
        res.summaries()
            .iter()
            .filter(|it| it.stack_name().is_some_and(|name| name.starts_with("invest-alchemy-tnoop-")))
            .filter(|it| it.execution_status().is_none_or(|status| status.as_str() != "EXECUTE_COMPLETE"))
            .map(|it| format!("{:?}", it.change_set_name()))
            .collect()
    });
    assert!(left.is_empty(), "change sets left: {left:?}");
}

#[test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
fn a_template_change_makes_a_change_set_that_modifies_only_what_changed() {
    let stage = "tmodify";
    deployed_v1(stage);

    let second = deploy(stage, templates(stage, "v2").path());

    assert!(second.success, "{}", second.stderr);
    assert!(
        second.stderr.contains("invest-alchemy-tmodify-app: 0 to add, 1 to modify, 0 to remove"),
        "{}",
        second.stderr
    );
    assert!(second.stderr.contains("~ Setting AWS::SSM::Parameter"), "{}", second.stderr);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let value = runtime.block_on(async {
        let ssm = aws_sdk_ssm::Client::new(&sdk_config().await);
        let res = ssm.get_parameter().name("/invest-alchemy/tmodify/setting").send().await.unwrap();
        res.parameter().unwrap().value().unwrap().to_owned()
    });
    assert_eq!(value, "v2");
}

#[test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
fn diff_shows_the_changes_and_leaves_no_change_set_or_stack_behind() {
    let stage = "tdiff";
    let dir = templates(stage, "v1");
    let env = aws_env(&moto_url());
    let path = dir.path().to_str().unwrap();

    let run = xtask(&["diff", "--stage", stage, "--stacks", "app", "--templates", path], &pairs(&env), None);

    assert!(run.success, "{}", run.stderr);
    assert!(run.stderr.contains("invest-alchemy-tdiff-app: 3 to add, 0 to modify, 0 to remove"), "{}", run.stderr);
    assert!(run.stderr.contains("+ Reports AWS::S3::Bucket"), "{}", run.stderr);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let exists = runtime.block_on(async {
        let cfn = aws_sdk_cloudformation::Client::new(&sdk_config().await);
        cfn.describe_stacks().stack_name("invest-alchemy-tdiff-app").send().await.is_ok_and(|it| {
            it.stacks().iter().any(|s| s.stack_status().is_some_and(|s| s.as_str() != "DELETE_COMPLETE"))
        })
    });
    assert!(!exists, "the diff left a stack behind");
}

#[test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
fn destroy_deletes_the_stacks_and_keeps_the_reports_bucket_with_its_objects() {
    let stage = "tdestroy";
    deployed_v1(stage);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let config = runtime.block_on(sdk_config());
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build());
    runtime.block_on(async {
        s3.put_object()
            .bucket("invest-alchemy-tdestroy-reports")
            .key("reports/dma-11-22/20261127.txt")
            .body(b"history".to_vec().into())
            .send()
            .await
            .unwrap();
    });

    let env = aws_env(&moto_url());
    let run = xtask(&["destroy", "--stage", stage, "--yes"], &pairs(&env), None);

    assert!(run.success, "{}", run.stderr);
    assert!(run.stderr.contains("keep   Reports AWS::S3::Bucket invest-alchemy-tdestroy-reports"), "{}", run.stderr);
    assert!(run.stderr.contains("delete Topic AWS::SNS::Topic"), "{}", run.stderr);
    assert!(run.stderr.contains("invest-alchemy-tdestroy-app: deleted"), "{}", run.stderr);
    assert!(run.stderr.contains("invest-alchemy-tdestroy-network: deleted"), "{}", run.stderr);
    assert!(run.stderr.contains("kept Reports AWS::S3::Bucket invest-alchemy-tdestroy-reports"), "{}", run.stderr);
    let (stacks_left, body) = runtime.block_on(async {
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        let left = cfn.describe_stacks().stack_name("invest-alchemy-tdestroy-app").send().await.is_ok_and(|it| {
            it.stacks().iter().any(|s| s.stack_status().is_some_and(|s| s.as_str() != "DELETE_COMPLETE"))
        });
        let object = s3
            .get_object()
            .bucket("invest-alchemy-tdestroy-reports")
            .key("reports/dma-11-22/20261127.txt")
            .send()
            .await
            .unwrap();
        (left, object.body.collect().await.unwrap().into_bytes())
    });
    assert!(!stacks_left);
    assert_eq!(&body[..], b"history");

    // Destroying again is safe: there is nothing left to delete.
    let again = xtask(&["destroy", "--stage", stage, "--yes"], &pairs(&env), None);
    assert!(again.success, "{}", again.stderr);
    assert!(again.stderr.contains("nothing to destroy"), "{}", again.stderr);
}

#[test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
fn secret_set_stores_a_secure_string_and_never_prints_the_value() {
    let env = aws_env(&moto_url());
    let token = "tok-3f9a1c-very-secret";

    let run =
        xtask(&["secret", "set", "tushare-token", "--stage", "tsecret"], &pairs(&env), Some(&format!("{token}\n")));

    assert!(run.success, "{}", run.stderr);
    assert!(run.stderr.contains("stored /invest-alchemy/tsecret/tushare-token (SecureString)"), "{}", run.stderr);
    assert!(!run.stdout.contains(token) && !run.stderr.contains(token), "the token was printed");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (kind, value) = runtime.block_on(async {
        let ssm = aws_sdk_ssm::Client::new(&sdk_config().await);
        let res = ssm
            .get_parameter()
            .name("/invest-alchemy/tsecret/tushare-token")
            .with_decryption(true)
            .send()
            .await
            .unwrap();
        let parameter = res.parameter().unwrap();
        (parameter.r#type().unwrap().as_str().to_owned(), parameter.value().unwrap().to_owned())
    });
    assert_eq!(kind, "SecureString");
    assert_eq!(value, token);

    // Setting it again overwrites.
    let again = xtask(&["secret", "set", "tushare-token", "--stage", "tsecret"], &pairs(&env), Some("second"));
    assert!(again.success, "{}", again.stderr);
}

#[test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
fn secret_set_stores_a_channels_variable_the_stage_references_and_refuses_any_other() {
    let env = aws_env(&moto_url());
    let dir = tempfile::tempdir().unwrap();
    let channels = "site_url = \"https://a.example/\"\n[[channel]]\nname = \"tg\"\nkind = \"telegram\"\n\
                    token = \"${TG_TOKEN}\"\nchat_id = \"-1\"\n";
    std::fs::write(dir.path().join("channels.toml"), channels).unwrap();
    let config = dir.path().join("alchemy.toml");
    std::fs::write(&config, "[stages.tchan]\nregion = \"us-east-1\"\nchannels = \"channels.toml\"\n").unwrap();
    let config = config.to_str().unwrap();
    let token = "123456:tg-very-secret";

    let run = xtask(&["secret", "set", "TG_TOKEN", "--stage", "tchan", "--config", config], &pairs(&env), Some(token));
    assert!(run.success, "{}", run.stderr);
    assert!(run.stderr.contains("stored /invest-alchemy/tchan/channels/TG_TOKEN (SecureString)"), "{}", run.stderr);
    assert!(!run.stdout.contains(token) && !run.stderr.contains(token), "the secret was printed");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let value = runtime.block_on(async {
        let ssm = aws_sdk_ssm::Client::new(&sdk_config().await);
        let res = ssm
            .get_parameter()
            .name("/invest-alchemy/tchan/channels/TG_TOKEN")
            .with_decryption(true)
            .send()
            .await
            .unwrap();
        res.parameter().unwrap().value().unwrap().to_owned()
    });
    assert_eq!(value, token);

    let other = xtask(&["secret", "set", "WX_KEY", "--stage", "tchan", "--config", config], &pairs(&env), Some("x"));
    assert!(!other.success);
    assert!(
        other
            .stderr
            .contains("the channels file of stage tchan does not reference ${WX_KEY} (it references: TG_TOKEN)"),
        "{}",
        other.stderr
    );
}

#[test]
fn a_failed_create_names_the_failing_resource_and_its_reason_and_exits_non_zero() {
    let failure = Execution::FailsOn { logical_id: "Reports", reason: "bucket name taken" };
    let (_fake, (_dir, args), env) = against_the_fake(None, failure, "tfail");

    let run = xtask(&with(&args, &["--yes"]), &pairs(&env), None);

    assert!(!run.success);
    let last_line = run.stderr.lines().rev().find(|it| it.starts_with("error:")).unwrap_or_default();
    assert!(
        last_line.contains(
            "ended in ROLLBACK_COMPLETE; first failure: Reports (AWS::S3::Bucket) CREATE_FAILED: bucket name taken"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("the next deploy offers to delete the empty stack"), "{}", run.stderr);
}

#[test]
fn a_stack_left_in_rollback_complete_is_deleted_and_created_again() {
    let (fake, (_dir, args), env) = against_the_fake(Some("ROLLBACK_COMPLETE"), Execution::Succeeds, "trollback");

    // Without a terminal and without --yes it stops at the question.
    let refused = xtask(&with(&args, &[]), &pairs(&env), None);
    assert!(!refused.success);
    assert!(
        refused.stderr.contains("stdin is not a terminal: run it in a terminal or pass --yes"),
        "{}",
        refused.stderr
    );
    assert!(!fake.calls().contains(&"DeleteStack".to_owned()));

    let run = xtask(&with(&args, &["--yes"]), &pairs(&env), None);

    assert!(run.success, "{}", run.stderr);
    assert!(run.stderr.contains("in ROLLBACK_COMPLETE after a failed first create"), "{}", run.stderr);
    let calls = fake.calls();
    let delete = calls.iter().position(|it| it == "DeleteStack").expect("the stack was deleted");
    let create = calls.iter().position(|it| it == "CreateChangeSet CREATE").expect("a CREATE change set");
    assert!(delete < create, "{calls:?}");
    assert!(calls.contains(&"ExecuteChangeSet".to_owned()), "{calls:?}");
    assert!(run.stdout.contains("TopicArn = arn:aws:sns:us-east-1:123456789012:t"), "{}", run.stdout);
}

#[test]
fn an_update_is_followed_to_its_end_even_when_the_status_is_slow_to_change() {
    // The stack is UPDATE_COMPLETE from last time, and right after ExecuteChangeSet it still says so.
    let (fake, (_dir, args), env) = against_the_fake(Some("UPDATE_COMPLETE"), Execution::SucceedsLate, "tlate");

    let run = xtask(&with(&args, &["--yes"]), &pairs(&env), None);

    assert!(run.success, "{}", run.stderr);
    assert!(fake.calls().contains(&"CreateChangeSet UPDATE".to_owned()), "{:?}", fake.calls());
    // The resources' events were waited for and shown, not skipped by the stale status.
    assert!(run.stderr.contains("CREATE_COMPLETE              Reports AWS::S3::Bucket"), "{}", run.stderr);
}

#[test]
fn missing_credentials_give_a_clear_one_line_message() {
    let (_dir, args) = one_topic_app("tcreds");

    let run = xtask(
        &with(&args, &["--yes"]),
        &[("AWS_REGION", "us-east-1"), ("AWS_ENDPOINT_URL", "http://127.0.0.1:9")],
        None,
    );

    assert!(!run.success);
    let errors: Vec<&str> = run.stderr.lines().filter(|it| it.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(errors[0].starts_with("error: no AWS credentials found"), "{}", run.stderr);
    assert!(errors[0].contains("aws configure"), "{}", run.stderr);
}

#[test]
fn destroy_without_a_terminal_and_without_yes_fails_at_once() {
    // An endpoint that does not answer: the command must fail before any request.
    let env = aws_env("http://127.0.0.1:9");

    let started = Instant::now();
    let run = xtask(&["destroy", "--stage", "tnotty"], &pairs(&env), None);

    assert!(!run.success);
    assert!(
        run.stderr.contains(concat!(
            "destroying stage tnotty needs confirmation, but stdin is not a terminal: ",
            "run it in a terminal or pass --yes"
        )),
        "{}",
        run.stderr
    );
    assert!(started.elapsed().as_secs() < 10, "it waited");
}

#[test]
fn deploying_a_protected_stage_without_a_terminal_and_without_yes_fails_at_once() {
    let env = aws_env("http://127.0.0.1:9");
    let (_dir, args) = one_topic_app("prod");

    let run = xtask(&with(&args, &[]), &pairs(&env), None);

    assert!(!run.success);
    assert!(run.stderr.contains("deploying the protected stage prod needs confirmation"), "{}", run.stderr);
}

#[test]
fn every_command_has_help() {
    for command in [&["deploy"][..], &["diff"], &["destroy"], &["run-job"], &["secret", "set"]] {
        let run = xtask(&[command, &["--help"]].concat(), &[], None);
        assert!(run.success, "{command:?}: {}", run.stderr);
        assert!(run.stdout.contains("--stage") && run.stdout.contains("--endpoint-url"), "{command:?}: {}", run.stdout);
    }
}

/// A network and an app stack holding what `run-job` reads: subnets, security group, cluster, task definition.
const RUN_JOB_NETWORK: &str = "\
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.8.0.0/16
  Subnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: 10.8.0.0/24
  JobSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: the job
      VpcId: !Ref Vpc
Outputs:
  SubnetIds:
    Value: !Ref Subnet
  SecurityGroupId:
    Value: !GetAtt JobSecurityGroup.GroupId
";

const RUN_JOB_APP: &str = "\
Resources:
  Cluster:
    Type: AWS::ECS::Cluster
    Properties:
      ClusterName: invest-alchemy-STAGE
  Job:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: invest-alchemy-STAGE-job
      RequiresCompatibilities: [FARGATE]
      NetworkMode: awsvpc
      Cpu: '256'
      Memory: '512'
      ContainerDefinitions:
        - Name: signal
          # moto gap: RunTask fails (HTTP 500) without a container-level Memory.
          Memory: 512
          Image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/invest-alchemy-STAGE-job@sha256:0000000000000000000000000000000000000000000000000000000000000000
          LogConfiguration:
            LogDriver: awslogs
            Options:
              awslogs-group: /invest-alchemy/STAGE/job
              awslogs-region: us-east-1
              awslogs-stream-prefix: job
Outputs:
  ClusterName:
    Value: !Ref Cluster
  JobTaskDefinitionArn:
    Value: !Ref Job
";

#[test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
fn run_job_backfill_starts_a_spot_task_in_the_stack_network_without_publishing() {
    let stage = "trunjob";
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let config = runtime.block_on(sdk_config());
    // moto gap (see `templates`): stacks made through change sets have no outputs in moto, and
    // run-job reads outputs, so the test creates both stacks with CreateStack.
    runtime.block_on(async {
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        for (part, template) in [("network", RUN_JOB_NETWORK), ("app", RUN_JOB_APP)] {
            if cfn.describe_stacks().stack_name(format!("invest-alchemy-{stage}-{part}")).send().await.is_ok() {
                continue;
            }
            cfn.create_stack()
                .stack_name(format!("invest-alchemy-{stage}-{part}"))
                .template_body(template.replace("STAGE", stage))
                .send()
                .await
                .unwrap();
        }
    });
    let env = aws_env(&moto_url());
    // run-job reads the stage's assembly: the stage is in a configuration of its own.
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("alchemy.toml");
    std::fs::write(&config_file, format!("[stages.{stage}]\nregion = \"us-east-1\"\n")).unwrap();
    let config_arg = config_file.to_str().unwrap();

    let run = xtask(&["run-job", "--stage", stage, "--config", config_arg, "--backfill", "30"], &pairs(&env), None);

    assert!(run.success, "{}", run.stderr);
    assert!(run.stdout.contains("arguments: --last 30 --no-publish"), "{}", run.stdout);
    assert!(run.stdout.contains("log group: /invest-alchemy/trunjob/job"), "{}", run.stdout);
    let task_arn = run.stdout.lines().find_map(|it| it.strip_prefix("task:")).unwrap().trim().to_owned();
    let task = runtime.block_on(async {
        let ecs = aws_sdk_ecs::Client::new(&config);
        let res = ecs.describe_tasks().cluster("invest-alchemy-trunjob").tasks(&task_arn).send().await.unwrap();
        res.tasks().first().cloned().unwrap()
    });
    assert_eq!(task.capacity_provider_name(), Some("FARGATE_SPOT"));
    let command = task.overrides().unwrap().container_overrides().first().unwrap().command().to_vec();
    assert_eq!(command, ["--last", "30", "--no-publish"]);
    assert_eq!(task.started_by(), Some("cargo-xtask-run-job"));
}

/// A bootstrap stack as the real one: an assets bucket and an image repository, both deleted with the stack.
const BOOTSTRAP_WITH_REPOSITORY: &str = "\
Resources:
  Assets:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: invest-alchemy-STAGE-assets
  JobRepository:
    Type: AWS::ECR::Repository
    Properties:
      RepositoryName: invest-alchemy-STAGE-job
";

#[test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
fn destroy_all_with_purge_data_empties_and_deletes_everything() {
    let stage = "tpurge";
    let dir = templates(stage, "v1");
    write_template(dir.path(), "bootstrap", stage, BOOTSTRAP_WITH_REPOSITORY);
    let deployed = deploy_stacks(stage, "bootstrap,app", dir.path());
    assert!(deployed.success, "{}", deployed.stderr);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let config = runtime.block_on(sdk_config());
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build());
    let ecr = aws_sdk_ecr::Client::new(&config);
    runtime.block_on(async {
        for bucket in ["invest-alchemy-tpurge-assets", "invest-alchemy-tpurge-reports"] {
            s3.put_object().bucket(bucket).key("some/key").body(b"x".to_vec().into()).send().await.unwrap();
        }
        let manifest = concat!(
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
            r#""config":{"mediaType":"application/vnd.oci.image.config.v1+json","#,
            r#""digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":2},"#,
            r#""layers":[]}"#,
        );
        ecr.put_image()
            .repository_name("invest-alchemy-tpurge-job")
            .image_manifest(manifest)
            .image_tag("latest")
            .send()
            .await
            .unwrap();
    });
    let env = aws_env(&moto_url());

    let run = xtask(&["destroy", "--stage", stage, "--all", "--purge-data", "--yes"], &pairs(&env), None);

    assert!(run.success, "{}", run.stderr);
    assert!(run.stderr.contains("delete Reports AWS::S3::Bucket"), "{}", run.stderr);
    assert!(
        run.stderr.contains("emptied bucket invest-alchemy-tpurge-assets (1 objects and versions)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("deleted 1 images of invest-alchemy-tpurge-job"), "{}", run.stderr);
    assert!(
        run.stderr.contains("deleted the retained bucket invest-alchemy-tpurge-reports (--purge-data)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("invest-alchemy-tpurge-bootstrap: deleted"), "{}", run.stderr);
    // moto gap: DeleteStack leaves the resources of a stack made through a change set in place,
    // so the assets bucket is still listed; xtask's part, emptying it, is what is checked.
    let (buckets, assets_left) = runtime.block_on(async {
        let res = s3.list_buckets().send().await.unwrap();
        let buckets = res.buckets().iter().filter_map(|it| it.name().map(str::to_owned)).collect::<Vec<_>>();
        let assets = s3.list_objects_v2().bucket("invest-alchemy-tpurge-assets").send().await;
        (buckets, assets.map(|it| it.key_count().unwrap_or(0)).unwrap_or(0))
    });
    assert!(!buckets.contains(&"invest-alchemy-tpurge-reports".to_owned()), "{buckets:?}");
    assert_eq!(assets_left, 0);
}

#[test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
fn diff_of_the_edge_stack_shows_its_planned_resources_and_what_it_needs_from_the_app_stack_in_another_region() {
    // A stage with a domain (the checked-in dev stage has none), never deployed: no emulator
    // here deploys CloudFront, ACM or API Gateway v2, so the edge stack is only ever planned.
    let stage = "tedge";
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alchemy.toml");
    let domain = "domain = { name = \"alchemy.example.com\", hosted_zone_id = \"Z0123456789ABCDEFGHIJ\" }";
    std::fs::write(&config, format!("[stages.{stage}]\nregion = \"eu-west-1\"\n{domain}\n")).unwrap();
    let env = aws_env(&moto_url());

    let run = xtask(
        &["diff", "--stage", stage, "--config", config.to_str().unwrap(), "--stacks", "edge"],
        &pairs(&env),
        None,
    );

    assert!(run.success, "{}", run.stderr);
    let expected = [
        "invest-alchemy-tedge-edge (us-east-1) takes from another region:",
        "  ApiDomainName <- output ApiDomainName of invest-alchemy-tedge-app (eu-west-1): \
         not known until invest-alchemy-tedge-app is deployed",
        "invest-alchemy-tedge-edge: cannot be compared: invest-alchemy-tedge-edge needs output ApiDomainName of \
         the app stack",
        "invest-alchemy-tedge-edge: planned, ",
        "  + Site AWS::CloudFront::Distribution",
        "  + SiteCertificate AWS::CertificateManager::Certificate",
    ];
    for line in expected {
        assert!(run.stderr.contains(line), "{line}: {}", run.stderr);
    }
    assert!(
        run.stderr.lines().any(|it| it.starts_with("  + SiteRecord") && it.contains("AWS::Route53::")),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/cfn/tedge"));
}

#[test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
fn destroy_keeps_the_data_stack_and_purge_data_deletes_it_with_its_bucket_and_topic() {
    // The real data stack of a stage in a configuration of its own.
    let stage = "tdata";
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("alchemy.toml");
    std::fs::write(&config_file, format!("[stages.{stage}]\nregion = \"us-east-1\"\n")).unwrap();
    let config = config_file.to_str().unwrap();
    let env = aws_env(&moto_url());
    let deployed =
        xtask(&["deploy", "--stage", stage, "--config", config, "--stacks", "data", "--yes"], &pairs(&env), None);
    assert!(deployed.success, "{}", deployed.stderr);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let sdk = runtime.block_on(sdk_config());
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    let cfn = aws_sdk_cloudformation::Client::new(&sdk);
    let sns = aws_sdk_sns::Client::new(&sdk);
    let data = "invest-alchemy-tdata-data";
    let (bucket, topic) = runtime.block_on(async {
        let listed = cfn.list_stack_resources().stack_name(data).send().await.unwrap();
        let id = |logical: &str| {
            let resources = listed.stack_resource_summaries();
            let found = resources.iter().find(|it| it.logical_resource_id() == Some(logical)).unwrap();
            found.physical_resource_id().unwrap().to_owned()
        };
        let (bucket, topic) = (id("Reports"), id("Signals"));
        s3.put_object()
            .bucket(&bucket)
            .key("reports/dma-11-22/20261127.txt")
            .body(b"x".to_vec().into())
            .send()
            .await
            .unwrap();
        (bucket, topic)
    });

    let kept = xtask(&["destroy", "--stage", stage, "--config", config, "--yes"], &pairs(&env), None);
    assert!(kept.success, "{}", kept.stderr);
    assert!(
        kept.stderr.contains(&format!("{data}: kept, with the report history and the subscribers")),
        "{}",
        kept.stderr
    );
    assert!(kept.stderr.contains("cargo xtask destroy --stage tdata --purge-data"), "{}", kept.stderr);
    assert!(runtime.block_on(cfn.describe_stacks().stack_name(data).send()).is_ok(), "the data stack is kept");

    let purged = xtask(&["destroy", "--stage", stage, "--config", config, "--purge-data", "--yes"], &pairs(&env), None);
    assert!(purged.success, "{}", purged.stderr);
    assert!(purged.stderr.contains(&format!("  delete Reports AWS::S3::Bucket {bucket}")), "{}", purged.stderr);
    assert!(purged.stderr.contains(&format!("{data}: deleted")), "{}", purged.stderr);
    assert!(
        purged.stderr.contains(&format!("deleted the retained bucket {bucket} (--purge-data)")),
        "{}",
        purged.stderr
    );
    assert!(purged.stderr.contains(&format!("deleted the retained topic {topic}")), "{}", purged.stderr);
    let (buckets, topics) = runtime.block_on(async {
        let buckets = s3.list_buckets().send().await.unwrap();
        let buckets: Vec<String> = buckets.buckets().iter().filter_map(|it| it.name().map(str::to_owned)).collect();
        let topics = sns.list_topics().send().await.unwrap();
        let topics: Vec<String> = topics.topics().iter().filter_map(|it| it.topic_arn().map(str::to_owned)).collect();
        (buckets, topics)
    });
    assert!(!buckets.contains(&bucket), "{buckets:?}");
    assert!(!topics.contains(&topic), "{topics:?}");
    let _ = std::fs::remove_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/cfn/tdata"));
}
