//! The track record in the daily job: after the run's last day is stored (and published or not),
//! `reports/performance/<strategy>.json` is rewritten with the backtest of the published signals
//! over two periods, and each replayed fund's chart data beside it.
//!
//! - `live`: from the first published day (the oldest stored day with a published marker) to the
//!   run's last day; left out while no day was ever published;
//! - `backtest`: the last [`BACKTEST_DAYS`] calendar days up to the run's last day.
//!
//! Both fill at the next bar's open, cost [`DEFAULT_COST_BPS`] a side, trade fractional units and
//! compare with the buy-and-hold of [`BENCHMARK`] when it is in the fund list, like
//! `signal backtest`'s defaults. The prices come through the run's market source (on Tushare,
//! through the price cache), each fund's history reaching the lookback window before the older
//! period's first day. Derived data: a failure here is the caller's to log, never the day's.

use std::{collections::HashSet, time::Instant};

use anyhow::Context;
use platform::{
    backtest::{
        self, DEFAULT_COST_BPS, Fill, Settings, Sizing,
        json::{BacktestJson, FundSeriesJson, PerformanceJson, PeriodJson, SCHEMA},
    },
    date::TradeDate,
    fund::{Fund, FundCode},
    market::{History, MarketData, MarketError},
    report::json::IndexJson,
    reports,
    store::ObjectStore,
    strategy::DmaParams,
};

use crate::{config::Config, prices};

/// The backtest period's length in calendar days: ten years.
const BACKTEST_DAYS: u32 = 3652;

/// The fund whose buy-and-hold is the benchmark, when it is in the list.
const BENCHMARK: &str = "510300.SH";

/// Rewrites the track record of `config`'s strategy up to `last_day`, the run's last (stored) day.
///
/// A run whose last day is older than the newest stored day (a backfill of old days) leaves the
/// record alone: it would move it back in time.
pub(crate) async fn update(
    config: &Config,
    market: &MarketData,
    store: &ObjectStore,
    last_day: TradeDate,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let params = config.params;
    let index = reports::load_index(store, &params).await.context("reading the report index")?;
    if let Some(newest) = index.days.iter().map(|it| it.trade_date).max()
        && newest > last_day
    {
        tracing::info!("the track record is kept: {newest} is stored, newer than this run's last day {last_day}");
        return Ok(());
    }
    let live_from = first_published(store, &index, last_day).await?;
    let backtest_from = last_day.minus_days(BACKTEST_DAYS);
    let from = live_from.map_or(backtest_from, |it| it.min(backtest_from));

    let calendar = market
        .trading_days(from, last_day)
        .await
        .with_context(|| format!("getting the trading calendar from {from} to {last_day}"))?;
    let history_from = from.minus_days(params.lookback_days());
    let hidden = indicatif::ProgressBar::hidden();
    let funds = prices::histories(&config.funds, market, history_from, last_day, config.backfill, &hidden)
        .await
        .with_context(|| format!("fetching the prices from {history_from} to {last_day}"))?;
    let fetched = started.elapsed();
    let deferred = funds.iter().filter(|(_, it)| it.as_ref().is_err_and(MarketError::is_deferred)).count();
    if deferred > 0 {
        println!(
            "track record: kept as it was while its prices are backfilled: {deferred} of {} funds still lack days \
             from {history_from} on (the next runs go on; --backfill all fetches them in one run)",
            funds.len()
        );
        return Ok(());
    }
    let funds = prices::with_messages(funds);

    let source = market.kind().id();
    let computing = Instant::now();
    let (record, series) = tokio::task::spawn_blocking(move || {
        let periods = Periods { live_from, backtest_from, last_day };
        track_record(&params, source, &calendar, &funds, periods)
    })
    .await
    .context("the track record's computation failed")?;
    let computed = computing.elapsed();

    // The funds' chart data first, so a reader of the new record finds its funds' series.
    let storing = Instant::now();
    let mut puts = tokio::task::JoinSet::new();
    for (code, fund) in series {
        let store = store.clone();
        puts.spawn(async move {
            reports::store_fund_series(&store, &params, &code, &fund)
                .await
                .with_context(|| format!("storing {}", reports::fund_series_key(&params, &code)))
        });
    }
    while let Some(joined) = puts.join_next().await {
        joined.context("a store task failed")??;
    }
    let key = reports::performance_key(&params);
    reports::store_performance(store, &params, &record).await.with_context(|| format!("storing {key}"))?;

    let periods: Vec<String> =
        record.periods.iter().map(|it| format!("{} {}..{}", it.id, it.backtest.from, it.backtest.to)).collect();
    println!("track record: {} ({}) -> {key}", record.updated, periods.join(", "));
    tracing::info!(
        "track record of {} funds: prices in {} ms, backtest in {} ms, stored in {} ms",
        config.funds.len(),
        fetched.as_millis(),
        computed.as_millis(),
        storing.elapsed().as_millis()
    );
    Ok(())
}

/// The oldest stored day up to `last_day` with a published marker: one listing of the markers,
/// however many stored days were never published (a backfill with `--no-publish`).
async fn first_published(
    store: &ObjectStore,
    index: &IndexJson,
    last_day: TradeDate,
) -> anyhow::Result<Option<TradeDate>> {
    let stored: HashSet<TradeDate> = index.days.iter().map(|it| it.trade_date).collect();
    let published = reports::published_days(store).await.context("listing the published markers")?;
    Ok(published.into_iter().find(|day| *day <= last_day && stored.contains(day)))
}

