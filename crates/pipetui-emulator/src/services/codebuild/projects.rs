//! Projects: CreateProject, UpdateProject, BatchGetProjects, ListProjects, DeleteProject, and
//! the CloudFormation `AWS::CodeBuild::Project` properties turned into the API's shape.

use serde_json::{Map, Value, json};

use super::{SVC, invalid, page, ts_of};
use crate::engine::valid_bucket_name;
use crate::protocol::{Input, ServiceError, ts};
use crate::service::Ctx;

const SOURCE_TYPES: &[&str] = &[
    "CODECOMMIT",
    "CODEPIPELINE",
    "GITHUB",
    "GITLAB",
    "GITLAB_SELF_MANAGED",
    "S3",
    "BITBUCKET",
    "GITHUB_ENTERPRISE",
    "NO_SOURCE",
];
const ARTIFACT_TYPES: &[&str] = &["CODEPIPELINE", "S3", "NO_ARTIFACTS"];
/// Members UpdateProject may change; everything else is the service's own.
const UPDATABLE: &[&str] = &[
    "description",
    "source",
    "secondarySources",
    "sourceVersion",
    "secondarySourceVersions",
    "artifacts",
    "secondaryArtifacts",
    "cache",
    "environment",
    "serviceRole",
    "timeoutInMinutes",
    "queuedTimeoutInMinutes",
    "encryptionKey",
    "tags",
    "vpcConfig",
    "logsConfig",
    "fileSystemLocations",
    "buildBatchConfig",
    "concurrentBuildLimit",
    "autoRetryLimit",
];

fn not_found(name: &str) -> ServiceError {
    ServiceError::new(
        "ResourceNotFoundException",
        format!("Project cannot be found: arn:aws:codebuild:us-east-1:000000000000:project/{name}"),
    )
}

fn valid_name(name: &str) -> bool {
    (2..=255).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The project's tag value for `key`, if tagged.
pub fn tag<'a>(project: &'a Value, key: &str) -> Option<&'a str> {
    project["tags"]
        .as_array()?
        .iter()
        .find(|t| t["key"].as_str() == Some(key))
        .and_then(|t| t["value"].as_str())
}

/// Checks the members CodeBuild validates, as CreateProject and UpdateProject both see them.
fn validate(p: &Value) -> Result<(), ServiceError> {
    let source_type = p["source"]["type"].as_str().unwrap_or("");
    if !SOURCE_TYPES.contains(&source_type) {
        return Err(invalid(format!("Invalid source type: {source_type}")));
    }
    let location = p["source"]["location"].as_str().unwrap_or("");
    if matches!(source_type, "CODECOMMIT" | "GITHUB" | "S3" | "BITBUCKET") && location.is_empty() {
        return Err(invalid(format!(
            "Source location is required for source type {source_type}"
        )));
    }
    let buildspec = p["source"]["buildspec"].as_str().unwrap_or("");
    if source_type == "NO_SOURCE" && buildspec.trim().is_empty() {
        return Err(invalid(
            "Project buildspec cannot be empty when source type is NO_SOURCE",
        ));
    }
    validate_artifacts(&p["artifacts"])?;
    let artifact_type = p["artifacts"]["type"].as_str().unwrap_or("");
    if (source_type == "CODEPIPELINE") != (artifact_type == "CODEPIPELINE") {
        return Err(invalid(
            "Both source and artifacts types must be CODEPIPELINE if either is CODEPIPELINE",
        ));
    }
    for member in ["type", "image", "computeType"] {
        if p["environment"][member].as_str().unwrap_or("").is_empty() {
            return Err(invalid(format!("Project environment {member} is required")));
        }
    }
    let timeout = p["timeoutInMinutes"].as_i64().unwrap_or(60);
    if !(5..=2160).contains(&timeout) {
        return Err(invalid(
            "Timeout in minutes must be between 5 and 2160 (36 hours)",
        ));
    }
    if p["tags"].as_array().is_some_and(|t| t.len() > 50) {
        return Err(invalid("Too many tags: at most 50"));
    }
    Ok(())
}

