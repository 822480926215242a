//! The fakes and harnesses the workspace's tests and benchmarks share; a dev-dependency only.
//!
//! - [`tushare`]: a fake Tushare Pro server on 127.0.0.1, speaking its JSON-over-POST protocol.
//! - [`channels`]: fake chat services (Telegram, WeCom, DingTalk, Feishu, a webhook receiver),
//!   each validating what the real one validates.
//! - [`moto`]: the AWS emulator `cargo xtask test` starts (moto), reached through
//!   `AWS_ENDPOINT_URL`: clients, buckets and topics of one's own, and what SNS "sent".
//! - [`reports`]: sample reports stored as the job stores them, for the site.
//!
//! This crate depends on `platform`, so it may be used from integration tests (`tests/`) and
//! benchmarks (`benches/`) only, never from a crate's unit tests in `src/`: there, `platform` would
//! be two different crates, the one under test and the one this crate links, whose types do not
//! mix.

pub mod channels;
pub mod moto;
pub mod performance;
pub mod reports;
pub mod tushare;
