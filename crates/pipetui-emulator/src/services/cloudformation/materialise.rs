//! Live objects behind stack resources: log groups, alarms and dashboards are created in the
//! emulator's Logs and CloudWatch services through `ctx.call` (never inside `store.write`).
//!
//! CodePipeline, CodeBuild and CodeDeploy resources go to those services' own CloudFormation
//! handlers (`cfn_put` / `cfn_delete`), and their evaluated properties are also kept under kind
//! `materialised/<type>` keyed by physical id. Other types exist on paper only.

use serde_json::{Map, Value, json};

use super::model::{Resource, SVC};
use crate::protocol::{ServiceError, ServiceId};
use crate::service::Ctx;
use crate::services::{codebuild, codedeploy, codepipeline};

/// Types whose properties are kept for services the emulator will serve later.
const DEFERRED: &[&str] = &[
    "AWS::CodePipeline::Pipeline",
    "AWS::CodeBuild::Project",
    "AWS::CodeDeploy::Application",
    "AWS::CodeDeploy::DeploymentGroup",
    "AWS::CodeDeploy::DeploymentConfig",
];

pub(super) fn kind(resource_type: &str) -> String {
    format!("materialised/{resource_type}")
}

/// The reason AWS gives when a resource handler's call fails.
fn handler_reason(service: &str, e: &ServiceError) -> String {
    format!(
        "Resource handler returned message: \"{}\" (Service: {service}, Status Code: {}, Request ID: {}) (HandlerErrorCode: {})",
        e.message,
        e.status,
        uuid::Uuid::new_v4(),
        if e.code.contains("AlreadyExists") {
            "AlreadyExists"
        } else if e.status == 404 || e.code.contains("NotFound") {
            "NotFound"
        } else {
            "InvalidRequest"
        }
    )
}

fn alarm_input(name: &str, props: &Value) -> Value {
    let mut m = match props {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    m.remove("Tags");
    m.insert("AlarmName".into(), json!(name));
    Value::Object(m)
}

/// Creates (or, with `old`, updates in place) the live object of `res`.
pub(super) fn put(
    ctx: &Ctx<'_>,
    stack_id: &str,
    res: &Resource,
    old: Option<&Resource>,
) -> Result<(), String> {
    let Some(physical) = res.physical_id() else {
        return Ok(());
    };
    let props = &res.properties;
    match res.resource_type.as_str() {
        "AWS::Logs::LogGroup" => {
            if old.is_none() {
                let mut input = json!({ "logGroupName": physical });
                if let Some(k) = props.get("KmsKeyId") {
                    input["kmsKeyId"] = k.clone();
                }
                if let Some(c) = props.get("LogGroupClass") {
                    input["logGroupClass"] = c.clone();
                }
                ctx.call(ServiceId::Logs, "CreateLogGroup", &input)
                    .map_err(|e| handler_reason("CloudWatchLogs", &e))?;
            }
            match props.get("RetentionInDays") {
                Some(days) => ctx
                    .call(
                        ServiceId::Logs,
                        "PutRetentionPolicy",
                        &json!({ "logGroupName": physical, "retentionInDays": days }),
                    )
                    .map(|_| ())
                    .map_err(|e| handler_reason("CloudWatchLogs", &e)),
                None if old.is_some_and(|o| o.properties.get("RetentionInDays").is_some()) => ctx
                    .call(
                        ServiceId::Logs,
                        "DeleteRetentionPolicy",
                        &json!({ "logGroupName": physical }),
                    )
                    .map(|_| ())
                    .map_err(|e| handler_reason("CloudWatchLogs", &e)),
                None => Ok(()),
            }
        }
        "AWS::CloudWatch::Alarm" => ctx
            .call(
                ServiceId::CloudWatch,
                "PutMetricAlarm",
                &alarm_input(physical, props),
            )
            .map(|_| ())
            .map_err(|e| handler_reason("CloudWatch", &e)),
        "AWS::CloudWatch::Dashboard" => {
            let body = match props.get("DashboardBody") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            ctx.call(
                ServiceId::CloudWatch,
                "PutDashboard",
                &json!({ "DashboardName": physical, "DashboardBody": body }),
            )
            .map(|_| ())
            .map_err(|e| handler_reason("CloudWatch", &e))
        }
        t if DEFERRED.contains(&t) => {
            let doc = json!({
                "Type": t,
                "PhysicalResourceId": physical,
                "LogicalResourceId": res.logical_id,
                "StackId": stack_id,
                "Arn": res.prov.as_ref().and_then(|p| p.arn.clone()),
                "Properties": props,
            });
            ctx.store
                .write(|tx| tx.put(SVC, &kind(t), physical, &doc))
                .map_err(|e| e.message)?;
            let (service, result) = match t.split("::").nth(1) {
                Some("CodePipeline") => (
                    "CodePipeline",
                    codepipeline::cfn_put(ctx, t, physical, props, old.is_some()),
                ),
                Some("CodeBuild") => (
                    "CodeBuild",
                    codebuild::cfn_put(ctx, t, physical, props, old.is_some()),
                ),
                _ => (
                    "CodeDeploy",
                    codedeploy::cfn_put(ctx, t, physical, props, old.is_some()),
                ),
            };
            result.map_err(|e| handler_reason(service, &e))
        }
        _ => Ok(()),
    }
}

/// Deletes the live object of `res`; one already gone is not an error.
pub(super) fn delete(ctx: &Ctx<'_>, res: &Resource) {
    let Some(physical) = res.physical_id() else {
        return;
    };
    let result = match res.resource_type.as_str() {
        "AWS::Logs::LogGroup" => ctx
            .call(
                ServiceId::Logs,
                "DeleteLogGroup",
                &json!({ "logGroupName": physical }),
            )
            .map(|_| ()),
        "AWS::CloudWatch::Alarm" => ctx
            .call(
                ServiceId::CloudWatch,
                "DeleteAlarms",
                &json!({ "AlarmNames": [physical] }),
            )
            .map(|_| ()),
        "AWS::CloudWatch::Dashboard" => ctx
            .call(
                ServiceId::CloudWatch,
                "DeleteDashboards",
                &json!({ "DashboardNames": [physical] }),
            )
            .map(|_| ()),
        t if DEFERRED.contains(&t) => {
            let live = match t.split("::").nth(1) {
                Some("CodePipeline") => codepipeline::cfn_delete(ctx, t, physical, &res.properties),
                Some("CodeBuild") => codebuild::cfn_delete(ctx, t, physical, &res.properties),
                _ => codedeploy::cfn_delete(ctx, t, physical, &res.properties),
            };
            if let Err(e) = live {
                tracing::debug!(physical, code = %e.code, "deleting a stack resource's live object");
            }
            ctx.store
                .write(|tx| tx.delete(SVC, &kind(t), physical))
                .map(|_| ())
        }
        _ => Ok(()),
    };
    if let Err(e) = result {
        tracing::debug!(physical, error = %e, "deleting a stack resource's live object");
    }
}
