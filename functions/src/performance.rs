//! The track record pages: `/performance`, what following the published signals earned in each
//! stored period (the portfolio against equal-weight buy-and-hold and the benchmark, the figures,
//! the funds), and `/funds/{code}`, one fund's prices, averages and trades over the backtest period.
//!
//! The figures come from the job's stored track record (`platform::reports::performance_key`) and
//! a fund's chart data (`fund_series_key`); the performance page costs that one read, a fund page
//! two. Before the job has written a track record the performance page says so with a 200: the page
//! exists (every page links to it), it is only empty, and a 404 would tell a visitor, a crawler or
//! a link checker that the link is wrong. The numbers are rounded for reading; the stored JSON
//! keeps them whole.

use std::collections::HashMap;

use askama::Template;
use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use platform::{
    backtest::json::{BacktestJson, FundSeriesJson, MetricsJson, PerformanceJson, PortfolioJson, Trade},
    date::TradeDate,
    fund::FundCode,
    reports,
    strategy::DmaParams,
};

use crate::{
    error::{AppError, PageError},
    headers::CACHE_A_MINUTE,
    memo::{Reads, Rendered},
    plot::{self, Line, Marker, MarkerKind, Plot},
};

/// `/performance`: each period of the track record, or a page saying it comes after the next run.
pub(crate) async fn performance_page(reads: &mut Reads<'_>, params: &DmaParams) -> Result<Rendered, PageError> {
    let record = load_performance(reads, params).await?;
    let page = match record {
        None => PerformancePage { updated: None, sample_data: false, periods: Vec::new(), definitions: DEFINITIONS },
        Some(record) => PerformancePage {
            updated: Some(iso(&record.updated)),
            sample_data: record.source == "sample",
            periods: record.periods.iter().map(|it| period(&it.id, &it.label, &it.backtest)).collect(),
            definitions: DEFINITIONS,
        },
    };
    Ok(Rendered::html(page.render()?, CACHE_A_MINUTE))
}

/// What `/funds/{text}` names: a fund's page, the canonical page of a code in another spelling
/// (`510300`, `510300.sh`: sent on there), or nothing (a 404 before any key is made).
pub(crate) enum FundAddress {
    Page(FundCode),
    Elsewhere(String),
    NotFound,
}

impl FundAddress {
    pub(crate) fn of(text: &str) -> FundAddress {
        match FundCode::parse(text) {
            Ok(code) if code.as_str() == text => FundAddress::Page(code),
            Ok(code) => FundAddress::Elsewhere(format!("/funds/{code}")),
            Err(_) => FundAddress::NotFound,
        }
    }

    /// The redirect to `location`, the canonical page.
    pub(crate) fn answer(location: String) -> Response {
        (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, location)]).into_response()
    }
}

/// `/funds/{code}`: a fund's chart with its trades and its figures against buy-and-hold.
pub(crate) async fn fund_page(
    reads: &mut Reads<'_>,
    params: &DmaParams,
    code: &FundCode,
) -> Result<Rendered, PageError> {
    let key = reports::fund_series_key(params, code);
    let Some(bytes) = reads.get(&key).await? else {
        return Err(AppError::NotFound.into());
    };
    let series =
        FundSeriesJson::parse(&bytes).map_err(|err| anyhow::Error::new(err).context(format!("parsing {key}")))?;
    let record = load_performance(reads, params).await?;
    let backtest = record.as_ref().and_then(|it| it.periods.iter().find(|it| it.id == "backtest"));
    let fund = backtest.and_then(|it| it.backtest.funds.iter().find(|it| it.code == code.as_str()));
    let page = FundPage {
        code: code.to_string(),
        name: series.name.clone(),
        from: series.dates.first().map(|it| iso(it)).unwrap_or_default(),
        to: series.dates.last().map(|it| iso(it)).unwrap_or_default(),
        updated: record.as_ref().map(|it| iso(&it.updated)),
        sample_data: record.as_ref().is_some_and(|it| it.source == "sample"),
        rules: backtest.map(|it| rules(&it.backtest)),
        chart: fund_chart(&series, params),
        metrics: fund.map(|it| {
            METRICS.iter().map(|metric| metric_row(metric, &[Some(&it.metrics), Some(&it.buy_and_hold)])).collect()
        }),
        trades: series.trades.iter().enumerate().map(|(idx, it)| trade_row(idx + 1, it)).collect(),
        short: params.short(),
        long: params.long(),
        definitions: DEFINITIONS,
    };
    Ok(Rendered::html(page.render()?, CACHE_A_MINUTE))
}

