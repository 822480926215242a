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
    cache::{CachedCalendar, CachedPrices},
    rows::{Rows, api_names, split_day},
};
use crate::{
    date::TradeDate,
    fund::FundCode,
    history::{Budget, History},
    store::ObjectStore,
};

/// The market source on Tushare: the client, plus an optional price cache in the object store.
///
/// Histories are asked in batches ([`TushareSource::histories`]), and each batch is planned:
/// what each security lacks (with the cache: the days before or after its cached window; without:
/// the whole window), then the cheaper of two ways to ask for it, counted in calls:
/// - **by security**: `fund_daily` and `fund_adj` with `ts_code` over the range, two calls per
///   security and [`MAX_RANGE_DAYS`] window;
/// - **by trade date**: `fund_daily` and `fund_adj` with `trade_date=D` answer every security of
///   that day at once (paged by `offset` past the row cap), two calls per trading day lacked by any
///   security, whatever their number; a day asked once serves every batch of the run.
///
/// So 46 funds with no cache go by security (92 calls for the daily window), 1,000 funds by trade
/// date (about 2 calls per trading day), and a daily run with the cache costs the trading calendar's
/// new day and 2 whole-market calls. The cache is `prices/tushare/<code>.json`: the widest window
/// ever asked (the track record's ten years once it ran); a day is cached once its bar and its
/// factor are both in (a factor not yet published leaves the day to be asked again next time).
/// The calendar is cached too (`prices/tushare/calendar.json`, days up to today).
/// A cache that cannot be read or written is skipped with a warning: it only saves calls. An entry
/// written by a build with another cache format (its `version`) is a miss: the window is fetched again.
#[derive(Debug, Clone)]
pub struct TushareSource {
    client: TushareClient,
    cache: Option<ObjectStore>,
    days: Arc<WholeDays>,
    calendar: Arc<tokio::sync::Mutex<Option<CachedCalendar>>>,
}

