//! Lambda: a Rust function on `provided.al2023`, with its role and its log group.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{
    ecs::Architecture,
    iam::{
        self,
        policy::{RoleRef, ServicePrincipal},
    },
    logs::{self, LogGroupProps},
    model::{error::SynthError, expr::Expr, handle::NamedResource, names::LogicalId, resource::Resource, stack::Stack},
};

/// Where a function's zip is: both usually stack parameters, as the deploy uploads the zip.
#[derive(Debug, Clone)]
pub struct Code {
    pub bucket: Expr,
    pub key: Expr,
}

/// A function's settings.
#[derive(Debug, Clone)]
pub struct FunctionProps {
    /// The function name; its log group is `/aws/lambda/<name>`. No default.
    pub name: String,
    /// No default.
    pub code: Code,
    /// Environment variables. Never a secret. Default: none.
    pub environment: BTreeMap<String, Expr>,
    /// Default: x86_64.
    pub architecture: Architecture,
    /// Default: 128.
    pub memory_mib: u32,
    /// Default: 10.
    pub timeout_seconds: u32,
    /// Default: 30.
    pub log_retention_days: u32,
}

impl FunctionProps {
    /// The defaults for a function `name` running `code`.
    pub fn new(name: &str, code: Code) -> FunctionProps {
        FunctionProps {
            name: name.to_owned(),
            code,
            environment: BTreeMap::new(),
            architecture: Architecture::default(),
            memory_mib: 128,
            timeout_seconds: 10,
            log_retention_days: 30,
        }
    }
}

/// A function in a stack.
#[derive(Debug, Clone)]
pub struct FunctionRef {
    id: LogicalId,
    role: RoleRef,
}

/// Adds a function with handler `bootstrap` on `provided.al2023`, a role `<id>Role` that may
/// write to its log group `<id>Logs` and nothing else until granted more.
pub fn function(stack: &mut Stack, id: &str, props: FunctionProps) -> Result<FunctionRef, SynthError> {
    let id = LogicalId::new(id)?;
    let role = iam::role(stack, &id.child("Role")?, ServicePrincipal::Lambda)?;
    let log_props =
        LogGroupProps { name: Some(format!("/aws/lambda/{}", props.name)), retention_days: props.log_retention_days };
    let log_group = logs::log_group(stack, id.child("Logs")?.as_str(), log_props)?;
    stack.grant(&role, log_group.grant_write());

    let properties = CfnFunction {
        function_name: props.name,
        runtime: "provided.al2023",
        handler: "bootstrap",
        architectures: vec![match props.architecture {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }],
        code: CfnCode { s3_bucket: props.code.bucket, s3_key: props.code.key },
        role: role.arn(),
        memory_size: props.memory_mib,
        timeout: props.timeout_seconds,
        environment: CfnEnvironment { variables: props.environment },
        logging_config: LoggingConfig { log_group: log_group.name(), log_format: "Text" },
    };
    let resource = Resource::new("AWS::Lambda::Function", &properties)?
        .skip_checkov(
            "CKV_AWS_115",
            "reserving concurrency fails on new accounts (limit 10); API Gateway throttling bounds it",
        )
        .skip_checkov(
            "CKV_AWS_116",
            "invoked synchronously by API Gateway only: a dead-letter queue would never receive",
        )
        .skip_checkov("CKV_AWS_117", OUTSIDE_VPC)
        .suppress_guard("lambda_inside_vpc_check", OUTSIDE_VPC)
        .skip_checkov(
            "CKV_AWS_173",
            "the environment holds names and ARNs, no secrets; Lambda encrypts it at rest anyway",
        );
    stack.add(&id, resource)?;
    Ok(FunctionRef { id, role })
}

/// Why the functions run outside the VPC (checkov and cfn-guard ask for one).
const OUTSIDE_VPC: &str = "outside a VPC on purpose: inside it would need a NAT gateway to reach SNS and S3";

/// A function's `Ref` is its name.
impl NamedResource for FunctionRef {
    fn id(&self) -> &LogicalId {
        &self.id
    }
}

impl FunctionRef {
    /// The role the function runs as: grant to it what the code needs.
    pub fn role(&self) -> &RoleRef {
        &self.role
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnFunction {
    function_name: String,
    runtime: &'static str,
    handler: &'static str,
    architectures: Vec<&'static str>,
    code: CfnCode,
    role: Expr,
    memory_size: u32,
    timeout: u32,
    environment: CfnEnvironment,
    logging_config: LoggingConfig,
}

#[derive(Serialize)]
struct CfnCode {
    #[serde(rename = "S3Bucket")]
    s3_bucket: Expr,
    #[serde(rename = "S3Key")]
    s3_key: Expr,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnEnvironment {
    variables: BTreeMap<String, Expr>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LoggingConfig {
    log_group: Expr,
    log_format: &'static str,
}
