//! The Tushare Pro source: daily bars, adjustment factors and the trading calendar over HTTP.
//!
//! One endpoint takes every call: `POST {"api_name", "token", "params", "fields": ""}` and answers
//! `{"code", "msg", "data": {"fields", "items", "has_more"}}`, HTTP 200 even for most errors.
//! Rows are read by field name, never by position. The client is polite (a limit on calls per
//! minute per API and on concurrent calls), retries what can pass on its own (rate limit `40203`,
//! HTTP 5xx, timeouts, broken connections) with bounded exponential backoff and jitter, and stops
//! at once on a token error.
//!
//! The token is secret: [`Token`] has no `Display`, its `Debug` is redacted, it goes only into the
//! request body, and any server message that quotes it has it masked before it becomes an error.

use std::{
    collections::{HashMap, VecDeque},
    fmt,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{OnceCell, Semaphore};

use crate::{
    date::TradeDate,
    fund::{FundCode, SecurityKind},
    market::{AdjFactor, Bar, History, MarketError},
    store::{ObjectKey, ObjectStore},
};

/// The documented address of the Tushare Pro API.
pub const DEFAULT_URL: &str = "http://api.tushare.pro";

/// The Tushare code of a rate-limit answer (`抱歉，您每分钟最多访问该接口N次`).
pub const CODE_RATE_LIMIT: i64 = 40203;

/// The Tushare code of a bad token (`您的token不对，请确认。`).
pub const CODE_BAD_TOKEN: i64 = -2001;

/// A Tushare Pro API token. Secret: no `Display`, a redacted `Debug`, never in an error.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// The token, trimmed; `None` when it is empty.
    pub fn new(text: &str) -> Option<Token> {
        let text = text.trim();
        (!text.is_empty()).then(|| Token(text.to_owned()))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// How often and how long a call is tried when the failure may pass on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries per call, the first included. Default: 5.
    pub tries: u32,
    /// The first backoff; each retry doubles it, then jitter takes it down to between half and all of it. Default: 500 ms.
    pub base_delay: Duration,
    /// No single backoff is longer. Default: 10 s.
    pub max_delay: Duration,
    /// No retry starts when the call would then have taken longer than this. Default: 60 s.
    pub deadline: Duration,
}

impl RetryPolicy {
    /// 5 tries, backoff from 500 ms doubling up to 10 s, 60 s in all.
    pub const STANDARD: RetryPolicy = RetryPolicy {
        tries: 5,
        base_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(10),
        deadline: Duration::from_secs(60),
    };
}

/// What a client needs: where, who, and how politely.
#[derive(Debug, Clone)]
pub struct TushareConfig {
    /// The address every call is posted to, as given. Default: [`DEFAULT_URL`].
    pub url: String,
    /// The token.
    pub token: Token,
    /// Calls per minute per API (`fund_daily`, `fund_adj`, ...). Default: 200.
    pub calls_per_minute: u32,
    /// Calls in flight at once, over all APIs. Default: 8.
    pub max_concurrent: usize,
    /// One HTTP exchange, from connecting to the last byte of the answer. Default: 10 s.
    pub timeout: Duration,
    /// Retries. Default: [`RetryPolicy::STANDARD`].
    pub retry: RetryPolicy,
}

impl TushareConfig {
    /// The configuration with the documented defaults.
    pub fn new(url: &str, token: Token) -> TushareConfig {
        TushareConfig {
            url: url.to_owned(),
            token,
            calls_per_minute: 200,
            max_concurrent: 8,
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::STANDARD,
        }
    }
}

/// Why a Tushare call failed. The API name comes first; server messages have the token masked.
#[derive(Debug, thiserror::Error)]
pub enum TushareError {
    /// The configuration cannot work.
    #[error("invalid Tushare configuration: {0}")]
    Config(&'static str),
    /// The token was refused: no later call can succeed.
    #[error("Tushare rejected the token (code {code}: {message})")]
    Token { code: i64, message: String },
    /// Tushare answered that we call too often.
    #[error("{api}: Tushare is rate limiting (code {code}: {message})")]
    RateLimited { api: String, code: i64, message: String },
    /// Tushare answered with another error code.
    #[error("{api}: Tushare answered code {code}: {message}")]
    Api { api: String, code: i64, message: String },
    /// The HTTP status was an error.
    #[error("{api}: HTTP status {status}")]
    Status { api: String, status: u16 },
    /// No complete answer within the timeout.
    #[error("{api}: no answer within {after:?}")]
    Timeout { api: String, after: Duration },
    /// The connection failed.
    #[error("{api}: cannot reach Tushare")]
    Transport { api: String, source: reqwest::Error },
    /// The answer is not the protocol's JSON.
    #[error("{api}: the answer is not Tushare's JSON: {reason}")]
    Malformed { api: String, reason: String },
    /// Code 0, but no `data`.
    #[error("{api}: Tushare answered code 0 without data")]
    NoData { api: String },
    /// The answer lacks a field we need.
    #[error("{api}: the answer has no field {field:?}")]
    MissingField { api: String, field: &'static str },
    /// A value of the answer is not what its field holds.
    #[error("{api}: field {field:?} of row {row} is {value}, not {expected}")]
    BadValue { api: String, field: &'static str, row: usize, value: String, expected: &'static str },
    /// A failure already met by another fund's request for the same answer.
    #[error(transparent)]
    Shared(Arc<TushareError>),
    /// Retries did not get through; `source` is the last failure.
    #[error("{api}: gave up after {tries} tries")]
    GaveUp { api: String, tries: u32, source: Box<TushareError> },
}

impl TushareError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            TushareError::RateLimited { .. } | TushareError::Timeout { .. } | TushareError::Transport { .. } => true,
            TushareError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// Whether the token was refused.
    pub fn is_token_error(&self) -> bool {
        match self {
            TushareError::Token { .. } => true,
            TushareError::GaveUp { source, .. } => source.is_token_error(),
            TushareError::Shared(source) => source.is_token_error(),
            _ => false,
        }
    }

    /// This error as the market port's error; `what` names the request (e.g. `510300.SH`).
    pub fn into_market_error(self, what: &str) -> MarketError {
        if self.is_token_error() {
            return MarketError::Unauthorized { message: self.to_string() };
        }
        MarketError::Request { what: what.to_owned(), message: error_chain(&self) }
    }
}

/// One answer's table: field names and rows, read by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The API that answered.
    pub api: String,
    /// Field names, in the answer's order.
    pub fields: Vec<String>,
    /// Rows, each with one value per field.
    pub items: Vec<Vec<Value>>,
}

impl Table {
    /// The position of `field`, or a typed error when the answer lacks it.
    pub fn column(&self, field: &'static str) -> Result<usize, TushareError> {
        self.fields
            .iter()
            .position(|it| it == field)
            .ok_or_else(|| TushareError::MissingField { api: self.api.clone(), field })
    }

    /// Row `row`'s value at `column` (`Null` when the row is short).
    pub fn value(&self, row: usize, column: usize) -> &Value {
        self.items[row].get(column).unwrap_or(&Value::Null)
    }

    /// A date field: `YYYYMMDD` as text (or as a number).
    pub fn date(&self, row: usize, column: usize, field: &'static str) -> Result<TradeDate, TushareError> {
        let value = self.value(row, column);
        let text = match value {
            Value::String(it) => it.clone(),
            Value::Number(it) => it.to_string(),
            _ => String::new(),
        };
        TradeDate::parse(&text).map_err(|_| self.bad_value(row, field, value, "a YYYYMMDD date"))
    }

    /// A number field: `None` when null; a typed error when it is something else.
    pub fn number(&self, row: usize, column: usize, field: &'static str) -> Result<Option<f64>, TushareError> {
        match self.value(row, column) {
            Value::Null => Ok(None),
            Value::Number(it) => it.as_f64().map(Some).ok_or_else(|| self.bad_value(row, field, it, "a number")),
            Value::String(it) if it.trim().parse::<f64>().is_ok() => Ok(it.trim().parse().ok()),
            other => Err(self.bad_value(row, field, other, "a number")),
        }
    }

    fn bad_value(
        &self,
        row: usize,
        field: &'static str,
        value: &impl fmt::Display,
        expected: &'static str,
    ) -> TushareError {
        TushareError::BadValue { api: self.api.clone(), field, row, value: value.to_string(), expected }
    }
}

/// A Tushare Pro client: one keep-alive connection pool, the politeness limits and the retries.
///
/// Cheap to clone: clones share the pool and the limits.
#[derive(Clone)]
pub struct TushareClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    url: String,
    token: Token,
    timeout: Duration,
    retry: RetryPolicy,
    in_flight: Semaphore,
    max_concurrent: usize,
    rate: Mutex<RateWindow>,
    calls: AtomicU64,
}

