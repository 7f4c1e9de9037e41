//! The pipeline declaration: validation with CodePipeline's error codes, the defaults AWS
//! fills in, and typed reads of stages and actions.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::model::validation;
use crate::protocol::ServiceError;

fn structure(message: impl Into<String>) -> ServiceError {
    ServiceError::new("InvalidStructureException", message)
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '-' | '_'))
}

fn valid_artifact_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

/// A configuration value as CodePipeline stores it: always a string.
pub fn config_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Checks `p` (the API `pipeline` member) and returns it with AWS's defaults and `version`.
pub fn normalize(p: &Value, version: i64) -> Result<Value, ServiceError> {
    let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
    if !valid_name(name) {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at 'pipeline.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9.@\\-_]+"
        )));
    }
    let role = p.get("roleArn").and_then(Value::as_str).unwrap_or_default();
    if !role.starts_with("arn:aws") || !role.contains(":role/") {
        return Err(validation(format!(
            "1 validation error detected: Value '{role}' at 'pipeline.roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws(-[\\w]+)*:iam::[0-9]{{12}}:role/.*"
        )));
    }
    let store = p.get("artifactStore").filter(|v| v.is_object());
    let stores = p.get("artifactStores").filter(|v| v.is_object());
    match (store, stores) {
        (Some(_), Some(_)) => {
            return Err(structure(
                "Pipeline declaration cannot contain both artifactStore and artifactStores",
            ));
        }
        (None, None) => {
            return Err(structure(
                "Pipeline declaration must contain artifactStore or artifactStores",
            ));
        }
        _ => {}
    }
    let pipeline_type = p
        .get("pipelineType")
        .and_then(Value::as_str)
        .unwrap_or("V1");
    if !matches!(pipeline_type, "V1" | "V2") {
        return Err(validation(format!(
            "Value '{pipeline_type}' at 'pipeline.pipelineType' failed to satisfy constraint: Member must satisfy enum value set: [V1, V2]"
        )));
    }
    let mode = p
        .get("executionMode")
        .and_then(Value::as_str)
        .unwrap_or("SUPERSEDED");
    if !matches!(mode, "SUPERSEDED" | "QUEUED" | "PARALLEL") {
        return Err(validation(format!(
            "Value '{mode}' at 'pipeline.executionMode' failed to satisfy constraint: Member must satisfy enum value set: [QUEUED, SUPERSEDED, PARALLEL]"
        )));
    }
    if pipeline_type == "V1" && mode != "SUPERSEDED" {
        return Err(validation(format!(
            "Execution mode {mode} is only supported for pipeline type V2"
        )));
    }
    let has_vars = p
        .get("variables")
        .and_then(Value::as_array)
        .is_some_and(|v| !v.is_empty());
    if pipeline_type == "V1" && has_vars {
        return Err(validation(
            "Pipeline variables are only supported for pipeline type V2",
        ));
    }
    let stages = p
        .get("stages")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| structure("Pipeline must contain at least two stages"))?;
    if stages.len() < 2 {
        return Err(structure("Pipeline must contain at least two stages"));
    }
    let mut out = p.clone();
    let mut produced: BTreeSet<String> = BTreeSet::new();
    let mut stage_names = BTreeSet::new();
    let mut new_stages = Vec::new();
    for (i, s) in stages.iter().enumerate() {
        new_stages.push(normalize_stage(s, i, pipeline_type, &mut produced)?);
        let sname = s.get("name").and_then(Value::as_str).unwrap_or_default();
        if !stage_names.insert(sname.to_string()) {
            return Err(structure(format!(
                "Stage name '{sname}' is used more than once"
            )));
        }
    }
    out["stages"] = Value::Array(new_stages);
    out["version"] = json!(version);
    out["pipelineType"] = json!(pipeline_type);
    out["executionMode"] = json!(mode);
    Ok(out)
}

