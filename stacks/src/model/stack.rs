//! The stack under construction and its synthesis: constructs add resources, parameters, outputs
//! and grants to it; `synth` checks every reference and writes the [`Template`].

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::{
    iam::policy::{Grant, RoleRef, Statement},
    model::{
        error::SynthError,
        expr::Expr,
        names::LogicalId,
        parameter::Parameter,
        references::{Reference, references},
        resource::Resource,
        template::Template,
    },
};

/// A stack output: what xtask and the README read after a deploy.
#[derive(Debug, Clone)]
struct Output {
    description: String,
    value: Expr,
}

impl Output {
    fn to_json(&self) -> Value {
        json!({ "Description": self.description, "Value": self.value })
    }
}

/// One CloudFormation stack under construction. Constructs add resources to it; `synth` checks
/// it and turns it into a [`Template`].
#[derive(Debug, Clone)]
pub struct Stack {
    name: String,
    description: String,
    parameters: BTreeMap<LogicalId, Parameter>,
    resources: BTreeMap<LogicalId, Resource>,
    outputs: BTreeMap<LogicalId, Output>,
    /// Statements granted to each role, in the order granted; one inline policy per role.
    grants: BTreeMap<LogicalId, Vec<Statement>>,
}

impl Stack {
    /// A stack named `name` (the CloudFormation stack name, which is also in the template's description).
    pub fn new(name: &str, description: &str) -> Result<Stack, SynthError> {
        let valid = (1..=128).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            return Err(SynthError::InvalidStackName(name.to_owned()));
        }
        Ok(Stack {
            name: name.to_owned(),
            description: description.to_owned(),
            parameters: BTreeMap::new(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            grants: BTreeMap::new(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds a resource under `id`; an id already taken by a resource or parameter is an error.
    pub fn add(&mut self, id: &LogicalId, resource: Resource) -> Result<(), SynthError> {
        self.check_free(id)?;
        self.resources.insert(id.clone(), resource);
        Ok(())
    }

    /// Declares a parameter and returns its `Ref`.
    pub fn parameter(&mut self, id: &str, parameter: Parameter) -> Result<Expr, SynthError> {
        let id = LogicalId::new(id)?;
        self.check_free(&id)?;
        self.parameters.insert(id.clone(), parameter);
        Ok(Expr::Ref(id))
    }

    /// Declares an output: what xtask and the README read after a deploy. Never an export.
    pub fn output(&mut self, id: &str, description: &str, value: Expr) -> Result<(), SynthError> {
        let id = LogicalId::new(id)?;
        if self.outputs.contains_key(&id) {
            return Err(SynthError::DuplicateId { stack: self.name.clone(), id });
        }
        self.outputs.insert(id, Output { description: description.to_owned(), value });
        Ok(())
    }

    /// Keeps the resource `id` when the stack is deleted or the resource replaced
    /// (`DeletionPolicy` and `UpdateReplacePolicy: Retain`), whichever construct made it.
    pub fn retain(&mut self, id: &LogicalId) -> Result<(), SynthError> {
        let Some(resource) = self.resources.remove(id) else {
            return Err(self.dangling(id.clone(), id.to_string()));
        };
        self.resources.insert(id.clone(), resource.retain_on_delete_and_replace());
        Ok(())
    }

    /// The names of the parameters, sorted.
    pub fn parameter_names(&self) -> Vec<&LogicalId> {
        self.parameters.keys().collect()
    }

    /// The outputs and their values, sorted by name.
    pub fn outputs(&self) -> Vec<(&LogicalId, &Expr)> {
        self.outputs.iter().map(|(id, output)| (id, &output.value)).collect()
    }

    /// The resources kept when the stack is deleted, sorted by logical id.
    pub fn retained(&self) -> Vec<&LogicalId> {
        self.resources.iter().filter(|(_, it)| it.is_retained()).map(|(id, _)| id).collect()
    }

    /// The resources' logical ids and types, sorted by id.
    pub fn resources(&self) -> Vec<(&LogicalId, &'static str)> {
        self.resources.iter().map(|(id, it)| (id, it.resource_type())).collect()
    }

    /// The type of the resource `id`, when the stack holds it.
    pub fn resource_type(&self, id: &LogicalId) -> Option<&'static str> {
        self.resources.get(id).map(Resource::resource_type)
    }

    /// Adds a grant's statements to the one inline policy of `role`.
    pub fn grant(&mut self, role: &RoleRef, grant: Grant) {
        let statements = self.grants.entry(role.id().clone()).or_default();
        for statement in grant.into_statements() {
            if !statements.contains(&statement) {
                statements.push(statement);
            }
        }
    }

    /// Checks every reference and writes the template.
    pub fn synth(&self) -> Result<Template, SynthError> {
        let resources: Vec<(&LogicalId, Value)> =
            self.resources.iter().map(|(id, resource)| (id, self.resource_json(id, resource))).collect();
        for role in self.grants.keys() {
            if self.resources.get(role).is_none_or(|it| it.resource_type() != "AWS::IAM::Role") {
                return Err(SynthError::GrantToUnknownRole { stack: self.name.clone(), role: role.clone() });
            }
        }
        let outputs: Vec<(&LogicalId, Value)> =
            self.outputs.iter().map(|(id, output)| (id, output.to_json())).collect();
        for (id, value) in resources.iter().chain(&outputs) {
            self.check_references(id, value)?;
        }

        let mut template = Map::new();
        template.insert("AWSTemplateFormatVersion".to_owned(), json!("2010-09-09"));
        template.insert("Description".to_owned(), json!(format!("{}: {}", self.name, self.description)));
        if !self.parameters.is_empty() {
            let parameters = self.parameters.iter().map(|(id, parameter)| (id, parameter.to_json()));
            template.insert("Parameters".to_owned(), section(parameters));
        }
        template.insert("Resources".to_owned(), section(resources));
        if !outputs.is_empty() {
            template.insert("Outputs".to_owned(), section(outputs));
        }
        Ok(Template::new(self.name.clone(), Value::Object(template)))
    }

    /// A resource's JSON, with the inline policy of the grants to it when it is a role.
    fn resource_json(&self, id: &LogicalId, resource: &Resource) -> Value {
        let Some(statements) = self.grants.get(id) else {
            return resource.to_json();
        };
        let mut resource = resource.clone();
        for suppression in statements.iter().filter_map(Statement::wildcard_suppression) {
            resource = resource.suppress_nag_findings(suppression);
        }
        let mut json = resource.to_json();
        json["Properties"]["Policies"] = json!([{
            "PolicyName": "Grants",
            "PolicyDocument": { "Version": "2012-10-17", "Statement": statements },
        }]);
        json
    }

    fn check_free(&self, id: &LogicalId) -> Result<(), SynthError> {
        if self.resources.contains_key(id) || self.parameters.contains_key(id) {
            return Err(SynthError::DuplicateId { stack: self.name.clone(), id: id.clone() });
        }
        Ok(())
    }

    /// Every `Ref`, `Fn::GetAtt`, `Fn::Sub` name and `DependsOn` in `value` must name something in this stack.
    fn check_references(&self, from: &LogicalId, value: &Value) -> Result<(), SynthError> {
        for reference in references(value) {
            let known = match &reference {
                Reference::Ref(name) => name.starts_with("AWS::") || self.is_resource(name) || self.is_parameter(name),
                Reference::Resource(name) => self.is_resource(name),
            };
            if !known {
                let name = match reference {
                    Reference::Ref(it) | Reference::Resource(it) => it,
                };
                return Err(self.dangling(from.clone(), name));
            }
        }
        Ok(())
    }

    fn is_resource(&self, name: &str) -> bool {
        LogicalId::new(name).is_ok_and(|id| self.resources.contains_key(&id))
    }

    fn is_parameter(&self, name: &str) -> bool {
        LogicalId::new(name).is_ok_and(|id| self.parameters.contains_key(&id))
    }

    fn dangling(&self, from: LogicalId, to: String) -> SynthError {
        SynthError::DanglingReference { stack: self.name.clone(), from, to }
    }
}

/// A template section (`Parameters`, `Resources`, `Outputs`): an object keyed by logical id.
fn section<'a>(entries: impl IntoIterator<Item = (&'a LogicalId, Value)>) -> Value {
    Value::Object(entries.into_iter().map(|(id, value)| (id.to_string(), value)).collect())
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::model::expr::Pseudo;

    fn bucket() -> Resource {
        Resource::new("AWS::S3::Bucket", &json!({})).unwrap()
    }

    fn topic_with(property: Value) -> Resource {
        Resource::new("AWS::SNS::Topic", &json!({ "DisplayName": property })).unwrap()
    }

    fn synth_error(resource: Resource) -> String {
        let mut stack = Stack::new("test", "a test").unwrap();
        stack.add(&LogicalId::new("Bucket").unwrap(), bucket()).unwrap();
        stack.add(&LogicalId::new("Topic").unwrap(), resource).unwrap();
        stack.synth().unwrap_err().to_string()
    }

    #[test]
    fn a_duplicate_logical_id_is_rejected() {
        let mut stack = Stack::new("test", "a test").unwrap();
        let id = LogicalId::new("Bucket").unwrap();
        stack.add(&id, bucket()).unwrap();
        let err = stack.add(&id, bucket()).unwrap_err();
        expect!["logical id Bucket is used twice in stack test"].assert_eq(&err.to_string());
        let err = stack.parameter("Bucket", Parameter::string("x", ".*")).unwrap_err();
        expect!["logical id Bucket is used twice in stack test"].assert_eq(&err.to_string());
    }

    #[test]
    fn a_ref_to_a_missing_resource_fails_synth() {
        let err = synth_error(topic_with(Expr::Ref(LogicalId::new("Missing").unwrap()).to_json()));
        expect!["Topic refers to Missing, which is not in stack test"].assert_eq(&err);
    }

    #[test]
    fn a_get_att_to_a_missing_resource_fails_synth() {
        let err = synth_error(topic_with(Expr::GetAtt(LogicalId::new("Missing").unwrap(), "Arn").to_json()));
        expect!["Topic refers to Missing, which is not in stack test"].assert_eq(&err);
    }

    #[test]
    fn a_sub_naming_a_missing_resource_fails_synth() {
        let err = synth_error(topic_with(Expr::Sub("${Bucket.Arn}/${Missing.Arn}".to_owned()).to_json()));
        expect!["Topic refers to Missing, which is not in stack test"].assert_eq(&err);
        let err = synth_error(topic_with(Expr::Sub("${Nothing}".to_owned()).to_json()));
        expect!["Topic refers to Nothing, which is not in stack test"].assert_eq(&err);
    }

    #[test]
    fn a_get_att_to_a_parameter_fails_synth() {
        let mut stack = Stack::new("test", "a test").unwrap();
        stack.parameter("Key", Parameter::string("a key", ".+")).unwrap();
        let topic = topic_with(Expr::GetAtt(LogicalId::new("Key").unwrap(), "Arn").to_json());
        stack.add(&LogicalId::new("Topic").unwrap(), topic).unwrap();
        expect!["Topic refers to Key, which is not in stack test"].assert_eq(&stack.synth().unwrap_err().to_string());
    }

    #[test]
    fn a_depends_on_a_missing_resource_fails_synth() {
        let err = synth_error(bucket().depends_on(&LogicalId::new("Missing").unwrap()));
        expect!["Topic refers to Missing, which is not in stack test"].assert_eq(&err);
    }

    #[test]
    fn refs_to_parameters_pseudo_parameters_and_escaped_subs_resolve() {
        let mut stack = Stack::new("test", "a test").unwrap();
        let key = stack.parameter("Key", Parameter::string("a key", ".+")).unwrap();
        let value =
            json!([key, Expr::Pseudo(Pseudo::Region), Expr::Sub("${Key}-${AWS::StackName}-${!Literal}".into())]);
        stack.add(&LogicalId::new("Topic").unwrap(), topic_with(value)).unwrap();
        assert!(stack.synth().is_ok());
    }

    #[test]
    fn synth_is_deterministic_whatever_the_insertion_order() {
        let mut first = Stack::new("test", "a test").unwrap();
        let mut second = Stack::new("test", "a test").unwrap();
        for id in ["B", "A", "C"] {
            first.add(&LogicalId::new(id).unwrap(), bucket()).unwrap();
        }
        for id in ["C", "B", "A"] {
            second.add(&LogicalId::new(id).unwrap(), bucket()).unwrap();
        }
        assert_eq!(first.synth().unwrap().to_yaml(), second.synth().unwrap().to_yaml());
    }
}
