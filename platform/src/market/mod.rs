//! The market data port: trading calendars, daily bars and adjustment factors.
//!
//! Every source answers the same two questions (which days traded, and what a fund's closes and
//! adjustment factors were), so the job and the strategy do not know where the numbers came from.
//! The adapters: [`sample`] (generated, deterministic, labelled as such) and [`tushare`] (the
//! Tushare Pro HTTP API, with its price cache). They produce the values of [`crate::history`].
//!
//! May use: the domain; the Tushare adapter also keeps its cache in the [`crate::store`] port.

pub mod sample;
pub mod tushare;

use self::{sample::SampleSource, tushare::TushareSource};
pub use crate::history::{AdjFactor, Bar, Budget, History, MarketError, SourceKind};
use crate::{date::TradeDate, fund::FundCode};

/// The market data port.
#[derive(Debug, Clone)]
pub enum MarketData {
    /// Generated sample data (see [`sample`]).
    Sample(SampleSource),
    /// The Tushare Pro HTTP API (see [`tushare`]).
    Tushare(TushareSource),
}

impl MarketData {
    /// The sample source.
    pub fn sample() -> MarketData {
        MarketData::Sample(SampleSource::new())
    }

    /// Which kind of source this is.
    pub fn kind(&self) -> SourceKind {
        match self {
            MarketData::Sample(_) => SourceKind::Sample,
            MarketData::Tushare(_) => SourceKind::Tushare,
        }
    }

    /// The exchange's trading days in `from..=to`, oldest first.
    pub async fn trading_days(&self, from: TradeDate, to: TradeDate) -> Result<Vec<TradeDate>, MarketError> {
        match self {
            MarketData::Sample(source) => Ok(source.trading_days(from, to)),
            MarketData::Tushare(source) => {
                source.trading_days(from, to).await.map_err(|err| err.into_market_error("the trading calendar"))
            }
        }
    }

    /// The histories of `codes` over `from..=to`, in order; a security whose request failed (or
    /// was deferred by `budget`) keeps its error. A fatal error (a refused token) is the whole answer.
    pub async fn histories(
        &self,
        codes: &[FundCode],
        from: TradeDate,
        to: TradeDate,
        budget: Budget,
    ) -> Result<Vec<Result<History, MarketError>>, MarketError> {
        match self {
            MarketData::Sample(source) => Ok(codes.iter().map(|code| Ok(source.history(code, from, to))).collect()),
            MarketData::Tushare(source) => {
                let answers = source
                    .histories(codes, from, to, budget)
                    .await
                    .map_err(|err| err.into_market_error("the prices"))?;
                Ok(codes
                    .iter()
                    .zip(answers)
                    .map(|(code, it)| it.map_err(|err| err.into_market_error(code.as_str())))
                    .collect())
            }
        }
    }

    /// Bars and adjustment factors of `code` for trading days in `from..=to`.
    pub async fn history(&self, code: &FundCode, from: TradeDate, to: TradeDate) -> Result<History, MarketError> {
        match self {
            MarketData::Sample(source) => Ok(source.history(code, from, to)),
            MarketData::Tushare(source) => {
                source.history(code, from, to).await.map_err(|err| err.into_market_error(code.as_str()))
            }
        }
    }
}
