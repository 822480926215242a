//! `cargo xtask deploy`, `diff` and `destroy`: the stacks of a stage, in order, through the
//! engine in `cloudformation`.
//!
//! The stacks are `invest-alchemy-<stage>-<part>` for the parts bootstrap, network, app and
//! edge (edge in us-east-1, where CloudFront wants it); the stage's settings (`protected`, the
//! region) come from `alchemy.toml` (`stage::Stage`), and the templates are synthesized afresh
//! into `target/cfn/<stage>/` unless `--templates` names a folder. Values flow forward as parameters: a
//! template parameter whose name is an output key of an earlier stack gets that output's value
//! ([`Deployment::deploy`]), so app's `SubnetIds` comes from network's `SubnetIds` output.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use anyhow::Context;
use stacks::{
    StageConfig,
    parts::{app, bootstrap},
};
use xshell::Shell;

use crate::{
    aws::Aws,
    aws::AwsContext,
    cloudformation::{self, DeployOptions, Outputs, StackPlan},
    flags, package,
    prompt::Prompt,
    stage::Stage,
};

/// The parts of a stage in deploy order.
pub(crate) const PARTS: [&str; 4] = ["bootstrap", "network", "app", "edge"];

/// A deploy of several stacks in order. Each template parameter that a plan leaves unset is
/// filled, by name, from values provided to the deployment (artifact keys, the image digest:
/// [`Deployment::provide`]) or else from the outputs of the stacks before it; the outputs are
/// collected for `target/outputs/<stage>.json`.
///
/// Deploying is async and packaging is not (it runs its own runtime), so the caller drives
/// each step with `block_on` and packages between the bootstrap stack and the rest.
#[derive(Debug)]
pub(crate) struct Deployment<'a> {
    aws: &'a Aws,
    options: DeployOptions,
    /// Values for template parameters of these names.
    provided: BTreeMap<String, String>,
    /// Outputs by stack name.
    outputs: BTreeMap<String, Outputs>,
}

