//! EventBridge Scheduler: a cron schedule in a time zone that runs an ECS task on Fargate Spot.

use serde::Serialize;
use serde_json::json;

use crate::{
    ecs::{CapacityProviderStrategy, ClusterRef, FargateTaskRef},
    iam::{
        self,
        policy::{Grant, ServicePrincipal, Statement},
    },
    model::{error::SynthError, expr::Expr, names::LogicalId, resource::Resource, stack::Stack},
};

/// When and where the task runs.
#[derive(Debug, Clone)]
pub struct EcsScheduleProps {
    /// `cron(...)`, `rate(...)` or `at(...)`, in `time_zone`. No default.
    pub expression: String,
    /// An IANA time zone such as `Asia/Shanghai`. No default.
    pub time_zone: String,
    /// The subnets the task runs in (a `List<AWS::EC2::Subnet::Id>` value). No default.
    pub subnets: Expr,
    /// The task's security group. No default.
    pub security_group: Expr,
    /// How often Scheduler retries a start that failed (e.g. no Spot capacity). Default: 3.
    pub retries: u32,
}

/// Adds a schedule that starts one `task` on `cluster` through the `FARGATE_SPOT` capacity
/// provider (a launch type would bypass Spot) with a public IP, and its role `<id>Role`.
pub fn ecs_schedule(
    stack: &mut Stack,
    id: &str,
    cluster: &ClusterRef,
    task: &FargateTaskRef,
    props: EcsScheduleProps,
) -> Result<(), SynthError> {
    let id = LogicalId::new(id)?;
    let role = iam::role(stack, &id.child("Role")?, ServicePrincipal::Scheduler)?;
    let on_cluster = json!({ "ArnEquals": { "ecs:cluster": cluster.arn() } });
    stack.grant(
        &role,
        Grant::new(vec![Statement::allow(&["ecs:RunTask"], vec![task.arn()]).with_condition(on_cluster)]),
    );
    stack.grant(&role, task.task_role().grant_pass_to(ServicePrincipal::EcsTasks));
    stack.grant(&role, task.execution_role().grant_pass_to(ServicePrincipal::EcsTasks));

    let properties = CfnSchedule {
        description: "Runs the signal job",
        schedule_expression: props.expression,
        schedule_expression_timezone: props.time_zone,
        flexible_time_window: FlexibleTimeWindow { mode: "OFF" },
        state: "ENABLED",
        target: Target {
            arn: cluster.arn(),
            role_arn: role.arn(),
            ecs_parameters: EcsParameters {
                task_definition_arn: task.arn(),
                task_count: 1,
                capacity_provider_strategy: vec![CapacityProviderStrategy::spot()],
                network_configuration: NetworkConfiguration {
                    awsvpc_configuration: AwsvpcConfiguration {
                        subnets: props.subnets,
                        security_groups: vec![props.security_group],
                        assign_public_ip: "ENABLED",
                    },
                },
            },
            retry_policy: RetryPolicy { maximum_retry_attempts: props.retries, maximum_event_age_in_seconds: 3600 },
        },
    };
    stack.add(&id, Resource::new("AWS::Scheduler::Schedule", &properties)?)
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnSchedule {
    description: &'static str,
    schedule_expression: String,
    schedule_expression_timezone: String,
    flexible_time_window: FlexibleTimeWindow,
    state: &'static str,
    target: Target,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FlexibleTimeWindow {
    mode: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Target {
    arn: Expr,
    role_arn: Expr,
    ecs_parameters: EcsParameters,
    retry_policy: RetryPolicy,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EcsParameters {
    task_definition_arn: Expr,
    task_count: u32,
    capacity_provider_strategy: Vec<CapacityProviderStrategy>,
    network_configuration: NetworkConfiguration,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct NetworkConfiguration {
    awsvpc_configuration: AwsvpcConfiguration,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AwsvpcConfiguration {
    subnets: Expr,
    security_groups: Vec<Expr>,
    assign_public_ip: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RetryPolicy {
    maximum_retry_attempts: u32,
    maximum_event_age_in_seconds: u32,
}
