//! Lambda targets: per environment the deploy handler function CodeDeploy shifts traffic for,
//! with its own log group and role, a published version and the alias traffic moves on.

use serde_json::json;

use super::deploy::lambda_function;
use super::iam::{role, stmt};
use super::{Ctx, Resource, fns, pascal};
use crate::config::{DeployTarget, Environment, NameKind};

/// Answers until the first release replaces it; CodeDeploy then moves the alias to new versions.
const BOOTSTRAP_CODE: &str = r#"import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"version": context.function_version})}
"#;

pub fn function_id(env: &Environment) -> String {
    format!("{}DeployHandler", pascal(&env.name))
}

pub fn alias_id(env: &Environment) -> String {
    format!("{}DeployHandlerAlias", pascal(&env.name))
}

fn log_group_id(env: &Environment) -> String {
    format!("{}DeployHandlerLogGroup", pascal(&env.name))
}

fn role_id(env: &Environment) -> String {
    format!("{}DeployHandlerRole", pascal(&env.name))
}

pub fn render(ctx: &mut Ctx<'_>) {
    if ctx.config.deploy.target != DeployTarget::Lambda {
        return;
    }
    for env in ctx.home_envs() {
        environment(ctx, env);
    }
}

fn environment(ctx: &mut Ctx<'_>, env: &Environment) {
    let logs = json!({
        "LogGroupName": ctx.name(NameKind::LogGroup, &env.name, "handler"),
        "RetentionInDays": ctx.config.monitoring.log_retention_days,
    });
    let group = ctx.log_group(logs);
    ctx.add_for(&log_group_id(env), env, group);
    let r = role(
        ctx,
        &env.name,
        "handler-role",
        json!("lambda.amazonaws.com"),
        vec![stmt(
            "WriteOwnLogs",
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            vec![fns::get_att(&log_group_id(env), "Arn")],
        )],
    );
    ctx.add_for(&role_id(env), env, r);
    let function = Resource::new(
        "AWS::Lambda::Function",
        json!({
            "FunctionName": lambda_function(ctx, env),
            "Description": format!("{} deploy handler ({})", ctx.config.project.service, env.name),
            "Runtime": "python3.12",
            "Handler": "index.handler",
            "Role": fns::get_att(&role_id(env), "Arn"),
            "Code": { "ZipFile": BOOTSTRAP_CODE },
            "Timeout": 30,
            "MemorySize": 256,
            "LoggingConfig": { "LogGroup": fns::r#ref(&log_group_id(env)), "LogFormat": "JSON" },
        }),
    );
    let function = function
        .checkov_skip(
            "CKV_AWS_115",
            "The application's own function, which releases replace: its reserved concurrency is a capacity decision of the application, not the pipeline's.",
        )
        .checkov_skip(
            "CKV_AWS_116",
            "Its callers invoke it synchronously through the alias; asynchronous failure handling belongs to the application.",
        )
        .checkov_skip(
            "CKV_AWS_117",
            "Whether the application's function needs VPC access depends on what it calls; [deploy.lambda] takes no VPC settings, so pipetui does not guess.",
        );
    ctx.add_for(&function_id(env), env, function);
    let version_id = format!("{}DeployHandlerVersion", pascal(&env.name));
    let version = Resource::new(
        "AWS::Lambda::Version",
        json!({ "FunctionName": fns::r#ref(&function_id(env)), "Description": "bootstrap" }),
    );
    ctx.add_for(&version_id, env, version);
    let alias = Resource::new(
        "AWS::Lambda::Alias",
        json!({
            "FunctionName": fns::r#ref(&function_id(env)),
            "FunctionVersion": fns::get_att(&version_id, "Version"),
            "Name": ctx.config.deploy.lambda.alias,
        }),
    );
    ctx.add_for(&alias_id(env), env, alias);
}
