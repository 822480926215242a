//! WeCom (企业微信) group robots: `POST {api}/cgi-bin/webhook/send?key=KEY`, a `markdown` message.
//!
//! The markdown content may hold 4,096 bytes of UTF-8 (errcode 40058 past it), about 1,300
//! Chinese characters, far less than a day of 46 funds. Success is `errcode` 0; 45009 is the rate
//! limit (20 messages a minute per robot), retried with backoff; 93000 is a wrong key.
//!
//! Uses [`super::digest`], [`super::split`] and [`super::http`].

use serde_json::json;

use super::{
    config::{Channel, WeComTarget},
    digest::{Digest, LINK_TEXT},
    http::{Answer, ChannelError, Reply, Request, Sender},
    split::{Page, paginate},
};
use crate::report::Group;

/// The most bytes of markdown content a message may have.
pub const MAX_CONTENT_BYTES: usize = 4096;

/// The rate-limit errcode.
pub const RATE_LIMITED: i64 = 45009;

/// The messages of `digest`, each the `markdown.content` of one message.
pub fn render(digest: &Digest) -> Vec<String> {
    paginate(digest, MAX_CONTENT_BYTES, markdown, String::len)
}

pub(super) async fn send(
    sender: &Sender,
    channel: &Channel,
    target: &WeComTarget,
    digest: &Digest,
) -> Result<usize, ChannelError> {
    let messages = render(digest);
    let mut url = reqwest::Url::parse(&format!("{}/cgi-bin/webhook/send", target.api))
        .map_err(|_| ChannelError::Refused { kind: "wecom", message: "api is not a valid address".to_owned() })?;
    url.query_pairs_mut().append_pair("key", target.key.expose());
    for content in &messages {
        let body = json!({"msgtype": "markdown", "markdown": {"content": content}}).to_string().into_bytes();
        let build = || Request { url: url.to_string(), headers: Vec::new(), body: body.clone() };
        sender.post(channel, &build, read).await?;
    }
    Ok(messages.len())
}

fn markdown(page: &Page<'_>) -> String {
    let mut out = format!("**{}**\n", page.title());
    let mut group = None;
    for signal in &page.signals {
        if group != Some(signal.group) {
            group = Some(signal.group);
            let heading = match signal.group {
                Group::Buy => "<font color=\"info\">可买</font>",
                _ => "<font color=\"warning\">可卖</font>",
            };
            out.push_str(heading);
            out.push('\n');
        }
        out.push_str(&signal.line.replace('\n', " "));
        out.push('\n');
    }
    for line in page.digest.footer() {
        out.push_str(&format!("<font color=\"comment\">{line}</font>\n"));
    }
    out.push_str(&format!("[{LINK_TEXT}]({})", page.digest.link));
    out
}

fn read(reply: &Reply<'_>) -> Answer {
    reply.errcode(RATE_LIMITED)
}
