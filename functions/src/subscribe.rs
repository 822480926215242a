//! `POST /api/subscribe`: adds an address to the subscribers; a confirmation mail goes out.
//!
//! JSON in, JSON out for scripts and the page's JavaScript; the HTML form (no JavaScript) posts
//! `application/x-www-form-urlencoded` to the same path and gets an HTML page with the same status.
//! Every extractor rejection is mapped to a 4xx that says what to fix: bad input is never a 500
//! and never a subscription.

use std::path::Path;

use askama::Template;
use axum::{
    Json, Router,
    extract::{
        DefaultBodyLimit, FromRequest, Request, State,
        rejection::{FormRejection, JsonRejection},
    },
    http::{StatusCode, header},
    middleware::map_response,
    response::{Html, IntoResponse, Response},
    routing::post,
};
use platform::{
    email::Email,
    notify::{Message, Outbox},
    subscribers::{Added, Subscribers},
};
use serde::Deserialize;
use serde_json::json;

use crate::{
    error::{AppError, PageError},
    headers::security_headers,
};

/// The largest request body accepted: an address fits many times over.
pub const MAX_BODY_BYTES: usize = 1024;

/// What the subscribe function works with.
#[derive(Debug, Clone)]
pub struct SubscribeState {
    /// Where subscriptions go: the SNS topic in the cloud, a JSON file locally.
    pub subscribers: Subscribers,
    /// Locally, where no SNS sends the confirmation mail, the outbox gets it; `None` in the cloud.
    pub confirmations: Option<Outbox>,
}

impl SubscribeState {
    /// The local state: `<data>/subscribers.json` and `<data>/outbox/`, from [`platform::env::DATA_DIR`].
    ///
    /// In the cloud (`ALCHEMY_TOPIC_ARN` set) addresses are subscribed to that SNS topic, which
    /// sends its own confirmation mail; otherwise to the local file, with the mail in the outbox.
    pub async fn from_env() -> anyhow::Result<SubscribeState> {
        if let Some(topic_arn) = crate::non_empty_env(platform::env::TOPIC_ARN) {
            let sns = crate::aws_config().await?.sns();
            return Ok(SubscribeState { subscribers: Subscribers::sns(sns, &topic_arn), confirmations: None });
        }
        let data_dir = crate::data_dir_from_env()?;
        Ok(SubscribeState::local(&data_dir))
    }

    /// The local state on the data folder `data_dir`.
    pub fn local(data_dir: &Path) -> SubscribeState {
        SubscribeState {
            subscribers: Subscribers::local(&data_dir.join("subscribers.json")),
            confirmations: Some(Outbox::new(&data_dir.join("outbox"))),
        }
    }
}

/// The subscribe API's router: `POST /api/subscribe`.
pub fn router(state: SubscribeState) -> Router {
    routes(state).fallback(not_found).layer(map_response(security_headers))
}

/// The routes alone, for [`crate::site`] to merge with the site's.
pub(crate) fn routes(state: SubscribeState) -> Router {
    let subscribe = post(subscribe).fallback(method_not_allowed).layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    Router::new().route("/api/subscribe", subscribe).with_state(state)
}

#[derive(Deserialize)]
struct SubscribeRequest {
    email: String,
}

#[derive(Template)]
#[template(path = "subscribed.html")]
struct SubscribedPage {
    message: String,
}

