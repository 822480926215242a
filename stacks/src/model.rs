//! The CloudFormation template model: logical ids, deploy-time values, resources, the stack and
//! its synthesis to a template.
//!
//! Synthesis is where mistakes that CloudFormation would only find at deploy time become errors:
//! a duplicate logical id, a `Ref`, `Fn::GetAtt` or `Fn::Sub` naming something the stack does not
//! hold, a grant to a role the stack does not hold.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
};

use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};

use crate::iam::{Grant, RoleRef, Statement};

/// Why a stack cannot be synthesized. Each variant names the offending value.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("logical id {0:?} is not 1 to 255 ASCII letters or digits")]
    InvalidLogicalId(String),
    #[error("logical id {id} is used twice in stack {stack}")]
    DuplicateId { stack: String, id: LogicalId },
    #[error("{from} refers to {to}, which is not in stack {stack}")]
    DanglingReference { stack: String, from: LogicalId, to: String },
    #[error("a grant names role {role}, which is not a role in stack {stack}")]
    GrantToUnknownRole { stack: String, role: LogicalId },
    #[error("stack name {0:?} is not 1 to 128 letters, digits or hyphens starting with a letter")]
    InvalidStackName(String),
    #[error("key prefix {0:?} is not a non-empty path ending in '/' without '*' or '$'")]
    InvalidKeyPrefix(String),
    #[error("the properties of {resource_type} do not serialize to JSON")]
    Properties { resource_type: &'static str, source: serde_json::Error },
}

/// A logical id: 1 to 255 ASCII letters or digits, unique in its template.
///
/// Changing a resource's id makes CloudFormation replace the resource, so ids are API: they are
/// chosen by hand and never derived from anything that may change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct LogicalId(String);

