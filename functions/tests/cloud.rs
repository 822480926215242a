//! The web and subscribe binaries in cloud mode, against the moto server (S3 and SNS wire
//! protocols): reports read from a bucket, addresses subscribed on a topic.
//!
//! `cargo xtask test` starts moto and sets `AWS_ENDPOINT_URL` and dummy credentials; without it
//! these tests fail loudly instead of passing (`test_support::moto`).

mod common;

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use platform::store::ObjectStore;
use test_support::{moto, reports::store_sample_reports};

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn the_site_reads_its_reports_from_the_bucket_and_subscribes_on_the_topic() {
    let aws = moto::aws().await;
    let bucket = moto::create_bucket(&aws, "fn-site").await;
    let topic_arn = moto::create_topic(&aws, "fn-signals").await.arn;
    let days = store_sample_reports(&ObjectStore::s3(aws.s3(), &bucket), 3).await;
    let newest = days.last().unwrap().to_string();

    let port = common::free_port();
    let no_data_dir = tempfile::tempdir().unwrap();
    let server = common::Running(
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
            .send(r#"{"email":"investor@example.com","frequency":"signals","funds":["510300.SH"]}"#)
            .unwrap();
        assert_eq!(answer.status(), 202);
    }
    let on_topic = aws.sns().list_subscriptions_by_topic().topic_arn(&topic_arn).send().await.unwrap();
    let endpoints: Vec<&str> = on_topic.subscriptions().iter().filter_map(|it| it.endpoint()).collect();
    assert_eq!(endpoints, ["investor@example.com"], "one subscription, on the topic");
    let arn = on_topic.subscriptions()[0].subscription_arn().unwrap();
    let read = aws.sns().get_subscription_attributes().subscription_arn(arn).send().await.unwrap();
    let policy: serde_json::Value = serde_json::from_str(&read.attributes().unwrap()["FilterPolicy"]).unwrap();
    assert_eq!(policy, serde_json::json!({ "signal_funds": ["510300.SH"] }), "the choice is the subscription's policy");
    assert!(std::fs::read_dir(no_data_dir.path()).unwrap().next().is_none(), "nothing went to the local folder");
    drop(server);
}
