//! `cargo xtask deploy` and `diff`: the stacks of a stage, in order, through the engine in
//! `cloudformation`, as the stage's assembly plans them (`plan::Deployment`).
//!
//! The assembly is the stage synthesized afresh into `target/cfn/<stage>/` (as `cargo xtask
//! synth` does), or the `manifest.json` of the folder `--templates` names. Each parameter gets
//! the value its input names: an earlier stack's output (deployed now or before), a packaged
//! artifact (deploy packages and uploads them once, when a stack needs them; diff reads the last
//! packaged ones, or keeps the deployed value), or the stage's configuration. The data stack gets
//! termination protection, and a deployment made before it existed has its retained reports
//! bucket imported into it (`adopt`).

mod adopt;
pub(crate) mod plan;

use std::{collections::BTreeMap, path::Path};

use anyhow::Context;
use stacks::{ArtifactKind, Part, StageAssembly, StageConfig, parts::bootstrap};
use xshell::Shell;

use crate::{
    aws::Aws,
    cloudformation::{self, DeployOptions, Outputs},
    deploy::plan::{Deployment, Values},
    flags, package,
    prompt::Prompt,
    stage::Stage,
    synth,
};

impl flags::Deploy {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let (stage, deployment) = plan(sh, &self.aws, &self.stacks)?;
        let protected = stage.protected();
        let prompt = Prompt { yes: self.aws.yes };
        let stage_name = &stage.name;
        if protected {
            prompt.ensure_can_ask(&format!("deploying the protected stage {stage_name}"))?;
        }
        let outputs_file = sh.current_dir().join("target/outputs").join(format!("{stage_name}.json"));
        let runtime = runtime()?;
        let region = self.aws.region.clone().unwrap_or_else(|| deployment.assembly.region.clone());
        let aws = runtime.block_on(Aws::load(&self.aws, Some(&region)))?;
        let options = DeployOptions { protected, prompt };
        let custom_endpoint = aws.sdk.endpoint_url().is_some();
        let started = std::time::Instant::now();
        let mut values = Values::default();
        // The outputs of earlier stacks not deployed now still feed the parameters of later ones.
        for part in &deployment.reads {
            let artifact = deployment.artifact(*part)?;
            let region = deployment.region_of(artifact);
            if let Some(outputs) = runtime.block_on(plan::read_outputs(&aws, artifact, region.as_deref()))? {
                values.outputs.insert(*part, outputs);
            }
        }
        for step in &deployment.steps {
            let artifact = &step.artifact;
            if step.needs_artifacts() && values.artifacts.is_none() {
                let Some(config) = &stage.config else {
                    anyhow::bail!(
                        "{} needs the function code keys and the job image digest, and stage {stage_name} is not \
                         in the configuration: there is nothing to package",
                        artifact.stack_name
                    );
                };
                let bootstrap_outputs = values.outputs.get(&Part::Bootstrap);
                let output = |key: &str| bootstrap_outputs.and_then(|it| it.get(key)).cloned();
                let registry = match (&self.registry, output(bootstrap::JOB_REPOSITORY_URI)) {
                    (Some(it), _) => Some(it.clone()),
                    (None, Some(uri)) => Some(format!("https://{uri}")),
                    (None, None) => None,
                };
                let assets_bucket = output(bootstrap::ASSETS_BUCKET_NAME);
                values.artifacts = Some(package_and_upload(sh, config, assets_bucket, registry, &aws)?);
            }
            let region = deployment.region_of(artifact);
            let client = aws.cloudformation(region.as_deref());
            if let Some(adoption) = &artifact.adopt {
                let dir = &deployment.dir;
                runtime.block_on(adopt::adopt_if_retained(&aws, &client, artifact, adoption, dir, options))?;
            }
            let plan = step.stack_plan(region, &values, false)?;
            let outputs = runtime.block_on(async {
                let outputs = cloudformation::deploy_stack(&client, &plan, options).await?;
                if artifact.termination_protection {
                    cloudformation::set_termination_protection(&client, &artifact.stack_name, true, custom_endpoint)
                        .await?;
                }
                plan::complete_outputs(&client, artifact, outputs).await
            })?;
            values.outputs.insert(artifact.part, outputs);
        }
        let outputs: BTreeMap<String, Outputs> = deployment
            .steps
            .iter()
            .filter_map(|step| {
                Some((step.artifact.stack_name.clone(), values.outputs.get(&step.artifact.part)?.clone()))
            })
            .collect();
        print_outputs(&outputs);
        save_outputs(&outputs_file, &outputs)?;
        let deployed: Vec<&str> = deployment.steps.iter().map(|it| it.artifact.stack_name.as_str()).collect();
        eprintln!(
            "deployed {} in {:.1} s; outputs in {}",
            deployed.join(", "),
            started.elapsed().as_secs_f64(),
            outputs_file.display()
        );
        Ok(())
    }
}

