//! The Tushare client against an in-process server on 127.0.0.1 that speaks the protocol.
//!
//! Retries use a 1 ms base delay, so no test waits on a backoff; the one timeout test waits for
//! its 300 ms timeout once.

use std::time::Duration;

use platform::{
    date::TradeDate,
    fund::FundCode,
    market::{
        AdjFactor, Bar, Budget, History, MarketData, MarketError,
        tushare::{MAX_RANGE_DAYS, RetryPolicy, Token, TushareClient, TushareConfig, TushareError, TushareSource},
    },
    store::ObjectStore,
    strategy::{self, DmaParams, State, Undecided},
};
use serde_json::json;
use test_support::tushare::{FakeTushare, Market, Reply, Seen, error, ok};

const TOKEN: &str = "test-token-5f1d0c";

fn client(fake: &FakeTushare) -> TushareClient {
    let mut config = TushareConfig::new(&fake.url, Token::new(TOKEN).unwrap());
    config.timeout = Duration::from_millis(300);
    config.retry = RetryPolicy {
        tries: 4,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
        deadline: Duration::from_secs(30),
    };
    TushareClient::new(config).unwrap()
}

fn code(text: &str) -> FundCode {
    FundCode::parse(text).unwrap()
}

fn date(text: &str) -> TradeDate {
    TradeDate::parse(text).unwrap()
}

fn bar(day: &str, open: f64, close: f64) -> Bar {
    Bar { trade_date: date(day), open, close }
}

fn factor(day: &str, factor: f64) -> AdjFactor {
    AdjFactor { trade_date: date(day), factor }
}

/// Fetches 510300.SH for the last days of November 2026 from a server answering with `handler`.
async fn history_from(
    handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
) -> (Result<History, TushareError>, FakeTushare) {
    let fake = FakeTushare::start(Duration::ZERO, handler).await;
    let res = client(&fake).history(&code("510300.SH"), date("20261101"), date("20261127")).await;
    (res, fake)
}

/// Two days of bars and factors, the way most tests want them.
fn two_days(seen: &Seen) -> Reply {
    match seen.api.as_str() {
        "fund_daily" => ok(
            &["ts_code", "trade_date", "open", "close"],
            vec![json!(["510300.SH", "20261127", 4.001, 4.012]), json!(["510300.SH", "20261126", 3.99, 3.998])],
        ),
        "fund_adj" => ok(
            &["ts_code", "trade_date", "adj_factor"],
            vec![json!(["510300.SH", "20261127", 1.0]), json!(["510300.SH", "20261126", 1.0])],
        ),
        _ => error(40101, "no such api"),
    }
}

fn two_days_history() -> History {
    History {
        bars: vec![bar("20261126", 3.99, 3.998), bar("20261127", 4.001, 4.012)],
        factors: vec![factor("20261126", 1.0), factor("20261127", 1.0)],
        notes: vec![],
    }
}

fn calls_of(fake: &FakeTushare, api: &str) -> usize {
    fake.seen().iter().filter(|it| it.api == api).count()
}

/// [`history_from`] a server that answers every request of `api` with `reply`, and the others with [`two_days`].
async fn history_with(
    api: &'static str,
    reply: impl Fn() -> Reply + Send + Sync + 'static,
) -> (Result<History, TushareError>, FakeTushare) {
    history_from(move |seen| if seen.api == api { reply() } else { two_days(seen) }).await
}

/// Fetches the two days while the first `n` requests of `api` get `failure`: the client must retry
/// each of them and end with the two days, in `n + 1` calls of `api`.
async fn check_retried(
    api: &'static str,
    n: usize,
    failure: impl Fn() -> Reply + Send + Sync + 'static,
) -> FakeTushare {
    let (res, fake) =
        history_from(move |seen| if seen.api == api && seen.nth < n { failure() } else { two_days(seen) }).await;
    assert_eq!(res.unwrap(), two_days_history());
    assert_eq!(calls_of(&fake, api), n + 1);
    fake
}

