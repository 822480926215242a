//! Headers every response of both functions carries (the content security policy and friends), and
//! the site's entity tags: `ETag` on every page and file, `304 Not Modified` for `If-None-Match`.

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

/// No inline script or style, nothing from another origin; the site's one script and stylesheet
/// are files under `/assets/`, and the charts are inline SVG with presentation attributes only.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// `Cache-Control` of what never changes once stored: a day's page, text and JSON.
pub(crate) const CACHE_A_DAY: &str = "public, max-age=86400";
/// `Cache-Control` of what changes each trading day: the home page and the feed.
pub(crate) const CACHE_A_MINUTE: &str = "public, max-age=60";

/// Adds the security headers to a response (a `map_response` middleware of both routers).
pub(crate) async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// Gives each successful `GET`/`HEAD` answer a strong `ETag` (a digest of its body) and answers
/// `304 Not Modified`, with no body, when the request's `If-None-Match` names that tag (a
/// `from_fn` middleware of the site's router). The handlers render in memory, so the body is read
/// whole; a browser or CloudFront that revalidates a cached page then gets a few hundred bytes.
pub(crate) async fn entity_tags(request: Request, next: Next) -> Response {
    let cacheable = matches!(*request.method(), Method::GET | Method::HEAD);
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    if !cacheable || response.status() != StatusCode::OK {
        return response;
    }
    // A kept page carries the tag computed when it was rendered (`memo::Rendered`).
    if let Some(tag) = response.headers().get(header::ETAG) {
        if if_none_match.as_ref().is_some_and(|it| names_tag(it, tag)) {
            return not_modified(response.headers(), tag.clone());
        }
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        tracing::error!("reading a rendered body for its entity tag failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let tag = entity_tag(&bytes);
    if if_none_match.as_ref().is_some_and(|it| names_tag(it, &tag)) {
        return not_modified(&parts.headers, tag);
    }
    parts.headers.insert(header::ETAG, tag);
    Response::from_parts(parts, Body::from(bytes))
}

/// `304 Not Modified` with the tag and the caching headers of the answer it stands for, no body.
fn not_modified(answer: &HeaderMap, tag: HeaderValue) -> Response {
    let mut headers = HeaderMap::new();
    for name in [header::CACHE_CONTROL, header::VARY, header::EXPIRES] {
        if let Some(value) = answer.get(&name) {
            headers.insert(name, value.clone());
        }
    }
    headers.insert(header::ETAG, tag);
    (StatusCode::NOT_MODIFIED, headers).into_response()
}

/// `"<first 16 bytes of the body's SHA-256, in hex>"`: the same body always gets the same tag, on
/// every instance of the function.
pub(crate) fn entity_tag(body: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|byte| format!("{byte:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex in quotes is a header value")
}

/// Whether an `If-None-Match` value (`*`, or tags separated by commas, weak ones as `W/"..."`) names
/// `tag`; `If-None-Match` compares weakly (RFC 9110, 13.1.2).
fn names_tag(if_none_match: &HeaderValue, tag: &HeaderValue) -> bool {
    let (Ok(listed), Ok(tag)) = (if_none_match.to_str(), tag.to_str()) else { return false };
    listed.split(',').map(str::trim).any(|it| it == "*" || it.strip_prefix("W/").unwrap_or(it) == tag)
}

#[cfg(test)]
mod tests {
    use axum::{Router, http::Request, routing::get};

    use super::*;
    use crate::test_support::send;

    fn app() -> Router {
        Router::new()
            .route("/page", get(|| async { ([(header::CACHE_CONTROL, CACHE_A_DAY)], "<p>a page</p>") }))
            .route("/missing", get(|| async { (StatusCode::NOT_FOUND, "not here") }))
            .layer(axum::middleware::from_fn(entity_tags))
    }

    async fn request(uri: &str, if_none_match: Option<&str>) -> crate::test_support::Answer {
        let mut request = Request::get(uri);
        if let Some(value) = if_none_match {
            request = request.header(header::IF_NONE_MATCH, value);
        }
        send(app(), request.body(Body::empty()).unwrap()).await
    }

    #[tokio::test]
    async fn a_page_gets_the_digest_of_its_body_as_etag_and_a_matching_request_gets_304_without_a_body() {
        let first = request("/page", None).await;
        assert_eq!((first.status, first.body.as_str()), (StatusCode::OK, "<p>a page</p>"));
        let tag = first.header("etag").to_owned();
        let digest: String = Sha256::digest(b"<p>a page</p>")[..16].iter().map(|it| format!("{it:02x}")).collect();
        assert_eq!(tag, format!("\"{digest}\""));

        for if_none_match in [tag.clone(), format!("W/{tag}"), format!("\"other\", {tag}"), "*".to_owned()] {
            let again = request("/page", Some(&if_none_match)).await;
            assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{if_none_match}");
            assert_eq!(again.body, "", "{if_none_match}");
            assert_eq!((again.header("etag"), again.header("cache-control")), (tag.as_str(), CACHE_A_DAY));
            assert_eq!(again.header("content-type"), "");
        }
        let changed = request("/page", Some("\"0123456789abcdef0123456789abcdef\"")).await;
        assert_eq!((changed.status, changed.body.as_str()), (StatusCode::OK, "<p>a page</p>"));
        assert_eq!(changed.header("etag"), tag);
    }

    #[tokio::test]
    async fn an_error_answer_gets_no_etag_and_is_never_304() {
        let missing = request("/missing", Some("*")).await;
        assert_eq!((missing.status, missing.body.as_str()), (StatusCode::NOT_FOUND, "not here"));
        assert_eq!(missing.header("etag"), "");
    }
}