impl flags::Diff {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let (stage, deployment) = plan(sh, &self.aws, &self.stacks)?;
        let artifacts = package::packaged_values(sh, &stage.name)?;
        let region = self.aws.region.clone().unwrap_or_else(|| deployment.assembly.region.clone());
        let started = std::time::Instant::now();
        runtime()?.block_on(async {
            let aws = Aws::load(&self.aws, Some(&region)).await?;
            let (values, comparisons) = comparisons(&aws, &deployment, artifacts).await?;
            for (step, plan) in comparisons {
                let name = &step.artifact.stack_name;
                eprint!("{}", cross_region_inputs(&deployment, step, &values));
                match plan {
                    Ok(plan) => {
                        let client = aws.cloudformation(plan.region.as_deref());
                        cloudformation::diff_stack(&client, &plan).await?;
                    }
                    Err(why) => {
                        eprintln!("{name}: cannot be compared: {why}");
                        eprint!("{}", planned_resources(&step.artifact));
                    }
                }
            }
            anyhow::Ok(())
        })?;
        eprintln!("compared {} stacks in {:.1} s", deployment.steps.len(), started.elapsed().as_secs_f64());
        Ok(())
    }
}

/// The inputs `step` takes from stacks in another region (edge's from app), with their values
/// where those stacks are deployed. Empty when there are none.
fn cross_region_inputs(deployment: &Deployment, step: &plan::Step, values: &Values) -> String {
    let mut out = String::new();
    for (parameter, input) in &step.artifact.inputs {
        let stacks::Input::Output { part, key } = input else { continue };
        let Ok(from) = deployment.artifact(*part) else { continue };
        if from.region == step.artifact.region {
            continue;
        }
        if out.is_empty() {
            out = format!("{} ({}) takes from another region:\n", step.artifact.stack_name, step.artifact.region);
        }
        let value = match values.outputs.get(part).and_then(|it| it.get(key)) {
            Some(value) => value.clone(),
            None => format!("not known until {} is deployed", from.stack_name),
        };
        out += &format!("  {parameter} <- output {key} of {} ({}): {value}\n", from.stack_name, from.region);
    }
    out
}

/// What a first deploy of the stack of `artifact` would create, from its assembly.
fn planned_resources(artifact: &stacks::StackArtifact) -> String {
    let mut out = format!("{}: planned, {} resources:\n", artifact.stack_name, artifact.resources.len());
    for (id, resource_type) in &artifact.resources {
        out += &format!("  + {id} {resource_type}\n");
    }
    out
}

