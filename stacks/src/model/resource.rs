//! One resource of a template: its type, its properties, its resource attributes and the checker
//! rules it is exempt from, each with its reason, written where each checker reads them
//! (cfn-lint, checkov, cfn-guard and cdk-nag).

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::model::error::SynthError;
use crate::model::names::LogicalId;

/// One resource of a template: its type, its properties (serialized from a typed struct of the
/// construct that made it) and its resource attributes.
#[derive(Debug, Clone)]
pub struct Resource {
    resource_type: &'static str,
    properties: Value,
    depends_on: Vec<LogicalId>,
    retain: bool,
    cfn_lint_ignores: Vec<Suppression>,
    checkov_skips: Vec<Suppression>,
    guard_suppressions: Vec<Suppression>,
    nag_suppressions: Vec<NagSuppression>,
}

/// A checker rule that does not fit this resource, with the one-line reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub rule: &'static str,
    pub reason: &'static str,
}

/// A cdk-nag rule that does not fit this resource, with the reason; `applies_to` narrows it to
/// some of the rule's findings (`Resource::<Reports.Arn>/reports/*` of `AwsSolutions-IAM5`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NagSuppression {
    pub rule: &'static str,
    pub reason: &'static str,
    /// Default: empty (every finding of the rule on this resource).
    pub applies_to: Vec<String>,
}

impl Resource {
    /// A resource of `resource_type` whose properties are `properties`, a construct's typed struct.
    pub fn new<P: Serialize>(resource_type: &'static str, properties: &P) -> Result<Resource, SynthError> {
        let properties =
            serde_json::to_value(properties).map_err(|source| SynthError::Properties { resource_type, source })?;
        Ok(Resource {
            resource_type,
            properties,
            depends_on: Vec::new(),
            retain: false,
            cfn_lint_ignores: Vec::new(),
            checkov_skips: Vec::new(),
            guard_suppressions: Vec::new(),
            nag_suppressions: Vec::new(),
        })
    }

    /// `DeletionPolicy: Retain` and `UpdateReplacePolicy: Retain`: the resource outlives the stack.
    pub fn retain_on_delete_and_replace(mut self) -> Resource {
        self.retain = true;
        self
    }

    /// CloudFormation creates `id` before this resource (and deletes it after).
    pub fn depends_on(mut self, id: &LogicalId) -> Resource {
        self.depends_on.push(id.clone());
        self
    }

    /// Ignores a cfn-lint rule on this resource (`Metadata.cfn-lint.config.ignore_checks`).
    pub fn ignore_cfn_lint(mut self, rule: &'static str, reason: &'static str) -> Resource {
        self.cfn_lint_ignores.push(Suppression { rule, reason });
        self
    }

    /// Skips a checkov check on this resource (`Metadata.checkov.skip`, with the reason as comment).
    pub fn skip_checkov(mut self, rule: &'static str, reason: &'static str) -> Resource {
        self.checkov_skips.push(Suppression { rule, reason });
        self
    }

    /// Suppresses a cfn-guard rule (by its rule name, e.g. `s3_bucket_logging_enabled_check`) on
    /// this resource (`Metadata.guard.SuppressedRules`).
    pub fn suppress_guard(mut self, rule: &'static str, reason: &'static str) -> Resource {
        self.guard_suppressions.push(Suppression { rule, reason });
        self
    }

    /// Suppresses a cdk-nag rule (`AwsSolutions-S1`) on this resource (`Metadata.cdk_nag`).
    pub fn suppress_nag(self, rule: &'static str, reason: &'static str) -> Resource {
        self.suppress_nag_findings(NagSuppression { rule, reason, applies_to: Vec::new() })
    }

    /// Suppresses some findings of a cdk-nag rule on this resource (`applies_to`).
    pub fn suppress_nag_findings(mut self, suppression: NagSuppression) -> Resource {
        self.nag_suppressions.push(suppression);
        self
    }

