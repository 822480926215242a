//! CloudFront: a distribution in front of an HTTPS origin (the HTTP API), with security headers
//! and a cache that does what the origin's `Cache-Control` says.

use serde::Serialize;

use crate::model::error::SynthError;
use crate::model::expr::Expr;
use crate::model::names::LogicalId;
use crate::model::resource::Resource;
use crate::model::stack::Stack;

/// AWS's managed origin request policy `Managed-AllViewerExceptHostHeader`: forwards the
/// viewer's headers, cookies and query strings except `Host`, which API Gateway needs to be its own.
const ALL_VIEWER_EXCEPT_HOST_HEADER: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

/// The hosted zone id of every CloudFront distribution, for Route53 alias records.
pub const HOSTED_ZONE_ID: &str = "Z2FDTNDATAQYW2";

/// The site's own name and its certificate (in us-east-1).
#[derive(Debug, Clone)]
pub struct CustomDomain {
    pub name: String,
    pub certificate_arn: Expr,
}

/// A distribution's settings.
#[derive(Debug, Clone)]
pub struct DistributionProps {
    /// The origin's host name (no scheme, no path). No default.
    pub origin_domain: Expr,
    /// Default: None (the site is at the `*.cloudfront.net` address).
    pub domain: Option<CustomDomain>,
    /// Edge locations to serve from. Default: `PriceClass_200` (includes Asia, excludes the most expensive).
    pub price_class: &'static str,
}

/// A distribution in a stack.
#[derive(Debug, Clone)]
pub struct DistributionRef {
    id: LogicalId,
}

