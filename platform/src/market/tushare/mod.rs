//! The Tushare Pro source: daily bars, adjustment factors and the trading calendar over HTTP.
//!
//! One endpoint takes every call: `POST {"api_name", "token", "params", "fields": ""}` and answers
//! `{"code", "msg", "data": {"fields", "items", "has_more"}}`, HTTP 200 even for most errors.
//! Rows are read by field name, never by position. The client is polite (a limit on calls per
//! minute per API and on concurrent calls), retries what can pass on its own (rate limit `40203`,
//! HTTP 5xx, timeouts, broken connections) with bounded exponential backoff and jitter, and stops
//! at once on a token error.
//!
//! The rooms: `answer` reads the wire protocol, `client` talks HTTP, `rows` turns answers
//! into a history, `cache` keeps prices between runs, and this file is the source that puts them
//! together. The token is secret: [`Token`] has no `Display`, its `Debug` is redacted, it goes only
//! into the request body, and any server message that quotes it has it masked before it becomes an error.

mod answer;
mod cache;
mod client;
mod error;
mod rows;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use serde_json::json;
use tokio::sync::OnceCell;

pub use self::{
    answer::{CODE_BAD_TOKEN, CODE_RATE_LIMIT, Table},
    client::{DEFAULT_URL, MAX_RANGE_DAYS, RetryPolicy, Token, TushareClient, TushareConfig},
    error::TushareError,
    rows::history_from_tables,
};
use self::{
    cache::CachedPrices,
    rows::{Rows, api_names},
};
use crate::{date::TradeDate, fund::FundCode, history::History, store::ObjectStore};

/// The market source on Tushare: the client, plus an optional price cache in the object store.
///
/// With the cache, a fund's rows up to the day before the last run's trade date are read from
/// `prices/tushare/<code>.json` (the widest window ever asked: the track record's ten years once
/// it ran), and only the days since are asked, one whole-market call per API
/// and day (`fund_daily` with `trade_date`) shared by all funds: a daily run needs a constant number
/// of calls instead of two per fund. The trade date itself is never cached, since its factor may
/// not be published yet. A fund new to the list, a longer lookback or a gap of more than
/// [`TushareSource::MAX_GAP_DAYS`] calendar days fetches the fund's whole window again.
/// A cache that cannot be read or written is skipped with a warning: it only saves calls. An entry
/// written by a build with another cache format (its `version`) is a miss: the window is fetched again.
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
        let key = cache::key(code);
        let cached = cache::read(store, &key).await;
        let cached_window = cached.as_ref().map(|it| (it.from, it.through));
        // The rows and the first day they cover: the cached ones with the days since, or the window.
        let (mut rows, rows_from) = match cached {
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
                (rows, cached.from)
            }
            _ => {
                let (bars, factors) = self.client.security_tables(code, from, to).await?;
                let mut rows = Rows::default();
                rows.add_tables(&bars, &factors, None)?;
                (rows, from)
            }
        };

        // Everything before the trade date is final; the trade date is asked again next time.
        // The cache keeps the widest window asked (the track record's ten years, the daily run's
        // days since), and it never moves back to an older day (a backfill does not spoil the next
        // daily run). It is written when it gains days at either end.
        let through = to.minus_days(1);
        let gains = cached_window.is_none_or(|(cached_from, cached_through)| {
            through > cached_through || (through == cached_through && rows_from < cached_from)
        });
        if through >= rows_from && gains {
            let mut stored = rows.clone();
            stored.normalize(rows_from, through);
            cache::write(store, &key, &CachedPrices::new(rows_from, through, stored)).await;
        }
        rows.normalize(from, to);
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
