//! IAM policy values: statements, grants, the services a role may trust and the handle of a
//! role. Plain values that need no stack: the stack collects grants per role and writes them.

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::expr::Expr;
use crate::model::names::LogicalId;
use crate::model::resource::NagSuppression;

/// One IAM policy statement. Actions are always named in full: there is no way to write `s3:*`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    effect: &'static str,
    action: Vec<&'static str>,
    resource: Vec<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<Value>,
    /// Why a `*` in a resource is as narrow as the grant can be: the role's cdk-nag suppression
    /// of `AwsSolutions-IAM5` for exactly those resources, written at synth.
    #[serde(skip)]
    wildcard_reason: Option<&'static str>,
}

impl Statement {
    /// Allows `actions` on `resources`.
    pub fn allow(actions: &[&'static str], resources: Vec<Expr>) -> Statement {
        Statement {
            effect: "Allow",
            action: actions.to_vec(),
            resource: resources,
            condition: None,
            wildcard_reason: None,
        }
    }

    /// Allows `actions` on any resource: only for actions that AWS cannot scope to a resource
    /// (such as `ecr:GetAuthorizationToken`), saying why; the invariant tests list each use.
    pub fn allow_on_any_resource(actions: &[&'static str], reason: &'static str) -> Statement {
        Statement::allow(actions, vec![Expr::str("*")]).with_wildcard_reason(reason)
    }

    /// Says why the `*` in this statement's resources (a key prefix's objects, say) is as narrow as it can be.
    pub fn with_wildcard_reason(mut self, reason: &'static str) -> Statement {
        self.wildcard_reason = Some(reason);
        self
    }

    /// The cdk-nag suppression of `AwsSolutions-IAM5` for the resources with a `*`, named as
    /// cdk-nag names its findings (`Resource::*`, `Resource::<Reports.Arn>/reports/*`).
    pub(crate) fn wildcard_suppression(&self) -> Option<NagSuppression> {
        let reason = self.wildcard_reason?;
        let applies_to: Vec<String> = self
            .resource
            .iter()
            .filter_map(nag_name)
            .filter(|it| it.contains('*'))
            .map(|it| format!("Resource::{it}"))
            .collect();
        // Never a suppression of every finding of the rule: only of these resources.
        if applies_to.is_empty() {
            return None;
        }
        Some(NagSuppression { rule: "AwsSolutions-IAM5", reason, applies_to })
    }

    pub fn with_condition(mut self, condition: Value) -> Statement {
        self.condition = Some(condition);
        self
    }
}

/// A resource as cdk-nag names it in a finding: references as `<Name>` and `<Name.Attribute>`,
/// pseudo parameters as `<AWS::Partition>`, `Fn::Sub` and `Fn::Join` spelled out.
fn nag_name(resource: &Expr) -> Option<String> {
    match resource {
        Expr::Str(it) => Some(it.clone()),
        Expr::Sub(it) => Some(it.replace("${", "<").replace('}', ">")),
        Expr::Ref(id) => Some(format!("<{id}>")),
        Expr::GetAtt(id, attribute) => Some(format!("<{id}.{attribute}>")),
        Expr::Pseudo(_) => resource.to_json()["Ref"].as_str().map(|it| format!("<{it}>")),
        Expr::Join(separator, parts) => {
            let parts: Option<Vec<String>> = parts.iter().map(nag_name).collect();
            Some(parts?.join(separator))
        }
        Expr::Select(..) | Expr::GetAzs => None,
    }
}

/// What one use of a resource needs: given to a role with [`Stack::grant`](crate::model::stack::Stack::grant).
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    statements: Vec<Statement>,
}

impl Grant {
    pub fn new(statements: Vec<Statement>) -> Grant {
        Grant { statements }
    }

    pub(crate) fn into_statements(self) -> Vec<Statement> {
        self.statements
    }
}

/// The AWS service a role is for: the principal of its trust policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServicePrincipal {
    EcsTasks,
    Lambda,
    Scheduler,
}

impl ServicePrincipal {
    pub fn host(self) -> &'static str {
        match self {
            ServicePrincipal::EcsTasks => "ecs-tasks.amazonaws.com",
            ServicePrincipal::Lambda => "lambda.amazonaws.com",
            ServicePrincipal::Scheduler => "scheduler.amazonaws.com",
        }
    }
}

/// A role in a stack. Its permissions come only from grants: no managed policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRef {
    id: LogicalId,
}

impl RoleRef {
    /// The handle of the role `id`, which [`iam::role`](crate::iam::role) has just added.
    pub(crate) fn new(id: LogicalId) -> RoleRef {
        RoleRef { id }
    }

    pub fn id(&self) -> &LogicalId {
        &self.id
    }

    pub fn arn(&self) -> Expr {
        Expr::GetAtt(self.id.clone(), "Arn")
    }

    /// `iam:PassRole` on this role, to `service` only: what a scheduler needs to start a task with it.
    pub fn grant_pass_to(&self, service: ServicePrincipal) -> Grant {
        let only_to = json!({ "StringEquals": { "iam:PassedToService": service.host() } });
        Grant::new(vec![Statement::allow(&["iam:PassRole"], vec![self.arn()]).with_condition(only_to)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applies_to(statement: &Statement) -> Option<Vec<String>> {
        statement.wildcard_suppression().map(|it| it.applies_to)
    }

    #[test]
    fn a_wildcard_suppression_names_each_resource_as_cdk_nag_names_its_finding() {
        // The names cdk-nag 2.38 printed for these resources, each a finding of AwsSolutions-IAM5.
        let bucket_objects = Expr::Sub("${Reports.Arn}/reports/*".to_owned());
        let parameter_objects = Expr::Join(
            "",
            vec![
                Expr::Sub("arn:${AWS::Partition}:s3:::".to_owned()),
                Expr::Ref(LogicalId::new("BucketName").unwrap()),
                Expr::str("/x/*"),
            ],
        );
        let exact = Expr::GetAtt(LogicalId::new("Reports").unwrap(), "Arn");
        let statement = Statement::allow(&["s3:GetObject"], vec![bucket_objects, parameter_objects, exact])
            .with_wildcard_reason("one prefix");
        let expected = ["Resource::<Reports.Arn>/reports/*", "Resource::arn:<AWS::Partition>:s3:::<BucketName>/x/*"];
        assert_eq!(applies_to(&statement), Some(expected.map(str::to_owned).to_vec()));
        let any = Statement::allow_on_any_resource(&["ecr:GetAuthorizationToken"], "account-wide");
        assert_eq!(applies_to(&any), Some(vec!["Resource::*".to_owned()]));
    }

    #[test]
    fn a_reason_without_a_wildcard_suppresses_nothing() {
        let exact = Statement::allow(&["sns:Publish"], vec![Expr::str("arn:aws:sns:us-east-1:1:t")]);
        assert_eq!(applies_to(&exact.clone().with_wildcard_reason("no wildcard here")), None);
        assert_eq!(applies_to(&exact), None);
    }
}
