//! AWS clients for the cloud adapters, configured the way every AWS tool is.
//!
//! Credentials and region come from the standard aws-config chain: environment, shared profile
//! (including SSO and `credential_process`), web identity, the ECS container endpoint and instance
//! metadata. An endpoint override (`AWS_ENDPOINT_URL`, or the caller's `--endpoint-url`) replaces
//! every service's endpoint, which is how the tests run against a local AWS emulator; S3 then uses
//! path-style addresses (`http://host/bucket/key`), since an emulator or an S3-compatible server
//! rarely resolves `bucket.host`.
//!
//! The functions use [`AwsConfig::from_env`] instead: Lambda hands a function its credentials and
//! region in the environment, so they need none of the chain's other providers (profile files, SSO,
//! STS, instance metadata), and the binaries they would bloat do not link them. The job's image
//! uses [`AwsConfig::for_task`] for the same reason: the environment and ECS's task-role endpoint.
//!
//! One HTTPS client is shared by all clients: hyper 1 with rustls on the `ring` provider, trusting
//! the system's root certificates.
//!
//! May use: [`crate::env`] only.

use std::time::Duration;

use aws_config::{
    BehaviorVersion, ConfigLoader, SdkConfig, meta::credentials::CredentialsProviderChain,
    provider_config::ProviderConfig, retry::RetryConfig, timeout::TimeoutConfig,
};
use aws_sdk_s3::config::SharedCredentialsProvider;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

use crate::env;

/// How often one request is tried before its error is returned. Throttling, 5xx answers and
/// connection failures are retried with exponential backoff and jitter (the SDK's standard mode).
pub const MAX_ATTEMPTS: u32 = 4;

/// How long one attempt of one request may take, so a connection that hangs is retried, not waited on.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// The shared configuration of the AWS clients: credentials, region, endpoint, retries, HTTP client.
#[derive(Debug, Clone)]
pub struct AwsConfig {
    sdk: SdkConfig,
    /// S3 needs path-style addresses: an endpoint override is set.
    path_style: bool,
    /// S3's own endpoint override, for [`AwsConfig::from_env`] (the chain of [`AwsConfig::load`]
    /// applies `AWS_ENDPOINT_URL_S3` itself).
    s3_endpoint: Option<String>,
}

impl AwsConfig {
    /// Loads the standard chain. `endpoint_url`, when given, wins over `AWS_ENDPOINT_URL`.
    pub async fn load(endpoint_url: Option<&str>) -> AwsConfig {
        let mut loader = loader();
        if let Some(url) = endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let sdk = loader.load().await;
        let path_style = sdk.endpoint_url().is_some() || std::env::var_os(env::AWS_ENDPOINT_URL_S3).is_some();
        AwsConfig { sdk, path_style, s3_endpoint: None }
    }

    /// The environment only, as Lambda sets it: credentials from `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, region from `AWS_REGION` (or
    /// `AWS_DEFAULT_REGION`), endpoint from `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3` for S3
    /// alone); the same HTTPS client, retries and timeout as [`AwsConfig::load`].
    pub fn from_env() -> AwsConfig {
        let credentials = aws_config::environment::EnvironmentVariableCredentialsProvider::new();
        AwsConfig::environment(SharedCredentialsProvider::new(credentials), None)
    }

    /// What an ECS task has, as [`AwsConfig::from_env`] plus the task role: credentials from the
    /// environment, else from the container endpoint ECS sets for the task role
    /// (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`); the region from `AWS_REGION`, which ECS sets.
    /// The job's image uses it, so it links none of the chain's other providers. `endpoint_url`,
    /// when given, wins over `AWS_ENDPOINT_URL`.
    pub fn for_task(endpoint_url: Option<&str>) -> AwsConfig {
        let provider = ProviderConfig::without_region().with_http_client(http_client());
        let container = aws_config::ecs::EcsCredentialsProvider::builder().configure(&provider).build();
        let credentials = CredentialsProviderChain::first_try(
            "Environment",
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        )
        .or_else("EcsContainer", container);
        AwsConfig::environment(SharedCredentialsProvider::new(credentials), endpoint_url)
    }

    /// Region and endpoint from the environment, and `credentials`.
    fn environment(credentials: SharedCredentialsProvider, endpoint_url: Option<&str>) -> AwsConfig {
        let var = |name: &str| std::env::var(name).ok().filter(|it| !it.trim().is_empty());
        let region = var(env::AWS_REGION).or_else(|| var(env::AWS_DEFAULT_REGION)).map(aws_config::Region::new);
        let mut builder = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(region)
            .credentials_provider(credentials)
            .http_client(http_client())
            .retry_config(retry_config())
            .timeout_config(timeout_config());
        let endpoint = endpoint_url.map(str::to_owned).or_else(|| var(env::AWS_ENDPOINT_URL));
        let s3_endpoint = var(env::AWS_ENDPOINT_URL_S3).filter(|_| endpoint_url.is_none());
        let path_style = endpoint.is_some() || s3_endpoint.is_some();
        builder.set_endpoint_url(endpoint);
        AwsConfig { sdk: builder.build(), path_style, s3_endpoint }
    }

    /// Clients for an AWS emulator or any AWS-compatible server at `endpoint_url`: fixed dummy
    /// credentials and region `us-east-1`, so no credential or region lookup (and no instance metadata).
    pub async fn emulator(endpoint_url: &str) -> AwsConfig {
        let credentials = aws_sdk_s3::config::Credentials::new("test", "test", None, None, "emulator");
        let sdk = loader()
            .credentials_provider(credentials)
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(endpoint_url)
            .load()
            .await;
        AwsConfig { sdk, path_style: true, s3_endpoint: None }
    }

    /// The region the clients talk to, if the chain found one.
    pub fn region(&self) -> Option<&str> {
        self.sdk.region().map(|it| it.as_ref())
    }

    /// The endpoint override, if any.
    pub fn endpoint_url(&self) -> Option<&str> {
        self.sdk.endpoint_url()
    }

    /// An S3 client; path-style when an endpoint override is set.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let mut config = aws_sdk_s3::config::Builder::from(&self.sdk).force_path_style(self.path_style);
        if let Some(url) = &self.s3_endpoint {
            config = config.endpoint_url(url);
        }
        let config = config.build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// An SNS client.
    pub fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.sdk)
    }
}

/// The shared settings: one HTTPS client (hyper 1 and rustls on `ring`, with the system's roots; plain
/// HTTP too, for emulators), standard retries and the per-attempt timeout.
fn loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .retry_config(retry_config())
        .timeout_config(timeout_config())
}

fn http_client() -> aws_sdk_s3::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https()
}

fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS)
}

fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder().operation_attempt_timeout(ATTEMPT_TIMEOUT).build()
}