#[tokio::test]
async fn rows_are_read_by_field_name_whatever_the_field_order() {
    let (res, fake) = history_from(|seen| match seen.api.as_str() {
        "fund_daily" => ok(
            &["vol", "close", "pre_close", "trade_date", "open", "ts_code"],
            vec![
                json!([1e6, 4.012, 3.998, "20261127", 4.001, "510300.SH"]),
                json!([2e6, 3.998, 4.1, "20261126", 3.99, "510300.SH"]),
            ],
        ),
        "fund_adj" => ok(
            &["adj_factor", "ts_code", "trade_date"],
            vec![json!([1.0, "510300.SH", "20261127"]), json!([1.0, "510300.SH", "20261126"])],
        ),
        _ => error(40101, "no such api"),
    })
    .await;
    assert_eq!(res.unwrap(), two_days_history());
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(request.token, TOKEN);
        assert_eq!(request.params, json!({"ts_code": "510300.SH", "start_date": "20261101", "end_date": "20261127"}));
    }
}

#[tokio::test]
async fn a_rate_limit_answer_twice_is_retried_until_it_succeeds() {
    let fake = check_retried("fund_daily", 2, || error(40203, "抱歉，您每分钟最多访问该接口200次")).await;
    assert_eq!(calls_of(&fake, "fund_adj"), 1);
}

#[tokio::test]
async fn retries_stop_after_the_configured_tries() {
    let (res, fake) = history_with("fund_daily", || error(40203, "抱歉，您每分钟最多访问该接口200次")).await;
    let err = res.unwrap_err();
    assert!(matches!(&err, TushareError::GaveUp { tries: 4, .. }), "{err:?}");
    assert_eq!(calls_of(&fake, "fund_daily"), 4);
}

#[tokio::test]
async fn a_bad_token_fails_at_once_and_stops_the_run() {
    let fake = FakeTushare::start(Duration::ZERO, |_| error(-2001, "您的token不对，请确认。")).await;
    let market = MarketData::Tushare(TushareSource::new(client(&fake), None));

    let err = market.history(&code("510300.SH"), date("20261101"), date("20261127")).await.unwrap_err();
    assert!(err.is_fatal());
    assert!(matches!(err, MarketError::Unauthorized { .. }));
    assert_eq!(err.to_string(), "Tushare rejected the token (code -2001: 您的token不对，请确认。)");
    assert!(!format!("{err:?}").contains(TOKEN));
    // No retry: one call per API.
    assert_eq!(calls_of(&fake, "fund_daily"), 1);

    let err = market.trading_days(date("20261101"), date("20261127")).await.unwrap_err();
    assert!(err.is_fatal(), "{err}");
}

#[tokio::test]
async fn an_http_500_is_retried() {
    check_retried("fund_adj", 1, || Reply::Status(500)).await;
}

#[tokio::test]
async fn a_client_error_status_is_not_retried() {
    let (res, fake) = history_with("fund_adj", || Reply::Status(404)).await;
    let err = res.unwrap_err();
    assert!(matches!(err, TushareError::Status { status: 404, .. }), "{err:?}");
    assert_eq!(calls_of(&fake, "fund_adj"), 1);
}

#[tokio::test]
async fn a_hang_beyond_the_timeout_is_retried() {
    check_retried("fund_daily", 1, || Reply::Hang).await;
}

#[tokio::test]
async fn malformed_json_is_a_typed_error() {
    let (res, fake) = history_with("fund_daily", || Reply::Raw("{\"code\": 0, \"data\": [")).await;
    let err = res.unwrap_err();
    assert!(matches!(err, TushareError::Malformed { .. }), "{err:?}");
    assert!(err.to_string().starts_with("fund_daily: the answer is not Tushare's JSON"), "{err}");
    assert_eq!(calls_of(&fake, "fund_daily"), 1);
}

#[tokio::test]
async fn code_zero_without_data_is_a_typed_error() {
    let (res, _fake) = history_with("fund_adj", || Reply::Json(json!({"code": 0, "msg": "", "data": null}))).await;
    let err = res.unwrap_err();
    assert!(matches!(err, TushareError::NoData { .. }), "{err:?}");
    assert_eq!(err.to_string(), "fund_adj: Tushare answered code 0 without data");
}

#[tokio::test]
async fn a_missing_field_is_a_typed_error() {
    for (columns, row, missing) in [
        (["ts_code", "trade_date", "open"], json!(["510300.SH", "20261127", 4.0]), "close"),
        (["ts_code", "trade_date", "close"], json!(["510300.SH", "20261127", 4.012]), "open"),
    ] {
        let (res, _fake) = history_with("fund_daily", move || ok(&columns, vec![row.clone()])).await;
        let err = res.unwrap_err();
        assert!(matches!(err, TushareError::MissingField { field, .. } if field == missing), "{err:?}");
    }
}

