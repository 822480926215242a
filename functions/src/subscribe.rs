//! `POST /api/subscribe`: adds an address to the subscribers, with its choice of days; a
//! confirmation mail goes out.
//!
//! JSON in, JSON out for scripts and the page's JavaScript:
//! `{"email": "...", "frequency": "daily" | "signals", "funds": ["510300.SH", ...]}`, where only
//! `email` is required. The HTML form (no JavaScript) posts `application/x-www-form-urlencoded`
//! to the same path (`email`, `frequency`, and `funds` once per ticked fund) and gets an HTML page
//! with the same status. The choice is parsed into an [`Interest`] here, at the edge. Every
//! extractor rejection is mapped to a 4xx that says what to fix: bad input is never a 500 and
//! never a subscription.

use std::path::Path;

use anyhow::Context;
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
    fund::{self, FundCode},
    interest::{Interest, InvalidInterest, MAX_FUNDS},
    notify::{Message, Outbox},
    subscribers::{self, Added, Subscribers},
};
use serde_json::{Value, json};

use crate::{
    error::{AppError, PageError},
    headers::security_headers,
};

/// The largest request body accepted: an address and the most funds fit with room to spare
/// (50 form fields `&funds=510300.SH` are 800 bytes).
pub const MAX_BODY_BYTES: usize = 4096;

/// What the subscribe function works with.
#[derive(Debug, Clone)]
pub struct SubscribeState {
    /// Where subscriptions go: the SNS topic in the cloud, a JSON file locally.
    pub subscribers: Subscribers,
    /// Locally, where no SNS sends the confirmation mail, the outbox gets it; `None` in the cloud.
    pub confirmations: Option<Outbox>,
    /// The codes a subscriber may choose: the fund list the job covers.
    pub fund_list: Vec<FundCode>,
}

impl SubscribeState {
    /// The local state: `<data>/subscribers.json` and `<data>/outbox/`, from [`platform::env::DATA_DIR`].
    ///
    /// In the cloud (`ALCHEMY_TOPIC_ARN` set) addresses are subscribed to that SNS topic, which
    /// sends its own confirmation mail; otherwise to the local file, with the mail in the outbox.
    /// The funds to choose from are the job's: the file `ALCHEMY_FUNDS_FILE` when set, else the
    /// bundled list (the cloud's job uses the bundled list).
    pub async fn from_env() -> anyhow::Result<SubscribeState> {
        let fund_list = fund_list_from_env()?;
        if let Some(topic_arn) = crate::non_empty_env(platform::env::TOPIC_ARN) {
            let sns = crate::aws_config().await?.sns();
            let subscribers = Subscribers::sns(sns, &topic_arn);
            return Ok(SubscribeState { subscribers, confirmations: None, fund_list });
        }
        let data_dir = crate::data_dir_from_env()?;
        Ok(SubscribeState { fund_list, ..SubscribeState::local(&data_dir) })
    }

    /// The local state on the data folder `data_dir`, choosing from the bundled fund list.
    pub fn local(data_dir: &Path) -> SubscribeState {
        SubscribeState {
            subscribers: Subscribers::local(&data_dir.join(subscribers::LOCAL_FILE_NAME)),
            confirmations: Some(Outbox::new(&data_dir.join("outbox"))),
            fund_list: fund::bundled_funds().into_iter().map(|it| it.code).collect(),
        }
    }
}

