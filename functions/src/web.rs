//! The web site: the home page, one page per trading day, the stored objects, the Atom feed, and the
//! track record (`/performance`, `/funds/{code}`, in [`crate::performance`]).
//!
//! Server-rendered with askama (which escapes every value), complete with JavaScript off. Each page
//! costs at most two reads: the feed reads the index the job keeps; the home page the index and the
//! newest day's JSON (the subscribe form lists its funds with their signals); a day page reads that
//! day's JSON and the index (for the previous and next day); the performance page reads the track
//! record, a fund page its chart data and the track record.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::header,
    middleware::{from_fn, map_response},
    response::{IntoResponse, Response},
    routing::get,
};
use platform::{
    date::TradeDate,
    interest::MAX_FUNDS,
    report::{
        Group,
        json::{FundJson, IndexDay, IndexFund, IndexJson, ReportJson, SeriesTail},
    },
    reports::{self, ReportFormat},
    store::ObjectStore,
    strategy::DmaParams,
};
use serde::{Deserialize, de::IgnoredAny};
use std::sync::Arc;

use crate::{
    error::{AppError, PageError},
    feed,
    headers::{CACHE_A_DAY, CACHE_A_MINUTE, entity_tags, security_headers},
    memo::{Pages, Reads, Rendered},
    performance, spark,
};

/// Trading days on one page of the home page's history.
pub const DAYS_PER_PAGE: usize = 100;

/// What the web function works with.
#[derive(Debug, Clone)]
pub struct WebState {
    /// Where the reports are: the bucket in the cloud, a folder locally.
    pub store: ObjectStore,
    /// The strategy whose reports are shown.
    pub params: DmaParams,
    /// The pages rendered so far, kept while the objects they show are unchanged.
    pages: Arc<Pages>,
}

impl WebState {
    /// The site of `store`'s reports of the strategy `params`, with nothing rendered yet.
    pub fn new(store: ObjectStore, params: DmaParams) -> WebState {
        WebState { store, params, pages: Arc::default() }
    }

    /// The page at `address`: the kept one while the objects it was made from are unchanged, else
    /// rendered by `render` from what it reads through [`Reads`] (and kept). Errors are not kept.
    async fn page(
        &self,
        address: String,
        render: impl AsyncFnOnce(&mut Reads<'_>) -> Result<Rendered, PageError>,
    ) -> Result<Response, PageError> {
        if let Some(kept) = self.pages.fresh(&self.store, &address).await? {
            return Ok(kept);
        }
        let mut reads = Reads::new(&self.store);
        let rendered = render(&mut reads).await?;
        Ok(self.pages.keep(address, reads, rendered))
    }

    /// The local state: the folder store at [`platform::env::DATA_DIR`], the standard strategy.
    ///
    /// In the cloud (`ALCHEMY_REPORTS_BUCKET` set) the reports come from that bucket through the
    /// standard AWS chain (`AWS_ENDPOINT_URL` honoured); otherwise from the local data folder.
    pub async fn from_env() -> anyhow::Result<WebState> {
        let store = match crate::non_empty_env(platform::env::REPORTS_BUCKET) {
            Some(bucket) => ObjectStore::s3(crate::aws_config().await?.s3(), &bucket),
            None => ObjectStore::local(&crate::data_dir_from_env()?),
        };
        Ok(WebState::new(store, DmaParams::STANDARD))
    }
}

/// The site's router.
pub fn router(state: WebState) -> Router {
    routes(state).fallback(not_found).layer(map_response(security_headers))
}

/// The routes alone, for [`crate::site`] to merge with the subscribe API's; each answer carries an
/// `ETag` and revalidates with `304 Not Modified` ([`entity_tags`]).
pub(crate) fn routes(state: WebState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/reports/{file}", get(report_file))
        .route("/feed.xml", get(feed))
        .route("/performance", get(performance_page))
        .route("/funds/{code}", get(fund_page))
        .route("/assets/{file}", get(asset))
        .route_layer(from_fn(entity_tags))
        .with_state(state)
}

#[derive(Deserialize)]
struct HomeQuery {
    page: Option<String>,
}

/// A day in the history list.
struct HistoryDay {
    date: String,
    label: String,
    buy: usize,
    sell: usize,
}

/// The history days of one month, newest first.
struct HistoryMonth {
    label: String,
    days: Vec<HistoryDay>,
}

/// The newest report's summary.
struct Latest {
    date: String,
    label: String,
    sample_data: bool,
    buy: usize,
    sell: usize,
    hold: usize,
    empty: usize,
    undecided: usize,
    buy_funds: Vec<IndexFund>,
    sell_funds: Vec<IndexFund>,
}

/// A fund to tick on the subscribe form, with its newest signal.
struct ChoiceFund {
    code: String,
    name: String,
    state_class: &'static str,
    signal: String,
}

/// The form's funds of one group of the report (可买, 可卖, 持仓, 空仓, 无法判断).
struct ChoiceGroup {
    title: &'static str,
    state_class: &'static str,
    funds: Vec<ChoiceFund>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    latest: Option<Latest>,
    /// The newest day's funds by group, for the form; empty when no day is stored.
    choice_groups: Vec<ChoiceGroup>,
    /// The day of the form's signals, `2026-11-27`.
    choice_date: String,
    max_funds: usize,
    months: Vec<HistoryMonth>,
    n_days: usize,
    page: usize,
    newer_page: Option<usize>,
    older_page: Option<usize>,
}

async fn home(
    State(state): State<WebState>,
    query: Result<Query<HomeQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let Ok(Query(query)) = query else {
        return Err(AppError::bad_request("请使用 ?page=2 这样的页码").into());
    };
    let page = match query.page.as_deref() {
        None => 1,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => return Err(AppError::NotFound.into()),
        },
    };
    let params = state.params;
    state.page(format!("/?page={page}"), async |reads| home_page(reads, &params, page).await).await
}

