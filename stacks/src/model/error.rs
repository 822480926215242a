//! The error of synthesis: every way a stack can fail to become a template.

use crate::model::names::{InvalidName, LogicalId};

/// Why a stack cannot be synthesized. Each variant names the offending value.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// A logical id or key prefix that is not valid.
    #[error(transparent)]
    InvalidName(#[from] InvalidName),
    #[error("logical id {id} is used twice in stack {stack}")]
    DuplicateId { stack: String, id: LogicalId },
    #[error("{from} refers to {to}, which is not in stack {stack}")]
    DanglingReference { stack: String, from: LogicalId, to: String },
    #[error("a grant names role {role}, which is not a role in stack {stack}")]
    GrantToUnknownRole { stack: String, role: LogicalId },
    #[error("stack name {0:?} is not 1 to 128 letters, digits or hyphens starting with a letter")]
    InvalidStackName(String),
    #[error("the properties of {resource_type} do not serialize to JSON")]
    Properties { resource_type: &'static str, source: serde_json::Error },
}
