//! The platform of invest-alchemy: everything the job and the functions share.
//!
//! A pure core that does no IO ([`strategy`], [`report`]) and the ports with their adapters
//! ([`market`] with [`tushare`], [`store`], [`notify`], [`subscribers`]). Ports with known adapters are enums, not
//! trait objects: a new adapter is a compile error in one place.
//!
//! `platform` knows nothing of axum, lambda_http or clap; the binaries parse their flags and hand
//! typed values in.

pub mod aws;
pub mod date;
pub mod email;
pub mod env;
pub mod fund;
pub mod market;
pub mod notify;
pub mod report;
pub mod sample;
pub mod store;
pub mod strategy;
pub mod subscribers;
pub mod tushare;
