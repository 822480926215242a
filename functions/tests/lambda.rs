//! The binaries under the Lambda runtime: `cargo lambda watch` emulates the Lambda runtime API on
//! 127.0.0.1, the binaries `cargo test` built run against it, and `cargo lambda invoke` sends API
//! Gateway events. This proves the same routers answer on Lambda as in the router tests.
//!
//! `watch` runs with `--only-lambda-apis`: it serves the runtime API and the function process is
//! started here, so no second build of the workspace happens (watch would otherwise `cargo run` it).

mod common;

use std::{
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use platform::{env, store::ObjectStore};
use serde_json::{Value, json};
use test_support::reports::store_sample_reports;

use common::{Running, free_port, start_tool, tool, wait_for};

#[test]
#[ignore = "needs cargo-lambda: cargo xtask test"]
fn the_web_function_answers_api_gateway_events_under_the_lambda_runtime() {
    let data = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let days = runtime.block_on(store_sample_reports(&ObjectStore::local(data.path()), 3));
    let newest = days.last().unwrap();
    let emulator = Emulator::start();
    let _function = emulator.run(env!("CARGO_BIN_EXE_web"), data.path());

    let home = emulator.invoke(&http_api_event("GET", "/", None, None));
    assert_eq!(home["statusCode"], 200, "{home}");
    assert_eq!(header(&home, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&home, "x-content-type-options"), "nosniff");
    assert!(home["body"].as_str().unwrap().contains(&format!("/reports/{newest}")), "{home}");

    let day = emulator.invoke(&rest_api_event("GET", &format!("/reports/{newest}.txt"), None, None));
    assert_eq!(day["statusCode"], 200, "{day}");
    assert_eq!(header(&day, "content-type"), "text/plain; charset=utf-8");
    assert!(day["body"].as_str().unwrap().contains("双均线"), "{day}");

    let missing = emulator.invoke(&http_api_event("GET", "/reports/20261131", None, None));
    assert_eq!(missing["statusCode"], 404, "{missing}");
}

#[test]
#[ignore = "needs cargo-lambda: cargo xtask test"]
fn the_subscribe_function_answers_api_gateway_events_under_the_lambda_runtime() {
    let data = tempfile::tempdir().unwrap();
    let emulator = Emulator::start();
    let _function = emulator.run(env!("CARGO_BIN_EXE_subscribe"), data.path());

    let json = Some("application/json");
    let accepted =
        emulator.invoke(&http_api_event("POST", "/api/subscribe", json, Some(r#"{"email":"l@example.com"}"#)));
    assert_eq!(accepted["statusCode"], 202, "{accepted}");
    assert!(accepted["body"].as_str().unwrap().contains("l@example.com"), "{accepted}");
    let subscribers = std::fs::read_to_string(data.path().join("subscribers.json")).unwrap();
    assert!(subscribers.contains("l@example.com"), "{subscribers}");

    let rejected = emulator.invoke(&rest_api_event("POST", "/api/subscribe", json, Some(r#"{"email":"nope"}"#)));
    assert_eq!(rejected["statusCode"], 400, "{rejected}");
    assert!(rejected["body"].as_str().unwrap().contains("\"error\""), "{rejected}");
}

/// `cargo lambda watch --only-lambda-apis` on a free port of 127.0.0.1; stopped when dropped.
struct Emulator {
    _process: Running,
    port: u16,
    bin_dir: PathBuf,
}

impl Emulator {
    fn start() -> Emulator {
        let bin_dir = tool(env::TEST_CARGO_LAMBDA_BIN, "");
        let cargo_lambda = bin_dir.join("cargo-lambda");
        let port = free_port();
        let process = start_tool(
            Command::new(&cargo_lambda)
                .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
                .current_dir(env!("CARGO_MANIFEST_DIR")),
        );
        let emulator = Emulator { _process: process, port, bin_dir };
        wait_for("the Lambda runtime emulator", Duration::from_secs(60), || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        emulator
    }

    /// Starts `binary` as the function, with the variables Lambda sets and the local data folder.
    fn run(&self, binary: &str, data_dir: &Path) -> Running {
        let child = Command::new(binary)
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{}/.rt", self.port))
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            // What the stack sets for a REST API: paths without the stage prefix.
            .env("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true")
            .env(env::DATA_DIR, data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Running(child)
    }

    /// Sends `event` with `cargo lambda invoke` and returns the function's answer.
    fn invoke(&self, event: &Value) -> Value {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), event.to_string()).unwrap();
        let output = Command::new(self.bin_dir.join("cargo-lambda"))
            .args(["lambda", "invoke", "-A", "127.0.0.1", "-P", &self.port.to_string(), "--data-file"])
            .arg(file.path())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "invoke failed: {stdout}{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_str(&stdout).unwrap_or_else(|err| panic!("not a JSON answer ({err}): {stdout}"))
    }
}

/// A response header: HTTP APIs answer `headers`, REST APIs `multiValueHeaders`.
fn header<'a>(answer: &'a Value, name: &str) -> &'a str {
    let single = answer["headers"][name].as_str();
    single.or_else(|| answer["multiValueHeaders"][name][0].as_str()).unwrap_or_else(|| panic!("no {name}: {answer}"))
}

/// An API Gateway HTTP API (payload 2.0) event.
fn http_api_event(method: &str, path: &str, content_type: Option<&str>, body: Option<&str>) -> Value {
    let headers = event_headers(["host", "content-type"], content_type);
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "example",
            "domainName": "example.execute-api.ap-east-1.amazonaws.com",
            "domainPrefix": "example",
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test" },
            "requestId": "request",
            "routeKey": "$default",
            "stage": "$default",
            "time": "28/Nov/2026:13:00:00 +0000",
            "timeEpoch": 1_795_000_000_000_u64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// An API Gateway REST API (payload 1.0, proxy integration) event on the stage `prod`.
fn rest_api_event(method: &str, path: &str, content_type: Option<&str>, body: Option<&str>) -> Value {
    let headers = event_headers(["Host", "Content-Type"], content_type);
    json!({
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {},
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "pathParameters": { "proxy": path.trim_start_matches('/') },
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "resource",
            "stage": "prod",
            "requestId": "request",
            "identity": { "sourceIp": "127.0.0.1", "userAgent": "test" },
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "apiId": "example",
            "path": format!("/prod{path}"),
            "protocol": "HTTP/1.1"
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// An event's request headers: the host, and the content type when there is one, under the
/// `[host, content type]` names as the event's payload format spells them.
fn event_headers([host, content_type_name]: [&str; 2], content_type: Option<&str>) -> Value {
    let mut headers = json!({});
    headers[host] = json!("example.execute-api.ap-east-1.amazonaws.com");
    if let Some(content_type) = content_type {
        headers[content_type_name] = json!(content_type);
    }
    headers
}
