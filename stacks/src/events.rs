//! EventBridge rules: tell the owner when the job's task stops with a non-zero exit code.

use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    ecs::ClusterRef,
    model::{error::SynthError, expr::Expr, names::LogicalId, resource::Resource, stack::Stack},
    sns::TopicRef,
};

/// Adds a rule that publishes a one-line message to `topic` whenever a task on `cluster` stops
/// with a container whose exit code is not 0 or fails to start, and lets the rule publish there.
pub fn task_failure_alarm(
    stack: &mut Stack,
    id: &str,
    cluster: &ClusterRef,
    topic: &TopicRef,
) -> Result<(), SynthError> {
    let id = LogicalId::new(id)?;
    let pattern = json!({
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {
            "clusterArn": [cluster.arn()],
            "lastStatus": ["STOPPED"],
            // A container exited non-zero, or the task never started (no exit code at all).
            "$or": [
                { "containers": { "exitCode": [{ "anything-but": 0 }] } },
                { "stopCode": ["TaskFailedToStart"] },
            ],
        },
    });
    let properties = CfnRule {
        description: "The signal job's task failed to start or stopped with a non-zero exit code",
        event_pattern: pattern,
        state: "ENABLED",
        targets: vec![RuleTarget {
            id: "OwnerAlarm",
            arn: topic.arn(),
            input_transformer: InputTransformer {
                input_paths_map: json!({
                    "task": "$.detail.taskArn",
                    "exitCode": "$.detail.containers[0].exitCode",
                    "reason": "$.detail.stoppedReason",
                }),
                input_template: concat!(
                    "\"invest-alchemy: the signal job <task> stopped ",
                    "(exit code <exitCode>, <reason>). See its log group.\"",
                ),
            },
        }],
    };
    stack.add(&id, Resource::new("AWS::Events::Rule", &properties)?)?;
    topic.allow_events_rule(stack, Expr::GetAtt(id, "Arn"))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnRule {
    description: &'static str,
    event_pattern: Value,
    state: &'static str,
    targets: Vec<RuleTarget>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RuleTarget {
    id: &'static str,
    arn: Expr,
    input_transformer: InputTransformer,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InputTransformer {
    input_paths_map: Value,
    input_template: &'static str,
}
