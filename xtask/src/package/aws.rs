//! The AWS side of the upload: zips to the assets bucket (only when their key is absent) and the
//! ECR registry's credentials.
//!
//! A zip's key holds its SHA-256, so a present key means the same bytes are already there.

use std::path::Path;

use anyhow::{Context, format_err};
use aws_config::SdkConfig;
use aws_sdk_s3::primitives::ByteStream;
use base64::Engine;
use oci_client::secrets::RegistryAuth;

/// The assets bucket's key of a zip with this SHA-256 (hex).
pub(crate) fn zip_key(sha256: &str) -> String {
    format!("lambda/{sha256}.zip")
}

/// The standard AWS configuration chain (env, profile, SSO, ...) on rustls with ring.
pub(crate) async fn sdk_config() -> SdkConfig {
    crate::aws::config_loader().load().await
}

/// An S3 client; path-style addresses when an endpoint override (`AWS_ENDPOINT_URL`) is set, as for moto.
pub(crate) fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    let path_style = sdk.endpoint_url().is_some();
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(path_style).build())
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

/// Whether `host` is an ECR registry (`ACCOUNT.dkr.ecr.REGION.amazonaws.com`), whose credentials
/// come from ECR's authorization token.
pub(crate) fn is_ecr(host: &str) -> bool {
    host.contains(".dkr.ecr.") && (host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn"))
}

/// Registry credentials from ECR's authorization token (valid for 12 hours).
pub(crate) async fn ecr_auth(sdk: &SdkConfig) -> anyhow::Result<RegistryAuth> {
    let ecr = aws_sdk_ecr::Client::new(sdk);
    let answer = ecr
        .get_authorization_token()
        .send()
        .await
        .map_err(aws_sdk_ecr::Error::from)
        .context("getting an ECR authorization token")?;
    let token = answer
        .authorization_data()
        .first()
        .and_then(|it| it.authorization_token())
        .context("ECR answered without an authorization token")?;
    basic_auth(token)
}

/// `base64("user:password")`, as ECR gives it, as basic-auth credentials.
fn basic_auth(token: &str) -> anyhow::Result<RegistryAuth> {
    let decoded = base64::engine::general_purpose::STANDARD.decode(token).context("decoding the ECR token")?;
    let decoded = String::from_utf8(decoded).context("decoding the ECR token")?;
    let (user, password) =
        decoded.split_once(':').ok_or_else(|| format_err!("the ECR token is not of the form user:password"))?;
    Ok(RegistryAuth::Basic(user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ecr_token_is_basic_auth_for_the_aws_user() {
        let auth = basic_auth("QVdTOnNlY3JldDpwYXJ0").unwrap();
        assert!(matches!(auth, RegistryAuth::Basic(user, password) if user == "AWS" && password == "secret:part"));
        assert!(basic_auth("bm8gY29sb24=").is_err());
    }

    #[test]
    fn only_ecr_hosts_get_ecr_credentials() {
        assert!(is_ecr("123456789012.dkr.ecr.ap-east-1.amazonaws.com"));
        assert!(!is_ecr("127.0.0.1:5000"));
        assert!(!is_ecr("ghcr.io"));
    }

    #[tokio::test]
    #[ignore = "needs the AWS emulator: cargo xtask test"]
    async fn ecr_credentials_come_from_the_authorization_token() {
        assert!(std::env::var_os("AWS_ENDPOINT_URL").is_some(), "AWS_ENDPOINT_URL is not set: run `cargo xtask test`");
        let auth = ecr_auth(&sdk_config().await).await.unwrap();
        assert!(matches!(auth, RegistryAuth::Basic(user, _) if user == "AWS"));
    }
}