impl fmt::Debug for TushareClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("TushareClient")
            .field("url", &inner.url)
            .field("token", &inner.token)
            .field("calls_per_minute", &inner.rate.lock().map(|it| it.per_minute).unwrap_or_default())
            .field("max_concurrent", &inner.max_concurrent)
            .field("timeout", &inner.timeout)
            .field("retry", &inner.retry)
            .finish()
    }
}

impl TushareClient {
    /// A client; fails when a limit is zero or the HTTP client cannot be built.
    pub fn new(config: TushareConfig) -> Result<TushareClient, TushareError> {
        if config.calls_per_minute == 0 {
            return Err(TushareError::Config("calls per minute must be at least 1"));
        }
        if config.max_concurrent == 0 {
            return Err(TushareError::Config("concurrent calls must be at least 1"));
        }
        if config.retry.tries == 0 {
            return Err(TushareError::Config("tries must be at least 1"));
        }
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(config.max_concurrent)
            .tcp_nodelay(true)
            .user_agent(concat!("invest-alchemy/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| TushareError::Config("the HTTP client cannot be built"))?;
        Ok(TushareClient {
            inner: Arc::new(Inner {
                http,
                url: config.url,
                token: config.token,
                timeout: config.timeout,
                retry: config.retry,
                in_flight: Semaphore::new(config.max_concurrent),
                max_concurrent: config.max_concurrent,
                rate: Mutex::new(RateWindow::new(config.calls_per_minute)),
                calls: AtomicU64::new(0),
            }),
        })
    }

    /// HTTP requests sent so far, retries and pages included.
    pub fn calls(&self) -> u64 {
        self.inner.calls.load(Ordering::Relaxed)
    }

    /// The whole table an API answers for `params`, following `has_more` pages (at most 100).
    pub async fn query(&self, api: &str, params: &Value) -> Result<Table, TushareError> {
        let mut answer = self.call(api, params).await?;
        let mut page = 1;
        while answer.has_more {
            if page >= 100 {
                return Err(TushareError::Malformed { api: api.to_owned(), reason: "more than 100 pages".to_owned() });
            }
            let mut next_params = params.clone();
            if let Value::Object(map) = &mut next_params {
                map.insert("offset".to_owned(), json!(answer.table.items.len()));
            }
            let next = self.call(api, &next_params).await?;
            if next.table.fields != answer.table.fields {
                return Err(TushareError::Malformed {
                    api: api.to_owned(),
                    reason: "pages have different fields".to_owned(),
                });
            }
            if next.table.items.is_empty() {
                break;
            }
            answer.table.items.extend(next.table.items);
            answer.has_more = next.has_more;
            page += 1;
        }
        Ok(answer.table)
    }

    /// The exchange's (SSE) trading days in `from..=to`, oldest first.
    pub async fn trading_days(&self, from: TradeDate, to: TradeDate) -> Result<Vec<TradeDate>, TushareError> {
        let params = json!({
            "exchange": "SSE",
            "start_date": from.to_string(),
            "end_date": to.to_string(),
            "is_open": "1",
        });
        let table = self.query("trade_cal", &params).await?;
        let date_column = table.column("cal_date")?;
        let open_column = table.column("is_open").ok();
        let mut days = Vec::new();
        for row in 0..table.items.len() {
            let is_open = match open_column.map(|column| table.value(row, column)) {
                None => true,
                Some(Value::Number(it)) => it.as_i64() == Some(1),
                Some(Value::String(it)) => it.trim() == "1",
                Some(_) => false,
            };
            let date = table.date(row, date_column, "cal_date")?;
            if is_open && (from..=to).contains(&date) {
                days.push(date);
            }
        }
        days.sort_unstable();
        days.dedup();
        Ok(days)
    }

    /// Closes and adjustment factors of `code` in `from..=to`, joined by the strategy on trade date.
    ///
    /// Funds use `fund_daily` + `fund_adj`, stocks `daily` + `adj_factor`; both calls run at once.
    /// A null close or factor leaves that day out (and says so). When the latest bar's factor is not
    /// yet published, the previous factor is carried forward and a note says so: exact unless that
    /// day is an ex-dividend day.
    pub async fn history(&self, code: &FundCode, from: TradeDate, to: TradeDate) -> Result<History, TushareError> {
        let (bars_api, factors_api) = api_names(code);
        let params = json!({"ts_code": code.as_str(), "start_date": from.to_string(), "end_date": to.to_string()});
        let (bars, factors) = tokio::try_join!(self.query(bars_api, &params), self.query(factors_api, &params))?;
        history_from_tables(&bars, &factors)
    }

    /// One call, retried as the policy says.
    async fn call(&self, api: &str, params: &Value) -> Result<Page, TushareError> {
        let retry = self.inner.retry;
        let started = Instant::now();
        let mut tries = 0;
        loop {
            tries += 1;
            let err = match self.call_once(api, params).await {
                Ok(page) => return Ok(page),
                Err(err) if !err.is_retryable() => return Err(err),
                Err(err) => err,
            };
            let delay = backoff(&retry, tries);
            if tries >= retry.tries || started.elapsed() + delay > retry.deadline {
                return Err(TushareError::GaveUp { api: api.to_owned(), tries, source: Box::new(err) });
            }
            tracing::info!("{err}; try {} of {} in {delay:?}", tries + 1, retry.tries);
            tokio::time::sleep(delay).await;
        }
    }

    /// One HTTP exchange within the rate and concurrency limits.
    async fn call_once(&self, api: &str, params: &Value) -> Result<Page, TushareError> {
        let inner = &*self.inner;
        loop {
            let wait = inner.rate.lock().expect("no panic while holding the rate lock").admit(api, Instant::now());
            match wait {
                None => break,
                Some(until) => tokio::time::sleep_until(until.into()).await,
            }
        }
        let _permit = inner.in_flight.acquire().await.expect("the semaphore is never closed");
        inner.calls.fetch_add(1, Ordering::Relaxed);

        let body = json!({"api_name": api, "token": inner.token.0, "params": params, "fields": ""});
        let request = inner
            .http
            .post(&inner.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .timeout(inner.timeout);
        let classify = |err: reqwest::Error| {
            if err.is_timeout() {
                TushareError::Timeout { api: api.to_owned(), after: inner.timeout }
            } else {
                TushareError::Transport { api: api.to_owned(), source: err.without_url() }
            }
        };
        let response = request.send().await.map_err(classify)?;
        let status = response.status();
        if !status.is_success() {
            return Err(TushareError::Status { api: api.to_owned(), status: status.as_u16() });
        }
        let bytes = response.bytes().await.map_err(classify)?;
        parse_answer(api, &bytes, &inner.token)
    }
}

/// The market source on Tushare: the client, plus an optional price cache in the object store.
///
/// With the cache, a fund's rows up to the day before the last run's trade date are read from
/// `prices/tushare/<code>.json`, and only the days since are asked, one whole-market call per API
/// and day (`fund_daily` with `trade_date`) shared by all funds: a daily run needs a constant number
/// of calls instead of two per fund. The trade date itself is never cached, since its factor may
/// not be published yet. A fund new to the list, a longer lookback or a gap of more than
/// [`TushareSource::MAX_GAP_DAYS`] calendar days fetches the fund's whole window again.
/// A cache that cannot be read or written is skipped with a warning: it only saves calls.
#[derive(Debug, Clone)]
pub struct TushareSource {
    client: TushareClient,
    cache: Option<ObjectStore>,
    days: Arc<WholeDays>,
}

/// The whole-market answers of this run, by API and day.
type WholeDays = Mutex<HashMap<(&'static str, TradeDate), Arc<WholeDay>>>;

/// One whole-market answer, or the failure every fund that needs it shares (asked once, not 46 times).
type WholeDay = OnceCell<Result<Arc<Table>, Arc<TushareError>>>;

/// What the price cache holds for one security.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
struct CachedPrices {
    /// The first day asked: rows before it were never fetched.
    from: TradeDate,
    /// Every row up to this day is final and stored.
    through: TradeDate,
    rows: Rows,
}

impl TushareSource {
    /// The widest gap, in calendar days since the cached `through`, that is filled day by day.
    pub const MAX_GAP_DAYS: i64 = 10;

    /// A source; `cache` is where prices are kept between runs (`None`: ask for every window).
    pub fn new(client: TushareClient, cache: Option<ObjectStore>) -> TushareSource {
        TushareSource { client, cache, days: Arc::default() }
    }

    /// The client.
    pub fn client(&self) -> &TushareClient {
        &self.client
    }

    /// See [`TushareClient::trading_days`].
    pub async fn trading_days(&self, from: TradeDate, to: TradeDate) -> Result<Vec<TradeDate>, TushareError> {
        self.client.trading_days(from, to).await
    }

    /// See [`TushareClient::history`]; with a cache, only the days it lacks are asked.
    pub async fn history(&self, code: &FundCode, from: TradeDate, to: TradeDate) -> Result<History, TushareError> {
        let Some(store) = &self.cache else {
            return self.client.history(code, from, to).await;
        };
        let key = ObjectKey::new(&format!("prices/tushare/{code}.json")).expect("a code makes a valid key");
        let cached = match store.get(&key).await {
            Ok(Some(bytes)) => serde_json::from_slice::<CachedPrices>(&bytes)
                .inspect_err(|err| tracing::warn!("ignoring the unreadable price cache {key}: {err}"))
                .ok(),
            Ok(None) => None,
            Err(err) => {
                tracing::warn!("ignoring the price cache {key}: {err}");
                None
            }
        };
        let cached_through = cached.as_ref().map(|it| it.through);
        let mut rows = match cached {
            // An older day than the cache's newest: nothing to ask, nothing to store.
            Some(cached) if cached.from <= from && cached.through >= to => {
                let mut rows = cached.rows;
                rows.normalize(from, to);
                return Ok(rows.into_history());
            }
            Some(cached) if cached.from <= from && to.days_since(cached.through) <= Self::MAX_GAP_DAYS => {
                // All missing days at once: a Monday after a Friday costs one round trip, not four.
                let (bars_api, factors_api) = api_names(code);
                let mut tasks = tokio::task::JoinSet::new();
                let mut day = cached.through;
                while let Some(next) = day.next_day().filter(|it| *it <= to) {
                    day = next;
                    let source = self.clone();
                    tasks.spawn(async move {
                        let answers =
                            tokio::try_join!(source.whole_day(bars_api, day), source.whole_day(factors_api, day));
                        (day, answers)
                    });
                }
                let mut answers = Vec::new();
                while let Some(joined) = tasks.join_next().await {
                    let (day, res) = joined.expect("a whole-day task does not panic");
                    answers.push((day, res?));
                }
                answers.sort_by_key(|(day, _)| *day);
                let mut rows = cached.rows;
                for (_, (bars, factors)) in answers {
                    rows.add_tables(&bars, &factors, Some(code))?;
                }
                rows
            }
            _ => {
                let (bars, factors) = api_names(code);
                let params =
                    json!({"ts_code": code.as_str(), "start_date": from.to_string(), "end_date": to.to_string()});
                let (bars, factors) =
                    tokio::try_join!(self.client.query(bars, &params), self.client.query(factors, &params))?;
                let mut rows = Rows::default();
                rows.add_tables(&bars, &factors, None)?;
                rows
            }
        };
        rows.normalize(from, to);

        // Everything before the trade date is final; the trade date is asked again next time.
        // The cache keeps this run's window only, so it does not grow day by day, and it never
        // moves back to an older day (a backfill does not spoil the next daily run).
        let through = to.minus_days(1);
        if through >= from && cached_through.is_none_or(|it| it < through) {
            let mut stored = rows.clone();
            stored.normalize(from, through);
            let body = serde_json::to_vec(&CachedPrices { from, through, rows: stored }).expect("prices serialize");
            if let Err(err) = store.put(&key, body, "application/json").await {
                tracing::warn!("cannot update the price cache {key}: {err}");
            }
        }
        Ok(rows.into_history())
    }

    /// The whole market's answer of `api` for one day, asked once however many funds need it.
    async fn whole_day(&self, api: &'static str, day: TradeDate) -> Result<Arc<Table>, TushareError> {
        let cell =
            self.days.lock().expect("no panic while holding the day lock").entry((api, day)).or_default().clone();
        let answer = cell
            .get_or_init(|| async {
                self.client.query(api, &json!({"trade_date": day.to_string()})).await.map(Arc::new).map_err(Arc::new)
            })
            .await;
        answer.clone().map_err(TushareError::Shared)
    }
}

/// Turns two answers (bars and factors) into a [`History`].
pub fn history_from_tables(bars: &Table, factors: &Table) -> Result<History, TushareError> {
    let mut rows = Rows::default();
    rows.add_tables(bars, factors, None)?;
    Ok(rows.into_history())
}

/// Raw rows of one security: what the price cache stores (nothing carried forward).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, Deserialize)]
struct Rows {
    /// `(trade_date, close)`.
    bars: Vec<(TradeDate, f64)>,
    /// `(trade_date, adj_factor)`.
    factors: Vec<(TradeDate, f64)>,
    /// Days whose bar had a null close.
    null_closes: Vec<TradeDate>,
}

impl Rows {
    /// Adds the rows of two answers; with `code`, only that security's rows (a whole-market answer).
    fn add_tables(&mut self, bars: &Table, factors: &Table, code: Option<&FundCode>) -> Result<(), TushareError> {
        let date_column = bars.column("trade_date")?;
        let close_column = bars.column("close")?;
        for row in rows_of(bars, code)? {
            let trade_date = bars.date(row, date_column, "trade_date")?;
            match bars.number(row, close_column, "close")? {
                Some(close) => self.bars.push((trade_date, close)),
                None => self.null_closes.push(trade_date),
            }
        }
        let date_column = factors.column("trade_date")?;
        let factor_column = factors.column("adj_factor")?;
        for row in rows_of(factors, code)? {
            let trade_date = factors.date(row, date_column, "trade_date")?;
            if let Some(factor) = factors.number(row, factor_column, "adj_factor")? {
                self.factors.push((trade_date, factor));
            }
        }
        Ok(())
    }

    /// Sorted by date, one row per date (the later added wins), only dates in `from..=to`.
    fn normalize(&mut self, from: TradeDate, to: TradeDate) {
        fn keep<T>(rows: &mut Vec<(TradeDate, T)>, from: TradeDate, to: TradeDate) {
            rows.retain(|(date, _)| (from..=to).contains(date));
            // Stable sort, then keep the last of equal dates: a fresh answer replaces a cached one.
            rows.sort_by_key(|(date, _)| *date);
            let mut deduped: Vec<(TradeDate, T)> = Vec::with_capacity(rows.len());
            for row in rows.drain(..) {
                match deduped.last_mut() {
                    Some(last) if last.0 == row.0 => *last = row,
                    _ => deduped.push(row),
                }
            }
            *rows = deduped;
        }
        keep(&mut self.bars, from, to);
        keep(&mut self.factors, from, to);
        self.null_closes.retain(|date| (from..=to).contains(date));
        self.null_closes.sort_unstable();
        self.null_closes.dedup();
        let bar_days: Vec<TradeDate> = self.bars.iter().map(|(date, _)| *date).collect();
        self.null_closes.retain(|date| !bar_days.contains(date));
    }

    /// The history, with notes; the last bar's unpublished factor is carried forward.
    fn into_history(mut self) -> History {
        let (from, to) = (TradeDate::from_ymd(1990, 1, 1), TradeDate::from_ymd(2099, 12, 31));
        self.normalize(from.expect("a real day"), to.expect("a real day"));
        let mut history = History {
            bars: self.bars.iter().map(|&(trade_date, close)| Bar { trade_date, close }).collect(),
            factors: self.factors.iter().map(|&(trade_date, factor)| AdjFactor { trade_date, factor }).collect(),
            notes: self.null_closes.iter().map(|date| format!("{date} 无收盘价, 该日不计")).collect(),
        };
        if let Some(last_bar) = history.bars.last() {
            let last_date = last_bar.trade_date;
            let published = history.factors.iter().any(|it| it.trade_date == last_date);
            let previous = history.factors.iter().rev().find(|it| it.trade_date < last_date).copied();
            if let (false, Some(previous)) = (published, previous) {
                history.factors.push(AdjFactor { trade_date: last_date, factor: previous.factor });
                history.notes.push(format!(
                    "{last_date} 复权因子尚未发布, 沿用 {} 的因子 (该日若除权除息则不准确)",
                    previous.trade_date
                ));
            }
        }
        history
    }
}

/// The APIs of a security's bars and factors: funds and stocks have their own.
fn api_names(code: &FundCode) -> (&'static str, &'static str) {
    match code.kind() {
        SecurityKind::Fund => ("fund_daily", "fund_adj"),
        SecurityKind::Stock => ("daily", "adj_factor"),
    }
}

/// The rows of `table` that belong to `code` (all rows without a code).
fn rows_of(table: &Table, code: Option<&FundCode>) -> Result<Vec<usize>, TushareError> {
    let Some(code) = code else {
        return Ok((0..table.items.len()).collect());
    };
    let code_column = table.column("ts_code")?;
    Ok((0..table.items.len()).filter(|&row| table.value(row, code_column).as_str() == Some(code.as_str())).collect())
}

/// One answer: its table and whether more pages follow.
struct Page {
    table: Table,
    has_more: bool,
}

#[derive(Deserialize)]
struct Answer {
    code: i64,
    #[serde(default)]
    msg: Option<String>,
    #[serde(default)]
    data: Option<AnswerData>,
}

#[derive(Deserialize)]
struct AnswerData {
    fields: Vec<String>,
    items: Vec<Vec<Value>>,
    #[serde(default)]
    has_more: bool,
}

fn parse_answer(api: &str, bytes: &[u8], token: &Token) -> Result<Page, TushareError> {
    let answer: Answer = serde_json::from_slice(bytes)
        .map_err(|err| TushareError::Malformed { api: api.to_owned(), reason: err.to_string() })?;
    if answer.code != 0 {
        // A server message could quote the request; the token never leaves this function.
        let message = answer.msg.unwrap_or_default().replace(&token.0, "<token>");
        let code = answer.code;
        let token_error = code == CODE_BAD_TOKEN || code == -2002 || message.to_ascii_lowercase().contains("token");
        if token_error {
            return Err(TushareError::Token { code, message });
        }
        if code == CODE_RATE_LIMIT || message.contains("每分钟最多访问") {
            return Err(TushareError::RateLimited { api: api.to_owned(), code, message });
        }
        return Err(TushareError::Api { api: api.to_owned(), code, message });
    }
    let Some(data) = answer.data else {
        return Err(TushareError::NoData { api: api.to_owned() });
    };
    Ok(Page { table: Table { api: api.to_owned(), fields: data.fields, items: data.items }, has_more: data.has_more })
}

/// The backoff before try `tries + 1`: `base * 2^(tries - 1)`, capped, then jittered down to 50..100 %.
fn backoff(retry: &RetryPolicy, tries: u32) -> Duration {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let exponential = retry.base_delay.saturating_mul(1u32 << (tries.saturating_sub(1)).min(20)).min(retry.max_delay);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|it| it.subsec_nanos()).unwrap_or_default();
    let seed = u64::from(nanos) ^ SEQUENCE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    let fraction = 0.5 + 0.5 * (splitmix64(seed) >> 11) as f64 / (1u64 << 53) as f64;
    exponential.mul_f64(fraction)
}

fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The error and its sources, `: `-separated, as `{err:#}` prints an anyhow chain.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Calls per minute per API: a call is admitted while fewer than `per_minute` calls of that API
/// started in the last 60 seconds.
struct RateWindow {
    per_minute: u32,
    started: HashMap<String, VecDeque<Instant>>,
}

impl RateWindow {
    const WINDOW: Duration = Duration::from_secs(60);

    fn new(per_minute: u32) -> RateWindow {
        RateWindow { per_minute, started: HashMap::new() }
    }

    /// Admits a call of `api` at `now` (`None`), or says when to ask again.
    fn admit(&mut self, api: &str, now: Instant) -> Option<Instant> {
        let started = self.started.entry(api.to_owned()).or_default();
        while started.front().is_some_and(|&it| now.saturating_duration_since(it) >= Self::WINDOW) {
            started.pop_front();
        }
        if started.len() < self.per_minute as usize {
            started.push_back(now);
            return None;
        }
        started.front().map(|&oldest| oldest + Self::WINDOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_window_admits_the_limit_per_api_per_minute() {
        let mut window = RateWindow::new(2);
        let start = Instant::now();
        assert_eq!(window.admit("fund_daily", start), None);
        assert_eq!(window.admit("fund_daily", start + Duration::from_secs(1)), None);
        assert_eq!(window.admit("fund_daily", start + Duration::from_secs(2)), Some(start + RateWindow::WINDOW));
        // Another API has its own budget.
        assert_eq!(window.admit("fund_adj", start + Duration::from_secs(2)), None);
        // A minute after the first call, one more fits.
        assert_eq!(window.admit("fund_daily", start + RateWindow::WINDOW), None);
        assert_eq!(
            window.admit("fund_daily", start + RateWindow::WINDOW),
            Some(start + Duration::from_secs(1) + RateWindow::WINDOW)
        );
    }

    #[test]
    fn backoff_doubles_within_jitter_and_stops_at_the_cap() {
        let retry = RetryPolicy {
            tries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            deadline: Duration::from_secs(60),
        };
        for (tries, full) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (9, 1000)] {
            let delay = backoff(&retry, tries);
            let full = Duration::from_millis(full);
            assert!(delay >= full / 2 && delay <= full, "try {tries}: {delay:?}");
        }
    }

    #[test]
    fn a_token_is_redacted_in_debug_output() {
        let token = Token::new("very-secret-token-123").unwrap();
        let config = TushareConfig::new(DEFAULT_URL, token);
        let client = TushareClient::new(config.clone()).unwrap();
        for text in [format!("{config:?}"), format!("{client:?}")] {
            assert!(!text.contains("very-secret-token-123"), "{text}");
            assert!(text.contains("<redacted>"), "{text}");
        }
        assert!(Token::new("  ").is_none());
    }

    #[test]
    fn a_server_message_quoting_the_token_is_masked() {
        let token = Token::new("tok-42").unwrap();
        let body = br#"{"code": -2001, "msg": "token tok-42 is wrong", "data": null}"#;
        let Err(err) = parse_answer("fund_daily", body, &token) else { panic!("a token error") };
        assert!(err.is_token_error());
        assert_eq!(err.to_string(), "Tushare rejected the token (code -2001: token <token> is wrong)");
    }
}
