//! Applications, deployment groups and deployment configurations: the CRUD operations, and
//! the same objects made from CloudFormation's PascalCase properties.

use serde_json::{Map, Value, json};

use super::model::*;
use super::names::{app_name, group_name, valid_group_name, valid_traffic_routing};
use crate::protocol::{Input, ServiceError, ts};
use crate::service::Ctx;

const PLATFORMS: &[&str] = &["Server", "Lambda", "ECS"];

pub fn create_application(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = app_name(&input)?;
    let platform = input.str("computePlatform").unwrap_or("Server");
    if !PLATFORMS.contains(&platform) {
        return Err(err(
            "InvalidComputePlatformException",
            format!("Invalid compute platform: {platform}"),
        ));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let doc = json!({
        "applicationId": id,
        "applicationName": name,
        "createTime": ctx.clock.now(),
        "linkedToGitHub": false,
        "computePlatform": platform,
        "_tags": input.get("tags").cloned().unwrap_or(json!([])),
    });
    ctx.store.write(|tx| {
        if tx.get(SVC, APP, name)?.is_some() {
            return Err(err(
                "ApplicationAlreadyExistsException",
                format!("The application {name} already exists"),
            ));
        }
        tx.put(SVC, APP, name, &doc)
    })?;
    Ok(json!({ "applicationId": id }))
}

pub fn get_application(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = app_name(&input)?;
    let app = ctx.store.read(|tx| load_app(tx, name))?;
    Ok(json!({ "application": with_timestamps(&app, &["createTime"]) }))
}

pub fn list_applications(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let names: Vec<Value> = ctx
        .store
        .documents(SVC, APP)?
        .keys()
        .map(|k| json!(k))
        .collect();
    let (items, next) = page(names, input.str("nextToken"), 100)?;
    let mut out = json!({ "applications": items });
    if let Some(n) = next {
        out["nextToken"] = json!(n);
    }
    Ok(out)
}

pub fn delete_application(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = app_name(&input)?;
    ctx.store.write(|tx| {
        tx.delete(SVC, APP, name)?;
        for (key, _) in tx.list(SVC, GROUP)? {
            if key.split('/').next() == Some(name) {
                tx.delete(SVC, GROUP, &key)?;
            }
        }
        Ok(())
    })?;
    Ok(json!({}))
}

/// Checks and normalises the members CreateDeploymentGroup and UpdateDeploymentGroup share.
fn group_settings(
    tx: &crate::store::Tx<'_>,
    input: &Input<'_>,
    doc: &mut Value,
) -> Result<(), ServiceError> {
    if let Some(c) = input.str("deploymentConfigName") {
        load_config(tx, c)?;
        doc["deploymentConfigName"] = json!(c);
    }
    if let Some(a) = input.object("alarmConfiguration") {
        let alarms = a.list("alarms");
        if alarms.len() > 10 {
            return Err(err(
                "AlarmsLimitExceededException",
                "The maximum number of alarms for a deployment group (10) was exceeded.",
            ));
        }
        if a.bool("enabled") == Some(true) && alarms.is_empty() {
            return Err(err(
                "InvalidAlarmConfigException",
                "The alarm configuration is enabled, but the alarm list is empty.",
            ));
        }
        doc["alarmConfiguration"] = a.0.clone();
    }
    if let Some(r) = input.object("autoRollbackConfiguration") {
        let events = r.strings("events");
        let known = [
            "DEPLOYMENT_FAILURE",
            "DEPLOYMENT_STOP_ON_ALARM",
            "DEPLOYMENT_STOP_ON_REQUEST",
        ];
        if (r.bool("enabled") == Some(true) && events.is_empty())
            || events.iter().any(|e| !known.contains(&e.as_str()))
        {
            return Err(err(
                "InvalidAutoRollbackConfigException",
                "Automatic rollback is enabled, but no valid triggering event type was listed.",
            ));
        }
        doc["autoRollbackConfiguration"] = r.0.clone();
    }
    for key in [
        "serviceRoleArn",
        "ec2TagFilters",
        "ec2TagSet",
        "onPremisesInstanceTagFilters",
        "deploymentStyle",
        "blueGreenDeploymentConfiguration",
        "loadBalancerInfo",
        "ecsServices",
        "triggerConfigurations",
        "outdatedInstancesStrategy",
        "ec2DeploymentOptions",
    ] {
        if let Some(v) = input.get(key) {
            doc[key] = v.clone();
        }
    }
    if let Some(Value::Array(asgs)) = input.get("autoScalingGroups") {
        doc["autoScalingGroups"] = asgs
            .iter()
            .map(|a| match a {
                Value::String(n) => json!({ "name": n }),
                other => other.clone(),
            })
            .collect();
    }
    if let Some(t) = input.get("tags") {
        doc["_tags"] = t.clone();
    }
    Ok(())
}

pub fn create_deployment_group(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let app = app_name(&input)?;
    let name = group_name(&input)?;
    if input.str("serviceRoleArn").is_none_or(str::is_empty) {
        return Err(err("RoleRequiredException", "Role ARN is required"));
    }
    let id = uuid::Uuid::new_v4().to_string();
    ctx.store.write(|tx| {
        let app_doc = load_app(tx, app)?;
        if tx.get(SVC, GROUP, &group_key(app, name))?.is_some() {
            return Err(err(
                "DeploymentGroupAlreadyExistsException",
                format!("Deployment Group {name} already exists"),
            ));
        }
        let platform = app_doc["computePlatform"].as_str().unwrap_or("Server");
        let default_config = match platform {
            "ECS" => "CodeDeployDefault.ECSAllAtOnce",
            "Lambda" => "CodeDeployDefault.LambdaAllAtOnce",
            _ => "CodeDeployDefault.OneAtATime",
        };
        let mut doc = json!({
            "applicationName": app,
            "deploymentGroupId": id,
            "deploymentGroupName": name,
            "deploymentConfigName": default_config,
            "computePlatform": platform,
            "deploymentStyle": {"deploymentType": if platform == "Server" { "IN_PLACE" } else { "BLUE_GREEN" },
                                "deploymentOption": if platform == "Server" { "WITHOUT_TRAFFIC_CONTROL" } else { "WITH_TRAFFIC_CONTROL" }},
            "autoScalingGroups": [],
            "ec2TagFilters": [],
            "onPremisesInstanceTagFilters": [],
            "triggerConfigurations": [],
            "alarmConfiguration": {"enabled": false, "ignorePollAlarmFailure": false, "alarms": []},
            "outdatedInstancesStrategy": "UPDATE",
        });
        group_settings(tx, &input, &mut doc)?;
        tx.put(SVC, GROUP, &group_key(app, name), &doc)
    })?;
    Ok(json!({ "deploymentGroupId": id }))
}

pub fn update_deployment_group(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let app = app_name(&input)?;
    let name = input
        .str("currentDeploymentGroupName")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            err(
                "DeploymentGroupNameRequiredException",
                "Deployment Group name is required",
            )
        })?;
    if let Some(n) = input.str("newDeploymentGroupName") {
        valid_group_name(n)?;
    }
    ctx.store.write(|tx| {
        let mut doc = load_group(tx, app, name)?;
        group_settings(tx, &input, &mut doc)?;
        let new_name = input.str("newDeploymentGroupName").unwrap_or(name);
        if new_name != name {
            if tx.get(SVC, GROUP, &group_key(app, new_name))?.is_some() {
                return Err(err(
                    "DeploymentGroupAlreadyExistsException",
                    format!("Deployment Group {new_name} already exists"),
                ));
            }
            tx.delete(SVC, GROUP, &group_key(app, name))?;
            doc["deploymentGroupName"] = json!(new_name);
        }
        tx.put(SVC, GROUP, &group_key(app, new_name), &doc)
    })?;
    Ok(json!({ "hooksNotCleanedUp": [] }))
}

