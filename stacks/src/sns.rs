//! SNS: topics, e-mail subscriptions, and the grants to publish and subscribe.

use serde::Serialize;
use serde_json::json;

use crate::{
    iam::policy::{Grant, Statement},
    model::{error::SynthError, expr::Expr, names::LogicalId, resource::Resource, stack::Stack},
};

/// How a topic differs from the default.
#[derive(Debug, Clone)]
pub struct TopicProps {
    /// The sender name e-mail subscribers see. Default: None (the topic name).
    pub display_name: Option<String>,
    /// Encrypt messages at rest with the AWS-managed `alias/aws/sns` key. EventBridge cannot
    /// publish to such a topic, so a topic that receives events turns this off. Default: true.
    pub encrypted: bool,
}

impl Default for TopicProps {
    fn default() -> TopicProps {
        TopicProps { display_name: None, encrypted: true }
    }
}

/// A topic in a stack.
#[derive(Debug, Clone)]
pub struct TopicRef {
    id: LogicalId,
}

/// Adds a topic.
pub fn topic(stack: &mut Stack, id: &str, props: TopicProps) -> Result<TopicRef, SynthError> {
    let id = LogicalId::new(id)?;
    let properties =
        CfnTopic { display_name: props.display_name, kms_master_key_id: props.encrypted.then_some("alias/aws/sns") };
    let mut resource = Resource::new("AWS::SNS::Topic", &properties)?;
    if !props.encrypted {
        resource = resource.skip_checkov(
            "CKV_AWS_26",
            "EventBridge can only publish to a topic encrypted with a customer key, which costs $1 a month",
        );
    }
    stack.add(&id, resource)?;
    Ok(TopicRef { id })
}

/// Subscribes an e-mail address to `topic` (AWS sends a confirmation mail first).
pub fn email_subscription(stack: &mut Stack, id: &str, topic: &TopicRef, email: &str) -> Result<(), SynthError> {
    let properties = CfnSubscription { topic_arn: topic.arn(), protocol: "email", endpoint: email.to_owned() };
    stack.add(&LogicalId::new(id)?, Resource::new("AWS::SNS::Subscription", &properties)?)
}

impl TopicRef {
    /// The topic whose ARN the stack's parameter `id` holds (a topic of another stack).
    pub fn from_arn_parameter(id: LogicalId) -> TopicRef {
        TopicRef { id }
    }

    pub fn id(&self) -> &LogicalId {
        &self.id
    }

    /// An `AWS::SNS::Topic`'s `Ref` is its ARN, not its name.
    pub fn arn(&self) -> Expr {
        Expr::Ref(self.id.clone())
    }

    pub fn grant_publish(&self) -> Grant {
        Grant::new(vec![Statement::allow(&["sns:Publish"], vec![self.arn()])])
    }

    /// Subscribe addresses to this topic, and list its subscriptions: the subscriber registry looks
    /// first, so an address already subscribed or pending is not subscribed (and mailed) again.
    /// A subscriber's choice of days is its filter policy, passed in `Subscribe`'s own `Attributes`
    /// (`FilterPolicy`, `FilterPolicyScope`), which `sns:Subscribe` covers: no
    /// `sns:SetSubscriptionAttributes`, which would also let the function change others' choices.
    pub fn grant_subscribe(&self) -> Grant {
        Grant::new(vec![Statement::allow(&["sns:ListSubscriptionsByTopic", "sns:Subscribe"], vec![self.arn()])])
    }

    /// Lets EventBridge publish to this topic, only for the rule `rule_arn`, and only over TLS (its
    /// policy is `<id>Policy`).
    pub fn allow_events_rule(&self, stack: &mut Stack, rule_arn: Expr) -> Result<(), SynthError> {
        let statement = json!({
            "Sid": "EventsRulePublishes",
            "Effect": "Allow",
            "Principal": { "Service": "events.amazonaws.com" },
            "Action": "sns:Publish",
            "Resource": self.arn(),
            "Condition": { "ArnEquals": { "aws:SourceArn": rule_arn } },
        });
        // A topic without encryption at rest gets no TLS requirement from SNS; this policy adds it.
        let deny_plain_http = json!({
            "Sid": "DenyPublishWithoutTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": self.arn(),
            "Condition": { "Bool": { "aws:SecureTransport": "false" } },
        });
        let properties = CfnTopicPolicy {
            topics: vec![self.arn()],
            policy_document: json!({ "Version": "2012-10-17", "Statement": [statement, deny_plain_http] }),
        };
        stack.add(&self.id.child("Policy")?, Resource::new("AWS::SNS::TopicPolicy", &properties)?)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnTopic {
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_master_key_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnSubscription {
    topic_arn: Expr,
    protocol: &'static str,
    endpoint: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnTopicPolicy {
    topics: Vec<Expr>,
    policy_document: serde_json::Value,
}