/// An artifacts member (the project's or StartBuild's override): a known type, and for S3 the
/// name of a bucket S3 would accept.
pub fn validate_artifacts(a: &Value) -> Result<(), ServiceError> {
    let artifact_type = a["type"].as_str().unwrap_or("");
    if !ARTIFACT_TYPES.contains(&artifact_type) {
        return Err(invalid(format!("Invalid artifacts type: {artifact_type}")));
    }
    if artifact_type != "S3" {
        return Ok(());
    }
    match a["location"].as_str().unwrap_or("") {
        "" => Err(invalid(
            "Artifacts location is required when artifacts type is S3",
        )),
        bucket if !valid_bucket_name(bucket) => Err(invalid(format!(
            "Invalid artifacts location: {bucket} is not a valid S3 bucket name"
        ))),
        _ => Ok(()),
    }
}

/// CreateProject's input as the project CodeBuild describes.
fn project_from_input(ctx: &Ctx<'_>, name: &str, input: &Value) -> Value {
    let now = ctx.clock.now();
    let mut p = Map::new();
    p.insert("name".into(), json!(name));
    p.insert(
        "arn".into(),
        json!(ctx.arn("codebuild", &format!("project/{name}"))),
    );
    for m in UPDATABLE {
        if let Some(v) = input.get(*m).filter(|v| !v.is_null()) {
            p.insert((*m).to_string(), v.clone());
        }
    }
    let mut p = Value::Object(p);
    fill_defaults(ctx, &mut p);
    p["badge"] = json!({ "badgeEnabled": input["badgeEnabled"].as_bool().unwrap_or(false) });
    p["created"] = ts(now);
    p["lastModified"] = ts(now);
    p["projectVisibility"] = json!("PRIVATE");
    p
}

fn fill_defaults(ctx: &Ctx<'_>, p: &mut Value) {
    if p["timeoutInMinutes"].is_null() {
        p["timeoutInMinutes"] = json!(60);
    }
    if p["queuedTimeoutInMinutes"].is_null() {
        p["queuedTimeoutInMinutes"] = json!(480);
    }
    if p["encryptionKey"].is_null() {
        p["encryptionKey"] = json!(ctx.arn("kms", "alias/aws/s3"));
    }
    if p["tags"].is_null() {
        p["tags"] = json!([]);
    }
    if p["cache"].is_null() {
        p["cache"] = json!({ "type": "NO_CACHE" });
    }
    if p["environment"]["environmentVariables"].is_null() && p["environment"].is_object() {
        p["environment"]["environmentVariables"] = json!([]);
    }
    if p["environment"]["privilegedMode"].is_null() && p["environment"].is_object() {
        p["environment"]["privilegedMode"] = json!(false);
    }
    if p["environment"]["imagePullCredentialsType"].is_null() && p["environment"].is_object() {
        p["environment"]["imagePullCredentialsType"] = json!("CODEBUILD");
    }
    let logs = &mut p["logsConfig"];
    if logs["cloudWatchLogs"]["status"].is_null() {
        logs["cloudWatchLogs"]["status"] = json!("ENABLED");
    }
    if logs["s3Logs"]["status"].is_null() {
        logs["s3Logs"]["status"] = json!("DISABLED");
    }
}

pub fn create(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("name")?;
    if !valid_name(name) {
        return Err(invalid(format!("Invalid project name: {name}")));
    }
    let project = project_from_input(ctx, name, input.0);
    validate(&project)?;
    ctx.store.write(|tx| {
        if tx.get(SVC, "project", name)?.is_some() {
            return Err(ServiceError::new(
                "ResourceAlreadyExistsException",
                format!(
                    "Project already exists: arn:aws:codebuild:{}:{}:project/{name}",
                    ctx.region, ctx.account_id
                ),
            ));
        }
        tx.put(SVC, "project", name, &project)
    })?;
    Ok(json!({ "project": project }))
}

pub fn update(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    update_resetting(ctx, input, &[])
}

