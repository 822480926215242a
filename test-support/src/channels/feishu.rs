//! The fake Feishu (飞书) custom bot: `POST /open-apis/bot/v2/hook/<hook>`.
//!
//! As Feishu does, `{"code", "msg", "data"}`: an unknown hook is 19001; with a secret, a
//! `timestamp` (seconds) more than an hour from now or a `sign` other than the base64 HMAC-SHA256
//! keyed by `timestamp\nsecret` over an empty message is 19021 `sign match fail or timestamp is
//! not within one hour from current time`; a bot secured by keyword refuses a message without it
//! (19024 `Key Words Not Found`); a `post` needs a locale with rows of `text`/`a`/`at`/`img`
//! elements (9499 `Bad Request` otherwise); a body over 20 KB is refused (the fake answers
//! 9499 `request body too large`, HTTP 400); the rate limit is 11232 `frequency limited`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{Incoming, Refusal, hmac_base64};

pub(crate) fn check(
    incoming: &Incoming<'_>,
    hook: &str,
    secret: Option<&str>,
    keyword: Option<&str>,
    rate_limited: bool,
) -> Result<(String, Value), Refusal> {
    let error = |code: i64, message: &str| Refusal::ok_status(json!({"code": code, "msg": message, "data": {}}));
    if incoming.path != format!("/open-apis/bot/v2/hook/{hook}") {
        return Err(error(19001, "param invalid: incoming webhook access token invalid"));
    }
    if incoming.body.len() > 20 * 1024 {
        return Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            body: json!({"code": 9499, "msg": "request body too large", "data": {}}),
            retry_after: None,
        });
    }
    let body: Value = serde_json::from_slice(incoming.body).unwrap_or(Value::Null);
    if let Some(secret) = secret {
        let timestamp = body["timestamp"].as_str().and_then(|it| it.parse::<i64>().ok());
        let fail = || error(19021, "sign match fail or timestamp is not within one hour from current time");
        let Some(timestamp) = timestamp else { return Err(fail()) };
        if (chrono::Utc::now().timestamp() - timestamp).abs() > 3600 {
            return Err(fail());
        }
        let expected = hmac_base64(format!("{timestamp}\n{secret}").as_bytes(), b"");
        if body["sign"].as_str() != Some(expected.as_str()) {
            return Err(fail());
        }
    }
    if rate_limited {
        return Err(error(11232, "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"));
    }
    let Some(text) = post_text(&body) else {
        return Err(error(9499, "Bad Request"));
    };
    if keyword.is_some_and(|it| !text.contains(it)) {
        return Err(error(19024, "Key Words Not Found"));
    }
    Ok((text, json!({"code": 0, "msg": "success", "data": {}})))
}

/// The title and rows of a `post`, one row a line, or `None` when it is not a valid post.
fn post_text(body: &Value) -> Option<String> {
    if body["msg_type"] != "post" {
        return None;
    }
    let locales = body["content"]["post"].as_object()?;
    let post = locales.values().next()?;
    let mut lines = vec![post["title"].as_str().unwrap_or_default().to_owned()];
    for row in post["content"].as_array()? {
        let mut line = String::new();
        for element in row.as_array()? {
            match element["tag"].as_str()? {
                "text" => line.push_str(element["text"].as_str()?),
                "a" => {
                    element["href"].as_str()?;
                    line.push_str(element["text"].as_str()?);
                }
                "at" | "img" => {}
                _ => return None,
            }
        }
        lines.push(line);
    }
    Some(lines.join("\n"))
}
