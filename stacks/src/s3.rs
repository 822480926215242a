//! S3: a private bucket with safe defaults and prefix-scoped grants.

use serde::Serialize;
use serde_json::json;

use crate::{
    iam::policy::{Grant, Statement},
    model::{
        error::SynthError,
        expr::Expr,
        handle::NamedResource,
        names::{KeyPrefix, LogicalId},
        resource::Resource,
        stack::Stack,
    },
};

/// How a bucket differs from the safe default (private, S3-managed encryption, TLS only).
#[derive(Debug, Clone, Default)]
pub struct BucketProps {
    /// Keep every version of every object. Default: false.
    pub versioned: bool,
    /// Keep the bucket and its objects when the stack is deleted or the bucket replaced. Default: false.
    pub retain: bool,
    /// Delete objects this many days after they were written. Default: None (kept).
    pub expire_after_days: Option<u32>,
    /// Delete versions this many days after a newer one replaced them (versioned buckets). Default: None (kept).
    pub noncurrent_expire_after_days: Option<u32>,
}

/// A bucket in a stack, or one of another stack whose name a parameter holds.
#[derive(Debug, Clone)]
pub struct BucketRef {
    id: LogicalId,
    /// `id` is a parameter holding the bucket's name, not a resource.
    from_parameter: bool,
}

/// Adds a bucket that blocks all public access, encrypts with S3-managed keys and refuses
/// requests without TLS (its policy is `<id>Policy`).
pub fn bucket(stack: &mut Stack, id: &str, props: BucketProps) -> Result<BucketRef, SynthError> {
    let id = LogicalId::new(id)?;
    let mut rules = Vec::new();
    if let Some(days) = props.expire_after_days {
        rules.push(LifecycleRule {
            id: "ExpireObjects",
            status: "Enabled",
            expiration_in_days: Some(days),
            noncurrent_version_expiration: None,
            abort_incomplete_multipart_upload: Some(AbortIncomplete { days_after_initiation: 1 }),
        });
    }
    if let Some(days) = props.noncurrent_expire_after_days {
        rules.push(LifecycleRule {
            id: "ExpireReplacedVersions",
            status: "Enabled",
            expiration_in_days: None,
            noncurrent_version_expiration: Some(NoncurrentExpiration { noncurrent_days: days }),
            abort_incomplete_multipart_upload: Some(AbortIncomplete { days_after_initiation: 1 }),
        });
    }
    let properties = CfnBucket {
        public_access_block_configuration: PublicAccessBlock {
            block_public_acls: true,
            block_public_policy: true,
            ignore_public_acls: true,
            restrict_public_buckets: true,
        },
        bucket_encryption: BucketEncryption {
            server_side_encryption_configuration: vec![SseRule {
                server_side_encryption_by_default: SseDefault { sse_algorithm: "AES256" },
            }],
        },
        ownership_controls: OwnershipControls {
            rules: vec![OwnershipRule { object_ownership: "BucketOwnerEnforced" }],
        },
        versioning_configuration: props.versioned.then_some(Versioning { status: "Enabled" }),
        lifecycle_configuration: (!rules.is_empty()).then_some(LifecycleConfiguration { rules }),
    };
    let mut resource = Resource::new("AWS::S3::Bucket", &properties)?
        .skip_checkov("CKV_AWS_18", NO_ACCESS_LOGS)
        .suppress_guard("s3_bucket_logging_enabled_check", NO_ACCESS_LOGS)
        .suppress_nag("AwsSolutions-S1", NO_ACCESS_LOGS)
        .suppress_guard(
            "s3_bucket_default_encryption_kms_check",
            "encrypted with S3-managed keys at no cost: a customer KMS key costs $1 a month and SSE-KMS adds \
             a KMS charge per request, for data that is public on the site anyway",
        )
        .suppress_guard(
            "s3_event_notifications_enabled_check",
            "nothing reacts to writes: the job writes and the web function reads on request",
        )
        .suppress_guard(
            "s3_bucket_object_lock_enabled_check",
            "the job rewrites its index and markers in place, and `destroy --purge-data` must be able to delete \
             the bucket; versioning (where kept) and Retain protect the data instead",
        );
    if !props.versioned {
        let reason = "objects are content-addressed build artifacts: a new version is a new key";
        resource =
            resource.skip_checkov("CKV_AWS_21", reason).suppress_guard("s3_bucket_versioning_enabled_check", reason);
    }
    if props.retain {
        resource = resource.retain_on_delete_and_replace();
    }
    stack.add(&id, resource)?;

    let bucket = BucketRef { id, from_parameter: false };
    let deny_plain_http = json!({
        "Sid": "DenyRequestsWithoutTls",
        "Effect": "Deny",
        "Principal": { "AWS": "*" },
        "Action": ["s3:*"],
        // The objects as `Fn::Join`, the shape cfn-guard's rule recognizes as this bucket's objects.
        "Resource": [bucket.arn(), Expr::Join("", vec![bucket.arn(), Expr::str("/*")])],
        "Condition": { "Bool": { "aws:SecureTransport": "false" } },
    });
    let policy = CfnBucketPolicy {
        bucket: bucket.name(),
        policy_document: json!({ "Version": "2012-10-17", "Statement": [deny_plain_http] }),
    };
    stack.add(&bucket.id.child("Policy")?, Resource::new("AWS::S3::BucketPolicy", &policy)?)?;
    Ok(bucket)
}

