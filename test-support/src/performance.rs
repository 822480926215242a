//! A stored track record for the site's tests and benchmarks: `platform::backtest::run` over the
//! sample market for the bundled funds, ten years up to 2026-11-27 (the sample walk itself starts
//! in 2018, so the first years are flat cash), stored as the job stores them
//! (`platform::reports::store_performance`, `store_fund_series`), with the job's periods and labels.
//!
//! Nothing is faked here either: the pages rendered from it are the size and shape of the real ones.

use platform::{
    backtest::{
        self, DEFAULT_COST_BPS, Fill, Settings, Sizing,
        json::{BacktestJson, FundSeriesJson, PerformanceJson, PeriodJson, SCHEMA},
    },
    date::TradeDate,
    fund::{FundCode, bundled_funds},
    market::sample::SampleSource,
    reports,
    store::ObjectStore,
    strategy::DmaParams,
};

/// The last trading day of the stored track record.
pub const LAST_DAY: &str = "20261127";

/// The benchmark of the stored track record.
pub const BENCHMARK: &str = "510300.SH";

/// Stores the track record of the bundled funds over the sample market and each replayed fund's
/// chart data, and returns the record. Its periods: `live` from `live_from` when given, then
/// `backtest`, the ten years up to [`LAST_DAY`], both filled at the next open with the default cost.
pub async fn store_sample_performance(store: &ObjectStore, live_from: Option<TradeDate>) -> PerformanceJson {
    let params = DmaParams::STANDARD;
    let last = TradeDate::parse(LAST_DAY).unwrap();
    let ten_years_ago = last.minus_days(3652);
    let mut periods = Vec::new();
    if let Some(from) = live_from {
        let (json, _) = replay(&params, from, last);
        let label = "实盘跟踪 (自首次发布起)".to_owned();
        periods.push(PeriodJson { id: "live".to_owned(), label, backtest: json });
    }
    let (json, backtest) = replay(&params, ten_years_ago, last);
    periods.push(PeriodJson { id: "backtest".to_owned(), label: "近十年回测".to_owned(), backtest: json });
    for record in &backtest.funds {
        let series = FundSeriesJson::new(record, params.short(), params.long());
        reports::store_fund_series(store, &params, &record.fund.code, &series).await.unwrap();
    }
    let record = PerformanceJson {
        schema: SCHEMA,
        strategy: params.id(),
        updated: LAST_DAY.to_owned(),
        source: "sample".to_owned(),
        periods,
    };
    reports::store_performance(store, &params, &record).await.unwrap();
    record
}

/// The backtest of the bundled funds over the sample market's trading days in `from..=to`.
fn replay(params: &DmaParams, from: TradeDate, to: TradeDate) -> (BacktestJson, backtest::Backtest) {
    let source = SampleSource::new();
    let calendar = source.trading_days(from, to);
    let settings = Settings {
        params: *params,
        // The first trading day of the period, as the job names it.
        from: calendar.first().copied().unwrap_or(from),
        to,
        fill: Fill::Open,
        cost_bps: DEFAULT_COST_BPS,
        sizing: Sizing::Fraction,
        benchmark: Some(FundCode::parse(BENCHMARK).unwrap()),
    };
    let history_from = from.minus_days(params.lookback_days());
    let funds: Vec<_> = bundled_funds()
        .into_iter()
        .map(|fund| (fund.clone(), Ok(source.history(&fund.code, history_from, to))))
        .collect();
    let backtest = backtest::run(&settings, &calendar, &funds);
    (BacktestJson::new(&backtest), backtest)
}
