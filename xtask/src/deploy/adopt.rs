//! Adopting resources made before their stack existed: a deployment made before the data stack
//! has its reports bucket retained outside any stack (its app stack held it and `destroy` kept
//! it). When the data stack does not exist and exactly one bucket of the name the app stack's
//! CloudFormation gave it is there, an IMPORT change set brings it into a new data stack (the
//! manifest's import template: that bucket alone); the deploy then updates the stack to its full
//! template, adding the rest (its policy, the topic). The emulator treats an IMPORT as a CREATE,
//! so this is proven by the unit tests of the request, not against it.
//!
//! Uses the CloudFormation engine and the AWS configuration.

use std::{collections::BTreeMap, path::Path};

use anyhow::Context;
use stacks::{StackArtifact, parts::Adoption};

use crate::{
    aws::{Aws, AwsContext},
    cloudformation::{self, DeployOptions, Import, StackPlan},
};

/// Imports the resources of `adoption` into the stack of `artifact` when the stack does not
/// exist and they do; does nothing otherwise.
pub(crate) async fn adopt_if_retained(
    aws: &Aws,
    client: &aws_sdk_cloudformation::Client,
    artifact: &StackArtifact,
    adoption: &Adoption,
    dir: &Path,
    options: DeployOptions,
) -> anyhow::Result<()> {
    let name = &artifact.stack_name;
    if cloudformation::describe_stack(client, name).await?.is_some() {
        return Ok(());
    }
    let buckets = bucket_names(aws).await?;
    let mut import = Vec::new();
    for resource in &adoption.resources {
        let found: Vec<&String> = buckets.iter().filter(|it| it.starts_with(&resource.name_prefix)).collect();
        let bucket = match found.as_slice() {
            [] => continue,
            [bucket] => (*bucket).clone(),
            _ => anyhow::bail!(
                "{name} does not exist and several buckets could be its {}: {}; delete the ones that are not, \
                 then deploy again",
                resource.logical_id,
                found.iter().map(|it| it.as_str()).collect::<Vec<_>>().join(", ")
            ),
        };
        if still_held(client, &resource.previous_stack, &resource.logical_id).await? {
            anyhow::bail!(
                "the stack {} still holds {} ({bucket}), made before {name} existed: run `cargo xtask destroy` \
                 (which keeps it), then deploy again to import it into {name}",
                resource.previous_stack,
                resource.logical_id
            );
        }
        eprintln!("{name}: importing the retained {} {bucket} (made before {name} existed)", resource.resource_type);
        import.push(Import {
            logical_id: resource.logical_id.clone(),
            resource_type: resource.resource_type.clone(),
            identifier: BTreeMap::from([(resource.identifier.clone(), bucket)]),
        });
    }
    if import.is_empty() {
        return Ok(());
    }
    let plan = import_plan(artifact, adoption, dir, import)?;
    cloudformation::deploy_stack(client, &plan, options).await?;
    Ok(())
}

/// The IMPORT change set's plan: the import template of `adoption`, no parameters, `import`.
pub(crate) fn import_plan(
    artifact: &StackArtifact,
    adoption: &Adoption,
    dir: &Path,
    import: Vec<Import>,
) -> anyhow::Result<StackPlan> {
    let path = dir.join(&adoption.template);
    let template_body = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(StackPlan {
        name: artifact.stack_name.clone(),
        region: None,
        template_body,
        parameters: BTreeMap::new(),
        import,
    })
}

/// Every bucket of the account.
async fn bucket_names(aws: &Aws) -> anyhow::Result<Vec<String>> {
    let res = aws.s3().list_buckets().send().await.aws_context(|| "listing the buckets".to_owned())?;
    Ok(res.buckets().iter().filter_map(|it| it.name().map(str::to_owned)).collect())
}

/// Whether the stack `stack` exists and holds the resource `logical_id`.
async fn still_held(client: &aws_sdk_cloudformation::Client, stack: &str, logical_id: &str) -> anyhow::Result<bool> {
    if cloudformation::describe_stack(client, stack).await?.is_none() {
        return Ok(false);
    }
    Ok(cloudformation::physical_ids(client, stack).await?.contains_key(logical_id))
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudformation::types::ChangeSetType;
    use stacks::{Part, StageAssembly};

    use super::*;

    #[test]
    fn a_retained_reports_bucket_is_imported_by_name_with_the_import_template_alone() {
        let sh = xshell::Shell::new().unwrap();
        sh.change_dir(crate::project_root());
        let config = crate::stage::load(&sh, None).unwrap();
        let (assembly, templates) =
            StageAssembly::synth(config.stage("dev").unwrap(), &crate::stage::env_names()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for (file, template) in &templates {
            std::fs::write(dir.path().join(file), template.to_yaml()).unwrap();
        }
        let data = assembly.stack(Part::Data).unwrap();
        let adoption = data.adopt.as_ref().unwrap();
        let bucket = "invest-alchemy-dev-app-reports-1a2b3c4d5e6f";
        let resource = &adoption.resources[0];
        assert!(bucket.starts_with(&resource.name_prefix));
        let import = vec![Import {
            logical_id: resource.logical_id.clone(),
            resource_type: resource.resource_type.clone(),
            identifier: BTreeMap::from([(resource.identifier.clone(), bucket.to_owned())]),
        }];
        let plan = import_plan(data, adoption, dir.path(), import).unwrap();

        let sdk = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        let client = aws_sdk_cloudformation::Client::new(&sdk);
        let request = cloudformation::change_set_request(&client, &plan, ChangeSetType::Import, 1);
        let input = request.as_input();
        assert_eq!(input.get_stack_name().as_deref(), Some("invest-alchemy-dev-data"));
        assert_eq!(input.get_change_set_type(), &Some(ChangeSetType::Import));
        let resources = input.get_resources_to_import().clone().unwrap();
        assert_eq!(resources.len(), 1);
        assert_eq!(resources[0].logical_resource_id(), Some("Reports"));
        assert_eq!(resources[0].resource_type(), Some("AWS::S3::Bucket"));
        let identifier = resources[0].resource_identifier().unwrap();
        assert_eq!(identifier.get("BucketName").map(String::as_str), Some(bucket));
        let body = input.get_template_body().clone().unwrap();
        assert!(body.contains("DeletionPolicy: Retain"), "{body}");
        assert!(!body.contains("Signals") && !body.contains("ReportsPolicy") && !body.contains("Outputs"), "{body}");
        assert!(input.get_parameters().as_ref().is_none_or(|it| it.is_empty()));

        // The update that follows is an ordinary one of the full template, without resources to import.
        let update = cloudformation::change_set_request(
            &client,
            &StackPlan { import: Vec::new(), ..plan },
            ChangeSetType::Update,
            2,
        );
        assert!(update.as_input().get_resources_to_import().is_none());
    }
}
