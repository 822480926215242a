//! The CloudFormation template model: logical ids, deploy-time values, resources, the stack and
//! its synthesis to a template.
//!
//! Synthesis is where mistakes that CloudFormation would only find at deploy time become errors:
//! a duplicate logical id, a `Ref`, `Fn::GetAtt` or `Fn::Sub` naming something the stack does not
//! hold, a grant to a role the stack does not hold.
//!
//! One file per concern: `names` (logical ids, key prefixes), `expr` (intrinsic functions),
//! `resource`, `parameter`, `handle` (what constructs return), `stack` (building and
//! synthesis), `references` (what synthesis checks), `template` (its result) and `error`.
//! Their items are re-exported here.

pub(crate) mod error;
pub(crate) mod expr;
pub(crate) mod handle;
pub(crate) mod names;
pub(crate) mod parameter;
pub(crate) mod references;
pub(crate) mod resource;
pub(crate) mod stack;
pub(crate) mod template;

pub use self::{
    error::SynthError,
    expr::{Expr, Pseudo},
    handle::NamedResource,
    names::{InvalidName, KeyPrefix, LogicalId},
    parameter::{Parameter, ParameterType},
    resource::{NagSuppression, Resource, Suppression},
    stack::Stack,
    template::Template,
};
