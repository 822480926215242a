//! SSM Parameter Store: parameters created outside any template, such as the Tushare token,
//! which `cargo xtask secret set` writes as a SecureString so that no template ever holds it.

use crate::{
    iam::policy::{Grant, Statement},
    model::expr::Expr,
};

/// A parameter that exists outside the stack, known by its name (which starts with `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterRef {
    name: String,
}

impl ParameterRef {
    /// Refers to the parameter `name`, e.g. `/invest-alchemy/dev/tushare-token`.
    pub fn from_name(name: &str) -> ParameterRef {
        ParameterRef { name: name.to_owned() }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parameter's ARN in the stack's account and region.
    pub fn arn(&self) -> Expr {
        Expr::regional_arn("ssm", &format!("parameter{}", self.name))
    }

    /// Read this one parameter, decrypted with the default `aws/ssm` key (which needs no KMS grant).
    pub fn grant_read(&self) -> Grant {
        Grant::new(vec![Statement::allow(&["ssm:GetParameters"], vec![self.arn()])])
    }
}
