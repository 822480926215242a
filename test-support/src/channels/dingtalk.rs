//! The fake DingTalk (钉钉) custom robot: `POST /robot/send?access_token=T[&timestamp=MS&sign=S]`.
//!
//! As DingTalk does, HTTP 200 with `{"errcode", "errmsg"}`: an unknown token is 300001; with a
//! secret, a timestamp more than an hour from now or a `sign` other than the URL-decoded base64
//! HMAC-SHA256 of `timestamp\nsecret` keyed by the secret is 310000 `sign not match`; a robot
//! secured by keyword refuses a message without it (310000 `keywords not in content`); markdown
//! needs its title and text (40035); a body over 20,000 bytes is 460101; the rate limit (20 a
//! minute) is 130101 `send too fast`.

use serde_json::{Value, json};

use super::{Incoming, Refusal, hmac_base64};

pub(crate) fn check(
    incoming: &Incoming<'_>,
    access_token: &str,
    secret: Option<&str>,
    keyword: Option<&str>,
    rate_limited: bool,
) -> Result<(String, Value), Refusal> {
    let error = |code: i64, message: &str| Refusal::ok_status(json!({"errcode": code, "errmsg": message}));
    if incoming.path != "/robot/send" || incoming.query.get("access_token").map(String::as_str) != Some(access_token) {
        return Err(error(300001, "token is not exist"));
    }
    if let Some(secret) = secret {
        let timestamp = incoming.query.get("timestamp").and_then(|it| it.parse::<i64>().ok());
        let Some(timestamp) = timestamp else {
            return Err(error(310000, "sign not match, more: [timestamp missing]"));
        };
        if (chrono::Utc::now().timestamp_millis() - timestamp).abs() > 3_600_000 {
            return Err(error(310000, "invalid timestamp, more: [more than one hour away]"));
        }
        let expected = hmac_base64(secret.as_bytes(), format!("{timestamp}\n{secret}").as_bytes());
        if incoming.query.get("sign") != Some(&expected) {
            return Err(error(310000, "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"));
        }
    }
    if rate_limited {
        return Err(error(130101, "send too fast, exceed 20 times per minute"));
    }
    if incoming.body.len() > 20_000 {
        return Err(error(460101, "message too long, exceed 20000 bytes"));
    }
    let body: Value = serde_json::from_slice(incoming.body).unwrap_or(Value::Null);
    if body["msgtype"] != "markdown" {
        return Err(error(40035, "缺少参数 msgtype"));
    }
    let title = body["markdown"]["title"].as_str().unwrap_or_default();
    let text = body["markdown"]["text"].as_str().unwrap_or_default();
    if title.trim().is_empty() || text.trim().is_empty() {
        return Err(error(40035, "缺少参数 markdown.title 或 markdown.text"));
    }
    if keyword.is_some_and(|it| !title.contains(it) && !text.contains(it)) {
        return Err(error(
            310000,
            "keywords not in content, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]",
        ));
    }
    Ok((text.to_owned(), json!({"errcode": 0, "errmsg": "ok"})))
}