#[tokio::test]
async fn a_text_where_a_number_belongs_is_a_typed_error() {
    let (res, _fake) = history_with("fund_daily", || {
        ok(&["ts_code", "trade_date", "open", "close"], vec![json!(["510300.SH", "20261127", 4.0, "n/a"])])
    })
    .await;
    let err = res.unwrap_err();
    assert_eq!(err.to_string(), "fund_daily: field \"close\" of row 0 is \"n/a\", not a number");

    let (res, _fake) = history_with("fund_daily", || {
        ok(&["ts_code", "trade_date", "open", "close"], vec![json!(["510300.SH", "20261127", "-", 4.0])])
    })
    .await;
    let err = res.unwrap_err();
    assert_eq!(err.to_string(), "fund_daily: field \"open\" of row 0 is \"-\", not a number");
}

#[tokio::test]
async fn empty_items_make_a_fund_undecided_with_no_data() {
    let (res, _fake) = history_from(|seen| match seen.api.as_str() {
        "fund_daily" => ok(&["ts_code", "trade_date", "open", "close"], vec![]),
        _ => ok(&["ts_code", "trade_date", "adj_factor"], vec![]),
    })
    .await;
    let history = res.unwrap();
    assert_eq!(history, History::default());
    let evaluation = strategy::evaluate(&DmaParams::STANDARD, date("20261127"), &history);
    assert_eq!(evaluation.state, State::Undecided(Undecided::NoData));
}

#[tokio::test]
async fn a_null_close_leaves_that_day_out_and_says_so() {
    let (res, _fake) = history_with("fund_daily", || {
        ok(
            &["ts_code", "trade_date", "open", "close"],
            vec![json!(["510300.SH", "20261127", 4.001, 4.012]), json!(["510300.SH", "20261126", 3.99, null])],
        )
    })
    .await;
    let history = res.unwrap();
    assert_eq!(history.bars, vec![bar("20261127", 4.001, 4.012)]);
    assert_eq!(history.notes, vec!["20261126 无收盘价, 该日不计".to_owned()]);
}

#[tokio::test]
async fn a_null_open_leaves_that_day_out_and_says_so_like_a_null_close() {
    let (res, _fake) = history_with("fund_daily", || {
        ok(
            &["ts_code", "trade_date", "open", "close"],
            vec![
                json!(["510300.SH", "20261127", 4.001, 4.012]),
                json!(["510300.SH", "20261126", null, 3.998]),
                json!(["510300.SH", "20261125", null, null]),
            ],
        )
    })
    .await;
    let history = res.unwrap();
    assert_eq!(history.bars, vec![bar("20261127", 4.001, 4.012)]);
    assert_eq!(history.notes, vec!["20261125 无收盘价, 该日不计".to_owned(), "20261126 无开盘价, 该日不计".to_owned()]);
}

#[tokio::test]
async fn a_missing_factor_for_the_last_day_is_carried_forward_and_noted() {
    let (res, _fake) = history_from(|seen| {
        if seen.api == "fund_adj" {
            return ok(
                &["ts_code", "trade_date", "adj_factor"],
                vec![json!(["510300.SH", "20261126", 1.25]), json!(["510300.SH", "20261125", 1.25])],
            );
        }
        if seen.api == "fund_daily" {
            return ok(
                &["ts_code", "trade_date", "open", "close"],
                vec![
                    json!(["510300.SH", "20261127", 4.0, 4.012]),
                    json!(["510300.SH", "20261126", 3.9, 3.998]),
                    json!(["510300.SH", "20261125", 3.95, 3.9]),
                ],
            );
        }
        error(40101, "no such api")
    })
    .await;
    let history = res.unwrap();
    assert_eq!(history.factors, vec![factor("20261125", 1.25), factor("20261126", 1.25), factor("20261127", 1.25)]);
    assert_eq!(
        history.notes,
        vec!["20261127 复权因子尚未发布, 沿用 20261126 的因子 (该日若除权除息则不准确)".to_owned()]
    );
}

