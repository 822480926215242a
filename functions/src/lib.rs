//! The HTTP functions: the subscribe API and the web site.
//!
//! Each is an axum `Router` built from its state; the binaries only choose where it runs: under the
//! Lambda runtime when Lambda (or `cargo lambda watch`) started them, on 127.0.0.1 otherwise.
//! Both routers share the security headers and the error type; neither knows which place it runs in.

pub mod subscribe;
pub mod web;

mod error;
mod feed;
mod headers;
mod memo;
mod performance;
mod plot;
mod spark;

use std::path::PathBuf;

use anyhow::Context;
use axum::Router;
use tracing_subscriber::{filter::Targets, layer::SubscriberExt, util::SubscriberInitExt};

/// The variable the Lambda runtime sets; its presence is how a binary knows it runs on Lambda.
const LAMBDA_RUNTIME_API: &str = "AWS_LAMBDA_RUNTIME_API";

/// Serves `app` through the Lambda runtime API when there is one, else on `127.0.0.1:port`.
///
/// `lambda_http::run` needs the variables Lambda (or `cargo lambda watch`) sets, so the local branch
/// is a plain axum server running the very same router.
pub async fn serve(app: Router, port: u16) -> anyhow::Result<()> {
    if on_lambda() {
        return lambda_http::run(app).await.map_err(|err| anyhow::format_err!("the Lambda runtime failed: {err}"));
    }
    serve_locally(app, port).await
}

#[cfg(feature = "local-server")]
async fn serve_locally(app: Router, port: u16) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    let address = listener.local_addr().context("reading the bound address")?;
    println!("serving http://{address}/ (Ctrl-C stops)");
    axum::serve(listener, app).await.context("serving HTTP")?;
    Ok(())
}

/// The Lambda build (`--no-default-features`) has no local server.
#[cfg(not(feature = "local-server"))]
async fn serve_locally(_app: Router, _port: u16) -> anyhow::Result<()> {
    anyhow::bail!(
        "{LAMBDA_RUNTIME_API} is not set, and this build runs only under the Lambda runtime: \
         build with the default features (`local-server`) to serve on 127.0.0.1"
    )
}

/// The whole site on one address, as CloudFront presents it: `/api/subscribe` is the subscribe
/// function's, everything else the web function's. This is what the web binary serves locally.
pub fn site(web: web::WebState, subscribe: subscribe::SubscribeState) -> Router {
    web::routes(web)
        .merge(subscribe::routes(subscribe))
        .fallback(web::not_found)
        .layer(axum::middleware::map_response(headers::security_headers))
}

/// Whether the Lambda runtime started this process.
pub fn on_lambda() -> bool {
    std::env::var_os(LAMBDA_RUNTIME_API).is_some()
}

/// The local port from [`platform::env::PORT`] (`ALCHEMY_PORT`), 3000 when unset.
pub fn port_from_env() -> anyhow::Result<u16> {
    match std::env::var(platform::env::PORT) {
        Ok(text) => {
            text.parse().with_context(|| format!("{} must be a port number, not {text:?}", platform::env::PORT))
        }
        Err(_) => Ok(3000),
    }
}

/// An environment variable's value, `None` when unset or empty.
fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|it| !it.trim().is_empty())
}

/// The AWS clients' configuration from the environment Lambda sets; a region is required.
async fn aws_config() -> anyhow::Result<platform::aws::AwsConfig> {
    let aws = platform::aws::AwsConfig::from_env();
    if aws.region().is_none() {
        anyhow::bail!("the cloud adapters need an AWS region: set AWS_REGION (Lambda sets it)");
    }
    Ok(aws)
}

/// The local data folder from [`platform::env::DATA_DIR`]: reports, subscribers, outbox.
fn data_dir_from_env() -> anyhow::Result<PathBuf> {
    let name = platform::env::DATA_DIR;
    let dir = std::env::var_os(name).with_context(|| {
        format!("{name} is not set: point it at the data folder the job writes (cargo xtask dev uses target/dev/data)")
    })?;
    Ok(PathBuf::from(dir))
}