    pub fn resource_type(&self) -> &'static str {
        self.resource_type
    }

    /// Whether the resource outlives its stack (`retain_on_delete_and_replace`).
    pub fn is_retained(&self) -> bool {
        self.retain
    }

    /// The resource as the template's `Resources` section holds it.
    pub(crate) fn to_json(&self) -> Value {
        let mut resource = Map::new();
        resource.insert("Type".to_owned(), json!(self.resource_type));
        if self.properties.as_object().is_some_and(|it| !it.is_empty()) {
            resource.insert("Properties".to_owned(), self.properties.clone());
        }
        if !self.depends_on.is_empty() {
            resource.insert("DependsOn".to_owned(), json!(self.depends_on));
        }
        if self.retain {
            resource.insert("DeletionPolicy".to_owned(), json!("Retain"));
            resource.insert("UpdateReplacePolicy".to_owned(), json!("Retain"));
        }
        let mut metadata = Map::new();
        if !self.cfn_lint_ignores.is_empty() {
            let rules: Vec<&str> = self.cfn_lint_ignores.iter().map(|it| it.rule).collect();
            metadata.insert("cfn-lint".to_owned(), json!({ "config": { "ignore_checks": rules } }));
            // cfn-lint has no place for a reason; this key carries it next to the rule.
            let reasons: Map<String, Value> =
                self.cfn_lint_ignores.iter().map(|it| (it.rule.to_owned(), json!(it.reason))).collect();
            metadata.insert("cfn-lint-reasons".to_owned(), Value::Object(reasons));
        }
        if !self.checkov_skips.is_empty() {
            let skips: Vec<Value> =
                self.checkov_skips.iter().map(|it| json!({ "id": it.rule, "comment": it.reason })).collect();
            metadata.insert("checkov".to_owned(), json!({ "skip": skips }));
        }
        if !self.guard_suppressions.is_empty() {
            let rules: Vec<&str> = self.guard_suppressions.iter().map(|it| it.rule).collect();
            metadata.insert("guard".to_owned(), json!({ "SuppressedRules": rules }));
            // cfn-guard has no place for a reason either.
            let reasons: Map<String, Value> =
                self.guard_suppressions.iter().map(|it| (it.rule.to_owned(), json!(it.reason))).collect();
            metadata.insert("guard-reasons".to_owned(), Value::Object(reasons));
        }
        if !self.nag_suppressions.is_empty() {
            let rules: Vec<Value> = self
                .nag_suppressions
                .iter()
                .map(|it| match it.applies_to.is_empty() {
                    true => json!({ "id": it.rule, "reason": it.reason }),
                    false => json!({ "id": it.rule, "reason": it.reason, "applies_to": it.applies_to }),
                })
                .collect();
            metadata.insert("cdk_nag".to_owned(), json!({ "rules_to_suppress": rules }));
        }
        if !metadata.is_empty() {
            resource.insert("Metadata".to_owned(), Value::Object(metadata));
        }
        Value::Object(resource)
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    #[test]
    fn suppressions_are_written_where_cfn_lint_checkov_guard_and_nag_read_them() {
        let resource = Resource::new("AWS::S3::Bucket", &json!({}))
            .unwrap()
            .ignore_cfn_lint("W3005", "a reason")
            .skip_checkov("CKV_AWS_18", "another reason")
            .suppress_guard("s3_bucket_logging_enabled_check", "a third reason")
            .suppress_nag("AwsSolutions-S1", "a fourth reason")
            .suppress_nag_findings(NagSuppression {
                rule: "AwsSolutions-IAM5",
                reason: "a fifth reason",
                applies_to: vec!["Resource::*".to_owned()],
            })
            .retain_on_delete_and_replace();
        expect![[r#"{"DeletionPolicy":"Retain","Metadata":{"cdk_nag":{"rules_to_suppress":[{"id":"AwsSolutions-S1","reason":"a fourth reason"},{"applies_to":["Resource::*"],"id":"AwsSolutions-IAM5","reason":"a fifth reason"}]},"cfn-lint":{"config":{"ignore_checks":["W3005"]}},"cfn-lint-reasons":{"W3005":"a reason"},"checkov":{"skip":[{"comment":"another reason","id":"CKV_AWS_18"}]},"guard":{"SuppressedRules":["s3_bucket_logging_enabled_check"]},"guard-reasons":{"s3_bucket_logging_enabled_check":"a third reason"}},"Type":"AWS::S3::Bucket","UpdateReplacePolicy":"Retain"}"#]]
            .assert_eq(&resource.to_json().to_string());
    }
}
