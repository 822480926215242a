//! A fake Tushare Pro: an in-process HTTP server on 127.0.0.1 that speaks the Tushare Pro protocol.
//!
//! The protocol: one endpoint, any path; every call is a `POST` of the JSON body
//! `{"api_name": "fund_daily", "token": "...", "params": {...}, "fields": ""}`, and every answer is
//! HTTP 200 with `{"request_id", "code", "msg", "data": {"fields": [...], "items": [[...], ...],
//! "has_more"}}`; an error is `code != 0` with `data: null` (see [`ok`] and [`error`]).
//! Each test says how to answer with a closure over the request ([`Seen`] to [`Reply`]), which can
//! also answer an HTTP status, a raw body or nothing at all; the server records every request it got.
//! [`Market`] answers from generated data the way Tushare does (`trade_cal`, `fund_daily`,
//! `fund_adj`, `daily`, `adj_factor`).
//!
//! Used by the Tushare client's tests (`platform/tests/tushare.rs`), the job's (`jobs/tests`), its
//! benchmark (`jobs/benches/tushare.rs`) and the rehearsal's job run (`xtask/tests/rehearsal.rs`).

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{Json, Router, body::Bytes, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::{Value, json};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `api_name` from the body.
    pub api: String,
    /// `params` from the body.
    pub params: Value,
    /// `token` from the body.
    pub token: String,
    /// How many requests of this API came before this one.
    pub nth: usize,
}