/// UpdateProject that first drops the `reset` members (back to their defaults), as a template
/// update that removed a property means.
pub fn update_resetting(
    ctx: &Ctx<'_>,
    input: Input<'_>,
    reset: &[&str],
) -> Result<Value, ServiceError> {
    let name = input.required_str("name")?;
    let project = ctx.store.write(|tx| {
        let mut p = tx
            .get(SVC, "project", name)?
            .ok_or_else(|| not_found(name))?;
        if let Some(o) = p.as_object_mut() {
            for m in reset {
                o.remove(*m);
            }
        }
        for m in UPDATABLE {
            if let Some(v) = input.get(m) {
                p[*m] = v.clone();
            }
        }
        if let Some(b) = input.bool("badgeEnabled") {
            p["badge"] = json!({ "badgeEnabled": b });
        }
        fill_defaults(ctx, &mut p);
        validate(&p)?;
        p["lastModified"] = ts(ctx.clock.now());
        tx.put(SVC, "project", name, &p)?;
        Ok(p)
    })?;
    Ok(json!({ "project": project }))
}

pub fn batch_get(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let names = input.strings("names");
    if names.is_empty() || names.len() > 100 {
        return Err(invalid("names must hold between 1 and 100 project names"));
    }
    let docs = ctx.store.documents(SVC, "project")?;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for n in names {
        // Names or ARNs are accepted.
        let key = n.rsplit("project/").next().unwrap_or(&n);
        match docs.get(key) {
            Some(p) => found.push((**p).clone()),
            None => missing.push(n),
        }
    }
    Ok(json!({ "projects": found, "projectsNotFound": missing }))
}

pub fn list(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let docs = ctx.store.documents(SVC, "project")?;
    let mut items: Vec<(f64, String)> = match input.str("sortBy").unwrap_or("NAME") {
        "NAME" => docs.keys().map(|k| (0.0, k.clone())).collect(),
        by @ ("CREATED_TIME" | "LAST_MODIFIED_TIME") => {
            let member = if by == "CREATED_TIME" {
                "created"
            } else {
                "lastModified"
            };
            docs.iter()
                .map(|(k, p)| (ts_of(&p[member]), k.clone()))
                .collect()
        }
        other => return Err(invalid(format!("Invalid sortBy: {other}"))),
    };
    items.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    match input.str("sortOrder").unwrap_or("ASCENDING") {
        "ASCENDING" => {}
        "DESCENDING" => items.reverse(),
        other => return Err(invalid(format!("Invalid sortOrder: {other}"))),
    }
    let names: Vec<String> = items.into_iter().map(|(_, n)| n).collect();
    let (range, next) = page(names.len(), input.str("nextToken"))?;
    let mut out = json!({ "projects": names[range].to_vec() });
    if let Some(n) = next {
        out["nextToken"] = json!(n);
    }
    Ok(out)
}

pub fn delete(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("name")?;
    let key = name.rsplit("project/").next().unwrap_or(name).to_string();
    // CodeBuild answers success for a project that is already gone.
    ctx.store.write(|tx| tx.delete(SVC, "project", &key))?;
    Ok(json!({}))
}

/// The CloudFormation property name as the API spells it.
fn api_name(cfn: &str) -> String {
    match cfn {
        "BuildSpec" => "buildspec".into(),
        "Visibility" => "projectVisibility".into(),
        _ => {
            let mut c = cfn.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_ascii_lowercase().to_string() + c.as_str()
            })
        }
    }
}

/// Properties CloudFormation may deliver as strings that the API types as numbers or booleans.
fn coerce(name: &str, v: Value) -> Value {
    const NUMBERS: &[&str] = &[
        "timeoutInMinutes",
        "queuedTimeoutInMinutes",
        "concurrentBuildLimit",
        "gitCloneDepth",
        "autoRetryLimit",
    ];
    const BOOLS: &[&str] = &[
        "privilegedMode",
        "insecureSsl",
        "badgeEnabled",
        "encryptionDisabled",
        "reportBuildStatus",
        "overrideArtifactName",
        "fetchSubmodules",
    ];
    match &v {
        Value::String(s) if NUMBERS.contains(&name) => s.parse::<i64>().map_or(v, |n| json!(n)),
        Value::String(s) if BOOLS.contains(&name) => json!(s == "true"),
        _ => v,
    }
}

fn camel(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let name = api_name(k);
                    let v = coerce(&name, camel(v));
                    (name, v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(camel).collect()),
        other => other.clone(),
    }
}

/// `AWS::CodeBuild::Project` properties as CreateProject/UpdateProject input.
pub fn input_from_cfn(name: &str, props: &Value) -> Value {
    let mut input = camel(props);
    input["name"] = json!(name);
    input
}
