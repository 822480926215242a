//! `signal backtest` end to end: the real binary on the sample source, and on a Tushare-compatible
//! server whose prices an independent numpy computation (`tests/backtest/check.py`) replays too.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::Duration,
};

use serde_json::{Value, json};
use test_support::tushare::{FakeTushare, error, ok};

fn signal(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_signal"))
        .arg("backtest")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("TUSHARE_TOKEN")
        .output()
        .unwrap()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn ten_years_on_the_sample_source_print_a_table_and_write_every_key() {
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("bt.json");
    let out = signal(&["--from", "20161201", "--to", "20261127", "--json", json_path.to_str().unwrap()], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("dma-11-22 from 20161201 to 20261127, fill at the open of the next bar"), "{table}");
    assert!(table.lines().any(|it| it.starts_with("510300.SH ")), "{table}");
    assert!(table.lines().any(|it| it.starts_with("portfolio ")), "{table}");
    let bt = read_json(&json_path);
    for key in ["strategy", "short", "long", "from", "to", "fill", "cost_bps", "funds", "portfolio", "undecided_funds"]
    {
        assert!(bt.get(key).is_some(), "missing {key}");
    }
    assert_eq!(
        (bt["strategy"].as_str(), bt["fill"].as_str(), bt["cost_bps"].as_f64()),
        (Some("dma-11-22"), Some("open"), Some(2.5))
    );
    let fund = &bt["funds"][0];
    assert_eq!(fund["code"], "510300.SH");
    for key in ["total_return", "cagr", "sharpe", "max_drawdown", "trades", "win_rate", "exposure"] {
        assert!(fund["metrics"].get(key).is_some(), "metrics.{key}");
    }
    for key in ["total_return", "cagr", "sharpe", "max_drawdown"] {
        assert!(fund["buy_and_hold"][key].is_number(), "buy_and_hold.{key}");
    }
    let trade = &fund["trades"][0];
    for key in ["signal_date", "entry_date", "entry_price", "exit_signal_date", "exit_date", "exit_price", "return"] {
        assert!(trade.get(key).is_some(), "trade.{key}");
    }
    assert!(fund["metrics"]["trades"].as_u64().unwrap() > 20, "ten years of 11/22 crossings: {}", fund["metrics"]);
    let nav = bt["portfolio"]["nav"].as_array().unwrap();
    assert_eq!(nav[0][0], "20161201");
    assert!(nav.len() > 2000, "a NAV per trading day");
}

#[test]
fn close_fills_are_labelled_idealised_and_bad_ranges_and_costs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = signal(&["--from", "20260101", "--to", "20261127", "--fill", "close"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("idealised"));

    let out = signal(&["--from", "20261127", "--to", "20260101"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--from 20261127 is after --to 20260101"));
    let out = signal(&["--from", "20260101", "--to", "20261127", "--cost-bps=-1"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a cost"));
    let out = signal(&["--from", "20260101", "--to", "20261127", "--lot", "100"], dir.path());
    assert_eq!(out.status.code(), Some(2), "--lot needs --capital");
    let help = Command::new(env!("CARGO_BIN_EXE_signal")).args(["backtest", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("retail ETF commission of 0.025%") && help.contains("no stamp duty"), "{help}");
}

/// A deterministic pseudo-random stream (an LCG), so the market is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One fund's rows: (day, open, close) and (day, factor).
struct Rows {
    code: &'static str,
    bars: Vec<(String, f64, f64)>,
    factors: Vec<(String, f64)>,
}

/// Weekdays from mid-2023 to the end of 2026-11 without a few holiday weeks, and five funds: trends
/// with noise, one suspended for three weeks, one with two dividends, one listed in 2025, one with
/// no rows at all. Prices have three decimals, as the exchange prints them.
fn market() -> (Vec<String>, Vec<Rows>) {
    let mut days = Vec::new();
    let mut date = chrono::NaiveDate::from_ymd_opt(2023, 6, 1).unwrap();
    while date <= chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap() {
        use chrono::Datelike;
        let holiday = (date.month() == 10 && date.day() <= 7) || (date.month() == 2 && (10..=16).contains(&date.day()));
        if date.weekday().num_days_from_monday() < 5 && !holiday {
            days.push(date.format("%Y%m%d").to_string());
        }
        date = date.succ_opt().unwrap();
    }
    let mut funds = Vec::new();
    for (idx, code) in ["510300.SH", "510500.SH", "159915.SZ", "588000.SH"].into_iter().enumerate() {
        let mut random = Lcg(idx as u64 + 7);
        let mut close: f64 = 1.0 + idx as f64 * 0.8;
        let mut factor = 1.0;
        let mut rows = Rows { code, bars: Vec::new(), factors: Vec::new() };
        for (day_idx, day) in days.iter().enumerate() {
            let suspended = idx == 1 && (300..315).contains(&day_idx);
            let unlisted = idx == 3 && day.as_str() < "20250303";
            let drift = 0.004 * ((day_idx as f64 / (40.0 + 10.0 * idx as f64)).sin());
            let previous = close;
            close = ((close * (1.0 + drift + 0.02 * (random.next() - 0.5))) * 1000.0).round() / 1000.0;
            let open = ((previous * (1.0 + 0.01 * (random.next() - 0.5))) * 1000.0).round() / 1000.0;
            if idx == 2 && (day_idx == 400 || day_idx == 700) {
                // A dividend: the price drops, the factor steps up.
                close = (close * 0.95 * 1000.0).round() / 1000.0;
                factor *= 1.0 / 0.95;
            }
            if suspended || unlisted {
                continue;
            }
            rows.bars.push((day.clone(), open, close));
            rows.factors.push((day.clone(), factor));
        }
        funds.push(rows);
    }
    funds.push(Rows { code: "512880.SH", bars: Vec::new(), factors: Vec::new() });
    (days, funds)
}

/// Answers `trade_cal`, `fund_daily` and `fund_adj` from `market` like Tushare: newest first, only
/// the asked range.
fn reply(days: &[String], funds: &[Rows], api: &str, params: &Value) -> test_support::tushare::Reply {
    let start = params["start_date"].as_str().unwrap_or("19900101");
    let end = params["end_date"].as_str().unwrap_or("20991231");
    let in_range = |day: &str| day >= start && day <= end;
    let code = params["ts_code"].as_str().unwrap_or_default();
    let rows = funds.iter().find(|it| it.code == code);
    match api {
        "trade_cal" => ok(
            &["exchange", "cal_date", "is_open"],
            days.iter().rev().filter(|it| in_range(it)).map(|it| json!(["SSE", it, 1])).collect(),
        ),
        "fund_daily" => ok(
            &["ts_code", "trade_date", "open", "close"],
            rows.iter()
                .flat_map(|it| it.bars.iter().rev())
                .filter(|it| in_range(&it.0))
                .map(|(day, open, close)| json!([code, day, open, close]))
                .collect(),
        ),
        "fund_adj" => ok(
            &["ts_code", "trade_date", "adj_factor"],
            rows.iter()
                .flat_map(|it| it.factors.iter().rev())
                .filter(|it| in_range(&it.0))
                .map(|(day, factor)| json!([code, day, factor]))
                .collect(),
        ),
        _ => error(40101, "no access"),
    }
}

/// The Python with numpy that `cargo xtask test` installs.
fn numpy_python() -> PathBuf {
    let Some(python) = std::env::var_os(platform::env::TEST_NUMPY_PYTHON) else {
        panic!("{} is not set: needs numpy: cargo xtask test", platform::env::TEST_NUMPY_PYTHON);
    };
    PathBuf::from(python)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs numpy: cargo xtask test"]
async fn the_figures_agree_with_an_independent_numpy_computation_over_a_tushare_compatible_server() {
    let (days, funds) = market();
    let served = std::sync::Arc::new((days.clone(), funds));
    let fake = FakeTushare::start(Duration::ZERO, {
        let served = served.clone();
        move |seen| reply(&served.0, &served.1, &seen.api, &seen.params)
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let funds_file = dir.path().join("funds.csv");
    let names: Vec<String> = served.1.iter().map(|it| format!("{},{}", it.code, it.code)).collect();
    std::fs::write(&funds_file, names.join("\n")).unwrap();
    let (from, to) = ("20240102", "20261127");

    for (fill, cost) in [("open", "2.5"), ("close", "10")] {
        let json_path = dir.path().join(format!("bt-{fill}.json"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_signal"));
        command
            .args(["backtest", "--source", "tushare", "--tushare-url", &fake.url, "--tushare-retry-delay-ms", "1"])
            .args(["--from", from, "--to", to, "--fill", fill, "--cost-bps", cost])
            .arg("--funds")
            .arg(&funds_file)
            .arg("--data-dir")
            .arg(dir.path().join(format!("data-{fill}")))
            .arg("--json")
            .arg(&json_path)
            .env("TUSHARE_TOKEN", "tok-backtest");
        let out = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let bt = read_json(&json_path);
        assert_eq!(bt["undecided_funds"][0]["code"], "512880.SH", "the fund without rows is undecided");

        let prices = json!({
            "calendar": served.0.iter().filter(|it| it.as_str() >= from && it.as_str() <= to).collect::<Vec<_>>(),
            "from": from, "to": to, "short": 11, "long": 22, "lookback_days": 150,
            "cost_bps": cost.parse::<f64>().unwrap(), "fill": fill, "benchmark": "510300.SH",
            "funds": served.1.iter().map(|it| json!({
                "code": it.code,
                "bars": it.bars.iter().map(|(d, o, c)| json!([d, o, c])).collect::<Vec<_>>(),
                "factors": it.factors.iter().map(|(d, f)| json!([d, f])).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        let prices_path = dir.path().join(format!("prices-{fill}.json"));
        std::fs::write(&prices_path, prices.to_string()).unwrap();
        let check = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/backtest/check.py");
        let out = Command::new(numpy_python()).arg(check).arg(&prices_path).arg(&json_path).output().unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "fill {fill}: {said}");
        assert!(said.contains("numpy agrees: 4 funds"), "{said}");
    }
}

#[test]
fn a_sweep_replays_every_pair_with_short_below_long_and_ranks_them_by_portfolio_sharpe() {
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("sweep.json");
    let args = ["--from", "20250101", "--to", "20261127", "--short", "5:25:10", "--long", "20:30:10"];
    let out = signal(&[&args[..], &["--json", json_path.to_str().unwrap()]].concat(), dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // 5, 15, 25 against 20, 30: (25, 20) is not a pair.
    assert!(stdout.starts_with("5 pairs from 20250101 to 20261127, whole-series averages"), "{stdout}");
    assert!(stdout.contains("trades of 11/22 differ from the exact replay"), "{stdout}");
    let sweep = read_json(&json_path);
    assert_eq!(sweep["exact"], false);
    let pairs = sweep["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 5);
    assert!(pairs.iter().all(|it| it["short"].as_u64() < it["long"].as_u64()));
    let sharpes: Vec<f64> = pairs.iter().map(|it| it["metrics"]["sharpe"].as_f64().unwrap()).collect();
    assert!(sharpes.windows(2).all(|it| it[0] >= it[1]), "{sharpes:?}");

    let exact = signal(&[&args[..], &["--exact"]].concat(), dir.path());
    assert!(exact.status.success(), "{}", String::from_utf8_lossy(&exact.stderr));
    assert!(
        String::from_utf8_lossy(&exact.stdout)
            .starts_with("5 pairs from 20250101 to 20261127, each the exact daily replay")
    );

    let out = signal(&["--from", "20250101", "--to", "20261127", "--short", "0:5"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a period"));
    let out = signal(&["--from", "20250101", "--to", "20261127", "--short", "30", "--long", "20"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}