/// The group as GetDeploymentGroup shows it, with its last deployments.
fn render_group(ctx: &Ctx<'_>, group: &Value) -> Result<Value, ServiceError> {
    let app = group["applicationName"].as_str().unwrap_or("");
    let name = group["deploymentGroupName"].as_str().unwrap_or("");
    let mut out = with_timestamps(group, &[]);
    let deployments = ctx.store.documents(SVC, DEPLOYMENT)?;
    let mut mine: Vec<&Value> = deployments
        .values()
        .map(|d| d.as_ref())
        .filter(|d| d["applicationName"] == app && d["deploymentGroupName"] == name)
        .collect();
    mine.sort_by(|a, b| {
        a["createTime"]
            .as_f64()
            .partial_cmp(&b["createTime"].as_f64())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let last_info = |d: &Value| {
        let mut i = json!({
            "deploymentId": d["deploymentId"],
            "status": d["status"],
            "createTime": ts(d["createTime"].as_f64().unwrap_or(0.0)),
        });
        if let Some(t) = d["completeTime"].as_f64() {
            i["endTime"] = ts(t);
        }
        i
    };
    if let Some(d) = mine.last() {
        out["lastAttemptedDeployment"] = last_info(d);
        out["targetRevision"] = d["revision"].clone();
    }
    if let Some(d) = mine.iter().rev().find(|d| d["status"] == "Succeeded") {
        out["lastSuccessfulDeployment"] = last_info(d);
    }
    Ok(out)
}

pub fn get_deployment_group(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let app = app_name(&input)?;
    let name = group_name(&input)?;
    let group = ctx.store.read(|tx| {
        load_app(tx, app)?;
        load_group(tx, app, name)
    })?;
    Ok(json!({ "deploymentGroupInfo": render_group(ctx, &group)? }))
}

pub fn batch_get_applications(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let names = input.strings("applicationNames");
    if names.len() > 100 {
        return Err(err(
            "BatchLimitExceededException",
            "The maximum number of names allowed for this request (100) was exceeded.",
        ));
    }
    let infos = ctx.store.read(|tx| {
        names
            .iter()
            .map(|n| load_app(tx, n).map(|a| with_timestamps(&a, &["createTime"])))
            .collect::<Result<Vec<_>, _>>()
    })?;
    Ok(json!({ "applicationsInfo": infos }))
}

pub fn batch_get_deployment_groups(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let app = app_name(&input)?;
    ctx.store.read(|tx| load_app(tx, app))?;
    let mut infos = Vec::new();
    let mut missing = Vec::new();
    for name in input.strings("deploymentGroupNames") {
        match ctx.store.document(SVC, GROUP, &group_key(app, &name))? {
            Some(g) => infos.push(render_group(ctx, &g)?),
            None => missing.push(name),
        }
    }
    let mut out = json!({ "deploymentGroupsInfo": infos });
    if !missing.is_empty() {
        out["errorMessage"] = json!(format!(
            "Deployment groups not found: {}",
            missing.join(", ")
        ));
    }
    Ok(out)
}

pub fn list_deployment_groups(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let app = app_name(&input)?;
    ctx.store.read(|tx| load_app(tx, app))?;
    let names: Vec<Value> = ctx
        .store
        .documents(SVC, GROUP)?
        .values()
        .filter(|g| g["applicationName"] == app)
        .map(|g| g["deploymentGroupName"].clone())
        .collect();
    let (items, next) = page(names, input.str("nextToken"), 100)?;
    let mut out = json!({ "applicationName": app, "deploymentGroups": items });
    if let Some(n) = next {
        out["nextToken"] = json!(n);
    }
    Ok(out)
}

pub fn delete_deployment_group(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let app = app_name(&input)?;
    let name = group_name(&input)?;
    ctx.store.write(|tx| {
        load_app(tx, app)?;
        tx.delete(SVC, GROUP, &group_key(app, name))
    })?;
    Ok(json!({ "hooksNotCleanedUp": [] }))
}

pub fn create_deployment_config(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input
        .str("deploymentConfigName")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            err(
                "DeploymentConfigNameRequiredException",
                "Deployment config name is required",
            )
        })?;
    let platform = input.str("computePlatform").unwrap_or("Server");
    let mut doc = json!({
        "deploymentConfigId": uuid::Uuid::new_v4().to_string(),
        "deploymentConfigName": name,
        "createTime": ctx.clock.now(),
        "computePlatform": platform,
    });
    if let Some(m) = input.object("minimumHealthyHosts") {
        let kind = m.str("type").unwrap_or("");
        let value = m.i64("value").unwrap_or(-1);
        let valid = match kind {
            "HOST_COUNT" => value >= 0,
            "FLEET_PERCENT" => (0..=99).contains(&value),
            _ => false,
        };
        if !valid {
            return Err(err(
                "InvalidMinimumHealthyHostValueException",
                "The minimum healthy instance value was specified in an invalid format.",
            ));
        }
        doc["minimumHealthyHosts"] = json!({"type": kind, "value": value});
    } else if platform == "Server" {
        return Err(err(
            "InvalidMinimumHealthyHostValueException",
            "minimumHealthyHosts is required for the Server compute platform.",
        ));
    }
    if name.chars().count() > 100 {
        return Err(err(
            "InvalidDeploymentConfigNameException",
            "Deployment config name is longer than 100 characters",
        ));
    }
    if let Some(t) = input.object("trafficRoutingConfig") {
        valid_traffic_routing(&t)?;
        doc["trafficRoutingConfig"] = t.0.clone();
    }
    let id = doc["deploymentConfigId"].clone();
    ctx.store.write(|tx| {
        if builtin_config(name).is_some() || tx.get(SVC, CONFIG, name)?.is_some() {
            return Err(err(
                "DeploymentConfigAlreadyExistsException",
                format!("Deployment config {name} already exists"),
            ));
        }
        tx.put(SVC, CONFIG, name, &doc)
    })?;
    Ok(json!({ "deploymentConfigId": id }))
}

