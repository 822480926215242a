//! The fake WeCom (企业微信) group robot: `POST /cgi-bin/webhook/send?key=KEY`.
//!
//! As WeCom does, always HTTP 200 with `{"errcode", "errmsg"}`: a wrong key is 93000 `invalid
//! webhook url`, markdown content over 4,096 bytes 40058, an unknown message type 40008, and the
//! rate limit (20 messages a minute) 45009 `api freq out of limit`.

use serde_json::{Value, json};

use super::{Incoming, Refusal};

pub(crate) fn check(incoming: &Incoming<'_>, key: &str, rate_limited: bool) -> Result<(String, Value), Refusal> {
    let error = |code: i64, message: &str| Refusal::ok_status(json!({"errcode": code, "errmsg": message}));
    if incoming.path != "/cgi-bin/webhook/send" || incoming.query.get("key").map(String::as_str) != Some(key) {
        return Err(error(93000, "invalid webhook url, hint: [fake]"));
    }
    if rate_limited {
        return Err(error(45009, "api freq out of limit, hint: [fake]"));
    }
    let body: Value = serde_json::from_slice(incoming.body).unwrap_or(Value::Null);
    if body["msgtype"] != "markdown" {
        return Err(error(40008, "invalid message type, hint: [fake]"));
    }
    let Some(content) = body["markdown"]["content"].as_str().filter(|it| !it.is_empty()) else {
        return Err(error(44004, "empty content, hint: [fake]"));
    };
    if content.len() > 4096 {
        return Err(error(40058, "markdown.content exceed max length 4096. invalid Request Parameter, hint: [fake]"));
    }
    Ok((content.to_owned(), json!({"errcode": 0, "errmsg": "ok"})))
}