/// The codes of `ALCHEMY_FUNDS_FILE` when it is set, else of the bundled list.
fn fund_list_from_env() -> anyhow::Result<Vec<FundCode>> {
    let funds = match crate::non_empty_env(platform::env::FUNDS_FILE) {
        None => fund::bundled_funds(),
        Some(path) => {
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read the funds file {path}"))?;
            fund::parse_fund_list(&text).with_context(|| format!("funds file {path}"))?
        }
    };
    Ok(funds.into_iter().map(|it| it.code).collect())
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

/// A request's fields, as sent: checked by [`add`].
struct SubscribeRequest {
    email: String,
    frequency: Option<String>,
    funds: Vec<String>,
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
    let shape_error = |message: String| AppError::Client(StatusCode::UNPROCESSABLE_ENTITY, message);
    let Some(Value::String(email)) = body.get("email") else {
        return Err(shape_error(format!(
            "the body must be a JSON object with a string field \"email\", like {JSON_EXAMPLE}"
        )));
    };
    let frequency = match body.get("frequency") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(other) => {
            return Err(shape_error(format!("frequency must be the string \"daily\" or \"signals\", not {other}")));
        }
    };
    let funds_shape = || shape_error(format!("funds must be a list of fund codes, like {JSON_EXAMPLE}"));
    let funds = match body.get("funds") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut codes = Vec::with_capacity(items.len());
            for item in items {
                let Value::String(code) = item else { return Err(funds_shape()) };
                codes.push(code.clone());
            }
            codes
        }
        Some(_) => return Err(funds_shape()),
    };
    add(state, SubscribeRequest { email: email.clone(), frequency, funds }).await
}

/// Reads the form's fields, `funds` once per ticked box (a list of pairs keeps every repeat).
async fn subscribe_form(state: &SubscribeState, request: Request) -> Result<String, AppError> {
    let axum::Form(pairs) = match axum::Form::<Vec<(String, String)>>::from_request(request, &()).await {
        Ok(it) => it,
        Err(rejection) => return Err(form_rejection(rejection)),
    };
    let mut emails = Vec::new();
    let mut frequencies = Vec::new();
    let mut funds = Vec::new();
    for (name, value) in pairs {
        match name.as_str() {
            "email" => emails.push(value),
            "frequency" => frequencies.push(value),
            "funds" => funds.push(value),
            _ => {}
        }
    }
    let Some(email) = emails.into_iter().next() else {
        return Err(AppError::Client(StatusCode::UNPROCESSABLE_ENTITY, NO_EMAIL_FIELD.to_owned()));
    };
    if frequencies.len() > 1 {
        return Err(AppError::bad_request(format!(
            "frequency is given {} times: choose one of \"daily\", \"signals\" (请只选一种发送频率)",
            frequencies.len()
        )));
    }
    add(state, SubscribeRequest { email, frequency: frequencies.pop(), funds }).await
}