#[tokio::test]
async fn items_out_of_date_order_give_the_same_signal_as_ordered_items() {
    let market = Market::generate(&["510300.SH"], "20261127");
    let ordered = FakeTushare::start(Duration::ZERO, {
        let market = market.clone();
        move |seen| market.reply(seen)
    })
    .await;
    let shuffled = FakeTushare::start(Duration::ZERO, move |seen| {
        let Reply::Json(mut answer) = market.reply(seen) else { unreachable!("the market answers JSON") };
        let items = answer["data"]["items"].as_array_mut().unwrap();
        // A fixed shuffle: even rows first, then the odd ones reversed.
        let (even, odd): (Vec<_>, Vec<_>) = items.drain(..).enumerate().partition(|(idx, _)| idx % 2 == 0);
        items.extend(even.into_iter().map(|(_, it)| it));
        items.extend(odd.into_iter().rev().map(|(_, it)| it));
        Reply::Json(answer)
    })
    .await;
    let (from, to) = (date("20260601"), date("20261127"));
    let want = client(&ordered).history(&code("510300.SH"), from, to).await.unwrap();
    let got = client(&shuffled).history(&code("510300.SH"), from, to).await.unwrap();
    assert_eq!(got, want);
    assert!(got.bars.windows(2).all(|pair| pair[0].trade_date < pair[1].trade_date));
    let evaluate = |history: &History| strategy::evaluate(&DmaParams::STANDARD, to, history);
    assert!(!matches!(evaluate(&got).state, State::Undecided(_)), "{:?}", evaluate(&got).state);
    assert_eq!(evaluate(&got), evaluate(&want));
}

#[tokio::test]
async fn stocks_use_daily_and_adj_factor() {
    let market = Market::generate(&["600519.SH"], "20261127");
    let fake = FakeTushare::start(Duration::ZERO, move |seen| market.reply(seen)).await;
    let history = client(&fake).history(&code("600519"), date("20261101"), date("20261127")).await.unwrap();
    assert_eq!(history.bars.len(), 20);
    let mut apis: Vec<String> = fake.seen().into_iter().map(|it| it.api).collect();
    apis.sort();
    assert_eq!(apis, ["adj_factor", "daily"]);
}

#[tokio::test]
async fn the_calendar_comes_from_trade_cal_oldest_first() {
    let fake = FakeTushare::start(Duration::ZERO, |seen| {
        assert_eq!(seen.api, "trade_cal");
        assert_eq!(seen.params["exchange"], "SSE");
        ok(
            &["is_open", "cal_date", "exchange"],
            vec![
                json!([1, "20261127", "SSE"]),
                json!(["0", "20261126", "SSE"]),
                json!(["1", "20261125", "SSE"]),
                json!([1, "20261124", "SSE"]),
            ],
        )
    })
    .await;
    let days = client(&fake).trading_days(date("20261124"), date("20261127")).await.unwrap();
    assert_eq!(days, vec![date("20261124"), date("20261125"), date("20261127")]);
}

#[tokio::test]
async fn pages_are_followed_while_has_more_is_true() {
    let fake = FakeTushare::start(Duration::ZERO, |seen| {
        let offset = seen.params["offset"].as_u64().unwrap_or(0);
        let (day, has_more) = if offset == 0 { ("20261127", true) } else { ("20261126", false) };
        Reply::Json(json!({"code": 0, "msg": "", "data": {
            "fields": ["ts_code", "trade_date", "close", "adj_factor"],
            "items": [["510300.SH", day, 4.0, 1.0]],
            "has_more": has_more,
        }}))
    })
    .await;
    let table = client(&fake).query("fund_daily", &json!({"ts_code": "510300.SH"})).await.unwrap();
    assert_eq!(table.items.len(), 2);
    assert_eq!(fake.calls(), 2);
}

