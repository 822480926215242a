//! Template parameters: the values the deploy supplies, with their types and allowed patterns.

use serde_json::{Map, Value, json};

/// The type of a template parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterType {
    String,
    /// `List<AWS::EC2::Subnet::Id>`: CloudFormation checks each id exists.
    SubnetIds,
    /// `AWS::EC2::SecurityGroup::Id`.
    SecurityGroupId,
}

/// A value the deploy supplies: code keys, the image digest, the outputs of another stack.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub parameter_type: ParameterType,
    pub description: &'static str,
    /// A regular expression the value must match. Default: None.
    pub allowed_pattern: Option<&'static str>,
}

impl Parameter {
    pub fn string(description: &'static str, allowed_pattern: &'static str) -> Parameter {
        Parameter { parameter_type: ParameterType::String, description, allowed_pattern: Some(allowed_pattern) }
    }

    /// The parameter as the template's `Parameters` section holds it.
    pub(crate) fn to_json(&self) -> Value {
        let parameter_type = match self.parameter_type {
            ParameterType::String => "String",
            ParameterType::SubnetIds => "List<AWS::EC2::Subnet::Id>",
            ParameterType::SecurityGroupId => "AWS::EC2::SecurityGroup::Id",
        };
        let mut parameter = Map::new();
        parameter.insert("Type".to_owned(), json!(parameter_type));
        parameter.insert("Description".to_owned(), json!(self.description));
        if let Some(pattern) = self.allowed_pattern {
            parameter.insert("AllowedPattern".to_owned(), json!(pattern));
        }
        Value::Object(parameter)
    }
}
