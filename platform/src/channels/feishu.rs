//! Feishu (飞书) custom bots: `POST {api}/open-apis/bot/v2/hook/HOOK`, a rich-text `post` message.
//!
//! Signed when the bot has a secret (签名校验): `timestamp` in seconds and `sign`, the base64
//! HMAC-SHA256 keyed by `timestamp + "\n" + secret` over an empty message, both in the body; Feishu
//! refuses a timestamp more than an hour away (code 19021). A bot secured by keyword takes only
//! messages containing it (19024). The request body may hold 20 KB. Success is `code` 0 (older
//! answers say `StatusCode` 0); 11232 is the rate limit (100 a minute, 5 a second), and some
//! answers say 9499 "too many request" with HTTP 400: both are retried with backoff.
//!
//! Uses [`super::digest`], [`super::split`] and [`super::http`].

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{
    config::{Channel, FeishuTarget},
    digest::{Digest, LINK_TEXT},
    http::{Answer, ChannelError, Reply, Request, Sender},
    split::{Page, paginate},
};
use crate::report::Group;

/// The most bytes a request body may have (20 KB, less room for the signature's two fields).
pub const MAX_BODY_BYTES: usize = 20 * 1024 - 128;

/// The rate-limit codes.
pub const RATE_LIMITED: [i64; 2] = [11232, 9499];

/// The request bodies of `digest`, without the signature fields.
pub fn render(digest: &Digest, keyword: Option<&str>) -> Vec<Value> {
    paginate(digest, MAX_BODY_BYTES, |page| post(page, keyword), |body| body.to_string().len())
}

/// The `sign` of `timestamp_s` for `secret`: base64 of HMAC-SHA256(key = `"{timestamp_s}\n{secret}"`,
/// message = empty).
pub fn sign(timestamp_s: i64, secret: &str) -> String {
    let key = format!("{timestamp_s}\n{secret}");
    let mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes a key of any length");
    STANDARD.encode(mac.finalize().into_bytes())
}

pub(super) async fn send(
    sender: &Sender,
    channel: &Channel,
    target: &FeishuTarget,
    digest: &Digest,
) -> Result<usize, ChannelError> {
    let bodies = render(digest, target.keyword.as_deref());
    let url = format!("{}/open-apis/bot/v2/hook/{}", target.api, target.hook.expose());
    for body in &bodies {
        let build = || {
            let mut body = body.clone();
            if let Some(secret) = &target.secret {
                let timestamp = chrono::Utc::now().timestamp();
                body["timestamp"] = json!(timestamp.to_string());
                body["sign"] = json!(sign(timestamp, secret.expose()));
            }
            Request { url: url.clone(), headers: Vec::new(), body: body.to_string().into_bytes() }
        };
        sender.post(channel, &build, read).await?;
    }
    Ok(bodies.len())
}

fn post(page: &Page<'_>, keyword: Option<&str>) -> Value {
    let text = |text: &str| json!([{"tag": "text", "text": text}]);
    let mut rows = Vec::new();
    let mut all_text = page.title();
    let mut group = None;
    for signal in &page.signals {
        if group != Some(signal.group) {
            group = Some(signal.group);
            rows.push(text(if signal.group == Group::Buy { "【可买】" } else { "【可卖】" }));
        }
        rows.push(text(&signal.line));
        all_text.push_str(&signal.line);
    }
    for line in page.digest.footer() {
        rows.push(text(&line));
        all_text.push_str(&line);
    }
    rows.push(json!([{"tag": "a", "text": LINK_TEXT, "href": page.digest.link}]));
    if let Some(keyword) = keyword.filter(|it| !all_text.contains(it)) {
        rows.push(text(keyword));
    }
    json!({"msg_type": "post", "content": {"post": {"zh_cn": {"title": page.title(), "content": rows}}}})
}

fn read(reply: &Reply<'_>) -> Answer {
    let Some(answer) = reply.json() else {
        return Answer::Refused { message: reply.describe() };
    };
    let code = answer["code"].as_i64().or_else(|| answer["StatusCode"].as_i64());
    let Some(code) = code else {
        return Answer::Refused { message: reply.describe() };
    };
    let text = answer["msg"].as_str().or_else(|| answer["StatusMessage"].as_str()).unwrap_or_default();
    let message = format!("code {code}: {text}");
    match code {
        0 => Answer::Delivered,
        _ if RATE_LIMITED.contains(&code) => Answer::RateLimited { wait: None, message },
        _ => Answer::Refused { message },
    }
}
