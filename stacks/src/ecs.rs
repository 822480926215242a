//! ECS on Fargate: a cluster whose default capacity is Spot, and a one-container task definition
//! with its two roles, its log group and its secrets.

use serde::Serialize;

use crate::{
    ecr::RepositoryRef,
    iam::{
        self,
        policy::{RoleRef, ServicePrincipal},
    },
    logs::LogGroupRef,
    model::{
        error::SynthError,
        expr::{Expr, Pseudo},
        handle::NamedResource,
        names::LogicalId,
        resource::Resource,
        stack::Stack,
    },
    ssm::ParameterRef,
};

/// The CPU architecture of a task or function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// Default.
    #[default]
    X86_64,
    Arm64,
}

/// The user every container runs as: the non-root `uid:gid` of the job image xtask builds (its
/// `/etc/passwd` and image config use this constant), so ECS never starts it as root.
pub const CONTAINER_USER: &str = "65532:65532";

/// A cluster in a stack.
#[derive(Debug, Clone)]
pub struct ClusterRef {
    id: LogicalId,
}

/// Adds a cluster with the `FARGATE_SPOT` and `FARGATE` capacity providers, Spot by default.
pub fn cluster(stack: &mut Stack, id: &str) -> Result<ClusterRef, SynthError> {
    let id = LogicalId::new(id)?;
    let properties = CfnCluster {
        capacity_providers: vec!["FARGATE_SPOT", "FARGATE"],
        default_capacity_provider_strategy: vec![CapacityProviderStrategy::spot()],
    };
    let no_insights = "Container Insights bills per metric; one short task a day is watched by its exit code";
    let resource = Resource::new("AWS::ECS::Cluster", &properties)?
        .skip_checkov("CKV_AWS_65", no_insights)
        .suppress_guard("ecs_container_insights_enabled_check", no_insights)
        .suppress_nag("AwsSolutions-ECS4", no_insights);
    stack.add(&id, resource)?;
    Ok(ClusterRef { id })
}

impl ClusterRef {
    /// The cluster's name: its `Ref`.
    pub fn name(&self) -> Expr {
        Expr::Ref(self.id.clone())
    }

    pub fn arn(&self) -> Expr {
        Expr::GetAtt(self.id.clone(), "Arn")
    }
}

/// One item of a capacity provider strategy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CapacityProviderStrategy {
    pub capacity_provider: &'static str,
    pub weight: u32,
}

impl CapacityProviderStrategy {
    /// All tasks on `FARGATE_SPOT`.
    pub fn spot() -> CapacityProviderStrategy {
        CapacityProviderStrategy { capacity_provider: "FARGATE_SPOT", weight: 1 }
    }
}

/// What a Fargate task runs.
#[derive(Debug, Clone)]
pub struct FargateTaskProps {
    /// The task definition family. No default.
    pub family: String,
    /// The image's repository; the execution role gets `grant_pull` on it. No default.
    pub repository: RepositoryRef,
    /// The image digest (`sha256:...`), usually a stack parameter. No default.
    pub image_digest: Expr,
    /// Plain environment variables, in order. Never a secret. Default: none.
    pub environment: Vec<(String, Expr)>,
    /// Variables filled from SecureString parameters (`Secrets[].ValueFrom`). Default: none.
    pub secrets: Vec<(String, ParameterRef)>,
    /// Where the container's output goes; the execution role gets `grant_write` on it. No default.
    pub log_group: LogGroupRef,
    /// CPU and memory. Default: `TaskSize::default()`, the smallest Fargate size.
    pub size: TaskSize,
    /// Default: x86_64.
    pub architecture: Architecture,
}

/// A Fargate task's CPU units and memory; only some pairs exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskSize {
    /// CPU units. Default: 256 (a quarter vCPU).
    pub cpu: u32,
    /// Memory in MiB. Default: 512 (the smallest for 256 CPU units).
    pub memory_mib: u32,
}

impl Default for TaskSize {
    fn default() -> TaskSize {
        TaskSize { cpu: 256, memory_mib: 512 }
    }
}

/// A task definition and its roles.
#[derive(Debug, Clone)]
pub struct FargateTaskRef {
    id: LogicalId,
    task_role: RoleRef,
    execution_role: RoleRef,
}

