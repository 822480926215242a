//! Telegram: `POST {api}/bot{token}/sendMessage` with `parse_mode` HTML.
//!
//! Only `&`, `<` and `>` need escaping in HTML mode (and `"` inside an attribute); a message holds
//! at most 4,096 characters (UTF-16 code units) after entity parsing, which the HTML text, longer
//! than what it parses to, is measured against. Success is `"ok": true`; flood control is HTTP 429 with
//! `parameters.retry_after` in seconds (the Bot API's `ResponseParameters`), which is waited out.
//!
//! Uses [`super::digest`], [`super::split`] and [`super::http`].

use std::time::Duration;

use serde_json::json;

use super::{
    config::{Channel, TelegramTarget},
    digest::{Digest, LINK_TEXT},
    http::{Answer, ChannelError, Reply, Request, Sender},
    split::{Page, paginate},
};
use crate::report::Group;

/// The most characters a message may have after entity parsing.
pub const MAX_CHARS: usize = 4096;

/// The messages of `digest`, each the `text` of one `sendMessage`.
pub fn render(digest: &Digest) -> Vec<String> {
    paginate(digest, MAX_CHARS, html, |text| text.encode_utf16().count())
}

pub(super) async fn send(
    sender: &Sender,
    channel: &Channel,
    target: &TelegramTarget,
    digest: &Digest,
) -> Result<usize, ChannelError> {
    let messages = render(digest);
    let url = format!("{}/bot{}/sendMessage", target.api, target.token.expose());
    for text in &messages {
        let mut body = json!({
            "chat_id": target.chat_id,
            "text": text,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": true},
        });
        if let Some(thread) = target.message_thread_id {
            body["message_thread_id"] = json!(thread);
        }
        let body = body.to_string().into_bytes();
        let build = || Request { url: url.clone(), headers: Vec::new(), body: body.clone() };
        sender.post(channel, &build, read).await?;
    }
    Ok(messages.len())
}

fn html(page: &Page<'_>) -> String {
    let mut out = format!("<b>{}</b>\n", escape(&page.title()));
    let mut group = None;
    for signal in &page.signals {
        if group != Some(signal.group) {
            group = Some(signal.group);
            let name = if signal.group == Group::Buy { "可买" } else { "可卖" };
            out.push_str(&format!("\n<b>{name}</b>\n"));
        }
        out.push_str(&escape(&signal.line));
        out.push('\n');
    }
    out.push('\n');
    for line in page.digest.footer() {
        out.push_str(&escape(&line));
        out.push('\n');
    }
    out.push_str(&format!("<a href=\"{}\">{LINK_TEXT}</a>", escape(&page.digest.link).replace('"', "&quot;")));
    out
}

/// `&`, `<` and `>` as the entities Telegram's HTML mode reads.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn read(reply: &Reply<'_>) -> Answer {
    let Some(answer) = reply.json() else {
        return Answer::Refused { message: reply.describe() };
    };
    if answer["ok"] == json!(true) {
        return Answer::Delivered;
    }
    let description = answer["description"].as_str().unwrap_or("no description").to_owned();
    let code = answer["error_code"].as_u64().unwrap_or(u64::from(reply.status));
    let message = format!("{code} {description}");
    if code == 429 || reply.status == 429 {
        let wait = answer["parameters"]["retry_after"].as_u64().map(Duration::from_secs).or(reply.retry_after);
        return Answer::RateLimited { wait, message };
    }
    Answer::Refused { message }
}
