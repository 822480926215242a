//! The site's cost per request, in memory: `/` and a day page through `oneshot`, over 30 stored
//! sample reports of the bundled fund list (what `cargo xtask dev` serves), read from a folder store.

use axum::{body::Body, http::Request};
use criterion::{Criterion, criterion_group, criterion_main};
use functions::web::{WebState, router};
use http_body_util::BodyExt;
use platform::{
    date::TradeDate,
    fund::bundled_funds,
    market::SourceKind,
    report::{FundReport, Report, json::IndexJson},
    sample::SampleSource,
    store::{ObjectKey, ObjectStore, ReportFormat},
    strategy::{self, DmaParams},
};
use tower::ServiceExt;

fn pages(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = ObjectStore::local(dir.path());
    let newest = runtime.block_on(store_sample_reports(&store, 30));
    let app = router(WebState { store, params: DmaParams::STANDARD });

    let day_uri = format!("/reports/{newest}");
    for (name, uri) in [("home", "/"), ("day page", day_uri.as_str())] {
        c.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let response = app.clone().oneshot(Request::get(uri).body(Body::empty()).expect("a request")).await;
                    let response = response.expect("the router is infallible");
                    assert_eq!(response.status(), 200);
                    response.into_body().collect().await.expect("a body").to_bytes()
                })
            })
        });
    }
}

/// Stores the latest `n` sample trading days' reports and their index as the job does; returns the newest day.
async fn store_sample_reports(store: &ObjectStore, n: usize) -> TradeDate {
    let params = DmaParams::STANDARD;
    let source = SampleSource::new();
    let last = TradeDate::parse("20261127").expect("a date");
    let mut days = source.trading_days(last.minus_days(90), last);
    days.drain(..days.len() - n);
    let funds = bundled_funds();
    let histories: Vec<_> =
        funds.iter().map(|fund| source.history(&fund.code, days[0].minus_days(params.lookback_days()), last)).collect();
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
        let key = ObjectKey::report(&params, trade_date, ReportFormat::Json);
        store.put(&key, report.json_text().into_bytes(), "application/json").await.expect("stored");
        index.upsert(report.index_day());
    }
    store
        .put(&ObjectKey::report_index(&params), index.to_text().into_bytes(), "application/json")
        .await
        .expect("stored");
    *days.last().expect("n > 0")
}

criterion_group!(benches, pages);
criterion_main!(benches);