/// Chooses JSON or HTML by the request's content type; anything but a form is answered as JSON.
async fn subscribe(State(state): State<SubscribeState>, request: Request) -> Response {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|it| it.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime == "application/x-www-form-urlencoded" {
        return match subscribe_form(&state, request).await {
            Ok(message) => {
                let page = SubscribedPage { message };
                match page.render() {
                    Ok(html) => {
                        (StatusCode::ACCEPTED, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
                    }
                    Err(err) => PageError::from(err).into_response(),
                }
            }
            Err(err) => PageError(err).into_response(),
        };
    }
    match subscribe_json(&state, request).await {
        Ok(message) => {
            (StatusCode::ACCEPTED, [(header::CACHE_CONTROL, "no-store")], Json(json!({ "message": message })))
                .into_response()
        }
        Err(err) => err.into_response(),
    }
}

async fn subscribe_json(state: &SubscribeState, request: Request) -> Result<String, AppError> {
    // An object, read as a map: serde would also accept a struct written as an array, `["a@b.cn"]`.
    let Json(body) = match Json::<serde_json::Map<String, serde_json::Value>>::from_request(request, &()).await {
        Ok(it) => it,
        Err(rejection) => return Err(json_rejection(rejection)),
    };
    let Some(serde_json::Value::String(email)) = body.get("email") else {
        let message = format!("the body must be a JSON object with a string field \"email\", like {JSON_EXAMPLE}");
        return Err(AppError::Client(StatusCode::UNPROCESSABLE_ENTITY, message));
    };
    add(state, email).await
}

async fn subscribe_form(state: &SubscribeState, request: Request) -> Result<String, AppError> {
    let axum::Form(body) = match axum::Form::<SubscribeRequest>::from_request(request, &()).await {
        Ok(it) => it,
        Err(rejection) => return Err(form_rejection(rejection)),
    };
    add(state, &body.email).await
}

async fn method_not_allowed() -> Response {
    let error = AppError::Client(StatusCode::METHOD_NOT_ALLOWED, format!("use POST with {JSON_EXAMPLE}"));
    ([(header::ALLOW, "POST")], error).into_response()
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// Subscribes the address; an address already subscribed gets the same answer and no second entry.
async fn add(state: &SubscribeState, text: &str) -> Result<String, AppError> {
    let email = match Email::parse(text) {
        Ok(it) => it,
        Err(err) => {
            return Err(AppError::bad_request(format!("{err}; enter an address like you@example.com")));
        }
    };
    let added = state.subscribers.add(&email).await?;
    if added == Added::New
        && let Some(outbox) = &state.confirmations
    {
        outbox.send_to(&email, &confirmation()).await?;
    }
    Ok(format!("确认邮件已发往 {email}, 请按邮件中的说明确认订阅。"))
}

/// The local stand-in for SNS's confirmation mail.
fn confirmation() -> Message {
    let body = "您好,\n\n您订阅了 invest-alchemy 的双均线(11日/22日) A股ETF交易信号, 每个交易日收盘后一封邮件。\n\
        本地运行时这封邮件代替 SNS 的订阅确认邮件, 无需操作。\n\n本服务不构成投资建议。\n";
    Message::new("Confirm your invest-alchemy subscription", body).expect("the subject is one short ASCII line")
}

const JSON_EXAMPLE: &str = r#"{"email": "you@example.com"}"#;

fn json_rejection(rejection: JsonRejection) -> AppError {
    let status = rejection.status();
    let message = match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            format!("send the address as JSON with Content-Type: application/json, like {JSON_EXAMPLE}")
        }
        JsonRejection::JsonSyntaxError(_) => format!("the body is not valid JSON: send {JSON_EXAMPLE}"),
        JsonRejection::JsonDataError(_) => {
            format!("the body must be a JSON object with a string field \"email\", like {JSON_EXAMPLE}")
        }
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => {
            format!("the body is larger than {MAX_BODY_BYTES} bytes: send only {JSON_EXAMPLE}")
        }
        other => format!("the request body could not be read ({}): send {JSON_EXAMPLE}", other.body_text()),
    };
    AppError::Client(client_status(status), message)
}

fn form_rejection(rejection: FormRejection) -> AppError {
    let status = rejection.status();
    let message = match rejection {
        FormRejection::FailedToDeserializeForm(_) | FormRejection::FailedToDeserializeFormBody(_) => {
            "请填写邮箱地址 (the form needs a field \"email\")".to_owned()
        }
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => format!("提交的内容过长 (more than {MAX_BODY_BYTES} bytes)"),
        other => format!("无法读取提交的表单 ({})", other.body_text()),
    };
    AppError::Client(client_status(status), message)
}

