//! What the tests that run real processes share: sample reports in a folder, free ports, waiting.

#![allow(dead_code, reason = "each test binary uses a part")]

use std::{
    net::TcpListener,
    path::PathBuf,
    process::Child,
    time::{Duration, Instant},
};

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
pub(crate) async fn store_sample_reports(store: &ObjectStore, n: usize) -> Vec<TradeDate> {
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

/// A port free on 127.0.0.1 right now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Calls `probe` until it returns `Some` or `limit` passes; panics with `what` then.
pub(crate) fn wait_for<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(it) = probe() {
            return it;
        }
        assert!(start.elapsed() < limit, "gave up waiting for {what} after {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `target/<sub>` of the workspace, created.
pub(crate) fn target_dir(sub: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target").join(sub);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A tool's path from the variable `name`, else `default`.
pub(crate) fn tool(name: &str, default: &str) -> PathBuf {
    std::env::var_os(name).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// A child process, killed when dropped: also when a test panics before it is done with it.
pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