#[tokio::test]
async fn a_ten_year_history_is_complete_though_tushare_cuts_long_answers() {
    // Ten years of weekdays (2,610 rows a fund), and answers cut at 500 rows with `has_more`, newest
    // kept; the server ignores `offset`, as Tushare's daily APIs do.
    let (first, last) = ("20161128", "20261127");
    let mut market = Market::generate_from(&["510300.SH", "600519.SH"], first, last);
    market.max_rows = Some(500);
    let fake = FakeTushare::start(Duration::ZERO, {
        let market = market.clone();
        move |seen| market.reply(seen)
    })
    .await;
    let (from, to) = (date(first), date(last));

    for text in ["510300.SH", "600519.SH"] {
        let rows = &market.rows[text];
        assert_eq!(rows.len(), 2610);
        let want = History {
            bars: rows.iter().map(|(day, open, close, _)| bar(day, *open, *close)).collect(),
            factors: rows.iter().map(|(day, _, _, it)| factor(day, it.unwrap())).collect(),
            notes: vec![],
        };
        assert_eq!(client(&fake).history(&code(text), from, to).await.unwrap(), want, "{text}");
        // The same through the source with a price cache (its first run asks the whole window).
        let dir = tempfile::tempdir().unwrap();
        let source = TushareSource::new(client(&fake), Some(ObjectStore::local(dir.path())));
        assert_eq!(source.history(&code(text), from, to).await.unwrap(), want, "{text}");
    }
    let days = client(&fake).trading_days(from, to).await.unwrap();
    assert_eq!(days.len(), 2610);
    assert_eq!((days[0], days[2609]), (from, to));

    // Every request is a date range inside the one asked, at most MAX_RANGE_DAYS long, never an offset.
    let seen = fake.seen();
    for request in &seen {
        let (start, end) = (request.params["start_date"].as_str(), request.params["end_date"].as_str());
        let (start, end) = (date(start.unwrap()), date(end.unwrap()));
        assert!(from <= start && start <= end && end <= to, "{request:?}");
        assert!(end.days_since(start) < i64::from(MAX_RANGE_DAYS), "{request:?}");
        assert!(request.params.get("offset").is_none(), "{request:?}");
    }
    // Two windows (2,000 and 1,652 days: 1,430 and 1,180 weekdays), each three answers of at most 500
    // rows, so six requests an API a history; each code was asked twice (client, then source).
    assert_eq!((calls_of(&fake, "fund_daily"), calls_of(&fake, "fund_adj")), (12, 12));
    assert_eq!((calls_of(&fake, "daily"), calls_of(&fake, "adj_factor"), calls_of(&fake, "trade_cal")), (12, 12, 6));
}

#[tokio::test]
async fn a_cut_answer_is_followed_from_the_day_before_its_oldest_row() {
    // 150 calendar days, one window; answers cut at 40 rows.
    let mut market = Market::generate(&["510300.SH"], "20261127");
    market.max_rows = Some(40);
    let fake = FakeTushare::start(Duration::ZERO, {
        let market = market.clone();
        move |seen| market.reply(seen)
    })
    .await;
    let history = client(&fake).history(&code("510300.SH"), date("20260630"), date("20261127")).await.unwrap();
    assert_eq!(history.bars.len(), 109);
    assert_eq!((history.bars[0].trade_date, history.bars[108].trade_date), (date("20260630"), date("20261127")));
    let ends: Vec<String> = fake
        .seen()
        .iter()
        .filter(|it| it.api == "fund_daily")
        .map(|it| format!("{}..{}", it.params["start_date"].as_str().unwrap(), it.params["end_date"].as_str().unwrap()))
        .collect();
    // The 40 newest rows reach back to Monday 5 October, so the next request ends the day before,
    // and its 40 rows reach Monday 10 August.
    assert_eq!(ends, ["20260630..20261127", "20260630..20261004", "20260630..20260809"]);
}

#[tokio::test]
async fn concurrent_calls_stay_within_the_limit() {
    let market = Market::generate(&["510300.SH", "510500.SH", "159915.SZ", "512880.SH", "510050.SH"], "20261127");
    let fake = FakeTushare::start(Duration::from_millis(20), move |seen| market.reply(seen)).await;
    let mut config = TushareConfig::new(&fake.url, Token::new(TOKEN).unwrap());
    config.max_concurrent = 3;
    let client = TushareClient::new(config).unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for text in ["510300.SH", "510500.SH", "159915.SZ", "512880.SH", "510050.SH"] {
        let client = client.clone();
        tasks.spawn(async move { client.history(&code(text), date("20261101"), date("20261127")).await });
    }
    while let Some(res) = tasks.join_next().await {
        assert_eq!(res.unwrap().unwrap().bars.len(), 20);
    }
    assert_eq!(fake.calls(), 10);
    assert_eq!(client.calls(), 10);
    assert!(fake.max_in_flight() <= 3, "{}", fake.max_in_flight());
}

/// The funds of the price cache tests.
const CACHED_FUNDS: [&str; 3] = ["510300.SH", "510500.SH", "159915.SZ"];

