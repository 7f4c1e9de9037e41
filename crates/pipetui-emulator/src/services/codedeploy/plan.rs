//! Turns a CreateDeployment (or an automatic rollback) into a stored deployment: its effective
//! configuration, the fleet it runs on and every target's lifecycle events in order.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::model::*;
use crate::engine::{EngineSettings, sanitize};
use crate::protocol::ServiceError;
use crate::store::Tx;

pub const IN_PLACE: &[&str] = &[
    "ApplicationStop",
    "DownloadBundle",
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
];
const BLOCK: &[&str] = &["BeforeBlockTraffic", "BlockTraffic", "AfterBlockTraffic"];
const ALLOW: &[&str] = &["BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"];

/// Events whose scripts come from the revision the host ran before, as the real agent does.
pub const FROM_LAST: &[&str] = &["ApplicationStop", "BeforeBlockTraffic", "AfterBlockTraffic"];

/// What a deployment is asked to do, from CreateDeployment or a rollback.
pub struct Request<'a> {
    pub app: &'a str,
    pub group: &'a str,
    pub revision: Value,
    pub config: Option<&'a str>,
    pub description: Option<&'a str>,
    pub creator: &'a str,
    pub ignore_stop_failures: bool,
    pub auto_rollback: Option<Value>,
    pub alarms: Option<Value>,
    pub file_exists: Option<&'a str>,
}

/// The directory playing the revision's bundle (S3 objects are kept unpacked); `None` when the
/// revision has no S3 location, an error when its location would leave the work directory.
pub fn bundle_dir(
    settings: &EngineSettings,
    revision: &Value,
) -> Result<Option<PathBuf>, ServiceError> {
    let Some(s3) = revision.get("s3Location") else {
        return Ok(None);
    };
    match (s3["bucket"].as_str(), s3["key"].as_str()) {
        (Some(bucket), Some(key)) => settings.s3_path(bucket, key).map(Some),
        _ => Ok(None),
    }
}

/// The bundle's appspec (`appspec.yml` or `.yaml`) as JSON.
pub fn read_appspec(dir: &Path) -> Result<Value, String> {
    let file = ["appspec.yml", "appspec.yaml"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("The AppSpec file was not found in {}", dir.display()))?;
    let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
    parse_spec(&text)
}

pub fn parse_spec(text: &str) -> Result<Value, String> {
    if crate::cloudformation::engine::yaml::yaml_too_deep(text) {
        return Err("The AppSpec file is invalid: it nests too deeply".into());
    }
    serde_yaml_ng::from_str::<Value>(text).map_err(|e| format!("The AppSpec file is invalid: {e}"))
}

/// The scripts an appspec runs for `event`: `[{location, timeout}]`.
pub fn server_hooks(spec: &Value, event: &str) -> Value {
    let list = spec["hooks"][event].as_array().cloned().unwrap_or_default();
    list.iter()
        .filter_map(|h| {
            Some(json!({
                "location": h["location"].as_str()?,
                "timeout": h["timeout"].as_f64().unwrap_or(3600.0),
            }))
        })
        .collect()
}

/// The function a Lambda/ECS appspec names for `event` (`Hooks: [{Event: function}]`).
fn hook_function(spec: &Value, event: &str) -> Option<String> {
    let hooks = spec.get("Hooks").or_else(|| spec.get("hooks"))?;
    let found = match hooks {
        Value::Array(items) => items.iter().find_map(|h| h.get(event).cloned()),
        Value::Object(o) => o.get(event).cloned(),
        _ => None,
    }?;
    found.as_str().map(str::to_string)
}

fn event(name: &str, phase: u32, kind: &str) -> Value {
    json!({"lifecycleEventName": name, "status": "Pending", "_phase": phase, "_kind": kind})
}

fn server_event(name: &str, phase: u32, spec: &Value) -> Value {
    let kind = match name {
        "DownloadBundle" => "download",
        "Install" => "install",
        "BlockTraffic" | "AllowTraffic" => "builtin",
        _ => "script",
    };
    let mut e = event(name, phase, kind);
    if kind == "script" && !FROM_LAST.contains(&name) {
        e["_hooks"] = server_hooks(spec, name);
    }
    e
}