/// The home page's `page`th page of history.
async fn home_page(reads: &mut Reads<'_>, params: &DmaParams, page: usize) -> Result<Rendered, PageError> {
    let index = load_index(reads, params).await?;
    let start = (page - 1).saturating_mul(DAYS_PER_PAGE);
    if page > 1 && start >= index.days.len() {
        return Err(AppError::NotFound.into());
    }
    let shown = index.days.iter().skip(start).take(DAYS_PER_PAGE);
    let mut months: Vec<HistoryMonth> = Vec::new();
    for day in shown {
        let label = month_label(day.trade_date);
        let row = HistoryDay {
            date: day.trade_date.to_string(),
            label: day.trade_date.iso(),
            buy: day.counts.buy,
            sell: day.counts.sell,
        };
        match months.last_mut() {
            Some(month) if month.label == label => month.days.push(row),
            _ => months.push(HistoryMonth { label, days: vec![row] }),
        }
    }
    let choice_groups = match index.days.first() {
        Some(newest) => choice_groups(reads, params, newest.trade_date).await?,
        None => Vec::new(),
    };
    let page = HomePage {
        latest: index.days.first().map(latest),
        choice_groups,
        choice_date: index.days.first().map(|it| it.trade_date.iso()).unwrap_or_default(),
        max_funds: MAX_FUNDS,
        months,
        n_days: index.days.len(),
        page,
        newer_page: (page > 1).then(|| page - 1),
        older_page: (start + DAYS_PER_PAGE < index.days.len()).then_some(page + 1),
    };
    Ok(Rendered::html(page.render()?, CACHE_A_MINUTE))
}

/// One fund's row on a day page.
struct FundRow {
    code: String,
    name: String,
    state_class: &'static str,
    state_label: &'static str,
    since: String,
    days: String,
    pct: String,
    close: String,
    ma_short: String,
    ma_long: String,
    reason: String,
    spark: Option<String>,
}

#[derive(Template)]
#[template(path = "day.html")]
struct DayPage {
    date: String,
    label: String,
    sample_data: bool,
    short: usize,
    long: usize,
    spark_days: usize,
    buy: usize,
    sell: usize,
    hold: usize,
    empty: usize,
    undecided: usize,
    decided: Vec<FundRow>,
    undecided_funds: Vec<FundRow>,
    previous: Option<(String, String)>,
    next: Option<(String, String)>,
}