fn normalize_stage(
    s: &Value,
    index: usize,
    pipeline_type: &str,
    produced: &mut BTreeSet<String>,
) -> Result<Value, ServiceError> {
    let sname = s.get("name").and_then(Value::as_str).unwrap_or_default();
    if !valid_name(sname) {
        return Err(ServiceError::new(
            "InvalidStageDeclarationException",
            format!("Invalid stage name '{sname}'"),
        ));
    }
    let actions = s
        .get("actions")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            ServiceError::new(
                "InvalidStageDeclarationException",
                format!("Stage '{sname}' must contain at least one action"),
            )
        })?;
    if let Some(r) = s.pointer("/onFailure/result").and_then(Value::as_str)
        && r == "ROLLBACK"
        && pipeline_type != "V2"
    {
        return Err(validation(
            "Stage rollback on failure is only supported for pipeline type V2",
        ));
    }
    let mut names = BTreeSet::new();
    let mut stage_outputs = Vec::new();
    let mut new_actions = Vec::new();
    for a in actions {
        let aname = a.get("name").and_then(Value::as_str).unwrap_or_default();
        let bad = |m: String| ServiceError::new("InvalidActionDeclarationException", m);
        if !valid_name(aname) {
            return Err(bad(format!(
                "Invalid action name '{aname}' in stage '{sname}'"
            )));
        }
        if !names.insert(aname.to_string()) {
            return Err(structure(format!(
                "Action name '{aname}' is used more than once in stage '{sname}'"
            )));
        }
        let t = a.get("actionTypeId").cloned().unwrap_or(Value::Null);
        let field = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or_default();
        let category = field("category");
        if !matches!(
            category,
            "Source" | "Build" | "Deploy" | "Test" | "Invoke" | "Approval" | "Compute"
        ) {
            return Err(bad(format!(
                "Action '{aname}' has an invalid category '{category}'"
            )));
        }
        if field("owner").is_empty() || field("provider").is_empty() || field("version").is_empty()
        {
            return Err(bad(format!(
                "Action '{aname}' needs actionTypeId owner, provider and version"
            )));
        }
        if (category == "Source") != (index == 0) {
            return Err(structure(if index == 0 {
                format!("Stage '{sname}' is the first stage and may contain only source actions")
            } else {
                format!("Source action '{aname}' is only allowed in the first stage")
            }));
        }
        let mut na = a.clone();
        let run_order = a.get("runOrder").and_then(Value::as_i64).unwrap_or(1);
        if !(1..=999).contains(&run_order) {
            return Err(bad(format!("Action '{aname}' has an invalid runOrder")));
        }
        na["runOrder"] = json!(run_order);
        if let Some(c) = a.get("configuration").and_then(Value::as_object) {
            let c: serde_json::Map<String, Value> = c
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(config_string(v))))
                .collect();
            na["configuration"] = Value::Object(c);
        }
        for input in artifact_names(a, "inputArtifacts") {
            if !produced.contains(&input) {
                return Err(structure(format!(
                    "Input artifact '{input}' of action '{aname}' is not an output of any preceding action"
                )));
            }
        }
        let outs = artifact_names(a, "outputArtifacts");
        for o in &outs {
            if !valid_artifact_name(o) || produced.contains(o) || stage_outputs.contains(o) {
                return Err(structure(format!(
                    "Output artifact name '{o}' of action '{aname}' is invalid or not unique"
                )));
            }
        }
        stage_outputs.extend(outs);
        na["inputArtifacts"] = json!(
            artifact_names(a, "inputArtifacts")
                .iter()
                .map(|n| json!({ "name": n }))
                .collect::<Vec<_>>()
        );
        na["outputArtifacts"] = json!(
            artifact_names(a, "outputArtifacts")
                .iter()
                .map(|n| json!({ "name": n }))
                .collect::<Vec<_>>()
        );
        new_actions.push(na);
    }
    produced.extend(stage_outputs);
    let mut ns = s.clone();
    ns["actions"] = Value::Array(new_actions);
    Ok(ns)
}

fn artifact_names(a: &Value, key: &str) -> Vec<String> {
    a.get(key)
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|x| x.get("name").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Typed reads of one action declaration.
#[derive(Debug, Clone, Copy)]
pub struct ActionDecl<'a>(pub &'a Value);

