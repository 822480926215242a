//! The HTTP client: one keep-alive pool, politeness limits (calls per minute per API, calls in
//! flight) and bounded retries with jittered exponential backoff. The token is secret: [`Token`]
//! has no `Display`, its `Debug` is redacted, and it goes only into the request body.

use std::{
    collections::{HashMap, VecDeque},
    fmt,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::{
    answer::{Page, Table, parse_answer},
    error::TushareError,
    rows::{api_names, history_from_tables},
};
use crate::{date::TradeDate, fund::FundCode, history::History};

/// The documented address of the Tushare Pro API.
pub const DEFAULT_URL: &str = "http://api.tushare.pro";

/// The most calendar days one request of a date range asks for.
///
/// Tushare caps the rows of an answer (`fund_daily` and `fund_adj` at 2,000, `daily` at 6,000) and
/// says `has_more` when it cut some. One security has at most one row a weekday, and 2,000 calendar
/// days hold at most 1,430 weekdays, so a window of this length fits in one answer of any of them.
pub const MAX_RANGE_DAYS: u32 = 2000;

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

    /// Calls of `api` the rate limit admits now without waiting.
    pub fn free_calls(&self, api: &str) -> u64 {
        self.inner.rate.lock().expect("no panic while holding the rate lock").free(api, Instant::now())
    }

    /// The whole table an API answers for `params`, following `has_more` pages (at most 100) by
    /// `offset`. For a query without a date range (the whole market on one `trade_date`); a range
    /// of days goes through [`TushareClient::query_range`], since the daily APIs page by date.
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

    /// Every row an API holds for `params` (one security, or the calendar) on the days `from..=to`,
    /// however few rows Tushare puts in one answer; `date_field` names the rows' day.
    ///
    /// Tushare answers a range newest first and, past its cap, cuts the oldest rows and says
    /// `has_more`. So the range is asked in windows of at most [`MAX_RANGE_DAYS`], newest first, and
    /// a cut answer is followed by the same request ending the day before its oldest row, until an
    /// answer is whole (at most 100 requests a window). `offset` is not used: the daily APIs do not
    /// page by offset (Tushare's maintainers, waditu/tushare#1582: `daily` "不支持分页"; #755: page by
    /// start and end date).
    pub async fn query_range(
        &self,
        api: &str,
        params: &Value,
        date_field: &'static str,
        from: TradeDate,
        to: TradeDate,
    ) -> Result<Table, TushareError> {
        let malformed = |reason: &str| TushareError::Malformed { api: api.to_owned(), reason: reason.to_owned() };
        let mut table: Option<Table> = None;
        let mut window_end = to;
        while window_end >= from {
            let start = window_end.minus_days(MAX_RANGE_DAYS - 1).max(from);
            let mut end = window_end;
            for page in 1.. {
                if page > 100 {
                    return Err(malformed("more than 100 pages"));
                }
                let mut range = params.clone();
                if let Value::Object(map) = &mut range {
                    map.insert("start_date".to_owned(), json!(start.to_string()));
                    map.insert("end_date".to_owned(), json!(end.to_string()));
                }
                let answer = self.call(api, &range).await?;
                let mut oldest: Option<TradeDate> = None;
                if !answer.table.items.is_empty() {
                    let column = answer.table.column(date_field)?;
                    for row in 0..answer.table.items.len() {
                        let day = answer.table.date(row, column, date_field)?;
                        oldest = Some(oldest.map_or(day, |it| it.min(day)));
                    }
                }
                match &mut table {
                    None => table = Some(answer.table),
                    Some(table) if table.items.is_empty() => *table = answer.table,
                    Some(table) if answer.table.items.is_empty() => {}
                    Some(table) if table.fields != answer.table.fields => {
                        return Err(malformed("pages have different fields"));
                    }
                    Some(table) => table.items.extend(answer.table.items),
                }
                match oldest {
                    // Whole, or nothing older to ask for in this window.
                    _ if !answer.has_more => break,
                    Some(oldest) if oldest > start && oldest <= end => end = oldest.minus_days(1),
                    Some(oldest) if oldest == start => break,
                    None => break,
                    Some(_) => return Err(malformed("a cut answer holds a day outside the range asked")),
                }
            }
            if start == from {
                break;
            }
            window_end = start.minus_days(1);
        }
        Ok(table.expect("at least one request was answered"))
    }

    /// The exchange's (SSE) trading days in `from..=to`, oldest first.
    pub async fn trading_days(&self, from: TradeDate, to: TradeDate) -> Result<Vec<TradeDate>, TushareError> {
        let params = json!({"exchange": "SSE", "is_open": "1"});
        let table = self.query_range("trade_cal", &params, "cal_date", from, to).await?;
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
    /// A null open, close or factor leaves that day out (and says so). When the latest bar's factor is not
    /// yet published, the previous factor is carried forward and a note says so: exact unless that
    /// day is an ex-dividend day.
    pub async fn history(&self, code: &FundCode, from: TradeDate, to: TradeDate) -> Result<History, TushareError> {
        let (bars, factors) = self.security_tables(code, from, to).await?;
        history_from_tables(&bars, &factors)
    }

    /// The bars' and the factors' tables of `code` in `from..=to`, each complete (see
    /// [`TushareClient::query_range`]), asked at once.
    pub(super) async fn security_tables(
        &self,
        code: &FundCode,
        from: TradeDate,
        to: TradeDate,
    ) -> Result<(Table, Table), TushareError> {
        let (bars_api, factors_api) = api_names(code);
        let params = json!({"ts_code": code.as_str()});
        tokio::try_join!(
            self.query_range(bars_api, &params, "trade_date", from, to),
            self.query_range(factors_api, &params, "trade_date", from, to),
        )
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
        parse_answer(api, &bytes, &inner.token.0)
    }
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

    /// Calls of `api` that [`RateWindow::admit`] would admit at `now` without waiting.
    fn free(&self, api: &str, now: Instant) -> u64 {
        let recent = self.started.get(api).map_or(0, |started| {
            started.iter().filter(|&&it| now.saturating_duration_since(it) < Self::WINDOW).count()
        });
        u64::from(self.per_minute).saturating_sub(recent as u64)
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
        // What is free is what would be admitted without waiting.
        assert_eq!(window.free("fund_daily", start + RateWindow::WINDOW), 0);
        assert_eq!(window.free("fund_daily", start + RateWindow::WINDOW + Duration::from_secs(1)), 1);
        assert_eq!(window.free("fund_adj", start + Duration::from_secs(3)), 1);
        assert_eq!(window.free("trade_cal", start), 2);
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
        let Err(err) = parse_answer("fund_daily", body, &token.0) else { panic!("a token error") };
        assert!(err.is_token_error());
        assert_eq!(err.to_string(), "Tushare rejected the token (code -2001: token <token> is wrong)");
    }
}
