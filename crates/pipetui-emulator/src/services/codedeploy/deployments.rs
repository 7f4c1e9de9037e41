//! The deployment operations: create, read, list, stop, continue, and their targets/instances.

use serde_json::{Value, json};

use super::CodeDeploy;
use super::engine::{Ending, refresh};
use super::model::*;
use super::{names, plan};
use crate::protocol::{Input, ServiceError, ts};
use crate::service::Ctx;

const CREATORS: &[&str] = &["user", "CloudFormation", "CodeDeploy", "autoscaling"];

/// A deployment as DeploymentInfo shows it.
pub fn render(dep: &Value) -> Value {
    let mut out = with_timestamps(dep, &["createTime", "startTime", "completeTime"]);
    if out.get("deploymentOverview").is_none() {
        let mut d = dep.clone();
        refresh(&mut d, false);
        out["deploymentOverview"] = d["deploymentOverview"].clone();
    }
    out
}

fn render_events(t: &Value) -> Value {
    t["lifecycleEvents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| with_timestamps(e, &["startTime", "endTime"]))
        .collect()
}

/// One target as BatchGetDeploymentTargets shows it.
fn render_target(ctx: &Ctx<'_>, dep: &Value, t: &Value) -> Value {
    let id = t["targetId"].as_str().unwrap_or("");
    let kind = t["_type"].as_str().unwrap_or("InstanceTarget");
    let mut body = json!({
        "deploymentId": dep["deploymentId"],
        "targetId": id,
        "status": t["status"],
        "lastUpdatedAt": ts(t["lastUpdatedAt"].as_f64().unwrap_or(0.0)),
        "lifecycleEvents": render_events(t),
    });
    let member = match kind {
        "LambdaTarget" => {
            body["targetArn"] = json!(ctx.arn("lambda", &format!("function:{id}")));
            body["lambdaFunctionInfo"] = t["lambdaFunctionInfo"].clone();
            "lambdaTarget"
        }
        "ECSTarget" => {
            body["targetArn"] = json!(ctx.arn("ecs", &format!("service/{}", id.replace(':', "/"))));
            body["taskSetsInfo"] = t["taskSetsInfo"].clone();
            "ecsTarget"
        }
        _ => {
            body["targetArn"] = json!(ctx.arn("ec2", &format!("instance/{id}")));
            body["instanceLabel"] = t["instanceLabel"].clone();
            "instanceTarget"
        }
    };
    json!({ "deploymentTargetType": kind, member: body })
}

fn get_started(ctx: &Ctx<'_>, input: &Input<'_>) -> Result<Value, ServiceError> {
    let id = deployment_id(input)?;
    let dep = ctx.store.read(|tx| load_deployment(tx, id))?;
    if dep["status"] == "Created" || dep["status"] == "Queued" {
        return Err(err(
            "DeploymentNotStartedException",
            format!("The deployment {id} has not started"),
        ));
    }
    Ok(dep)
}

fn targets(dep: &Value) -> Vec<Value> {
    dep["_targets"].as_array().cloned().unwrap_or_default()
}

impl CodeDeploy {
    pub(super) fn create_deployment(
        &self,
        ctx: &Ctx<'_>,
        input: Input<'_>,
    ) -> Result<Value, ServiceError> {
        let app = names::app_name(&input)?;
        let group = names::group_name(&input)?;
        let revision = input
            .get("revision")
            .filter(|r| r.is_object())
            .cloned()
            .ok_or_else(|| err("RevisionRequiredException", "Revision is required"))?;
        let description = input.str("description");
        if description.is_some_and(|d| d.len() > 512) {
            return Err(err(
                "DescriptionTooLongException",
                "The description is too long.",
            ));
        }
        if let Some(f) = input.str("fileExistsBehavior")
            && !["DISALLOW", "OVERWRITE", "RETAIN"].contains(&f)
        {
            return Err(err(
                "InvalidFileExistsBehaviorException",
                format!("Invalid fileExistsBehavior {f}"),
            ));
        }
        let creator = input
            .str("creator")
            .filter(|c| CREATORS.contains(c))
            .unwrap_or("user");
        let req = plan::Request {
            app,
            group,
            revision,
            config: input.str("deploymentConfigName"),
            description,
            creator,
            ignore_stop_failures: input.bool("ignoreApplicationStopFailures").unwrap_or(false),
            auto_rollback: input.get("autoRollbackConfiguration").cloned(),
            alarms: input.get("overrideAlarmConfiguration").cloned(),
            file_exists: input.str("fileExistsBehavior"),
        };
        let now = ctx.clock.now();
        let id = ctx
            .store
            .write(|tx| plan::create(tx, &ctx.emulator.settings, now, &req))?;
        Ok(json!({ "deploymentId": id }))
    }

    pub(super) fn stop_deployment(
        &self,
        ctx: &Ctx<'_>,
        input: Input<'_>,
    ) -> Result<Value, ServiceError> {
        let id = deployment_id(&input)?;
        let ending = Ending {
            status: "Stopped",
            code: "MANUAL_STOP",
            message: "The deployment was stopped by a StopDeployment request.".into(),
            event: "DEPLOYMENT_STOP_ON_REQUEST",
        };
        let dep = ctx.store.write(|tx| {
            let mut dep = load_deployment(tx, id)?;
            if !dep["status"].as_str().is_some_and(|s| ACTIVE.contains(&s)) {
                return Err(err(
                    "DeploymentAlreadyCompletedException",
                    format!("The deployment {id} is already completed."),
                ));
            }
            self.conclude(ctx, &mut dep, &ending);
            dep["_run"]["rev"] = json!(dep["_run"]["rev"].as_u64().unwrap_or(0) + 1);
            if let Some(force) = input.bool("autoRollbackEnabled") {
                let mut cfg = dep["autoRollbackConfiguration"].clone();
                let mut events: Vec<Value> = cfg["events"].as_array().cloned().unwrap_or_default();
                events.retain(|e| e != "DEPLOYMENT_STOP_ON_REQUEST");
                if force {
                    events.push(json!("DEPLOYMENT_STOP_ON_REQUEST"));
                    cfg["enabled"] = json!(true);
                }
                cfg["events"] = json!(events);
                dep["autoRollbackConfiguration"] = cfg;
            }
            tx.put(SVC, DEPLOYMENT, id, &dep)?;
            Ok(dep)
        })?;
        crate::engine::groups::forget(ctx.store, &format!("codedeploy/{id}"));
        self.roll_back(ctx, id, ending.event)?;
        Ok(json!({
            "status": "Succeeded",
            "statusMessage": format!(
                "Deployment of application {} to deployment group {} was stopped",
                dep["applicationName"].as_str().unwrap_or(""),
                dep["deploymentGroupName"].as_str().unwrap_or("")
            ),
        }))
    }

    pub(super) fn continue_deployment(
        &self,
        ctx: &Ctx<'_>,
        input: Input<'_>,
    ) -> Result<Value, ServiceError> {
        let id = deployment_id(&input)?;
        let wait = input.str("deploymentWaitType").unwrap_or("READY_WAIT");
        let now = ctx.clock.now();
        ctx.store.write(|tx| {
            let mut dep = load_deployment(tx, id)?;
            let status = dep["status"].as_str().unwrap_or("");
            if !ACTIVE.contains(&status) {
                return Err(err(
                    "DeploymentAlreadyCompletedException",
                    format!("The deployment {id} is already completed."),
                ));
            }
            if dep["deploymentStyle"]["deploymentType"] != "BLUE_GREEN" {
                return Err(err(
                    "UnsupportedActionForDeploymentTypeException",
                    "ContinueDeployment applies to blue/green deployments only.",
                ));
            }
            match wait {
                "READY_WAIT" if status == "Ready" => {
                    dep["status"] = json!("InProgress");
                    dep["_run"]["stage"] = json!("reroute");
                    refresh(&mut dep, false);
                }
                "READY_WAIT" => {
                    return Err(err(
                        "DeploymentIsNotInReadyStateException",
                        format!("The deployment {id} is not in the Ready state"),
                    ));
                }
                "TERMINATION_WAIT" if dep["_run"]["stage"] == "terminate" => {
                    dep["_run"]["terminateAt"] = json!(now);
                }
                _ => {
                    return Err(err(
                        "InvalidDeploymentWaitTypeException",
                        format!("The deployment {id} is not waiting for {wait}"),
                    ));
                }
            }
            dep["_run"]["rev"] = json!(dep["_run"]["rev"].as_u64().unwrap_or(0) + 1);
            tx.put(SVC, DEPLOYMENT, id, &dep)
        })?;
        Ok(json!({}))
    }
}

pub fn get_deployment(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let id = deployment_id(&input)?;
    let dep = ctx.store.read(|tx| load_deployment(tx, id))?;
    Ok(json!({ "deploymentInfo": render(&dep) }))
}

pub fn batch_get_deployments(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let ids = input.strings("deploymentIds");
    if ids.is_empty() {
        return Err(err(
            "DeploymentIdRequiredException",
            "At least one deployment ID must be specified.",
        ));
    }
    if ids.len() > 25 {
        return Err(err(
            "BatchLimitExceededException",
            "The maximum number of IDs allowed for this request (25) was exceeded.",
        ));
    }
    for id in &ids {
        check_deployment_id(id)?;
    }
    let docs = ctx.store.documents(SVC, DEPLOYMENT)?;
    let infos: Vec<Value> = ids
        .iter()
        .filter_map(|id| docs.get(id))
        .map(|d| render(d))
        .collect();
    Ok(json!({ "deploymentsInfo": infos }))
}

pub fn list_deployments(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let app = input.str("applicationName");
    let group = input.str("deploymentGroupName");
    match (app, group) {
        (Some(a), Some(g)) => ctx.store.read(|tx| {
            load_app(tx, a)?;
            load_group(tx, a, g).map(|_| ())
        })?,
        (None, None) => {}
        (Some(_), None) => {
            return Err(err(
                "DeploymentGroupNameRequiredException",
                "Deployment Group name is required",
            ));
        }
        (None, Some(_)) => {
            return Err(err(
                "ApplicationNameRequiredException",
                "Application name is required",
            ));
        }
    }
    let statuses = input.strings("includeOnlyStatuses");
    let known = [
        "Created",
        "Queued",
        "InProgress",
        "Baking",
        "Succeeded",
        "Failed",
        "Stopped",
        "Ready",
    ];
    if let Some(bad) = statuses.iter().find(|s| !known.contains(&s.as_str())) {
        return Err(err(
            "InvalidDeploymentStatusException",
            format!("Invalid deployment status {bad}"),
        ));
    }
    let range = input.object("createTimeRange");
    let start = range.as_ref().and_then(|r| r.timestamp("start"));
    let end = range.as_ref().and_then(|r| r.timestamp("end"));
    let docs = ctx.store.documents(SVC, DEPLOYMENT)?;
    let mut found: Vec<&Value> = docs
        .values()
        .map(|d| d.as_ref())
        .filter(|d| app.is_none_or(|a| d["applicationName"] == a))
        .filter(|d| group.is_none_or(|g| d["deploymentGroupName"] == g))
        .filter(|d| statuses.is_empty() || statuses.iter().any(|s| d["status"] == s.as_str()))
        .filter(|d| {
            let t = d["createTime"].as_f64().unwrap_or(0.0);
            start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e)
        })
        .collect();
    // Newest first, as AWS lists them.
    found.sort_by(|a, b| {
        b["createTime"]
            .as_f64()
            .partial_cmp(&a["createTime"].as_f64())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| b["deploymentId"].as_str().cmp(&a["deploymentId"].as_str()))
    });
    let ids: Vec<Value> = found.iter().map(|d| d["deploymentId"].clone()).collect();
    let (items, next) = page(ids, input.str("nextToken"), 100)?;
    let mut out = json!({ "deployments": items });
    if let Some(n) = next {
        out["nextToken"] = json!(n);
    }
    Ok(out)
}

