//! The fake Telegram Bot API: `POST /bot<token>/sendMessage` with a JSON body.
//!
//! As the Bot API does: a wrong token is 401 `Unauthorized`, an unknown chat 400 `Bad Request:
//! chat not found`; in `parse_mode` HTML only the supported tags may appear, closed in order,
//! and every `&` must start an entity (`&lt;`, `&gt;`, `&amp;`, `&quot;` or numeric), else 400
//! `Bad Request: can't parse entities: ...`; the text after parsing may have 4,096 characters
//! (UTF-16 code units), else `Bad Request: message is too long`. Flood control is HTTP 429 with
//! `{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1",
//! "parameters": {"retry_after": 1}}`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{Incoming, Refusal};

/// The tags the HTML parse mode supports.
const TAGS: [&str; 16] = [
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "span",
    "tg-spoiler",
    "blockquote",
    "tg-emoji",
];

pub(crate) fn check(
    incoming: &Incoming<'_>,
    token: &str,
    chat_id: &str,
    rate_limited: bool,
) -> Result<(String, Value), Refusal> {
    let error = |status: StatusCode, description: &str| Refusal {
        status,
        body: json!({"ok": false, "error_code": status.as_u16(), "description": description}),
        retry_after: None,
    };
    if incoming.path != format!("/bot{token}/sendMessage") {
        return Err(error(StatusCode::UNAUTHORIZED, "Unauthorized"));
    }
    if rate_limited {
        return Err(Refusal {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1",
                         "parameters": {"retry_after": 1}}),
            retry_after: Some(1),
        });
    }
    let Ok(body) = serde_json::from_slice::<Value>(incoming.body) else {
        return Err(error(StatusCode::BAD_REQUEST, "Bad Request: message text is empty"));
    };
    let chat = match &body["chat_id"] {
        Value::String(it) => it.clone(),
        Value::Number(it) => it.to_string(),
        _ => return Err(error(StatusCode::BAD_REQUEST, "Bad Request: chat_id is empty")),
    };
    if chat != chat_id {
        return Err(error(StatusCode::BAD_REQUEST, "Bad Request: chat not found"));
    }
    let text = body["text"].as_str().unwrap_or_default();
    let parsed = match body["parse_mode"].as_str() {
        Some("HTML") => parse_html(text).map_err(|reason| {
            error(StatusCode::BAD_REQUEST, &format!("Bad Request: can't parse entities: {reason}"))
        })?,
        Some(other) => {
            return Err(error(StatusCode::BAD_REQUEST, &format!("Bad Request: unsupported parse_mode {other}")));
        }
        None => text.to_owned(),
    };
    if parsed.trim().is_empty() {
        return Err(error(StatusCode::BAD_REQUEST, "Bad Request: message text is empty"));
    }
    if parsed.encode_utf16().count() > 4096 {
        return Err(error(StatusCode::BAD_REQUEST, "Bad Request: message is too long"));
    }
    let message = json!({"message_id": 1, "chat": {"id": chat}, "text": parsed});
    Ok((parsed, json!({"ok": true, "result": message})))
}

/// The text an HTML message shows, or why Telegram would refuse to parse it.
pub fn parse_html(html: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(idx) = rest.find(['<', '&', '>']) {
        out.push_str(&rest[..idx]);
        let offset = html.len() - rest.len() + idx;
        let tail = &rest[idx..];
        if let Some(after) = tail.strip_prefix('>') {
            // A bare `>` is accepted by Telegram's parser; only `<` and `&` break it.
            out.push('>');
            rest = after;
            continue;
        }
        if tail.starts_with('&') {
            let Some(end) = tail.find(';').filter(|&end| end <= 10) else {
                return Err(format!("Can't find end of the entity starting at byte offset {offset}"));
            };
            let entity = &tail[1..end];
            let decoded = match entity {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                _ => match entity.strip_prefix('#').and_then(|it| it.parse::<u32>().ok()).and_then(char::from_u32) {
                    Some(it) => it,
                    None => return Err(format!("Unsupported HTML entity \"&{entity};\" at byte offset {offset}")),
                },
            };
            out.push(decoded);
            rest = &tail[end + 1..];
            continue;
        }
        let Some(end) = tail.find('>') else {
            return Err(format!("Unclosed start tag at byte offset {offset}"));
        };
        let inside = &tail[1..end];
        if let Some(name) = inside.strip_prefix('/') {
            let name = name.trim();
            if open.pop().as_deref() != Some(name) {
                return Err(format!("Unmatched end tag at byte offset {offset}, expected \"</{name}>\""));
            }
        } else {
            let name = inside.split_whitespace().next().unwrap_or_default().to_ascii_lowercase();
            if !TAGS.contains(&name.as_str()) {
                return Err(format!("Unsupported start tag \"{name}\" at byte offset {offset}"));
            }
            if name == "a" && !inside.contains("href=\"") {
                return Err(format!("Tag \"a\" must have an href at byte offset {offset}"));
            }
            open.push(name);
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    if let Some(name) = open.pop() {
        return Err(format!("Can't find end tag corresponding to start tag \"{name}\""));
    }
    Ok(out)
}
