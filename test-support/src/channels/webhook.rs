//! The fake webhook receiver: any path, the body JSON of schema 1, and, when it knows the secret,
//! the header `X-Alchemy-Signature: sha256=<hex HMAC-SHA256 of the body>` (401 otherwise). The
//! rate limit is HTTP 429 with `Retry-After: 1`.

use axum::http::StatusCode;
use hmac::Mac;
use serde_json::{Value, json};

use super::{Incoming, Refusal};

pub(crate) fn check(
    incoming: &Incoming<'_>,
    secret: Option<&str>,
    rate_limited: bool,
) -> Result<(String, Value), Refusal> {
    let error =
        |status: StatusCode, message: &str| Refusal { status, body: json!({"error": message}), retry_after: None };
    if let Some(secret) = secret {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(incoming.body);
        let expected: String = mac.finalize().into_bytes().iter().map(|byte| format!("{byte:02x}")).collect();
        let given = incoming.headers.get("x-alchemy-signature").and_then(|it| it.to_str().ok());
        if given != Some(format!("sha256={expected}").as_str()) {
            return Err(error(StatusCode::UNAUTHORIZED, "bad signature"));
        }
    }
    if rate_limited {
        return Err(Refusal {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: json!({"error": "slow down"}),
            retry_after: Some(1),
        });
    }
    let body: Value = serde_json::from_slice(incoming.body).unwrap_or(Value::Null);
    if body["schema"] != 1 || body["trade_date"].as_str().is_none() || !body["signals"].is_array() {
        return Err(error(StatusCode::BAD_REQUEST, "not an invest-alchemy day of schema 1"));
    }
    Ok((body.to_string(), json!({"received": true})))
}