pub fn list_deployment_targets(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let dep = get_started(ctx, &input)?;
    let filters = input.object("targetFilters");
    let statuses = filters
        .as_ref()
        .map(|f| f.strings("TargetStatus"))
        .unwrap_or_default();
    let labels = filters
        .as_ref()
        .map(|f| f.strings("ServerInstanceLabel"))
        .unwrap_or_default();
    let ids: Vec<Value> = targets(&dep)
        .iter()
        .filter(|t| statuses.is_empty() || statuses.iter().any(|s| t["status"] == s.as_str()))
        .filter(|t| labels.is_empty() || labels.iter().any(|l| t["instanceLabel"] == l.as_str()))
        .map(|t| t["targetId"].clone())
        .collect();
    let (items, next) = page(ids, input.str("nextToken"), 100)?;
    let mut out = json!({ "targetIds": items });
    if let Some(n) = next {
        out["nextToken"] = json!(n);
    }
    Ok(out)
}

pub fn batch_get_deployment_targets(
    ctx: &Ctx<'_>,
    input: Input<'_>,
) -> Result<Value, ServiceError> {
    let dep = get_started(ctx, &input)?;
    let ids = input.strings("targetIds");
    if ids.is_empty() {
        return Err(err(
            "DeploymentTargetIdRequiredException",
            "A deployment target ID was not provided.",
        ));
    }
    if ids.len() > 25 {
        return Err(err(
            "DeploymentTargetListSizeExceededException",
            "The maximum number of targets (25) was exceeded.",
        ));
    }
    let all = targets(&dep);
    let mut out = Vec::new();
    for id in &ids {
        let t = all
            .iter()
            .find(|t| t["targetId"] == id.as_str())
            .ok_or_else(|| {
                err(
                    "DeploymentTargetDoesNotExistException",
                    format!("The target {id} does not exist in the deployment"),
                )
            })?;
        out.push(render_target(ctx, &dep, t));
    }
    Ok(json!({ "deploymentTargets": out }))
}

