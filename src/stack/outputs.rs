//! Stack outputs: names, ARNs and console links. Never a secret.

use serde_json::{Value, json};

use super::iam::deploy_role_id;
use super::{CICD, Ctx, Output, fns, ids, pascal, same_account_condition};
use crate::config::NameKind;

fn put(ctx: &mut Ctx<'_>, key: &str, description: &str, value: Value, condition: Option<String>) {
    let export = json!({ "Name": fns::sub(format!("${{AWS::StackName}}-{key}")) });
    ctx.template.outputs.insert(
        key.into(),
        Output {
            condition,
            description: description.into(),
            value,
            export: Some(export),
        },
    );
}

pub fn render(ctx: &mut Ctx<'_>) {
    let pipeline = ctx.name(NameKind::Pipeline, CICD, "pipeline");
    put(
        ctx,
        "PipelineName",
        "Name of the pipeline",
        fns::r#ref(ids::PIPELINE),
        None,
    );
    put(
        ctx,
        "PipelineArn",
        "ARN of the pipeline",
        fns::sub(format!(
            "arn:${{AWS::Partition}}:codepipeline:${{AWS::Region}}:${{AWS::AccountId}}:${{{}}}",
            ids::PIPELINE
        )),
        None,
    );
    put(
        ctx,
        "PipelineConsoleUrl",
        "The pipeline in the AWS console",
        fns::sub(format!(
            "https://${{AWS::Region}}.console.aws.amazon.com/codesuite/codepipeline/pipelines/{pipeline}/view?region=${{AWS::Region}}"
        )),
        None,
    );
    put(
        ctx,
        "ArtifactBucketName",
        "Artifact bucket",
        fns::r#ref(ids::BUCKET),
        None,
    );
    put(
        ctx,
        "NotificationTopicArn",
        "SNS topic for approvals and notifications",
        fns::r#ref(ids::TOPIC),
        None,
    );
    put(
        ctx,
        "PipelineRoleArn",
        "Service role of the pipeline",
        fns::get_att(ids::PIPELINE_ROLE, "Arn"),
        None,
    );
    if ctx.template.resources.contains_key(ids::CODEBUILD_ROLE) {
        put(
            ctx,
            "CodeBuildRoleArn",
            "Service role of the builds",
            fns::get_att(ids::CODEBUILD_ROLE, "Arn"),
            None,
        );
    }
    if ctx.template.resources.contains_key(ids::NOTIFIER_ROLE) {
        put(
            ctx,
            "NotifierRoleArn",
            "Role of the notification Lambda",
            fns::get_att(ids::NOTIFIER_ROLE, "Arn"),
            None,
        );
    }
    for env in ctx.home_envs() {
        let key = format!("{}DeployRoleArn", pascal(&env.name));
        let desc = format!("CodeDeploy service role for {}", env.name);
        put(
            ctx,
            &key,
            &desc,
            fns::get_att(&deploy_role_id(env), "Arn"),
            same_account_condition(env),
        );
    }
    if ctx.template.resources.contains_key(ids::IMAGES) {
        put(
            ctx,
            "ImageRepositoryUri",
            "ECR repository the image stage pushes to",
            fns::get_att(ids::IMAGES, "RepositoryUri"),
            None,
        );
    }
    if ctx.template.resources.contains_key(ids::NOTIFIER) {
        put(
            ctx,
            "NotifierFunctionArn",
            "Notification Lambda",
            fns::get_att(ids::NOTIFIER, "Arn"),
            None,
        );
    }
    for env in ctx.home_envs() {
        let id = super::lambda_target::function_id(env);
        if ctx.template.resources.contains_key(&id) {
            let key = format!("{}DeployHandlerArn", pascal(&env.name));
            let desc = format!("Deploy handler Lambda of {}", env.name);
            put(
                ctx,
                &key,
                &desc,
                fns::get_att(&id, "Arn"),
                same_account_condition(env),
            );
        }
        let alb = super::network::alb_id(env);
        if ctx.template.resources.contains_key(&alb) {
            let key = format!("{}LoadBalancerUrl", pascal(&env.name));
            let desc = format!("Production URL of {}", env.name);
            let url = fns::sub(format!("http://${{{alb}.DNSName}}"));
            put(ctx, &key, &desc, url, same_account_condition(env));
        }
    }
    if ctx.template.resources.contains_key(ids::KEY) {
        put(
            ctx,
            "KeyArn",
            "Customer-managed KMS key",
            ctx.key_arn(),
            None,
        );
    }
    if ctx.template.resources.contains_key(ids::DASHBOARD) {
        let dashboard = ctx.name(NameKind::Dashboard, CICD, "dashboard");
        put(
            ctx,
            "DashboardUrl",
            "CloudWatch dashboard",
            fns::sub(format!(
                "https://${{AWS::Region}}.console.aws.amazon.com/cloudwatch/home?region=${{AWS::Region}}#dashboards:name={dashboard}"
            )),
            None,
        );
    }
}
