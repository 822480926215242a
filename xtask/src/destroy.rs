//! `cargo xtask destroy`: deletes the stacks of a stage that can be rebuilt (edge, app, network;
//! bootstrap with `--all`) and keeps the data stack, the report history and the subscribers,
//! saying so and how to delete it for good: `--purge-data`, which asks again, turns its
//! termination protection off, empties the bucket, deletes the stack and the retained bucket
//! and topic.
//!
//! What each deployed stack retains is read from its deployed template (GetTemplate), which may
//! be older than the local one. Uses the CloudFormation engine, the AWS configuration, the stage.

use anyhow::Context;
use stacks::Part;
use xshell::Shell;

use crate::{
    aws::{Aws, AwsContext},
    cloudformation,
    deploy::runtime,
    flags,
    prompt::Prompt,
    stage::Stage,
};

impl flags::Destroy {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let prompt = Prompt { yes: self.aws.yes };
        let settings = Stage::resolve(sh, &self.aws, false)?;
        let stage = settings.name.clone();
        prompt.ensure_can_ask(&format!("destroying stage {stage}"))?;
        runtime()?.block_on(async {
            let aws = Aws::load(&self.aws, settings.region(&self.aws).as_deref()).await?;
            let custom_endpoint = aws.sdk.endpoint_url().is_some();
            let mut parts = vec![Part::Edge, Part::App, Part::Network];
            if self.purge_data {
                parts.push(Part::Data);
            }
            if self.all {
                parts.push(Part::Bootstrap);
            }
            // What is there, what goes and what stays.
            let mut existing = Vec::new();
            for part in &parts {
                let name = settings.stack_name(*part);
                let client = aws.cloudformation(settings.region_of(*part).as_deref());
                let Some(stack) = cloudformation::describe_stack(&client, &name).await? else {
                    eprintln!("{name}: does not exist");
                    continue;
                };
                let inventory = inventory(&client, &name).await?;
                eprintln!("{name} ({}):", stack.stack_status().map(|it| it.as_str()).unwrap_or("?"));
                for resource in &inventory {
                    let fate = if resource.retained && !self.purge_data { "keep  " } else { "delete" };
                    eprintln!("  {fate} {} {} {}", resource.logical_id, resource.resource_type, resource.physical_id);
                }
                existing.push((*part, name, inventory));
            }
            if !self.purge_data {
                let data = settings.stack_name(Part::Data);
                eprintln!(
                    "{data}: kept, with the report history and the subscribers (the next deploy uses it again); \
                     to delete it for good: cargo xtask destroy --stage {stage} --purge-data"
                );
            }
            if !self.all {
                eprintln!("{}: kept (pass --all to delete it too)", settings.stack_name(Part::Bootstrap));
            }
            if existing.is_empty() {
                eprintln!("nothing to destroy for stage {stage}");
                return Ok(());
            }
            if !prompt.confirm_typed(&format!("This deletes the stacks above of stage {stage}."), &stage)? {
                anyhow::bail!("destroy cancelled: nothing deleted");
            }
            let purge_warning = format!(
                "--purge-data also deletes the reports bucket of stage {stage} with every report in it, \
                 and the signal topic with every subscription, for good."
            );
            if self.purge_data && !prompt.confirm_typed(&purge_warning, &format!("purge {stage}"))? {
                anyhow::bail!("destroy cancelled: nothing deleted");
            }
            for (part, name, inventory) in &existing {
                let client = aws.cloudformation(settings.region_of(*part).as_deref());
                // CloudFormation cannot delete a bucket with objects or a repository with images:
                // empty what this stack deletes (the assets bucket, the job images) first.
                for resource in inventory.iter().filter(|it| !it.retained) {
                    match resource.resource_type.as_str() {
                        "AWS::S3::Bucket" => empty_bucket(&aws.s3(), &resource.physical_id).await?,
                        "AWS::ECR::Repository" => delete_images(&aws.ecr(), &resource.physical_id).await?,
                        _ => {}
                    }
                }
                if *part == Part::Data {
                    cloudformation::set_termination_protection(&client, name, false, custom_endpoint).await?;
                }
                cloudformation::delete_stack(&client, name).await?;
                for resource in inventory.iter().filter(|it| it.retained) {
                    if self.purge_data {
                        purge(&aws, resource).await?;
                    } else {
                        eprintln!("kept {} {} {}", resource.logical_id, resource.resource_type, resource.physical_id);
                    }
                }
            }
            Ok(())
        })
    }
}

/// Deletes a retained resource for good (`--purge-data`): a bucket after emptying it, a topic
/// with its subscriptions. Other types are kept, and said so.
async fn purge(aws: &Aws, resource: &Resource) -> anyhow::Result<()> {
    let id = &resource.physical_id;
    match resource.resource_type.as_str() {
        "AWS::S3::Bucket" => {
            empty_bucket(&aws.s3(), id).await?;
            aws.s3().delete_bucket().bucket(id).send().await.aws_context(|| format!("deleting bucket {id}"))?;
            eprintln!("deleted the retained bucket {id} (--purge-data)");
        }
        "AWS::SNS::Topic" => {
            aws.sns().delete_topic().topic_arn(id).send().await.aws_context(|| format!("deleting topic {id}"))?;
            eprintln!("deleted the retained topic {id} and its subscriptions (--purge-data)");
        }
        other => eprintln!("kept {} {other} {id}: --purge-data deletes buckets and topics only", resource.logical_id),
    }
    Ok(())
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

/// The stack's resources, and which of them its deployed template retains.
async fn inventory(client: &aws_sdk_cloudformation::Client, name: &str) -> anyhow::Result<Vec<Resource>> {
    let template = client
        .get_template()
        .stack_name(name)
        .send()
        .await
        .aws_context(|| format!("reading the template of {name}"))?;
    let retained = retained_resources(template.template_body().unwrap_or_default())
        .with_context(|| format!("reading the deployed template of {name}"))?;
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

/// The logical ids of the resources a deployed template (GetTemplate's text, YAML or JSON) keeps
/// on delete (`DeletionPolicy: Retain` or `RetainExceptOnCreate`).
fn retained_resources(template_body: &str) -> anyhow::Result<Vec<String>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retained_resources_are_read_from_a_deployed_template() {
        let template = concat!(
            "Resources:\n  Reports:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n",
            "  Topic:\n    Type: AWS::SNS::Topic\n",
        );
        assert_eq!(retained_resources(template).unwrap(), vec!["Reports"]);
    }
}
