//! Stored reports for the site's tests and benchmarks: the bundled funds over the sample market
//! (`platform::market::sample`), evaluated and stored in an `ObjectStore` under the keys the job
//! uses (`platform::reports`), as JSON, as text and in the index, the way the job stores them.
//!
//! Nothing is faked here: these are real reports of sample prices, so the pages the site renders
//! from them are the pages `cargo xtask dev` serves.

use platform::{
    date::TradeDate,
    fund::bundled_funds,
    market::{SourceKind, sample::SampleSource},
    report::{FundReport, Report, json::IndexJson},
    reports::{self, ReportFormat},
    store::ObjectStore,
    strategy::{self, DmaParams},
};

/// Stores the latest `n` sample trading days up to 2026-11-27 as the job does (JSON, text, index)
/// and returns the days, oldest first.
pub async fn store_sample_reports(store: &ObjectStore, n: usize) -> Vec<TradeDate> {
    let params = DmaParams::STANDARD;
    let source = SampleSource::new();
    let last = TradeDate::parse("20261127").unwrap();
    let mut days = source.trading_days(last.minus_days(90), last);
    days.drain(..days.len() - n);
    let funds = bundled_funds();
    let from = days[0].minus_days(params.lookback_days());
    let histories: Vec<_> = funds.iter().map(|fund| source.history(&fund.code, from, last)).collect();
    let mut index = IndexJson::default();
    for &trade_date in &days {
        let funds = funds
            .iter()
            .zip(&histories)
            .map(|(fund, history)| FundReport {
                fund: fund.clone(),
                evaluation: strategy::evaluate(&params, trade_date, history),
            })
            .collect();
        let report = Report { trade_date, source: SourceKind::Sample, params, complete: true, funds };
        let key = reports::day_key(&params, trade_date, ReportFormat::Json);
        store.put(&key, report.json_text().into_bytes(), "application/json").await.unwrap();
        let key = reports::day_key(&params, trade_date, ReportFormat::Text);
        store.put(&key, report.text().into_bytes(), "text/plain; charset=utf-8").await.unwrap();
        index.upsert(report.index_day());
    }
    store.put(&reports::index_key(&params), index.to_text().into_bytes(), "application/json").await.unwrap();
    days
}