/// `/reports/YYYYMMDD` (the page), `/reports/YYYYMMDD.txt` and `/reports/YYYYMMDD.json` (the stored
/// objects). Anything else is a 404 that never reaches the store.
async fn report_file(State(state): State<WebState>, Path(file): Path<String>) -> Result<Response, PageError> {
    let (stem, format) = match file.split_once('.') {
        None => (file.as_str(), None),
        Some((stem, "txt")) => (stem, Some(ReportFormat::Text)),
        Some((stem, "json")) => (stem, Some(ReportFormat::Json)),
        Some(_) => return Err(AppError::NotFound.into()),
    };
    let Ok(date) = TradeDate::parse(stem) else {
        return Err(AppError::NotFound.into());
    };
    match format {
        Some(format) => stored_object(&state, date, format).await,
        None => {
            let params = state.params;
            state.page(format!("/reports/{date}"), async |reads| day(reads, &params, date).await).await
        }
    }
}

async fn stored_object(state: &WebState, date: TradeDate, format: ReportFormat) -> Result<Response, PageError> {
    let Some(body) = state.store.get(&reports::day_key(&state.params, date, format)).await? else {
        return Err(AppError::NotFound.into());
    };
    let headers = [(header::CONTENT_TYPE, format.content_type()), (header::CACHE_CONTROL, CACHE_A_DAY)];
    Ok((headers, body).into_response())
}

async fn day(reads: &mut Reads<'_>, params: &DmaParams, date: TradeDate) -> Result<Rendered, PageError> {
    let key = reports::day_key(params, date, ReportFormat::Json);
    let Some(bytes) = reads.get(&key).await? else {
        return Err(AppError::NotFound.into());
    };
    // The page draws the newest `spark::DAYS` of each series: the older days are not read as numbers.
    let report = ReportJson::<SeriesTail<{ spark::DAYS }>>::read(&bytes)
        .map_err(|err| anyhow::Error::new(err).context(format!("parsing {key}")))?;
    let index = load_index(reads, params).await?;
    // The index is newest first: the previous trading day is the first one older than this.
    let link = |day: &IndexDay| (day.trade_date.to_string(), day.trade_date.iso());
    let previous = index.days.iter().find(|it| it.trade_date < date).map(link);
    let next = index.days.iter().rev().find(|it| it.trade_date > date).map(link);

    let mut rows: Vec<(Group, FundRow)> = report.funds.iter().map(|fund| fund_row(report.trade_date, fund)).collect();
    rows.sort_by_key(|(group, _)| *group);
    let (undecided_funds, decided): (Vec<_>, Vec<_>) =
        rows.into_iter().partition(|(group, _)| *group == Group::Undecided);
    let counts = report.counts;
    let page = DayPage {
        date: date.to_string(),
        label: date.iso(),
        sample_data: report.sample_data,
        short: report.strategy.short,
        long: report.strategy.long,
        spark_days: spark::DAYS,
        buy: counts.buy,
        sell: counts.sell,
        hold: counts.hold,
        empty: counts.empty,
        undecided: counts.undecided,
        decided: decided.into_iter().map(|(_, row)| row).collect(),
        undecided_funds: undecided_funds.into_iter().map(|(_, row)| row).collect(),
        previous,
        next,
    };
    Ok(Rendered::html(page.render()?, CACHE_A_DAY))
}

async fn feed(State(state): State<WebState>) -> Result<Response, PageError> {
    let params = state.params;
    state
        .page("/feed.xml".to_owned(), async |reads| {
            let index = load_index(reads, &params).await?;
            let atom = feed::atom(&index, &params);
            Ok(Rendered::new(atom.into(), "application/atom+xml; charset=utf-8", CACHE_A_MINUTE))
        })
        .await
}

async fn performance_page(State(state): State<WebState>) -> Result<Response, PageError> {
    let params = state.params;
    state.page("/performance".to_owned(), async |reads| performance::performance_page(reads, &params).await).await
}

async fn fund_page(State(state): State<WebState>, Path(text): Path<String>) -> Result<Response, PageError> {
    let code = match performance::FundAddress::of(&text) {
        performance::FundAddress::Page(code) => code,
        performance::FundAddress::Elsewhere(location) => return Ok(performance::FundAddress::answer(location)),
        performance::FundAddress::NotFound => return Err(AppError::NotFound.into()),
    };
    let params = state.params;
    state.page(format!("/funds/{code}"), async |reads| performance::fund_page(reads, &params, &code).await).await
}

async fn asset(Path(file): Path<String>) -> Result<Response, PageError> {
    let (content_type, body) = match file.as_str() {
        "site.css" => ("text/css; charset=utf-8", include_str!("../assets/site.css")),
        "site.js" => ("text/javascript; charset=utf-8", include_str!("../assets/site.js")),
        _ => return Err(AppError::NotFound.into()),
    };
    Ok(([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, CACHE_A_DAY)], body).into_response())
}

