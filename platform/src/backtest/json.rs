//! The stored and printed shape of a backtest: `signal backtest --json` writes it, the job stores
//! it as `reports/performance/<strategy>.json`, the site reads it. A boundary: the domain types
//! above do not derive `Serialize` (but for [`Trade`], stored as it is); this shape has a `schema`
//! version.

use serde::{Deserialize, Serialize};

pub use super::Trade;
use super::{Backtest, CurveMetrics, FundRecord, Sizing, StrategyMetrics};
use crate::date::TradeDate;

/// The version of this shape.
pub const SCHEMA: u32 = 1;

/// A whole backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestJson {
    /// The shape's version.
    pub schema: u32,
    /// The strategy's id, e.g. `dma-11-22`.
    pub strategy: String,
    /// The short period.
    pub short: usize,
    /// The long period.
    pub long: usize,
    /// The first day of the range, `YYYYMMDD`.
    pub from: String,
    /// The last day of the range.
    pub to: String,
    /// `open` (next bar's open) or `close` (the signal day's close: idealised).
    pub fill: String,
    /// Whether the fill rule is the idealised one: every output says so.
    pub idealised: bool,
    /// The cost of one side, in basis points.
    pub cost_bps: f64,
    /// `fraction`, or `lots` with capital, lot and minimum commission.
    pub sizing: SizingJson,
    /// The replayed funds, in list order.
    pub funds: Vec<FundJson>,
    /// The equal-weight portfolio; `None` when no fund was replayed.
    pub portfolio: Option<PortfolioJson>,
    /// Funds with nothing to replay.
    pub undecided_funds: Vec<UndecidedJson>,
}

/// How trades were sized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizingJson {
    /// `fraction` or `lots`.
    pub kind: String,
    /// Starting cash (1.0 for `fraction`).
    pub capital: f64,
    /// Shares per lot (`lots` only).
    pub lot: Option<u32>,
    /// The least commission of a side (`lots` only).
    pub min_commission: Option<f64>,
}

/// One fund's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FundJson {
    /// The code, e.g. `510300.SH`.
    pub code: String,
    /// The display name.
    pub name: String,
    /// Round trips, then the open position (exit fields null).
    pub trades: Vec<Trade>,
    /// Signals that would trade after the range.
    pub pending: Vec<PendingJson>,
    /// The strategy's figures.
    pub metrics: MetricsJson,
    /// Buy-and-hold's figures.
    pub buy_and_hold: MetricsJson,
}

/// A signal whose fill falls after the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingJson {
    /// `BUY` or `SELL`.
    pub signal: String,
    /// Its day.
    pub signal_date: String,
}

/// The figures of a curve, and of its trades for a strategy (absent for buy-and-hold).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsJson {
    /// `V_{N−1} − 1`.
    pub total_return: f64,
    /// Compound annual growth.
    pub cagr: Option<f64>,
    /// Annualised Sharpe ratio, risk-free 0.
    pub sharpe: Option<f64>,
    /// Deepest fall from a running peak, a positive fraction.
    pub max_drawdown: f64,
    /// The peak's day.
    pub max_drawdown_peak: Option<String>,
    /// The trough's day.
    pub max_drawdown_trough: Option<String>,
    /// The day back at the peak; null when not recovered.
    pub max_drawdown_recovery: Option<String>,
    /// Closed round trips.
    #[serde(default)]
    pub trades: Option<usize>,
    /// Share of closed trips with a return above 0.
    #[serde(default)]
    pub win_rate: Option<f64>,
    /// Share of days ended in a position.
    #[serde(default)]
    pub exposure: Option<f64>,
    /// Σ positive trade returns / Σ |negative ones|.
    #[serde(default)]
    pub profit_factor: Option<f64>,
    /// Mean closed-trade return.
    #[serde(default)]
    pub avg_trade: Option<f64>,
    /// `cagr / max_drawdown`.
    #[serde(default)]
    pub calmar: Option<f64>,
}

