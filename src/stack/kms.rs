//! The customer-managed KMS key that encrypts artifacts, logs, the topic and secrets.

use serde_json::{Value, json};

use super::{CICD, Ctx, Resource, fns, ids};
use crate::config::NameKind;

pub fn render(ctx: &mut Ctx<'_>) {
    let mut statements = vec![
        // Key policies must name "*" (this key); the root grant delegates access to IAM policies
        // and keeps the key manageable.
        json!({
            "Sid": "AccountAdministersKeyThroughIam",
            "Effect": "Allow",
            "Principal": { "AWS": fns::sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root") },
            "Action": "kms:*",
            "Resource": "*"
        }),
        json!({
            "Sid": "LogsEncryptPipetuiLogGroups",
            "Effect": "Allow",
            "Principal": { "Service": fns::sub("logs.${AWS::Region}.amazonaws.com") },
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": { "ArnLike": { "kms:EncryptionContext:aws:logs:arn":
                fns::sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/pipetui/*") } }
        }),
        // EventBridge rules and CloudWatch alarms publish to the encrypted topic.
        json!({
            "Sid": "ServicesPublishToEncryptedTopic",
            "Effect": "Allow",
            "Principal": { "Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com", "codestar-notifications.amazonaws.com"] },
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*"
        }),
    ];
    let remote: Vec<Value> = remote_account_roots(ctx);
    if !remote.is_empty() {
        statements.push(json!({
            "Sid": "DeployAccountsReadArtifacts",
            "Effect": "Allow",
            "Principal": { "AWS": remote },
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*"
        }));
    }
    let key = Resource::new(
        "AWS::KMS::Key",
        json!({
            "Description": format!("pipetui {}: artifacts, logs, notifications and secrets", ctx.config.project.service),
            "EnableKeyRotation": ctx.config.security.key_rotation,
            "KeyPolicy": { "Version": "2012-10-17", "Statement": statements },
        }),
    )
    .retained(ctx.retain_data());
    ctx.add(ids::KEY, CICD, key);
    let alias = Resource::new(
        "AWS::KMS::Alias",
        json!({
            "AliasName": ctx.name(NameKind::KmsAlias, CICD, "key"),
            "TargetKeyId": fns::r#ref(ids::KEY),
        }),
    );
    ctx.add("PipelineKeyAlias", CICD, alias);
}

/// The root principals of other accounts the pipeline deploys into.
pub fn remote_account_roots(ctx: &Ctx<'_>) -> Vec<Value> {
    let mut accounts: Vec<&str> = ctx
        .config
        .environments
        .iter()
        .filter_map(|e| e.account_id.as_deref())
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    accounts
        .into_iter()
        .map(|a| fns::sub(format!("arn:${{AWS::Partition}}:iam::{a}:root")))
        .collect()
}
