//! Fake chat services: one in-process HTTP server on 127.0.0.1 per channel, each validating what
//! the real service validates and answering the way it answers.
//!
//! - [`telegram`]: the Bot API's `sendMessage`: the token in the path, the chat, HTML parse mode
//!   (tags, entities, 4,096 characters after parsing), HTTP 429 with `parameters.retry_after`;
//! - [`wecom`]: a WeCom group robot: the key, markdown content of at most 4,096 bytes, errcode 45009;
//! - [`dingtalk`]: a DingTalk custom robot: the access token, the signature and its timestamp
//!   (within an hour), the keyword, the markdown title, 20,000 bytes, errcode 130101;
//! - [`feishu`]: a Feishu custom bot: the hook, the signature and its timestamp (within an hour),
//!   the keyword, the `post` shape, 20 KB, code 11232;
//! - [`webhook`]: a receiver checking `X-Alchemy-Signature` and the body's schema, HTTP 429.
//!
//! A fake records what it accepted (as a reader would see it) and every refusal it answered, and
//! can be told to answer its rate-limit answer to the next N requests. Used by the channels'
//! tests (`platform/tests/channels.rs`) and the job's (`jobs/tests/channels.rs`).

pub mod dingtalk;
pub mod feishu;
pub mod telegram;
pub mod webhook;
pub mod wecom;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde_json::Value;

/// Which service a fake plays, with what the real one would hold (token, secret, keyword).
#[derive(Debug, Clone)]
pub enum Service {
    /// A Telegram bot `token` allowed to post to `chat_id`.
    Telegram { token: String, chat_id: String },
    /// A WeCom robot's `key`.
    WeCom { key: String },
    /// A DingTalk robot: its access token, the signing secret and the keyword it is secured by.
    DingTalk { access_token: String, secret: Option<String>, keyword: Option<String> },
    /// A Feishu bot: its hook id, the signing secret and the keyword it is secured by.
    Feishu { hook: String, secret: Option<String>, keyword: Option<String> },
    /// A webhook receiver knowing the signing secret.
    Webhook { secret: Option<String> },
}

/// One message a fake accepted.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The text as a reader of the chat sees it (tags parsed away, rows joined by line breaks).
    pub text: String,
    /// The request's JSON body.
    pub body: Value,
    /// The request's query parameters.
    pub query: HashMap<String, String>,
}

/// What a fake answers when it refuses or rate limits: an HTTP status and the service's JSON.
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    pub(crate) retry_after: Option<u64>,
}

impl Refusal {
    pub(crate) fn ok_status(body: Value) -> Refusal {
        Refusal { status: StatusCode::OK, body, retry_after: None }
    }
}

/// One request as the kinds check it.
pub(crate) struct Incoming<'a> {
    pub(crate) path: &'a str,
    pub(crate) query: &'a HashMap<String, String>,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

#[derive(Default)]
struct Record {
    rate_limit_next: usize,
    requests: usize,
    delivered: Vec<Delivered>,
    refusals: Vec<String>,
}

struct Shared {
    service: Service,
    record: Mutex<Record>,
}

/// A running fake service; it stops with the runtime that started it.
pub struct FakeChannel {
    /// `http://127.0.0.1:PORT`: the channel's `api` (or, for a webhook, its `url` + `/hook`).
    pub url: String,
    shared: Arc<Shared>,
}

impl FakeChannel {
    /// Starts a fake of `service` on a free port.
    pub async fn start(service: Service) -> FakeChannel {
        let shared = Arc::new(Shared { service, record: Mutex::new(Record::default()) });
        let app = Router::new().fallback(answer).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().expect("a local address"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        FakeChannel { url, shared }
    }

    /// The next `n` requests get the service's rate-limit answer.
    pub fn rate_limit_next(&self, n: usize) {
        self.shared.record.lock().unwrap().rate_limit_next = n;
    }

    /// Every message accepted so far.
    pub fn delivered(&self) -> Vec<Delivered> {
        self.shared.record.lock().unwrap().delivered.clone()
    }

    /// Every refusal answered so far (rate limits included), as the JSON sent.
    pub fn refusals(&self) -> Vec<String> {
        self.shared.record.lock().unwrap().refusals.clone()
    }

    /// How many requests came.
    pub fn requests(&self) -> usize {
        self.shared.record.lock().unwrap().requests
    }
}

async fn answer(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let query: HashMap<String, String> = uri.query().map(url_decode_pairs).unwrap_or_default();
    let incoming = Incoming { path: uri.path(), query: &query, headers: &headers, body: &body };
    let rate_limited = {
        let mut record = shared.record.lock().unwrap();
        record.requests += 1;
        let limited = record.rate_limit_next > 0;
        record.rate_limit_next = record.rate_limit_next.saturating_sub(1);
        limited
    };
    let checked = match &shared.service {
        Service::Telegram { token, chat_id } => telegram::check(&incoming, token, chat_id, rate_limited),
        Service::WeCom { key } => wecom::check(&incoming, key, rate_limited),
        Service::DingTalk { access_token, secret, keyword } => {
            dingtalk::check(&incoming, access_token, secret.as_deref(), keyword.as_deref(), rate_limited)
        }
        Service::Feishu { hook, secret, keyword } => {
            feishu::check(&incoming, hook, secret.as_deref(), keyword.as_deref(), rate_limited)
        }
        Service::Webhook { secret } => webhook::check(&incoming, secret.as_deref(), rate_limited),
    };
    let mut record = shared.record.lock().unwrap();
    match checked {
        Ok((text, success)) => {
            let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
            record.delivered.push(Delivered { text, body, query });
            (StatusCode::OK, axum::Json(success)).into_response()
        }
        Err(refusal) => {
            record.refusals.push(refusal.body.to_string());
            let mut response = (refusal.status, axum::Json(refusal.body)).into_response();
            if let Some(seconds) = refusal.retry_after {
                response.headers_mut().insert("retry-after", seconds.to_string().parse().expect("digits"));
            }
            response
        }
    }
}

/// `a=1&b=%2B` as form-urlencoded pairs (`+` is a space, as every server reads a query).
fn url_decode_pairs(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|it| !it.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while idx < bytes.len() {
        let hex = bytes.get(idx + 1..idx + 3).and_then(|it| std::str::from_utf8(it).ok());
        match (bytes[idx], hex.and_then(|it| u8::from_str_radix(it, 16).ok())) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(byte)) => {
                out.push(byte);
                idx += 2;
            }
            (byte, _) => out.push(byte),
        }
        idx += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The base64 HMAC-SHA256 of `message` keyed by `key`, as the services compute it.
pub(crate) fn hmac_base64(key: &[u8], message: &[u8]) -> String {
    use base64::Engine;
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    mac.update(message);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}
