//! IAM: roles, policy statements and grants.
//!
//! A grant is a value: the exact actions on the exact ARNs that one use of one resource needs,
//! made by the resource's handle (`bucket.grant_read(prefix)`) and given to a role with
//! `stack.grant(&role, grant)`. All grants to a role become its one inline policy at synth.
//!
//! The values live in `policy` (which the stack needs too); this file adds roles to a stack.

pub(crate) mod policy;

use serde::Serialize;
use serde_json::{Value, json};

pub use self::policy::{Grant, RoleRef, ServicePrincipal, Statement};
use crate::model::error::SynthError;
use crate::model::names::LogicalId;
use crate::model::resource::Resource;
use crate::model::stack::Stack;

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
    Ok(RoleRef::new(id.clone()))
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
    use crate::model::expr::Expr;

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