/// The directory playing one host; an error when the names would leave the work directory.
pub fn host_dir(
    settings: &EngineSettings,
    app: &str,
    group: &str,
    host: &str,
) -> Result<PathBuf, ServiceError> {
    settings.within(
        &Path::new("hosts")
            .join(sanitize(app))
            .join(sanitize(group))
            .join(sanitize(host)),
    )
}

/// The group's current fleet: the hosts the last blue/green made, or the stable default ones.
pub fn fleet(settings: &EngineSettings, group: &Value) -> Vec<String> {
    if let Some(Value::Array(names)) = group.get("_fleet") {
        return names
            .iter()
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect();
    }
    let seed = group_key(
        group["applicationName"].as_str().unwrap_or(""),
        group["deploymentGroupName"].as_str().unwrap_or(""),
    );
    (0..settings.hosts_per_group.max(1) as usize)
        .map(|i| host_name(&seed, i))
        .collect()
}

fn target(
    id: &str,
    kind: &str,
    label: Option<&str>,
    index: usize,
    events: Vec<Value>,
    now: f64,
) -> Value {
    let mut t = json!({
        "targetId": id, "_type": kind, "_index": index, "status": "Pending",
        "lastUpdatedAt": now, "lifecycleEvents": events,
    });
    if let Some(l) = label {
        t["instanceLabel"] = json!(l);
    }
    t
}

/// The last revision the group deployed successfully, if any.
pub fn last_good_revision(
    tx: &Tx<'_>,
    app: &str,
    group: &str,
) -> Result<Option<(String, Value)>, ServiceError> {
    let mut best: Option<(f64, String, Value)> = None;
    for (id, d) in tx.list(SVC, DEPLOYMENT)? {
        if d["applicationName"] == app
            && d["deploymentGroupName"] == group
            && d["status"] == "Succeeded"
        {
            let t = d["completeTime"].as_f64().unwrap_or(0.0);
            if best.as_ref().is_none_or(|b| t > b.0) {
                best = Some((t, id, d["revision"].clone()));
            }
        }
    }
    Ok(best.map(|(_, id, r)| (id, r)))
}

/// Builds and stores a new deployment; the caller's transaction checks the group is free.
pub fn create(
    tx: &Tx<'_>,
    settings: &EngineSettings,
    now: f64,
    req: &Request<'_>,
) -> Result<String, ServiceError> {
    let app = load_app(tx, req.app)?;
    let group = load_group(tx, req.app, req.group)?;
    for (_, d) in tx.list(SVC, DEPLOYMENT)? {
        if d["applicationName"] == req.app
            && d["deploymentGroupName"] == req.group
            && d["status"].as_str().is_some_and(|s| ACTIVE.contains(&s))
        {
            return Err(err(
                "DeploymentLimitExceededException",
                format!(
                    "The Deployment Group '{}' already has an active Deployment '{}'",
                    req.group,
                    d["deploymentId"].as_str().unwrap_or("")
                ),
            ));
        }
    }
    let config_name = req
        .config
        .or(group["deploymentConfigName"].as_str())
        .unwrap_or("CodeDeployDefault.OneAtATime");
    let config = load_config(tx, config_name)?;
    let platform = app["computePlatform"]
        .as_str()
        .unwrap_or("Server")
        .to_string();
    let style = group["deploymentStyle"].clone();
    let lb = group
        .get("loadBalancerInfo")
        .cloned()
        .filter(|v| !v.is_null());
    let id = new_deployment_id();
    let targets = match platform.as_str() {
        "Server" => server_targets(settings, &group, &style, lb.is_some(), req, &id, now)?,
        other => serverless_targets(settings, &group, other, req, now)?,
    };
    let alarms = req
        .alarms
        .clone()
        .filter(|a| !a.is_null())
        .or_else(|| group.get("alarmConfiguration").cloned())
        .unwrap_or(json!({"enabled": false, "alarms": []}));
    let rollback = req
        .auto_rollback
        .clone()
        .filter(|a| !a.is_null())
        .or_else(|| group.get("autoRollbackConfiguration").cloned())
        .unwrap_or(json!({"enabled": false, "events": []}));
    let mut doc = json!({
        "applicationName": req.app,
        "deploymentGroupName": req.group,
        "deploymentConfigName": config_name,
        "deploymentId": id,
        "revision": req.revision,
        "status": "Created",
        "createTime": now,
        "creator": req.creator,
        "ignoreApplicationStopFailures": req.ignore_stop_failures,
        "autoRollbackConfiguration": rollback,
        "updateOutdatedInstancesOnly": false,
        "deploymentStyle": style,
        "instanceTerminationWaitTimeStarted": false,
        "computePlatform": platform,
        "deploymentStatusMessages": [],
        "_alarms": alarms,
        "_config": config,
        "_targets": targets,
        "_run": {"stage": "deploy", "rev": 0, "lastHealth": 0.0, "lastAlarm": 0.0},
    });
    if let Some(d) = req.description {
        doc["description"] = json!(d);
    }
    if let Some(f) = req.file_exists {
        doc["fileExistsBehavior"] = json!(f);
    }
    if let Some(o) = req.alarms.as_ref().filter(|a| !a.is_null()) {
        doc["overrideAlarmConfiguration"] = o.clone();
    }
    for key in [
        "blueGreenDeploymentConfiguration",
        "loadBalancerInfo",
        "targetInstances",
    ] {
        if let Some(v) = group.get(key).filter(|v| !v.is_null()) {
            doc[key] = v.clone();
        }
    }
    if let Some((_, prev)) = last_good_revision(tx, req.app, req.group)? {
        doc["previousRevision"] = prev;
    }
    tx.put(SVC, DEPLOYMENT, &id, &doc)?;
    Ok(id)
}

