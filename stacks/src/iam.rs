//! IAM: roles, policy statements and grants.
//!
//! A grant is a value: the exact actions on the exact ARNs that one use of one resource needs,
//! made by the resource's handle (`bucket.grant_read(prefix)`) and given to a role with
//! `stack.grant(&role, grant)`. All grants to a role become its one inline policy at synth.

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::{Expr, LogicalId, Resource, Stack, SynthError};

/// One IAM policy statement. Actions are always named in full: there is no way to write `s3:*`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    effect: &'static str,
    action: Vec<&'static str>,
    resource: Vec<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<Value>,
}

impl Statement {
    /// Allows `actions` on `resources`.
    pub fn allow(actions: &[&'static str], resources: Vec<Expr>) -> Statement {
        Statement { effect: "Allow", action: actions.to_vec(), resource: resources, condition: None }
    }

    /// Allows `actions` on any resource: only for actions that AWS cannot scope to a resource
    /// (such as `ecr:GetAuthorizationToken`); the invariant tests list each use.
    pub fn allow_on_any_resource(actions: &[&'static str]) -> Statement {
        Statement::allow(actions, vec![Expr::str("*")])
    }

    pub fn with_condition(mut self, condition: Value) -> Statement {
        self.condition = Some(condition);
        self
    }
}

/// What one use of a resource needs: given to a role with [`Stack::grant`].
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

/// Adds a role that `service` may assume, with no permissions until something is granted to it.
pub fn role(stack: &mut Stack, id: &LogicalId, service: ServicePrincipal) -> Result<RoleRef, SynthError> {
    let properties = CfnRole {
        assume_role_policy_document: json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": { "Service": service.host() },
                "Action": "sts:AssumeRole",
            }],
        }),
    };
    stack.add(id, Resource::new("AWS::IAM::Role", &properties)?)?;
    Ok(RoleRef { id: id.clone() })
}

impl RoleRef {
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

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnRole {
    assume_role_policy_document: Value,
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    fn publish(topic_arn: &str) -> Grant {
        Grant::new(vec![Statement::allow(&["sns:Publish"], vec![Expr::str(topic_arn)])])
    }

    #[test]
    fn grants_to_a_role_become_its_one_inline_policy_without_repeats() {
        let mut stack = Stack::new("test", "a test").unwrap();
        let role = role(&mut stack, &LogicalId::new("Role").unwrap(), ServicePrincipal::Lambda).unwrap();
        stack.grant(&role, publish("arn:one"));
        stack.grant(&role, publish("arn:two"));
        stack.grant(&role, publish("arn:one"));
        let template = stack.synth().unwrap();
        expect![[r#"[{"PolicyDocument":{"Statement":[{"Action":["sns:Publish"],"Effect":"Allow","Resource":["arn:one"]},{"Action":["sns:Publish"],"Effect":"Allow","Resource":["arn:two"]}],"Version":"2012-10-17"},"PolicyName":"Grants"}]"#]]
            .assert_eq(&template.json()["Resources"]["Role"]["Properties"]["Policies"].to_string());
    }

    #[test]
    fn a_role_without_grants_has_no_policy() {
        let mut stack = Stack::new("test", "a test").unwrap();
        role(&mut stack, &LogicalId::new("Role").unwrap(), ServicePrincipal::EcsTasks).unwrap();
        let template = stack.synth().unwrap();
        assert!(template.json()["Resources"]["Role"]["Properties"].get("Policies").is_none());
    }

    #[test]
    fn a_grant_to_a_role_of_another_stack_fails_synth() {
        let mut other = Stack::new("other", "a test").unwrap();
        let role = role(&mut other, &LogicalId::new("Role").unwrap(), ServicePrincipal::Lambda).unwrap();
        let mut stack = Stack::new("test", "a test").unwrap();
        stack.grant(&role, publish("arn:one"));
        expect!["a grant names role Role, which is not a role in stack test"]
            .assert_eq(&stack.synth().unwrap_err().to_string());
    }
}
