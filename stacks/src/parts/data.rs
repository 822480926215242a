//! The data stack: what the users own and nothing else can rebuild, kept apart from the stacks
//! `destroy` removes (the way CDK users keep stateful resources in a stack of their own).
//!
//! The reports bucket holds the report history; the signal topic holds every confirmed e-mail
//! subscription (a new topic would make every subscriber confirm again). Both are retained on
//! delete and on replacement, and deploy turns on the stack's termination protection
//! ((`Part::termination_protection`)). The app stack takes them as
//! parameters.

use crate::{
    config::StageConfig,
    model::{error::SynthError, handle::NamedResource, names::LogicalId, stack::Stack},
    parts::{AdoptedResource, Adoption, Input, Part},
    s3::{self, BucketProps},
    sns::{self, TopicProps},
};

/// Output: the reports bucket's name (the app stack's `ReportsBucketName`).
pub const REPORTS_BUCKET_NAME: &str = "ReportsBucketName";
/// Output: the signal topic's ARN (the app stack's `SignalTopicArn`).
pub const SIGNAL_TOPIC_ARN: &str = "SignalTopicArn";

/// Logical ids of the data stack's resources, which `status` and the import of a retained
/// bucket look up. Logical ids never change.
pub mod ids {
    /// The reports bucket (physical id: its name).
    pub const REPORTS: &str = "Reports";
    /// The signal topic (physical id: its ARN).
    pub const SIGNALS: &str = "Signals";
}

/// The data stack takes no parameters.
pub fn inputs() -> Vec<(&'static str, Input)> {
    Vec::new()
}

pub fn stack(stage: &StageConfig) -> Result<Stack, SynthError> {
    let mut stack = Stack::new(&Part::Data.stack_name(&stage.name), "the report history and the subscribers")?;
    let reports = s3::bucket(
        &mut stack,
        ids::REPORTS,
        BucketProps { versioned: true, retain: true, noncurrent_expire_after_days: Some(90), ..BucketProps::default() },
    )?;
    let signals = sns::topic(
        &mut stack,
        ids::SIGNALS,
        TopicProps { display_name: Some("invest-alchemy".to_owned()), ..TopicProps::default() },
    )?;
    stack.retain(&LogicalId::new(ids::SIGNALS)?)?;
    stack.output(REPORTS_BUCKET_NAME, "Bucket of the reports (kept when the stack is deleted)", reports.name())?;
    stack.output(SIGNAL_TOPIC_ARN, "Topic of the daily signals (kept when the stack is deleted)", signals.arn())?;
    Ok(stack)
}

/// The reports bucket of a deployment made before the data stack existed: the app stack held it
/// under the same logical id, and CloudFormation named it `<stack name>-reports-<suffix>`
/// (lowercase). A deploy that finds no data stack imports it.
pub fn adoption(stage: &str) -> Adoption {
    let previous_stack = Part::App.stack_name(stage);
    Adoption {
        template: "data-import.yaml".to_owned(),
        resources: vec![AdoptedResource {
            logical_id: ids::REPORTS.to_owned(),
            resource_type: "AWS::S3::Bucket".to_owned(),
            identifier: "BucketName".to_owned(),
            name_prefix: format!("{previous_stack}-reports-").to_lowercase(),
            previous_stack,
        }],
    }
}