pub(crate) async fn not_found() -> PageError {
    PageError(AppError::NotFound)
}

/// The index of stored days; none yet is an empty index, not an error.
async fn load_index(reads: &mut Reads<'_>, params: &DmaParams) -> Result<IndexJson, AppError> {
    let key = reports::index_key(params);
    let Some(bytes) = reads.get(&key).await? else {
        return Ok(IndexJson::default());
    };
    let index = IndexJson::parse(&bytes).map_err(|err| anyhow::Error::new(err).context(format!("parsing {key}")))?;
    Ok(index)
}

fn latest(day: &IndexDay) -> Latest {
    Latest {
        date: day.trade_date.to_string(),
        label: day.trade_date.iso(),
        sample_data: day.sample_data,
        buy: day.counts.buy,
        sell: day.counts.sell,
        hold: day.counts.hold,
        empty: day.counts.empty,
        undecided: day.counts.undecided,
        buy_funds: day.buy.clone(),
        sell_funds: day.sell.clone(),
    }
}

/// `2026年11月`.
fn month_label(date: TradeDate) -> String {
    let key = date.month_key();
    format!("{}年{}月", &key[..4], key[4..].trim_start_matches('0'))
}

/// The newest day's funds grouped as the report groups them, each with its signal; a day whose
/// JSON is missing, or which has no funds, gives no groups (the form then offers the frequencies only).
async fn choice_groups(
    reads: &mut Reads<'_>,
    params: &DmaParams,
    date: TradeDate,
) -> Result<Vec<ChoiceGroup>, AppError> {
    let key = reports::day_key(params, date, ReportFormat::Json);
    let Some(bytes) = reads.get(&key).await? else {
        return Ok(Vec::new());
    };
    parse_choice_groups(&key, &bytes)
}

/// The form's groups of the funds of one stored day's JSON at `key`.
fn parse_choice_groups(key: &platform::store::ObjectKey, bytes: &[u8]) -> Result<Vec<ChoiceGroup>, AppError> {
    // The form lists the funds: their series are skipped.
    let report = ReportJson::<IgnoredAny>::read(bytes)
        .map_err(|err| anyhow::Error::new(err).context(format!("parsing {key}")))?;
    if report.funds.is_empty() {
        return Ok(Vec::new());
    }
    let mut groups: Vec<ChoiceGroup> = Group::ALL
        .iter()
        .map(|group| ChoiceGroup { title: group.title(), state_class: state_words(*group).0, funds: Vec::new() })
        .collect();
    for fund in &report.funds {
        let group = Group::of_stored(&fund.state);
        let (state_class, label) = state_words(group);
        let signal = match (group, fund.since) {
            (Group::Hold | Group::Empty, Some(since)) if fund.since_is_window_start => {
                format!("{label}, 自{}或更早", since.iso())
            }
            (Group::Hold | Group::Empty, Some(since)) => format!("{label}, 自{}", since.iso()),
            _ => label.to_owned(),
        };
        groups[group as usize].funds.push(ChoiceFund {
            code: fund.code.as_str().to_owned(),
            name: fund.name.clone(),
            state_class,
            signal,
        });
    }
    // As in the text: the four signal groups always (an empty one says 无), 无法判断 when any.
    if groups[Group::Undecided as usize].funds.is_empty() {
        groups.pop();
    }
    Ok(groups)
}

/// A group's CSS class and the word for its signal on the site.
fn state_words(group: Group) -> (&'static str, &'static str) {
    match group {
        Group::Buy => ("buy", "买入"),
        Group::Sell => ("sell", "卖出"),
        Group::Hold => ("hold", "持仓"),
        Group::Empty => ("empty", "空仓"),
        Group::Undecided => ("undecided", "无法判断"),
    }
}

