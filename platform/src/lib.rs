//! The platform of invest-alchemy: everything the job and the functions share.
//!
//! Two layers, and imports point from the second to the first, never back:
//! - the domain, pure values and logic that do no IO and cannot fail: [`date`], [`email`],
//!   [`fund`], [`history`] (bars, factors, what a source answers), [`interest`] (a subscriber's
//!   choice of days), [`strategy`] (the signal) and
//!   [`report`] (its text and JSON); [`backtest`] (what following the signals would have earned);
//! - the ports, each an enum over its adapters in a folder of its own: [`market`] (`sample`,
//!   `tushare/`), [`store`] (`local`, `s3`), [`notify`] (`outbox`, `sns`), [`subscribers`]
//!   (`local`, `sns`), [`channels`] (Telegram, WeCom, DingTalk, Feishu, webhooks); and [`reports`], the bucket's report layout on top of the store.
//!   [`aws`] builds the SDK configuration the cloud adapters share; [`env`](mod@env) names the variables.
//!
//! Ports with known adapters are enums, not trait objects: a new adapter is a compile error in one
//! place. `platform` knows nothing of axum, lambda_http or clap; the binaries parse their flags and
//! hand typed values in.

pub mod aws;
pub mod backtest;
pub mod channels;
pub mod date;
pub mod email;
pub mod env;
pub mod fund;
pub mod history;
pub mod interest;
pub mod market;
pub mod notify;
pub mod report;
pub mod reports;
pub mod store;
pub mod strategy;
pub mod subscribers;
mod text;

/// A boxed error from an adapter's client, kept as the `source` of the port's error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
