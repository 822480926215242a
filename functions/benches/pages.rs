//! The site's cost per request, in memory: `/` and a day page through `oneshot`, over 30 stored
//! sample reports of the bundled fund list (what `cargo xtask dev` serves), read from a folder store:
//! "rendered" on a site that has kept nothing (each request reads, parses and renders), "kept" on
//! one that answers the page it kept (each request checks the versions of what the page was made of).

use axum::{body::Body, http::Request};
use criterion::{Criterion, criterion_group, criterion_main};
use functions::web::{WebState, router};
use http_body_util::BodyExt;
use platform::{store::ObjectStore, strategy::DmaParams};
use test_support::reports::store_sample_reports;
use tower::ServiceExt;

fn pages(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = ObjectStore::local(dir.path());
    // The same 30 stored days the tests serve (`test_support::reports`).
    let days = runtime.block_on(store_sample_reports(&store, 30));
    let newest = *days.last().expect("30 days");
    let kept = router(WebState::new(store.clone(), DmaParams::STANDARD));
    let get = |app: axum::Router, uri: &str| {
        runtime.block_on(async {
            let response = app.oneshot(Request::get(uri).body(Body::empty()).expect("a request")).await;
            let response = response.expect("the router is infallible");
            assert_eq!(response.status(), 200);
            response.into_body().collect().await.expect("a body").to_bytes()
        })
    };

    let day_uri = format!("/reports/{newest}");
    for (name, uri) in [("home", "/"), ("day page", day_uri.as_str())] {
        c.bench_function(&format!("{name} (rendered)"), |b| {
            b.iter(|| get(router(WebState::new(store.clone(), DmaParams::STANDARD)), uri))
        });
        c.bench_function(&format!("{name} (kept)"), |b| b.iter(|| get(kept.clone(), uri)));
    }
}

/// Reading the stored day JSON the page is made of, three ways: every series whole, the newest
/// days a sparkline draws (the day page), the series skipped (what the home page's form reads).
fn day_json(c: &mut Criterion) {
    use platform::report::json::{ReportJson, SeriesJson, SeriesTail};
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = ObjectStore::local(dir.path());
    let day = runtime.block_on(store_sample_reports(&store, 1))[0];
    let key = platform::reports::day_key(&DmaParams::STANDARD, day, platform::reports::ReportFormat::Json);
    let bytes = runtime.block_on(store.get(&key)).expect("a read").expect("the day");
    c.bench_function("day JSON read whole", |b| b.iter(|| ReportJson::<SeriesJson>::read(&bytes).expect("a report")));
    c.bench_function("day JSON read, newest 60 days", |b| {
        b.iter(|| ReportJson::<SeriesTail<60>>::read(&bytes).expect("a report"))
    });
    c.bench_function("day JSON read, series skipped", |b| {
        b.iter(|| ReportJson::<serde::de::IgnoredAny>::read(&bytes).expect("a report"))
    });
}

criterion_group!(benches, pages, day_json);
criterion_main!(benches);