/// The change set plan of each step against what is deployed, as `diff` and `status` make them:
/// outputs of the deployed stacks, the packaged `artifacts` or else each stack's previous
/// values. A step that cannot be planned (an earlier stack not deployed, a new stack without
/// packaged artifacts) says why. Also returns the values read.
pub(crate) async fn comparisons<'a>(
    aws: &Aws,
    deployment: &'a Deployment,
    artifacts: Option<BTreeMap<ArtifactKind, String>>,
) -> anyhow::Result<(Values, Vec<(&'a plan::Step, Result<cloudformation::StackPlan, String>)>)> {
    let mut values = Values { artifacts, ..Values::default() };
    let mut exists = BTreeMap::new();
    for artifact in &deployment.assembly.stacks {
        let region = deployment.region_of(artifact);
        let outputs = plan::read_outputs(aws, artifact, region.as_deref()).await?;
        exists.insert(artifact.part, outputs.is_some());
        if let Some(outputs) = outputs {
            values.outputs.insert(artifact.part, outputs);
        }
    }
    let plans = deployment
        .steps
        .iter()
        .map(|step| {
            let previous = exists.get(&step.artifact.part).copied().unwrap_or(false);
            let plan = step.stack_plan(deployment.region_of(&step.artifact), &values, previous);
            (step, plan.map_err(|err| format!("{err:#}")))
        })
        .collect();
    Ok((values, plans))
}

/// The stage and the plan of the selected stacks: from the stage synthesized afresh into
/// `target/cfn/<stage>/`, or from the manifest in `--templates DIR`.
fn plan(sh: &Shell, aws: &flags::Aws, selection: &flags::StackSelection) -> anyhow::Result<(Stage, Deployment)> {
    let stage = Stage::resolve(sh, aws, selection.templates.is_none())?;
    let (dir, assembly) = stage_assembly(sh, &stage, selection.templates.as_deref())?;
    if assembly.stage != stage.name {
        anyhow::bail!("{} holds stage {}, not {}", dir.display(), assembly.stage, stage.name);
    }
    let deployment = Deployment::plan(&dir, assembly, &selection.stacks)?;
    Ok((stage, deployment))
}

/// The folder of the stage's templates and its assembly: `--templates DIR` (its manifest),
/// else the stage synthesized afresh into `target/cfn/<stage>/`, so a deploy never uses stale ones.
pub(crate) fn stage_assembly(
    sh: &Shell,
    stage: &Stage,
    flag: Option<&Path>,
) -> anyhow::Result<(std::path::PathBuf, StageAssembly)> {
    match (flag, &stage.config) {
        (Some(_), _) => {
            let dir = deployment_dir(sh, stage, flag);
            let assembly = synth::read_manifest(&dir)?;
            Ok((dir, assembly))
        }
        (None, Some(config)) => {
            let synthesized = synth::write_stage(sh, config)?;
            Ok((synthesized.dir, synthesized.assembly))
        }
        (None, None) => anyhow::bail!("stage {} is not in the configuration: pass --templates DIR", stage.name),
    }
}

/// The folder the templates are read from: `--templates DIR` (relative to where the command was
/// run, like any path on a command line), else `target/cfn/<stage>/`.
fn deployment_dir(sh: &Shell, stage: &Stage, flag: Option<&Path>) -> std::path::PathBuf {
    match flag {
        Some(dir) => std::env::current_dir().map(|cwd| cwd.join(dir)).unwrap_or_else(|_| dir.to_owned()),
        None => sh.current_dir().join("target/cfn").join(&stage.name),
    }
}

/// Builds the function zips and the job image and uploads what is absent: the zips to the assets
/// bucket, the image to `registry` (the bootstrap stack's ECR repository unless `--registry`).
/// Returns the artifact parameters' values, also saved for `diff`. Packaging runs its own
/// runtime, so this is called between the `block_on`s of the stacks, never inside one.
fn package_and_upload(
    sh: &Shell,
    config: &StageConfig,
    assets_bucket: Option<String>,
    registry: Option<String>,
    aws: &Aws,
) -> anyhow::Result<BTreeMap<ArtifactKind, String>> {
    let missing = |name: &str| {
        format!("the bootstrap stack has no output {name}: deploy it first (cargo xtask deploy --stacks bootstrap)")
    };
    let destinations = package::Destinations {
        assets_bucket: assets_bucket.with_context(|| missing(bootstrap::ASSETS_BUCKET_NAME))?,
        registry: registry.with_context(|| missing(bootstrap::JOB_REPOSITORY_URI))?,
        repository: stacks::parts::job_repository_name(config),
        sdk: Some(aws.sdk.clone()),
    };
    eprintln!("packaging the functions and the job image for stage {}", config.name);
    let functions: Vec<(&str, &str)> =
        package::FUNCTION_BINARIES.iter().map(|name| (package::FUNCTIONS_PACKAGE, *name)).collect();
    let built = package::build(sh, config.architecture, &functions)?;
    let artifacts = package::package(sh, config, &built, Some(&destinations))?;
    eprint!("{}", artifacts.summary());
    artifacts.save(sh)?;
    artifacts.values()
}

fn print_outputs(outputs: &BTreeMap<String, Outputs>) {
    for (stack, values) in outputs {
        println!("{stack}");
        for (key, value) in values {
            println!("  {key} = {value}");
        }
    }
}

/// Writes the outputs to `file`, keeping what it held for stacks not deployed this time.
fn save_outputs(file: &Path, outputs: &BTreeMap<String, Outputs>) -> anyhow::Result<()> {
    let mut all: BTreeMap<String, Outputs> =
        std::fs::read_to_string(file).ok().and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default();
    all.extend(outputs.iter().map(|(k, v)| (k.clone(), v.clone())));
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(&all).expect("maps of strings serialize");
    std::fs::write(file, text + "\n").with_context(|| format!("writing {}", file.display()))
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the async runtime")
}
