//! The sweep: the portfolio's figures for every (short, long) pair of a grid, on the whole-series
//! fast path ([`replay::crossings`]). Each fund's prices are joined and adjusted once for all
//! pairs; a pair then costs its crossings, the fills and the portfolio curve, and no per-fund
//! figure nobody reads. The numbers are those of [`super::run_on`] with
//! [`replay::whole_series_signals`], pair by pair (a test holds them equal).

use super::{
    Settings, StrategyMetrics, par, portfolio_of,
    replay::{self, Signal},
    sim::{self, AdjustedBar},
};
use crate::{date::TradeDate, fund::Fund, history::History, strategy::DmaParams};

/// The funds' prices made ready for every pair.
#[derive(Debug, Clone)]
pub struct Prepared {
    settings: Settings,
    calendar: Vec<TradeDate>,
    funds: Vec<PreparedFund>,
}

#[derive(Debug, Clone)]
struct PreparedFund {
    /// Every joined close up to the range's end, adjusted to its last factor.
    series: Vec<(TradeDate, f64)>,
    /// The range's adjusted bars, for the fills.
    bars: Vec<AdjustedBar>,
}

impl Prepared {
    /// Prepares `funds` over the trading days of `calendar` in the range of `settings`; the funds a
    /// backtest would list as undecided are left out, as they are of its portfolio.
    pub fn new(settings: &Settings, calendar: &[TradeDate], funds: &[(Fund, Result<History, String>)]) -> Prepared {
        let calendar: Vec<TradeDate> =
            calendar.iter().copied().filter(|it| (settings.from..=settings.to).contains(it)).collect();
        let funds = if calendar.is_empty() {
            Vec::new()
        } else {
            funds
                .iter()
                .filter_map(|(_, history)| history.as_ref().ok())
                .filter_map(|history| {
                    let bars = sim::adjusted_bars(history, settings.from, settings.to);
                    (!bars.is_empty())
                        .then(|| PreparedFund { series: replay::whole_series(history, settings.to), bars })
                })
                .collect()
        };
        Prepared { settings: settings.clone(), calendar, funds }
    }

    /// How many fund bars the range holds: a pair's share of the work.
    pub fn bars(&self) -> usize {
        self.funds.iter().map(|it| it.bars.len()).sum()
    }

    /// The portfolio's figures for `params`; `None` when no fund is left.
    pub fn portfolio(&self, params: &DmaParams) -> Option<StrategyMetrics> {
        let settings = &self.settings;
        let runs: Vec<sim::FundRun> = self
            .funds
            .iter()
            .map(|fund| {
                let signals: Vec<(TradeDate, Signal)> = replay::crossings(&fund.series, params, settings.from);
                sim::simulate(&self.calendar, &fund.bars, &signals, settings.fill, settings.sizing, settings.cost_bps)
            })
            .collect();
        let runs: Vec<&sim::FundRun> = runs.iter().collect();
        portfolio_of(&self.calendar, &runs).map(|(_, metrics)| metrics)
    }

    /// The portfolio's figures for each valid pair of `(short, long)`, in the order given, on every
    /// core; `done` is called after each pair (a progress bar). A pair whose short period is not
    /// below its long one, or that has no fund, is left out.
    pub fn run(&self, pairs: &[(usize, usize)], done: impl Fn() + Sync) -> Vec<((usize, usize), StrategyMetrics)> {
        let lookback = self.settings.params.lookback_days();
        let results = par::map(pairs, |&(short, long)| {
            let metrics = DmaParams::new(short, long, lookback).ok().and_then(|params| self.portfolio(&params));
            done();
            metrics.map(|it| ((short, long), it))
        });
        results.into_iter().flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        backtest::{DEFAULT_COST_BPS, Fill, Sizing, run_on},
        fund::{self, FundCode},
        market::sample::SampleSource,
    };

    #[test]
    fn each_pair_has_the_portfolio_figures_of_a_whole_series_backtest_of_it() {
        let source = SampleSource::new();
        let (from, to) = (TradeDate::parse("20220103").unwrap(), TradeDate::parse("20261127").unwrap());
        let mut funds: Vec<(Fund, Result<History, String>)> = fund::bundled_funds()
            .into_iter()
            .take(8)
            .map(|fund| {
                let history = source.history(&fund.code, from.minus_days(150), to);
                (fund, Ok(history))
            })
            .collect();
        funds[2].1 = Err("数据获取失败".to_owned());
        let settings = Settings {
            params: DmaParams::STANDARD,
            from,
            to,
            fill: Fill::Open,
            cost_bps: DEFAULT_COST_BPS,
            sizing: Sizing::Lots { capital: 100_000.0, lot: 100, min_commission: 5.0 },
            benchmark: Some(FundCode::parse("510300.SH").unwrap()),
        };
        let calendar = source.trading_days(from, to);
        let prepared = Prepared::new(&settings, &calendar, &funds);
        let pairs = [(5, 20), (11, 22), (20, 11), (8, 60), (11, 11)];
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let swept = prepared.run(&pairs, || {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(calls.into_inner(), pairs.len(), "every pair is reported done");
        assert_eq!(swept.iter().map(|it| it.0).collect::<Vec<_>>(), [(5, 20), (11, 22), (8, 60)]);
        for ((short, long), metrics) in swept {
            let params = DmaParams::new(short, long, 150).unwrap();
            let settings = Settings { params, ..settings.clone() };
            let backtest = run_on(&settings, &calendar, &funds, |history| {
                replay::whole_series_signals(&params, from, to, history)
            });
            assert_eq!(metrics, backtest.portfolio.unwrap().metrics, "{short}/{long}");
            assert!(metrics.trades.trades > 10, "{short}/{long}: {}", metrics.trades.trades);
        }
    }
}