/// A bucket's `Ref` is its name.
impl NamedResource for BucketRef {
    fn id(&self) -> &LogicalId {
        &self.id
    }

    fn arn(&self) -> Expr {
        match self.from_parameter {
            true => Expr::Sub(format!("arn:${{AWS::Partition}}:s3:::${{{}}}", self.id)),
            false => Expr::GetAtt(self.id.clone(), "Arn"),
        }
    }
}

impl BucketRef {
    /// The bucket whose name the stack's parameter `id` holds (a bucket of another stack).
    pub fn from_name_parameter(id: LogicalId) -> BucketRef {
        BucketRef { id, from_parameter: true }
    }

    /// Read the objects under `prefix`, and list the bucket so a missing key answers 404, not 403.
    pub fn grant_read(&self, prefix: &KeyPrefix) -> Grant {
        let read = Statement::allow(&["s3:GetObject"], vec![self.objects(prefix.as_str())]);
        Grant::new(vec![read.with_wildcard_reason(PREFIX_OBJECTS), self.list(prefix)])
    }

    /// Write objects under `prefix` (no other keys, no deletes), and list the bucket (see `list`).
    pub fn grant_write(&self, prefix: &KeyPrefix) -> Grant {
        let write = Statement::allow(&["s3:PutObject"], vec![self.objects(prefix.as_str())]);
        Grant::new(vec![write.with_wildcard_reason(PREFIX_OBJECTS), self.list(prefix)])
    }

    /// The ARN of the objects whose keys start with `prefix`.
    fn objects(&self, prefix: &str) -> Expr {
        match self.from_parameter {
            true => Expr::Sub(format!("arn:${{AWS::Partition}}:s3:::${{{}}}/{prefix}*", self.id)),
            false => Expr::Sub(format!("${{{}.Arn}}/{prefix}*", self.id)),
        }
    }

    /// `s3:ListBucket` on the bucket, without an `s3:prefix` condition: S3 answers a `GetObject` of a
    /// missing key with 404 only to callers allowed to list the bucket, and a `GetObject` request
    /// carries no `s3:prefix`, so a prefix-conditioned grant would turn every "not there yet" (the
    /// published marker, the first index) into 403 AccessDenied. Listing reveals key names only.
    fn list(&self, _prefix: &KeyPrefix) -> Statement {
        Statement::allow(&["s3:ListBucket"], vec![self.arn()])
    }
}

/// Why a bucket has no server access logs (checkov, cfn-guard and cdk-nag each ask for them).
const NO_ACCESS_LOGS: &str =
    "server access logs need a second bucket; no one but this app's own roles can reach this one";

/// Why a grant on `<bucket>/<prefix>*` is not a wildcard too wide.
const PREFIX_OBJECTS: &str = "the objects under one key prefix: the keys are the app's own layout (dates, codes)";

/// The `AWS::S3::Bucket` properties this construct sets. Names are CloudFormation's; cfn-lint checks them.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnBucket {
    public_access_block_configuration: PublicAccessBlock,
    bucket_encryption: BucketEncryption,
    ownership_controls: OwnershipControls,
    #[serde(skip_serializing_if = "Option::is_none")]
    versioning_configuration: Option<Versioning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lifecycle_configuration: Option<LifecycleConfiguration>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PublicAccessBlock {
    block_public_acls: bool,
    block_public_policy: bool,
    ignore_public_acls: bool,
    restrict_public_buckets: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BucketEncryption {
    server_side_encryption_configuration: Vec<SseRule>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SseRule {
    server_side_encryption_by_default: SseDefault,
}

#[derive(Serialize)]
struct SseDefault {
    // `rename_all = "PascalCase"` would write `SseAlgorithm`; CloudFormation wants `SSEAlgorithm`.
    #[serde(rename = "SSEAlgorithm")]
    sse_algorithm: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OwnershipControls {
    rules: Vec<OwnershipRule>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OwnershipRule {
    object_ownership: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Versioning {
    status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LifecycleConfiguration {
    rules: Vec<LifecycleRule>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LifecycleRule {
    id: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_in_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    noncurrent_version_expiration: Option<NoncurrentExpiration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    abort_incomplete_multipart_upload: Option<AbortIncomplete>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct NoncurrentExpiration {
    noncurrent_days: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AbortIncomplete {
    days_after_initiation: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CfnBucketPolicy {
    bucket: Expr,
    policy_document: serde_json::Value,
}
