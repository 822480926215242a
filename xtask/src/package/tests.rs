//! Tests of `cargo xtask package`. The ones that build release binaries and talk to servers are
//! `#[ignore]`d and run by `cargo xtask test`, which starts the OCI registry and the AWS emulator.
//!
//! These tests build the job alone (the rehearsals in `xtask/tests/` build the functions too); the
//! job binary, built by cargo-lambda the same way, stands in for a function wherever a `bootstrap`
//! is zipped. Both builds resolve the same features for every shared dependency (the
//! workspace-hack), so the second compiles only the functions.

use std::{path::Path, sync::Mutex};

use super::*;

/// The env var `cargo xtask test` sets to the local registry's URL.
const REGISTRY_ENV: &str = "ALCHEMY_TEST_REGISTRY";

/// Serializes the release builds of these tests: they share one target directory.
static BUILD: Mutex<()> = Mutex::new(());

#[test]
fn a_missing_arm64_target_is_an_error_naming_the_rustup_command() {
    let err = check_target_installed(Architecture::Arm64, "x86_64-unknown-linux-gnu\n").unwrap_err();
    assert!(err.to_string().contains("rustup target add aarch64-unknown-linux-gnu"), "{err}");
    check_target_installed(Architecture::Arm64, "aarch64-unknown-linux-gnu\nx86_64-unknown-linux-gnu\n").unwrap();
    check_target_installed(Architecture::X86_64, "x86_64-unknown-linux-gnu\n").unwrap();
}

#[test]
#[ignore = "needs the OCI registry and the AWS emulator: cargo xtask test"]
fn the_job_image_from_the_registry_runs_in_a_chroot_as_the_unprivileged_user() {
    let registry_url = registry_url();
    let sh = shell();
    let built = build_job(&sh);
    let image = image::assemble(&sh, &built.job, JOB_BINARY).unwrap();
    let registry = registry::Registry::new(&format!("{registry_url}/test/chroot"), "unused").unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let layers = runtime.block_on(async {
        if !registry.has_manifest(&image.manifest_digest).await.unwrap() {
            registry.push(&image).await.unwrap();
        }
        assert!(registry.has_manifest(&image.manifest_digest).await.unwrap());
        registry.pull_layers(&image.manifest_digest).await.unwrap()
    });

    let root = tempfile::tempdir().unwrap();
    for layer in &layers {
        tar::Archive::new(flate2::read::GzDecoder::new(layer.as_slice())).unpack(root.path()).unwrap();
    }
    let root_dir = root.path();
    // The image's `/` is the temporary folder, which only root may enter unless opened up.
    std::fs::set_permissions(root_dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (user, entrypoint) = (image::USER, format!("/{JOB_BINARY}"));
    let help = cmd!(sh, "chroot --userspec {user} {root_dir} {entrypoint} --help").read().unwrap();
    assert!(help.contains("Usage"), "{help}");

    // The AWS SDK's rustls reads the system trust store: the image carries it where the config says.
    let ca_bundle = std::fs::read_to_string(root_dir.join(image::CA_BUNDLE)).unwrap();
    assert!(ca_bundle.matches("-----BEGIN CERTIFICATE-----").count() > 100);
    let config: serde_json::Value = serde_json::from_slice(&image.config).unwrap();
    assert_eq!(config["config"]["Env"], serde_json::json!([format!("SSL_CERT_FILE=/{}", image::CA_BUNDLE)]));
    // No shell, no package manager: the image holds the binary, its libraries and a few files in etc.
    assert!(!root_dir.join("bin/sh").exists() && !root_dir.join("usr").exists());

    // The image's job is built without the standard credential chain: in cloud mode it reads the
    // task role from the container endpoint ECS sets, answered here by a fake, and stores the day
    // in moto with those credentials. Nothing of the host's environment reaches it.
    let role = ContainerRole::start();
    let bucket = unique("chroot-reports");
    let (s3, topic) = runtime.block_on(async {
        let sdk = aws::sdk_config().await;
        let s3 = aws::s3_client(&sdk);
        create_bucket(&s3, &bucket).await;
        let topic = aws_sdk_sns::Client::new(&sdk).create_topic().name(unique("chroot-signals")).send().await.unwrap();
        (s3, topic.topic_arn.unwrap())
    });
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    // Found on this PATH: the job's own environment, cleared, has none.
    let chroot = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|dir| dir.join("chroot"))
        .find(|it| it.exists())
        .expect("chroot (coreutils) on PATH");
    let output = std::process::Command::new(chroot)
        .args(["--userspec", user])
        .arg(root_dir)
        .args([entrypoint.as_str(), "--source", "sample", "--date", "20261127"])
        .env_clear()
        .envs([("ALCHEMY_REPORTS_BUCKET", bucket.as_str()), ("ALCHEMY_TOPIC_ARN", topic.as_str())])
        .envs([("AWS_REGION", "us-east-1"), ("AWS_ENDPOINT_URL", endpoint.as_str())])
        .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", role.url())
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", ContainerRole::TOKEN)
        .output()
        .unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the job in the image, in cloud mode: {said}");
    assert!(role.asked() >= 1, "the credentials came from the container endpoint");
    let key = "reports/dma-11-22/20261127.json";
    runtime.block_on(async { s3.head_object().bucket(&bucket).key(key).send().await.unwrap() });
}

