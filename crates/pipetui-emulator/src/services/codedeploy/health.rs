//! The fleet's health signal and the deployment's alarms: hosts that passed ValidateService run
//! the bundle's `scripts/health_check.sh` every [`HEALTH_EVERY`] emulated seconds and publish
//! ErrorRate/Latency to CloudWatch; the deployment's alarms are read back to stop it.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::host;
use crate::protocol::ServiceId;
use crate::service::Ctx;

/// Emulated seconds between two health checks of a host.
pub const HEALTH_EVERY: f64 = 10.0;

/// [CHOICE] The bake window after the last host is long enough for the slowest of the
/// deployment's alarms to evaluate (EvaluationPeriods × Period), capped at 10 minutes.
pub const BAKE_CAP: f64 = 600.0;

fn alarm_names(dep: &Value) -> Vec<String> {
    let a = &dep["_alarms"];
    if a["enabled"] != true {
        return Vec::new();
    }
    a["alarms"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["name"].as_str().map(str::to_string))
        .collect()
}

/// The deployment's alarms as DescribeAlarms shows them (which evaluates them lazily first).
fn describe(ctx: &Ctx<'_>, dep: &Value) -> Option<Vec<Value>> {
    let names = alarm_names(dep);
    if names.is_empty() {
        return Some(Vec::new());
    }
    let out = ctx
        .call(
            ServiceId::CloudWatch,
            "DescribeAlarms",
            &json!({ "AlarmNames": names }),
        )
        .map_err(|e| tracing::warn!(code = %e.code, "reading a deployment's alarms"))
        .ok()?;
    Some(out["MetricAlarms"].as_array().cloned().unwrap_or_default())
}

/// The names of the deployment's alarms now in ALARM.
pub fn firing(ctx: &Ctx<'_>, dep: &Value) -> Vec<String> {
    describe(ctx, dep)
        .unwrap_or_default()
        .iter()
        .filter(|a| a["StateValue"] == "ALARM")
        .filter_map(|a| a["AlarmName"].as_str().map(str::to_string))
        .collect()
}

/// Seconds to bake after the last host (0 without alarms).
pub fn bake_seconds(ctx: &Ctx<'_>, dep: &Value) -> f64 {
    describe(ctx, dep)
        .unwrap_or_default()
        .iter()
        .map(|a| {
            a["EvaluationPeriods"].as_f64().unwrap_or(1.0) * a["Period"].as_f64().unwrap_or(60.0)
        })
        .fold(0.0, f64::max)
        .min(BAKE_CAP)
}

/// Dimension sets to publish under: those of the deployment's alarms on namespace `pipetui`,
/// else `Service=<application>, Environment=<group's Environment tag or name>`.
fn dimension_sets(ctx: &Ctx<'_>, dep: &Value, group: &Value) -> Vec<Value> {
    let mut sets: Vec<Value> = Vec::new();
    for a in describe(ctx, dep).unwrap_or_default() {
        if a["Namespace"] == "pipetui" && !sets.contains(&a["Dimensions"]) {
            sets.push(a["Dimensions"].clone());
        }
    }
    if sets.is_empty() {
        let env = group["_tags"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["Key"] == "Environment")
            .and_then(|t| t["Value"].as_str())
            .or(dep["deploymentGroupName"].as_str())
            .unwrap_or("")
            .to_string();
        sets.push(json!([
            {"Name": "Service", "Value": dep["applicationName"]},
            {"Name": "Environment", "Value": env},
        ]));
    }
    sets
}

/// Runs the health check on every host that passed ValidateService and publishes the results.
pub fn publish(ctx: &Ctx<'_>, dep: &Value, group: &Value, now: f64) {
    let id = dep["deploymentId"].as_str().unwrap_or("");
    let mut samples = Vec::new();
    for t in dep["_targets"].as_array().into_iter().flatten() {
        let validated = t["lifecycleEvents"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["lifecycleEventName"] == "ValidateService" && e["status"] == "Succeeded");
        let Some(dir) = t["_hostDir"].as_str().filter(|_| validated) else {
            continue;
        };
        let dir = PathBuf::from(dir);
        let env = vec![
            (
                "HOST_NAME",
                t["targetId"].as_str().unwrap_or("").to_string(),
            ),
            ("HOST_INDEX", t["_index"].as_u64().unwrap_or(0).to_string()),
            ("DEPLOYMENT_ID", id.to_string()),
            (
                "APPLICATION_NAME",
                dep["applicationName"].as_str().unwrap_or("").to_string(),
            ),
            (
                "DEPLOYMENT_GROUP_NAME",
                dep["deploymentGroupName"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            ),
        ];
        let key = format!("{id}/{}/health", t["targetId"].as_str().unwrap_or(""));
        if let Some(s) =
            host::health_check(ctx.store, &key, &dir, &host::archive_dir(&dir, id), &env)
        {
            samples.push(s);
        }
    }
    if samples.is_empty() {
        return;
    }
    let mut data = Vec::new();
    for dims in dimension_sets(ctx, dep, group) {
        for (error_rate, latency) in &samples {
            data.push(json!({"MetricName": "ErrorRate", "Dimensions": dims, "Timestamp": now, "Value": error_rate, "Unit": "Percent"}));
            data.push(json!({"MetricName": "Latency", "Dimensions": dims, "Timestamp": now, "Value": latency, "Unit": "Milliseconds"}));
        }
    }
    if let Err(e) = ctx.call(
        ServiceId::CloudWatch,
        "PutMetricData",
        &json!({"Namespace": "pipetui", "MetricData": data}),
    ) {
        tracing::warn!(code = %e.code, message = %e.message, "publishing a host's health");
    }
}
