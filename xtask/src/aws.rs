//! The AWS side of xtask: one SDK configuration from the standard chain and the global flags.
//!
//! Credentials and region come from the standard aws-config chain (environment, shared profile
//! with SSO and `credential_process`, web identity, container and instance metadata);
//! `--profile`, `--region` and `--endpoint-url` override it. Missing credentials or region are
//! found before the first request and reported in one line that says what to do.

use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig, meta::region::RegionProviderChain};
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_cloudformation::{
    config::http::HttpResponse,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

use crate::flags;

/// The loaded configuration.
#[derive(Debug, Clone)]
pub(crate) struct Aws {
    pub(crate) sdk: SdkConfig,
}

impl Aws {
    /// Loads the chain in `region` (`None`: the chain's), then checks that it found a region and credentials.
    pub(crate) async fn load(flags: &flags::Aws, region: Option<&str>) -> anyhow::Result<Aws> {
        let sdk = load_sdk_config(flags, region).await;
        let Some(region) = sdk.region() else {
            anyhow::bail!("no AWS region: pass --region, set AWS_REGION, or set a region in your AWS profile");
        };
        let Some(provider) = sdk.credentials_provider() else {
            anyhow::bail!("no AWS credentials provider configured");
        };
        if let Err(err) = provider.provide_credentials().await {
            anyhow::bail!(
                "no AWS credentials found ({err}): run `aws configure` or `aws sso login`, \
                 or set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (region {region})"
            );
        }
        Ok(Aws { sdk })
    }

    /// The same configuration in another region (the edge stack lives in us-east-1).
    pub(crate) fn in_region(&self, region: &str) -> SdkConfig {
        self.sdk.to_builder().region(Region::new(region.to_owned())).build()
    }

    pub(crate) fn cloudformation(&self, region: Option<&str>) -> aws_sdk_cloudformation::Client {
        match region {
            Some(region) => aws_sdk_cloudformation::Client::new(&self.in_region(region)),
            None => aws_sdk_cloudformation::Client::new(&self.sdk),
        }
    }

    /// An S3 client; path-style addresses when an endpoint override is set (emulators rarely resolve `bucket.host`).
    pub(crate) fn s3(&self) -> aws_sdk_s3::Client {
        let config =
            aws_sdk_s3::config::Builder::from(&self.sdk).force_path_style(self.sdk.endpoint_url().is_some()).build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub(crate) fn ssm(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.sdk)
    }

    pub(crate) fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&self.sdk)
    }

    pub(crate) fn ecr(&self) -> aws_sdk_ecr::Client {
        aws_sdk_ecr::Client::new(&self.sdk)
    }

    pub(crate) fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.sdk)
    }

    pub(crate) fn scheduler(&self) -> aws_sdk_scheduler::Client {
        aws_sdk_scheduler::Client::new(&self.sdk)
    }

    pub(crate) fn events(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.sdk)
    }

    pub(crate) fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.sdk)
    }
}

/// The standard AWS configuration chain (env, profile, SSO, ...) with one HTTPS client for every
/// service: hyper 1 with rustls on the ring provider. Deploy and packaging both start here.
pub(crate) fn config_loader() -> ConfigLoader {
    let http_client =
        aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https();
    aws_config::defaults(BehaviorVersion::latest()).http_client(http_client)
}

async fn load_sdk_config(flags: &flags::Aws, region: Option<&str>) -> SdkConfig {
    let mut loader = config_loader();
    if let Some(profile) = &flags.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = region {
        loader = loader.region(RegionProviderChain::first_try(Region::new(region.to_owned())));
    }
    if let Some(url) = &flags.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// `.aws_context(|| ...)` on an SDK call: the error in one line (the service's code and message,
/// or what went wrong on the way) under the step's context, instead of the SDK's debug dump.
pub(crate) trait AwsContext<T> {
    fn aws_context(self, what: impl FnOnce() -> String) -> anyhow::Result<T>;
}

impl<T, E> AwsContext<T> for Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    fn aws_context(self, what: impl FnOnce() -> String) -> anyhow::Result<T> {
        self.map_err(|err| {
            let line = match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_owned(),
                _ => match &err {
                    SdkError::ServiceError(context) => {
                        format!("the endpoint answered HTTP {} without an AWS error", context.raw().status().as_u16())
                    }
                    _ => DisplayErrorContext(&err).to_string(),
                },
            };
            anyhow::format_err!(line).context(what())
        })
    }
}