pub fn get_deployment_config(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("deploymentConfigName")?;
    let c = ctx.store.read(|tx| load_config(tx, name))?;
    Ok(json!({ "deploymentConfigInfo": with_timestamps(&c, &["createTime"]) }))
}

pub fn list_deployment_configs(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let mut names: Vec<Value> = BUILTIN_CONFIGS.iter().map(|n| json!(n)).collect();
    names.extend(ctx.store.documents(SVC, CONFIG)?.keys().map(|k| json!(k)));
    let (items, next) = page(names, input.str("nextToken"), 100)?;
    let mut out = json!({ "deploymentConfigsList": items });
    if let Some(n) = next {
        out["nextToken"] = json!(n);
    }
    Ok(out)
}

pub fn delete_deployment_config(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("deploymentConfigName")?;
    if builtin_config(name).is_some() {
        return Err(err(
            "InvalidOperationException",
            "The default deployment configurations cannot be deleted.",
        ));
    }
    ctx.store.write(|tx| {
        let in_use = tx
            .list(SVC, GROUP)?
            .iter()
            .any(|(_, g)| g["deploymentConfigName"] == name);
        if in_use {
            return Err(err(
                "DeploymentConfigInUseException",
                format!("Deployment config {name} is in use by a deployment group"),
            ));
        }
        tx.delete(SVC, CONFIG, name)
    })?;
    Ok(json!({}))
}