/// Where the two periods start and end.
#[derive(Debug, Clone, Copy)]
struct Periods {
    /// The first published day, if any.
    live_from: Option<TradeDate>,
    /// Ten years before the last day.
    backtest_from: TradeDate,
    /// The run's last day.
    last_day: TradeDate,
}

/// The record and the backtest period's chart data of each replayed fund. Pure.
fn track_record(
    params: &DmaParams,
    source: &str,
    calendar: &[TradeDate],
    funds: &[(Fund, Result<History, String>)],
    periods: Periods,
) -> (PerformanceJson, Vec<(FundCode, FundSeriesJson)>) {
    let benchmark = FundCode::parse(BENCHMARK).ok().filter(|code| funds.iter().any(|(fund, _)| fund.code == *code));
    let settings = |from: TradeDate| Settings {
        params: *params,
        // The first trading day of the period, so the record names a day that traded.
        from: calendar.iter().copied().find(|day| *day >= from).unwrap_or(from),
        to: periods.last_day,
        fill: Fill::Open,
        cost_bps: DEFAULT_COST_BPS,
        sizing: Sizing::Fraction,
        benchmark: benchmark.clone(),
    };
    let mut record = PerformanceJson {
        schema: SCHEMA,
        strategy: params.id(),
        updated: periods.last_day.to_string(),
        source: source.to_owned(),
        periods: Vec::new(),
    };
    if let Some(from) = periods.live_from {
        let live = backtest::run(&settings(from), calendar, funds);
        record.periods.push(PeriodJson {
            id: "live".to_owned(),
            label: "上线以来".to_owned(),
            backtest: BacktestJson::new(&live),
        });
    }
    let ten_years = backtest::run(&settings(periods.backtest_from), calendar, funds);
    record.periods.push(PeriodJson {
        id: "backtest".to_owned(),
        label: "近十年回测".to_owned(),
        backtest: BacktestJson::new(&ten_years),
    });
    let series = ten_years
        .funds
        .iter()
        .map(|it| (it.fund.code.clone(), FundSeriesJson::new(it, params.short(), params.long())))
        .collect();
    (record, series)
}

#[cfg(test)]
mod tests {
    use platform::{
        fund,
        report::json::{CountsJson, IndexDay},
    };

    use super::*;

    fn day(text: &str) -> TradeDate {
        TradeDate::parse(text).unwrap()
    }

    fn index_of(days: &[&str]) -> IndexJson {
        let mut index = IndexJson::default();
        for it in days {
            index.upsert(IndexDay {
                trade_date: day(it),
                sample_data: true,
                complete: true,
                counts: CountsJson::default(),
                buy: Vec::new(),
                sell: Vec::new(),
            });
        }
        index
    }

    #[tokio::test]
    async fn the_live_period_starts_on_the_oldest_stored_day_with_a_marker() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::local(dir.path());
        let index = index_of(&["20261116", "20261118", "20261120", "20261127"]);
        assert_eq!(first_published(&store, &index, day("20261127")).await.unwrap(), None);

        // A marker of a day this strategy never stored, and one after the run's last day, do not count.
        for it in ["20261113", "20261120", "20261127"] {
            reports::mark_published(&store, day(it)).await.unwrap();
        }
        assert_eq!(first_published(&store, &index, day("20261127")).await.unwrap(), Some(day("20261120")));
        assert_eq!(first_published(&store, &index, day("20261118")).await.unwrap(), None);
    }

    #[test]
    fn the_record_has_a_live_period_only_after_a_published_day_and_both_end_on_the_last_day() {
        let market = platform::market::sample::SampleSource::new();
        let funds: Vec<Fund> = fund::bundled_funds().into_iter().take(3).collect();
        let last_day = day("20261127");
        let periods = Periods { live_from: None, backtest_from: last_day.minus_days(BACKTEST_DAYS), last_day };
        let calendar = market.trading_days(periods.backtest_from, last_day);
        let history_from = periods.backtest_from.minus_days(DmaParams::STANDARD.lookback_days());
        let funds: Vec<_> =
            funds.into_iter().map(|it| (it.clone(), Ok(market.history(&it.code, history_from, last_day)))).collect();

        let (record, series) = track_record(&DmaParams::STANDARD, "sample", &calendar, &funds, periods);
        assert_eq!((record.updated.as_str(), record.source.as_str()), ("20261127", "sample"));
        let ids: Vec<&str> = record.periods.iter().map(|it| it.id.as_str()).collect();
        assert_eq!(ids, ["backtest"]);
        let backtest = &record.periods[0].backtest;
        assert_eq!((backtest.from.as_str(), backtest.to.as_str()), ("20161128", "20261127"), "the first trading day");
        assert_eq!(
            (backtest.fill.as_str(), backtest.cost_bps, backtest.sizing.kind.as_str()),
            ("open", 2.5, "fraction")
        );
        assert_eq!(series.len(), 3);
        assert_eq!(series[0].1.dates.last().map(String::as_str), Some("20261127"));

        let periods = Periods { live_from: Some(day("20261120")), ..periods };
        let (record, _) = track_record(&DmaParams::STANDARD, "sample", &calendar, &funds, periods);
        let live = &record.periods[0];
        assert_eq!(
            (live.id.as_str(), live.backtest.from.as_str(), live.backtest.to.as_str()),
            ("live", "20261120", "20261127")
        );
        assert_eq!(record.periods[1].id, "backtest");
    }
}
