//! The web and subscribe binaries in cloud mode, against the moto server (S3 and SNS wire
//! protocols): reports read from a bucket, addresses subscribed on a topic.
//!
//! `cargo xtask test` starts moto and sets `AWS_ENDPOINT_URL` and dummy credentials; without it
//! these tests fail loudly instead of passing.

mod common;

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use platform::{aws::AwsConfig, store::ObjectStore};

const NEEDS_MOTO: &str = "needs the AWS emulator: cargo xtask test";

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn the_site_reads_its_reports_from_the_bucket_and_subscribes_on_the_topic() {
    let aws = aws().await;
    let bucket = unique_name("site");
    aws.s3().create_bucket().bucket(&bucket).send().await.unwrap_or_else(|err| panic!("{NEEDS_MOTO}: {err:?}"));
    let topic = aws.sns().create_topic().name(unique_name("signals")).send().await.unwrap();
    let topic_arn = topic.topic_arn().unwrap().to_owned();
    let days = common::store_sample_reports(&ObjectStore::s3(aws.s3(), &bucket), 3).await;
    let newest = days.last().unwrap().to_string();

    let port = common::free_port();
    let no_data_dir = tempfile::tempdir().unwrap();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_web"))
            .env("ALCHEMY_REPORTS_BUCKET", &bucket)
            .env("ALCHEMY_TOPIC_ARN", &topic_arn)
            .env("ALCHEMY_PORT", port.to_string())
            // A data folder that stays empty: the bucket, not the folder, must serve the pages.
            .env("ALCHEMY_DATA_DIR", no_data_dir.path())
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let home = common::wait_for("the web binary to answer", Duration::from_secs(30), || {
        agent.get(&format!("{base}/")).call().ok().filter(|it| it.status() == 200)
    });
    let home = home.into_body().read_to_string().unwrap();
    assert!(home.contains(&newest), "the home page lists the newest stored day {newest}");

    let mut day = agent.get(&format!("{base}/reports/{newest}")).call().unwrap();
    assert_eq!(day.status(), 200);
    assert!(day.body_mut().read_to_string().unwrap().contains("<svg"), "a chart per fund");
    let mut text = agent.get(&format!("{base}/reports/{newest}.txt")).call().unwrap();
    assert_eq!(text.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(text.body_mut().read_to_string().unwrap().contains("可买标的:"));

    for _ in 0..2 {
        let answer = agent
            .post(&format!("{base}/api/subscribe"))
            .header("content-type", "application/json")
            .send(r#"{"email":"investor@example.com"}"#)
            .unwrap();
        assert_eq!(answer.status(), 202);
    }
    let on_topic = aws.sns().list_subscriptions_by_topic().topic_arn(&topic_arn).send().await.unwrap();
    let endpoints: Vec<&str> = on_topic.subscriptions().iter().filter_map(|it| it.endpoint()).collect();
    assert_eq!(endpoints, ["investor@example.com"], "one subscription, on the topic");
    assert!(std::fs::read_dir(no_data_dir.path()).unwrap().next().is_none(), "nothing went to the local folder");
    drop(server);
}

/// The child process, killed (by its PID) when the test ends, also when it fails.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The clients, pointed at the emulator by `AWS_ENDPOINT_URL`; panics when it is not set.
async fn aws() -> AwsConfig {
    let endpoint =
        std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| panic!("AWS_ENDPOINT_URL is not set: {NEEDS_MOTO}"));
    let aws = AwsConfig::load(None).await;
    assert_eq!(aws.endpoint_url(), Some(endpoint.as_str()));
    aws
}

/// A bucket and topic name no other test uses.
fn unique_name(what: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("fn-{what}-{}-{nanos}", std::process::id())
}