/// A server holding [`CACHED_FUNDS`] up to 2026-11-27, and an empty folder for the price cache.
async fn cache_market() -> (FakeTushare, tempfile::TempDir) {
    let market = Market::generate(&CACHED_FUNDS, "20261127");
    let fake = FakeTushare::start(Duration::ZERO, move |seen| market.reply(seen)).await;
    (fake, tempfile::tempdir().unwrap())
}

/// Three funds' histories, one batch, through a source with a price cache in `dir`.
async fn cached_histories(fake: &FakeTushare, dir: &std::path::Path, to: &str) -> Vec<History> {
    let source = TushareSource::new(client(fake), Some(ObjectStore::local(dir)));
    let codes: Vec<FundCode> = CACHED_FUNDS.iter().map(|it| code(it)).collect();
    let answers = source.histories(&codes, date(to).minus_days(150), date(to), Budget::All).await.unwrap();
    answers.into_iter().map(Result::unwrap).collect()
}

async fn uncached_histories(fake: &FakeTushare, to: &str) -> Vec<History> {
    let mut histories = Vec::new();
    for text in CACHED_FUNDS {
        histories.push(client(fake).history(&code(text), date(to).minus_days(150), date(to)).await.unwrap());
    }
    histories
}

#[tokio::test]
async fn with_the_price_cache_the_next_day_costs_the_calendar_and_two_whole_market_calls() {
    let (fake, dir) = cache_market().await;

    // The first run fetches each fund's window: two calls per fund (fewer than two per trading day).
    assert_eq!(cached_histories(&fake, dir.path(), "20261125").await, uncached_histories(&fake, "20261125").await);
    assert_eq!(fake.calls(), 6 + 6);

    // The 25th was final (its factor was in), so the next day asks only the 26th: is it a
    // trading day, and every fund's bar and factor of it, whole-market.
    let before = fake.calls();
    let got = cached_histories(&fake, dir.path(), "20261126").await;
    let asked: Vec<_> = fake.seen()[before..].iter().map(|it| (it.api.clone(), it.params.clone())).collect();
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert_eq!(asked.iter().filter(|(api, _)| api == "trade_cal").count(), 1, "{asked:?}");
    let whole_market = asked.iter().filter(|(api, _)| api != "trade_cal");
    assert!(
        whole_market.clone().all(|(_, params)| params.get("ts_code").is_none() && params["trade_date"] == "20261126")
    );
    assert_eq!(got, uncached_histories(&fake, "20261126").await);

    // The calendar is cached too: a rerun of the day asks nothing.
    let before = fake.calls();
    assert_eq!(cached_histories(&fake, dir.path(), "20261126").await, got);
    assert_eq!(fake.calls(), before);
}

#[tokio::test]
async fn a_factor_published_late_replaces_the_carried_one_on_the_next_run() {
    let mut market = Market::generate(&CACHED_FUNDS, "20261127");
    let published = market.clone();
    for rows in market.rows.values_mut() {
        let last = rows.iter_mut().find(|row| row.0 == "20261126").unwrap();
        last.3 = None;
    }
    let late = FakeTushare::start(Duration::ZERO, move |seen| market.reply(seen)).await;
    let on_time = FakeTushare::start(Duration::ZERO, move |seen| published.reply(seen)).await;
    let dir = tempfile::tempdir().unwrap();

    let first = cached_histories(&late, dir.path(), "20261126").await;
    assert!(first.iter().all(|it| it.notes.len() == 1 && it.notes[0].contains("复权因子尚未发布")), "{first:?}");

    let next = cached_histories(&on_time, dir.path(), "20261127").await;
    assert_eq!(next, uncached_histories(&on_time, "20261127").await);
    assert!(next.iter().all(|it| it.notes.is_empty()));
}

#[tokio::test]
async fn a_long_gap_or_a_longer_window_fetches_the_whole_window_again() {
    let (fake, dir) = cache_market().await;
    cached_histories(&fake, dir.path(), "20261106").await;

    let before = fake.calls();
    let got = cached_histories(&fake, dir.path(), "20261127").await;
    assert!(fake.seen()[before..].iter().all(|it| it.params["ts_code"].is_string()));
    assert_eq!(fake.calls() - before, 6);
    assert_eq!(got, uncached_histories(&fake, "20261127").await);
}

