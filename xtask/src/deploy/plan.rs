//! `Deployment::plan`: what each selected stack needs, in which order, from where, out of the
//! stage's assembly (`manifest.json`); and the values that fill its parameters.
//!
//! Deploy, diff and status make their change sets from this plan; they differ only in where an
//! artifact's value comes from (packaging, the last packaged artifacts, or the stack's previous
//! value). Outputs are read back from deployed stacks here too, and an output the endpoint does
//! not list (the emulator evaluates none after a change set) is read from the physical ids of
//! the resources it is made of (`stacks::OutputSource`), with a warning. Uses the CloudFormation
//! engine and the AWS configuration.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use anyhow::Context;
use stacks::{ArtifactKind, Input, OutputSource, Part, StackArtifact, StageAssembly};

use crate::{
    aws::Aws,
    cloudformation::{self, Outputs, ParameterValue, StackPlan},
};

/// The stacks a command works on, in deploy order, with their templates, and the stacks whose
/// outputs they read without being deployed now.
#[derive(Debug)]
pub(crate) struct Deployment {
    pub(crate) assembly: StageAssembly,
    /// The folder of the manifest and the templates.
    pub(crate) dir: PathBuf,
    pub(crate) steps: Vec<Step>,
    /// Earlier stacks not in `steps` whose outputs `steps` read, in deploy order.
    pub(crate) reads: Vec<Part>,
}

/// One stack to deploy or compare.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) artifact: StackArtifact,
    pub(crate) template_body: String,
}

/// What the plan's parameters are filled from.
#[derive(Debug, Default)]
pub(crate) struct Values {
    /// The outputs of each stack deployed or read so far.
    pub(crate) outputs: BTreeMap<Part, Outputs>,
    /// The packaged artifacts, when known.
    pub(crate) artifacts: Option<BTreeMap<ArtifactKind, String>>,
}

impl Deployment {
    /// The plan of `parts` (any order) of `assembly`, whose templates are in `dir`.
    pub(crate) fn plan(dir: &Path, assembly: StageAssembly, parts: &[Part]) -> anyhow::Result<Deployment> {
        let mut steps = Vec::new();
        for artifact in assembly.stacks.iter().filter(|it| parts.contains(&it.part)) {
            let path: PathBuf = dir.join(&artifact.template);
            let template_body = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {} (run `cargo xtask synth` first)", path.display()))?;
            steps.push(Step { artifact: artifact.clone(), template_body });
        }
        if let Some(part) = parts.iter().find(|part| !assembly.stacks.iter().any(|it| it.part == **part)) {
            anyhow::bail!("the assembly of stage {} has no {} stack", assembly.stage, part.name());
        }
        let mut read: Vec<Part> = Vec::new();
        for step in &steps {
            for input in step.artifact.inputs.values() {
                let from = match input {
                    Input::Output { part, .. } => *part,
                    // Packaging uploads to the bootstrap stack's bucket.
                    Input::Artifact(_) => Part::Bootstrap,
                    Input::Config(_) => continue,
                };
                if !parts.contains(&from) && !read.contains(&from) {
                    read.push(from);
                }
            }
        }
        let reads = assembly.stacks.iter().map(|it| it.part).filter(|it| read.contains(it)).collect();
        Ok(Deployment { assembly, dir: dir.to_owned(), steps, reads })
    }

    /// The stack of `part` in the assembly.
    pub(crate) fn artifact(&self, part: Part) -> anyhow::Result<&StackArtifact> {
        Ok(self.assembly.stack(part)?)
    }

    /// The region to send a stack's requests to when it is not the stage's (edge's us-east-1):
    /// the other stacks go to the loaded region, which `--region` may override.
    pub(crate) fn region_of(&self, artifact: &StackArtifact) -> Option<String> {
        (artifact.region != self.assembly.region).then(|| artifact.region.clone())
    }
}

impl Step {
    /// Whether the stack takes a packaged artifact.
    pub(crate) fn needs_artifacts(&self) -> bool {
        self.artifact.inputs.values().any(|it| matches!(it, Input::Artifact(_)))
    }

    /// The change set request's plan: each parameter from its input. With `previous` (the stack
    /// exists), an artifact without a value keeps the deployed one (`UsePreviousValue`).
    pub(crate) fn stack_plan(
        &self,
        region: Option<String>,
        values: &Values,
        previous: bool,
    ) -> anyhow::Result<StackPlan> {
        let name = &self.artifact.stack_name;
        let mut parameters = BTreeMap::new();
        for (parameter, input) in &self.artifact.inputs {
            let value = match input {
                Input::Output { part, key } => {
                    let value = values.outputs.get(part).and_then(|it| it.get(key)).with_context(|| {
                        format!(
                            "{name} needs output {key} of the {} stack for its parameter {parameter}, \
                             and that stack is not deployed or has no such output: deploy it first",
                            part.name()
                        )
                    })?;
                    ParameterValue::Value(value.clone())
                }
                Input::Artifact(kind) => match values.artifacts.as_ref().and_then(|it| it.get(kind)) {
                    Some(value) => ParameterValue::Value(value.clone()),
                    None if previous => ParameterValue::UsePrevious,
                    None => anyhow::bail!(
                        "{name} needs the packaged artifacts for its parameter {parameter}: run `cargo xtask package` \
                         (or deploy, which packages)"
                    ),
                },
                Input::Config(value) => ParameterValue::Value(value.clone()),
            };
            parameters.insert(parameter.clone(), value);
        }
        Ok(StackPlan {
            name: name.clone(),
            region,
            template_body: self.template_body.clone(),
            parameters,
            import: Vec::new(),
        })
    }
}

