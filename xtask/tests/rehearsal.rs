//! The rehearsal of the real stacks (what `cargo xtask synth` writes for a stage of a
//! configuration) through the real `cargo xtask deploy` / `destroy` against moto: deploy, a
//! no-op deploy, a configuration change, one run of the signal job in cloud mode on what was
//! deployed, and destroy, which keeps the reports bucket with the job's report.
//!
//! moto is an API fake, not CloudFormation, and a few of its gaps need a workaround here (never
//! in the product); each is commented where it is worked around, as ARCHITECTURE.md ("Testing")
//! says. The first test gives the function code keys and
//! the image digest with `deploy --parameters FILE` (placeholder zips at those keys for moto's
//! Lambda to read); the second lets deploy package and upload them itself, to the assets bucket
//! in moto and to the local OCI registry `cargo xtask test` starts (moto's ECR is no registry).

mod support;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Instant,
};

use test_support::tushare::{FakeTushare, Market};

use support::{
    moto_url, pairs,
    rehearsal::{
        REGION, Rehearsal, deploy_args, env, moto_stage_parameters, placeholder_artifacts, project_root, resources,
        synth, templates_for_moto, write_config,
    },
    xtask,
};

/// The `+ / ~ / -` lines of the change summary of `stack` in a deploy's output.
fn change_lines<'a>(stderr: &'a str, stack: &str) -> Vec<&'a str> {
    let header = format!("{stack}: ");
    let mut lines = stderr.lines().skip_while(|it| !(it.starts_with(&header) && it.contains(" to add, ")));
    lines.next();
    lines.take_while(|it| it.starts_with("  + ") || it.starts_with("  ~ ") || it.starts_with("  - ")).collect()
}

/// The job binary (`jobs`' `signal`), as cargo builds it now (a no-op after `cargo test`).
fn signal_binary() -> PathBuf {
    // Built (or found fresh) by cargo, which says where it put it: `CARGO_TARGET_DIR` and the like count.
    let output = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args(["build", "--quiet", "--package", "jobs", "--bin", "signal", "--message-format", "json"])
        .current_dir(project_root())
        .output()
        .unwrap();
    assert!(output.status.success(), "building the signal job: {}", String::from_utf8_lossy(&output.stderr));
    let executable = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find_map(|message| message["executable"].as_str().map(PathBuf::from));
    executable.expect("cargo build names the signal executable")
}

/// One run of the job for `day` in cloud mode against the emulator, in [`REGION`], on prices from a fake Tushare server.
fn run_job_in_cloud_mode(
    runtime: &tokio::runtime::Runtime,
    bucket: &str,
    topic: &str,
    day: &str,
) -> std::process::Output {
    // A fake Tushare Pro server holding prices for every bundled fund up to `day`; it answers on
    // `runtime`, so the job is waited for on a blocking thread of it.
    let codes: Vec<String> = platform::fund::bundled_funds().iter().map(|it| it.code.as_str().to_owned()).collect();
    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
    let market = Market::generate(&codes, day);
    let tushare = runtime.block_on(FakeTushare::start(std::time::Duration::ZERO, move |seen| market.reply(seen)));
    let data_dir = tempfile::tempdir().unwrap();
    let mut job = std::process::Command::new(signal_binary());
    job.args(["--source", "tushare", "--tushare-retry-delay-ms", "1", "--date", day, "--data-dir"])
        .arg(data_dir.path());
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") || name.starts_with("ALCHEMY_") || name.starts_with("TUSHARE_") {
            job.env_remove(name);
        }
    }
    job.envs(env()).env("AWS_REGION", REGION).env("AWS_EC2_METADATA_DISABLED", "true");
    job.env("ALCHEMY_REPORTS_BUCKET", bucket).env("ALCHEMY_TOPIC_ARN", topic);
    job.env("TUSHARE_API_URL", &tushare.url).env("TUSHARE_TOKEN", "rehearsal-token");
    let output = runtime.block_on(async move { tokio::task::spawn_blocking(move || job.output().unwrap()).await });
    let output = output.unwrap();
    assert!(tushare.calls() > 0, "the job fetched its prices from the fake Tushare server");
    output
}

/// An HTTP endpoint on 127.0.0.1 subscribed to a topic: the messages moto's SNS delivers to it.
///
/// moto gap: `/moto-api/data.json` (where SNS's "sent" notifications can be read) answers HTTP
/// 500 once a Lambda function exists, because reading the function's attributes asks for a
/// Docker daemon. moto does deliver to HTTP subscriptions, synchronously within Publish.
struct Subscriber {
    url: String,
    messages: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Subscriber {
    fn start() -> Subscriber {
        use std::io::{BufRead, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let messages = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = messages.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_ok()
                    && let Ok(body) = serde_json::from_slice::<serde_json::Value>(&body)
                    && body["Type"] == "Notification"
                {
                    sink.lock().unwrap().push(body["Message"].as_str().unwrap_or_default().to_owned());
                }
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
        });
        Subscriber { url, messages }
    }

    fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }
}

#[test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
fn the_real_stacks_deploy_then_show_no_changes_then_only_the_config_change_run_the_job_and_keep_its_report() {
    let Rehearsal { stage, bootstrap, network, app, work, config, env, runtime, sdk, cfn, s3 } = Rehearsal::new("treh");
    let stage = stage.as_str();
    let config_arg = config.to_str().unwrap();

    // 1. Bootstrap and network as they are: no --templates, so deploy synthesizes them.
    let started = Instant::now();
    let first = xtask(
        &["deploy", "--config", config_arg, "--stage", stage, "--stacks", "bootstrap,network", "--yes"],
        &pairs(&env),
        None,
    );
    let first_time = started.elapsed();
    assert!(first.success, "{}", first.stderr);
    assert!(project_root().join("target/cfn").join(stage).join("app.yaml").exists());
    assert!(first.stderr.contains(&format!("{bootstrap}: 3 to add, 0 to modify, 0 to remove")), "{}", first.stderr);
    assert!(first.stderr.contains(&format!("{network}: 10 to add, 0 to modify, 0 to remove")), "{}", first.stderr);

    // moto gap (see `moto_stage_parameters`): the app stack's parameters from the earlier
    // stacks are handed over with --parameters, with the values packaging would provide.
    let mut parameters = moto_stage_parameters(&runtime, &cfn, &bootstrap, &network);
    parameters.extend(placeholder_artifacts(&runtime, &s3, &parameters["AssetsBucketName"]));
    let parameters_file = work.path().join("parameters.json");
    std::fs::write(&parameters_file, serde_json::to_string(&parameters).unwrap()).unwrap();

    // 2. The three stacks in one deploy: bootstrap and network unchanged, app created.
    let templates = work.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    templates_for_moto(stage, &templates);
    let deploy = |templates: &Path| {
        let args = deploy_args(config_arg, stage, "bootstrap,network,app", templates, &parameters_file, &[]);
        let started = Instant::now();
        let run = xtask(&args, &pairs(&env), None);
        (run, started.elapsed())
    };
    let (full, full_time) = deploy(&templates);
    assert!(full.success, "{}", full.stderr);
    assert!(full.stderr.contains(&format!("{bootstrap}: no changes")), "{}", full.stderr);
    assert!(full.stderr.contains(&format!("{network}: no changes")), "{}", full.stderr);
    assert!(full.stderr.contains(&format!("{app}: 28 to add, 0 to modify, 0 to remove")), "{}", full.stderr);
    let app_ids = runtime.block_on(resources(&cfn, &app));
    for resource in ["Reports", "Signals", "JobTask", "SubscribeFunction", "WebFunction", "Cluster"] {
        assert!(app_ids.get(resource).is_some_and(|it| !it.is_empty()), "{resource} missing: {app_ids:?}");
    }

    // 3. The same again: no changes in any stack.
    let (noop, noop_time) = deploy(&templates);
    assert!(noop.success, "{}", noop.stderr);
    for stack in [&bootstrap, &network, &app] {
        assert!(noop.stderr.contains(&format!("{stack}: no changes")), "{stack}: {}", noop.stderr);
    }

    // 4. A configuration change (log retention 30 -> 60 days) modifies the log groups only.
    let changed = write_config(work.path(), stage, "log_retention_days = 60\n");
    synth(&changed, stage);
    let changed_templates = work.path().join("changed");
    std::fs::create_dir(&changed_templates).unwrap();
    templates_for_moto(stage, &changed_templates);
    let (change, _) = deploy(&changed_templates);
    assert!(change.success, "{}", change.stderr);
    assert!(change.stderr.contains(&format!("{bootstrap}: no changes")), "{}", change.stderr);
    assert!(change.stderr.contains(&format!("{network}: no changes")), "{}", change.stderr);
    let lines = change_lines(&change.stderr, &app);
    // moto gap: a resource without `Properties` (the Alarms topic) is always in a change set's
    // Modify list once anything in the stack changes: moto stores it with `Properties: {}` added
    // (cloudformation/parsing.py) and compares the new template's resource with that copy.
    let moto_false_positive = "  ~ Alarms AWS::SNS::Topic";
    let log_groups: Vec<&str> = lines.iter().copied().filter(|it| !it.starts_with(moto_false_positive)).collect();
    let log_group_ids = ["ApiLogs", "JobLogs", "SubscribeFunctionLogs", "WebFunctionLogs"];
    assert_eq!(log_groups.len(), log_group_ids.len(), "{}", change.stderr);
    for (line, id) in log_groups.iter().zip(log_group_ids) {
        assert!(line.starts_with(&format!("  ~ {id} AWS::Logs::LogGroup")), "{line}: {}", change.stderr);
    }
    assert!(
        change.stderr.contains(&format!("{app}: 0 to add, {} to modify, 0 to remove", lines.len())),
        "{}",
        change.stderr
    );

    // 5. The job in cloud mode, configured with the deploy's outputs, on the fake Tushare server's prices: one
    // report in the reports bucket, one notification on the topic.
    let outputs_file = project_root().join("target/outputs").join(format!("{stage}.json"));
    let saved: BTreeMap<String, BTreeMap<String, String>> =
        serde_json::from_str(&std::fs::read_to_string(&outputs_file).unwrap()).unwrap();
    let app_outputs = saved.get(&app).unwrap_or_else(|| panic!("{app} is not in {}", outputs_file.display()));
    // moto gap: the app stack was made by a change set, so moto gave it no outputs and the saved
    // map is empty; the same values are the physical ids of the bucket and the topic (against AWS
    // the outputs are `Ref Reports` and `Ref Signals`, i.e. exactly these).
    let reports = app_outputs.get("ReportsBucketName").cloned().unwrap_or_else(|| app_ids["Reports"].clone());
    let topic = app_outputs.get("SignalTopicArn").cloned().unwrap_or_else(|| app_ids["Signals"].clone());
    let subscriber = Subscriber::start();
    runtime.block_on(async {
        let sns = aws_sdk_sns::Client::new(&sdk);
        sns.subscribe().topic_arn(&topic).protocol("http").endpoint(&subscriber.url).send().await.unwrap();
    });
    let day = "20261127";
    let job = run_job_in_cloud_mode(&runtime, &reports, &topic, day);
    assert!(job.status.success(), "{}", String::from_utf8_lossy(&job.stderr));
    let report_key = format!("reports/dma-11-22/{day}.txt");
    let report = runtime.block_on(async {
        let object = s3.get_object().bucket(&reports).key(&report_key).send().await.unwrap();
        String::from_utf8(object.body.collect().await.unwrap().into_bytes().to_vec()).unwrap()
    });
    let sent = subscriber.messages();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0], report, "the notification is the stored report");

    // 6. destroy: app goes, the reports bucket stays with its objects.
    let destroy = xtask(&["destroy", "--config", config_arg, "--stage", stage, "--yes"], &pairs(&env), None);
    assert!(destroy.stderr.contains(&format!("keep   Reports AWS::S3::Bucket {reports}")), "{}", destroy.stderr);
    assert!(destroy.stderr.contains(&format!("{app}: deleted")), "{}", destroy.stderr);
    // moto gap: DeleteStack of the network stack fails with DependencyViolation ("The vpc ...
    // has dependencies"): moto deletes the resources in template order, the VPC before its
    // subnets and security group. The app stack goes first (destroy deletes edge, app, network
    // in that order), so everything this test is about has happened by then; the failure must
    // be that one and nothing else.
    if !destroy.success {
        let error = destroy.stderr.lines().find(|it| it.starts_with("error:")).unwrap_or_default();
        assert!(error.contains(&network) && error.contains("DependencyViolation"), "{}", destroy.stderr);
    }
    let (app_left, body) = runtime.block_on(async {
        let left = cfn.describe_stacks().stack_name(&app).send().await.is_ok_and(|it| {
            it.stacks().iter().any(|s| s.stack_status().is_some_and(|s| s.as_str() != "DELETE_COMPLETE"))
        });
        let object = s3.get_object().bucket(&reports).key(&report_key).send().await.unwrap();
        (left, object.body.collect().await.unwrap().into_bytes())
    });
    assert!(!app_left, "{}", destroy.stderr);
    assert!(body[..] == *report.as_bytes(), "the report changed or is gone");

    eprintln!(
        "rehearsal of stage {stage}: bootstrap + network {:.2} s, then app {:.2} s, no-op of the three {:.2} s; \
         destroy: {}",
        first_time.as_secs_f64(),
        full_time.as_secs_f64(),
        noop_time.as_secs_f64(),
        destroy.stderr.lines().find(|it| it.starts_with("error:")).unwrap_or("ok")
    );

    // What deploy and synth wrote for this run's stage under target/.
    let _ = std::fs::remove_dir_all(project_root().join("target/cfn").join(stage));
    let _ = std::fs::remove_file(project_root().join("target/outputs").join(format!("{stage}.json")));
}

