//! How a request fails. `?` on any error means 500; a 4xx is always written out by the handler.
//!
//! The API answers errors as JSON `{"error": ...}` ([`AppError`]); the site answers the same enum as
//! an HTML page ([`PageError`]).

use askama::Template;
use axum::{
    Json,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use serde_json::json;

#[derive(Debug)]
pub(crate) enum AppError {
    /// The request was wrong; the message tells the user what to fix.
    Client(StatusCode, String),
    NotFound,
    Internal(anyhow::Error),
}

impl AppError {
    pub(crate) fn bad_request(message: impl std::fmt::Display) -> AppError {
        AppError::Client(StatusCode::BAD_REQUEST, message.to_string())
    }

    /// The status and the message the client sees; a 500 logs the whole chain and shows nothing of it.
    fn status_and_message(self) -> (StatusCode, String) {
        match self {
            AppError::Client(status, message) => (status, message),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not found".to_owned()),
            AppError::Internal(err) => {
                tracing::error!("request failed: {err:#}");
                (StatusCode::INTERNAL_SERVER_ERROR, "something went wrong".to_owned())
            }
        }
    }
}

// `AppError` deliberately does not implement `std::error::Error`; that keeps this blanket impl legal.
impl<E: Into<anyhow::Error>> From<E> for AppError {
    fn from(err: E) -> AppError {
        AppError::Internal(err.into())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, message) = self.status_and_message();
        (status, [(header::CACHE_CONTROL, "no-store")], Json(json!({ "error": message }))).into_response()
    }
}

/// An [`AppError`] answered as an HTML page, for the site and the no-JavaScript form.
#[derive(Debug)]
pub(crate) struct PageError(pub(crate) AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(err: E) -> PageError {
        PageError(err.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: &'static str,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message) = self.0.status_and_message();
        let title = match status {
            StatusCode::NOT_FOUND => "页面不存在",
            it if it.is_client_error() => "请求有误",
            _ => "服务暂时出错",
        };
        let message = match status {
            StatusCode::NOT_FOUND => "没有这个页面。请从首页的历史列表进入某一天的报告。".to_owned(),
            StatusCode::INTERNAL_SERVER_ERROR => "请稍后再试。".to_owned(),
            _ => message,
        };
        let page = ErrorPage { status: status.as_u16(), title, message };
        match page.render() {
            Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
            Err(err) => {
                tracing::error!("rendering the error page failed: {err}");
                (StatusCode::INTERNAL_SERVER_ERROR, "something went wrong").into_response()
            }
        }
    }
}