/// The portfolio and its comparisons, with their curves as `[day, nav]` pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioJson {
    /// The portfolio's figures.
    pub metrics: MetricsJson,
    /// Equal-weight buy-and-hold's figures.
    pub buy_and_hold: MetricsJson,
    /// The benchmark fund's code, when it was replayed.
    pub benchmark_code: Option<String>,
    /// Its buy-and-hold figures.
    pub benchmark: Option<MetricsJson>,
    /// The portfolio's NAV on each trading day.
    pub nav: Vec<(String, f64)>,
    /// Equal-weight buy-and-hold's NAV.
    pub buy_and_hold_nav: Vec<(String, f64)>,
    /// The benchmark's buy-and-hold NAV.
    pub benchmark_nav: Option<Vec<(String, f64)>>,
}

/// A fund with nothing to replay, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UndecidedJson {
    /// The code.
    pub code: String,
    /// Why, in words.
    pub reason: String,
}

impl BacktestJson {
    /// The shape of `backtest`.
    pub fn new(backtest: &Backtest) -> BacktestJson {
        let settings = &backtest.settings;
        let curve = |nav: &[f64]| -> Vec<(String, f64)> {
            backtest.calendar.iter().zip(nav).map(|(day, value)| (day.to_string(), *value)).collect()
        };
        BacktestJson {
            schema: SCHEMA,
            strategy: settings.params.id(),
            short: settings.params.short(),
            long: settings.params.long(),
            from: settings.from.to_string(),
            to: settings.to.to_string(),
            fill: settings.fill.id().to_owned(),
            idealised: settings.fill == super::Fill::Close,
            cost_bps: settings.cost_bps,
            sizing: match settings.sizing {
                Sizing::Fraction => {
                    SizingJson { kind: "fraction".into(), capital: 1.0, lot: None, min_commission: None }
                }
                Sizing::Lots { capital, lot, min_commission } => {
                    SizingJson { kind: "lots".into(), capital, lot: Some(lot), min_commission: Some(min_commission) }
                }
            },
            funds: backtest.funds.iter().map(fund).collect(),
            portfolio: backtest.portfolio.as_ref().map(|it| PortfolioJson {
                metrics: MetricsJson::strategy(&it.metrics),
                buy_and_hold: MetricsJson::curve(&it.buy_and_hold),
                benchmark_code: it.benchmark.as_ref().map(|(code, _, _)| code.to_string()),
                benchmark: it.benchmark.as_ref().map(|(_, _, metrics)| MetricsJson::curve(metrics)),
                nav: curve(&it.nav),
                buy_and_hold_nav: curve(&it.buy_and_hold_nav),
                benchmark_nav: it.benchmark.as_ref().map(|(_, nav, _)| curve(nav)),
            }),
            undecided_funds: backtest
                .undecided
                .iter()
                .map(|it| UndecidedJson { code: it.fund.code.to_string(), reason: it.reason.clone() })
                .collect(),
        }
    }

    /// Pretty JSON, as stored.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data serializes")
    }

    /// Reads a stored backtest.
    pub fn parse(bytes: &[u8]) -> Result<BacktestJson, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

fn fund(record: &FundRecord) -> FundJson {
    FundJson {
        code: record.fund.code.to_string(),
        name: record.fund.name.clone(),
        trades: record.run.trades.clone(),
        pending: record
            .run
            .pending
            .iter()
            .map(|it| PendingJson { signal: it.signal.id().to_owned(), signal_date: it.signal_date.to_string() })
            .collect(),
        metrics: MetricsJson::strategy(&record.metrics),
        buy_and_hold: MetricsJson::curve(&record.buy_and_hold),
    }
}

/// The stored track record, `reports/performance/<strategy>.json`: the same backtest over two
/// periods, written by the job after each day's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformanceJson {
    /// The shape's version.
    pub schema: u32,
    /// The strategy's id.
    pub strategy: String,
    /// The last trading day the figures include, `YYYYMMDD`: the page says how old they are.
    pub updated: String,
    /// Where the prices came from (`sample` or `tushare`).
    pub source: String,
    /// `live` (since the first published day) when there is one, then `backtest` (the last 10 years).
    pub periods: Vec<PeriodJson>,
}

