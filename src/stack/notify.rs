//! Notifications: the encrypted SNS topic, the pipeline state-change rule (through the Lambda
//! notifier when enabled) and the EventBridge rule that starts the pipeline on a push.

use serde_json::{Value, json};

use super::iam::pipeline_arn;
use super::{CICD, Ctx, Resource, fns, ids};
use crate::config::{NameKind, SourceProvider, Trigger};

/// Turns a state-change event into a readable message with a console link.
const NOTIFIER_CODE: &str = r#"import os
import boto3

sns = boto3.client("sns")


def handler(event, context):
    detail = event.get("detail", {})
    pipeline = detail.get("pipeline", "unknown")
    state = detail.get("state", "UNKNOWN")
    # Stage and action changes name where in the pipeline they happened.
    where = " / ".join(p for p in (detail.get("stage"), detail.get("action")) if p)
    subject = f"{pipeline} {where}: {state}" if where else f"{pipeline}: {state}"
    execution = detail.get("execution-id", "")
    region = event.get("region", "")
    url = (
        f"https://{region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        f"{pipeline}/executions/{execution}/timeline?region={region}"
    )
    sns.publish(
        TopicArn=os.environ["TOPIC_ARN"],
        Subject=subject[:100],
        Message=f"{subject} (execution {execution}).\n{url}\n",
    )
    return {"state": state}
"#;

pub fn render(ctx: &mut Ctx<'_>) {
    topic(ctx);
    state_change_rule(ctx);
    source_trigger(ctx);
}

