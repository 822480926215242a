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

    /// The template as YAML. Keys are sorted, so the same stack gives the same bytes everywhere.
    pub fn to_yaml(&self) -> String {
        crate::yaml::to_yaml(&self.body)
    }
}
