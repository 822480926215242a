//! Fixtures for the router tests: stored reports made from literal JSON shapes, and one-shot requests.

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Request, StatusCode},
};
use http_body_util::BodyExt;
use platform::{
    date::TradeDate,
    fund::FundCode,
    report::json::{CountsJson, FundJson, IndexDay, IndexJson, ReportJson, SCHEMA, SeriesJson, StrategyJson},
    reports::{self, ReportFormat},
    store::ObjectStore,
    strategy::DmaParams,
};
use tower::ServiceExt;

/// A response read whole.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |it| it.to_str().unwrap())
    }
}

/// Sends one request through the router in memory: no socket, no Lambda.
pub(crate) async fn send(app: Router, request: Request<Body>) -> Answer {
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, headers, body: String::from_utf8(bytes.to_vec()).unwrap() }
}

pub(crate) async fn get(app: Router, uri: &str) -> Answer {
    send(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

pub(crate) fn date(text: &str) -> TradeDate {
    TradeDate::parse(text).unwrap()
}

/// A fund in `state` with a five-day series ending on `trade_date`.
pub(crate) fn fund(code: &str, name: &str, state: &str, trade_date: TradeDate) -> FundJson {
    let dates: Vec<TradeDate> = (0..5).rev().map(|it| trade_date.minus_days(it)).collect();
    let decided = state != "UNDECIDED";
    FundJson {
        code: FundCode::parse(code).unwrap(),
        name: name.to_owned(),
        state: state.to_owned(),
        close: decided.then_some(4.012),
        ma_short: decided.then_some(3.998),
        ma_long: decided.then_some(3.990),
        since: decided.then(|| trade_date.minus_days(2)),
        since_is_window_start: false,
        days: decided.then_some(2),
        pct: decided.then_some(1.25),
        reason: (!decided).then(|| "数据不足".to_owned()),
        reason_code: (!decided).then(|| "too_few_bars".to_owned()),
        notes: Vec::new(),
        series: SeriesJson {
            dates,
            close: vec![3.9, 3.95, 4.0, 3.98, 4.012],
            ma_short: vec![None, Some(3.93), Some(3.96), Some(3.97), Some(3.998)],
            ma_long: vec![None, None, Some(3.95), Some(3.96), Some(3.990)],
        },
    }
}

/// A report of `funds` on `trade_date`, counted.
pub(crate) fn report(trade_date: TradeDate, funds: Vec<FundJson>) -> ReportJson {
    let mut counts = CountsJson::default();
    for fund in &funds {
        match fund.state.as_str() {
            "BUY" => counts.buy += 1,
            "SELL" => counts.sell += 1,
            "HOLD" => counts.hold += 1,
            "EMPTY" => counts.empty += 1,
            _ => counts.undecided += 1,
        }
    }
    let params = DmaParams::STANDARD;
    ReportJson {
        schema: SCHEMA,
        trade_date,
        source: "sample".to_owned(),
        sample_data: true,
        complete: true,
        strategy: StrategyJson {
            id: params.id(),
            short: params.short(),
            long: params.long(),
            lookback_days: params.lookback_days(),
        },
        counts,
        funds,
    }
}

/// The usual day: one fund in each state; the BUY fund's name is a script tag.
pub(crate) fn usual_report(trade_date: TradeDate) -> ReportJson {
    report(
        trade_date,
        vec![
            fund("510300.SH", "<script>alert(1)</script>", "BUY", trade_date),
            fund("510500.SH", "500ETF", "SELL", trade_date),
            fund("159915.SZ", "创业板ETF", "HOLD", trade_date),
            fund("512880.SH", "证券ETF", "EMPTY", trade_date),
            fund("512000.SH", "券商ETF", "UNDECIDED", trade_date),
        ],
    )
}

/// Stores each report as the job does: JSON, text, then the index.
pub(crate) async fn store_reports(store: &ObjectStore, reports: &[ReportJson]) {
    let params = DmaParams::STANDARD;
    let mut index = IndexJson::default();
    for report in reports {
        let json = serde_json::to_vec_pretty(report).unwrap();
        let key = reports::day_key(&params, report.trade_date, ReportFormat::Json);
        store.put(&key, json, "application/json").await.unwrap();
        let text = format!("{} 双均线(11日/22日)交易信号\n", report.trade_date.iso());
        let key = reports::day_key(&params, report.trade_date, ReportFormat::Text);
        store.put(&key, text.into_bytes(), "text/plain; charset=utf-8").await.unwrap();
        index.upsert(IndexDay::from_report(report));
    }
    store.put(&reports::index_key(&params), index.to_text().into_bytes(), "application/json").await.unwrap();
}

/// A store whose every read fails (a folder store on a regular file): a 404 from it means the
/// store was not asked.
pub(crate) fn broken_store(dir: &tempfile::TempDir) -> ObjectStore {
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "").unwrap();
    ObjectStore::local(&file)
}

/// The headers every page and document carries.
pub(crate) fn assert_security_headers(answer: &Answer) {
    let csp = answer.header("content-security-policy");
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(answer.header("x-content-type-options"), "nosniff");
    assert_eq!(answer.header("referrer-policy"), "strict-origin-when-cross-origin");
}

/// A page served whole: 200, HTML, cached for `max_age` seconds, with the security headers.
pub(crate) fn assert_html_page(answer: &Answer, max_age: u32) {
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(answer.header("cache-control"), format!("public, max-age={max_age}"));
    assert_security_headers(answer);
}

/// The not-found page for `uri`: 404, HTML, nothing of the request echoed as markup.
pub(crate) fn assert_not_found_page(answer: &Answer, uri: &str) {
    assert_eq!(answer.status, 404, "{uri}");
    assert_eq!(answer.header("content-type"), "text/html; charset=utf-8", "{uri}");
    assert!(answer.body.contains("页面不存在"), "{uri}: {}", answer.body);
    assert!(!answer.body.contains("<script>") && !answer.body.contains("script%3E"), "{uri}: {}", answer.body);
    assert_security_headers(answer);
}

/// The body of the page at `uri`, after [`assert_html_page`].
pub(crate) async fn page(app: Router, uri: &str, max_age: u32) -> String {
    let answer = get(app, uri).await;
    assert_html_page(&answer, max_age);
    answer.body
}

/// The site's router on `store`, with the standard strategy.
pub(crate) fn app(store: &ObjectStore) -> Router {
    crate::web::router(crate::web::WebState::new(store.clone(), DmaParams::STANDARD))
}

/// Each of `uris` is the not-found page, answered without asking the store (its every read fails).
pub(crate) async fn assert_not_found_before_the_store(uris: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let broken = broken_store(&dir);
    for uri in uris {
        let answer = get(app(&broken), uri).await;
        assert_not_found_page(&answer, uri);
        assert!(!answer.body.contains("secret"), "{uri}: {}", answer.body);
    }
}
