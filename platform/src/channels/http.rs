//! The HTTP side every service shares: one reqwest client (rustls on ring, the system's roots, like the
//! Tushare client), the retry loop for rate-limit answers, and why a delivery failed.
//!
//! A service's success is read from its body by the kind's own `read` function, which sorts every
//! answer into [`Answer`]: delivered, rate limited (retried with backoff, or after the wait the
//! service asked for), or refused (not retried; the service's message, masked, is the error).
//! Connection failures are retried too: the request never reached the service. A timeout is not:
//! the message may have been posted.
//!
//! Uses [`super::config`] (the channel, to mask its secrets) only.

use std::time::Duration;

use super::config::Channel;

/// How a rate-limit answer is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries per message, the first included. Default: 4.
    pub tries: u32,
    /// The first backoff when the service does not say how long to wait; each retry doubles it. Default: 2 s.
    pub base_delay: Duration,
    /// The longest wait before a retry; a service asking for longer is not retried. Default: 60 s.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// 4 tries, from 2 s doubling, a wait of at most 60 s.
    pub const STANDARD: RetryPolicy =
        RetryPolicy { tries: 4, base_delay: Duration::from_secs(2), max_delay: Duration::from_secs(60) };
}

/// Sends channel messages: one keep-alive client for every channel and day of a run.
#[derive(Debug, Clone)]
pub struct Sender {
    pub(super) http: reqwest::Client,
    pub(super) retry: RetryPolicy,
}

/// Why a channel did not get its message. The text is the service's own (or the transport's),
/// with every secret of the channel masked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// The HTTP client could not be made.
    #[error("the HTTP client for chat channels cannot be built")]
    Client,
    /// The service refused the message; retrying would not help.
    #[error("{kind} refused the message: {message}")]
    Refused { kind: &'static str, message: String },
    /// The service kept answering that it is rate limited.
    #[error("{kind} is still rate limiting after {tries} tries: {message}")]
    RateLimited { kind: &'static str, tries: u32, message: String },
    /// The request did not get an answer.
    #[error("no answer from {kind}: {message}")]
    Transport { kind: &'static str, message: String },
}

/// What a service's answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Answer {
    /// It took the message.
    Delivered,
    /// Too many messages: try again, after `wait` when the service says.
    RateLimited { wait: Option<Duration>, message: String },
    /// It will not take this message.
    Refused { message: String },
}

/// One answer as the kinds read it.
pub(super) struct Reply<'a> {
    pub(super) status: u16,
    /// The `Retry-After` header in seconds, when there is one.
    pub(super) retry_after: Option<Duration>,
    pub(super) body: &'a [u8],
}

impl Reply<'_> {
    /// The answer of a robot that says `{"errcode": 0, "errmsg": "ok"}` (WeCom, DingTalk): 0 took
    /// the message, `rate_limited` asks to wait, any other code or body refused it.
    pub(super) fn errcode(&self, rate_limited: i64) -> Answer {
        let Some(answer) = self.json() else {
            return Answer::Refused { message: self.describe() };
        };
        let Some(code) = answer["errcode"].as_i64() else {
            return Answer::Refused { message: self.describe() };
        };
        let message = format!("errcode {code}: {}", answer["errmsg"].as_str().unwrap_or_default());
        match code {
            0 => Answer::Delivered,
            _ if code == rate_limited => Answer::RateLimited { wait: None, message },
            _ => Answer::Refused { message },
        }
    }

    /// The body as JSON, when it is JSON.
    pub(super) fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(self.body).ok()
    }

    /// `HTTP 502: <the first 200 characters of the body>`, for answers a service does not document.
    pub(super) fn describe(&self) -> String {
        let text = String::from_utf8_lossy(self.body);
        let short: String = text.chars().take(200).collect();
        format!("HTTP {}: {}", self.status, short.trim())
    }
}

/// One request: where, which headers, what body (JSON).
pub(super) struct Request {
    pub(super) url: String,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: Vec<u8>,
}

impl Sender {
    /// A sender with `retry`; each exchange may take up to 15 s.
    pub fn new(retry: RetryPolicy) -> Result<Sender, ChannelError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .user_agent(concat!("invest-alchemy/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| ChannelError::Client)?;
        Ok(Sender { http, retry })
    }

    /// Posts what `build` makes (made again for each try: signatures carry the time) until the
    /// service's answer, read by `read`, is final.
    pub(super) async fn post(
        &self,
        channel: &Channel,
        build: &dyn Fn() -> Request,
        read: fn(&Reply<'_>) -> Answer,
    ) -> Result<(), ChannelError> {
        let kind = channel.kind();
        let mut tries = 0;
        loop {
            tries += 1;
            let request = build();
            let mut builder = self
                .http
                .post(&request.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json; charset=utf-8")
                .body(request.body);
            for (name, value) in request.headers {
                builder = builder.header(name, value);
            }
            let (wait, message, unreachable) = match builder.send().await {
                Err(err) if err.is_connect() => {
                    (None, channel.mask(&crate::text::error_chain(&err.without_url())), true)
                }
                Err(err) => {
                    return Err(ChannelError::Transport {
                        kind,
                        message: channel.mask(&crate::text::error_chain(&err.without_url())),
                    });
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|it| it.to_str().ok())
                        .and_then(|it| it.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let body = response.bytes().await.map_err(|err| ChannelError::Transport {
                        kind,
                        message: channel.mask(&crate::text::error_chain(&err.without_url())),
                    })?;
                    match read(&Reply { status, retry_after, body: &body }) {
                        Answer::Delivered => return Ok(()),
                        Answer::Refused { message } => {
                            return Err(ChannelError::Refused { kind, message: channel.mask(&message) });
                        }
                        Answer::RateLimited { wait, message } => (wait, channel.mask(&message), false),
                    }
                }
            };
            let backoff = self.retry.base_delay.saturating_mul(1 << (tries - 1).min(16));
            let wait = wait.unwrap_or(backoff);
            if tries >= self.retry.tries || wait > self.retry.max_delay {
                if unreachable {
                    return Err(ChannelError::Transport { kind, message: format!("{message} ({tries} tries)") });
                }
                return Err(ChannelError::RateLimited { kind, tries, message });
            }
            tracing::info!(
                "channel {}: {kind} answered {message}; try {} of {} in {wait:?}",
                channel.name,
                tries + 1,
                self.retry.tries
            );
            tokio::time::sleep(wait).await;
        }
    }
}