fn server_targets(
    settings: &EngineSettings,
    group: &Value,
    style: &Value,
    with_lb: bool,
    req: &Request<'_>,
    id: &str,
    now: f64,
) -> Result<Vec<Value>, ServiceError> {
    let dir = bundle_dir(settings, &req.revision)?.ok_or_else(|| {
        err(
            "InvalidRevisionException",
            "An S3 revision location is required for the Server compute platform",
        )
    })?;
    if !dir.is_dir() {
        return Err(err(
            "RevisionDoesNotExistException",
            format!("No application revision found at {}", dir.display()),
        ));
    }
    let spec = read_appspec(&dir).map_err(|m| err("InvalidRevisionException", m))?;
    let current = fleet(settings, group);
    let blue_green = style["deploymentType"] == "BLUE_GREEN";
    let traffic = with_lb || style["deploymentOption"] == "WITH_TRAFFIC_CONTROL";
    let mut targets = Vec::new();
    if !blue_green {
        for (i, host) in current.iter().enumerate() {
            let mut events = Vec::new();
            let names: Vec<&str> = if traffic {
                BLOCK.iter().chain(IN_PLACE).chain(ALLOW).copied().collect()
            } else {
                IN_PLACE.to_vec()
            };
            for n in names {
                events.push(server_event(n, 0, &spec));
            }
            targets.push(target(host, "InstanceTarget", Some("Blue"), i, events, now));
        }
        return Ok(targets);
    }
    let seed = format!("{}#{id}", group_key(req.app, req.group));
    for i in 0..current.len() {
        let mut events: Vec<Value> = IN_PLACE.iter().map(|n| server_event(n, 0, &spec)).collect();
        events.extend(ALLOW.iter().map(|n| server_event(n, 1, &spec)));
        targets.push(target(
            &host_name(&seed, i),
            "InstanceTarget",
            Some("Green"),
            i,
            events,
            now,
        ));
    }
    for (i, host) in current.iter().enumerate() {
        let events = BLOCK.iter().map(|n| server_event(n, 1, &spec)).collect();
        targets.push(target(host, "InstanceTarget", Some("Blue"), i, events, now));
    }
    Ok(targets)
}