/// A fund's row and its group (the e-mail's order).
fn fund_row(trade_date: TradeDate, fund: &FundJson<SeriesTail<{ spark::DAYS }>>) -> (Group, FundRow) {
    let group = Group::of_stored(&fund.state);
    let (state_class, state_label) = state_words(group);
    let since = match fund.since {
        Some(date) if fund.since_is_window_start => format!("{}或更早", date.iso()),
        Some(date) => date.iso(),
        None => "-".to_owned(),
    };
    let days = match (fund.days, fund.since_is_window_start) {
        (Some(days), true) => format!("≥{days}"),
        (Some(days), false) => days.to_string(),
        (None, _) => "-".to_owned(),
    };
    let number = |value: Option<f64>| value.map_or("-".to_owned(), |it| format!("{it:.3}"));
    let marked = fund.since.filter(|it| *it <= trade_date).or(Some(trade_date));
    let row = FundRow {
        code: fund.code.as_str().to_owned(),
        name: fund.name.clone(),
        state_class,
        state_label,
        since,
        days,
        pct: fund.pct.map_or("-".to_owned(), |it| format!("{it:+.2}%")),
        close: number(fund.close),
        ma_short: number(fund.ma_short),
        ma_long: number(fund.ma_long),
        reason: fund.reason.clone().unwrap_or_default(),
        spark: spark::svg(&fund.series.newest, marked),
    };
    (group, row)
}

#[cfg(test)]
mod tests {
    use platform::report::json::{CountsJson, IndexDay, IndexJson};

    use super::*;
    use crate::test_support::{
        app, assert_not_found_before_the_store, assert_security_headers, date, get, page, store_reports, usual_report,
    };

    /// A store with the usual report on three trading days across a month boundary.
    async fn three_days() -> (tempfile::TempDir, ObjectStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::local(dir.path());
        let days = ["20261030", "20261102", "20261103"].map(|it| usual_report(date(it)));
        store_reports(&store, &days).await;
        (dir, store)
    }

