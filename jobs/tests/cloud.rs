//! The job binary in cloud mode (S3 + SNS) against the moto server, plus the cloud settings' checks.
//!
//! The emulator tests need `cargo xtask test`, which starts moto and sets `AWS_ENDPOINT_URL` and
//! dummy credentials; without it they fail loudly. Each test makes its own bucket and topic.
//! Prices come from `--source tushare` against the fake Tushare server on 127.0.0.1
//! (`test_support::tushare`), so the job also keeps its price cache under `prices/tushare/` in the
//! bucket. The job runs as its own process; the fake answers in the test's runtime.

use std::{
    collections::HashSet,
    net::TcpListener,
    process::{Command, Output},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use platform::{aws::AwsConfig, fund, market::tushare::CODE_BAD_TOKEN};
use test_support::{
    channels::{FakeChannel, Service},
    moto::{self, Sent},
    tushare::{FakeTushare, Market, Reply, Seen, error},
};

/// A Friday: the fake market trades on weekdays.
const DAY: &str = "20261127";
/// The token the fake Tushare server expects; it refuses any other, as Tushare does.
const TOKEN: &str = "tok-5d0c8e3a-cloud-never-print-me";
/// Cloud mode's settings with dummy credentials, for the runs that must fail before reaching any bucket.
const CLOUD_SETTINGS: [(&str, &str); 5] = [
    ("ALCHEMY_REPORTS_BUCKET", "reports"),
    ("ALCHEMY_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:signals"),
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn a_cloud_run_stores_both_reports_and_publishes_one_email() {
    let cloud = Cloud::new().await;
    let out = cloud.job(&["--date", DAY]).await;
    assert_success(&out);

    let text = cloud.get(&format!("reports/dma-11-22/{DAY}.txt")).await.expect("the text report is stored");
    let json = cloud.get(&format!("reports/dma-11-22/{DAY}.json")).await.expect("the JSON report is stored");
    assert_eq!(cloud.content_type(&format!("reports/dma-11-22/{DAY}.txt")).await, "text/plain; charset=utf-8");
    assert_eq!(cloud.content_type(&format!("reports/dma-11-22/{DAY}.json")).await, "application/json");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["complete"], true);
    assert!(cloud.get("reports/index/dma-11-22.json").await.is_some(), "the index is stored");
    assert!(cloud.get(&format!("state/published/{DAY}")).await.is_some(), "the marker is written after publishing");

    let sent = cloud.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].subject.is_ascii() && sent[0].subject.contains("2026-11-27"), "{}", sent[0].subject);
    assert_eq!(sent[0].message, text, "the e-mail body is the stored text report");
    // The attributes subscribers' filter policies match: the day's BUY and SELL funds, from its report.
    let signal_funds: Vec<&str> = json["funds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|it| it["state"] == "BUY" || it["state"] == "SELL")
        .map(|it| it["code"].as_str().unwrap())
        .collect();
    let attributes = &sent[0].attributes;
    let signal_day = if signal_funds.is_empty() { "false" } else { "true" };
    assert_eq!(attributes["signal_day"]["Value"], signal_day, "{attributes}");
    let listed: Vec<String> = serde_json::from_str(attributes["signal_funds"]["Value"].as_str().unwrap()).unwrap();
    let want: Vec<String> = if signal_funds.is_empty() {
        vec!["none".to_owned()]
    } else {
        signal_funds.iter().map(|it| (*it).to_owned()).collect()
    };
    assert_eq!(listed, want, "{attributes}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("s3://{}/reports/dma-11-22/{DAY}.txt", cloud.bucket)), "{stdout}");
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn the_same_day_again_sends_no_second_email_unless_republish_is_given() {
    let cloud = Cloud::new().await;
    assert_success(&cloud.job(&["--date", DAY]).await);
    let again = cloud.job(&["--date", DAY]).await;
    assert_success(&again);
    assert_eq!(cloud.sent().len(), 1);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already published"));

    assert_success(&cloud.job(&["--date", DAY, "--republish"]).await);
    assert_eq!(cloud.sent().len(), 2);
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn channels_given_as_text_in_the_environment_get_the_day_once_with_their_marker_in_the_bucket() {
    let cloud = Cloud::new().await;
    let wecom = FakeChannel::start(Service::WeCom { key: "wx-key-never-print-me".to_owned() }).await;
    let channels = format!(
        "site_url = \"https://alchemy.example.com/\"\n[[channel]]\nname = \"wx\"\nkind = \"wecom\"\n\
         api = \"{}\"\nkey = \"${{WX_KEY}}\"\n",
        wecom.url
    );
    let env = [("ALCHEMY_CHANNELS", channels.as_str()), ("WX_KEY", "wx-key-never-print-me")];
    for _ in 0..2 {
        let out = cloud.job_with(&["--date", DAY], &env).await;
        assert_success(&out);
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!said.contains("wx-key-never-print-me"), "{said}");
    }
    assert_eq!(wecom.delivered().len(), 1, "{:?}", wecom.refusals());
    assert_eq!(cloud.sent().len(), 1);
    let marker = cloud.get(&format!("state/channels/wx/{DAY}")).await.expect("the channel's marker");
    assert!(marker.contains("1 message(s)"), "{marker}");
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn a_backfill_with_no_publish_stores_five_reports_and_sends_nothing() {
    let cloud = Cloud::new().await;
    assert_success(&cloud.job(&["--from", "20261123", "--to", DAY, "--no-publish"]).await);

    let keys = cloud.keys().await;
    let texts: Vec<&String> = keys.iter().filter(|it| it.ends_with(".txt")).collect();
    assert_eq!(texts.len(), 5, "{keys:?}");
    assert_eq!(keys.iter().filter(|it| it.starts_with("reports/dma-11-22/2026") && it.ends_with(".json")).count(), 5);
    assert!(!keys.iter().any(|it| it.starts_with("state/published/")), "{keys:?}");
    assert!(cloud.sent().is_empty());
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn when_publishing_fails_the_report_is_kept_without_a_marker_and_the_next_run_publishes_once() {
    let cloud = Cloud::new().await;
    cloud.aws.sns().delete_topic().topic_arn(&cloud.topic_arn).send().await.unwrap();

    let failed = cloud.job(&["--date", DAY]).await;
    assert_eq!(failed.status.code(), Some(1), "{}", String::from_utf8_lossy(&failed.stderr));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("publishing") && stderr.contains(&cloud.topic_arn), "{stderr}");
    assert!(cloud.get(&format!("reports/dma-11-22/{DAY}.txt")).await.is_some(), "stored before publishing");
    assert!(cloud.get(&format!("state/published/{DAY}")).await.is_none(), "no marker without a publish");

    // The same name gives the same ARN: the topic is back, and the next run catches up.
    let recreated = cloud.aws.sns().create_topic().name(&cloud.topic_name).send().await.unwrap();
    assert_eq!(recreated.topic_arn(), Some(cloud.topic_arn.as_str()));
    assert_success(&cloud.job(&["--date", DAY]).await);
    assert_success(&cloud.job(&["--date", DAY]).await);
    assert_eq!(cloud.sent().len(), 1);
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn when_s3_is_unreachable_nothing_is_published_and_the_error_names_the_bucket() {
    let cloud = Cloud::new().await;
    let refused = format!("http://127.0.0.1:{}", closed_port());
    let out = cloud.job_with(&["--date", DAY], &[("AWS_ENDPOINT_URL_S3", refused.as_str())]).await;
    assert_failure(&out, 1, &format!("bucket {}", cloud.bucket));
    assert!(cloud.sent().is_empty());
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn the_token_appears_in_no_log_line_and_no_stored_object() {
    let cloud = Cloud::new().await;
    let env = [("RUST_LOG", "debug")];
    let runs = [cloud.job_with(&["--date", DAY], &env).await, cloud.job_with(&["--help"], &env).await];
    for out in &runs {
        assert_success(out);
        for stream in [&out.stdout, &out.stderr] {
            assert!(!String::from_utf8_lossy(stream).contains(TOKEN), "the token was printed");
        }
    }
    let seen = cloud.tushare.seen();
    assert!(!seen.is_empty() && seen.iter().all(|it| it.token == TOKEN), "the job sent the token to Tushare");
    let keys = cloud.keys().await;
    assert!(keys.len() >= 4, "{keys:?}");
    assert!(keys.iter().any(|it| it.starts_with("prices/tushare/")), "the price cache is checked too: {keys:?}");
    for key in keys {
        let body = cloud.get(&key).await.unwrap();
        assert!(!body.contains(TOKEN), "the token is in {key}");
    }
    assert!(cloud.sent().iter().all(|it| !it.message.contains(TOKEN)));
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn half_the_funds_answering_with_errors_store_an_incomplete_report_and_publish_nothing() {
    let funds = fund::bundled_funds();
    let failing: HashSet<String> = funds.iter().step_by(2).map(|it| it.code.as_str().to_owned()).collect();
    let recovered = Arc::new(AtomicBool::new(false));
    let market = bundled_market();
    let cloud = Cloud::answering({
        let recovered = recovered.clone();
        move |seen| {
            let code = seen.params["ts_code"].as_str().unwrap_or_default();
            if seen.api == "fund_daily" && failing.contains(code) && !recovered.load(Ordering::SeqCst) {
                // Neither a token error nor a rate limit: the fund's history fails, the run goes on.
                error(50101, "查询数据失败, 请稍后重试")
            } else {
                market.reply(seen)
            }
        }
    })
    .await;
    let json_key = format!("reports/dma-11-22/{DAY}.json");
    let text_key = format!("reports/dma-11-22/{DAY}.txt");

    let failed = cloud.job(&["--date", DAY]).await;
    assert_failure(&failed, 1, &format!("incomplete report for {DAY}"));
    let json: serde_json::Value =
        serde_json::from_str(&cloud.get(&json_key).await.expect("the incomplete report is stored")).unwrap();
    assert_eq!(json["complete"], false);
    let text = cloud.get(&text_key).await.expect("the incomplete text is stored");
    let n_failing = funds.len().div_ceil(2);
    assert!(text.starts_with(&format!("警告: 报告不完整, {n_failing} / {} 只基金", funds.len())), "{text}");
    assert!(cloud.get(&format!("state/published/{DAY}")).await.is_none(), "no marker for an incomplete report");
    assert!(cloud.sent().is_empty());

    // Tushare answers again: the same day is replaced by a complete report, published once.
    recovered.store(true, Ordering::SeqCst);
    assert_success(&cloud.job(&["--date", DAY]).await);
    let json: serde_json::Value = serde_json::from_str(&cloud.get(&json_key).await.unwrap()).unwrap();
    assert_eq!(json["complete"], true);
    let text = cloud.get(&text_key).await.unwrap();
    assert!(!text.starts_with("警告"), "{text}");
    assert!(cloud.get(&format!("state/published/{DAY}")).await.is_some());
    let sent = cloud.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].message, text);
}

#[test]
fn only_one_of_bucket_and_topic_is_bad_input_naming_the_missing_one() {
    let pairs = [("ALCHEMY_REPORTS_BUCKET", "ALCHEMY_TOPIC_ARN"), ("ALCHEMY_TOPIC_ARN", "ALCHEMY_REPORTS_BUCKET")];
    // Unset, or set to nothing (as a template with an empty parameter would): both are missing.
    for ((set, missing), empty) in pairs.into_iter().flat_map(|pair| [(pair, false), (pair, true)]) {
        let dir = tempfile::tempdir().unwrap();
        let mut job = Command::new(env!("CARGO_BIN_EXE_signal"));
        job.args(["--date", DAY, "--data-dir"])
            .arg(dir.path())
            .env_remove("ALCHEMY_REPORTS_BUCKET")
            .env_remove("ALCHEMY_TOPIC_ARN")
            // Should this ever reach the AWS SDK, it must not look for instance metadata.
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env(set, "something");
        if empty {
            job.env(missing, "");
        }
        let out = job.output().unwrap();
        assert_failure(&out, 2, &format!("{missing} is not set"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing was written");
    }
}

#[test]
fn cloud_mode_without_a_region_is_bad_input() {
    let out = Command::new(env!("CARGO_BIN_EXE_signal"))
        .args(["--date", DAY, "--endpoint-url", "http://127.0.0.1:9"])
        .envs(CLOUD_SETTINGS)
        // An empty profile file: no region from the profile either.
        .envs([("AWS_CONFIG_FILE", "/dev/null"), ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")])
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert_failure(&out, 2, "AWS_REGION");
}

#[test]
fn a_run_past_its_deadline_stops_with_exit_1() {
    // An endpoint that accepts connections and never answers: only the deadline ends the run.
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let out = Command::new(env!("CARGO_BIN_EXE_signal"))
        .args(["--date", DAY, "--deadline-secs", "1", "--endpoint-url", &endpoint])
        .envs(CLOUD_SETTINGS)
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_ENDPOINT_URL_S3")
        .output()
        .unwrap();
    assert_failure(&out, 1, "deadline of 1 s");
}

/// A fresh bucket and topic on the emulator, a fake Tushare server, and the job pointed at them.
struct Cloud {
    aws: AwsConfig,
    bucket: String,
    topic_name: String,
    topic_arn: String,
    data_dir: tempfile::TempDir,
    tushare: FakeTushare,
}

impl Cloud {
    /// With a fake Tushare that holds prices for every bundled fund.
    async fn new() -> Cloud {
        let market = bundled_market();
        Cloud::answering(move |seen| market.reply(seen)).await
    }

    /// With a fake Tushare that refuses any token but [`TOKEN`] and answers the rest with `handler`.
    async fn answering(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Cloud {
        let aws = moto::aws().await;
        let bucket = moto::create_bucket(&aws, "job-bucket").await;
        let moto::Topic { name: topic_name, arn: topic_arn } = moto::create_topic(&aws, "job-topic").await;
        let tushare = FakeTushare::start(Duration::ZERO, move |seen| {
            if seen.token != TOKEN {
                return error(CODE_BAD_TOKEN, "您的token不对，请确认。");
            }
            handler(seen)
        })
        .await;
        Cloud { aws, bucket, topic_name, topic_arn, data_dir: tempfile::tempdir().unwrap(), tushare }
    }

    async fn job(&self, args: &[&str]) -> Output {
        self.job_with(args, &[]).await
    }

    /// Runs the job binary in cloud mode on the fake Tushare's prices; `env` adds to the test's environment.
    async fn job_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut job = Command::new(env!("CARGO_BIN_EXE_signal"));
        job.args(args)
            .args(["--source", "tushare", "--tushare-retry-delay-ms", "1", "--data-dir"])
            .arg(self.data_dir.path())
            .env("ALCHEMY_REPORTS_BUCKET", &self.bucket)
            .env("ALCHEMY_TOPIC_ARN", &self.topic_arn)
            .env("TUSHARE_API_URL", &self.tushare.url)
            .env("TUSHARE_TOKEN", TOKEN)
            .env_remove("TUSHARE_NO_CACHE")
            .env_remove("AWS_ENDPOINT_URL_S3")
            .envs(env.iter().copied());
        // The fake answers on this test's runtime, so the job is waited for on a blocking thread.
        let out = tokio::task::spawn_blocking(move || job.output().unwrap()).await.unwrap();
        let local = std::fs::read_dir(self.data_dir.path()).unwrap().count();
        assert_eq!(local, 0, "cloud mode writes nothing to the local data folder");
        out
    }

    async fn get(&self, key: &str) -> Option<String> {
        let res = self.aws.s3().get_object().bucket(&self.bucket).key(key).send().await;
        let object = match res {
            Ok(it) => it,
            Err(err) if err.as_service_error().is_some_and(|it| it.is_no_such_key()) => return None,
            Err(err) => panic!("{err:?}"),
        };
        let bytes = object.body.collect().await.unwrap().into_bytes();
        Some(String::from_utf8(bytes.to_vec()).unwrap())
    }

    async fn content_type(&self, key: &str) -> String {
        let head = self.aws.s3().head_object().bucket(&self.bucket).key(key).send().await.unwrap();
        head.content_type().unwrap().to_owned()
    }

    async fn keys(&self) -> Vec<String> {
        let listed = self.aws.s3().list_objects_v2().bucket(&self.bucket).send().await.unwrap();
        listed.contents().iter().filter_map(|it| it.key()).map(str::to_owned).collect()
    }

    /// What SNS "sent" to the topic, from moto's `/moto-api/data.json`.
    fn sent(&self) -> Vec<Sent> {
        moto::sent_notifications(&self.topic_arn)
    }
}

fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The run failed with exit `code`, saying `says` on stderr.
fn assert_failure(out: &Output, code: i32, says: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert!(stderr.contains(says), "{stderr}");
}

/// A fake market holding every bundled fund's prices up to [`DAY`].
fn bundled_market() -> Market {
    let funds = fund::bundled_funds();
    let codes: Vec<&str> = funds.iter().map(|it| it.code.as_str()).collect();
    Market::generate(&codes, DAY)
}

/// A port nothing listens on: connections to it are refused.
fn closed_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    listener.local_addr().unwrap().port()
}
