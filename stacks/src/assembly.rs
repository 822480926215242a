//! The stage assembly: every stack of a stage in deploy order, each with its template's file and
//! where each of its parameters comes from, what its outputs are made of and what it keeps.
//!
//! `cargo xtask synth` writes it as `target/cfn/<stage>/manifest.json` beside the templates
//! (`<part>.yaml`); every xtask command that works on a deployed stage plans from it. Built from
//! the parts ([`crate::parts`]) and checked here: each parameter has exactly one input, and each
//! `Input::Output` names an output of a stack deployed before.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    config::StageConfig,
    model::{expr::Expr, stack::Stack, template::Template},
    parts::{Adoption, EnvNames, Input, Part},
};

/// Every stack of a stage, in deploy order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageAssembly {
    pub stage: String,
    /// The stage's region: every stack's but edge's.
    pub region: String,
    pub stacks: Vec<StackArtifact>,
}

/// One stack of a stage, as the deploy needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackArtifact {
    pub part: Part,
    /// The CloudFormation stack name, `invest-alchemy-<stage>-<part>`.
    pub stack_name: String,
    pub region: String,
    /// The template's file, beside the manifest: `<part>.yaml`.
    pub template: String,
    /// Where each parameter's value comes from, by parameter name.
    pub inputs: BTreeMap<String, Input>,
    /// Each output, by name, and what it is made of.
    pub outputs: BTreeMap<String, OutputSource>,
    /// The resources' types by logical id: what a first deploy creates.
    pub resources: BTreeMap<String, String>,
    /// The logical ids of the resources kept when the stack is deleted.
    pub retained: Vec<String>,
    /// Whether deploy turns on termination protection.
    pub termination_protection: bool,
    /// Existing resources a deploy brings into the stack when it does not exist yet.
    pub adopt: Option<Adoption>,
}

/// What an output's value is made of, for an endpoint that does not evaluate outputs (the
/// emulator after a change set): it can be read back from the stack's resources when it is
/// their physical ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputSource {
    /// The physical id of the resource of this logical id (a `Ref`, or an attribute equal to it).
    PhysicalId(String),
    /// The physical ids of these resources, joined by `separator`.
    Joined { separator: String, ids: Vec<String> },
    /// Anything else: only CloudFormation can evaluate it.
    Evaluated,
}

/// An assembly that does not hold together.
#[derive(Debug, thiserror::Error)]
pub enum AssemblyError {
    #[error(transparent)]
    Synth(#[from] crate::model::error::SynthError),
    #[error("stack {stack}: parameter {parameter} has no input")]
    NoInput { stack: String, parameter: String },
    #[error("stack {stack}: input {parameter} is not a parameter of its template")]
    NotAParameter { stack: String, parameter: String },
    #[error("stack {stack}: input {parameter} reads output {key} of {part:?}, which is not an earlier stack's output")]
    UnknownOutput { stack: String, parameter: String, part: Part, key: String },
    #[error("stage {stage} has no {part:?} stack")]
    NoSuchPart { stage: String, part: Part },
}

/// Attributes whose value is the resource's physical id.
const ATTRIBUTES_EQUAL_TO_PHYSICAL_ID: [(&str, &str); 1] = [("AWS::EC2::SecurityGroup", "GroupId")];

impl StageAssembly {
    /// Synthesizes every stack of `stage` and assembles them, with the templates to write beside
    /// the manifest, by file name (the stacks' and the adoptions' imports).
    pub fn synth(
        stage: &StageConfig,
        env: &EnvNames,
    ) -> Result<(StageAssembly, Vec<(String, Template)>), AssemblyError> {
        let mut stacks: Vec<StackArtifact> = Vec::new();
        let mut templates = Vec::new();
        for part in Part::ALL {
            let stack = part.stack(stage, env)?;
            let template = stack.synth()?;
            let mut artifact = artifact(part, &stack, &stage.region, part.inputs())?;
            for (parameter, input) in &artifact.inputs {
                if let Input::Output { part: from, key } = input {
                    let known = stacks.iter().any(|it| it.part == *from && it.outputs.contains_key(key));
                    if !known {
                        return Err(AssemblyError::UnknownOutput {
                            stack: artifact.stack_name.clone(),
                            parameter: parameter.clone(),
                            part: *from,
                            key: key.clone(),
                        });
                    }
                }
            }
            if let Some(adoption) = part.adoption(&stage.name) {
                let ids: Vec<&str> = adoption.resources.iter().map(|it| it.logical_id.as_str()).collect();
                templates.push((adoption.template.clone(), template.for_import(&ids)));
                artifact.adopt = Some(adoption);
            }
            templates.push((artifact.template.clone(), template));
            stacks.push(artifact);
        }
        Ok((StageAssembly { stage: stage.name.clone(), region: stage.region.clone(), stacks }, templates))
    }

    /// The stack of `part`.
    pub fn stack(&self, part: Part) -> Result<&StackArtifact, AssemblyError> {
        self.stacks
            .iter()
            .find(|it| it.part == part)
            .ok_or_else(|| AssemblyError::NoSuchPart { stage: self.stage.clone(), part })
    }
}

/// The artifact of `part`'s `stack`, checking that `inputs` are exactly its parameters.
fn artifact(
    part: Part,
    stack: &Stack,
    stage_region: &str,
    inputs: Vec<(&'static str, Input)>,
) -> Result<StackArtifact, AssemblyError> {
    let stack_name = stack.name().to_owned();
    let inputs: BTreeMap<String, Input> = inputs.into_iter().map(|(name, input)| (name.to_owned(), input)).collect();
    let parameters: Vec<String> = stack.parameter_names().iter().map(|it| it.to_string()).collect();
    if let Some(parameter) = parameters.iter().find(|it| !inputs.contains_key(*it)) {
        return Err(AssemblyError::NoInput { stack: stack_name, parameter: parameter.clone() });
    }
    if let Some(parameter) = inputs.keys().find(|it| !parameters.contains(it)) {
        return Err(AssemblyError::NotAParameter { stack: stack_name, parameter: parameter.clone() });
    }
    let outputs = stack.outputs().into_iter().map(|(id, value)| (id.to_string(), source_of(stack, value))).collect();
    Ok(StackArtifact {
        part,
        stack_name,
        region: part.region(stage_region),
        template: format!("{}.yaml", part.name()),
        inputs,
        outputs,
        resources: stack.resources().into_iter().map(|(id, it)| (id.to_string(), it.to_owned())).collect(),
        retained: stack.retained().iter().map(|it| it.to_string()).collect(),
        termination_protection: part.termination_protection(),
        adopt: None,
    })
}

/// What the output `value` is made of.
fn source_of(stack: &Stack, value: &Expr) -> OutputSource {
    let physical_id = |value: &Expr| -> Option<String> {
        match value {
            Expr::Ref(id) if stack.resource_type(id).is_some() => Some(id.to_string()),
            Expr::GetAtt(id, attribute) => {
                let resource_type = stack.resource_type(id)?;
                ATTRIBUTES_EQUAL_TO_PHYSICAL_ID.contains(&(resource_type, *attribute)).then(|| id.to_string())
            }
            _ => None,
        }
    };
    if let Some(id) = physical_id(value) {
        return OutputSource::PhysicalId(id);
    }
    if let Expr::Join(separator, parts) = value {
        let ids: Option<Vec<String>> = parts.iter().map(physical_id).collect();
        if let Some(ids) = ids {
            return OutputSource::Joined { separator: (*separator).to_owned(), ids };
        }
    }
    OutputSource::Evaluated
}