/// A fake of the ECS container credentials endpoint: it answers `GET /role` carrying the task's
/// authorization token with temporary credentials, as ECS does, and counts the answers.
struct ContainerRole {
    port: u16,
    asked: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl ContainerRole {
    const TOKEN: &str = "task-authorization-token";

    fn start() -> ContainerRole {
        use std::io::{BufRead, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = asked.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut head = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push(line.trim_end().to_owned());
                }
                let authorized = head.first().is_some_and(|it| it.starts_with("GET /role "))
                    && head
                        .iter()
                        .any(|it| it.eq_ignore_ascii_case(&format!("authorization: {}", ContainerRole::TOKEN)));
                let (status, body) = if authorized {
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let body = concat!(
                        r#"{"AccessKeyId":"ASIATASKROLE","SecretAccessKey":"task-secret","#,
                        r#""Token":"task-session","Expiration":"2099-01-01T00:00:00Z"}"#
                    );
                    ("200 OK", body)
                } else {
                    ("401 Unauthorized", r#"{"message":"no or wrong authorization token"}"#)
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        ContainerRole { port, asked }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/role", self.port)
    }

    fn asked(&self) -> usize {
        self.asked.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
fn two_builds_give_identical_zips_and_the_second_upload_is_skipped() {
    let sh = shell();
    let first = build_job(&sh);
    let first_zip = zip::zip_bytes(&std::fs::read(stand_in_bootstrap(&first)).unwrap()).unwrap();
    let second = build_job(&sh);
    let second_zip = zip::zip_bytes(&std::fs::read(stand_in_bootstrap(&second)).unwrap()).unwrap();
    assert!(first_zip == second_zip, "two builds gave different zips");
    zip::tests::check_single_executable_bootstrap(&first_zip, &std::fs::read(stand_in_bootstrap(&first)).unwrap());

    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("function.zip");
    std::fs::write(&zip_path, &first_zip).unwrap();
    let key = aws::zip_key(&zip::sha256_hex(&first_zip));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let s3 = aws::s3_client(&aws::sdk_config().await);
        let bucket = &unique("assets-zip-upload");
        create_bucket(&s3, bucket).await;
        assert!(aws::upload_if_absent(&s3, bucket, &key, &zip_path).await.unwrap(), "first upload");
        assert!(!aws::upload_if_absent(&s3, bucket, &key, &zip_path).await.unwrap(), "second upload");
        let stored = s3.get_object().bucket(bucket).key(&key).send().await.unwrap();
        assert!(stored.body.collect().await.unwrap().into_bytes() == first_zip);
    });
}

#[test]
#[ignore = "needs the OCI registry and the AWS emulator: cargo xtask test"]
fn a_second_package_of_unchanged_sources_uploads_nothing() {
    let registry_url = registry_url();
    let sh = shell();
    let bucket = &unique("assets-second-package");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async { create_bucket(&aws::s3_client(&aws::sdk_config().await), bucket).await });
    // The registry URL names no repository: the stage's default is used.
    let destinations = Destinations {
        assets_bucket: bucket.to_owned(),
        registry: registry_url,
        repository: unique("second-package"),
        sdk: None,
    };
    let stage = StageConfig::new("packagetest", "us-east-1").unwrap();

    let built = build_job(&sh);
    let built = Built { functions: vec![("stand-in".to_owned(), stand_in_bootstrap(&built))], ..built };
    let first = package(&sh, &stage, &built, Some(&destinations)).unwrap();
    let built = build_job(&sh);
    let built = Built { functions: vec![("stand-in".to_owned(), stand_in_bootstrap(&built))], ..built };
    let second = package(&sh, &stage, &built, Some(&destinations)).unwrap();

    assert_eq!(first.functions[0].upload, Upload::Uploaded);
    assert_eq!(first.job_image.upload, Upload::Uploaded);
    assert_eq!(second.functions[0].upload, Upload::AlreadyThere);
    assert_eq!(second.job_image.upload, Upload::AlreadyThere);
    assert_eq!(first.functions[0].sha256, second.functions[0].sha256);
    assert_eq!(first.job_image.manifest_digest, second.job_image.manifest_digest);
}

/// Builds the job with cargo-lambda, as `package` does (one build at a time).
fn build_job(sh: &Shell) -> Built {
    let _guard = BUILD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    build(sh, Architecture::X86_64, &[]).unwrap()
}

/// The job binary stands in for a function: cargo-lambda lays it out as one, `target/lambda/signal/bootstrap`.
fn stand_in_bootstrap(built: &Built) -> PathBuf {
    built.job.clone()
}

async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    let emulator = std::env::var_os("AWS_ENDPOINT_URL");
    assert!(emulator.is_some(), "AWS_ENDPOINT_URL is not set: run `cargo xtask test`, which starts the emulator");
    if s3.head_bucket().bucket(bucket).send().await.is_err() {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
}

/// A bucket or repository name of this test run: the servers may outlive one run.
fn unique(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

fn registry_url() -> String {
    std::env::var(REGISTRY_ENV).unwrap_or_else(|_| panic!("{REGISTRY_ENV} is not set: run `cargo xtask test`"))
}

/// A shell at the workspace root, where `target/` is.
fn shell() -> Shell {
    let sh = Shell::new().unwrap();
    sh.change_dir(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap());
    sh
}