    #[tokio::test]
    async fn home_shows_the_service_the_form_the_latest_summary_and_the_history_by_month() {
        let (_dir, store) = three_days().await;
        let body = &page(app(&store), "/", 60).await;
        assert!(body.contains("11日与22日") && body.contains("不构成投资建议"), "{body}");
        assert!(body.contains(r#"<form id="subscribe-form" method="post" action="/api/subscribe">"#), "{body}");
        assert!(body.contains(r#"<a href="/reports/20261103">2026-11-03</a> <span class="sample">"#), "{body}");
        assert!(body.contains("可买 1") && body.contains("可卖 1") && body.contains("持仓 1"), "{body}");
        assert!(
            body.contains(r#"<a href="/funds/510500.SH">500ETF</a> (510500.SH)"#),
            "the SELL fund is named: {body}"
        );
        let november = body.find("2026年11月").unwrap();
        let october = body.find("2026年10月").unwrap();
        let newest = body.find(r#"href="/reports/20261103""#).unwrap();
        let older = body.rfind(r#"href="/reports/20261102""#).unwrap();
        assert!(november < october && newest < older, "newest first, grouped by month");
        assert!(!body.contains("rel=\"next\""), "three days fit on one page");
    }

    #[tokio::test]
    async fn a_rewritten_newest_day_shows_its_new_signals_on_the_home_page() {
        let (_dir, store) = three_days().await;
        // One site for both requests: the first one's page is kept, and must not be answered again.
        let site = app(&store);
        let body = page(site.clone(), "/", 60).await;
        assert!(body.contains(r#"<span class="state sell">卖出</span>"#), "{body}");
        // The job rewrites the day (an incomplete run made complete, say): other bytes, other signals.
        let key = reports::day_key(&DmaParams::STANDARD, date("20261103"), ReportFormat::Json);
        let text = String::from_utf8(store.get(&key).await.unwrap().unwrap()).unwrap();
        let rewritten = text.replace(r#""state": "SELL""#, r#""state": "BUY""#);
        assert_ne!(rewritten, text, "the day has a SELL to rewrite");
        store.put(&key, rewritten.into_bytes(), "application/json").await.unwrap();
        let body = page(site, "/", 60).await;
        assert!(!body.contains(r#"<span class="state sell">卖出</span>"#), "the old signals are gone: {body}");
    }

    #[tokio::test]
    async fn a_kept_day_page_gets_its_next_link_once_the_next_day_is_stored_and_still_answers_304() {
        let (_dir, store) = three_days().await;
        let site = app(&store);
        let first = get(site.clone(), "/reports/20261103").await;
        assert!(!first.body.contains(r#"href="/reports/20261104""#), "no next day yet");
        let again = get(site.clone(), "/reports/20261103").await;
        assert_eq!((again.body.as_str(), again.header("etag")), (first.body.as_str(), first.header("etag")));
        let request = axum::http::Request::get("/reports/20261103")
            .header("if-none-match", first.header("etag"))
            .body(axum::body::Body::empty())
            .unwrap();
        let revalidated = crate::test_support::send(site.clone(), request).await;
        assert_eq!((revalidated.status.as_u16(), revalidated.body.as_str()), (304, ""));

        store_reports(&store, &[usual_report(date("20261104"))]).await;
        let after = get(site, "/reports/20261103").await;
        assert!(after.body.contains(r#"href="/reports/20261104""#), "the index changed: {}", after.body);
        assert_ne!(after.header("etag"), first.header("etag"));
    }

    #[tokio::test]
    async fn home_offers_the_two_frequencies_and_the_newest_days_funds_grouped_with_their_signals() {
        let (_dir, store) = three_days().await;
        let body = &page(app(&store), "/", 60).await;
        assert!(body.contains(r#"<input type="radio" name="frequency" value="daily" checked> 每个交易日"#), "{body}");
        assert!(body.contains(r#"<input type="radio" name="frequency" value="signals">"#), "{body}");
        assert!(body.contains("各基金旁是 2026-11-03 的信号"), "the newest day's signals: {body}");
        let legends: Vec<usize> = ["可买标的", "可卖标的", "持仓标的", "空仓标的", "无法判断"]
            .iter()
            .map(|title| body.find(&format!("<legend>{title}</legend>")).unwrap_or_else(|| panic!("{title}: {body}")))
            .collect();
        assert!(legends.windows(2).all(|it| it[0] < it[1]), "the report's order: {legends:?}");
        let checkbox = |code: &str| {
            let at = body.find(&format!(r#"<input type="checkbox" name="funds" value="{code}">"#)).unwrap();
            body[at..].split("</li>").next().unwrap().to_owned()
        };
        assert!(checkbox("510500.SH").contains(r#"<span class="state sell">卖出</span>"#), "{}", checkbox("510500.SH"));
        assert!(checkbox("159915.SZ").contains("持仓, 自2026-11-01"), "{}", checkbox("159915.SZ"));
        assert!(checkbox("510300.SH").contains("&#60;script&#62;"), "names are escaped");
        assert!(!body.contains("<script>alert"), "{body}");
        let buy = body.find(r#"value="510300.SH""#).unwrap();
        assert!(legends[0] < buy && buy < legends[1], "the BUY fund is under 可买标的");
    }

    #[tokio::test]
    async fn home_without_reports_says_there_are_none_yet() {
        let dir = tempfile::tempdir().unwrap();
        let answer = get(app(&ObjectStore::local(dir.path())), "/").await;
        assert_eq!(answer.status, 200);
        assert!(answer.body.contains("暂无报告"), "{}", answer.body);
        assert!(answer.body.contains(r#"name="frequency" value="signals""#), "the frequencies are still offered");
        assert!(!answer.body.contains("fund-choices"), "no funds to choose without a report");
    }

    #[tokio::test]
    async fn home_pages_the_history_past_the_first_hundred_days() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::local(dir.path());
        let mut index = IndexJson::default();
        let mut day = date("20260101");
        for _ in 0..150 {
            let counts = CountsJson { buy: 1, ..CountsJson::default() };
            index.upsert(IndexDay {
                trade_date: day,
                sample_data: true,
                complete: true,
                counts,
                buy: vec![],
                sell: vec![],
            });
            day = day.next_day().unwrap();
        }
        let key = reports::index_key(&DmaParams::STANDARD);
        store.put(&key, index.to_text().into_bytes(), "application/json").await.unwrap();

        let first = get(app(&store), "/").await;
        assert_eq!(first.body.matches("<li><a href=\"/reports/").count(), 100);
        assert!(first.body.contains(r#"<a rel="next" href="/?page=2">"#), "{}", first.body);
        let second = get(app(&store), "/?page=2").await;
        assert_eq!(second.status, 200);
        assert_eq!(second.body.matches("<li><a href=\"/reports/").count(), 50);
        assert!(second.body.contains(r#"href="/reports/20260101""#), "the oldest day is on the last page");
        assert!(second.body.contains(r#"<a rel="prev" href="/?page=1">"#), "{}", second.body);
        for uri in ["/?page=3", "/?page=0", "/?page=abc", "/?page=-1"] {
            assert_eq!(get(app(&store), uri).await.status, 404, "{uri}");
        }
    }

    #[tokio::test]
    async fn a_day_page_has_the_table_the_undecided_the_neighbours_the_raw_links_and_a_sparkline_per_fund() {
        let (_dir, store) = three_days().await;
        let body = &page(app(&store), "/reports/20261102", 86400).await;
        assert!(body.contains("2026-11-02 双均线(11日/22日)交易信号"), "{body}");
        assert!(body.contains(r#"<a rel="prev" href="/reports/20261030">"#), "{body}");
        assert!(body.contains(r#"<a rel="next" href="/reports/20261103">"#), "{body}");
        assert!(body.contains(r#"href="/reports/20261102.txt""#) && body.contains(r#"href="/reports/20261102.json""#));
        assert!(body.contains(r#"<tr class="buy"><td><a href="/funds/"#), "{body}");
        assert!(body.contains(r#"<td class="state">买入</td>"#), "{body}");
        assert!(body.contains("<td>2026-10-31</td><td>2</td><td>+1.25%</td><td>4.012</td>"), "{body}");
        assert!(
            body.contains(r#"<a href="/funds/512000.SH">券商ETF</a> <small>512000.SH</small>: 数据不足"#),
            "{body}"
        );
        assert!(body.contains(r#"<a href="/funds/510500.SH">500ETF</a> <small>510500.SH</small>"#), "{body}");
        assert_eq!(body.matches(r#"<svg class="spark""#).count(), 4, "a sparkline per decided fund");
        assert!(body.contains(r#"<path class="m""#), "the signal day is marked");
        assert!(body.find("500ETF").unwrap() > body.find("alert(1)").unwrap(), "BUY rows before SELL rows");
    }

    /// The bundled list's 46 funds on a sample day: the page a visitor of `cargo xtask dev` opens.
    #[tokio::test]
    async fn a_day_page_of_the_bundled_funds_is_at_most_30_kb_with_a_sparkline_for_each() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::local(dir.path());
        let days = test_support::reports::store_sample_reports(&store, 2).await;
        let body = page(app(&store), &format!("/reports/{}", days[1]), 86400).await;
        let funds = platform::fund::bundled_funds().len();
        let (rows, undecided) = (body.matches("<tr class=").count(), body.matches("<li><a href=\"/funds/").count());
        assert_eq!(rows + undecided, funds, "a row or an undecided line per fund");
        assert!(rows > 40, "{rows} decided rows");
        assert_eq!(body.matches(r#"<svg class="spark""#).count(), rows, "a sparkline per row");
        assert!(body.len() <= 30 * 1024, "the day page is {} bytes", body.len());
    }

    /// The day page reads only the newest days of each series: its sparklines are those drawn from
    /// the whole series, fund by fund, on the bundled list's sample day.
    #[tokio::test]
    async fn the_sparklines_drawn_from_the_newest_days_are_those_of_the_whole_series() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::local(dir.path());
        let day = test_support::reports::store_sample_reports(&store, 1).await[0];
        let key = reports::day_key(&DmaParams::STANDARD, day, ReportFormat::Json);
        let bytes = store.get(&key).await.unwrap().unwrap();
        let whole = ReportJson::<platform::report::json::SeriesJson>::read(&bytes).unwrap();
        let newest = ReportJson::<SeriesTail<{ spark::DAYS }>>::read(&bytes).unwrap();
        assert_eq!(newest.funds.len(), whole.funds.len());
        for (whole, newest) in whole.funds.iter().zip(&newest.funds) {
            let days = whole.series.dates.len();
            assert!(days > spark::DAYS, "{}: {days} days, more than a sparkline draws", whole.code);
            assert_eq!(newest.series.newest.dates, whole.series.dates[days - spark::DAYS..], "{}", whole.code);
            let marked = whole.since.or(Some(day));
            assert_eq!(spark::svg(&newest.series.newest, marked), spark::svg(&whole.series, marked), "{}", whole.code);
        }
    }

    #[tokio::test]
    async fn the_oldest_and_newest_days_link_only_one_way() {
        let (_dir, store) = three_days().await;
        let oldest = get(app(&store), "/reports/20261030").await;
        assert!(!oldest.body.contains("rel=\"prev\"") && oldest.body.contains("rel=\"next\""));
        let newest = get(app(&store), "/reports/20261103").await;
        assert!(newest.body.contains("rel=\"prev\"") && !newest.body.contains("rel=\"next\""));
    }

    #[tokio::test]
    async fn every_value_from_a_report_is_escaped() {
        let (_dir, store) = three_days().await;
        for uri in ["/", "/reports/20261103", "/feed.xml"] {
            let answer = get(app(&store), uri).await;
            assert_eq!(answer.status, 200, "{uri}");
            assert!(!answer.body.contains("<script>alert"), "{uri}: {}", answer.body);
            assert!(
                answer.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                    || answer.body.contains("&#60;script&#62;"),
                "{uri}: the name shows as text: {}",
                answer.body
            );
        }
    }

    #[tokio::test]
    async fn the_stored_text_and_json_are_served_with_their_content_types() {
        let (_dir, store) = three_days().await;
        let text = get(app(&store), "/reports/20261103.txt").await;
        assert_eq!(text.status, 200);
        assert_eq!(text.header("content-type"), "text/plain; charset=utf-8");
        assert_eq!(text.header("cache-control"), "public, max-age=86400");
        assert_eq!(text.body, "2026-11-03 双均线(11日/22日)交易信号\n");
        let json = get(app(&store), "/reports/20261103.json").await;
        assert_eq!(json.status, 200);
        assert_eq!(json.header("content-type"), "application/json");
        assert_eq!(ReportJson::parse(json.body.as_bytes()).unwrap(), usual_report(date("20261103")));
        assert_security_headers(&json);
    }

    #[tokio::test]
    async fn what_is_not_a_valid_date_is_a_404_page_that_never_reaches_the_store() {
        assert_not_found_before_the_store(&[
            "/reports/2026110",
            "/reports/20261131",
            "/reports/2026-11-03",
            "/reports/20261103.html",
            "/reports/20261103.txt.json",
            "/reports/..%2Findex.json",
            "/reports/index.json",
            "/reports/%3Cscript%3E",
            "/reports/",
            "/reports",
            "/nothing-here",
        ])
        .await;
    }

    #[tokio::test]
    async fn a_valid_date_without_a_report_is_a_404() {
        let (_dir, store) = three_days().await;
        for uri in ["/reports/20261101", "/reports/20261101.txt", "/reports/20261101.json"] {
            assert_eq!(get(app(&store), uri).await.status, 404, "{uri}");
        }
    }

    #[tokio::test]
    async fn a_failing_store_is_a_500_page_that_shows_nothing_of_the_cause() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-folder");
        std::fs::write(&file, "").unwrap();
        let answer = get(app(&ObjectStore::local(&file)), "/reports/20261103").await;
        assert_eq!(answer.status, 500);
        assert!(answer.body.contains("服务暂时出错"), "{}", answer.body);
        assert!(!answer.body.contains("not-a-folder"), "{}", answer.body);
    }

    #[tokio::test]
    async fn the_feed_is_atom_with_the_latest_thirty_reports() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::local(dir.path());
        let mut day = date("20261001");
        let mut reports = Vec::new();
        for _ in 0..35 {
            reports.push(usual_report(day));
            day = day.next_day().unwrap();
        }
        store_reports(&store, &reports).await;
        let answer = get(app(&store), "/feed.xml").await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("content-type"), "application/atom+xml; charset=utf-8");
        assert_eq!(answer.header("cache-control"), "public, max-age=60");
        let body = &answer.body;
        assert!(
            body.starts_with(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">"
            )
        );
        assert_eq!(body.matches("<entry>").count(), 30);
        assert!(body.contains("<updated>2026-11-04T16:00:00+08:00</updated>"), "the newest day first: {body}");
        assert!(body.contains(r#"<link href="/reports/20261104"/>"#), "{body}");
        assert!(!body.contains("20261005"), "the oldest five are left out");
    }

    #[tokio::test]
    async fn the_stylesheet_and_script_are_served_with_their_types() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::local(dir.path());
        let css = get(app(&store), "/assets/site.css").await;
        assert_eq!((css.status.as_u16(), css.header("content-type")), (200, "text/css; charset=utf-8"));
        let js = get(app(&store), "/assets/site.js").await;
        assert_eq!((js.status.as_u16(), js.header("content-type")), (200, "text/javascript; charset=utf-8"));
        assert!(js.body.contains("/api/subscribe") || js.body.contains("form.action"));
        assert_eq!(get(app(&store), "/assets/other.js").await.status, 404);
    }
}
