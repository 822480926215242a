//! Uploading function zips to the assets bucket, only when their key is absent.
//!
//! The key holds the zip's SHA-256, so a present key means the same bytes are already there.

use std::path::Path;

use anyhow::Context;
use aws_config::BehaviorVersion;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// The assets bucket's key of a zip with this SHA-256 (hex).
pub(crate) fn zip_key(sha256: &str) -> String {
    format!("lambda/{sha256}.zip")
}

/// An S3 client from the standard AWS configuration chain (env, profile, SSO, ...), on rustls with
/// ring; path-style addresses when an endpoint override (`AWS_ENDPOINT_URL`) is set, as for moto.
pub(crate) async fn s3_client() -> aws_sdk_s3::Client {
    let http_client =
        aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https();
    let sdk = aws_config::defaults(BehaviorVersion::latest()).http_client(http_client).load().await;
    let path_style = sdk.endpoint_url().is_some();
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(path_style).build())
}

/// Uploads `zip_path` to `bucket`/`key` unless the key exists. Returns whether it uploaded.
pub(crate) async fn upload_if_absent(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    zip_path: &Path,
) -> anyhow::Result<bool> {
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => return Ok(false),
        Err(err) if err.as_service_error().is_some_and(|it| it.is_not_found()) => {}
        Err(err) => {
            return Err(aws_sdk_s3::Error::from(err)).with_context(|| format!("looking for s3://{bucket}/{key}"));
        }
    }
    let body = ByteStream::from_path(zip_path).await.with_context(|| format!("reading {}", zip_path.display()))?;
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/zip")
        .body(body)
        .send()
        .await
        .map_err(aws_sdk_s3::Error::from)
        .with_context(|| format!("uploading {} to s3://{bucket}/{key}", zip_path.display()))?;
    Ok(true)
}