/// The appspec of a Lambda/ECS revision: inline (AppSpecContent or String), or the bundle's
/// `appspec.yml` when a pipeline hands over an S3 artifact; a bundle without one deploys with
/// no hook functions.
fn serverless_spec(settings: &EngineSettings, revision: &Value) -> Result<Value, ServiceError> {
    let inline = revision["appSpecContent"]["content"]
        .as_str()
        .or(revision["string"]["content"].as_str());
    if let Some(content) = inline {
        return parse_spec(content).map_err(|m| err("InvalidRevisionException", m));
    }
    let dir = bundle_dir(settings, revision)?.ok_or_else(|| {
        err(
            "InvalidRevisionException",
            "The revision needs an AppSpec content or an S3 location",
        )
    })?;
    if !dir.is_dir() {
        return Err(err(
            "RevisionDoesNotExistException",
            format!("No application revision found at {}", dir.display()),
        ));
    }
    match read_appspec(&dir) {
        Ok(spec) => Ok(spec),
        Err(_) if !dir.join("appspec.yml").exists() && !dir.join("appspec.yaml").exists() => {
            Ok(json!({}))
        }
        Err(m) => Err(err("InvalidRevisionException", m)),
    }
}

fn serverless_targets(
    settings: &EngineSettings,
    group: &Value,
    platform: &str,
    req: &Request<'_>,
    now: f64,
) -> Result<Vec<Value>, ServiceError> {
    let spec = serverless_spec(settings, &req.revision)?;
    let resource = spec["Resources"]
        .as_array()
        .and_then(|r| r.first())
        .and_then(|r| r.as_object())
        .and_then(|o| o.values().next())
        .cloned()
        .unwrap_or(Value::Null);
    let props = &resource["Properties"];
    let hook = |name: &str, phase: u32| {
        let mut e = event(name, phase, "hook");
        if let Some(f) = hook_function(&spec, name) {
            e["_fn"] = json!(f);
        }
        e
    };
    if platform == "Lambda" {
        let name = props["Name"].as_str().unwrap_or(req.app);
        let events = vec![
            hook("BeforeAllowTraffic", 0),
            event("AllowTraffic", 0, "shift"),
            hook("AfterAllowTraffic", 0),
        ];
        let mut t = target(name, "LambdaTarget", None, 0, events, now);
        t["lambdaFunctionInfo"] = json!({
            "functionName": name,
            "functionAlias": props["Alias"].as_str().unwrap_or("live"),
            "currentVersion": props["CurrentVersion"].as_str().unwrap_or("1"),
            "targetVersion": props["TargetVersion"].as_str().unwrap_or("2"),
            "targetVersionWeight": 0.0,
        });
        return Ok(vec![t]);
    }
    let svc = &group["ecsServices"][0];
    let (Some(cluster), Some(service)) = (svc["clusterName"].as_str(), svc["serviceName"].as_str())
    else {
        return Err(err(
            "InvalidECSServiceException",
            "The deployment group names no ECS service",
        ));
    };
    let events = vec![
        hook("BeforeInstall", 0),
        event("Install", 0, "builtin"),
        hook("AfterInstall", 0),
        event("AllowTestTraffic", 0, "builtin"),
        hook("AfterAllowTestTraffic", 0),
        hook("BeforeAllowTraffic", 1),
        event("AllowTraffic", 1, "shift"),
        hook("AfterAllowTraffic", 1),
    ];
    let tgs = &group["loadBalancerInfo"]["targetGroupPairInfoList"][0]["targetGroups"];
    let tg = |i: usize| {
        tgs[i]["name"]
            .as_str()
            .unwrap_or(if i == 0 { "blue" } else { "green" })
            .to_string()
    };
    let mut t = target(
        &format!("{cluster}:{service}"),
        "ECSTarget",
        None,
        0,
        events,
        now,
    );
    t["taskSetsInfo"] = json!([
        {"identifer": format!("ecs-svc/{}", fnv(&format!("{cluster}:{service}:blue")) % 10_000_000_000),
         "desiredCount": 1, "pendingCount": 0, "runningCount": 1, "status": "PRIMARY",
         "trafficWeight": 100.0, "targetGroup": {"name": tg(0)}, "taskSetLabel": "Blue"},
    ]);
    t["_greenTaskSet"] = json!({
        "identifer": format!("ecs-svc/{}", fnv(&format!("{cluster}:{service}:{now}")) % 10_000_000_000),
        "desiredCount": 1, "pendingCount": 0, "runningCount": 1, "status": "ACTIVE",
        "trafficWeight": 0.0, "targetGroup": {"name": tg(1)}, "taskSetLabel": "Green",
        "_taskDefinition": props["TaskDefinition"],
    });
    Ok(vec![t])
}
