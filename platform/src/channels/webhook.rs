//! Webhooks: `POST url` with the day as one JSON document, signed when the channel has a secret.
//!
//! The body (schema 1):
//!
//! ```json
//! {"schema": 1, "trade_date": "20261127", "title": "invest-alchemy 20261127: 1 可买, 0 可卖",
//!  "link": "https://alchemy.example.com/reports/20261127", "sample_data": false,
//!  "counts": {"buy": 1, "sell": 0, "hold": 30, "empty": 15, "undecided": 0},
//!  "signals": [{"signal": "buy", "code": "510300.SH", "name": "300ETF", "line": "300ETF(510300.SH)可买, ..."}],
//!  "not_advice": "本服务仅为策略信号的记录, 不构成投资建议。"}
//! ```
//!
//! With a secret, the header `X-Alchemy-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by
//! the secret>` lets the receiver check it came from here (compare in constant time). Any 2xx is
//! success; 429 is retried (after `Retry-After` when given), anything else is refused.
//!
//! Uses [`super::digest`] and [`super::http`].

use std::fmt::Write;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{
    config::{Channel, WebhookTarget},
    digest::Digest,
    http::{Answer, ChannelError, Reply, Request, Sender},
};
use crate::report::{Group, NOT_ADVICE};

/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "X-Alchemy-Signature";

/// The body's JSON.
pub fn render(digest: &Digest) -> Value {
    let signals: Vec<Value> = digest
        .signals
        .iter()
        .map(|it| {
            let signal = if it.group == Group::Buy { "buy" } else { "sell" };
            json!({"signal": signal, "code": it.code.as_str(), "name": it.name, "line": it.line})
        })
        .collect();
    let counts = &digest.counts;
    json!({
        "schema": 1,
        "trade_date": digest.trade_date.to_string(),
        "title": digest.title,
        "link": digest.link,
        "sample_data": digest.sample_data,
        "counts": {"buy": counts.buy, "sell": counts.sell, "hold": counts.hold, "empty": counts.empty,
                   "undecided": counts.undecided},
        "signals": signals,
        "not_advice": NOT_ADVICE,
    })
}

/// `sha256=<hex HMAC-SHA256 of body keyed by secret>`.
pub fn signature(body: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    let mut out = String::from("sha256=");
    for byte in mac.finalize().into_bytes() {
        write!(out, "{byte:02x}").expect("writing to a String");
    }
    out
}

pub(super) async fn send(
    sender: &Sender,
    channel: &Channel,
    target: &WebhookTarget,
    digest: &Digest,
) -> Result<usize, ChannelError> {
    let body = render(digest).to_string().into_bytes();
    let headers = match &target.secret {
        Some(secret) => vec![(SIGNATURE_HEADER, signature(&body, secret.expose()))],
        None => Vec::new(),
    };
    let build = || Request { url: target.url.expose().to_owned(), headers: headers.clone(), body: body.clone() };
    sender.post(channel, &build, read).await?;
    Ok(1)
}

fn read(reply: &Reply<'_>) -> Answer {
    match reply.status {
        200..=299 => Answer::Delivered,
        429 => Answer::RateLimited { wait: reply.retry_after, message: reply.describe() },
        _ => Answer::Refused { message: reply.describe() },
    }
}