impl<'a> Deployment<'a> {
    pub(crate) fn new(aws: &'a Aws, options: DeployOptions) -> Deployment<'a> {
        Deployment { aws, options, provided: BTreeMap::new(), outputs: BTreeMap::new() }
    }

    /// Values for the template parameters of these names in the stacks deployed from now on.
    pub(crate) fn provide(&mut self, values: BTreeMap<String, String>) {
        self.provided.extend(values);
    }

    /// Deploys one stack and returns its outputs.
    pub(crate) async fn deploy(&mut self, mut plan: StackPlan) -> anyhow::Result<Outputs> {
        fill_parameters(&mut plan, &self.provided, &self.outputs)?;
        let client = self.aws.cloudformation(plan.region.as_deref());
        let outputs = cloudformation::deploy_stack(&client, &plan, self.options).await?;
        self.outputs.insert(plan.name.clone(), outputs.clone());
        Ok(outputs)
    }

    /// Adds the outputs of a stack deployed before (not in this run), for later parameters.
    pub(crate) async fn read(&mut self, name: &str, region: Option<&str>) -> anyhow::Result<()> {
        let client = self.aws.cloudformation(region);
        if let Some(stack) = cloudformation::describe_stack(&client, name).await? {
            self.outputs.insert(name.to_owned(), cloudformation::outputs_of(&stack));
        }
        Ok(())
    }

    /// Whether a value for the template parameter `name` was provided.
    pub(crate) fn provides(&self, name: &str) -> bool {
        self.provided.contains_key(name)
    }

    /// The value a template parameter `name` would get: provided, else an output of that name.
    pub(crate) fn value_of(&self, name: &str) -> Option<&String> {
        self.provided.get(name).or_else(|| self.outputs.values().find_map(|it| it.get(name)))
    }

    /// Every output collected so far, by stack name.
    pub(crate) fn outputs(&self) -> &BTreeMap<String, Outputs> {
        &self.outputs
    }
}

/// Whether `plan` declares the artifact parameters (the app stack) and nothing provides them yet.
fn needs_artifacts(plan: &StackPlan, deployment: &Deployment<'_>) -> anyhow::Result<bool> {
    let declared =
        declared_parameters(&plan.template_body).with_context(|| format!("reading the template of {}", plan.name))?;
    Ok(declared.iter().any(|it| it == app::JOB_IMAGE_DIGEST) && !deployment.provides(app::JOB_IMAGE_DIGEST))
}

/// Builds the function zips and the job image and uploads what is absent: the zips to the assets
/// bucket, the image to `registry` (the bootstrap stack's ECR repository unless `--registry`).
/// Returns the app stack's artifact parameters. Packaging runs its own runtime, so this is called
/// between the `block_on`s of the stacks, never inside one.
fn package_and_upload(
    sh: &Shell,
    config: &StageConfig,
    assets_bucket: Option<String>,
    registry: Option<String>,
    aws: &Aws,
) -> anyhow::Result<BTreeMap<String, String>> {
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
    let key_of = |name: &str| {
        artifacts.functions.iter().find(|it| it.name == name).map(|it| it.key.clone()).context("a function zip")
    };
    Ok(BTreeMap::from([
        (app::SUBSCRIBE_CODE_KEY.to_owned(), key_of("subscribe")?),
        (app::WEB_CODE_KEY.to_owned(), key_of("web")?),
        (app::JOB_IMAGE_DIGEST.to_owned(), artifacts.job_image.manifest_digest.clone()),
    ]))
}

/// Sets each parameter the template declares and `plan` leaves unset from `provided`, else from
/// an output of that name. Only declared parameters: CloudFormation refuses unknown ones.
fn fill_parameters(
    plan: &mut StackPlan,
    provided: &BTreeMap<String, String>,
    outputs: &BTreeMap<String, Outputs>,
) -> anyhow::Result<()> {
    let declared =
        declared_parameters(&plan.template_body).with_context(|| format!("reading the template of {}", plan.name))?;
    for key in declared {
        if plan.parameters.contains_key(&key) {
            continue;
        }
        let value = provided.get(&key).or_else(|| outputs.values().find_map(|it| it.get(&key)));
        if let Some(value) = value {
            plan.parameters.insert(key, value.clone());
        }
    }
    Ok(())
}

impl flags::Deploy {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let (parts, stage, plans) = selected_plans(sh, &self.aws, &self.stacks)?;
        let protected = stage.protected();
        let prompt = Prompt { yes: self.aws.yes };
        let stage_name = &stage.name;
        if protected {
            prompt.ensure_can_ask(&format!("deploying the protected stage {stage_name}"))?;
        }
        let outputs_file = sh.current_dir().join("target/outputs").join(format!("{stage_name}.json"));
        let runtime = runtime()?;
        let aws = runtime.block_on(Aws::load(&stage.aws_flags(&self.aws)))?;
        let mut deployment = Deployment::new(&aws, DeployOptions { protected, prompt });
        if let Some(file) = &self.parameters {
            deployment.provide(read_json_object(file)?);
        }
        // The outputs of earlier parts not deployed now still feed the parameters of later ones.
        let last = parts.last().copied().unwrap_or("edge");
        let last_index = PARTS.iter().position(|it| *it == last).unwrap_or(PARTS.len());
        for part in PARTS[..last_index].iter().filter(|it| !parts.contains(it)) {
            runtime.block_on(deployment.read(&stage.stack_name(part), stage.region_of(part).as_deref()))?;
        }
        let started = std::time::Instant::now();
        for plan in plans {
            if needs_artifacts(&plan, &deployment)? {
                let Some(config) = &stage.config else {
                    anyhow::bail!(
                        "{} needs the function code keys and the job image digest: pass them with --parameters \
                         (stage {stage_name} is not in alchemy.toml, so there is nothing to package)",
                        plan.name
                    );
                };
                let assets_bucket = deployment.value_of(bootstrap::ASSETS_BUCKET_NAME).cloned();
                let repository_uri = deployment.value_of(bootstrap::JOB_REPOSITORY_URI).cloned();
                let registry = match (&self.registry, repository_uri) {
                    (Some(it), _) => Some(it.clone()),
                    (None, Some(uri)) => Some(format!("https://{uri}")),
                    (None, None) => None,
                };
                deployment.provide(package_and_upload(sh, config, assets_bucket, registry, &aws)?);
            }
            runtime.block_on(deployment.deploy(plan))?;
        }
        let deployed: Vec<String> = parts.iter().map(|part| stage.stack_name(part)).collect();
        let outputs: BTreeMap<String, Outputs> = deployment
            .outputs()
            .iter()
            .filter(|(name, _)| deployed.contains(name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        print_outputs(&outputs);
        save_outputs(&outputs_file, &outputs)?;
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
        let (_, stage, plans) = selected_plans(sh, &self.aws, &self.stacks)?;
        runtime()?.block_on(async {
            let aws = Aws::load(&stage.aws_flags(&self.aws)).await?;
            let mut plans = plans;
            fill_from_deployed_outputs(&aws, &stage, &mut plans).await?;
            for plan in plans {
                let client = aws.cloudformation(plan.region.as_deref());
                cloudformation::diff_stack(&client, &plan).await?;
            }
            Ok(())
        })
    }
}

/// Sets each parameter a plan declares and leaves unset from an output of that name of the
/// stage's deployed stacks: what `diff` compares against (it packages nothing).
pub(crate) async fn fill_from_deployed_outputs(
    aws: &Aws,
    stage: &Stage,
    plans: &mut [StackPlan],
) -> anyhow::Result<()> {
    let mut outputs: Vec<Outputs> = Vec::new();
    for part in PARTS {
        let client = aws.cloudformation(stage.region_of(part).as_deref());
        if let Some(stack) = cloudformation::describe_stack(&client, &stage.stack_name(part)).await? {
            outputs.push(cloudformation::outputs_of(&stack));
        }
    }
    for plan in plans {
        for key in declared_parameters(&plan.template_body)? {
            if let Some(value) = outputs.iter().find_map(|it| it.get(&key)) {
                plan.parameters.entry(key).or_insert_with(|| value.clone());
            }
        }
    }
    Ok(())
}

/// The parameters a plan's template declares without a `Default` that the plan gives no value:
/// a change set cannot be made without them.
pub(crate) fn unfilled_parameters(plan: &StackPlan) -> anyhow::Result<Vec<String>> {
    let template: serde_yaml::Value =
        serde_yaml::from_str(&plan.template_body).context("the template is not YAML or JSON")?;
    let Some(declared) = template.get("Parameters").and_then(|it| it.as_mapping()) else { return Ok(Vec::new()) };
    Ok(declared
        .iter()
        .filter(|(_, parameter)| parameter.get("Default").is_none())
        .filter_map(|(name, _)| name.as_str())
        .filter(|name| !plan.parameters.contains_key(*name))
        .map(str::to_owned)
        .collect())
}

impl flags::Destroy {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let prompt = Prompt { yes: self.aws.yes };
        let settings = Stage::resolve(sh, &self.aws, false)?;
        let stage = settings.name.clone();
        prompt.ensure_can_ask(&format!("destroying stage {stage}"))?;
        runtime()?.block_on(async {
            let aws = Aws::load(&settings.aws_flags(&self.aws)).await?;
            let mut parts: Vec<&str> = PARTS.iter().rev().copied().filter(|it| *it != "bootstrap").collect();
            if self.all {
                parts.push("bootstrap");
            }
            // What is there, what goes and what stays.
            let mut existing = Vec::new();
            for part in &parts {
                let name = settings.stack_name(part);
                let client = aws.cloudformation(settings.region_of(part).as_deref());
                let Some(stack) = cloudformation::describe_stack(&client, &name).await? else {
                    eprintln!("{name}: does not exist");
                    continue;
                };
                let inventory = inventory(&client, &name).await?;
                eprintln!("{name} ({}):", stack.stack_status().map(|it| it.as_str()).unwrap_or("?"));
                for resource in &inventory {
                    let purged = self.purge_data && resource.resource_type == "AWS::S3::Bucket";
                    let fate = if resource.retained && !purged { "keep  " } else { "delete" };
                    eprintln!("  {fate} {} {} {}", resource.logical_id, resource.resource_type, resource.physical_id);
                }
                existing.push((part.to_owned(), name, inventory));
            }
            if !self.all {
                eprintln!("{}: kept (pass --all to delete it too)", settings.stack_name("bootstrap"));
            }
            if existing.is_empty() {
                eprintln!("nothing to destroy for stage {stage}");
                return Ok(());
            }
            if !prompt.confirm_typed(&format!("This deletes the stacks above of stage {stage}."), &stage)? {
                anyhow::bail!("destroy cancelled: nothing deleted");
            }
            let purge_warning = format!(
                "--purge-data also deletes the reports bucket of stage {stage} \
                 and every report in it, for good."
            );
            if self.purge_data && !prompt.confirm_typed(&purge_warning, &format!("purge {stage}"))? {
                anyhow::bail!("destroy cancelled: nothing deleted");
            }
            for (part, name, inventory) in &existing {
                let client = aws.cloudformation(settings.region_of(part).as_deref());
                // CloudFormation cannot delete a bucket with objects or a repository with images:
                // empty what this stack deletes (the assets bucket, the job images) first.
                for resource in inventory.iter().filter(|it| !it.retained) {
                    match resource.resource_type.as_str() {
                        "AWS::S3::Bucket" => empty_bucket(&aws.s3(), &resource.physical_id).await?,
                        "AWS::ECR::Repository" => delete_images(&aws.ecr(), &resource.physical_id).await?,
                        _ => {}
                    }
                }
                cloudformation::delete_stack(&client, name).await?;
                for resource in inventory.iter().filter(|it| it.retained) {
                    if self.purge_data && resource.resource_type == "AWS::S3::Bucket" {
                        let bucket = &resource.physical_id;
                        empty_bucket(&aws.s3(), bucket).await?;
                        aws.s3()
                            .delete_bucket()
                            .bucket(bucket)
                            .send()
                            .await
                            .aws_context(|| format!("deleting bucket {bucket}"))?;
                        eprintln!("deleted the retained bucket {bucket} (--purge-data)");
                    } else {
                        eprintln!("kept {} {} {}", resource.logical_id, resource.resource_type, resource.physical_id);
                    }
                }
            }
            Ok(())
        })
    }
}

/// A resource of a stack about to be deleted.
#[derive(Debug)]
struct Resource {
    logical_id: String,
    resource_type: String,
    physical_id: String,
    /// `DeletionPolicy: Retain` keeps it when the stack goes.
    retained: bool,
}

/// The stack's resources, and which of them its template retains.
async fn inventory(client: &aws_sdk_cloudformation::Client, name: &str) -> anyhow::Result<Vec<Resource>> {
    let template = client
        .get_template()
        .stack_name(name)
        .send()
        .await
        .aws_context(|| format!("reading the template of {name}"))?;
    let retained = retained_resources(template.template_body().unwrap_or_default())?;
    let mut res = Vec::new();
    let mut pages = client.list_stack_resources().stack_name(name).into_paginator().items().send();
    while let Some(it) = pages.next().await {
        let it = it.aws_context(|| format!("listing the resources of {name}"))?;
        let logical_id = it.logical_resource_id().unwrap_or_default().to_owned();
        res.push(Resource {
            retained: retained.contains(&logical_id),
            logical_id,
            resource_type: it.resource_type().unwrap_or_default().to_owned(),
            physical_id: it.physical_resource_id().unwrap_or_default().to_owned(),
        });
    }
    Ok(res)
}

/// Deletes every object version and delete marker of a bucket, so the bucket itself can go.
async fn empty_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> anyhow::Result<()> {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let mut deleted = 0;
    loop {
        let page =
            s3.list_object_versions().bucket(bucket).send().await.aws_context(|| format!("listing bucket {bucket}"))?;
        let id = |key: Option<&str>, version: Option<&str>| {
            ObjectIdentifier::builder().key(key.unwrap_or_default()).set_version_id(version.map(str::to_owned)).build()
        };
        let versions = page.versions().iter().map(|it| id(it.key(), it.version_id()));
        let markers = page.delete_markers().iter().map(|it| id(it.key(), it.version_id()));
        let objects = versions.chain(markers).collect::<Result<Vec<_>, _>>()?;
        if objects.is_empty() {
            break;
        }
        deleted += objects.len();
        s3.delete_objects()
            .bucket(bucket)
            .delete(Delete::builder().set_objects(Some(objects)).quiet(true).build()?)
            .send()
            .await
            .aws_context(|| format!("emptying bucket {bucket}"))?;
    }
    eprintln!("emptied bucket {bucket} ({deleted} objects and versions)");
    Ok(())
}

/// Deletes every image of a repository, so the repository itself can go.
async fn delete_images(ecr: &aws_sdk_ecr::Client, repository: &str) -> anyhow::Result<()> {
    let mut ids = Vec::new();
    let mut next_token = None;
    loop {
        let page = ecr.list_images().repository_name(repository).set_next_token(next_token).send().await;
        let page = match page {
            Ok(page) => page,
            Err(err) if aws_sdk_ecr::error::ProvideErrorMetadata::code(&err) == Some("RepositoryNotFoundException") => {
                return Ok(());
            }
            Err(err) => return Err(err).aws_context(|| format!("listing the images of {repository}")),
        };
        ids.extend_from_slice(page.image_ids());
        next_token = page.next_token().map(str::to_owned);
        if next_token.is_none() {
            break;
        }
    }
    for chunk in ids.chunks(100) {
        ecr.batch_delete_image()
            .repository_name(repository)
            .set_image_ids(Some(chunk.to_vec()))
            .send()
            .await
            .aws_context(|| format!("deleting the images of {repository}"))?;
    }
    eprintln!("deleted {} images of {repository}", ids.len());
    Ok(())
}

/// The parts named by `--stacks`, checked, in deploy order whatever order they were given in.
/// The selected parts in deploy order, the stage, and their plans from the templates.
fn selected_plans(
    sh: &Shell,
    aws: &flags::Aws,
    selection: &flags::StackSelection,
) -> anyhow::Result<(Vec<&'static str>, Stage, Vec<StackPlan>)> {
    let parts = selected_parts(&selection.stacks)?;
    let stage = Stage::resolve(sh, aws, selection.templates.is_none())?;
    let dir = templates_dir(sh, &stage, selection.templates.as_deref())?;
    let plans = read_plans(&dir, &stage, &parts)?;
    Ok((parts, stage, plans))
}

fn selected_parts(names: &[String]) -> anyhow::Result<Vec<&'static str>> {
    for name in names {
        if !PARTS.contains(&name.as_str()) {
            anyhow::bail!("unknown stack {name:?}: the stacks are {}", PARTS.join(", "));
        }
    }
    Ok(PARTS.iter().copied().filter(|part| names.iter().any(|it| it == part)).collect())
}

