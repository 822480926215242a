//! DingTalk (钉钉) custom robots: `POST {api}/robot/send?access_token=T`, a `markdown` message
//! (its `title` is required: it is what the notification shows).
//!
//! Signed when the robot has a secret (加签): `timestamp` in milliseconds and `sign`, the base64
//! HMAC-SHA256 of `timestamp + "\n" + secret` keyed by the secret, URL-encoded, both in the query;
//! DingTalk refuses a timestamp more than an hour away. A robot secured by keyword takes only
//! messages containing it. The body may hold 20,000 bytes (errcode 460101 past it). Success is
//! `errcode` 0; 130101 is the rate limit (20 messages a minute, then 10 minutes' pause), retried with
//! backoff; 310000 is a bad signature, a stale timestamp or a missing keyword.
//!
//! Uses [`super::digest`], [`super::split`] and [`super::http`].

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::{
    config::{Channel, DingTalkTarget},
    digest::{Digest, LINK_TEXT},
    http::{Answer, ChannelError, Reply, Request, Sender},
    split::{Page, paginate},
};
use crate::report::Group;

/// The most bytes a request body may have.
pub const MAX_BODY_BYTES: usize = 20_000;

/// The rate-limit errcode.
pub const RATE_LIMITED: i64 = 130_101;

/// The request bodies of `digest` (without the signature, which is in the query).
pub fn render(digest: &Digest, keyword: Option<&str>) -> Vec<String> {
    let body = |page: &Page<'_>| {
        let (title, text) = markdown(page, keyword);
        json!({"msgtype": "markdown", "markdown": {"title": title, "text": text}}).to_string()
    };
    paginate(digest, MAX_BODY_BYTES, body, String::len)
}

/// The `sign` of `timestamp_ms` for `secret`, before URL encoding: base64 of
/// HMAC-SHA256(key = secret, message = `"{timestamp_ms}\n{secret}"`).
pub fn sign(timestamp_ms: i64, secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

pub(super) async fn send(
    sender: &Sender,
    channel: &Channel,
    target: &DingTalkTarget,
    digest: &Digest,
) -> Result<usize, ChannelError> {
    let bodies = render(digest, target.keyword.as_deref());
    let base = reqwest::Url::parse(&format!("{}/robot/send", target.api))
        .map_err(|_| ChannelError::Refused { kind: "dingtalk", message: "api is not a valid address".to_owned() })?;
    for body in &bodies {
        let build = || {
            let mut url = base.clone();
            url.query_pairs_mut().append_pair("access_token", target.access_token.expose());
            if let Some(secret) = &target.secret {
                let timestamp = chrono::Utc::now().timestamp_millis();
                url.query_pairs_mut()
                    .append_pair("timestamp", &timestamp.to_string())
                    .append_pair("sign", &sign(timestamp, secret.expose()));
            }
            Request { url: url.to_string(), headers: Vec::new(), body: body.clone().into_bytes() }
        };
        sender.post(channel, &build, read).await?;
    }
    Ok(bodies.len())
}

/// The title and the markdown text of a page; the keyword is added when the text lacks it.
fn markdown(page: &Page<'_>, keyword: Option<&str>) -> (String, String) {
    let title = page.title();
    let mut out = format!("#### {title}\n\n");
    let mut group = None;
    for signal in &page.signals {
        if group != Some(signal.group) {
            if group.is_some() {
                out.push('\n');
            }
            group = Some(signal.group);
            out.push_str(if signal.group == Group::Buy { "**可买**\n\n" } else { "**可卖**\n\n" });
        }
        out.push_str(&format!("- {}\n", signal.line.replace('\n', " ")));
    }
    for line in page.digest.footer() {
        out.push_str(&format!("\n{line}\n"));
    }
    out.push_str(&format!("\n[{LINK_TEXT}]({})\n", page.digest.link));
    if let Some(keyword) = keyword.filter(|it| !out.contains(it)) {
        out.push_str(&format!("\n{keyword}\n"));
    }
    (title, out)
}

fn read(reply: &Reply<'_>) -> Answer {
    reply.errcode(RATE_LIMITED)
}