/// CloudFormation's PascalCase properties in the API's camelCase. Tag filters and tags keep
/// their PascalCase `Key`/`Value`/`Type`, as the API spells them too.
pub fn camel(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, val) in o {
                let key = match k.as_str() {
                    "ECSServices" => "ecsServices".to_string(),
                    "Ec2TagSet" => {
                        out.insert("ec2TagSet".into(), tag_set(val));
                        continue;
                    }
                    _ => {
                        let mut c = k.chars();
                        c.next()
                            .map(|f| f.to_lowercase().collect::<String>() + c.as_str())
                            .unwrap_or_default()
                    }
                };
                let keep = matches!(
                    k.as_str(),
                    "Ec2TagFilters" | "OnPremisesInstanceTagFilters" | "Tags"
                );
                out.insert(key, if keep { val.clone() } else { camel(val) });
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(camel).collect()),
        other => other.clone(),
    }
}

/// `Ec2TagSet{Ec2TagSetList[{Ec2TagGroup[filters]}]}` → `ec2TagSet{ec2TagSetList[[filters]]}`.
fn tag_set(v: &Value) -> Value {
    let groups: Vec<Value> = v["Ec2TagSetList"]
        .as_array()
        .map(|l| l.iter().map(|g| g["Ec2TagGroup"].clone()).collect())
        .unwrap_or_default();
    json!({ "ec2TagSetList": groups })
}

pub fn cfn_put(
    ctx: &Ctx<'_>,
    resource_type: &str,
    physical_id: &str,
    props: &Value,
    update: bool,
) -> Result<(), ServiceError> {
    let mut input = camel(props);
    let with_name = |input: &mut Value, key: &str| {
        if input.get(key).is_none_or(Value::is_null) {
            input[key] = json!(physical_id);
        }
    };
    match resource_type {
        "AWS::CodeDeploy::Application" => {
            with_name(&mut input, "applicationName");
            if update {
                return Ok(());
            }
            create_application(ctx, Input(&input)).map(|_| ())
        }
        "AWS::CodeDeploy::DeploymentGroup" => {
            with_name(&mut input, "deploymentGroupName");
            let app = input["applicationName"].as_str().unwrap_or("").to_string();
            let exists = ctx
                .store
                .document(SVC, GROUP, &group_key(&app, physical_id))?
                .is_some();
            if update && exists {
                input["currentDeploymentGroupName"] = json!(physical_id);
                update_deployment_group(ctx, Input(&input)).map(|_| ())
            } else {
                create_deployment_group(ctx, Input(&input)).map(|_| ())
            }
        }
        "AWS::CodeDeploy::DeploymentConfig" => {
            with_name(&mut input, "deploymentConfigName");
            if update {
                return Ok(());
            }
            create_deployment_config(ctx, Input(&input)).map(|_| ())
        }
        other => Err(err(
            "InvalidInputException",
            format!("Unsupported resource type {other}"),
        )),
    }
}

pub fn cfn_delete(
    ctx: &Ctx<'_>,
    resource_type: &str,
    physical_id: &str,
    props: &Value,
) -> Result<(), ServiceError> {
    match resource_type {
        "AWS::CodeDeploy::Application" => {
            delete_application(ctx, Input(&json!({ "applicationName": physical_id }))).map(|_| ())
        }
        "AWS::CodeDeploy::DeploymentGroup" => {
            let app = props["ApplicationName"].as_str().unwrap_or("");
            ctx.store
                .write(|tx| tx.delete(SVC, GROUP, &group_key(app, physical_id)))
                .map(|_| ())
        }
        "AWS::CodeDeploy::DeploymentConfig" => ctx
            .store
            .write(|tx| tx.delete(SVC, CONFIG, physical_id))
            .map(|_| ()),
        _ => Ok(()),
    }
}