/// How the server answers one request.
pub enum Reply {
    /// HTTP 200 with this JSON.
    Json(Value),
    /// HTTP 200 with this body as is.
    Raw(&'static str),
    /// This HTTP status, empty body.
    Status(u16),
    /// Never answer.
    Hang,
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

struct Shared {
    handler: Box<Handler>,
    latency: Duration,
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A running fake; it stops with the runtime that started it.
pub struct FakeTushare {
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    shared: Arc<Shared>,
}

impl FakeTushare {
    /// Starts a server answering every request with `handler`, after `latency`.
    pub async fn start(latency: Duration, handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> FakeTushare {
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            latency,
            seen: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let app = Router::new().fallback(answer).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let url = format!("http://{}/", listener.local_addr().expect("a local address"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        FakeTushare { url, shared }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// The most requests the server was answering at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// How many requests so far.
    pub fn calls(&self) -> usize {
        self.shared.seen.lock().unwrap().len()
    }
}

async fn answer(State(shared): State<Arc<Shared>>, body: Bytes) -> axum::response::Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let seen = {
        let mut all = shared.seen.lock().unwrap();
        let api = body["api_name"].as_str().unwrap_or_default().to_owned();
        let nth = all.iter().filter(|it| it.api == api).count();
        let seen = Seen {
            api,
            params: body["params"].clone(),
            token: body["token"].as_str().unwrap_or_default().to_owned(),
            nth,
        };
        all.push(seen.clone());
        seen
    };
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    let reply = (shared.handler)(&seen);
    // A hanging request stays counted: its client gave up on it, the server never finished it.
    if !matches!(reply, Reply::Hang) {
        shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
    match reply {
        Reply::Json(value) => Json(value).into_response(),
        Reply::Raw(text) => text.into_response(),
        Reply::Status(status) => StatusCode::from_u16(status).unwrap().into_response(),
        Reply::Hang => std::future::pending().await,
    }
}

/// A successful answer.
pub fn ok(fields: &[&str], items: Vec<Value>) -> Reply {
    page(fields, items, false)
}

/// A successful answer that says whether Tushare cut rows (`has_more`).
pub fn page(fields: &[&str], items: Vec<Value>, has_more: bool) -> Reply {
    Reply::Json(json!({
        "request_id": "test",
        "code": 0,
        "msg": "",
        "data": {"fields": fields, "items": items, "has_more": has_more},
    }))
}

/// An error answer: HTTP 200, `code != 0`, `data: null`.
pub fn error(code: i64, msg: &str) -> Reply {
    Reply::Json(json!({"request_id": "test", "code": code, "msg": msg, "data": null}))
}

/// One day of one security: (trade_date, open, close, factor); a `None` factor is not yet published.
pub type Row = (String, f64, f64, Option<f64>);

/// A generated market: weekdays are trading days, every fund has a wavy close (its open a third
/// of the way from the previous close) and some a dividend.
///
/// Answers `trade_cal`, `fund_daily`, `fund_adj`, `daily` and `adj_factor` like Tushare: newest
/// first, fields in an unusual order, only the rows in the asked range. With [`Market::max_rows`]
/// an answer past the cap keeps its newest rows and says `has_more`, and, like Tushare's daily
/// APIs, it ignores `offset`: only a narrower date range gets the older rows.
#[derive(Debug, Clone)]
pub struct Market {
    /// Trading days, oldest first, as `YYYYMMDD`.
    pub days: Vec<String>,
    /// Per code: (trade_date, open, close, factor) oldest first; a `None` factor is not yet published.
    pub rows: HashMap<String, Vec<Row>>,
    /// The most rows of one answer (`None`: no cap). Tushare's are 2,000 for `fund_daily`.
    pub max_rows: Option<usize>,
}

impl Market {
    /// Weekdays of 2026 up to `last` (`YYYYMMDD`), for `codes`.
    pub fn generate(codes: &[&str], last: &str) -> Market {
        Market::generate_from(codes, "20260101", last)
    }

    /// Weekdays from `first` up to `last` (`YYYYMMDD`), for `codes`.
    pub fn generate_from(codes: &[&str], first: &str, last: &str) -> Market {
        let mut days = Vec::new();
        let mut date = chrono::NaiveDate::parse_from_str(first, "%Y%m%d").unwrap();
        let last_date = chrono::NaiveDate::parse_from_str(last, "%Y%m%d").unwrap();
        while date <= last_date {
            use chrono::Datelike;
            if date.weekday().num_days_from_monday() < 5 {
                days.push(date.format("%Y%m%d").to_string());
            }
            date = date.succ_opt().unwrap();
        }
        let mut rows = HashMap::new();
        for (code_idx, code) in codes.iter().enumerate() {
            let phase = code_idx as f64 * 0.7;
            let period = 9.0 + (code_idx % 7) as f64 * 3.0;
            let series = days
                .iter()
                .enumerate()
                .map(|(day_idx, day)| {
                    let x = day_idx as f64;
                    let close = 1.0 + 0.25 * ((x / period) + phase).sin() + 0.001 * x + 0.05 * (code_idx % 5) as f64;
                    let close = (close * 1000.0).round() / 1000.0;
                    // Every third fund pays a dividend 60 trading days before the end.
                    let factor = if code_idx % 3 == 0 && day_idx + 60 >= days.len() { 1.08 } else { 1.0 };
                    (day.clone(), close, close, Some(factor))
                })
                .collect::<Vec<Row>>();
            // The open: a third of the way from the previous close to the close (the first day's is its close).
            let mut previous = series.first().map_or(0.0, |row| row.2);
            let series = series
                .into_iter()
                .map(|(day, _, close, factor)| {
                    let open = ((previous + (close - previous) / 3.0) * 1000.0).round() / 1000.0;
                    previous = close;
                    (day, open, close, factor)
                })
                .collect();
            rows.insert((*code).to_owned(), series);
        }
        Market { days, rows, max_rows: None }
    }

    /// `items` (newest first) as one answer, cut to [`Market::max_rows`].
    fn page(&self, fields: &[&str], mut items: Vec<Value>) -> Reply {
        let cut = self.max_rows.is_some_and(|max| items.len() > max);
        items.truncate(self.max_rows.unwrap_or(usize::MAX));
        page(fields, items, cut)
    }

    /// Answers one request from the generated data.
    pub fn reply(&self, seen: &Seen) -> Reply {
        let start = seen.params["start_date"].as_str().unwrap_or("19900101").to_owned();
        let end = seen.params["end_date"].as_str().unwrap_or("20991231").to_owned();
        let in_range = |day: &String| *day >= start && *day <= end;
        match seen.api.as_str() {
            "trade_cal" => {
                let items = self
                    .days
                    .iter()
                    .rev()
                    .filter(|day| in_range(day))
                    .map(|day| json!(["SSE", day, 1, null]))
                    .collect();
                self.page(&["exchange", "cal_date", "is_open", "pretrade_date"], items)
            }
            "fund_daily" | "daily" | "fund_adj" | "adj_factor" => {
                // Either one security over a range, or the whole market on one day (`trade_date`).
                let mut rows: Vec<(&str, &Row)> = Vec::new();
                if let Some(day) = seen.params["trade_date"].as_str() {
                    let mut codes: Vec<&String> = self.rows.keys().collect();
                    codes.sort();
                    for code in codes {
                        // Rows are oldest first, one a day: the day's row by binary search (a
                        // whole-market day of a thousand funds is asked thousands of times in the bench).
                        let series = &self.rows[code];
                        if let Ok(at) = series.binary_search_by(|row| row.0.as_str().cmp(day)) {
                            rows.push((code.as_str(), &series[at]));
                        }
                    }
                } else {
                    let code = seen.params["ts_code"].as_str().unwrap_or_default();
                    if let Some((code, series)) = self.rows.get_key_value(code) {
                        rows.extend(series.iter().rev().filter(|row| in_range(&row.0)).map(|row| (code.as_str(), row)));
                    }
                }
                if seen.api.ends_with("daily") {
                    let items = rows
                        .into_iter()
                        .map(|(code, (day, open, close, _))| {
                            json!([close, code, 0.0, day, open, open.max(*close), open.min(*close), 1000.0])
                        })
                        .collect();
                    self.page(&["close", "ts_code", "pct_chg", "trade_date", "open", "high", "low", "vol"], items)
                } else {
                    let items = rows
                        .into_iter()
                        .filter_map(|(code, (day, _, _, factor))| factor.map(|factor| json!([factor, day, code])))
                        .collect();
                    self.page(&["adj_factor", "trade_date", "ts_code"], items)
                }
            }
            _ => error(40101, "抱歉，您没有访问该接口的权限"),
        }
    }
}
