//! Headers every response of both functions carries: the content security policy and friends.

use axum::{
    http::{HeaderValue, header},
    response::Response,
};

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