/// Rejections are client errors by construction; should one ever carry another status, it is still
/// answered as a 400 rather than a 5xx, since the request, not the server, was at fault.
fn client_status(status: StatusCode) -> StatusCode {
    if status.is_client_error() { status } else { StatusCode::BAD_REQUEST }
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::Request};
    use platform::email::Email;

    use super::*;
    use crate::test_support::{Answer, send};

    struct Fixture {
        dir: tempfile::TempDir,
        state: SubscribeState,
    }

    impl Fixture {
        fn new() -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let state = SubscribeState::local(dir.path());
            Fixture { dir, state }
        }

        async fn post(&self, content_type: Option<&str>, body: &str) -> Answer {
            let mut request = Request::post("/api/subscribe");
            if let Some(content_type) = content_type {
                request = request.header(header::CONTENT_TYPE, content_type);
            }
            send(router(self.state.clone()), request.body(Body::from(body.to_owned())).unwrap()).await
        }

        async fn subscribed(&self) -> Vec<Email> {
            self.state.subscribers.list().await.unwrap()
        }

        fn mails(&self) -> Vec<String> {
            let Ok(entries) = std::fs::read_dir(self.dir.path().join("outbox")) else { return Vec::new() };
            entries.map(|it| std::fs::read_to_string(it.unwrap().path()).unwrap()).collect()
        }
    }

    const JSON: Option<&str> = Some("application/json");
    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    #[tokio::test]
    async fn subscribe_records_a_valid_address_and_mails_a_confirmation() {
        let fixture = Fixture::new();
        let answer = fixture.post(JSON, r#"{"email":"Investor@Example.com"}"#).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED);
        assert_eq!(answer.header("content-type"), "application/json");
        assert_eq!(answer.header("x-content-type-options"), "nosniff");
        let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        assert!(body["message"].as_str().unwrap().contains("investor@example.com"), "{body}");
        assert_eq!(fixture.subscribed().await, vec![Email::parse("investor@example.com").unwrap()]);
        let mails = fixture.mails();
        assert_eq!(mails.len(), 1);
        assert!(mails[0].contains("To: <investor@example.com>"), "{}", mails[0]);
    }

    #[tokio::test]
    async fn subscribing_twice_gets_the_same_answer_and_no_duplicate() {
        let fixture = Fixture::new();
        let first = fixture.post(JSON, r#"{"email":"a@example.com"}"#).await;
        let second = fixture.post(JSON, r#"{"email":"A@example.com"}"#).await;
        assert_eq!((first.status, second.status), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
        assert_eq!(first.body, second.body);
        assert_eq!(fixture.subscribed().await.len(), 1);
        assert_eq!(fixture.mails().len(), 1, "one confirmation mail");
    }

    #[tokio::test]
    async fn bad_input_is_a_4xx_json_error_that_says_what_to_fix_and_subscribes_no_one() {
        let too_long = format!(r#"{{"email":"a@example.com","padding":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        let cases: &[(Option<&str>, &str, u16, &str)] = &[
            (JSON, r#"{"email":"not-an-address"}"#, 400, "you@example.com"),
            (JSON, r#"{"email":""}"#, 400, "is empty"),
            (JSON, r#"{"email":"a@example.com\nBcc: b@example.com"}"#, 400, "not a valid email address"),
            (JSON, r#"{}"#, 422, "\\\"email\\\""),
            (JSON, r#"{"mail":"a@example.com"}"#, 422, "\\\"email\\\""),
            (JSON, r#"{"email":42}"#, 422, "string field"),
            (JSON, r#"["a@example.com"]"#, 422, "JSON object"),
            (JSON, r#"{"email":"a@example.com""#, 400, "not valid JSON"),
            (JSON, "", 400, "not valid JSON"),
            (JSON, &too_long, 413, "larger than 1024 bytes"),
            (Some("text/plain"), r#"{"email":"a@example.com"}"#, 415, "Content-Type: application/json"),
            (None, r#"{"email":"a@example.com"}"#, 415, "Content-Type: application/json"),
            (Some("multipart/form-data; boundary=x"), "--x--", 415, "Content-Type: application/json"),
        ];
        for (content_type, body, status, hint) in cases {
            let fixture = Fixture::new();
            let answer = fixture.post(*content_type, body).await;
            let case = format!("{content_type:?} {body:.60}");
            assert_eq!(answer.status.as_u16(), *status, "{case}: {}", answer.body);
            assert_eq!(answer.header("content-type"), "application/json", "{case}");
            let error: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
            let message = error["error"].as_str().unwrap_or_else(|| panic!("{case}: {error}"));
            assert!(answer.body.contains(hint), "{case}: {message}");
            assert!(fixture.subscribed().await.is_empty(), "{case}");
            assert!(fixture.mails().is_empty(), "{case}");
        }
    }

    #[tokio::test]
    async fn other_methods_and_paths_are_json_errors() {
        let fixture = Fixture::new();
        let answer =
            send(router(fixture.state.clone()), Request::get("/api/subscribe").body(Body::empty()).unwrap()).await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(answer.header("allow"), "POST");
        assert!(answer.body.contains("\"error\""), "{}", answer.body);
        let answer = send(router(fixture.state.clone()), Request::get("/api/other").body(Body::empty()).unwrap()).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_eq!(answer.header("content-type"), "application/json");
    }

    #[tokio::test]
    async fn the_html_form_gets_a_page_with_the_same_status() {
        let fixture = Fixture::new();
        let answer = fixture.post(FORM, "email=b%40example.com").await;
        assert_eq!(answer.status, StatusCode::ACCEPTED);
        assert_eq!(answer.header("content-type"), "text/html; charset=utf-8");
        assert!(answer.body.contains(r#"id="subscribe-confirmation">确认邮件已发往 b@example.com"#), "{}", answer.body);
        assert_eq!(fixture.subscribed().await, vec![Email::parse("b@example.com").unwrap()]);

        let cases = [
            ("email=%3Cscript%3E", 400, "&#60;script&#62;"),
            ("email=", 400, "is empty"),
            ("mail=b%40example.com", 422, "请填写邮箱地址"),
            (&*format!("email={}", "x".repeat(MAX_BODY_BYTES)), 413, "提交的内容过长"),
        ];
        for (body, status, hint) in cases {
            let fixture = Fixture::new();
            let answer = fixture.post(FORM, body).await;
            assert_eq!(answer.status.as_u16(), status, "{body:.40}: {}", answer.body);
            assert_eq!(answer.header("content-type"), "text/html; charset=utf-8", "{body:.40}");
            assert!(answer.body.contains(hint), "{body:.40}: {}", answer.body);
            assert!(!answer.body.contains("<script>"), "{body:.40}");
            assert!(fixture.subscribed().await.is_empty(), "{body:.40}");
        }
    }
}
