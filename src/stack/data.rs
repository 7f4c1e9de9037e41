//! Optional data resources: the image repository, database credentials and the deploy history.

use serde_json::{Map, Value, json};

use super::{CICD, Ctx, Resource, ids};
use crate::config::NameKind;

pub fn render(ctx: &mut Ctx<'_>) {
    let retain = ctx.retain_data();
    if ctx.config.image.enabled {
        let image = &ctx.config.image;
        let name = match &image.repository {
            Some(r) => r.clone(),
            None => ctx.name(NameKind::EcrRepository, CICD, "images"),
        };
        let lifecycle = json!({ "rules": [{
            "rulePriority": 1,
            "description": format!("keep the last {} images", image.keep_images),
            "selection": { "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": image.keep_images },
            "action": { "type": "expire" }
        }] });
        let encryption = if ctx.customer_kms() {
            json!({ "EncryptionType": "KMS", "KmsKey": ctx.key_arn() })
        } else {
            // KMS without a key: ECR's AWS managed key (aws/ecr), transparent to image pulls.
            json!({ "EncryptionType": "KMS" })
        };
        let repo = Resource::new(
            "AWS::ECR::Repository",
            json!({
                "RepositoryName": name,
                "ImageScanningConfiguration": { "ScanOnPush": image.scan_on_push },
                "ImageTagMutability": if image.immutable_tags { "IMMUTABLE" } else { "MUTABLE" },
                "EncryptionConfiguration": encryption,
                "LifecyclePolicy": { "LifecyclePolicyText": lifecycle.to_string() },
                "EmptyOnDelete": !retain,
            }),
        )
        .retained(retain);
        ctx.add(ids::IMAGES, CICD, repo);
    }
    if ctx.config.secrets.database_credentials {
        let mut props = Map::new();
        props.insert(
            "Name".into(),
            json!(ctx.name(NameKind::Secret, CICD, "db-credentials")),
        );
        props.insert(
            "Description".into(),
            json!("Generated database credentials; read by the builds"),
        );
        props.insert(
            "GenerateSecretString".into(),
            json!({
                "SecretStringTemplate": "{\"username\":\"app\"}",
                "GenerateStringKey": "password",
                "PasswordLength": 32,
                "ExcludePunctuation": true
            }),
        );
        if ctx.customer_kms() {
            props.insert("KmsKeyId".into(), ctx.key_arn());
        }
        let secret =
            Resource::new("AWS::SecretsManager::Secret", Value::Object(props)).retained(retain);
        ctx.add(ids::SECRET, CICD, secret);
    }
    if ctx.config.pipeline.history_table {
        let sse = if ctx.customer_kms() {
            json!({ "SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": ctx.key_arn() })
        } else {
            json!({ "SSEEnabled": true })
        };
        let table = Resource::new(
            "AWS::DynamoDB::Table",
            json!({
                "TableName": ctx.name(NameKind::DynamoDbTable, CICD, "deploy-history"),
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    { "AttributeName": "environment", "AttributeType": "S" },
                    { "AttributeName": "deployedAt", "AttributeType": "S" }
                ],
                "KeySchema": [
                    { "AttributeName": "environment", "KeyType": "HASH" },
                    { "AttributeName": "deployedAt", "KeyType": "RANGE" }
                ],
                "PointInTimeRecoverySpecification": { "PointInTimeRecoveryEnabled": true },
                "SSESpecification": sse,
            }),
        )
        .retained(retain);
        ctx.add(ids::HISTORY, CICD, table);
    }
}