/// The outputs of the deployed stack of `artifact` (`None` when it does not exist), each output
/// the stack does not list read from the physical ids it is made of.
pub(crate) async fn read_outputs(
    aws: &Aws,
    artifact: &StackArtifact,
    region: Option<&str>,
) -> anyhow::Result<Option<Outputs>> {
    let client = aws.cloudformation(region);
    let Some(stack) = cloudformation::describe_stack(&client, &artifact.stack_name).await? else { return Ok(None) };
    let outputs = cloudformation::outputs_of(&stack);
    Ok(Some(complete_outputs(&client, artifact, outputs).await?))
}

/// `outputs` of the stack of `artifact` with each output it lacks read from the physical ids of
/// the resources it is made of, with a warning; an output only CloudFormation can evaluate stays missing.
pub(crate) async fn complete_outputs(
    client: &aws_sdk_cloudformation::Client,
    artifact: &StackArtifact,
    mut outputs: Outputs,
) -> anyhow::Result<Outputs> {
    let missing: Vec<(&String, &OutputSource)> =
        artifact.outputs.iter().filter(|(key, _)| !outputs.contains_key(*key)).collect();
    if missing.is_empty() {
        return Ok(outputs);
    }
    let name = &artifact.stack_name;
    let ids = cloudformation::physical_ids(client, name).await?;
    for (key, source) in missing {
        let value = match source {
            OutputSource::PhysicalId(id) => ids.get(id).cloned(),
            OutputSource::Joined { separator, ids: logical } => {
                let physical: Option<Vec<&str>> = logical.iter().map(|it| ids.get(it).map(String::as_str)).collect();
                physical.map(|it| it.join(separator))
            }
            OutputSource::Evaluated => None,
        };
        match value {
            Some(value) => {
                eprintln!(
                    "warning: {name} lists no output {key} (the endpoint did not evaluate its outputs); \
                     read it from the stack's resources: {value}"
                );
                outputs.insert(key.clone(), value);
            }
            None => eprintln!(
                "warning: {name} lists no output {key}, and only CloudFormation can evaluate it (it is not a \
                 resource's physical id)"
            ),
        }
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assembly() -> StageAssembly {
        let sh = xshell::Shell::new().unwrap();
        sh.change_dir(crate::project_root());
        let config = crate::stage::load(&sh, None).unwrap();
        StageAssembly::synth(config.stage("dev").unwrap(), &crate::stage::env_names()).unwrap().0
    }

    fn plan_of(parts: &[Part]) -> Deployment {
        let dir = tempfile::tempdir().unwrap();
        for part in Part::ALL {
            std::fs::write(dir.path().join(format!("{}.yaml", part.name())), part.name()).unwrap();
        }
        Deployment::plan(dir.path(), assembly(), parts).unwrap()
    }

    #[test]
    fn a_plan_deploys_the_selected_stacks_in_order_and_reads_the_outputs_of_the_others_it_needs() {
        let plan = plan_of(&[Part::App, Part::Data]);
        let parts: Vec<Part> = plan.steps.iter().map(|it| it.artifact.part).collect();
        assert_eq!(parts, [Part::Data, Part::App]);
        assert_eq!(plan.reads, [Part::Bootstrap, Part::Network]);
        assert!(plan.steps.iter().any(Step::needs_artifacts));
        assert_eq!(plan.steps[1].template_body, "app");
        let edge = plan_of(&[Part::Edge]);
        assert_eq!(edge.reads, [Part::App]);
        assert_eq!(edge.region_of(&edge.steps[0].artifact).as_deref(), Some("us-east-1"));
        assert_eq!(edge.region_of(edge.artifact(Part::App).unwrap()), None);
        assert!(!plan_of(&[Part::Bootstrap, Part::Network, Part::Data]).steps.iter().any(Step::needs_artifacts));
    }

    #[test]
    fn parameters_come_from_outputs_artifacts_or_the_previous_value() {
        let plan = plan_of(&[Part::App]);
        let app = &plan.steps[0];
        let mut values = Values::default();
        let err = format!("{:#}", app.stack_plan(None, &values, false).unwrap_err());
        assert!(err.contains("needs output AssetsBucketName of the bootstrap stack"), "{err}");
        let outputs = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        values.outputs.insert(Part::Bootstrap, outputs(&[("AssetsBucketName", "assets")]));
        values.outputs.insert(Part::Network, outputs(&[("SubnetIds", "s-1,s-2"), ("SecurityGroupId", "sg-1")]));
        values.outputs.insert(Part::Data, outputs(&[("ReportsBucketName", "reports"), ("SignalTopicArn", "arn:t")]));
        let err = format!("{:#}", app.stack_plan(None, &values, false).unwrap_err());
        assert!(err.contains("needs the packaged artifacts"), "{err}");

        let previous = app.stack_plan(None, &values, true).unwrap();
        assert_eq!(previous.parameters["JobImageDigest"], ParameterValue::UsePrevious);
        assert_eq!(previous.parameters["SubnetIds"], ParameterValue::Value("s-1,s-2".to_owned()));

        values.artifacts = Some(BTreeMap::from([
            (ArtifactKind::SubscribeZip, "lambda/s.zip".to_owned()),
            (ArtifactKind::WebZip, "lambda/w.zip".to_owned()),
            (ArtifactKind::JobImage, "sha256:ab".to_owned()),
        ]));
        let packaged = app.stack_plan(None, &values, true).unwrap();
        assert_eq!(packaged.parameters["JobImageDigest"], ParameterValue::Value("sha256:ab".to_owned()));
        assert_eq!(packaged.parameters["ReportsBucketName"], ParameterValue::Value("reports".to_owned()));
        assert_eq!(packaged.parameters.len(), 8);
    }
}
