//! Values CloudFormation resolves at deploy time: plain strings, pseudo parameters and the
//! intrinsic functions (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::GetAZs`).

use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::model::names::LogicalId;

/// The pseudo parameters CloudFormation defines in every stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pseudo {
    AccountId,
    Partition,
    Region,
    StackName,
    UrlSuffix,
}

impl Pseudo {
    fn name(self) -> &'static str {
        match self {
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::Region => "AWS::Region",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
        }
    }
}

/// A value CloudFormation resolves at deploy time (what CDK calls a token), or a plain string.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Str(String),
    /// `Ref` to a resource or a parameter of the same stack.
    Ref(LogicalId),
    Pseudo(Pseudo),
    GetAtt(LogicalId, &'static str),
    /// `Fn::Sub` with `${Name}` and `${Resource.Attribute}` references; synthesis checks each name.
    Sub(String),
    Join(&'static str, Vec<Expr>),
    /// `Fn::Select`: the item at an index of a list value such as `GetAzs`.
    Select(u32, Box<Expr>),
    /// `Fn::GetAZs ""`: the availability zones of the stack's region.
    GetAzs,
}

impl Expr {
    pub fn str(value: &str) -> Expr {
        Expr::Str(value.to_owned())
    }

    /// The ARN of `resource` (`repository/job`; it may hold `Fn::Sub` references) of `service`
    /// (`ecr`) in the stack's partition, region and account.
    pub fn regional_arn(service: &str, resource: &str) -> Expr {
        Expr::Sub(format!("arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"))
    }

    /// The JSON CloudFormation reads: a string or a one-key intrinsic function object.
    pub fn to_json(&self) -> Value {
        match self {
            Expr::Str(it) => Value::String(it.clone()),
            Expr::Ref(id) => json!({ "Ref": id.as_str() }),
            Expr::Pseudo(pseudo) => json!({ "Ref": pseudo.name() }),
            Expr::GetAtt(id, attribute) => json!({ "Fn::GetAtt": [id.as_str(), attribute] }),
            Expr::Sub(template) => json!({ "Fn::Sub": template }),
            Expr::Join(separator, parts) => {
                let parts: Vec<Value> = parts.iter().map(Expr::to_json).collect();
                json!({ "Fn::Join": [separator, parts] })
            }
            Expr::Select(index, list) => json!({ "Fn::Select": [index.to_string(), list.to_json()] }),
            Expr::GetAzs => json!({ "Fn::GetAZs": "" }),
        }
    }
}

impl From<&str> for Expr {
    fn from(value: &str) -> Expr {
        Expr::str(value)
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    #[test]
    fn intrinsics_have_cloudformation_shapes() {
        let bucket = LogicalId::new("Bucket").unwrap();
        let value = json!([
            Expr::Ref(bucket.clone()),
            Expr::GetAtt(bucket, "Arn"),
            Expr::Join(",", vec![Expr::str("a"), Expr::Pseudo(Pseudo::Partition)]),
            Expr::Select(1, Box::new(Expr::GetAzs)),
        ]);
        expect![[r#"[{"Ref":"Bucket"},{"Fn::GetAtt":["Bucket","Arn"]},{"Fn::Join":[",",["a",{"Ref":"AWS::Partition"}]]},{"Fn::Select":["1",{"Fn::GetAZs":""}]}]"#]]
            .assert_eq(&value.to_string());
    }

    #[test]
    fn a_regional_arn_is_a_sub_of_partition_region_and_account() {
        expect![[r#"{"Fn::Sub":"arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/job"}"#]]
            .assert_eq(&Expr::regional_arn("ecr", "repository/job").to_json().to_string());
    }
}