fn topic(ctx: &mut Ctx<'_>) {
    let subscriptions: Vec<Value> = ctx
        .config
        .notifications
        .emails
        .iter()
        .map(|e| json!({ "Endpoint": e, "Protocol": "email" }))
        .collect();
    let mut props = json!({
        "TopicName": ctx.name(NameKind::SnsTopic, CICD, "notifications"),
        "DisplayName": format!("{} pipeline", ctx.config.project.service),
    });
    // The AWS-managed alias/aws/sns key's policy cannot be changed and refuses EventBridge and
    // CloudWatch alarms, so the topic is encrypted by the customer key or, with
    // `kms = "aws_managed"`, by a key of its own whose policy lets them publish.
    if !ctx.customer_kms() {
        topic_key(ctx);
    }
    props["KmsMasterKeyId"] = ctx.topic_key_arn();
    if !subscriptions.is_empty() {
        props["Subscription"] = Value::Array(subscriptions);
    }
    ctx.add(ids::TOPIC, CICD, Resource::new("AWS::SNS::Topic", props));
    let policy = Resource::new(
        "AWS::SNS::TopicPolicy",
        json!({
            "Topics": [fns::r#ref(ids::TOPIC)],
            "PolicyDocument": { "Version": "2012-10-17", "Statement": [{
                "Sid": "ServicesOfThisAccountPublish",
                "Effect": "Allow",
                "Principal": { "Service": ["events.amazonaws.com", "codestar-notifications.amazonaws.com", "cloudwatch.amazonaws.com"] },
                "Action": "sns:Publish",
                "Resource": fns::r#ref(ids::TOPIC),
                "Condition": { "StringEquals": { "aws:SourceAccount": fns::r#ref("AWS::AccountId") } }
            }] },
        }),
    );
    ctx.add("NotificationTopicPolicy", CICD, policy);
}

/// The topic's own customer-managed key (rotated): the account administers it through IAM, and
/// the services that publish to the topic for this account may use it.
fn topic_key(ctx: &mut Ctx<'_>) {
    let key = Resource::new(
        "AWS::KMS::Key",
        json!({
            "Description": format!("pipetui {}: the notification topic", ctx.config.project.service),
            "EnableKeyRotation": true,
            "KeyPolicy": { "Version": "2012-10-17", "Statement": [
                {
                    "Sid": "AccountAdministersKeyThroughIam",
                    "Effect": "Allow",
                    "Principal": { "AWS": fns::sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root") },
                    "Action": "kms:*",
                    "Resource": "*"
                },
                {
                    "Sid": "ServicesPublishToEncryptedTopic",
                    "Effect": "Allow",
                    "Principal": { "Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com", "codestar-notifications.amazonaws.com"] },
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": { "StringEquals": { "aws:SourceAccount": fns::r#ref("AWS::AccountId") } }
                }
            ] },
        }),
    );
    ctx.add(ids::TOPIC_KEY, CICD, key);
}

/// Why checkov's generic Lambda rules do not fit a function that only relays pipeline events.
fn relay_function(function: Resource) -> Resource {
    function
        .checkov_skip(
            "CKV_AWS_115",
            "Reserved concurrency would be taken from the account's unreserved pool (as small as 10 in new accounts); the function runs once per pipeline event.",
        )
        .checkov_skip(
            "CKV_AWS_116",
            "Invoked asynchronously by EventBridge, which retries a failed delivery for up to 24 hours; the execution history the message describes stays in CodePipeline.",
        )
        .checkov_skip(
            "CKV_AWS_117",
            "Calls only the SNS API; a VPC would need a NAT gateway or an endpoint and protects nothing here.",
        )
        .checkov_skip(
            "CKV_AWS_173",
            "Its only environment variable is the topic ARN, not a secret; Lambda encrypts environment variables at rest with its AWS managed key.",
        )
}

fn state_change_rule(ctx: &mut Ctx<'_>) {
    let n = &ctx.config.notifications;
    if n.lambda_notifier {
        let function = Resource::new(
            "AWS::Lambda::Function",
            json!({
                "FunctionName": ctx.name(NameKind::LambdaFunction, CICD, "notifier"),
                "Description": "Formats pipeline state changes for the notification topic",
                "Runtime": "python3.12",
                "Handler": "index.handler",
                "Role": fns::get_att(ids::NOTIFIER_ROLE, "Arn"),
                "Code": { "ZipFile": NOTIFIER_CODE },
                "Timeout": 30,
                "MemorySize": 128,
                "Environment": { "Variables": { "TOPIC_ARN": fns::r#ref(ids::TOPIC) } },
                "LoggingConfig": { "LogGroup": fns::r#ref(ids::NOTIFIER_LOGS), "LogFormat": "Text" },
            }),
        );
        ctx.add(ids::NOTIFIER, CICD, relay_function(function));
    }
    if n.events.is_empty() {
        return;
    }
    let states: Vec<String> = n
        .events
        .iter()
        .map(|e| e.as_str().to_ascii_uppercase())
        .collect();
    let target = if n.lambda_notifier {
        json!({ "Id": "notifier", "Arn": fns::get_att(ids::NOTIFIER, "Arn") })
    } else {
        json!({
            "Id": "topic",
            "Arn": fns::r#ref(ids::TOPIC),
            "InputTransformer": {
                "InputPathsMap": { "kind": "$.detail-type", "pipeline": "$.detail.pipeline", "state": "$.detail.state", "execution": "$.detail.execution-id" },
                "InputTemplate": "\"<kind>: pipeline <pipeline> execution <execution> is <state>.\""
            }
        })
    };
    let rule = Resource::new(
        "AWS::Events::Rule",
        json!({
            "Name": ctx.name(NameKind::EventRule, CICD, "pipeline-events"),
            "Description": "Pipeline state changes to the notification topic",
            "State": "ENABLED",
            "EventPattern": {
                "source": ["aws.codepipeline"],
                "detail-type": [
                    "CodePipeline Pipeline Execution State Change",
                    "CodePipeline Stage Execution State Change",
                    "CodePipeline Action Execution State Change"
                ],
                "detail": { "pipeline": [fns::r#ref(ids::PIPELINE)], "state": states }
            },
            "Targets": [target],
        }),
    );
    ctx.add("PipelineEventsRule", CICD, rule);
    if n.lambda_notifier {
        let permission = Resource::new(
            "AWS::Lambda::Permission",
            json!({
                "FunctionName": fns::r#ref(ids::NOTIFIER),
                "Action": "lambda:InvokeFunction",
                "Principal": "events.amazonaws.com",
                "SourceArn": fns::get_att("PipelineEventsRule", "Arn"),
            }),
        );
        ctx.add("NotifierInvokePermission", CICD, permission);
    }
}

fn source_trigger(ctx: &mut Ctx<'_>) {
    let s = &ctx.config.source;
    if s.trigger != Trigger::Automatic {
        return;
    }
    let pattern = match s.provider {
        SourceProvider::CodeCommit => json!({
            "source": ["aws.codecommit"],
            "detail-type": ["CodeCommit Repository State Change"],
            "resources": [fns::arn("codecommit", &s.repository)],
            "detail": { "event": ["referenceCreated", "referenceUpdated"], "referenceType": ["branch"], "referenceName": [s.branch] }
        }),
        // Needs EventBridge notifications enabled on the source bucket (it is not this stack's).
        SourceProvider::S3 => json!({
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": { "bucket": { "name": [s.bucket.clone().unwrap_or_default()] }, "object": { "key": [s.object_key.clone().unwrap_or_default()] } }
        }),
        // The CodeStar connection detects pushes itself (DetectChanges).
        SourceProvider::GitHub => return,
    };
    let rule = Resource::new(
        "AWS::Events::Rule",
        json!({
            "Name": ctx.name(NameKind::EventRule, CICD, "source-trigger"),
            "Description": format!("Starts the pipeline on changes to {}", s.branch),
            "State": "ENABLED",
            "EventPattern": pattern,
            "Targets": [{ "Id": "pipeline", "Arn": pipeline_arn(ctx), "RoleArn": fns::get_att(ids::EVENTS_ROLE, "Arn") }],
        }),
    );
    ctx.add("SourceTriggerRule", CICD, rule);
}