/// Where the templates are read from: `--templates DIR`, else the stage's templates synthesized
/// afresh into `target/cfn/<stage>/` (as `cargo xtask synth` does), so a deploy never uses stale ones.
pub(crate) fn templates_dir(sh: &Shell, stage: &Stage, flag: Option<&Path>) -> anyhow::Result<PathBuf> {
    match (flag, &stage.config) {
        // Relative to where the command was run, like any path on a command line.
        (Some(dir), _) => Ok(std::env::current_dir().map(|cwd| cwd.join(dir)).unwrap_or_else(|_| dir.to_owned())),
        (None, Some(config)) => {
            crate::synth::write_stage(sh, config)?;
            Ok(sh.current_dir().join("target/cfn").join(&stage.name))
        }
        (None, None) => anyhow::bail!("stage {} is not in the configuration: pass --templates DIR", stage.name),
    }
}

/// The plans of `parts` from `<dir>/<part>.yaml` and the optional `<dir>/<part>.parameters.json`.
pub(crate) fn read_plans(dir: &Path, stage: &Stage, parts: &[&str]) -> anyhow::Result<Vec<StackPlan>> {
    let mut plans = Vec::new();
    for part in parts {
        let template_file = dir.join(format!("{part}.yaml"));
        let template_body = std::fs::read_to_string(&template_file)
            .with_context(|| format!("reading {} (run `cargo xtask synth` first)", template_file.display()))?;
        let parameters_file = dir.join(format!("{part}.parameters.json"));
        let parameters = if parameters_file.exists() { read_json_object(&parameters_file)? } else { BTreeMap::new() };
        plans.push(StackPlan {
            name: stage.stack_name(part),
            region: stage.region_of(part),
            template_body,
            parameters,
        });
    }
    Ok(plans)
}

