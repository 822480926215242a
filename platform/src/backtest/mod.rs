//! The track record: what following the published signals would have earned. Pure, no IO.
//!
//! [`replay`] finds the signal the daily job would have published on each day; [`sim`] trades
//! one fund long/flat on them and buys and holds it; [`account`] sizes fills and charges costs;
//! [`metrics`] measures the curves and trades. [`run`] puts them together for a fund list: each
//! fund, the equal-weight portfolio of them ("robot portfolio"), equal-weight buy-and-hold and a
//! benchmark.
//!
//! Domain; uses [`crate::strategy`], [`crate::history`], [`crate::fund`] and [`crate::date`] only.

pub mod account;
pub mod json;
pub mod metrics;
mod par;
pub mod replay;
pub mod sim;
pub mod sweep;

use std::collections::HashMap;

pub use self::{
    account::Sizing,
    metrics::{CurveMetrics, Drawdown, TradeMetrics},
    replay::Signal,
    sim::{Fill, Pending, Trade},
};
use crate::{
    date::TradeDate,
    fund::{Fund, FundCode},
    history::History,
    strategy::DmaParams,
};

/// The default cost of one side in basis points: a retail ETF commission of 0.025% (2.5 bps);
/// ETFs pay no stamp duty and no transfer fee.
pub const DEFAULT_COST_BPS: f64 = 2.5;

/// What to replay, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The strategy's parameters.
    pub params: DmaParams,
    /// The first trading day of the range.
    pub from: TradeDate,
    /// The last trading day of the range.
    pub to: TradeDate,
    /// When signals fill.
    pub fill: Fill,
    /// The cost of one side, in basis points of its value.
    pub cost_bps: f64,
    /// How trades are sized.
    pub sizing: Sizing,
    /// The fund whose buy-and-hold is the benchmark, when it is in the list.
    pub benchmark: Option<FundCode>,
}

/// The figures of one strategy curve: the curve's, its trades', and exposure.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyMetrics {
    /// The NAV curve's figures.
    pub curve: CurveMetrics,
    /// The closed trades' figures.
    pub trades: TradeMetrics,
    /// Share of the range's trading days ended in a position.
    pub exposure: f64,
    /// `cagr / max_drawdown`.
    pub calmar: Option<f64>,
}

/// One fund's record.
#[derive(Debug, Clone, PartialEq)]
pub struct FundRecord {
    /// The fund.
    pub fund: Fund,
    /// Its replay: trades, pending signals, the strategy's and buy-and-hold's NAV curves.
    pub run: sim::FundRun,
    /// The strategy's figures.
    pub metrics: StrategyMetrics,
    /// Buy-and-hold's figures.
    pub buy_and_hold: CurveMetrics,
    /// The adjusted bars of the range, for charts.
    pub bars: Vec<sim::AdjustedBar>,
}

/// A fund with nothing to replay.
#[derive(Debug, Clone, PartialEq)]
pub struct UndecidedFund {
    /// The fund.
    pub fund: Fund,
    /// Why, in words.
    pub reason: String,
}

/// The equal-weight portfolio of the replayed funds.
#[derive(Debug, Clone, PartialEq)]
pub struct Portfolio {
    /// Mean of the funds' NAVs on each calendar day.
    pub nav: Vec<f64>,
    /// Its figures; trades pool every fund's, exposure is the mean of the funds'.
    pub metrics: StrategyMetrics,
    /// Mean of the funds' buy-and-hold NAVs.
    pub buy_and_hold_nav: Vec<f64>,
    /// Its figures.
    pub buy_and_hold: CurveMetrics,
    /// The benchmark's buy-and-hold, when it is one of the replayed funds.
    pub benchmark: Option<(FundCode, Vec<f64>, CurveMetrics)>,
}

/// A whole backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    /// What was replayed.
    pub settings: Settings,
    /// The range's trading days, oldest first.
    pub calendar: Vec<TradeDate>,
    /// The replayed funds, in list order.
    pub funds: Vec<FundRecord>,
    /// The portfolio; `None` when no fund could be replayed.
    pub portfolio: Option<Portfolio>,
    /// Funds with nothing to replay, in list order.
    pub undecided: Vec<UndecidedFund>,
}