pub fn get_deployment_target(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let id = input.str("targetId").unwrap_or("").to_string();
    let wrapped = json!({"deploymentId": input.str("deploymentId"), "targetIds": [id]});
    let mut out = batch_get_deployment_targets(ctx, Input(&wrapped))?;
    Ok(json!({ "deploymentTarget": out["deploymentTargets"][0].take() }))
}

pub fn list_deployment_instances(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let dep = get_started(ctx, &input)?;
    if dep["computePlatform"] == "ECS" {
        return Err(err(
            "InvalidComputePlatformException",
            "ListDeploymentInstances does not support ECS deployments; use ListDeploymentTargets.",
        ));
    }
    let statuses = input.strings("instanceStatusFilter");
    let types = input.strings("instanceTypeFilter");
    let ids: Vec<Value> = targets(&dep)
        .iter()
        .filter(|t| statuses.is_empty() || statuses.iter().any(|s| t["status"] == s.as_str()))
        .filter(|t| types.is_empty() || types.iter().any(|l| t["instanceLabel"] == l.as_str()))
        .map(|t| t["targetId"].clone())
        .collect();
    let (items, next) = page(ids, input.str("nextToken"), 100)?;
    let mut out = json!({ "instancesList": items });
    if let Some(n) = next {
        out["nextToken"] = json!(n);
    }
    Ok(out)
}

