//! ECR: the job image's repository, with a lifecycle policy and the grant to pull from it.

use serde::Serialize;
use serde_json::json;

use crate::{
    iam::policy::{Grant, Statement},
    model::{error::SynthError, expr::Expr, names::LogicalId, resource::Resource, stack::Stack},
};

/// How a repository differs from the default.
#[derive(Debug, Clone)]
pub struct RepositoryProps {
    /// How many images to keep; older ones are deleted. Default: 5.
    pub keep_images: u32,
}

impl Default for RepositoryProps {
    fn default() -> RepositoryProps {
        RepositoryProps { keep_images: 5 }
    }
}

/// A repository, in this stack or (by name) in another one.
#[derive(Debug, Clone)]
pub struct RepositoryRef {
    name: String,
}

/// Adds a repository named `name` with immutable tags and scan on push.
pub fn repository(
    stack: &mut Stack,
    id: &str,
    name: &str,
    props: RepositoryProps,
) -> Result<RepositoryRef, SynthError> {
    let lifecycle = json!({
        "rules": [{
            "rulePriority": 1,
            "description": format!("keep the last {} images", props.keep_images),
            "selection": { "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": props.keep_images },
            "action": { "type": "expire" },
        }],
    });
    let properties = CfnRepository {
        repository_name: name.to_owned(),
        image_tag_mutability: "IMMUTABLE",
        image_scanning_configuration: ScanConfiguration { scan_on_push: true },
        lifecycle_policy: LifecyclePolicy { lifecycle_policy_text: lifecycle.to_string() },
        empty_on_delete: true,
    };
    let resource = Resource::new("AWS::ECR::Repository", &properties)?.skip_checkov(
        "CKV_AWS_136",
        "AES-256 encryption; a customer KMS key costs $1 a month, the whole budget of this app",
    );
    stack.add(&LogicalId::new(id)?, resource)?;
    Ok(RepositoryRef::from_name(name))
}

impl RepositoryRef {
    /// The repository `name` in the stack's account and region, made by another stack.
    pub fn from_name(name: &str) -> RepositoryRef {
        RepositoryRef { name: name.to_owned() }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn arn(&self) -> Expr {
        Expr::regional_arn("ecr", &format!("repository/{}", self.name))
    }

    /// The image `digest` (`sha256:...`) of this repository, pinned: a new image is a new task definition.
    pub fn image(&self, digest: Expr) -> Expr {
        let registry = format!("${{AWS::AccountId}}.dkr.ecr.${{AWS::Region}}.${{AWS::URLSuffix}}/{}@", self.name);
        Expr::Join("", vec![Expr::Sub(registry), digest])
    }

    /// Pull images from this repository. `ecr:GetAuthorizationToken` has no resource to scope to.
    pub fn grant_pull(&self) -> Grant {
        Grant::new(vec![
            Statement::allow(&["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], vec![self.arn()]),
            Statement::allow_on_any_resource(
                &["ecr:GetAuthorizationToken"],
                "the registry login token is account-wide: ECR requires the resource * for it",
            ),
        ])
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnRepository {
    repository_name: String,
    image_tag_mutability: &'static str,
    image_scanning_configuration: ScanConfiguration,
    lifecycle_policy: LifecyclePolicy,
    empty_on_delete: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ScanConfiguration {
    scan_on_push: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LifecyclePolicy {
    lifecycle_policy_text: String,
}