/// Adds a distribution (`<id>`), its cache policy (`<id>Cache`: no caching unless the origin
/// sends `Cache-Control`, then as long as it says) and its response headers policy
/// (`<id>Headers`: HSTS, nosniff, frame denial, referrer policy; a CSP unless the origin sends one).
pub fn distribution(stack: &mut Stack, id: &str, props: DistributionProps) -> Result<DistributionRef, SynthError> {
    let id = LogicalId::new(id)?;
    let cache_id = id.child("Cache")?;
    let cache = CfnCachePolicy {
        cache_policy_config: CachePolicyConfig {
            name: Expr::Sub("${AWS::StackName}-origin-cache-control".to_owned()),
            comment: "Caches only what the origin's Cache-Control allows",
            min_t_t_l: 0,
            default_t_t_l: 0,
            max_t_t_l: 31_536_000,
            parameters_in_cache_key_and_forwarded_to_origin: CacheKey {
                enable_accept_encoding_gzip: true,
                enable_accept_encoding_brotli: true,
                cookies_config: CookiesConfig { cookie_behavior: "none" },
                headers_config: HeadersConfig { header_behavior: "none" },
                query_strings_config: QueryStringsConfig { query_string_behavior: "all" },
            },
        },
    };
    stack.add(&cache_id, Resource::new("AWS::CloudFront::CachePolicy", &cache)?)?;

    let headers_id = id.child("Headers")?;
    let headers = CfnResponseHeadersPolicy {
        response_headers_policy_config: ResponseHeadersPolicyConfig {
            name: Expr::Sub("${AWS::StackName}-security-headers".to_owned()),
            comment: "Security headers on every response",
            security_headers_config: SecurityHeadersConfig {
                strict_transport_security: Hsts {
                    access_control_max_age_sec: 63_072_000,
                    include_subdomains: true,
                    preload: false,
                    override_: true,
                },
                content_type_options: Override { override_: true },
                frame_options: FrameOptions { frame_option: "DENY", override_: true },
                referrer_policy: ReferrerPolicy { referrer_policy: "strict-origin-when-cross-origin", override_: true },
                content_security_policy: Csp {
                    content_security_policy: concat!(
                        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; ",
                        "frame-ancestors 'none'; form-action 'self'",
                    ),
                    override_: false,
                },
            },
        },
    };
    stack.add(&headers_id, Resource::new("AWS::CloudFront::ResponseHeadersPolicy", &headers)?)?;

    let viewer_certificate = match &props.domain {
        Some(domain) => ViewerCertificate {
            acm_certificate_arn: Some(domain.certificate_arn.clone()),
            ssl_support_method: Some("sni-only"),
            minimum_protocol_version: Some("TLSv1.2_2021"),
            cloud_front_default_certificate: None,
        },
        None => ViewerCertificate {
            acm_certificate_arn: None,
            ssl_support_method: None,
            minimum_protocol_version: None,
            cloud_front_default_certificate: Some(true),
        },
    };
    let properties = CfnDistribution {
        distribution_config: DistributionConfig {
            enabled: true,
            comment: "invest-alchemy site and API",
            http_version: "http2and3",
            i_p_v6_enabled: true,
            price_class: props.price_class,
            aliases: props.domain.iter().map(|it| it.name.clone()).collect(),
            origins: vec![Origin {
                id: "Api",
                domain_name: props.origin_domain,
                custom_origin_config: CustomOriginConfig {
                    origin_protocol_policy: "https-only",
                    origin_s_s_l_protocols: vec!["TLSv1.2"],
                },
            }],
            default_cache_behavior: CacheBehavior {
                target_origin_id: "Api",
                viewer_protocol_policy: "redirect-to-https",
                allowed_methods: vec!["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
                cached_methods: vec!["GET", "HEAD"],
                compress: true,
                cache_policy_id: Expr::Ref(cache_id),
                origin_request_policy_id: ALL_VIEWER_EXCEPT_HOST_HEADER,
                response_headers_policy_id: Expr::Ref(headers_id),
            },
            viewer_certificate,
        },
    };
    let no_waf = "AWS WAF costs at least $5 a month, five times this app; API Gateway throttles instead";
    let no_logs = "standard logs need a bucket with ACLs and cost more than this app";
    let mut resource = Resource::new("AWS::CloudFront::Distribution", &properties)?
        .skip_checkov("CKV_AWS_68", no_waf)
        .suppress_nag("AwsSolutions-CFR2", no_waf)
        .skip_checkov("CKV_AWS_86", no_logs)
        .suppress_guard("cloudfront_access_logs_enabled_check", no_logs)
        .suppress_nag("AwsSolutions-CFR3", no_logs)
        .suppress_nag("AwsSolutions-CFR1", "a public site for anyone anywhere: nothing in it is restricted by country")
        .suppress_guard(
            "cloudfront_default_root_object_configured_check",
            "the web function renders `/` itself; a default root object would rewrite it to a file name",
        )
        .suppress_guard(
            "cloudfront_origin_failover_enabled_check",
            "one origin, the API in the stage's region: a second region would double the stage for a daily report",
        );
    if props.domain.is_none() {
        let default_certificate =
            "without a domain the *.cloudfront.net certificate is used, whose TLS versions CloudFront sets";
        resource = resource
            .skip_checkov("CKV_AWS_174", default_certificate)
            .suppress_nag("AwsSolutions-CFR4", default_certificate)
            .suppress_guard("cloudfront_custom_ssl_certificate_check", default_certificate)
            .suppress_guard("cloudfront_sni_enabled_check", default_certificate)
            .suppress_guard("cloudfront_security_policy_check", default_certificate);
    }
    stack.add(&id, resource)?;
    Ok(DistributionRef { id })
}

impl DistributionRef {
    pub fn id(&self) -> Expr {
        Expr::Ref(self.id.clone())
    }

    /// The `*.cloudfront.net` host name.
    pub fn domain_name(&self) -> Expr {
        Expr::GetAtt(self.id.clone(), "DomainName")
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnCachePolicy {
    cache_policy_config: CachePolicyConfig,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CachePolicyConfig {
    name: Expr,
    comment: &'static str,
    #[serde(rename = "MinTTL")]
    min_t_t_l: u32,
    #[serde(rename = "DefaultTTL")]
    default_t_t_l: u32,
    #[serde(rename = "MaxTTL")]
    max_t_t_l: u32,
    parameters_in_cache_key_and_forwarded_to_origin: CacheKey,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CacheKey {
    enable_accept_encoding_gzip: bool,
    enable_accept_encoding_brotli: bool,
    cookies_config: CookiesConfig,
    headers_config: HeadersConfig,
    query_strings_config: QueryStringsConfig,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CookiesConfig {
    cookie_behavior: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct HeadersConfig {
    header_behavior: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct QueryStringsConfig {
    query_string_behavior: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnResponseHeadersPolicy {
    response_headers_policy_config: ResponseHeadersPolicyConfig,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResponseHeadersPolicyConfig {
    name: Expr,
    comment: &'static str,
    security_headers_config: SecurityHeadersConfig,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SecurityHeadersConfig {
    strict_transport_security: Hsts,
    content_type_options: Override,
    frame_options: FrameOptions,
    referrer_policy: ReferrerPolicy,
    content_security_policy: Csp,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Hsts {
    access_control_max_age_sec: u32,
    include_subdomains: bool,
    preload: bool,
    #[serde(rename = "Override")]
    override_: bool,
}

#[derive(Serialize)]
struct Override {
    #[serde(rename = "Override")]
    override_: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FrameOptions {
    frame_option: &'static str,
    #[serde(rename = "Override")]
    override_: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ReferrerPolicy {
    referrer_policy: &'static str,
    #[serde(rename = "Override")]
    override_: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Csp {
    content_security_policy: &'static str,
    #[serde(rename = "Override")]
    override_: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnDistribution {
    distribution_config: DistributionConfig,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DistributionConfig {
    enabled: bool,
    comment: &'static str,
    http_version: &'static str,
    #[serde(rename = "IPV6Enabled")]
    i_p_v6_enabled: bool,
    price_class: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<String>,
    origins: Vec<Origin>,
    default_cache_behavior: CacheBehavior,
    viewer_certificate: ViewerCertificate,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Origin {
    id: &'static str,
    domain_name: Expr,
    custom_origin_config: CustomOriginConfig,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CustomOriginConfig {
    origin_protocol_policy: &'static str,
    #[serde(rename = "OriginSSLProtocols")]
    origin_s_s_l_protocols: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CacheBehavior {
    target_origin_id: &'static str,
    viewer_protocol_policy: &'static str,
    allowed_methods: Vec<&'static str>,
    cached_methods: Vec<&'static str>,
    compress: bool,
    cache_policy_id: Expr,
    origin_request_policy_id: &'static str,
    response_headers_policy_id: Expr,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ViewerCertificate {
    #[serde(skip_serializing_if = "Option::is_none")]
    acm_certificate_arn: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ssl_support_method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    minimum_protocol_version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud_front_default_certificate: Option<bool>,
}
