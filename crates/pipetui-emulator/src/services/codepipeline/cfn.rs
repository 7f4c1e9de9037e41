//! CloudFormation's AWS::CodePipeline::* resources, mapped onto the API (so the same
//! validation, versioning and first execution apply as for CreatePipeline).

use serde_json::{Map, Value, json};

use crate::protocol::{ServiceError, ServiceId};
use crate::service::Ctx;

/// PascalCase CloudFormation properties → the API's camelCase, keeping action configuration
/// keys as they are (they are provider-defined, e.g. `ProjectName`).
fn camel(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = lower_first(k);
                    let value = if k == "Configuration" {
                        v.clone()
                    } else {
                        camel(v)
                    };
                    (key, value)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(camel).collect()),
        other => other.clone(),
    }
}

fn lower_first(k: &str) -> String {
    let mut c = k.chars();
    match c.next() {
        Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// The API `pipeline` declaration for a stack resource's properties.
pub fn declaration(name: &str, props: &Value) -> Value {
    let mut d = Map::new();
    d.insert("name".into(), json!(name));
    for key in [
        "RoleArn",
        "ArtifactStore",
        "Stages",
        "PipelineType",
        "ExecutionMode",
        "Variables",
        "Triggers",
    ] {
        if let Some(v) = props.get(key) {
            d.insert(lower_first(key), camel(v));
        }
    }
    if let Some(list) = props.get("ArtifactStores").and_then(Value::as_array) {
        let stores: Map<String, Value> = list
            .iter()
            .filter_map(|s| {
                let region = s.get("Region")?.as_str()?.to_string();
                Some((region, camel(s.get("ArtifactStore")?)))
            })
            .collect();
        d.insert("artifactStores".into(), Value::Object(stores));
    }
    Value::Object(d)
}

fn tags(props: &Value) -> Vec<Value> {
    props
        .get("Tags")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .map(|t| json!({ "key": t.get("Key"), "value": t.get("Value") }))
                .collect()
        })
        .unwrap_or_default()
}

pub fn put(
    ctx: &Ctx<'_>,
    resource_type: &str,
    name: &str,
    props: &Value,
) -> Result<(), ServiceError> {
    if resource_type != "AWS::CodePipeline::Pipeline" {
        // Webhooks and custom action types have no behaviour in the emulator.
        return Ok(());
    }
    let mut decl = declaration(name, props);
    let existing = ctx.call(
        ServiceId::CodePipeline,
        "GetPipeline",
        &json!({ "name": name }),
    );
    let arn = ctx.arn("codepipeline", name);
    let updated = existing.is_ok();
    match existing {
        Ok(current) => {
            decl["version"] = current
                .pointer("/pipeline/version")
                .cloned()
                .unwrap_or(json!(1));
            let restart = props
                .get("RestartExecutionOnUpdate")
                .is_some_and(|v| v == &json!(true) || v == &json!("true"));
            ctx.call(
                ServiceId::CodePipeline,
                "UpdatePipeline",
                &json!({ "pipeline": decl, "restartExecutionOnUpdate": restart }),
            )?;
            let old = ctx.call(
                ServiceId::CodePipeline,
                "ListTagsForResource",
                &json!({ "resourceArn": arn }),
            )?;
            let keys: Vec<Value> = old
                .get("tags")
                .and_then(Value::as_array)
                .map(|l| l.iter().filter_map(|t| t.get("key").cloned()).collect())
                .unwrap_or_default();
            if !keys.is_empty() {
                ctx.call(
                    ServiceId::CodePipeline,
                    "UntagResource",
                    &json!({ "resourceArn": arn, "tagKeys": keys }),
                )?;
            }
            let new = tags(props);
            if !new.is_empty() {
                ctx.call(
                    ServiceId::CodePipeline,
                    "TagResource",
                    &json!({ "resourceArn": arn, "tags": new }),
                )?;
            }
        }
        Err(e) if e.code == "PipelineNotFoundException" => {
            ctx.call(
                ServiceId::CodePipeline,
                "CreatePipeline",
                &json!({ "pipeline": decl, "tags": tags(props) }),
            )?;
        }
        Err(e) => return Err(e),
    }
    let disabled: Vec<(String, String)> = props
        .get("DisableInboundStageTransitions")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|t| {
                    Some((
                        t.get("StageName")?.as_str()?.to_string(),
                        t.get("Reason")
                            .and_then(Value::as_str)
                            .unwrap_or("Disabled by CloudFormation")
                            .to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let stage_names: Vec<String> = props
        .get("Stages")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .skip(1)
                .filter_map(|s| s.get("Name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for stage in stage_names {
        let input = match disabled.iter().find(|(s, _)| *s == stage) {
            Some((_, reason)) => (
                "DisableStageTransition",
                json!({ "pipelineName": name, "stageName": stage, "transitionType": "Inbound", "reason": reason }),
            ),
            None if !updated => continue,
            None => (
                "EnableStageTransition",
                json!({ "pipelineName": name, "stageName": stage, "transitionType": "Inbound" }),
            ),
        };
        ctx.call(ServiceId::CodePipeline, input.0, &input.1)?;
    }
    Ok(())
}

pub fn delete(ctx: &Ctx<'_>, resource_type: &str, name: &str) -> Result<(), ServiceError> {
    if resource_type != "AWS::CodePipeline::Pipeline" {
        return Ok(());
    }
    ctx.call(
        ServiceId::CodePipeline,
        "DeletePipeline",
        &json!({ "name": name }),
    )
    .map(|_| ())
}