impl<'a> ActionDecl<'a> {
    pub fn name(&self) -> &'a str {
        self.0
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    pub fn type_id(&self) -> [String; 4] {
        ["category", "owner", "provider", "version"].map(|k| {
            self.0
                .pointer(&format!("/actionTypeId/{k}"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        })
    }
    pub fn run_order(&self) -> i64 {
        self.0.get("runOrder").and_then(Value::as_i64).unwrap_or(1)
    }
    pub fn configuration(&self) -> BTreeMap<String, String> {
        self.0
            .get("configuration")
            .and_then(Value::as_object)
            .map(|c| {
                c.iter()
                    .map(|(k, v)| (k.clone(), config_string(v)))
                    .collect()
            })
            .unwrap_or_default()
    }
    pub fn inputs(&self) -> Vec<String> {
        artifact_names(self.0, "inputArtifacts")
    }
    pub fn outputs(&self) -> Vec<String> {
        artifact_names(self.0, "outputArtifacts")
    }
    pub fn str(&self, key: &str) -> Option<&'a str> {
        self.0.get(key).and_then(Value::as_str)
    }
    pub fn timeout_minutes(&self) -> Option<i64> {
        self.0.get("timeoutInMinutes").and_then(Value::as_i64)
    }
}

pub fn stages(decl: &Value) -> &[Value] {
    decl.get("stages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

pub fn stage_name(stage: &Value) -> &str {
    stage
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

pub fn actions(stage: &Value) -> Vec<ActionDecl<'_>> {
    stage
        .get("actions")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(ActionDecl).collect())
        .unwrap_or_default()
}

pub fn stage_index(decl: &Value, name: &str) -> Option<usize> {
    stages(decl).iter().position(|s| stage_name(s) == name)
}

/// The retry mode of `onFailure: { result: RETRY }` (FAILED_ACTIONS unless configured).
pub fn retry_on_failure(stage: &Value) -> Option<&str> {
    (stage.pointer("/onFailure/result").and_then(Value::as_str) == Some("RETRY")).then(|| {
        stage
            .pointer("/onFailure/retryConfiguration/retryMode")
            .and_then(Value::as_str)
            .unwrap_or("FAILED_ACTIONS")
    })
}

pub fn rollback_on_failure(stage: &Value) -> bool {
    stage.pointer("/onFailure/result").and_then(Value::as_str) == Some("ROLLBACK")
}

pub fn str_of<'a>(decl: &'a Value, key: &str, default: &'a str) -> &'a str {
    decl.get(key).and_then(Value::as_str).unwrap_or(default)
}

/// The artifact bucket of the pipeline's own region.
pub fn artifact_bucket(decl: &Value, region: &str) -> String {
    decl.pointer("/artifactStore/location")
        .or_else(|| decl.pointer(&format!("/artifactStores/{region}/location")))
        .and_then(Value::as_str)
        .unwrap_or("codepipeline-artifacts")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipeline(stages: Value) -> Value {
        json!({ "name": "web", "roleArn": "arn:aws:iam::000000000000:role/p",
            "artifactStore": { "type": "S3", "location": "artifacts" }, "stages": stages })
    }

    fn action(name: &str, category: &str, inputs: &[&str], outputs: &[&str]) -> Value {
        let names = |l: &[&str]| l.iter().map(|n| json!({ "name": n })).collect::<Vec<_>>();
        json!({ "name": name, "inputArtifacts": names(inputs), "outputArtifacts": names(outputs),
            "actionTypeId": { "category": category, "owner": "AWS", "provider": "X", "version": "1" },
            "configuration": { "Flag": false } })
    }

    #[test]
    fn defaults_are_filled_and_configuration_values_become_strings() {
        let p = pipeline(json!([
            { "name": "Source", "actions": [action("S", "Source", &[], &["Out"])] },
            { "name": "Build", "actions": [action("B", "Build", &["Out"], &[])] },
        ]));
        let d = normalize(&p, 3).unwrap_or_default();
        assert_eq!(d["version"], 3);
        assert_eq!(
            (d["pipelineType"].as_str(), d["executionMode"].as_str()),
            (Some("V1"), Some("SUPERSEDED"))
        );
        assert_eq!(d["stages"][1]["actions"][0]["runOrder"], 1);
        assert_eq!(
            d["stages"][0]["actions"][0]["configuration"]["Flag"],
            "false"
        );
    }

    #[test]
    fn structure_errors_use_codepipeline_codes() {
        let code = |p: Value| normalize(&p, 1).map(drop).unwrap_err().code;
        let one = pipeline(
            json!([{ "name": "Source", "actions": [action("S", "Source", &[], &["Out"])] }]),
        );
        assert_eq!(code(one), "InvalidStructureException");
        let dangling = pipeline(json!([
            { "name": "Source", "actions": [action("S", "Source", &[], &["Out"])] },
            { "name": "Build", "actions": [action("B", "Build", &["Nope"], &[])] },
        ]));
        assert_eq!(code(dangling), "InvalidStructureException");
        let bad_category = pipeline(json!([
            { "name": "Source", "actions": [action("S", "Source", &[], &["Out"])] },
            { "name": "Build", "actions": [action("B", "Magic", &["Out"], &[])] },
        ]));
        assert_eq!(code(bad_category), "InvalidActionDeclarationException");
        let mut queued_v1 = pipeline(json!([]));
        queued_v1["executionMode"] = json!("QUEUED");
        assert_eq!(code(queued_v1), "ValidationException");
    }
}
