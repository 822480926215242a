//! Handles to resources that other resources refer to by name and by ARN.

use crate::model::expr::Expr;
use crate::model::names::LogicalId;

/// A resource in a stack whose `Ref` is its name and whose `Fn::GetAtt Arn` is its ARN, such as
/// a bucket, a log group or a function. Implementors give the id; the two values follow from it.
pub trait NamedResource {
    /// The resource's logical id.
    fn id(&self) -> &LogicalId;

    /// The resource's name: its `Ref`.
    fn name(&self) -> Expr {
        Expr::Ref(self.id().clone())
    }

    /// The resource's ARN: its `Fn::GetAtt Arn`.
    fn arn(&self) -> Expr {
        Expr::GetAtt(self.id().clone(), "Arn")
    }
}
