//! API Gateway HTTP API: one `$default` stage with throttling and access logs, and routes to
//! Lambda functions.
//!
//! An HTTP API rather than a REST API: it costs less than a third per request, it has a
//! `$default` stage that puts no stage name in the path (so the functions see the paths they
//! route), and throttling is a stage setting. What a REST API adds (API keys, usage plans,
//! request validation, caching) this app does not use: CloudFront caches.

use serde::Serialize;

use crate::{
    lambda::FunctionRef,
    logs::{self, LogGroupProps},
    model::{error::SynthError, expr::Expr, handle::NamedResource, names::LogicalId, resource::Resource, stack::Stack},
};

/// An HTTP API's settings.
#[derive(Debug, Clone)]
pub struct HttpApiProps {
    /// The API's name. No default.
    pub name: String,
    /// Steady-state requests per second across all routes. Default: 10.
    pub rate_limit: f64,
    /// Requests allowed in a burst above the rate. Default: 20.
    pub burst_limit: u32,
    /// Days to keep access logs. Default: 30.
    pub log_retention_days: u32,
}

impl HttpApiProps {
    pub fn new(name: &str) -> HttpApiProps {
        HttpApiProps { name: name.to_owned(), rate_limit: 10.0, burst_limit: 20, log_retention_days: 30 }
    }
}

/// An HTTP API in a stack.
#[derive(Debug, Clone)]
pub struct HttpApiRef {
    id: LogicalId,
}

/// Adds an HTTP API with its `$default` stage (`<id>Stage`) and access log group (`<id>Logs`).
pub fn http_api(stack: &mut Stack, id: &str, props: HttpApiProps) -> Result<HttpApiRef, SynthError> {
    let id = LogicalId::new(id)?;
    let api =
        CfnApi { name: props.name, protocol_type: "HTTP", description: "invest-alchemy: subscribe API and web pages" };
    stack.add(&id, Resource::new("AWS::ApiGatewayV2::Api", &api)?)?;

    let logs_id = id.child("Logs")?;
    logs::log_group(stack, logs_id.as_str(), LogGroupProps { name: None, retention_days: props.log_retention_days })?;
    let stage = CfnStage {
        api_id: Expr::Ref(id.clone()),
        stage_name: "$default",
        auto_deploy: true,
        default_route_settings: RouteSettings {
            throttling_burst_limit: props.burst_limit,
            throttling_rate_limit: props.rate_limit,
        },
        access_log_settings: AccessLogSettings {
            // The log group's `Arn` attribute ends in `:*`, which API Gateway rejects.
            destination_arn: Expr::regional_arn("logs", &format!("log-group:${{{logs_id}}}")),
            format: concat!(
                r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","#,
                r#""time":"$context.requestTime","method":"$context.httpMethod","path":"$context.path","#,
                r#""status":"$context.status","latency":"$context.responseLatency","#,
                r#""error":"$context.integrationErrorMessage"}"#,
            ),
        },
    };
    let stage = Resource::new("AWS::ApiGatewayV2::Stage", &stage)?.suppress_guard(
        "api_gw_v2_access_logs_enabled_check",
        "access logs are on; the rule wants the log group's `Fn::GetAtt Arn`, whose `:*` API Gateway rejects",
    );
    stack.add(&id.child("Stage")?, stage)?;
    Ok(HttpApiRef { id })
}

impl HttpApiRef {
    /// The host name of the API's default endpoint, e.g. `abc123.execute-api.eu-west-1.amazonaws.com`.
    pub fn domain_name(&self) -> Expr {
        Expr::Sub(format!("${{{}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}", self.id))
    }

    /// `https://` and the domain name.
    /// A `Fn::Sub` of the API's id, which is what `Fn::GetAtt ApiEndpoint` gives for an HTTP API:
    /// an endpoint that skips `AWS::ApiGatewayV2::Api` (the emulator) can still evaluate it.
    pub fn endpoint(&self) -> Expr {
        Expr::Sub(format!("https://${{{}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}", self.id))
    }

    /// Routes `route_key` (`POST /api/subscribe`, or `$default` for every other request) to
    /// `function` through a proxy integration (payload 2.0), as `<id>`, `<id>Integration` and
    /// `<id>Permission` (API Gateway may invoke the function for this route only).
    pub fn route(
        &self,
        stack: &mut Stack,
        id: &str,
        route_key: &str,
        function: &FunctionRef,
    ) -> Result<(), SynthError> {
        let id = LogicalId::new(id)?;
        let integration_id = id.child("Integration")?;
        let integration = CfnIntegration {
            api_id: Expr::Ref(self.id.clone()),
            integration_type: "AWS_PROXY",
            integration_uri: function.arn(),
            payload_format_version: "2.0",
        };
        stack.add(&integration_id, Resource::new("AWS::ApiGatewayV2::Integration", &integration)?)?;
        let route = CfnRoute {
            api_id: Expr::Ref(self.id.clone()),
            route_key: route_key.to_owned(),
            target: Expr::Join("/", vec![Expr::str("integrations"), Expr::Ref(integration_id)]),
        };
        let public = "a public site and a public subscribe form: every visitor is anonymous, and API Gateway \
                      throttling bounds the rate";
        let route = Resource::new("AWS::ApiGatewayV2::Route", &route)?
            .suppress_guard("api_gw_v2_authorization_type_configured_check", public)
            .suppress_nag("AwsSolutions-APIG4", public);
        stack.add(&id, route)?;

        // `<api>/<stage>/<method>/<path>`; the `$default` route is any method on any path.
        let source = match route_key.split_once(' ') {
            Some((method, path)) => format!("${{{}}}/*/{method}{path}", self.id),
            None => format!("${{{}}}/*/*", self.id),
        };
        let permission = CfnPermission {
            action: "lambda:InvokeFunction",
            function_name: function.arn(),
            principal: "apigateway.amazonaws.com",
            source_arn: Expr::regional_arn("execute-api", &source),
        };
        let permission = Resource::new("AWS::Lambda::Permission", &permission)?.suppress_guard(
            "lambda_function_public_access_prohibited_check",
            "SourceArn is set, to this API's execute-api ARN (stacks/tests/invariants.rs checks it), as an \
             `Fn::Sub` the rule does not read",
        );
        stack.add(&id.child("Permission")?, permission)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnApi {
    name: String,
    protocol_type: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnStage {
    api_id: Expr,
    stage_name: &'static str,
    auto_deploy: bool,
    default_route_settings: RouteSettings,
    access_log_settings: AccessLogSettings,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RouteSettings {
    throttling_burst_limit: u32,
    throttling_rate_limit: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AccessLogSettings {
    destination_arn: Expr,
    format: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnIntegration {
    api_id: Expr,
    integration_type: &'static str,
    integration_uri: Expr,
    payload_format_version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnRoute {
    api_id: Expr,
    route_key: String,
    target: Expr,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnPermission {
    action: &'static str,
    function_name: Expr,
    principal: &'static str,
    source_arn: Expr,
}
