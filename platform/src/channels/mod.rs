//! The chat channels port: the day's signals to Telegram chats, WeCom (企业微信), DingTalk (钉钉)
//! and Feishu (飞书) group robots, and signed webhooks, as a channels file configures them.
//!
//! - [`config`]: the channels file (TOML, `${VAR}` from the environment, secrets redacted);
//! - [`digest`]: what a channel hears about a day (pure, from the report);
//! - [`split`]: a day split into messages within a service's size limit (pure);
//! - [`http`]: the shared client, the retries of rate-limit answers and [`ChannelError`];
//! - one file per service, each formatting, signing and reading answers as that service defines.
//!
//! Knows nothing of the store: which channel already got which day (the delivery markers) is the
//! job's business, through [`crate::reports`].
//!
//! May use: [`crate::report`], [`crate::fund`], [`crate::date`], reqwest, hmac, sha2, base64, toml.

pub mod config;
pub mod digest;
pub mod dingtalk;
pub mod feishu;
pub mod http;
pub mod split;
pub mod telegram;
pub mod webhook;
pub mod wecom;

pub use self::{
    config::{Channel, ChannelName, ChannelsFile, ConfigError, Only, Secret, Target},
    digest::Digest,
    http::{ChannelError, RetryPolicy, Sender},
};

impl Sender {
    /// Sends `digest` to `channel`, split as its service needs; says how many messages it took.
    /// Stops at the first message that fails (the earlier ones were delivered).
    pub async fn deliver(&self, channel: &Channel, digest: &Digest) -> Result<usize, ChannelError> {
        match &channel.target {
            Target::Telegram(target) => telegram::send(self, channel, target, digest).await,
            Target::WeCom(target) => wecom::send(self, channel, target, digest).await,
            Target::DingTalk(target) => dingtalk::send(self, channel, target, digest).await,
            Target::Feishu(target) => feishu::send(self, channel, target, digest).await,
            Target::Webhook(target) => webhook::send(self, channel, target, digest).await,
        }
    }
}