async fn method_not_allowed() -> Response {
    let error = AppError::Client(StatusCode::METHOD_NOT_ALLOWED, format!("use POST with {JSON_EXAMPLE}"));
    ([(header::ALLOW, "POST")], error).into_response()
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// Subscribes the address with its choice; an address already subscribed gets the same answer,
/// no second entry, and keeps the choice it has (the answer does not tell whether it was new).
async fn add(state: &SubscribeState, request: SubscribeRequest) -> Result<String, AppError> {
    let email = match Email::parse(&request.email) {
        Ok(it) => it,
        Err(err) => {
            return Err(AppError::bad_request(format!("{err}; enter an address like you@example.com")));
        }
    };
    let funds: Vec<&str> = request.funds.iter().map(String::as_str).collect();
    let interest = match Interest::parse(request.frequency.as_deref(), &funds, &state.fund_list) {
        Ok(it) => it,
        Err(err @ InvalidInterest::Frequency { .. }) => return Err(AppError::bad_request(err)),
        Err(err) => {
            return Err(AppError::bad_request(format!(
                "{err} (choose up to {MAX_FUNDS} funds of the list on the home page)"
            )));
        }
    };
    let added = state.subscribers.add(&email, &interest).await?;
    if added == Added::New
        && let Some(outbox) = &state.confirmations
    {
        outbox.send_to(&email, &confirmation(&interest)).await?;
    }
    Ok(format!(
        "确认邮件已发往 {email}, 请按邮件中的说明确认订阅。订阅内容: {}。已订阅的地址保持原来的选择; \
         如需更改, 请用邮件中的退订链接退订后重新订阅。",
        choice_words(&interest)
    ))
}

/// The choice in the words of the page and the mail.
fn choice_words(interest: &Interest) -> String {
    match interest {
        Interest::EveryDay => "每个交易日一封邮件".to_owned(),
        Interest::SignalDays => "仅在有买卖信号(可买或可卖)的交易日发邮件".to_owned(),
        Interest::FundSignals(choice) => {
            let codes: Vec<&str> = choice.codes().iter().map(FundCode::as_str).collect();
            format!("仅在 {} 之一有买卖信号的交易日发邮件", codes.join(", "))
        }
    }
}

/// The local stand-in for SNS's confirmation mail.
fn confirmation(interest: &Interest) -> Message {
    let body = format!(
        "您好,\n\n您订阅了 invest-alchemy 的双均线(11日/22日) A股ETF交易信号: {}。\n\
         本地运行时这封邮件代替 SNS 的订阅确认邮件, 无需操作。\n\n本服务不构成投资建议。\n",
        choice_words(interest)
    );
    Message::new("Confirm your invest-alchemy subscription", &body).expect("the subject is one short ASCII line")
}

const JSON_EXAMPLE: &str = r#"{"email": "you@example.com", "frequency": "signals", "funds": ["510300.SH"]}"#;

/// The form's answer when it has no `email` field.
const NO_EMAIL_FIELD: &str = "请填写邮箱地址 (the form needs a field \"email\")";

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
            NO_EMAIL_FIELD.to_owned()
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
    use platform::{
        email::Email,
        notify::FilterPolicy,
        subscribers::{LocalSubscribers, Subscription},
    };

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

        /// Each subscriber with the filter policy stored for it.
        async fn policies(&self) -> Vec<Subscription> {
            LocalSubscribers::new(&self.dir.path().join(subscribers::LOCAL_FILE_NAME)).subscriptions().await.unwrap()
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
            (JSON, &too_long, 413, "larger than 4096 bytes"),
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

    fn policy(json: &str) -> Option<FilterPolicy> {
        Some(FilterPolicy::parse(json).unwrap())
    }

    #[tokio::test]
    async fn each_choice_is_stored_as_its_filter_policy() {
        let cases = [
            (r#"{"email":"a@example.com"}"#, None, "每个交易日一封邮件"),
            (r#"{"email":"a@example.com","frequency":"daily","funds":[]}"#, None, "每个交易日"),
            (
                r#"{"email":"a@example.com","frequency":"signals"}"#,
                policy(r#"{"signal_day":["true"]}"#),
                "仅在有买卖信号",
            ),
            (
                r#"{"email":"a@example.com","frequency":"signals","funds":["510500.SH","159915"]}"#,
                policy(r#"{"signal_funds":["159915.SZ","510500.SH"]}"#),
                "仅在 159915.SZ, 510500.SH 之一有买卖信号",
            ),
            (
                r#"{"email":"a@example.com","funds":["510300.SH"],"frequency":null}"#,
                policy(r#"{"signal_funds":["510300.SH"]}"#),
                "510300.SH",
            ),
        ];
        for (body, want, words) in cases {
            let fixture = Fixture::new();
            let answer = fixture.post(JSON, body).await;
            assert_eq!(answer.status, StatusCode::ACCEPTED, "{body}: {}", answer.body);
            assert!(answer.body.contains(words), "{body}: {}", answer.body);
            let email = Email::parse("a@example.com").unwrap();
            assert_eq!(fixture.policies().await, vec![Subscription { email, filter_policy: want }], "{body}");
            assert!(fixture.mails()[0].contains(words), "the confirmation names the choice: {body}");
        }
    }

    #[tokio::test]
    async fn a_bad_choice_is_a_400_naming_the_field_and_subscribes_no_one() {
        let cases = [
            (r#"{"email":"a@example.com","frequency":"weekly"}"#, "frequency \\\"weekly\\\" is not one of"),
            (
                r#"{"email":"a@example.com","frequency":"signals","funds":["600000.SH"]}"#,
                "funds: 600000.SH is not on the fund list",
            ),
            (r#"{"email":"a@example.com","funds":["510300.SH","abc"]}"#, "funds: \\\"abc\\\" is not a fund code"),
            (r#"{"email":"a@example.com","frequency":"daily","funds":["510300.SH"]}"#, "funds: choosing funds"),
        ];
        for (body, hint) in cases {
            let fixture = Fixture::new();
            let answer = fixture.post(JSON, body).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}: {}", answer.body);
            assert!(answer.body.contains(hint), "{body}: {}", answer.body);
            assert!(fixture.subscribed().await.is_empty(), "{body}");
            assert!(fixture.mails().is_empty(), "{body}");
        }
    }

    #[tokio::test]
    async fn more_than_fifty_funds_are_a_400_naming_the_field() {
        let fixture = Fixture::new();
        let codes: Vec<String> = (0..60).map(|n| format!("{:06}.SZ", 159000 + n)).collect();
        let state = SubscribeState {
            fund_list: codes.iter().map(|it| FundCode::parse(it).unwrap()).collect(),
            ..fixture.state.clone()
        };
        let post = async |funds: &[String]| {
            let body = json!({ "email": "a@example.com", "frequency": "signals", "funds": funds }).to_string();
            let request = Request::post("/api/subscribe").header(header::CONTENT_TYPE, "application/json");
            send(router(state.clone()), request.body(Body::from(body)).unwrap()).await
        };
        let answer = post(&codes[..51]).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
        assert!(answer.body.contains("funds: 51 funds were chosen, at most 50"), "{}", answer.body);
        assert!(fixture.subscribed().await.is_empty());
        let answer = post(&codes[..50]).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "fifty fit in the body and the policy: {}", answer.body);
    }

    #[tokio::test]
    async fn a_choice_of_the_wrong_json_type_is_a_422_naming_the_field() {
        let cases = [
            (r#"{"email":"a@example.com","frequency":7}"#, "frequency must be the string"),
            (r#"{"email":"a@example.com","frequency":["signals"]}"#, "frequency must be the string"),
            (r#"{"email":"a@example.com","funds":"510300.SH"}"#, "funds must be a list of fund codes"),
            (r#"{"email":"a@example.com","funds":[510300]}"#, "funds must be a list of fund codes"),
        ];
        for (body, hint) in cases {
            let fixture = Fixture::new();
            let answer = fixture.post(JSON, body).await;
            assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", answer.body);
            assert!(answer.body.contains(hint), "{body}: {}", answer.body);
            assert!(fixture.subscribed().await.is_empty(), "{body}");
        }
    }

    #[tokio::test]
    async fn the_html_form_takes_a_frequency_and_each_ticked_fund() {
        let fixture = Fixture::new();
        let body = "email=f%40example.com&frequency=signals&funds=510300.SH&funds=159915.SZ";
        let answer = fixture.post(FORM, body).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
        assert!(answer.body.contains("仅在 159915.SZ, 510300.SH 之一有买卖信号"), "{}", answer.body);
        let email = Email::parse("f@example.com").unwrap();
        let want = policy(r#"{"signal_funds":["159915.SZ","510300.SH"]}"#);
        assert_eq!(fixture.policies().await, vec![Subscription { email, filter_policy: want }]);

        let cases = [
            ("email=f%40example.com&frequency=weekly", "frequency &#34;weekly&#34; is not one of"),
            ("email=f%40example.com&frequency=daily&funds=510300.SH", "funds: choosing funds"),
            ("email=f%40example.com&funds=600000.SH", "funds: 600000.SH is not on the fund list"),
            ("email=f%40example.com&frequency=daily&frequency=signals", "frequency is given 2 times"),
        ];
        for (body, hint) in cases {
            let fixture = Fixture::new();
            let answer = fixture.post(FORM, body).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}: {}", answer.body);
            assert_eq!(answer.header("content-type"), "text/html; charset=utf-8", "{body}");
            assert!(answer.body.contains(hint), "{body}: {}", answer.body);
            assert!(fixture.subscribed().await.is_empty(), "{body}");
        }
    }

    #[tokio::test]
    async fn an_address_subscribed_before_keeps_its_choice() {
        let fixture = Fixture::new();
        fixture.post(JSON, r#"{"email":"a@example.com","frequency":"signals"}"#).await;
        let again = fixture.post(JSON, r#"{"email":"a@example.com"}"#).await;
        assert_eq!(again.status, StatusCode::ACCEPTED);
        assert!(again.body.contains("已订阅的地址保持原来的选择"), "{}", again.body);
        let stored = fixture.policies().await;
        assert_eq!(stored[0].filter_policy, policy(r#"{"signal_day":["true"]}"#));
        assert_eq!(fixture.mails().len(), 1);
    }
}