#[derive(Template)]
#[template(path = "performance.html")]
struct PerformancePage {
    /// The last trading day the figures include; `None` before the first track record.
    updated: Option<String>,
    sample_data: bool,
    periods: Vec<PeriodView>,
    definitions: &'static [Definition],
}

/// One period on the performance page.
struct PeriodView {
    id: String,
    label: String,
    from: String,
    to: String,
    rules: Rules,
    chart: Option<String>,
    /// The benchmark column's heading, when there is a benchmark.
    benchmark: Option<String>,
    /// `None` when no fund could be replayed.
    metrics: Option<Vec<MetricRow>>,
    funds: Vec<FundRow>,
    undecided: Vec<(String, String)>,
}

/// How a backtest traded, in words.
struct Rules {
    fill: String,
    idealised: bool,
    cost: String,
    sizing: String,
}

/// A figure for each compared curve, with a note (the drawdown's days) under some.
struct MetricRow {
    name: &'static str,
    anchor: &'static str,
    values: Vec<(String, String)>,
}

/// A fund's line in a period's table.
struct FundRow {
    code: String,
    name: String,
    total_return: String,
    cagr: String,
    max_drawdown: String,
    trades: String,
    win_rate: String,
    buy_and_hold: String,
}

#[derive(Template)]
#[template(path = "fund.html")]
struct FundPage {
    code: String,
    name: String,
    from: String,
    to: String,
    updated: Option<String>,
    sample_data: bool,
    rules: Option<Rules>,
    chart: Option<String>,
    /// The strategy's figures and buy-and-hold's, when the track record has the fund.
    metrics: Option<Vec<MetricRow>>,
    trades: Vec<TradeRow>,
    short: usize,
    long: usize,
    definitions: &'static [Definition],
}

/// A trade on a fund page; exit fields are `-` for the position still open.
struct TradeRow {
    number: usize,
    signal_date: String,
    entry_date: String,
    entry_price: String,
    exit_signal_date: String,
    exit_date: String,
    exit_price: String,
    ret: String,
    class: &'static str,
    open: bool,
}

/// A figure's name and what it means, exactly as the README defines it.
struct Definition {
    anchor: &'static str,
    name: &'static str,
    text: &'static str,
}

/// How a figure is read from [`MetricsJson`] and written.
struct Metric {
    anchor: &'static str,
    name: &'static str,
    value: fn(&MetricsJson) -> Option<String>,
    note: fn(&MetricsJson) -> String,
}

const METRICS: &[Metric] = &[
    Metric { anchor: "total-return", name: "总收益", value: |it| Some(signed_pct(it.total_return)), note: no_note },
    Metric { anchor: "cagr", name: "年化收益", value: |it| it.cagr.map(signed_pct), note: no_note },
    Metric { anchor: "sharpe", name: "夏普比率", value: |it| it.sharpe.map(ratio), note: no_note },
    Metric {
        anchor: "max-drawdown", name: "最大回撤", value: |it| Some(pct(it.max_drawdown)), note: drawdown_days
    },
    Metric { anchor: "trades", name: "交易次数", value: |it| it.trades.map(|it| it.to_string()), note: no_note },
    Metric { anchor: "win-rate", name: "胜率", value: |it| it.win_rate.map(pct1), note: no_note },
    Metric { anchor: "exposure", name: "持仓时间占比", value: |it| it.exposure.map(pct1), note: no_note },
    Metric { anchor: "profit-factor", name: "盈亏比", value: |it| it.profit_factor.map(ratio), note: no_note },
    Metric { anchor: "avg-trade", name: "平均每笔收益", value: |it| it.avg_trade.map(signed_pct), note: no_note },
    Metric { anchor: "calmar", name: "卡玛比率", value: |it| it.calmar.map(ratio), note: no_note },
];

