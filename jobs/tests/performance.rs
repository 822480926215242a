//! The track record the `signal` job rewrites after a run's last day: its periods, the funds'
//! chart data, and failures of it that leave the day's report and e-mail as they were.

use std::{
    path::Path,
    process::{Command, Output},
    time::Duration,
};

use platform::backtest::json::{FundSeriesJson, PerformanceJson};
use test_support::{
    moto,
    tushare::{FakeTushare, Market, Reply, Seen, error},
};

const RECORD: &str = "reports/performance/dma-11-22.json";
const SERIES: &str = "reports/performance/dma-11-22/510300.SH.json";

/// Three funds, the benchmark among them, so a run costs little.
const FUNDS: &str = "510300.SH,沪深300ETF\n510500.SH,中证500ETF\n159915.SZ,创业板ETF\n";

/// One subscriber of every day: a published day is one e-mail in the outbox.
const SUBSCRIBERS: &str =
    r#"{"subscribers": [{"email": "investor@example.com", "subscribed_at": "2026-11-01T08:00:00Z"}]}"#;

/// The job over [`FUNDS`] with `args` and a data folder (which holds the fund list and
/// [`SUBSCRIBERS`]), with no job-related variables inherited.
fn command(data_dir: &Path, args: &[&str]) -> Command {
    std::fs::create_dir_all(data_dir).unwrap();
    let funds = data_dir.join("funds.csv");
    std::fs::write(&funds, FUNDS).unwrap();
    std::fs::write(data_dir.join("subscribers.json"), SUBSCRIBERS).unwrap();
    job(data_dir, &funds, args)
}

/// The job over the fund list `funds` with `args` and a data folder.
fn job(data_dir: &Path, funds: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_signal"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ALCHEMY_") || name.starts_with("TUSHARE_") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    command.arg("--data-dir").arg(data_dir).arg("--funds").arg(funds).args(args);
    command
}

/// Runs the job on sample data with `args`; it succeeds.
fn signal(data_dir: &Path, args: &[&str]) -> Output {
    let output = command(data_dir, args).output().expect("the signal binary runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    output
}

fn record(data_dir: &Path) -> PerformanceJson {
    PerformanceJson::parse(&std::fs::read(data_dir.join(RECORD)).unwrap()).unwrap()
}

/// Each period as `id from..to`.
fn periods(record: &PerformanceJson) -> Vec<String> {
    record.periods.iter().map(|it| format!("{} {}..{}", it.id, it.backtest.from, it.backtest.to)).collect()
}

fn files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, Iterator::count)
}