/// A JSON file holding an object of strings.
fn read_json_object(file: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let file = std::env::current_dir().map(|cwd| cwd.join(file)).unwrap_or_else(|_| file.to_owned());
    let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a JSON object of strings", file.display()))
}

/// The names of a template's `Parameters`.
pub(crate) fn declared_parameters(template_body: &str) -> anyhow::Result<Vec<String>> {
    let template: serde_yaml::Value =
        serde_yaml::from_str(template_body).context("the template is not YAML or JSON")?;
    let names = template
        .get("Parameters")
        .and_then(|it| it.as_mapping())
        .map(|it| it.keys().filter_map(|key| key.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    Ok(names)
}

/// The logical ids of the resources a template keeps on delete (`DeletionPolicy: Retain` or `RetainExceptOnCreate`).
pub(crate) fn retained_resources(template_body: &str) -> anyhow::Result<Vec<String>> {
    let template: serde_yaml::Value =
        serde_yaml::from_str(template_body).context("the template is not YAML or JSON")?;
    let Some(resources) = template.get("Resources").and_then(|it| it.as_mapping()) else { return Ok(Vec::new()) };
    Ok(resources
        .iter()
        .filter(|(_, resource)| {
            resource.get("DeletionPolicy").and_then(|it| it.as_str()).is_some_and(|it| it.starts_with("Retain"))
        })
        .filter_map(|(id, _)| id.as_str().map(str::to_owned))
        .collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_parameters_and_retained_resources_are_read_from_yaml_templates() {
        let template = concat!(
            "Parameters:\n  SubnetIds:\n    Type: String\n",
            "Resources:\n  Reports:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n",
            "  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: !Ref SubnetIds\n",
        );
        assert_eq!(declared_parameters(template).unwrap(), vec!["SubnetIds"]);
        assert_eq!(retained_resources(template).unwrap(), vec!["Reports"]);
    }

    #[test]
    fn parameters_are_filled_from_provided_values_then_earlier_outputs_and_only_when_declared() {
        let mut plan = StackPlan {
            name: "invest-alchemy-dev-app".to_owned(),
            region: None,
            template_body: concat!(
                "Parameters:\n  SubnetIds: {Type: String}\n  JobImageDigest: {Type: String}\n",
                "  Given: {Type: String}\nResources: {}\n",
            )
            .to_owned(),
            parameters: BTreeMap::from([("Given".to_owned(), "mine".to_owned())]),
        };
        let provided = BTreeMap::from([
            ("JobImageDigest".to_owned(), "sha256:ab".to_owned()),
            ("Given".to_owned(), "not this".to_owned()),
        ]);
        let outputs = BTreeMap::from([(
            "invest-alchemy-dev-network".to_owned(),
            BTreeMap::from([("SubnetIds".to_owned(), "s-1,s-2".to_owned()), ("VpcId".to_owned(), "vpc-1".to_owned())]),
        )]);

        fill_parameters(&mut plan, &provided, &outputs).unwrap();

        let expected = [("Given", "mine"), ("JobImageDigest", "sha256:ab"), ("SubnetIds", "s-1,s-2")];
        let expected: BTreeMap<String, String> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(plan.parameters, expected);
    }

    #[test]
    fn selected_parts_come_in_deploy_order_and_unknown_ones_are_refused() {
        let names = |it: &[&str]| it.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(selected_parts(&names(&["app", "bootstrap"])).unwrap(), vec!["bootstrap", "app"]);
        let err = selected_parts(&names(&["apps"])).unwrap_err().to_string();
        assert!(err.contains("unknown stack \"apps\""), "{err}");
    }
}