#[tokio::test]
async fn an_unreadable_price_cache_is_ignored() {
    let (fake, dir) = cache_market().await;
    std::fs::create_dir_all(dir.path().join("prices/tushare")).unwrap();
    std::fs::write(dir.path().join("prices/tushare/510300.SH.json"), "{not json").unwrap();
    assert_eq!(cached_histories(&fake, dir.path(), "20261127").await, uncached_histories(&fake, "20261127").await);
}

#[tokio::test]
async fn a_price_cache_of_the_old_format_is_fetched_again_and_rewritten() {
    let (fake, dir) = cache_market().await;
    let folder = dir.path().join("prices/tushare");
    std::fs::create_dir_all(&folder).unwrap();
    // Version 1, as the builds before the opens wrote it: no version, bars of (date, close). It
    // covers the window but its closes are wrong on purpose, so a misread would show.
    let old = json!({"from": "20260601", "through": "20261126", "rows": {
        "bars": [["20261125", 9.999], ["20261126", 9.999]],
        "factors": [["20261125", 1.0], ["20261126", 1.0]],
        "null_closes": [],
    }});
    for text in CACHED_FUNDS {
        std::fs::write(folder.join(format!("{text}.json")), old.to_string()).unwrap();
    }

    // Each fund's whole window is asked again by code, as with no cache at all.
    let got = cached_histories(&fake, dir.path(), "20261127").await;
    assert!(fake.seen().iter().all(|it| it.params["ts_code"].is_string()), "{:?}", fake.seen());
    assert_eq!(fake.calls(), 6);
    assert_eq!(got, uncached_histories(&fake, "20261127").await);
    assert!(got[0].bars.iter().all(|bar| bar.close != 9.999 && bar.open > 0.0));

    // The entries were rewritten in this build's format, opens included ...
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("510300.SH.json")).unwrap()).unwrap();
    // The 27th's factor was in, so the trade date is cached too.
    assert_eq!((stored["version"].as_u64(), stored["through"].as_str()), (Some(2), Some("20261127")));
    assert!(stored["rows"]["bars"][0][1]["open"].is_number(), "{stored}");

    // ... so a rerun reads them and asks nothing.
    let before = fake.calls();
    assert_eq!(cached_histories(&fake, dir.path(), "20261127").await, got);
    assert_eq!(fake.calls(), before, "{:?}", &fake.seen()[before..]);
}

#[tokio::test]
async fn a_backfill_of_an_older_day_does_not_move_the_cache_back() {
    let (fake, dir) = cache_market().await;
    cached_histories(&fake, dir.path(), "20261127").await;
    assert_eq!(cached_histories(&fake, dir.path(), "20261120").await, uncached_histories(&fake, "20261120").await);

    // The cache still holds everything up to the 27th: the 27th again costs nothing.
    let before = fake.calls();
    assert_eq!(cached_histories(&fake, dir.path(), "20261127").await, uncached_histories(&fake, "20261127").await);
    assert_eq!(fake.calls() - before, 6, "only the uncached comparison asked: {:?}", &fake.seen()[before..]);
}

#[tokio::test]
async fn the_cache_keeps_the_widest_window_so_a_long_history_after_the_daily_window_costs_only_the_new_days() {
    let (fake, dir) = cache_market().await;
    let source = || TushareSource::new(client(&fake), Some(ObjectStore::local(dir.path())));
    let long = |to: &str| (date(to).minus_days(300), date(to));
    // Day one: the daily window, then the track record's longer one (asked by code once).
    cached_histories(&fake, dir.path(), "20261125").await;
    for text in CACHED_FUNDS {
        let (from, to) = long("20261125");
        source().history(&code(text), from, to).await.unwrap();
    }
    // Day two: the daily window and the longer one both come from the cache plus the new days.
    let before = fake.calls();
    assert_eq!(cached_histories(&fake, dir.path(), "20261126").await, uncached_histories(&fake, "20261126").await);
    for text in CACHED_FUNDS {
        let (from, to) = long("20261126");
        let got = source().history(&code(text), from, to).await.unwrap();
        assert_eq!(got, client(&fake).history(&code(text), from, to).await.unwrap(), "{text}");
    }
    let by_code = fake.seen()[before..].iter().filter(|it| it.params.get("ts_code").is_some()).count();
    // Only the comparisons with the uncached client asked by code: 3 funds x 2 APIs, twice.
    assert_eq!(by_code, 6 + 6, "the cached source asked no fund's window by code");
}

