//! The HTTP functions: the subscribe API and the web site.
//!
//! Each is an axum `Router` built from its state; the binaries only choose where it runs: under the
//! Lambda runtime when Lambda (or `cargo lambda watch`) started them, on 127.0.0.1 otherwise.
//! Both routers share the security headers and the error type; neither knows which place it runs in.

pub mod subscribe;
pub mod web;

mod chart;
mod error;
mod feed;
mod headers;

use std::path::PathBuf;

use anyhow::Context;
use axum::Router;

/// The variable the Lambda runtime sets; its presence is how a binary knows it runs on Lambda.
const LAMBDA_RUNTIME_API: &str = "AWS_LAMBDA_RUNTIME_API";

/// Serves `app` through the Lambda runtime API when there is one, else on `127.0.0.1:port`.
///
/// `lambda_http::run` needs the variables Lambda (or `cargo lambda watch`) sets, so the local branch
/// is a plain axum server running the very same router.
pub async fn serve(app: Router, port: u16) -> anyhow::Result<()> {
    if std::env::var_os(LAMBDA_RUNTIME_API).is_some() {
        return lambda_http::run(app).await.map_err(|err| anyhow::format_err!("the Lambda runtime failed: {err}"));
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    let address = listener.local_addr().context("reading the bound address")?;
    println!("serving http://{address}/ (Ctrl-C stops)");
    axum::serve(listener, app).await.context("serving HTTP")?;
    Ok(())
}

/// Whether the Lambda runtime started this process.
pub fn on_lambda() -> bool {
    std::env::var_os(LAMBDA_RUNTIME_API).is_some()
}

/// The local port from `PORT`, 3000 when unset.
pub fn port_from_env() -> anyhow::Result<u16> {
    match std::env::var(platform::env::PORT) {
        Ok(text) => {
            text.parse().with_context(|| format!("{} must be a port number, not {text:?}", platform::env::PORT))
        }
        Err(_) => Ok(3000),
    }
}

/// The local data folder from [`platform::env::DATA_DIR`]: reports, subscribers, outbox.
fn data_dir_from_env() -> anyhow::Result<PathBuf> {
    let name = platform::env::DATA_DIR;
    let dir = std::env::var_os(name).with_context(|| {
        format!("{name} is not set: point it at the data folder the job writes (cargo xtask dev uses target/dev/data)")
    })?;
    Ok(PathBuf::from(dir))
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`); on Lambda, CloudWatch keeps stderr.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(!on_lambda()).with_writer(std::io::stderr).init();
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
