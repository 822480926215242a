//! The track record pages through `oneshot`, over small hand-made records; the ten-year record of the
//! sample market and the page sizes are in `tests/performance.rs`.

use platform::{
    backtest::json::{FundJson, PeriodJson, PortfolioJson, SCHEMA, SizingJson, UndecidedJson},
    store::ObjectStore,
};

use super::*;
use crate::test_support::{app, assert_not_found_before_the_store, assert_not_found_page, broken_store, get, page};

fn metrics(total_return: f64, with_trades: bool) -> MetricsJson {
    MetricsJson {
        total_return,
        cagr: Some(total_return / 2.0),
        sharpe: Some(0.8123),
        max_drawdown: 0.2345,
        max_drawdown_peak: Some("20250303".to_owned()),
        max_drawdown_trough: Some("20250630".to_owned()),
        max_drawdown_recovery: None,
        trades: with_trades.then_some(7),
        win_rate: with_trades.then_some(0.4286),
        exposure: with_trades.then_some(0.55),
        profit_factor: with_trades.then_some(1.75),
        avg_trade: with_trades.then_some(0.0123),
        calmar: with_trades.then_some(0.52),
    }
}

fn trade(entry: &str, exit: Option<&str>, ret: f64) -> Trade {
    let day = |it: &str| TradeDate::parse(it).unwrap();
    Trade {
        signal_date: day(entry),
        entry_date: day(entry),
        entry_price: 1.0,
        exit_signal_date: exit.map(day),
        exit_date: exit.map(day),
        exit_price: exit.map(|_| 1.0 + ret),
        ret,
    }
}

/// A backtest of two funds over five days; `name` is the first fund's name.
fn backtest(fill: &str, name: &str) -> BacktestJson {
    let days = ["20261123", "20261124", "20261125", "20261126", "20261127"];
    let curve = |values: [f64; 5]| -> Vec<(String, f64)> {
        days.iter().zip(values).map(|(day, value)| (day.to_string(), value)).collect()
    };
    let fund = |code: &str, name: &str| FundJson {
        code: code.to_owned(),
        name: name.to_owned(),
        trades: vec![trade("20261124", Some("20261126"), 0.05)],
        pending: vec![],
        metrics: metrics(0.1234, true),
        buy_and_hold: metrics(0.0567, false),
    };
    BacktestJson {
        schema: SCHEMA,
        strategy: "dma-11-22".to_owned(),
        short: 11,
        long: 22,
        from: days[0].to_owned(),
        to: days[4].to_owned(),
        fill: fill.to_owned(),
        idealised: fill == "close",
        cost_bps: 2.5,
        sizing: SizingJson { kind: "fraction".to_owned(), capital: 1.0, lot: None, min_commission: None },
        funds: vec![fund("510300.SH", name), fund("510500.SH", "500ETF")],
        portfolio: Some(PortfolioJson {
            metrics: metrics(0.1234, true),
            buy_and_hold: metrics(0.0567, false),
            benchmark_code: Some("510300.SH".to_owned()),
            benchmark: Some(metrics(-0.0321, false)),
            nav: curve([1.0, 1.01, 1.05, 1.1, 1.1234]),
            buy_and_hold_nav: curve([1.0, 0.99, 1.02, 1.04, 1.0567]),
            benchmark_nav: Some(curve([1.0, 0.98, 0.97, 0.96, 0.9679])),
        }),
        undecided_funds: vec![UndecidedJson { code: "512000.SH".to_owned(), reason: "数据不足 <b>".to_owned() }],
    }
}

fn record(name: &str) -> PerformanceJson {
    PerformanceJson {
        schema: SCHEMA,
        strategy: "dma-11-22".to_owned(),
        updated: "20261127".to_owned(),
        source: "sample".to_owned(),
        periods: vec![
            PeriodJson { id: "live".to_owned(), label: "上线以来".to_owned(), backtest: backtest("close", name) },
            PeriodJson {
                id: "backtest".to_owned(), label: "近十年回测".to_owned(), backtest: backtest("open", name)
            },
        ],
    }
}

fn series(name: &str) -> FundSeriesJson {
    let dates: Vec<String> = ["20261123", "20261124", "20261125", "20261126", "20261127"].map(str::to_owned).into();
    FundSeriesJson {
        schema: SCHEMA,
        code: "510300.SH".to_owned(),
        name: name.to_owned(),
        dates,
        close: vec![1.0, 1.01, 1.03, 1.05, 1.04],
        ma_short: vec![None, Some(1.005), Some(1.013), Some(1.022), Some(1.026)],
        ma_long: vec![None, None, Some(1.013), Some(1.018), Some(1.024)],
        trades: vec![trade("20261124", Some("20261126"), 0.0394), trade("20261127", None, -0.012)],
    }
}