/// `n` fund codes for a generated market: 510000.SH, 510001.SH, ...
fn many_funds(n: usize) -> Vec<FundCode> {
    (0..n).map(|it| code(&format!("{:06}.SH", 510_000 + it))).collect()
}

/// A source over `fake` with a price cache in `dir` and `calls_per_minute` per API.
fn source_with(fake: &FakeTushare, dir: &std::path::Path, calls_per_minute: u32) -> TushareSource {
    let mut config = TushareConfig::new(&fake.url, Token::new(TOKEN).unwrap());
    config.calls_per_minute = calls_per_minute;
    config.retry.base_delay = Duration::from_millis(1);
    TushareSource::new(TushareClient::new(config).unwrap(), Some(ObjectStore::local(dir)))
}

#[tokio::test]
async fn many_funds_are_asked_by_trade_date_two_calls_a_day_whatever_their_number() {
    let codes = many_funds(60);
    let texts: Vec<&str> = codes.iter().map(FundCode::as_str).collect();
    let market = Market::generate(&texts, "20261127");
    let fake = FakeTushare::start(Duration::ZERO, move |seen| market.reply(seen)).await;
    let dir = tempfile::tempdir().unwrap();
    let (from, to) = (date("20261101"), date("20261127"));

    // 20 trading days in the window: by trade date costs the calendar and 2 x 20 calls, by fund 120.
    let got = source_with(&fake, dir.path(), 200).histories(&codes, from, to, Budget::All).await.unwrap();
    let asked = fake.seen();
    assert_eq!(asked.len(), 1 + 2 * 20, "{asked:?}");
    assert!(asked.iter().all(|it| it.params.get("ts_code").is_none()), "{asked:?}");
    for (code, history) in codes.iter().zip(got) {
        assert_eq!(history.unwrap(), client(&fake).history(code, from, to).await.unwrap(), "{code}");
    }
}

#[tokio::test]
async fn a_backfill_on_the_free_quota_goes_on_run_after_run_until_it_is_whole() {
    // 60 funds, a daily window cached, then a longer window asked on the free quota of 20 calls
    // a minute per API: each run asks the 20 newest days it lacks (by trade date, fewer calls than
    // by fund), the others are deferred, and the cache grows back in time until the window is whole.
    let codes = many_funds(60);
    let texts: Vec<&str> = codes.iter().map(FundCode::as_str).collect();
    let market = Market::generate_from(&texts, "20260601", "20261127");
    let fake = FakeTushare::start(Duration::ZERO, move |seen| market.reply(seen)).await;
    let dir = tempfile::tempdir().unwrap();
    let to = date("20261127");
    source_with(&fake, dir.path(), 200).histories(&codes, date("20261101"), to, Budget::All).await.unwrap();

    let from = date("20260901");
    let mut runs = 0;
    let histories = loop {
        runs += 1;
        assert!(runs <= 5, "the backfill never finished");
        let before = fake.calls();
        let got = source_with(&fake, dir.path(), 20).histories(&codes, from, to, Budget::FreeQuota).await.unwrap();
        let asked = &fake.seen()[before..];
        let by_day = asked.iter().filter(|it| it.api == "fund_daily").count();
        assert!(by_day <= 20 && asked.iter().all(|it| it.params.get("ts_code").is_none()), "{asked:?}");
        if got.iter().all(Result::is_ok) {
            break got;
        }
        assert!(got.iter().all(|it| matches!(it, Err(TushareError::Deferred { .. }))));
    };
    // September and October hold 42 trading days: three runs of at most 20 days.
    assert_eq!(runs, 3);
    for (code, history) in codes.iter().zip(histories) {
        assert_eq!(history.unwrap(), client(&fake).history(code, from, to).await.unwrap(), "{code}");
    }
}

#[tokio::test]
async fn a_refused_token_in_a_whole_market_batch_is_the_whole_answer() {
    let codes = many_funds(60);
    let texts: Vec<&str> = codes.iter().map(FundCode::as_str).collect();
    let market = Market::generate(&texts, "20261127");
    let fake = FakeTushare::start(Duration::ZERO, move |seen| match seen.api.as_str() {
        "fund_adj" => error(-2001, "您的token不对，请确认。"),
        _ => market.reply(seen),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let res =
        source_with(&fake, dir.path(), 200).histories(&codes, date("20261101"), date("20261127"), Budget::All).await;
    assert!(res.is_err_and(|err| err.is_token_error()));
}
