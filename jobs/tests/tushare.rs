//! The `signal` job end to end with `--source tushare`, against an in-process server on 127.0.0.1.
//!
//! The job runs as its own process (the real binary, flags and env); the fake Tushare server runs
//! in this test's runtime.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::Duration,
};

use platform::{
    date::TradeDate,
    fund::{Fund, FundCode},
    market::{AdjFactor, Bar, History, SourceKind},
    report::{FundReport, Report, json::ReportJson},
    strategy::{self, DmaParams},
};
use test_support::tushare::{FakeTushare, Market, Reply, Seen, error};

const DATE: &str = "20261127";
const TOKEN: &str = "tok-9c1e7a55-never-print-me";

/// Funds and a stock; 512000 gets no rows at all, 510500's factor for the last day is late.
const FUNDS: &str = "510300.SH,沪深300ETF\n510500,中证500ETF\n159915.SZ,创业板ETF\n512880.SH,证券ETF\n\
                     600519.SH,贵州茅台\n588000.SH,科创50ETF\n512000.SH,券商ETF\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_writes_reports_whose_states_are_the_strategy_on_the_same_rows() {
    let mut market =
        Market::generate(&["510300.SH", "510500.SH", "159915.SZ", "512880.SH", "600519.SH", "588000.SH"], DATE);
    let late = market.rows.get_mut("510500.SH").unwrap().last_mut().unwrap();
    assert_eq!(late.0, DATE);
    late.3 = None;
    let fake = FakeTushare::start(Duration::ZERO, {
        let market = market.clone();
        move |seen| market.reply(seen)
    })
    .await;
    let dir = tempfile::tempdir().unwrap();

    let output = signal(&fake, dir.path(), &[]).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let reports = dir.path().join("reports/dma-11-22");
    let text = std::fs::read_to_string(reports.join(format!("{DATE}.txt"))).unwrap();
    let stored = ReportJson::parse(&std::fs::read(reports.join(format!("{DATE}.json"))).unwrap()).unwrap();
    assert_eq!(stored.source, "tushare");

    let expected = expected_report(&market);
    assert_eq!(stored.funds, expected.funds);
    assert_eq!(stored.counts, expected.counts);

    let states: Vec<&str> = stored.funds.iter().map(|it| it.state.as_str()).collect();
    assert_eq!(states.iter().filter(|it| **it == "UNDECIDED").count(), 1, "{states:?}");
    assert_eq!(stored.funds[6].reason_code.as_deref(), Some("no_data"));
    assert!(text.contains("注: 20261127 复权因子尚未发布, 沿用 20261126 的因子"), "{text}");

    // Two calls per fund and one for the calendar; stocks use their own APIs. The track record
    // asks the trade date again, by fund, of the two funds whose day is not final (510500's factor
    // is late, 512000 has no rows).
    let (seen, track_record) = for_the_day(fake.seen());
    assert_eq!(seen.len(), 2 * 7 + 1 + 2 * 2, "{seen:#?}");
    // Then the track record's ten years: the calendar, and each fund's two APIs, in two windows each.
    assert_eq!(track_record.len(), 2 + 2 * 2 * 7, "{track_record:#?}");
    assert!(seen.iter().any(|it| it.api == "daily" && it.params["ts_code"] == "600519.SH"));
    assert!(seen.iter().any(|it| it.api == "fund_daily" && it.params["ts_code"] == "510500.SH"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_days_run_asks_only_the_new_days_and_reports_the_same() {
    let mut market =
        Market::generate(&["510300.SH", "510500.SH", "159915.SZ", "512880.SH", "600519.SH", "588000.SH"], DATE);
    market.rows.get_mut("510500.SH").unwrap().last_mut().unwrap().3 = None;
    let fake = FakeTushare::start(Duration::ZERO, {
        let market = market.clone();
        move |seen| market.reply(seen)
    })
    .await;
    let dir = tempfile::tempdir().unwrap();

    let yesterday = signal_on(&fake, dir.path(), "20261126", &[]).await;
    assert!(yesterday.status.success(), "{}", String::from_utf8_lossy(&yesterday.stderr));
    let before = fake.calls();
    let today = signal(&fake, dir.path(), &[]).await;
    assert!(today.status.success(), "{}", String::from_utf8_lossy(&today.stderr));

    // The calendar's new day, then fund_daily and fund_adj for the whole market on the 27th, and
    // on the 26th too, which 512000.SH (no rows, so no final day) still lacks; the stock 600519.SH
    // asks daily and adj_factor of the 27th by code (as cheap as the whole market).
    let (today_calls, _) = for_the_day(fake.seen()[before..].to_vec());
    let apis: Vec<String> = today_calls.iter().map(|it| format!("{} {}", it.api, it.params)).collect();
    assert_eq!(apis.len(), 1 + 2 * 2 + 2, "{apis:#?}");
    let whole_market =
        |day: &str| apis.iter().filter(|it| it.ends_with(&format!("{{\"trade_date\":\"{day}\"}}"))).count();
    assert_eq!((whole_market("20261127"), whole_market("20261126")), (2, 2), "{apis:#?}");
    let stored =
        ReportJson::parse(&std::fs::read(dir.path().join(format!("reports/dma-11-22/{DATE}.json"))).unwrap()).unwrap();
    let expected = expected_report(&market);
    assert_eq!(stored.funds, expected.funds);

    // Without the cache, the same report from two calls per fund.
    let uncached = tempfile::tempdir().unwrap();
    let before = fake.calls();
    let output = signal(&fake, uncached.path(), &[("TUSHARE_NO_CACHE", "true")]).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(for_the_day(fake.seen()[before..].to_vec()).0.len(), 2 * 7 + 1);
    assert!(!uncached.path().join("prices").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_exits_2_and_the_token_is_never_printed_or_stored() {
    // Retries first (rate limit, HTTP 500), then a refusal whose message quotes the token.
    let fake = FakeTushare::start(Duration::ZERO, |seen| match (seen.api.as_str(), seen.nth) {
        ("trade_cal", 0) => error(40203, "抱歉，您每分钟最多访问该接口200次"),
        ("trade_cal", 1) => Reply::Status(500),
        ("trade_cal", _) => error(-2001, &format!("您的token不对，请确认。({})", seen.token)),
        _ => error(40101, "unexpected"),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();

    let output = signal(&fake, dir.path(), &[("RUST_LOG", "trace")]).await;

    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Tushare rejected the token"), "{stderr}");
    assert_eq!(fake.calls(), 3);
    assert!(fake.seen().iter().all(|it| it.token == TOKEN), "the token was sent");
    assert!(!stderr.contains(TOKEN), "{stderr}");
    assert!(!stdout.contains(TOKEN), "{stdout}");
    for file in files_under(dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(TOKEN), "{}", file.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_on_a_fund_call_also_stops_the_run() {
    let market = Market::generate(&["510300.SH"], DATE);
    let fake = FakeTushare::start(Duration::ZERO, move |seen| {
        if seen.api == "fund_adj" { error(-2001, "您的token不对，请确认。") } else { market.reply(seen) }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let output = signal(&fake, dir.path(), &[]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error: Tushare rejected the token (code -2001"), "{stderr}");
    assert!(!dir.path().join("reports").exists(), "no report for a refused run");
}

#[test]
fn without_a_token_the_job_exits_2_and_names_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_signal"))
        .args(["--source", "tushare", "--tushare-url", "http://127.0.0.1:9/", "--date", DATE])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("TUSHARE_TOKEN")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("TUSHARE_TOKEN"), "{stderr}");
}

/// The calls of the day's report, and those of the track record after it: the ones asking for a
/// range that starts before the day's window (150 days before [`DATE`]).
fn for_the_day(seen: Vec<Seen>) -> (Vec<Seen>, Vec<Seen>) {
    seen.into_iter().partition(|it| it.params["start_date"].as_str().is_none_or(|start| start >= "20260630"))
}

/// Runs the job for [`DATE`] over [`FUNDS`] against `fake`, with retries 1 ms apart.
async fn signal(fake: &FakeTushare, data_dir: &Path, env: &[(&str, &str)]) -> Output {
    signal_on(fake, data_dir, DATE, env).await
}

/// Runs the job for `date` over [`FUNDS`] against `fake`, with retries 1 ms apart.
async fn signal_on(fake: &FakeTushare, data_dir: &Path, date: &str, env: &[(&str, &str)]) -> Output {
    let funds_file = data_dir.join("funds.csv");
    std::fs::write(&funds_file, FUNDS).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_signal"));
    command
        .args(["--source", "tushare", "--tushare-url", &fake.url, "--date", date, "--tushare-retry-delay-ms", "1"])
        .arg("--funds")
        .arg(&funds_file)
        .arg("--data-dir")
        .arg(data_dir)
        .env("TUSHARE_TOKEN", TOKEN);
    for (name, value) in env {
        command.env(name, value);
    }
    tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap()
}

/// The report of the strategy run directly on the rows the server holds, as stored JSON.
fn expected_report(market: &Market) -> ReportJson {
    let trade_date = TradeDate::parse(DATE).unwrap();
    let funds = platform::fund::parse_fund_list(FUNDS).unwrap();
    let expected = Report {
        trade_date,
        source: SourceKind::Tushare,
        params: DmaParams::STANDARD,
        complete: true,
        funds: funds
            .iter()
            .map(|fund| FundReport {
                fund: fund.clone(),
                evaluation: strategy::evaluate(&DmaParams::STANDARD, trade_date, &history_of(market, fund)),
            })
            .collect(),
    };
    ReportJson::parse(expected.json_text().as_bytes()).unwrap()
}

/// The rows the server holds for `fund`, as the port's types: the expected input of the strategy.
fn history_of(market: &Market, fund: &Fund) -> History {
    let Some(rows) = market.rows.get(fund.code.as_str()) else {
        return History::default();
    };
    let date = |text: &str| TradeDate::parse(text).unwrap();
    let mut history = History {
        bars: rows
            .iter()
            .map(|(day, open, close, _)| Bar { trade_date: date(day), open: *open, close: *close })
            .collect(),
        factors: rows
            .iter()
            .filter_map(|(day, _, _, factor)| factor.map(|factor| AdjFactor { trade_date: date(day), factor }))
            .collect(),
        notes: vec![],
    };
    // A late factor is carried forward from the day before, and the report says so.
    if fund.code == FundCode::parse("510500.SH").unwrap() {
        let previous = *history.factors.last().unwrap();
        history.factors.push(AdjFactor { trade_date: date(DATE), factor: previous.factor });
        history
            .notes
            .push(format!("{DATE} 复权因子尚未发布, 沿用 {} 的因子 (该日若除权除息则不准确)", previous.trade_date));
    }
    history
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}