const DEFINITIONS: &[Definition] = &[
    Definition {
        anchor: "total-return",
        name: "总收益 (total return)",
        text: "V_end − 1, 期末净值减 1 (起点净值为 1)",
    },
    Definition {
        anchor: "cagr",
        name: "年化收益 (CAGR)",
        text: "V_end^(365.25/天数) − 1, 天数为首尾交易日之间的自然日数",
    },
    Definition {
        anchor: "sharpe",
        name: "夏普比率 (Sharpe)",
        text: "mean(r)/std(r, ddof=1)·√252, r 为每日净值收益率, 无风险利率为 0",
    },
    Definition {
        anchor: "max-drawdown",
        name: "最大回撤 (max drawdown)",
        text: "max(1 − V/此前最高净值), 起点算作最高净值 1; 下注高点与低点的日期",
    },
    Definition {
        anchor: "trades",
        name: "交易次数 (trades)",
        text: "已平仓的买卖回合数, 组合合计各基金; 期末仍持有的不计",
    },
    Definition { anchor: "win-rate", name: "胜率 (win rate)", text: "收益大于 0 的已平仓交易所占比例" },
    Definition {
        anchor: "exposure",
        name: "持仓时间占比 (exposure)",
        text: "收盘时持有仓位的交易日所占比例, 组合为各基金的平均",
    },
    Definition {
        anchor: "profit-factor",
        name: "盈亏比 (profit factor)",
        text: "Σ 盈利交易的收益 / Σ |亏损交易的收益|",
    },
    Definition {
        anchor: "avg-trade", name: "平均每笔收益 (avg trade)", text: "已平仓交易收益 (扣除成本) 的平均值"
    },
    Definition { anchor: "calmar", name: "卡玛比率 (Calmar)", text: "年化收益 / 最大回撤" },
];

const PORTFOLIO_COLOUR: &str = "#1d4ed8";
const HOLD_COLOUR: &str = "#d97706";
const BENCHMARK_COLOUR: &str = "#6b7280";
const CLOSE_COLOUR: &str = "#1f2937";
const SHORT_COLOUR: &str = "#d97706";
const LONG_COLOUR: &str = "#2563eb";

/// The stored track record; none yet is `None`, an unreadable one an error (a 500).
async fn load_performance(reads: &mut Reads<'_>, params: &DmaParams) -> Result<Option<PerformanceJson>, AppError> {
    let key = reports::performance_key(params);
    let Some(bytes) = reads.get(&key).await? else {
        return Ok(None);
    };
    let record =
        PerformanceJson::parse(&bytes).map_err(|err| anyhow::Error::new(err).context(format!("parsing {key}")))?;
    Ok(Some(record))
}

fn period(id: &str, label: &str, backtest: &BacktestJson) -> PeriodView {
    let portfolio = backtest.portfolio.as_ref();
    let benchmark = portfolio.and_then(|it| it.benchmark_code.clone().zip(it.benchmark.as_ref()));
    let metrics = portfolio.map(|it| {
        let compared = [Some(&it.metrics), Some(&it.buy_and_hold), benchmark.as_ref().map(|(_, it)| *it)];
        let compared = if benchmark.is_some() { &compared[..] } else { &compared[..2] };
        METRICS.iter().map(|metric| metric_row(metric, compared)).collect()
    });
    let funds = backtest
        .funds
        .iter()
        .map(|fund| FundRow {
            code: fund.code.clone(),
            name: fund.name.clone(),
            total_return: signed_pct(fund.metrics.total_return),
            cagr: fund.metrics.cagr.map_or_else(dash, signed_pct),
            max_drawdown: pct(fund.metrics.max_drawdown),
            trades: fund.metrics.trades.map_or_else(dash, |it| it.to_string()),
            win_rate: fund.metrics.win_rate.map_or_else(dash, pct1),
            buy_and_hold: signed_pct(fund.buy_and_hold.total_return),
        })
        .collect();
    PeriodView {
        id: id.to_owned(),
        label: label.to_owned(),
        from: iso(&backtest.from),
        to: iso(&backtest.to),
        rules: rules(backtest),
        chart: portfolio.and_then(|it| nav_chart(label, it)),
        benchmark: benchmark.map(|(code, _)| format!("基准 {code} 买入持有")),
        metrics,
        funds,
        undecided: backtest.undecided_funds.iter().map(|it| (it.code.clone(), it.reason.clone())).collect(),
    }
}

