//! The bootstrap stack: where deploys put what they build. Deployed first.

use crate::{
    config::StageConfig,
    ecr::{self, RepositoryProps},
    model::{error::SynthError, expr::Expr, handle::NamedResource, stack::Stack},
    parts::{Part, job_repository_name},
    s3::{self, BucketProps},
};

/// Output: the assets bucket, where `cargo xtask deploy` uploads the function zips.
pub const ASSETS_BUCKET_NAME: &str = "AssetsBucketName";
/// Output: the job image repository's name.
pub const JOB_REPOSITORY_NAME: &str = "JobRepositoryName";
/// Output: the job image repository's URI, which images are pushed to.
pub const JOB_REPOSITORY_URI: &str = "JobRepositoryUri";

/// The assets bucket (function zips keyed by content hash, expired after 90 days: a deploy
/// uploads what it needs again) and the job image repository (keeps the last 5 images).
pub fn stack(stage: &StageConfig) -> Result<Stack, SynthError> {
    let mut stack = Stack::new(&Part::Bootstrap.stack_name(&stage.name), "function zips and the job image")?;
    let assets =
        s3::bucket(&mut stack, "Assets", BucketProps { expire_after_days: Some(90), ..BucketProps::default() })?;
    let repository_name = job_repository_name(stage);
    ecr::repository(&mut stack, "JobRepository", &repository_name, RepositoryProps::default())?;

    stack.output(ASSETS_BUCKET_NAME, "Bucket of the function zips", assets.name())?;
    stack.output(JOB_REPOSITORY_NAME, "Repository of the job image", Expr::str(&repository_name))?;
    stack.output(
        JOB_REPOSITORY_URI,
        "Where the job image is pushed",
        Expr::Sub(format!("${{AWS::AccountId}}.dkr.ecr.${{AWS::Region}}.${{AWS::URLSuffix}}/{repository_name}")),
    )?;
    Ok(stack)
}