/// Replays `funds` over the trading days `calendar` (those in the range are used). A fund's
/// history must reach back the lookback window before `settings.from` for its first signals.
pub fn run(settings: &Settings, calendar: &[TradeDate], funds: &[(Fund, Result<History, String>)]) -> Backtest {
    run_on(settings, calendar, funds, |history| {
        replay::published_signals(&settings.params, settings.from, settings.to, history)
    })
}

/// [`run`] on other signals than the published ones: `signals` gives a fund's signals from its
/// history (the sweep's whole-series fast path, [`replay::whole_series_signals`]).
pub fn run_on(
    settings: &Settings,
    calendar: &[TradeDate],
    funds: &[(Fund, Result<History, String>)],
    signals: impl Fn(&History) -> Vec<(TradeDate, Signal)> + Sync,
) -> Backtest {
    let calendar: Vec<TradeDate> =
        calendar.iter().copied().filter(|it| (settings.from..=settings.to).contains(it)).collect();
    let outcomes = par::map(funds, |(fund, history)| {
        let history =
            history.as_ref().map_err(|reason| UndecidedFund { fund: fund.clone(), reason: reason.clone() })?;
        record(settings, &calendar, fund, history, &signals)
            .ok_or_else(|| UndecidedFund {
                fund: fund.clone(), reason: "区间内无行情 (no bar in the range)".into()
            })
    });
    let (mut records, mut undecided) = (Vec::new(), Vec::new());
    for outcome in outcomes {
        match outcome {
            Ok(record) => records.push(record),
            Err(fund) => undecided.push(fund),
        }
    }
    let portfolio = portfolio(settings, &calendar, &records);
    Backtest { settings: settings.clone(), calendar, funds: records, portfolio, undecided }
}

fn record(
    settings: &Settings,
    calendar: &[TradeDate],
    fund: &Fund,
    history: &History,
    signals: &impl Fn(&History) -> Vec<(TradeDate, Signal)>,
) -> Option<FundRecord> {
    let bars = sim::adjusted_bars(history, settings.from, settings.to);
    if bars.is_empty() || calendar.is_empty() {
        return None;
    }
    let signals = signals(history);
    let run = sim::simulate(calendar, &bars, &signals, settings.fill, settings.sizing, settings.cost_bps);
    let closed: Vec<f64> = run.trades.iter().filter(|it| it.is_closed()).map(|it| it.ret).collect();
    let metrics = strategy_metrics(calendar, &run.nav, &closed, exposure_of(&run, calendar));
    Some(FundRecord {
        fund: fund.clone(),
        buy_and_hold: metrics::curve(calendar, &run.buy_and_hold),
        run,
        metrics,
        bars,
    })
}

fn strategy_metrics(calendar: &[TradeDate], nav: &[f64], closed: &[f64], exposure: f64) -> StrategyMetrics {
    let curve = metrics::curve(calendar, nav);
    StrategyMetrics { calmar: metrics::calmar(&curve), trades: metrics::trades(closed), exposure, curve }
}

fn portfolio(settings: &Settings, calendar: &[TradeDate], records: &[FundRecord]) -> Option<Portfolio> {
    let runs: Vec<&sim::FundRun> = records.iter().map(|it| &it.run).collect();
    let (nav, metrics) = portfolio_of(calendar, &runs)?;
    let buy_and_hold_nav = mean_curve(calendar, runs.iter().map(|it| &it.buy_and_hold[..]));
    let by_code: HashMap<&FundCode, &FundRecord> = records.iter().map(|it| (&it.fund.code, it)).collect();
    let benchmark = settings
        .benchmark
        .as_ref()
        .and_then(|code| by_code.get(code))
        .map(|it| (it.fund.code.clone(), it.run.buy_and_hold.clone(), it.buy_and_hold.clone()));
    Some(Portfolio {
        metrics,
        buy_and_hold: metrics::curve(calendar, &buy_and_hold_nav),
        nav,
        buy_and_hold_nav,
        benchmark,
    })
}