/// A store with the record and the first fund's chart data, the fund named `name`.
async fn stored(name: &str) -> (tempfile::TempDir, ObjectStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = ObjectStore::local(dir.path());
    let params = DmaParams::STANDARD;
    store
        .put(&reports::performance_key(&params), record(name).to_json().into_bytes(), "application/json")
        .await
        .unwrap();
    let code = FundCode::parse("510300.SH").unwrap();
    let json = serde_json::to_vec(&series(name)).unwrap();
    store.put(&reports::fund_series_key(&params, &code), json, "application/json").await.unwrap();
    (dir, store)
}

/// The body of the page at `uri`: a page, with no inline style or script.
async fn page_at(store: &ObjectStore, uri: &str) -> String {
    let body = page(app(store), uri, 60).await;
    assert!(!body.contains("style=") && !body.contains("<script>"), "{body}");
    body
}

#[tokio::test]
async fn the_performance_page_shows_each_period_with_its_chart_figures_rules_funds_and_undecided() {
    let (_dir, store) = stored("沪深300ETF").await;
    let body = &page_at(&store, "/performance").await;
    assert!(body.contains("数据截至 <strong>2026-11-27</strong>"), "{body}");
    assert!(body.contains("样例数据"), "{body}");
    let live = body.find(r#"<section class="period" id="period-live">"#).unwrap();
    let backtest = body.find(r#"<section class="period" id="period-backtest">"#).unwrap();
    assert!(live < backtest, "live first, then the backtest");
    let (live, backtest) = (&body[live..backtest], &body[backtest..]);
    assert!(live.contains("上线以来 <small>2026-11-23 至 2026-11-27</small>"), "{live}");
    assert!(live.contains("信号当日收盘价成交") && live.contains("理想化 (idealised)"), "{live}");
    assert!(backtest.contains("信号次一交易日开盘价成交") && !backtest.contains("理想化"), "{backtest}");
    assert!(backtest.contains("单边 2.5 个基点 (0.025%)"), "{backtest}");
    for section in [live, backtest] {
        assert_eq!(section.matches("<svg ").count(), 1, "one chart per period");
        for class in ["portfolio", "buy-and-hold", "benchmark"] {
            assert!(section.contains(&format!(r#"<path class="{class}""#)), "{class}: {section}");
        }
        assert!(section.contains(">策略组合</text>") && section.contains(">基准 510300.SH</text>"), "the legend");
        assert!(section.contains(">净值 (起点 = 1)</text>") && section.contains(">日期</text>"), "the axes");
        assert!(section.contains("<th>基准 510300.SH 买入持有</th>"), "{section}");
        assert!(section.contains(r##"<th><a href="#def-sharpe">夏普比率</a></th><td>0.81</td><td>0.81</td>"##));
        let drawdown = "<td>23.45%<br><small>2025-03-03 → 2025-06-30</small></td>";
        assert!(section.contains(drawdown), "{section}");
        assert!(section.contains("<td>+12.34%</td><td>+5.67%</td><td>-3.21%</td>"), "total return: {section}");
        assert!(section.contains("<td>7</td><td>-</td><td>-</td>"), "B&H has no trades: {section}");
        let fund = r#"<td><a href="/funds/510300.SH">沪深300ETF</a> <small>510300.SH</small></td><td>+12.34%</td>"#;
        assert!(section.contains(fund), "{section}");
        assert!(section.contains("<li>512000.SH: 数据不足 &#60;b&#62;</li>"), "{section}");
    }
    assert_eq!(body.matches(r#"<dt id="def-"#).count(), 10, "each figure is defined once");
    assert!(body.contains("mean(r)/std(r, ddof=1)·√252"), "{body}");
    assert!(body.contains(r#"<a href="/performance">策略业绩</a>"#), "the header links here");
}

#[tokio::test]
async fn the_performance_page_before_the_first_record_says_it_comes_after_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let body = page_at(&ObjectStore::local(dir.path()), "/performance").await;
    assert!(body.contains(r#"id="no-record""#) && body.contains("每日任务下一次运行后"), "{body}");
    assert!(!body.contains("<svg"), "{body}");
}

#[tokio::test]
async fn an_unreadable_record_is_a_500_that_shows_nothing_of_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let store = ObjectStore::local(dir.path());
    store
        .put(&reports::performance_key(&DmaParams::STANDARD), b"{not json".to_vec(), "application/json")
        .await
        .unwrap();
    let answer = get(app(&store), "/performance").await;
    assert_eq!(answer.status, 500);
    assert!(answer.body.contains("服务暂时出错") && !answer.body.contains("json"), "{}", answer.body);
}

#[tokio::test]
async fn a_fund_page_has_the_chart_with_markers_the_trades_and_the_figures_against_buy_and_hold() {
    let (_dir, store) = stored("沪深300ETF").await;
    let body = &page_at(&store, "/funds/510300.SH").await;
    assert!(body.contains("<h1>沪深300ETF <small>510300.SH</small></h1>"), "{body}");
    assert!(
        body.contains("近十年回测中的行情 2026-11-23 至 2026-11-27, 数据截至 <strong>2026-11-27</strong>"),
        "{body}"
    );
    assert!(body.contains("信号次一交易日开盘价成交"), "the backtest period's rules: {body}");
    for class in ["close", "ma-short", "ma-long"] {
        assert!(body.contains(&format!(r#"<path class="{class}""#)), "{class}: {body}");
    }
    let entries = body.split(r#"<path class="entry""#).nth(1).unwrap().split("/>").next().unwrap();
    assert_eq!(entries.matches('M').count(), 2, "both trades entered: {entries}");
    let exits = body.split(r#"<path class="exit""#).nth(1).unwrap().split("/>").next().unwrap();
    assert_eq!(exits.matches('M').count(), 1, "one trade exited: {exits}");
    assert!(body.contains(">11日均线</text>") && body.contains(">前复权收盘价</text>"), "the legend: {body}");
    let closed = concat!(
        "<td>1</td><td>2026-11-24</td><td>2026-11-24</td><td>1.000</td><td>2026-11-26</td><td>2026-11-26</td>",
        r#"<td>1.039</td><td class="gain">+3.94%</td>"#
    );
    assert!(body.contains(closed), "{body}");
    assert!(body.contains(r#"<tr class="open"><td>2</td>"#), "{body}");
    assert!(body.contains(r#"<td class="loss">-1.20% <small>持仓中</small></td>"#), "{body}");
    assert!(body.contains("<th>双均线策略</th><th>买入持有</th>"), "{body}");
    assert!(body.contains("<td>+12.34%</td><td>+5.67%</td>"), "{body}");
    assert!(body.contains(r#"<dt id="def-calmar">"#), "{body}");
}

#[tokio::test]
async fn a_fund_page_without_a_record_still_shows_the_chart_and_the_trades() {
    let (dir, store) = stored("沪深300ETF").await;
    std::fs::remove_file(dir.path().join(reports::performance_key(&DmaParams::STANDARD).as_str())).unwrap();
    let body = page_at(&store, "/funds/510300.SH").await;
    assert!(body.contains("业绩记录中暂无这只基金的指标"), "{body}");
    assert!(body.contains(r#"<path class="close""#), "{body}");
}

#[tokio::test]
async fn a_fund_without_chart_data_is_a_404_page() {
    let (_dir, store) = stored("沪深300ETF").await;
    for uri in ["/funds/510500.SH", "/funds/159915.SZ"] {
        assert_not_found_page(&get(app(&store), uri).await, uri);
    }
}

#[tokio::test]
async fn a_malformed_code_is_a_404_page_that_never_reaches_the_store() {
    assert_not_found_before_the_store(&[
        "/funds/51030",
        "/funds/510300.HK",
        "/funds/510300.SH.json",
        "/funds/..%2F..%2Fsecret",
        "/funds/%3Cscript%3E",
        "/funds/510300.SH%00",
        "/funds/",
        "/funds",
    ])
    .await;
}

#[tokio::test]
async fn a_code_in_another_spelling_is_sent_to_its_page() {
    let dir = tempfile::tempdir().unwrap();
    let broken = broken_store(&dir);
    for uri in ["/funds/510300", "/funds/510300.sh"] {
        let answer = get(app(&broken), uri).await;
        assert_eq!(answer.status, 308, "{uri}");
        assert_eq!(answer.header("location"), "/funds/510300.SH", "{uri}");
    }
}

#[tokio::test]
async fn every_value_from_the_record_is_escaped() {
    let (_dir, store) = stored("<script>alert(1)</script>").await;
    for uri in ["/performance", "/funds/510300.SH"] {
        let answer = get(app(&store), uri).await;
        assert_eq!(answer.status, 200, "{uri}");
        assert!(!answer.body.contains("<script>alert"), "{uri}: {}", answer.body);
        assert!(
            answer.body.contains("&lt;script&gt;alert(1)") || answer.body.contains("&#60;script&#62;alert(1)"),
            "{uri}: the name shows as text: {}",
            answer.body
        );
    }
}

#[test]
fn numbers_are_written_with_few_decimals() {
    assert_eq!(trimmed(2.5, 2), "2.5");
    assert_eq!(trimmed(0.025, 4), "0.025");
    assert_eq!(trimmed(5.0, 2), "5");
    assert_eq!(signed_pct(0.123456), "+12.35%");
    assert_eq!(pct1(0.4286), "42.9%");
    assert_eq!(iso("20261127"), "2026-11-27");
}
