//! A synthesized template: the checked result of a stack, as JSON for tests and YAML for deploys.

use serde_json::{Map, Value};

/// A synthesized template: checked, deterministic, ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    stack_name: String,
    body: Value,
}

impl Template {
    /// The template of the stack `stack_name`, whose synthesis checked `body`.
    pub(crate) fn new(stack_name: String, body: Value) -> Template {
        Template { stack_name, body }
    }

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

    /// The template with only the resources `ids` and no outputs: the body of an IMPORT change
    /// set, which may bring existing resources into a stack and do nothing else.
    pub fn for_import(&self, ids: &[&str]) -> Template {
        let mut body = self.body.clone();
        if let Some(resources) = body.get_mut("Resources").and_then(Value::as_object_mut) {
            resources.retain(|id, _| ids.contains(&id.as_str()));
        }
        if let Some(template) = body.as_object_mut() {
            template.remove("Outputs");
        }
        Template { stack_name: self.stack_name.clone(), body }
    }

    /// The template as YAML. Keys are sorted, so the same stack gives the same bytes everywhere.
    pub fn to_yaml(&self) -> String {
        crate::yaml::to_yaml(&self.body)
    }
}