impl LogicalId {
    pub fn new(id: &str) -> Result<LogicalId, SynthError> {
        let valid = (1..=255).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric());
        if !valid {
            return Err(SynthError::InvalidLogicalId(id.to_owned()));
        }
        Ok(LogicalId(id.to_owned()))
    }

    /// The id of a resource a construct adds for itself: `Reports` + `Policy` is `ReportsPolicy`.
    pub fn child(&self, suffix: &str) -> Result<LogicalId, SynthError> {
        LogicalId::new(&format!("{}{suffix}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LogicalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An S3 key prefix such as `reports/`: non-empty, ends with `/`, no wildcard or `${}` syntax,
/// so a grant built from it cannot widen by accident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    pub fn new(prefix: &str) -> Result<KeyPrefix, SynthError> {
        let valid = prefix.len() > 1
            && prefix.ends_with('/')
            && !prefix.starts_with('/')
            && !prefix.contains(['*', '$', '?'])
            && prefix.bytes().all(|b| b.is_ascii_graphic());
        if !valid {
            return Err(SynthError::InvalidKeyPrefix(prefix.to_owned()));
        }
        Ok(KeyPrefix(prefix.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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

/// One resource of a template: its type, its properties (serialized from a typed struct of the
/// construct that made it) and its resource attributes.
#[derive(Debug, Clone)]
pub struct Resource {
    resource_type: &'static str,
    properties: Value,
    depends_on: Vec<LogicalId>,
    retain: bool,
    cfn_lint_ignores: Vec<Suppression>,
    checkov_skips: Vec<Suppression>,
}

/// A checker rule that does not fit this resource, with the one-line reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub rule: &'static str,
    pub reason: &'static str,
}

impl Resource {
    /// A resource of `resource_type` whose properties are `properties`, a construct's typed struct.
    pub fn new<P: Serialize>(resource_type: &'static str, properties: &P) -> Result<Resource, SynthError> {
        let properties =
            serde_json::to_value(properties).map_err(|source| SynthError::Properties { resource_type, source })?;
        Ok(Resource {
            resource_type,
            properties,
            depends_on: Vec::new(),
            retain: false,
            cfn_lint_ignores: Vec::new(),
            checkov_skips: Vec::new(),
        })
    }

    /// `DeletionPolicy: Retain` and `UpdateReplacePolicy: Retain`: the resource outlives the stack.
    pub fn retain_on_delete_and_replace(mut self) -> Resource {
        self.retain = true;
        self
    }

    /// CloudFormation creates `id` before this resource (and deletes it after).
    pub fn depends_on(mut self, id: &LogicalId) -> Resource {
        self.depends_on.push(id.clone());
        self
    }

    /// Ignores a cfn-lint rule on this resource (`Metadata.cfn-lint.config.ignore_checks`).
    pub fn ignore_cfn_lint(mut self, rule: &'static str, reason: &'static str) -> Resource {
        self.cfn_lint_ignores.push(Suppression { rule, reason });
        self
    }

    /// Skips a checkov check on this resource (`Metadata.checkov.skip`, with the reason as comment).
    pub fn skip_checkov(mut self, rule: &'static str, reason: &'static str) -> Resource {
        self.checkov_skips.push(Suppression { rule, reason });
        self
    }

    pub fn resource_type(&self) -> &'static str {
        self.resource_type
    }

    fn to_json(&self) -> Value {
        let mut resource = Map::new();
        resource.insert("Type".to_owned(), json!(self.resource_type));
        if self.properties.as_object().is_some_and(|it| !it.is_empty()) {
            resource.insert("Properties".to_owned(), self.properties.clone());
        }
        if !self.depends_on.is_empty() {
            resource.insert("DependsOn".to_owned(), json!(self.depends_on));
        }
        if self.retain {
            resource.insert("DeletionPolicy".to_owned(), json!("Retain"));
            resource.insert("UpdateReplacePolicy".to_owned(), json!("Retain"));
        }
        let mut metadata = Map::new();
        if !self.cfn_lint_ignores.is_empty() {
            let rules: Vec<&str> = self.cfn_lint_ignores.iter().map(|it| it.rule).collect();
            metadata.insert("cfn-lint".to_owned(), json!({ "config": { "ignore_checks": rules } }));
            // cfn-lint has no place for a reason; this key carries it next to the rule.
            let reasons: Map<String, Value> =
                self.cfn_lint_ignores.iter().map(|it| (it.rule.to_owned(), json!(it.reason))).collect();
            metadata.insert("cfn-lint-reasons".to_owned(), Value::Object(reasons));
        }
        if !self.checkov_skips.is_empty() {
            let skips: Vec<Value> =
                self.checkov_skips.iter().map(|it| json!({ "id": it.rule, "comment": it.reason })).collect();
            metadata.insert("checkov".to_owned(), json!({ "skip": skips }));
        }
        if !metadata.is_empty() {
            resource.insert("Metadata".to_owned(), Value::Object(metadata));
        }
        Value::Object(resource)
    }
}

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

    fn to_json(&self) -> Value {
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

#[derive(Debug, Clone)]
struct Output {
    description: String,
    value: Expr,
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
        let mut resources = Map::new();
        for (id, resource) in &self.resources {
            let mut json = resource.to_json();
            if let Some(statements) = self.grants.get(id) {
                let policy = json!([{
                    "PolicyName": "Grants",
                    "PolicyDocument": { "Version": "2012-10-17", "Statement": statements },
                }]);
                json["Properties"]["Policies"] = policy;
            }
            resources.insert(id.to_string(), json);
        }
        for role in self.grants.keys() {
            if self.resources.get(role).is_none_or(|it| it.resource_type != "AWS::IAM::Role") {
                return Err(SynthError::GrantToUnknownRole { stack: self.name.clone(), role: role.clone() });
            }
        }
        let parameters: Map<String, Value> =
            self.parameters.iter().map(|(id, parameter)| (id.to_string(), parameter.to_json())).collect();
        let outputs: Map<String, Value> = self
            .outputs
            .iter()
            .map(|(id, output)| (id.to_string(), json!({ "Description": output.description, "Value": output.value })))
            .collect();

        for (id, resource) in &resources {
            let from = LogicalId(id.clone());
            self.check_references(&from, resource)?;
        }
        for (id, output) in &outputs {
            self.check_references(&LogicalId(id.clone()), output)?;
        }

        let mut template = Map::new();
        template.insert("AWSTemplateFormatVersion".to_owned(), json!("2010-09-09"));
        template.insert("Description".to_owned(), json!(format!("{}: {}", self.name, self.description)));
        if !parameters.is_empty() {
            template.insert("Parameters".to_owned(), Value::Object(parameters));
        }
        template.insert("Resources".to_owned(), Value::Object(resources));
        if !outputs.is_empty() {
            template.insert("Outputs".to_owned(), Value::Object(outputs));
        }
        Ok(Template { stack_name: self.name.clone(), body: Value::Object(template) })
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

/// A synthesized template: checked, deterministic, ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    stack_name: String,
    body: Value,
}

impl Template {
    pub fn stack_name(&self) -> &str {
        &self.stack_name
    }

    /// The template as JSON, for tests that walk it.
    pub fn json(&self) -> &Value {
        &self.body
    }

    pub fn resource_count(&self) -> usize {
        self.body["Resources"].as_object().map_or(0, Map::len)
    }

    /// The template as YAML. Keys are sorted, so the same stack gives the same bytes everywhere.
    pub fn to_yaml(&self) -> String {
        crate::yaml::to_yaml(&self.body)
    }
}

/// A name a template refers to: `Ref` may name a parameter, a pseudo parameter or a resource;
/// `Fn::GetAtt`, `DependsOn` and `${X.Attr}` only a resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Reference {
    Ref(String),
    Resource(String),
}

/// Every name referred to anywhere in `value`.
fn references(value: &Value) -> BTreeSet<Reference> {
    let mut found = BTreeSet::new();
    collect_references(value, &mut found);
    found
}

fn collect_references(value: &Value, found: &mut BTreeSet<Reference>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(name)) = object.get("Ref") {
                found.insert(Reference::Ref(name.clone()));
            }
            if let Some(Value::Array(args)) = object.get("Fn::GetAtt") {
                if let Some(Value::String(name)) = args.first() {
                    found.insert(Reference::Resource(name.clone()));
                }
            }
            if let Some(Value::String(template)) = object.get("Fn::Sub") {
                found.extend(sub_references(template));
            }
            if let Some(Value::Array(ids)) = object.get("DependsOn") {
                found.extend(ids.iter().filter_map(Value::as_str).map(|it| Reference::Resource(it.to_owned())));
            }
            object.values().for_each(|it| collect_references(it, found));
        }
        Value::Array(items) => items.iter().for_each(|it| collect_references(it, found)),
        _ => {}
    }
}

