//! What a market source answers, as values: daily bars, adjustment factors, the history of one
//! security, which kind of source it was, and why it could not answer.
//!
//! Pure domain: the sources in [`crate::market`] produce these, the strategy reads them.
//! The report carries [`SourceKind`], so sample data always says so.

use crate::date::TradeDate;

/// One day's open and close of one security, unadjusted, as the exchange printed them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    /// The trading day.
    pub trade_date: TradeDate,
    /// The unadjusted open, as the exchange printed it (the first trade's price of the day).
    /// Adjust it with the day's factor like the close: `open * factor / factor_of_the_last_day`.
    pub open: f64,
    /// The unadjusted close, as the exchange printed it.
    pub close: f64,
}

/// One day's cumulative adjustment factor (it steps up on dividends and splits).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdjFactor {
    /// The trading day.
    pub trade_date: TradeDate,
    /// The factor; forward-adjusted close = `close * factor / factor_of_the_last_day`.
    pub factor: f64,
}

/// What a source knows of one security over a date range. Rows may come in any order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Daily bars (open and close).
    pub bars: Vec<Bar>,
    /// Daily adjustment factors.
    pub factors: Vec<AdjFactor>,
    /// Remarks the report must carry, e.g. that a factor was carried forward.
    pub notes: Vec<String>,
}

/// Where a report's numbers came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// The deterministic, generated sample data: not real prices.
    Sample,
    /// The Tushare Pro API.
    Tushare,
}

impl SourceKind {
    /// The name used in flags and JSON: `sample` or `tushare`.
    pub fn id(self) -> &'static str {
        match self {
            SourceKind::Sample => "sample",
            SourceKind::Tushare => "tushare",
        }
    }

    /// The label reports print in their header.
    pub fn label(self) -> &'static str {
        match self {
            SourceKind::Sample => "样例数据 (程序生成, 非真实行情, 仅供演示)",
            SourceKind::Tushare => "Tushare Pro",
        }
    }
}

/// Why a source could not answer.
#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    /// The source refused our credentials: no later call can succeed, so the run stops.
    /// The message names the source, e.g. `Tushare rejected the token (code -2001: ...)`.
    #[error("{message}")]
    Unauthorized { message: String },
    /// One request failed (after any retries); other securities may still succeed.
    #[error("{what} failed: {message}")]
    Request { what: String, message: String },
    /// Not asked in this run: a [`Budget::FreeQuota`] batch spent its calls on others.
    #[error("{what}: not fetched in this run (the backfill's free calls were spent); the next run goes on")]
    Deferred { what: String },
}

impl MarketError {
    /// Whether the whole run must stop rather than mark one fund undecided.
    pub fn is_fatal(&self) -> bool {
        matches!(self, MarketError::Unauthorized { .. })
    }

    /// Whether the history was left for a later run by its batch's budget.
    pub fn is_deferred(&self) -> bool {
        matches!(self, MarketError::Deferred { .. })
    }
}

/// How many calls a batch of histories may spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Budget {
    /// Whatever the histories take (the day's run: its report needs them all).
    #[default]
    All,
    /// Only the calls the source's rate limit admits now without waiting (the track record's
    /// backfill, which must never slow the run down): what does not fit is
    /// [`MarketError::Deferred`], and a source with a cache keeps what was asked, so the next run
    /// goes on from there.
    FreeQuota,
}