#[test]
#[ignore = "needs the AWS emulator and the OCI registry: cargo xtask test"]
fn deploy_packages_the_functions_and_the_job_image_and_uploads_them_only_once() {
    let registry = std::env::var("ALCHEMY_TEST_REGISTRY")
        .expect("ALCHEMY_TEST_REGISTRY is not set: needs the OCI registry: cargo xtask test");
    let Rehearsal { stage, bootstrap, network, app, work, config, env, runtime, sdk: _, cfn, s3 } =
        Rehearsal::new("tpkg");
    let stage = stage.as_str();
    let config_arg = config.to_str().unwrap();

    let first = xtask(
        &["deploy", "--config", config_arg, "--stage", stage, "--stacks", "bootstrap,network", "--yes"],
        &pairs(&env),
        None,
    );
    assert!(first.success, "{}", first.stderr);
    // moto gap (as in the first test): stacks made through change sets have no outputs, so the
    // assets bucket, subnets and security group reach app through --parameters; the code keys
    // and the image digest do not: deploy must package and provide them.
    let parameters = moto_stage_parameters(&runtime, &cfn, &bootstrap, &network);
    let assets_bucket = parameters["AssetsBucketName"].clone();
    let parameters_file = work.path().join("parameters.json");
    std::fs::write(&parameters_file, serde_json::to_string(&parameters).unwrap()).unwrap();
    let templates = work.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    templates_for_moto(stage, &templates);
    let endpoint = moto_url();
    let flag_env: Vec<(&'static str, String)> =
        env.iter().filter(|(name, _)| *name != "AWS_ENDPOINT_URL").cloned().collect();
    let deploy = || {
        let packaging = ["--registry", registry.as_str(), "--endpoint-url", endpoint.as_str()];
        let args = deploy_args(config_arg, stage, "app", &templates, &parameters_file, &packaging);
        // The emulator through the flag, not `AWS_ENDPOINT_URL`: deploy hands its own AWS
        // configuration to packaging, so the zips must reach moto by the flag alone.
        xtask(&args, &pairs(&flag_env), None)
    };

    let packaged = deploy();
    assert!(packaged.success, "{}", packaged.stderr);
    assert!(packaged.stderr.contains(&format!("{app}: 28 to add")), "{}", packaged.stderr);
    let zips = runtime.block_on(async {
        let listed = s3.list_objects_v2().bucket(&assets_bucket).prefix("lambda/").send().await.unwrap();
        listed.contents().iter().filter_map(|it| it.key().map(str::to_owned)).collect::<Vec<_>>()
    });
    assert_eq!(zips.len(), 2, "one zip per function in the assets bucket: {zips:?}");
    let functions = runtime.block_on(resources(&cfn, &app));
    assert!(functions.contains_key("WebFunction") && functions.contains_key("SubscribeFunction"));
    let artifacts = artifact_lines(&packaged.stderr);
    assert_eq!(artifacts.len(), 3, "two zips and the image: {}", packaged.stderr);
    assert!(artifacts.iter().all(|it| it.contains(" uploaded ")), "{artifacts:?}");
    let image_line = artifacts.iter().find(|it| it.starts_with("image ")).unwrap();
    let digest = image_line.split_whitespace().find(|it| it.starts_with("sha256:")).unwrap().to_owned();
    let manifest = format!("{registry}/v2/invest-alchemy-{stage}-job/manifests/{digest}");
    let answer = ureq_head(&manifest);
    assert_eq!(answer, 200, "the job image is in the registry: {manifest}");

    let again = deploy();
    assert!(again.success, "{}", again.stderr);
    assert!(again.stderr.contains(&format!("{app}: no changes")), "{}", again.stderr);
    let artifacts = artifact_lines(&again.stderr);
    assert_eq!(artifacts.len(), 3, "{}", again.stderr);
    assert!(artifacts.iter().all(|it| it.contains(" already there ")), "nothing is uploaded twice: {artifacts:?}");
}

/// The packaging summary's lines: `function <name> ...` and `image <name> ...`.
fn artifact_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|it| it.starts_with("function ") || it.starts_with("image ")).collect()
}

/// The status of an HTTP `HEAD` with the OCI manifest media types accepted.
fn ureq_head(url: &str) -> u16 {
    let rest = url.strip_prefix("http://").expect("a local registry over http");
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    use std::io::{Read, Write};
    let request = format!(
        "HEAD /{path} HTTP/1.0\r\nHost: {host}\r\nAccept: application/vnd.oci.image.manifest.v1+json, \
         application/vnd.docker.distribution.manifest.v2+json\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut head = String::new();
    stream.read_to_string(&mut head).unwrap();
    head.split_whitespace().nth(1).and_then(|it| it.parse().ok()).unwrap_or(0)
}