/// The names in an `Fn::Sub` template: `${Name}` and `${Resource.Attribute}`; `${!Literal}` is text.
fn sub_references(template: &str) -> Vec<Reference> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('}') else { break };
        let name = &rest[..end];
        rest = &rest[end + 1..];
        if name.starts_with('!') {
            continue;
        }
        match name.split_once('.') {
            Some((resource, _attribute)) => found.push(Reference::Resource(resource.to_owned())),
            None => found.push(Reference::Ref(name.to_owned())),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

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
    fn logical_ids_are_letters_and_digits_only() {
        assert!(LogicalId::new("Reports2").is_ok());
        for bad in ["", "reports-bucket", "Reports_Bucket", "Repörts", &"A".repeat(256)] {
            assert!(LogicalId::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn key_prefixes_cannot_widen_a_grant() {
        assert!(KeyPrefix::new("reports/").is_ok());
        for bad in ["", "/", "reports", "reports/*", "${AWS::Region}/", "/reports/"] {
            assert!(KeyPrefix::new(bad).is_err(), "{bad:?}");
        }
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
    fn suppressions_are_written_where_cfn_lint_and_checkov_read_them() {
        let mut stack = Stack::new("test", "a test").unwrap();
        let resource = bucket().ignore_cfn_lint("W3005", "a reason").skip_checkov("CKV_AWS_18", "another reason");
        stack.add(&LogicalId::new("Bucket").unwrap(), resource.retain_on_delete_and_replace()).unwrap();
        let template = stack.synth().unwrap();
        expect![[r#"{"DeletionPolicy":"Retain","Metadata":{"cfn-lint":{"config":{"ignore_checks":["W3005"]}},"cfn-lint-reasons":{"W3005":"a reason"},"checkov":{"skip":[{"comment":"another reason","id":"CKV_AWS_18"}]}},"Type":"AWS::S3::Bucket","UpdateReplacePolicy":"Retain"}"#]]
            .assert_eq(&template.json()["Resources"]["Bucket"].to_string());
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