/// Adds a Fargate task definition (`awsvpc`, read-only root file system) whose one container is
/// named `container`, with a task role (`<id>Role`, what the code may do: grant to it) and an
/// execution role (`<id>ExecutionRole`: pull the image, write the logs, read the secrets).
pub fn fargate_task(
    stack: &mut Stack,
    id: &str,
    container: &str,
    props: FargateTaskProps,
) -> Result<FargateTaskRef, SynthError> {
    let id = LogicalId::new(id)?;
    let task_role = iam::role(stack, &id.child("Role")?, ServicePrincipal::EcsTasks)?;
    let execution_role = iam::role(stack, &id.child("ExecutionRole")?, ServicePrincipal::EcsTasks)?;
    stack.grant(&execution_role, props.repository.grant_pull());
    stack.grant(&execution_role, props.log_group.grant_write());
    for (_, parameter) in &props.secrets {
        stack.grant(&execution_role, parameter.grant_read());
    }

    let container = ContainerDefinition {
        name: container.to_owned(),
        image: props.repository.image(props.image_digest),
        essential: true,
        user: CONTAINER_USER,
        memory: props.size.memory_mib,
        readonly_root_filesystem: true,
        environment: props.environment.into_iter().map(|(name, value)| KeyValue { name, value }).collect(),
        secrets: props
            .secrets
            .iter()
            .map(|(name, parameter)| Secret { name: name.clone(), value_from: parameter.arn() })
            .collect(),
        log_configuration: LogConfiguration {
            log_driver: "awslogs",
            options: AwsLogsOptions {
                group: props.log_group.name(),
                region: Expr::Pseudo(Pseudo::Region),
                stream_prefix: container.to_owned(),
            },
        },
    };
    let properties = CfnTaskDefinition {
        family: props.family,
        cpu: props.size.cpu.to_string(),
        memory: props.size.memory_mib.to_string(),
        network_mode: "awsvpc",
        requires_compatibilities: vec!["FARGATE"],
        runtime_platform: RuntimePlatform {
            cpu_architecture: match props.architecture {
                Architecture::X86_64 => "X86_64",
                Architecture::Arm64 => "ARM64",
            },
            operating_system_family: "LINUX",
        },
        task_role_arn: task_role.arn(),
        execution_role_arn: execution_role.arn(),
        container_definitions: vec![container],
    };
    let resource = Resource::new("AWS::ECS::TaskDefinition", &properties)?.suppress_nag(
        "AwsSolutions-ECS2",
        "the plain variables are names and settings (bucket, topic, site, a channels file of ${VAR} references \
         only); every credential is in Secrets",
    );
    stack.add(&id, resource)?;
    Ok(FargateTaskRef { id, task_role, execution_role })
}

impl FargateTaskRef {
    /// A task definition's `Ref` is its ARN, with the revision.
    pub fn arn(&self) -> Expr {
        Expr::Ref(self.id.clone())
    }

    /// The role the container's code runs as: grant to it what the code needs.
    pub fn task_role(&self) -> &RoleRef {
        &self.task_role
    }

    /// The role ECS uses to start the task.
    pub fn execution_role(&self) -> &RoleRef {
        &self.execution_role
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnCluster {
    capacity_providers: Vec<&'static str>,
    default_capacity_provider_strategy: Vec<CapacityProviderStrategy>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnTaskDefinition {
    family: String,
    cpu: String,
    memory: String,
    network_mode: &'static str,
    requires_compatibilities: Vec<&'static str>,
    runtime_platform: RuntimePlatform,
    task_role_arn: Expr,
    execution_role_arn: Expr,
    container_definitions: Vec<ContainerDefinition>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RuntimePlatform {
    cpu_architecture: &'static str,
    operating_system_family: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerDefinition {
    name: String,
    image: Expr,
    essential: bool,
    user: &'static str,
    /// The hard limit: the task's whole memory, so a leak stops the container, not the task's neighbours.
    memory: u32,
    readonly_root_filesystem: bool,
    environment: Vec<KeyValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    secrets: Vec<Secret>,
    log_configuration: LogConfiguration,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeyValue {
    name: String,
    value: Expr,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Secret {
    name: String,
    value_from: Expr,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LogConfiguration {
    log_driver: &'static str,
    options: AwsLogsOptions,
}

#[derive(Serialize)]
struct AwsLogsOptions {
    #[serde(rename = "awslogs-group")]
    group: Expr,
    #[serde(rename = "awslogs-region")]
    region: Expr,
    #[serde(rename = "awslogs-stream-prefix")]
    stream_prefix: String,
}
