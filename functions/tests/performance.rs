//! The track record pages over ten years of the sample market for the bundled funds (the stored
//! record of `test_support::performance`), through `oneshot`: every page renders, and none is over
//! [`PAGE_LIMIT`] bytes of HTML however long the record.

use axum::{body::Body, http::Request};
use functions::web::{WebState, router};
use http_body_util::BodyExt;
use platform::{date::TradeDate, store::ObjectStore, strategy::DmaParams};
use test_support::performance::{LAST_DAY, store_sample_performance};
use tower::ServiceExt;

/// The most HTML a track record page may be.
const PAGE_LIMIT: usize = 60 * 1024;

#[tokio::test]
async fn ten_years_of_46_funds_make_pages_under_60_kb_with_a_short_live_period() {
    let live_from = TradeDate::parse(LAST_DAY).unwrap().minus_days(45);
    check_sizes(Some(live_from), "a short live period").await;
}

#[tokio::test]
async fn ten_years_of_46_funds_make_pages_under_60_kb_when_the_live_period_is_ten_years_too() {
    let live_from = TradeDate::parse(LAST_DAY).unwrap().minus_days(3652);
    check_sizes(Some(live_from), "two ten-year periods").await;
}

/// Renders the performance page and every fund's page of a stored record; asserts what each shows
/// and that none is over the limit, and prints the sizes.
async fn check_sizes(live_from: Option<TradeDate>, what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let store = ObjectStore::local(dir.path());
    let record = store_sample_performance(&store, live_from).await;
    let backtest = &record.periods.last().unwrap().backtest;
    assert!(backtest.funds.len() >= 40, "the bundled funds were replayed: {}", backtest.funds.len());

    let (status, page) = get(&store, "/performance").await;
    assert_eq!(status, 200);
    assert_eq!(page.matches("<svg ").count(), record.periods.len(), "a chart per period");
    assert_eq!(page.matches(r#"<a href="/funds/"#).count(), backtest.funds.len() * record.periods.len());
    assert!(page.contains("数据截至 <strong>2026-11-27</strong>"));
    assert!(page.len() <= PAGE_LIMIT, "{what}: /performance is {} bytes", page.len());
    println!("{what}: /performance is {} bytes", page.len());

    let mut largest = (0, String::new());
    for fund in &backtest.funds {
        let uri = format!("/funds/{}", fund.code);
        let (status, page) = get(&store, &uri).await;
        assert_eq!(status, 200, "{uri}");
        assert!(page.contains(r#"<path class="close""#) && page.contains(r#"<path class="entry""#), "{uri}");
        let rows = page.matches("<tr><td>").count() + page.matches(r#"<tr class="open"><td>"#).count();
        assert_eq!(rows, fund.trades.len(), "{uri}: a row per trade");
        assert!(page.len() <= PAGE_LIMIT, "{what}: {uri} is {} bytes", page.len());
        if page.len() > largest.0 {
            largest = (page.len(), uri);
        }
    }
    println!("{what}: the largest fund page is {} at {} bytes", largest.1, largest.0);
}

async fn get(store: &ObjectStore, uri: &str) -> (u16, String) {
    let app = router(WebState::new(store.clone(), DmaParams::STANDARD));
    let response = app.oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}
