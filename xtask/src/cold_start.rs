//! The cold start of a Lambda function binary, measured the way Lambda starts one: a runtime API
//! on 127.0.0.1 (the same HTTP protocol as Lambda's: `GET /2018-06-01/runtime/invocation/next`
//! hands out an event, `POST .../invocation/{id}/response` takes the answer), the function's
//! `bootstrap` started with only the variables Lambda sets, and the clock running from the spawn
//! to the first answer.
//!
//! Two figures per start: `init`, from the spawn until the function first asks for work (process
//! start, the Tokio runtime, reading its configuration and building its state), and `first
//! answer`, until its answer to the first event is back: what a user's first request waits for
//! on top of Lambda's own work.

use std::{
    path::Path,
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode},
    routing::{get, post},
};
use serde_json::Value;
use tokio::sync::oneshot;

/// How long a start may take before it counts as failed.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One measured start.
#[derive(Debug, Clone)]
pub(crate) struct ColdStart {
    /// From the spawn to the first `GET .../invocation/next`.
    pub(crate) init: Duration,
    /// From the spawn to the answer to the first event.
    pub(crate) first_answer: Duration,
    /// The function's answer (for an API Gateway event: `statusCode`, `headers`, `body`).
    pub(crate) answer: Value,
}

/// The function's first answer and when it came, or the error it reported.
type Answer = Result<(Instant, Value), String>;

/// What the runtime API saw.
struct Runtime {
    event: Value,
    handed_out: AtomicBool,
    asked: Mutex<Option<Instant>>,
    answered: Mutex<Option<oneshot::Sender<Answer>>>,
}