/// The equal-weight portfolio of `runs`: the mean of their NAVs on each calendar day, and its
/// figures (trades pooled, exposure the mean of theirs). `None` without a run.
pub(crate) fn portfolio_of(calendar: &[TradeDate], runs: &[&sim::FundRun]) -> Option<(Vec<f64>, StrategyMetrics)> {
    if runs.is_empty() {
        return None;
    }
    let nav = mean_curve(calendar, runs.iter().map(|it| &it.nav[..]));
    let closed: Vec<f64> =
        runs.iter().flat_map(|it| it.trades.iter().filter(|it| it.is_closed()).map(|it| it.ret)).collect();
    let exposure = runs.iter().map(|it| exposure_of(it, calendar)).sum::<f64>() / runs.len() as f64;
    let metrics = strategy_metrics(calendar, &nav, &closed, exposure);
    Some((nav, metrics))
}

/// The mean of `curves` on each calendar day, summed in list order.
fn mean_curve<'a>(calendar: &[TradeDate], curves: impl Iterator<Item = &'a [f64]> + Clone) -> Vec<f64> {
    let count = curves.clone().count() as f64;
    (0..calendar.len()).map(|day| curves.clone().map(|it| it[day]).sum::<f64>() / count).collect()
}

/// Share of the calendar's days a run ended in a position.
fn exposure_of(run: &sim::FundRun, calendar: &[TradeDate]) -> f64 {
    run.days_in_position as f64 / calendar.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        history::{AdjFactor, Bar},
        market::sample::SampleSource,
    };

    fn fund(code: &str) -> Fund {
        Fund { code: FundCode::parse(code).unwrap(), name: code.to_owned() }
    }

    #[test]
    fn funds_without_a_bar_in_the_range_or_whose_source_failed_are_undecided_and_left_out_of_the_portfolio() {
        let (from, to) = (TradeDate::parse("20260601").unwrap(), TradeDate::parse("20261127").unwrap());
        let source = SampleSource::new();
        let history = |code: &str| source.history(&FundCode::parse(code).unwrap(), from.minus_days(150), to);
        let only_before = History {
            bars: vec![Bar { trade_date: TradeDate::parse("20260105").unwrap(), open: 1.0, close: 1.0 }],
            factors: vec![AdjFactor { trade_date: TradeDate::parse("20260105").unwrap(), factor: 1.0 }],
            notes: Vec::new(),
        };
        let funds = vec![
            (fund("510300.SH"), Ok(history("510300.SH"))),
            (fund("510500.SH"), Err("数据获取失败: HTTP 500".to_owned())),
            (fund("159915.SZ"), Ok(only_before)),
            (fund("512880.SH"), Ok(history("512880.SH"))),
        ];
        let settings = Settings {
            params: DmaParams::STANDARD,
            from,
            to,
            fill: Fill::Open,
            cost_bps: DEFAULT_COST_BPS,
            sizing: Sizing::Fraction,
            benchmark: Some(FundCode::parse("510300.SH").unwrap()),
        };
        let backtest = run(&settings, &source.trading_days(from, to), &funds);
        let undecided: Vec<(&str, &str)> =
            backtest.undecided.iter().map(|it| (it.fund.code.as_str(), it.reason.as_str())).collect();
        assert_eq!(
            undecided,
            [("510500.SH", "数据获取失败: HTTP 500"), ("159915.SZ", "区间内无行情 (no bar in the range)")]
        );
        assert_eq!(backtest.funds.len(), 2);
        let portfolio = backtest.portfolio.unwrap();
        let mean_last = (backtest.funds[0].run.nav.last().unwrap() + backtest.funds[1].run.nav.last().unwrap()) / 2.0;
        assert_eq!(*portfolio.nav.last().unwrap(), mean_last, "two sleeves, not four");
        let (code, nav, _) = portfolio.benchmark.unwrap();
        assert_eq!((code.as_str(), nav), ("510300.SH", backtest.funds[0].run.buy_and_hold.clone()));
    }
}