/// The portfolio's NAV against equal-weight buy-and-hold's and the benchmark's, on the portfolio's days.
fn nav_chart(label: &str, portfolio: &PortfolioJson) -> Option<String> {
    let dates: Vec<TradeDate> = portfolio.nav.iter().filter_map(|(day, _)| TradeDate::parse(day).ok()).collect();
    let line = |label: String, class, colour, width, curve: &[(String, f64)]| Line {
        label,
        class,
        colour,
        width,
        values: aligned(&dates, curve),
    };
    let mut lines = vec![
        line("策略组合".to_owned(), "portfolio", PORTFOLIO_COLOUR, 2.0, &portfolio.nav),
        line("等权买入持有".to_owned(), "buy-and-hold", HOLD_COLOUR, 1.5, &portfolio.buy_and_hold_nav),
    ];
    if let (Some(code), Some(nav)) = (&portfolio.benchmark_code, &portfolio.benchmark_nav) {
        lines.push(line(format!("基准 {code}"), "benchmark", BENCHMARK_COLOUR, 1.2, nav));
    }
    let title = format!("{label}: 策略组合、等权买入持有与基准的净值");
    plot::svg(&Plot { title: &title, value_title: "净值 (起点 = 1)", dates: &dates, lines, markers: vec![] })
}

fn fund_chart(series: &FundSeriesJson, params: &DmaParams) -> Option<String> {
    // The days that parse, with their values: a day that does not (the job never writes one) is left out.
    let (kept, dates): (Vec<usize>, Vec<TradeDate>) =
        series.dates.iter().enumerate().filter_map(|(idx, it)| Some((idx, TradeDate::parse(it).ok()?))).unzip();
    let pick = |values: &[Option<f64>]| -> Vec<Option<f64>> {
        kept.iter().map(|&it| values.get(it).copied().flatten()).collect()
    };
    let close: Vec<Option<f64>> = series.close.iter().map(|it| Some(*it)).collect();
    let day_of = |day: TradeDate| dates.binary_search(&day).ok();
    let mut markers = Vec::new();
    for trade in &series.trades {
        if let Some(day) = day_of(trade.entry_date) {
            markers.push(Marker { kind: MarkerKind::Entry, day, value: trade.entry_price });
        }
        if let (Some(day), Some(value)) = (trade.exit_date.and_then(day_of), trade.exit_price) {
            markers.push(Marker { kind: MarkerKind::Exit, day, value });
        }
    }
    let title = format!("{}({}) 前复权收盘价、均线与交易", series.name, series.code);
    let line = |label: String, class, colour, width, values| Line { label, class, colour, width, values };
    plot::svg(&Plot {
        title: &title,
        value_title: "前复权价格",
        dates: &dates,
        lines: vec![
            line(format!("{}日均线", params.long()), "ma-long", LONG_COLOUR, 1.2, pick(&series.ma_long)),
            line(format!("{}日均线", params.short()), "ma-short", SHORT_COLOUR, 1.2, pick(&series.ma_short)),
            line("前复权收盘价".to_owned(), "close", CLOSE_COLOUR, 1.2, pick(&close)),
        ],
        markers,
    })
}