/// The whole-market answers of this run, by API and day.
type WholeDays = Mutex<HashMap<(&'static str, TradeDate), Arc<WholeDay>>>;

/// One whole-market answer, or the failure every fund that needs it shares (asked once, not 46 times).
type WholeDay = OnceCell<Result<Arc<Table>, Arc<TushareError>>>;

/// What one security lacks of a window, given its cached entry.
struct Need {
    /// The cached entry the fetched rows extend (`None`: nothing cached, or a window apart from it).
    base: Option<CachedPrices>,
    /// The ranges of calendar days to ask (at most two: before and after the cached window).
    ranges: Vec<(TradeDate, TradeDate)>,
    /// The cached window (kept to decide whether the entry gained days).
    cached_window: Option<(TradeDate, TradeDate)>,
}

impl Need {
    fn of(cached: Option<CachedPrices>, from: TradeDate, to: TradeDate) -> Need {
        let Some(cached) = cached else {
            return Need { base: None, ranges: vec![(from, to)], cached_window: None };
        };
        let window = Some((cached.from, cached.through));
        // A window apart from the cached one (not even adjacent) is asked whole, as with no cache.
        let apart = cached.through < from.minus_days(1) || to < cached.from.minus_days(1);
        if apart {
            return Need { base: None, ranges: vec![(from, to)], cached_window: window };
        }
        let mut ranges = Vec::new();
        if from < cached.from {
            ranges.push((from, cached.from.minus_days(1)));
        }
        if let Some(after) = cached.through.next_day().filter(|it| *it <= to) {
            ranges.push((after, to));
        }
        Need { base: Some(cached), ranges, cached_window: window }
    }

    /// Whether `day` is one the security lacks.
    fn lacks(&self, day: TradeDate) -> bool {
        self.ranges.iter().any(|&(start, end)| (start..=end).contains(&day))
    }

    /// Calls to ask the ranges by security.
    fn calls_by_security(&self) -> u64 {
        self.ranges
            .iter()
            .map(|&(start, end)| 2 * (end.days_since(start) as u64 + 1).div_ceil(MAX_RANGE_DAYS.into()))
            .sum()
    }
}

/// The rows one security got in this batch, or why not.
enum Fetched {
    /// Every lacked day was asked.
    Complete(Rows),
    /// The budget ran out; `from` on, every lacked day was asked (`None`: nothing usable).
    Partial { rows: Rows, from: Option<TradeDate> },
    /// An answer it needed failed.
    Failed(TushareError),
}

impl TushareSource {
    /// A source; `cache` is where prices are kept between runs (`None`: ask for every window).
    pub fn new(client: TushareClient, cache: Option<ObjectStore>) -> TushareSource {
        TushareSource { client, cache, days: Arc::default(), calendar: Arc::default() }
    }

    /// The client.
    pub fn client(&self) -> &TushareClient {
        &self.client
    }

    /// The SSE trading days in `from..=to`, oldest first; with a cache, only the days it lacks are asked.
    pub async fn trading_days(&self, from: TradeDate, to: TradeDate) -> Result<Vec<TradeDate>, TushareError> {
        let Some(store) = &self.cache else {
            return self.client.trading_days(from, to).await;
        };
        let mut memo = self.calendar.lock().await;
        if memo.is_none() {
            *memo = cache::read_calendar(store).await;
        }
        let within = |days: &[TradeDate]| days.iter().copied().filter(|day| (from..=to).contains(day)).collect();
        // Days up to today are final; a later day of the calendar may still be moved by a holiday.
        let final_through = to.min(TradeDate::today_in_shanghai());
        let adjoining = memo.as_ref().filter(|it| it.through >= from.minus_days(1) && it.from.minus_days(1) <= to);
        let (mut days, span) = match adjoining {
            Some(cached) if cached.from <= from && cached.through >= to => return Ok(within(&cached.days)),
            Some(cached) => {
                let mut days = cached.days.clone();
                if from < cached.from {
                    days.extend(self.client.trading_days(from, cached.from.minus_days(1)).await?);
                }
                if let Some(after) = cached.through.next_day().filter(|it| *it <= to) {
                    days.extend(self.client.trading_days(after, to).await?);
                }
                (days, Some((cached.from.min(from), cached.through.max(final_through))))
            }
            None => {
                let days = self.client.trading_days(from, to).await?;
                // A calendar of older days than the cached one does not replace it.
                let newer = memo.as_ref().is_none_or(|cached| cached.through < final_through);
                (days, newer.then_some((from, final_through)))
            }
        };
        days.sort_unstable();
        days.dedup();
        let answer = within(&days);
        if let Some((span_from, span_through)) = span.filter(|(span_from, span_through)| span_from <= span_through) {
            days.retain(|day| *day <= span_through);
            let calendar = CachedCalendar { version: cache::VERSION, from: span_from, through: span_through, days };
            cache::write_calendar(store, &calendar).await;
            *memo = Some(calendar);
        }
        Ok(answer)
    }

    /// `code`'s history over `from..=to` (a batch of one; see [`TushareSource::histories`]).
    pub async fn history(&self, code: &FundCode, from: TradeDate, to: TradeDate) -> Result<History, TushareError> {
        let mut answers = self.histories(std::slice::from_ref(code), from, to, Budget::All).await?;
        answers.pop().expect("one answer per security")
    }

    /// The histories of `codes` over `from..=to`, in order, planned as the type's documentation says.
    ///
    /// A security whose answers failed keeps its error; a refused token is the whole answer. With
    /// [`Budget::FreeQuota`], a security that the free calls could not cover is
    /// [`TushareError::Deferred`], with its cache extended by the days that were asked.
    pub async fn histories(
        &self,
        codes: &[FundCode],
        from: TradeDate,
        to: TradeDate,
        budget: Budget,
    ) -> Result<Vec<Result<History, TushareError>>, TushareError> {
        // Funds and stocks have their own APIs: each kind is its own batch.
        let mut kinds: Vec<((&'static str, &'static str), Vec<usize>)> = Vec::new();
        for (at, code) in codes.iter().enumerate() {
            let apis = api_names(code);
            match kinds.iter_mut().find(|(it, _)| *it == apis) {
                Some((_, members)) => members.push(at),
                None => kinds.push((apis, vec![at])),
            }
        }
        let mut answers: Vec<Option<Result<History, TushareError>>> = codes.iter().map(|_| None).collect();
        for (apis, members) in kinds {
            let batch: Vec<FundCode> = members.iter().map(|&at| codes[at].clone()).collect();
            let got = self.batch(apis, &batch, from, to, budget).await?;
            for (at, answer) in members.into_iter().zip(got) {
                answers[at] = Some(answer);
            }
        }
        Ok(answers.into_iter().map(|it| it.expect("every security is answered")).collect())
    }

    /// One kind's batch: plan, ask, store, answer.
    async fn batch(
        &self,
        apis: (&'static str, &'static str),
        codes: &[FundCode],
        from: TradeDate,
        to: TradeDate,
        budget: Budget,
    ) -> Result<Vec<Result<History, TushareError>>, TushareError> {
        let needs = self.needs(codes, from, to).await;
        let allowed = match budget {
            Budget::All => u64::MAX,
            Budget::FreeQuota => 2 * self.client.free_calls(apis.0).min(self.client.free_calls(apis.1)),
        };
        let by_security: u64 = needs.iter().map(Need::calls_by_security).sum();
        let by_date = if by_security == 0 { 0 } else { self.calls_by_date_estimate(apis, &needs).await };
        let fetched = if by_security == 0 {
            needs.iter().map(|_| Fetched::Complete(Rows::default())).collect()
        } else if self.cache.is_none() && by_date.min(by_security) > allowed {
            // Without a cache, a part of the window would be asked for nothing: none is asked.
            needs.iter().map(|_| Fetched::Partial { rows: Rows::default(), from: None }).collect()
        } else if by_date < by_security {
            self.fetch_by_date(apis, codes, &needs, allowed).await?
        } else {
            self.fetch_by_security(codes, &needs, allowed).await?
        };

        let mut answers = Vec::with_capacity(codes.len());
        let mut deferred = 0;
        for ((code, need), fetched) in codes.iter().zip(needs).zip(fetched) {
            let Need { base, ranges, cached_window } = need;
            let (cached_from, cached_through) =
                base.as_ref().map_or((from, from.minus_days(1)), |it| (it.from, it.through));
            let mut rows = base.map(|it| it.rows).unwrap_or_default();
            let asked_after = ranges.iter().any(|&(_, end)| end == to && to > cached_through);
            let (window, answer) = match fetched {
                Fetched::Failed(err) => {
                    answers.push(Err(err));
                    continue;
                }
                Fetched::Complete(new) => {
                    rows.extend(new);
                    // The trade date is cached once its bar and factor are both in.
                    let through = match asked_after {
                        true if rows.is_final(to) => to,
                        true => to.minus_days(1),
                        false => cached_through,
                    };
                    let mut history = rows.clone();
                    history.normalize(from, to);
                    (Some((cached_from.min(from), through)), Ok(history.into_history()))
                }
                Fetched::Partial { rows: new, from: asked_from } => {
                    rows.extend(new);
                    deferred += 1;
                    let deferral = TushareError::Deferred { api: apis.0, code: code.as_str().to_owned() };
                    // Only days before a cached window extend it (a partial tail would leave a hole).
                    let window = asked_from.filter(|_| !asked_after).map(|it| (it, cached_through));
                    (window, Err(deferral))
                }
            };
            if let (Some(store), Some((window_from, through))) = (&self.cache, window) {
                let gains = cached_window.is_none_or(|(cached_from, cached_through)| {
                    through > cached_through || (through == cached_through && window_from < cached_from)
                });
                if through >= window_from && gains {
                    let mut stored = rows;
                    stored.normalize(window_from, through);
                    cache::write(store, &cache::key(code), &CachedPrices::new(window_from, through, stored)).await;
                }
            }
            answers.push(answer);
        }
        if deferred > 0 {
            tracing::info!(
                "{deferred} of {} securities not fetched from {from} to {to} in this run: the rate limit's free calls are spent; the next run goes on",
                codes.len()
            );
        }
        Ok(answers)
    }

    /// What each security lacks, from its cached entry (all at once).
    async fn needs(&self, codes: &[FundCode], from: TradeDate, to: TradeDate) -> Vec<Need> {
        let Some(store) = &self.cache else {
            return codes.iter().map(|_| Need::of(None, from, to)).collect();
        };
        let mut reads = tokio::task::JoinSet::new();
        for (at, code) in codes.iter().enumerate() {
            let (store, key) = (store.clone(), cache::key(code));
            reads.spawn(async move { (at, cache::read(&store, &key).await) });
        }
        let mut cached: Vec<Option<CachedPrices>> = codes.iter().map(|_| None).collect();
        while let Some(joined) = reads.join_next().await {
            let (at, entry) = joined.expect("a cache read does not panic");
            cached[at] = entry;
        }
        cached.into_iter().map(|it| Need::of(it, from, to)).collect()
    }

    /// Calls to ask the lacked days by trade date, estimated before the calendar is asked: two per
    /// weekday lacked by any security and not yet answered in this run, and one for the calendar
    /// unless it is cached.
    async fn calls_by_date_estimate(&self, apis: (&'static str, &'static str), needs: &[Need]) -> u64 {
        let Some((start, end)) = span(needs) else { return 0 };
        let mut calls = 0;
        {
            let answered = self.days.lock().expect("no panic while holding the day lock");
            let mut day = Some(start);
            while let Some(today) = day.filter(|it| *it <= end) {
                if !today.is_weekend() && needs.iter().any(|it| it.lacks(today)) {
                    calls += unanswered(&answered, apis, today);
                }
                day = today.next_day();
            }
        }
        let memo = self.calendar.lock().await;
        let calendar_cached = memo.as_ref().is_some_and(|it| it.from <= start && it.through >= end);
        calls + u64::from(!calendar_cached)
    }

    /// Asks by security: the securities in order, each whole, while the budget lasts.
    async fn fetch_by_security(
        &self,
        codes: &[FundCode],
        needs: &[Need],
        allowed: u64,
    ) -> Result<Vec<Fetched>, TushareError> {
        let mut spent = 0;
        let mut tasks = tokio::task::JoinSet::new();
        let mut fetched: Vec<Option<Fetched>> = codes.iter().map(|_| None).collect();
        for (at, (code, need)) in codes.iter().zip(needs).enumerate() {
            let cost = need.calls_by_security();
            if spent + cost > allowed {
                fetched[at] = Some(Fetched::Partial { rows: Rows::default(), from: None });
                continue;
            }
            spent += cost;
            let (client, code, ranges) = (self.client.clone(), code.clone(), need.ranges.clone());
            tasks.spawn(async move {
                let fetch = async {
                    let mut rows = Rows::default();
                    for (start, end) in ranges {
                        let (bars, factors) = client.security_tables(&code, start, end).await?;
                        rows.add_tables(&bars, &factors, None)?;
                    }
                    Ok::<_, TushareError>(rows)
                };
                (at, fetch.await)
            });
        }
        if !tasks.is_empty() {
            tracing::info!("prices of {} securities by security: {spent} calls", tasks.len());
        }
        while let Some(joined) = tasks.join_next().await {
            let (at, answer) = joined.expect("a price fetch does not panic");
            fetched[at] = Some(match answer {
                Ok(rows) => Fetched::Complete(rows),
                Err(err) if err.is_token_error() => return Err(err),
                Err(err) => Fetched::Failed(err),
            });
        }
        Ok(fetched.into_iter().map(|it| it.expect("every security is answered")).collect())
    }

    /// Asks by trade date: each trading day some security lacks, newest first while the budget
    /// lasts, both APIs, whole-market; the rows are split among the securities.
    async fn fetch_by_date(
        &self,
        apis: (&'static str, &'static str),
        codes: &[FundCode],
        needs: &[Need],
        allowed: u64,
    ) -> Result<Vec<Fetched>, TushareError> {
        let (start, end) = span(needs).expect("some security lacks days");
        let calendar = self.trading_days(start, end).await?;
        // Newest first.
        let mut lacked: Vec<TradeDate> =
            calendar.into_iter().filter(|day| needs.iter().any(|it| it.lacks(*day))).collect();
        lacked.reverse();
        let mut spent = 0;
        let mut asked = Vec::new();
        {
            let answered = self.days.lock().expect("no panic while holding the day lock");
            for &day in &lacked {
                let cost = unanswered(&answered, apis, day);
                if spent + cost > allowed {
                    break;
                }
                spent += cost;
                asked.push(day);
            }
        }
        tracing::info!("prices of {} securities by trade date: {} days, up to {spent} calls", codes.len(), asked.len());
        let mut tasks = tokio::task::JoinSet::new();
        for &day in &asked {
            let source = self.clone();
            tasks.spawn(async move {
                let answers = tokio::try_join!(source.whole_day(apis.0, day), source.whole_day(apis.1, day));
                (day, answers)
            });
        }
        let mut failed: HashMap<TradeDate, Arc<TushareError>> = HashMap::new();
        let mut answers = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined.expect("a whole-day task does not panic") {
                (day, Ok(tables)) => answers.push((day, tables)),
                (_, Err(err)) if err.is_token_error() => return Err(err),
                (day, Err(TushareError::Shared(err))) => {
                    failed.insert(day, err);
                }
                (day, Err(err)) => {
                    failed.insert(day, Arc::new(err));
                }
            }
        }
        let index: HashMap<&str, usize> = codes.iter().enumerate().map(|(at, code)| (code.as_str(), at)).collect();
        let mut rows: Vec<Rows> = codes.iter().map(|_| Rows::default()).collect();
        for (_, (bars, factors)) in &answers {
            split_day(bars, factors, &index, &mut rows)?;
        }
        // The days asked are the newest of those lacked: a security is complete when its oldest
        // lacked day was asked, and otherwise has every lacked day from the oldest asked on.
        let oldest_asked = asked.last().copied();
        let all_asked = asked.len() == lacked.len();
        let mut fetched = Vec::with_capacity(codes.len());
        for (need, rows) in needs.iter().zip(rows) {
            let failure = failed.iter().filter(|(day, _)| need.lacks(**day)).min_by_key(|(day, _)| **day);
            if let Some((_, err)) = failure {
                fetched.push(Fetched::Failed(TushareError::Shared(err.clone())));
                continue;
            }
            let oldest_lacked = lacked.iter().rev().find(|day| need.lacks(**day)).copied();
            let complete = all_asked || oldest_lacked.is_none() || oldest_lacked >= oldest_asked;
            fetched.push(if complete {
                Fetched::Complete(rows)
            } else {
                Fetched::Partial { rows, from: oldest_asked }
            });
        }
        Ok(fetched)
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

/// The first and last day any security lacks.
fn span(needs: &[Need]) -> Option<(TradeDate, TradeDate)> {
    let ranges = needs.iter().flat_map(|it| it.ranges.iter());
    let start = ranges.clone().map(|it| it.0).min()?;
    let end = ranges.map(|it| it.1).max()?;
    Some((start, end))
}

/// Calls still to make for `day`'s two whole-market answers in this run.
fn unanswered(
    answered: &HashMap<(&'static str, TradeDate), Arc<WholeDay>>,
    apis: (&'static str, &'static str),
    day: TradeDate,
) -> u64 {
    let asked =
        |api| answered.get(&(api, day)).is_some_and(|cell| cell.initialized() && cell.get().is_some_and(Result::is_ok));
    u64::from(!asked(apis.0)) + u64::from(!asked(apis.1))
}