/// Starts `bootstrap` once under a fresh runtime API with `env` (plus the variables Lambda sets)
/// and hands it `event`; the function is stopped after its first answer.
pub(crate) async fn measure(bootstrap: &Path, env: &[(&str, String)], event: &Value) -> anyhow::Result<ColdStart> {
    let (answered, answer) = oneshot::channel();
    let runtime = Arc::new(Runtime {
        event: event.clone(),
        handed_out: AtomicBool::new(false),
        asked: Mutex::new(None),
        answered: Mutex::new(Some(answered)),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding the runtime API")?;
    let address = listener.local_addr()?;
    let router = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(failure))
        .route("/2018-06-01/runtime/init/error", post(failure))
        .with_state(runtime.clone());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let mut command = tokio::process::Command::new(bootstrap);
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "cold-start")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/cold-start")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "cold-start")
        .env("LAMBDA_TASK_ROOT", "/var/task")
        .envs(env.iter().map(|(name, value)| (*name, value)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = Instant::now();
    let mut child = command.spawn().with_context(|| format!("starting {}", bootstrap.display()))?;
    let outcome = tokio::select! {
        // The answer first: a function may exit right after it answered (the answer is in by then,
        // since the runtime API takes it before it acknowledges the POST).
        biased;
        answer = tokio::time::timeout(TIMEOUT, answer) => answer,
        status = child.wait() => {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                tokio::io::AsyncReadExt::read_to_string(&mut pipe, &mut stderr).await.ok();
            }
            server.abort();
            anyhow::bail!("{} exited ({}) before answering: {}", bootstrap.display(), status?, stderr.trim());
        }
    };
    child.kill().await.ok();
    server.abort();
    let (at, answer) = outcome
        .with_context(|| format!("{} did not answer within {TIMEOUT:?}", bootstrap.display()))?
        .context("the runtime API stopped")?
        .map_err(|err| anyhow::anyhow!("{} reported an error: {err}", bootstrap.display()))?;
    let asked = runtime.asked.lock().expect("no panic while holding the lock").context("the function never asked")?;
    Ok(ColdStart { init: asked - started, first_answer: at - started, answer })
}

/// The first call gets the event; later ones wait (the function is stopped before they return).
async fn next(State(runtime): State<Arc<Runtime>>) -> (HeaderMap, Json<Value>) {
    if runtime.handed_out.swap(true, Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    runtime.asked.lock().expect("no panic while holding the lock").get_or_insert_with(Instant::now);
    let mut headers = HeaderMap::new();
    let deadline = std::time::SystemTime::now() + Duration::from_secs(30);
    let deadline_ms = deadline.duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_millis();
    headers.insert("lambda-runtime-aws-request-id", HeaderValue::from_static("cold-start-1"));
    headers.insert("lambda-runtime-deadline-ms", HeaderValue::from_str(&deadline_ms.to_string()).expect("digits"));
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:cold-start"),
    );
    headers.insert("lambda-runtime-trace-id", HeaderValue::from_static("Root=1-00000000-000000000000000000000000"));
    (headers, Json(runtime.event.clone()))
}

async fn response(State(runtime): State<Arc<Runtime>>, body: Bytes) -> StatusCode {
    let at = Instant::now();
    let answer = serde_json::from_slice(&body).map_err(|err| format!("an answer that is not JSON ({err})"));
    finish(&runtime, answer.map(|it| (at, it)));
    StatusCode::ACCEPTED
}

async fn failure(State(runtime): State<Arc<Runtime>>, body: Bytes) -> StatusCode {
    finish(&runtime, Err(String::from_utf8_lossy(&body).into_owned()));
    StatusCode::ACCEPTED
}

fn finish(runtime: &Runtime, outcome: Answer) {
    if let Some(answered) = runtime.answered.lock().expect("no panic while holding the lock").take() {
        answered.send(outcome).ok();
    }
}

/// An API Gateway HTTP API (payload 2.0) event, as the site's API sends them.
pub(crate) fn http_api_event(method: &str, path: &str, body: Option<&str>) -> Value {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": { "host": "example.execute-api.us-east-1.amazonaws.com", "content-type": "application/json" },
        // What lambda_http reads of the context: the method, the path, the stage.
        "requestContext": {
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "cold-start" },
            "requestId": "cold-start-1", "routeKey": "$default", "stage": "$default", "timeEpoch": 1_795_000_000_000_u64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shell script stands in for a function: it speaks the runtime API with curl, as a
    /// `bootstrap` in a custom runtime may.
    fn script(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Debian's curl, on every machine of this project.
    const CURL: &str = "curl";

    #[tokio::test]
    async fn a_function_that_answers_is_timed_from_spawn_to_answer() {
        let dir = tempfile::tempdir().unwrap();
        let api = "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation";
        let bootstrap = script(
            dir.path(),
            "answers",
            &format!(
                "event=$({CURL} -sf {api}/next) || exit 3\n\
                 {CURL} -sf -X POST -d \"{{\\\"statusCode\\\":200,\\\"body\\\":\\\"$MESSAGE\\\",\\\"seen\\\":$event}}\" {api}/cold-start-1/response"
            ),
        );
        let event = http_api_event("GET", "/", None);
        let start = measure(&bootstrap, &[("MESSAGE", "hello".to_owned())], &event).await.unwrap();
        assert_eq!(start.answer["statusCode"], 200);
        assert_eq!(start.answer["body"], "hello", "the function's own variables are passed");
        assert_eq!(start.answer["seen"], event, "the event is handed out as given");
        assert!(start.init <= start.first_answer);
    }

    #[tokio::test]
    async fn a_function_that_reports_an_error_or_exits_is_a_failure_that_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let api = "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime";
        let reports = script(dir.path(), "reports", &format!("{CURL} -sf -X POST -d 'no bucket' {api}/init/error"));
        let err = measure(&reports, &[], &Value::Null).await.unwrap_err();
        assert!(format!("{err:#}").contains("reported an error: no bucket"), "{err:#}");

        let exits = script(dir.path(), "exits", "echo 'cannot start' >&2; exit 4");
        let err = measure(&exits, &[], &Value::Null).await.unwrap_err();
        assert!(format!("{err:#}").contains("exited (exit status: 4) before answering: cannot start"), "{err:#}");
    }
}