/// Without `RUST_LOG`, the job's own info lines are logged: its modules' target is the binary's
/// crate, `signal`, not the package's name.
#[test]
fn the_jobs_info_lines_are_logged_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let output = signal(dir.path(), &["--date", "20261120", "--no-publish"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // tracing colours the level and the target (`xtask logs` reads them so, `logs/line.rs`).
    let line = stderr.lines().find(|it| it.contains("track record of 3 funds: prices in ")).expect(&stderr);
    assert!(line.contains("INFO") && line.contains("signal::performance"), "{line}");
}

#[test]
fn the_record_ends_on_the_runs_last_day_and_has_a_live_period_from_the_first_published_day() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();

    // Nothing published yet: the ten years only, with the funds' chart data.
    signal(data, &["--date", "20261120", "--no-publish"]);
    let first = record(data);
    assert_eq!(
        (first.updated.as_str(), first.source.as_str(), first.strategy.as_str()),
        ("20261120", "sample", "dma-11-22")
    );
    assert_eq!(periods(&first), ["backtest 20161121..20261120"]);
    let backtest = &first.periods[0].backtest;
    assert_eq!((backtest.fill.as_str(), backtest.cost_bps, backtest.sizing.kind.as_str()), ("open", 2.5, "fraction"));
    assert_eq!(backtest.funds.len(), 3);
    let portfolio = backtest.portfolio.as_ref().unwrap();
    assert_eq!(portfolio.benchmark_code.as_deref(), Some("510300.SH"));
    let series = FundSeriesJson::parse(&std::fs::read(data.join(SERIES)).unwrap()).unwrap();
    assert_eq!(series.code, "510300.SH");
    assert_eq!(series.dates.last().map(String::as_str), Some("20261120"));
    assert_eq!(
        (series.close.len(), series.ma_short.len(), series.ma_long.len()),
        (series.dates.len(), series.dates.len(), series.dates.len())
    );
    assert_eq!(files(&data.join("reports/performance/dma-11-22")), 3);

    // The 23rd is e-mailed: the live period starts there.
    signal(data, &["--date", "20261123"]);
    assert!(data.join("state/published/20261123").exists());
    assert_eq!(periods(&record(data)), ["live 20261123..20261123", "backtest 20161123..20261123"]);

    // A backfill of four days, not e-mailed: the record is written once, for its last day.
    let output = signal(data, &["--from", "20261124", "--to", "20261127", "--no-publish"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.matches("track record:").count(), 1, "{stdout}");
    let last = record(data);
    assert_eq!(last.updated, "20261127");
    assert_eq!(periods(&last), ["live 20261123..20261127", "backtest 20161128..20261127"]);
    let series = FundSeriesJson::parse(&std::fs::read(data.join(SERIES)).unwrap()).unwrap();
    assert_eq!(series.dates.last().map(String::as_str), Some("20261127"));

    // A re-run of an older day keeps the newer record.
    signal(data, &["--date", "20261102", "--no-publish"]);
    assert_eq!(record(data), last);
}

#[test]
fn a_track_record_that_cannot_be_stored_leaves_the_run_its_report_and_its_e_mail() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // A file where the record's folder should be: every write of the record fails.
    std::fs::create_dir_all(data.join("reports")).unwrap();
    std::fs::write(data.join("reports/performance"), "not a folder").unwrap();

    let output = signal(data, &["--date", "20261127"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("the track record {RECORD} was not updated")), "{stderr}");
    assert!(data.join("reports/dma-11-22/20261127.txt").exists());
    assert_eq!(files(&data.join("outbox")), 1, "the day was e-mailed");
    assert!(data.join("state/published/20261127").exists());
    assert_eq!(std::fs::read_to_string(data.join("reports/performance")).unwrap(), "not a folder");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_ten_year_fetch_leaves_the_run_its_report_and_its_e_mail() {
    // The day's window is served; the track record's older ranges of prices are refused as a bad
    // token, which stops a run (exit 2) when the day's own fetch meets it.
    let market = Market::generate(&["510300.SH", "510500.SH", "159915.SZ"], "20261127");
    let fake = FakeTushare::start(Duration::ZERO, move |seen| {
        let old = seen.params["start_date"].as_str().is_some_and(|start| start < "20260101");
        if old && seen.api != "trade_cal" {
            error(-2001, "您的token不对，请确认。")
        } else {
            market.reply(seen)
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let tushare = ["--source", "tushare", "--tushare-url", &fake.url, "--tushare-retry-delay-ms", "1"];
    let mut command = command(dir.path(), &["--date", "20261127"]);
    command.args(tushare).env("TUSHARE_TOKEN", "tok-test");
    let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("the track record {RECORD} was not updated")), "{stderr}");
    assert!(stderr.contains("Tushare rejected the token"), "{stderr}");
    assert!(dir.path().join("reports/dma-11-22/20261127.json").exists());
    assert_eq!(files(&dir.path().join("outbox")), 1, "the day was e-mailed");
    assert!(!dir.path().join(RECORD).exists());
    let refused =
        |it: &&Seen| it.api != "trade_cal" && it.params["start_date"].as_str().is_some_and(|it| it < "20260101");
    assert!(fake.seen().iter().any(|it| refused(&it)), "the track record asked the older prices");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_track_record_still_fetching_at_the_deadline_gives_up_and_the_run_succeeds() {
    // The track record's older prices never come; the day's own window does.
    let market = Market::generate(&["510300.SH", "510500.SH", "159915.SZ"], "20261127");
    let fake = FakeTushare::start(Duration::ZERO, move |seen| {
        let old = seen.params["start_date"].as_str().is_some_and(|start| start < "20260101");
        if old && seen.api != "trade_cal" { Reply::Hang } else { market.reply(seen) }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let tushare = ["--source", "tushare", "--tushare-url", &fake.url, "--tushare-retry-delay-ms", "1"];
    let mut command = command(dir.path(), &["--date", "20261127", "--deadline-secs", "5"]);
    command.args(tushare).env("TUSHARE_TOKEN", "tok-test");
    let started = std::time::Instant::now();
    let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("it did not finish 1 s before the run's deadline"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(5), "stopped before the deadline: {:?}", started.elapsed());
    assert!(dir.path().join("reports/dma-11-22/20261127.json").exists());
    assert_eq!(files(&dir.path().join("outbox")), 1, "the day was e-mailed");
    assert!(!dir.path().join(RECORD).exists());
}

#[tokio::test]
#[ignore = "needs the AWS emulator: cargo xtask test"]
async fn in_cloud_mode_the_record_and_the_funds_chart_data_are_stored_in_the_bucket() {
    let aws = moto::aws().await;
    let bucket = moto::create_bucket(&aws, "record-bucket").await;
    let topic = moto::create_topic(&aws, "record-topic").await;
    let data = tempfile::tempdir().unwrap();
    let funds = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(funds.path(), FUNDS).unwrap();
    let run = |args: &[&str]| {
        let mut command = job(data.path(), funds.path(), args);
        command.env("ALCHEMY_REPORTS_BUCKET", &bucket).env("ALCHEMY_TOPIC_ARN", &topic.arn);
        command.env_remove("AWS_ENDPOINT_URL_S3");
        tokio::task::spawn_blocking(move || command.output().unwrap())
    };
    for args in [&["--date", "20261123"][..], &["--date", "20261127", "--no-publish"]] {
        let output = run(args).await.unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    assert_eq!(moto::sent_notifications(&topic.arn).len(), 1);
    assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 0, "nothing written locally");

    let get = |key: &'static str| {
        let request = aws.s3().get_object().bucket(&bucket).key(key).send();
        async move {
            let object = request.await.unwrap_or_else(|err| panic!("{key}: {err:?}"));
            assert_eq!(object.content_type(), Some("application/json"), "{key}");
            object.body.collect().await.unwrap().into_bytes().to_vec()
        }
    };
    let record = PerformanceJson::parse(&get(RECORD).await).unwrap();
    assert_eq!(periods(&record), ["live 20261123..20261127", "backtest 20161128..20261127"]);
    let series = FundSeriesJson::parse(&get(SERIES).await).unwrap();
    assert_eq!(series.dates.last().map(String::as_str), Some("20261127"));
}