/// The `main` of both binaries: tracing, a Tokio runtime, `run`, and `{err:#}` on one line on failure.
pub fn main_with<F: std::future::Future<Output = anyhow::Result<()>>>(
    run: impl FnOnce() -> F,
) -> std::process::ExitCode {
    init_tracing();
    let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime starts on any supported OS");
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`); on Lambda, CloudWatch keeps stderr.
///
/// `RUST_LOG` is a list of `level` and `target=level` directives (`warn,functions=debug`), read as
/// [`Targets`]: unlike `EnvFilter` it has no span or field
/// filters, so the zips do not link a regex engine for them. One that does not parse is ignored.
pub fn init_tracing() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|text| text.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let format = tracing_subscriber::fmt::layer().with_ansi(!on_lambda()).with_writer(std::io::stderr);
    tracing_subscriber::registry().with(filter).with(format).init();
}

/// Escapes text for XML and HTML content and attribute values: the SVG charts and the Atom feed,
/// which are written by hand rather than by askama.
pub(crate) fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and line ends are not allowed in XML 1.0 at all.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod test_support;

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::Request};

    use crate::test_support::{date, get, send, store_reports, usual_report};

    #[tokio::test]
    async fn the_local_site_serves_pages_and_the_subscribe_api_on_one_address() {
        let dir = tempfile::tempdir().unwrap();
        let store = platform::store::ObjectStore::local(dir.path());
        store_reports(&store, &[usual_report(date("20261103"))]).await;
        let web = crate::web::WebState::new(store, platform::strategy::DmaParams::STANDARD);
        let subscribe = crate::subscribe::SubscribeState::local(dir.path());
        let site = || crate::site(web.clone(), subscribe.clone());

        let home = get(site(), "/").await;
        assert_eq!(home.status, 200);
        assert!(home.body.contains(r#"action="/api/subscribe""#));
        let request = Request::post("/api/subscribe")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("email=c%40example.com"))
            .unwrap();
        let subscribed = send(site(), request).await;
        assert_eq!(subscribed.status, 202);
        assert!(subscribed.body.contains("c@example.com"));
        assert_eq!(subscribe.subscribers.list().await.unwrap().len(), 1);
        assert_eq!(subscribed.header("etag"), "", "an API answer is not a page");
        let missing = get(site(), "/nothing").await;
        assert_eq!(missing.status, 404);
        assert_eq!(missing.header("x-content-type-options"), "nosniff");
        assert_eq!(missing.header("etag"), "");
    }

    #[tokio::test]
    async fn a_day_page_seen_before_is_revalidated_with_304_and_its_cache_control() {
        let dir = tempfile::tempdir().unwrap();
        let store = platform::store::ObjectStore::local(dir.path());
        store_reports(&store, &[usual_report(date("20261103"))]).await;
        let web = crate::web::WebState::new(store, platform::strategy::DmaParams::STANDARD);
        let subscribe = crate::subscribe::SubscribeState::local(dir.path());
        for app in [crate::web::router(web.clone()), crate::site(web.clone(), subscribe)] {
            let first = get(app.clone(), "/reports/20261103").await;
            assert_eq!(first.status, 200);
            let tag = first.header("etag").to_owned();
            assert!(tag.starts_with('"') && tag.len() == 34, "{tag}");
            let request = Request::get("/reports/20261103").header("if-none-match", &tag).body(Body::empty()).unwrap();
            let again = send(app, request).await;
            assert_eq!((again.status.as_u16(), again.body.as_str()), (304, ""));
            assert_eq!(again.header("etag"), tag);
            assert_eq!(again.header("cache-control"), "public, max-age=86400");
            assert_eq!(again.header("x-content-type-options"), "nosniff");
        }
    }
}