/// One period of the track record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodJson {
    /// `live` or `backtest`.
    pub id: String,
    /// The period's name on the page.
    pub label: String,
    /// The backtest over it.
    pub backtest: BacktestJson,
}

/// One fund's chart data over the backtest period, `reports/performance/<strategy>/<code>.json`:
/// the adjusted closes with both averages (whole-series, for display), and its trades.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FundSeriesJson {
    /// The shape's version.
    pub schema: u32,
    /// The code.
    pub code: String,
    /// The display name.
    pub name: String,
    /// The trading days of the fund's bars, oldest first.
    pub dates: Vec<String>,
    /// Closes forward-adjusted to the last bar.
    pub close: Vec<f64>,
    /// The short average of those closes, rounded to 3 decimals (`None` before it fills).
    pub ma_short: Vec<Option<f64>>,
    /// The long average.
    pub ma_long: Vec<Option<f64>>,
    /// The trades, as in the backtest.
    pub trades: Vec<Trade>,
}

impl FundSeriesJson {
    /// The chart data of `record`, with averages of `short` and `long` bars.
    pub fn new(record: &FundRecord, short: usize, long: usize) -> FundSeriesJson {
        let close: Vec<f64> = record.bars.iter().map(|it| it.close).collect();
        FundSeriesJson {
            schema: SCHEMA,
            code: record.fund.code.to_string(),
            name: record.fund.name.clone(),
            dates: record.bars.iter().map(|it| it.date.to_string()).collect(),
            ma_short: moving_average(&close, short),
            ma_long: moving_average(&close, long),
            close,
            trades: record.run.trades.clone(),
        }
    }

    /// Reads stored chart data.
    pub fn parse(bytes: &[u8]) -> Result<FundSeriesJson, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

impl MetricsJson {
    /// The figures of a curve (buy-and-hold's), without the trade fields.
    pub fn curve(curve: &CurveMetrics) -> MetricsJson {
        let day = |it: Option<TradeDate>| it.map(|it| it.to_string());
        MetricsJson {
            total_return: curve.total_return,
            cagr: curve.cagr,
            sharpe: curve.sharpe,
            max_drawdown: curve.drawdown.depth,
            max_drawdown_peak: day(curve.drawdown.peak),
            max_drawdown_trough: day(curve.drawdown.trough),
            max_drawdown_recovery: day(curve.drawdown.recovery),
            trades: None,
            win_rate: None,
            exposure: None,
            profit_factor: None,
            avg_trade: None,
            calmar: None,
        }
    }

    /// The figures of a strategy curve and its trades.
    pub fn strategy(metrics: &StrategyMetrics) -> MetricsJson {
        MetricsJson {
            trades: Some(metrics.trades.trades),
            win_rate: metrics.trades.win_rate,
            exposure: Some(metrics.exposure),
            profit_factor: metrics.trades.profit_factor,
            avg_trade: metrics.trades.avg_trade,
            calmar: metrics.calmar,
            ..MetricsJson::curve(&metrics.curve)
        }
    }
}

impl PerformanceJson {
    /// Pretty JSON, as stored.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data serializes")
    }

    /// Reads a stored track record.
    pub fn parse(bytes: &[u8]) -> Result<PerformanceJson, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// The `period`-bar simple moving average, rounded to 3 decimals half to even.
fn moving_average(values: &[f64], period: usize) -> Vec<Option<f64>> {
    use ta::Next;
    let Ok(mut average) = ta::indicators::SimpleMovingAverage::new(period) else {
        return vec![None; values.len()];
    };
    values
        .iter()
        .enumerate()
        .map(|(idx, value)| {
            let it = average.next(*value);
            (idx + 1 >= period).then(|| crate::strategy::round_half_even(it, 3))
        })
        .collect()
}
