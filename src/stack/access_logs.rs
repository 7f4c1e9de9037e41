//! The access-log bucket: S3 server access logs of the artifact bucket and the access logs of
//! every load balancer of the stack. SSE-S3, because load balancers can deliver only to buckets
//! encrypted with S3-managed keys; private, TLS-only, expiring.

use serde_json::{Value, json};

use super::artifacts::deny_insecure_transport;
use super::{CICD, Ctx, Resource, fns, ids, network};
use crate::config::NameKind;

/// Where in the bucket each source writes (load balancers add `AWSLogs/<account>/` themselves).
pub const ARTIFACT_PREFIX: &str = "s3/artifacts/";
pub const LOAD_BALANCER_PREFIX: &str = "alb";

/// Elastic Load Balancing's log-delivery account in each Region opened before August 2022;
/// Regions opened later accept the `logdelivery.elasticloadbalancing.amazonaws.com` service
/// principal instead (Elastic Load Balancing user guide, "Enable access logs").
const ELB_LOG_ACCOUNTS: &[(&str, &str)] = &[
    ("us-east-1", "127311923021"),
    ("us-east-2", "033677994240"),
    ("us-west-1", "027434742980"),
    ("us-west-2", "797873946194"),
    ("af-south-1", "098369216593"),
    ("ap-east-1", "754344448648"),
    ("ap-southeast-3", "589379963580"),
    ("ap-south-1", "718504428378"),
    ("ap-northeast-3", "383597477331"),
    ("ap-northeast-2", "600734575887"),
    ("ap-southeast-1", "114774131450"),
    ("ap-southeast-2", "783225319266"),
    ("ap-northeast-1", "582318560864"),
    ("ca-central-1", "985666609251"),
    ("eu-central-1", "054676820928"),
    ("eu-west-1", "156460612806"),
    ("eu-west-2", "652711504416"),
    ("eu-south-1", "635631232127"),
    ("eu-west-3", "009996457667"),
    ("eu-north-1", "897822967062"),
    ("me-south-1", "076674570225"),
    ("sa-east-1", "507241528517"),
    ("us-gov-west-1", "048591011584"),
    ("us-gov-east-1", "190560391635"),
    ("cn-north-1", "638102146993"),
    ("cn-northwest-1", "037604701340"),
];

/// The principal Elastic Load Balancing delivers access logs as, in `region`.
pub fn elb_log_principal(region: &str) -> Value {
    match ELB_LOG_ACCOUNTS.iter().find(|(r, _)| *r == region) {
        Some((_, account)) => {
            json!({ "AWS": fns::sub(format!("arn:${{AWS::Partition}}:iam::{account}:root")) })
        }
        None => json!({ "Service": "logdelivery.elasticloadbalancing.amazonaws.com" }),
    }
}

pub fn render(ctx: &mut Ctx<'_>) {
    let days = ctx.config.monitoring.log_retention_days.max(1);
    let bucket = Resource::new(
        "AWS::S3::Bucket",
        json!({
            "BucketName": ctx.name(NameKind::S3Bucket, CICD, "logs"),
            "BucketEncryption": { "ServerSideEncryptionConfiguration": [
                { "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" } }
            ] },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": true,
                "BlockPublicPolicy": true,
                "IgnorePublicAcls": true,
                "RestrictPublicBuckets": true
            },
            "OwnershipControls": { "Rules": [{ "ObjectOwnership": "BucketOwnerEnforced" }] },
            "LifecycleConfiguration": { "Rules": [{
                "Id": "expire-access-logs",
                "Status": "Enabled",
                "ExpirationInDays": days,
                "AbortIncompleteMultipartUpload": { "DaysAfterInitiation": 1 }
            }] },
        }),
    )
    .retained(ctx.retain_data())
    .checkov_skip(
        "CKV_AWS_18",
        "This is the access-log destination; logging its own accesses into itself would loop.",
    )
    .checkov_skip(
        "CKV_AWS_21",
        "Log objects are written once and expire with the log retention; versions would only keep deleted logs longer.",
    );
    ctx.add(ids::ACCESS_LOGS, CICD, bucket);

    let bucket_arn = fns::get_att(ids::ACCESS_LOGS, "Arn");
    let objects = |prefix: &str| fns::sub(format!("${{{}.Arn}}/{prefix}*", ids::ACCESS_LOGS));
    let mut statements = vec![
        deny_insecure_transport(bucket_arn, objects("")),
        json!({
            "Sid": "S3ServerAccessLogs",
            "Effect": "Allow",
            "Principal": { "Service": "logging.s3.amazonaws.com" },
            "Action": "s3:PutObject",
            "Resource": objects(ARTIFACT_PREFIX),
            "Condition": {
                "ArnLike": { "aws:SourceArn": fns::get_att(ids::BUCKET, "Arn") },
                "StringEquals": { "aws:SourceAccount": fns::r#ref("AWS::AccountId") }
            }
        }),
    ];
    if network::needs_alb(ctx) {
        statements.push(json!({
            "Sid": "LoadBalancerAccessLogs",
            "Effect": "Allow",
            "Principal": elb_log_principal(&ctx.config.aws.region),
            "Action": "s3:PutObject",
            "Resource": fns::sub(format!(
                "${{{}.Arn}}/{LOAD_BALANCER_PREFIX}/*/AWSLogs/${{AWS::AccountId}}/*",
                ids::ACCESS_LOGS
            )),
        }));
    }
    let policy = Resource::new(
        "AWS::S3::BucketPolicy",
        json!({
            "Bucket": fns::r#ref(ids::ACCESS_LOGS),
            "PolicyDocument": { "Version": "2012-10-17", "Statement": statements },
        }),
    );
    ctx.add("AccessLogBucketPolicy", CICD, policy);
}
