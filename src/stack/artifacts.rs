//! The artifact bucket: versioned, encrypted, private, expiring, TLS-only.

use serde_json::{Value, json};

use super::access_logs::ARTIFACT_PREFIX;
use super::kms::remote_account_roots;
use super::{CICD, Ctx, Resource, fns, ids};
use crate::config::NameKind;

pub fn render(ctx: &mut Ctx<'_>) {
    let name = ctx.name(NameKind::S3Bucket, CICD, "artifacts");
    let encryption = if ctx.customer_kms() {
        json!({
            "ServerSideEncryptionByDefault": { "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": ctx.key_arn() },
            "BucketKeyEnabled": true
        })
    } else {
        json!({ "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" } })
    };
    let days = ctx.config.artifacts.expire_days;
    let bucket = Resource::new(
        "AWS::S3::Bucket",
        json!({
            "BucketName": name,
            "VersioningConfiguration": { "Status": "Enabled" },
            "BucketEncryption": { "ServerSideEncryptionConfiguration": [encryption] },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": true,
                "BlockPublicPolicy": true,
                "IgnorePublicAcls": true,
                "RestrictPublicBuckets": true
            },
            "OwnershipControls": { "Rules": [{ "ObjectOwnership": "BucketOwnerEnforced" }] },
            "LoggingConfiguration": {
                "DestinationBucketName": fns::r#ref(ids::ACCESS_LOGS),
                "LogFilePrefix": ARTIFACT_PREFIX
            },
            "LifecycleConfiguration": { "Rules": [{
                "Id": "expire-artifacts",
                "Status": "Enabled",
                "ExpirationInDays": days,
                "NoncurrentVersionExpiration": { "NoncurrentDays": days },
                "AbortIncompleteMultipartUpload": { "DaysAfterInitiation": 1 }
            }] },
        }),
    )
    .retained(ctx.retain_data());
    ctx.add(ids::BUCKET, CICD, bucket);

    let bucket_arn = fns::get_att(ids::BUCKET, "Arn");
    let objects = fns::sub(format!("${{{}.Arn}}/*", ids::BUCKET));
    // CodePipeline writes with aws:kms even without a customer key (it falls back to aws/s3).
    let allowed_sse = if ctx.customer_kms() {
        json!("aws:kms")
    } else {
        json!(["aws:kms", "AES256"])
    };
    let mut statements = vec![
        deny_insecure_transport(bucket_arn.clone(), objects.clone()),
        json!({
            "Sid": "DenyUnencryptedObjectUploads",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects.clone(),
            "Condition": { "StringNotEquals": { "s3:x-amz-server-side-encryption": allowed_sse } }
        }),
    ];
    let remote = remote_account_roots(ctx);
    if !remote.is_empty() {
        statements.push(json!({
            "Sid": "DeployAccountsReadArtifacts",
            "Effect": "Allow",
            "Principal": { "AWS": remote },
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": objects
        }));
    }
    let policy = Resource::new(
        "AWS::S3::BucketPolicy",
        json!({
            "Bucket": fns::r#ref(ids::BUCKET),
            "PolicyDocument": { "Version": "2012-10-17", "Statement": statements },
        }),
    );
    ctx.add("ArtifactBucketPolicy", CICD, policy);
}

/// The bucket-policy statement that refuses every request not made over TLS.
pub fn deny_insecure_transport(bucket_arn: Value, objects: Value) -> Value {
    json!({
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, objects],
        "Condition": { "Bool": { "aws:SecureTransport": "false" } }
    })
}
