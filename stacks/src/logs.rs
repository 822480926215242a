//! CloudWatch Logs: log groups with retention, and the grant to write to one.

use serde::Serialize;

use crate::{
    iam::policy::{Grant, Statement},
    model::{error::SynthError, handle::NamedResource, names::LogicalId, resource::Resource, stack::Stack},
};

/// How a log group differs from the default.
#[derive(Debug, Clone)]
pub struct LogGroupProps {
    /// The group's name, when something finds it by name (Lambda's `/aws/lambda/<function>`). Default: None (generated).
    pub name: Option<String>,
    /// Days to keep events; one of the values CloudWatch accepts. Default: 30.
    pub retention_days: u32,
}

impl Default for LogGroupProps {
    fn default() -> LogGroupProps {
        LogGroupProps { name: None, retention_days: 30 }
    }
}

/// A log group in a stack.
#[derive(Debug, Clone)]
pub struct LogGroupRef {
    id: LogicalId,
}

/// Adds a log group that deletes events after its retention.
pub fn log_group(stack: &mut Stack, id: &str, props: LogGroupProps) -> Result<LogGroupRef, SynthError> {
    let id = LogicalId::new(id)?;
    let properties = CfnLogGroup { log_group_name: props.name, retention_in_days: props.retention_days };
    let encrypted = "CloudWatch encrypts logs by default; a customer KMS key costs $1 a month";
    let resource = Resource::new("AWS::Logs::LogGroup", &properties)?
        .skip_checkov("CKV_AWS_158", encrypted)
        .suppress_guard("cloudwatch_log_group_encrypted_check", encrypted)
        .suppress_guard(
            "cloudwatch_log_group_retention_period_check",
            "kept for the stage's `log_retention_days` (30 unless set): CloudWatch bills log storage by the month",
        );
    stack.add(&id, resource)?;
    Ok(LogGroupRef { id })
}

/// A log group's `Ref` is its name; its `Fn::GetAtt Arn` ends in `:*`, which covers its streams.
impl NamedResource for LogGroupRef {
    fn id(&self) -> &LogicalId {
        &self.id
    }
}

impl LogGroupRef {
    /// Create streams in this group and write events to them.
    pub fn grant_write(&self) -> Grant {
        Grant::new(vec![Statement::allow(&["logs:CreateLogStream", "logs:PutLogEvents"], vec![self.arn()])])
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnLogGroup {
    #[serde(skip_serializing_if = "Option::is_none")]
    log_group_name: Option<String>,
    retention_in_days: u32,
}
