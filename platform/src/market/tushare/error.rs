//! How a Tushare call fails: one error enum, what may be retried, and the market port's view of it.

use std::{sync::Arc, time::Duration};

use crate::history::MarketError;

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
    /// Not asked in this run: the batch's budget was spent on other securities and days.
    #[error("{api} of {code}: not asked in this run, the rate limit's free calls were spent (the next run goes on)")]
    Deferred { api: &'static str, code: String },
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
        if let TushareError::Deferred { .. } = self {
            return MarketError::Deferred { what: what.to_owned() };
        }
        MarketError::Request { what: what.to_owned(), message: crate::text::error_chain(&self) }
    }
}