pub fn batch_get_deployment_instances(
    ctx: &Ctx<'_>,
    input: Input<'_>,
) -> Result<Value, ServiceError> {
    let id = deployment_id(&input)?;
    let dep = ctx.store.read(|tx| load_deployment(tx, id))?;
    let ids = input.strings("instanceIds");
    if ids.is_empty() {
        return Err(err(
            "InstanceIdRequiredException",
            "The instance ID was not specified.",
        ));
    }
    if ids.len() > 25 {
        return Err(err(
            "BatchLimitExceededException",
            "The maximum number of IDs allowed for this request (25) was exceeded.",
        ));
    }
    let all = targets(&dep);
    let mut summaries = Vec::new();
    let mut missing = Vec::new();
    for iid in &ids {
        match all.iter().find(|t| t["targetId"] == iid.as_str()) {
            Some(t) => summaries.push(json!({
                "deploymentId": id,
                "instanceId": iid,
                "status": t["status"],
                "lastUpdatedAt": ts(t["lastUpdatedAt"].as_f64().unwrap_or(0.0)),
                "lifecycleEvents": render_events(t),
                "instanceType": t["instanceLabel"].as_str().unwrap_or("Blue"),
            })),
            None => missing.push(iid.clone()),
        }
    }
    let mut out = json!({ "instancesSummary": summaries });
    if !missing.is_empty() {
        out["errorMessage"] = json!(format!(
            "Instances not found in the deployment: {}",
            missing.join(", ")
        ));
    }
    Ok(out)
}