/// `curve`'s value on each of `dates`, by day (the curves are written on the same calendar).
fn aligned(dates: &[TradeDate], curve: &[(String, f64)]) -> Vec<Option<f64>> {
    let by_day: HashMap<&str, f64> = curve.iter().map(|(day, value)| (day.as_str(), *value)).collect();
    dates.iter().map(|it| by_day.get(it.to_string().as_str()).copied()).collect()
}

fn rules(backtest: &BacktestJson) -> Rules {
    let fill = match backtest.fill.as_str() {
        "open" => "信号次一交易日开盘价成交 (fill: next open)".to_owned(),
        "close" => "信号当日收盘价成交 (fill: close)".to_owned(),
        other => format!("fill: {other}"),
    };
    let sizing = &backtest.sizing;
    let sizing = match (sizing.kind.as_str(), sizing.lot, sizing.min_commission) {
        ("lots", Some(lot), Some(min_commission)) => format!(
            "整手交易: 起始资金 {} 元, 每手 {lot} 份, 单边最低佣金 {} 元",
            trimmed(sizing.capital, 2),
            trimmed(min_commission, 2)
        ),
        _ => "按比例持有 (可买零碎份额), 每只基金起始资金相同, 不再平衡".to_owned(),
    };
    Rules {
        fill,
        idealised: backtest.idealised || backtest.fill == "close",
        cost: format!(
            "单边 {} 个基点 ({}%), 买卖各收一次",
            trimmed(backtest.cost_bps, 2),
            trimmed(backtest.cost_bps / 100.0, 4)
        ),
        sizing,
    }
}

fn metric_row(metric: &Metric, compared: &[Option<&MetricsJson>]) -> MetricRow {
    let values = compared
        .iter()
        .map(|it| match it {
            Some(metrics) => ((metric.value)(metrics).unwrap_or_else(dash), (metric.note)(metrics)),
            None => (dash(), String::new()),
        })
        .collect();
    MetricRow { name: metric.name, anchor: metric.anchor, values }
}

fn trade_row(number: usize, trade: &Trade) -> TradeRow {
    let day = |it: Option<TradeDate>| it.map_or_else(dash, TradeDate::iso);
    TradeRow {
        number,
        signal_date: trade.signal_date.iso(),
        entry_date: trade.entry_date.iso(),
        entry_price: format!("{:.3}", trade.entry_price),
        exit_signal_date: day(trade.exit_signal_date),
        exit_date: day(trade.exit_date),
        exit_price: trade.exit_price.map_or_else(dash, |it| format!("{it:.3}")),
        ret: signed_pct(trade.ret),
        class: if trade.ret > 0.0 {
            "gain"
        } else if trade.ret < 0.0 {
            "loss"
        } else {
            ""
        },
        open: trade.exit_date.is_none(),
    }
}

fn no_note(_: &MetricsJson) -> String {
    String::new()
}

fn drawdown_days(metrics: &MetricsJson) -> String {
    match (&metrics.max_drawdown_peak, &metrics.max_drawdown_trough) {
        (Some(peak), Some(trough)) => format!("{} → {}", iso(peak), iso(trough)),
        _ => String::new(),
    }
}

/// `YYYYMMDD` as `YYYY-MM-DD`; anything else as it is (askama escapes it).
fn iso(day: &str) -> String {
    TradeDate::parse(day).map_or_else(|_| day.to_owned(), |it| it.iso())
}

fn dash() -> String {
    "-".to_owned()
}

/// `+12.34%`.
fn signed_pct(fraction: f64) -> String {
    format!("{:+.2}%", fraction * 100.0)
}

/// `12.34%`.
fn pct(fraction: f64) -> String {
    format!("{:.2}%", fraction * 100.0)
}

/// `12.3%`.
fn pct1(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

fn ratio(value: f64) -> String {
    format!("{value:.2}")
}

/// At most `decimals` decimals, without trailing zeros: `2.5`, `0.025`, `5`.
fn trimmed(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text }
}

#[cfg(test)]
mod tests;
