//! Builds: StartBuild (the build document, its log stream, then the runner thread or the
//! simulated replay), StopBuild, BatchGetBuilds, ListBuildsForProject and ListBuilds.

use std::sync::Arc;

use serde_json::{Value, json};

use super::buildspec;
use super::process::Cancel;
use super::projects::tag;
use super::record::{self, LogTarget, Recorder};
use super::runner::{BuildspecRef, Plan, SourceInput};
use super::{CodeBuild, SVC, invalid, page, simulate, ts_of};
use crate::emulator::engine::{sample_app, sanitize};
use crate::emulator::protocol::{Input, ServiceError, ts};
use crate::emulator::service::Ctx;

fn project_not_found(ctx: &Ctx<'_>, name: &str) -> ServiceError {
    ServiceError::new(
        "ResourceNotFoundException",
        format!(
            "Project cannot be found: arn:aws:codebuild:{}:{}:project/{name}",
            ctx.region, ctx.account_id
        ),
    )
}

/// The repository name in a CodeCommit or GitHub-style clone URL.
pub fn repo_name(location: &str) -> String {
    let last = location
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(location);
    last.trim_end_matches(".git").to_string()
}

/// `bucket/key` as (bucket, key).
fn split_s3(location: &str) -> (String, String) {
    let l = location.trim_start_matches("arn:aws:s3:::");
    let (b, k) = l.split_once('/').unwrap_or((l, ""));
    (b.to_string(), k.to_string())
}

/// The project's variables with StartBuild's overrides applied (same name replaces).
fn variables(project: &Value, input: &Input<'_>) -> Vec<Value> {
    let mut vars: Vec<Value> = project["environment"]["environmentVariables"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for o in input.list("environmentVariablesOverride") {
        let name = o.str("name").unwrap_or("");
        vars.retain(|v| v["name"].as_str() != Some(name));
        vars.push(json!({
            "name": name,
            "value": o.str("value").unwrap_or(""),
            "type": o.str("type").unwrap_or("PLAINTEXT"),
        }));
    }
    vars
}

/// The output artifact directory and its S3 ARN, from the override or the project.
fn output(
    ctx: &Ctx<'_>,
    project: &Value,
    input: &Input<'_>,
    id: &str,
) -> Option<(std::path::PathBuf, String)> {
    let a = input
        .get("artifactsOverride")
        .unwrap_or(&project["artifacts"]);
    if a["type"].as_str() != Some("S3") {
        return None;
    }
    let bucket = a["location"].as_str()?;
    let mut key = a["path"]
        .as_str()
        .unwrap_or("")
        .trim_matches('/')
        .to_string();
    if a["namespaceType"].as_str() == Some("BUILD_ID") {
        let uuid = id.rsplit(':').next().unwrap_or(id);
        key = [key.as_str(), uuid]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("/");
    }
    let name = a["name"].as_str().unwrap_or("");
    if !name.is_empty() {
        key = if key.is_empty() {
            name.to_string()
        } else {
            format!("{key}/{name}")
        };
    }
    let dir = ctx.emulator.settings.s3_dir(bucket, &key);
    Some((dir, format!("arn:aws:s3:::{bucket}/{key}")))
}

/// Reads the buildspec a simulated build replays, without running anything.
fn simulated_spec(
    source: &SourceInput,
    spec: &BuildspecRef,
    ctx: &Ctx<'_>,
) -> Result<buildspec::Buildspec, String> {
    let text = match (spec, source) {
        (BuildspecRef::Inline(t), _) => t.clone(),
        (BuildspecRef::File(f), SourceInput::Dir(d)) => {
            std::fs::read_to_string(d.join(f)).map_err(|e| e.to_string())?
        }
        (BuildspecRef::File(f), SourceInput::Git { repo, version }) => {
            let path = ctx
                .emulator
                .settings
                .source_repo(repo)
                .map_err(|e| e.to_string())?;
            sample_app::git(&path, &["show", &format!("{version}:{f}")])
                .map_err(|e| e.to_string())?
        }
        (BuildspecRef::File(f), SourceInput::Empty) => return Err(format!("no source holds {f}")),
    };
    buildspec::parse(&text)
}

pub fn start(svc: &CodeBuild, ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("projectName")?;
    let project = ctx
        .store
        .document(SVC, "project", name)?
        .ok_or_else(|| project_not_found(ctx, name))?;
    let timeout = input
        .i64("timeoutInMinutesOverride")
        .or_else(|| project["timeoutInMinutes"].as_i64())
        .unwrap_or(60);
    if !(5..=2160).contains(&timeout) {
        return Err(invalid(
            "timeoutInMinutesOverride must be between 5 and 2160",
        ));
    }
    let source_type = input
        .str("sourceTypeOverride")
        .or(project["source"]["type"].as_str())
        .unwrap_or("NO_SOURCE");
    let location = input
        .str("sourceLocationOverride")
        .or(project["source"]["location"].as_str())
        .unwrap_or("");
    let source_version = input
        .str("sourceVersion")
        .or(project["sourceVersion"].as_str())
        .map(str::to_string);
    let source = match source_type {
        "S3" => {
            let (bucket, key) = split_s3(location);
            SourceInput::Dir(ctx.emulator.settings.s3_dir(&bucket, &key))
        }
        "NO_SOURCE" => SourceInput::Empty,
        "CODEPIPELINE" => {
            return Err(invalid(
                "A build of a project whose source is CODEPIPELINE can only be started by CodePipeline",
            ));
        }
        _ => SourceInput::Git {
            repo: repo_name(location),
            version: source_version.clone().unwrap_or_else(|| "HEAD".into()),
        },
    };
    let buildspec_setting = input
        .str("buildspecOverride")
        .or(project["source"]["buildspec"].as_str());
    let spec_ref = BuildspecRef::from_setting(buildspec_setting);
    let simulated = tag(&project, "pipetui:simulated") == Some("true");
    let uuid = uuid::Uuid::new_v4().to_string();
    let id = format!("{name}:{uuid}");
    let now = ctx.clock.now();
    let logs_config = input
        .get("logsConfigOverride")
        .unwrap_or(&project["logsConfig"]);
    let cw = &logs_config["cloudWatchLogs"];
    let group = cw["groupName"]
        .as_str()
        .filter(|g| !g.is_empty())
        .map_or_else(|| format!("/aws/codebuild/{name}"), str::to_string);
    let stream = match cw["streamName"].as_str().filter(|s| !s.is_empty()) {
        Some(prefix) => format!("{prefix}/{uuid}"),
        None => uuid.clone(),
    };
    let enabled = cw["status"].as_str() != Some("DISABLED");
    let mut vars = variables(&project, &input);
    if simulated {
        vars.push(json!({ "name": "PIPETUI_SIMULATED", "value": "true", "type": "PLAINTEXT" }));
    }
    let mut environment = project["environment"].clone();
    environment["environmentVariables"] = json!(vars);
    for (o, m) in [
        ("imageOverride", "image"),
        ("computeTypeOverride", "computeType"),
        ("environmentTypeOverride", "type"),
    ] {
        if let Some(v) = input.str(o) {
            environment[m] = json!(v);
        }
    }
    if let Some(p) = input.bool("privilegedModeOverride") {
        environment["privilegedMode"] = json!(p);
    }
    let out = output(ctx, &project, &input, &id);
    let initiator = input.str("initiator").unwrap_or("pipetui").to_string();
    let mut source_doc = project["source"].clone();
    source_doc["type"] = json!(source_type);
    if !location.is_empty() {
        source_doc["location"] = json!(location);
    }
    if let Some(b) = buildspec_setting {
        source_doc["buildspec"] = json!(b);
    }
    let log_arn = ctx.arn("logs", &format!("log-group:{group}:log-stream:{stream}"));
    let mut build = json!({
        "id": id,
        "arn": ctx.arn("codebuild", &format!("build/{id}")),
        "startTime": ts(now),
        "currentPhase": "SUBMITTED",
        "buildStatus": "IN_PROGRESS",
        "projectName": name,
        "phases": [{ "phaseType": "SUBMITTED", "startTime": ts(now) }],
        "source": source_doc,
        "secondarySources": [],
        "secondarySourceVersions": [],
        "artifacts": { "location": "" },
        "secondaryArtifacts": [],
        "cache": project["cache"].clone(),
        "environment": environment,
        "serviceRole": input.str("serviceRoleOverride").or(project["serviceRole"].as_str()),
        "logs": {
            "groupName": if enabled { json!(group) } else { Value::Null },
            "streamName": if enabled { json!(stream) } else { Value::Null },
            "deepLink": if enabled {
                json!(format!("https://console.aws.amazon.com/cloudwatch/home?region={}#logEvent:group={};stream={}", ctx.region, group.replace('/', "%2F"), stream.replace('/', "%2F")))
            } else { Value::Null },
            "cloudWatchLogsArn": if enabled { json!(log_arn) } else { Value::Null },
            "cloudWatchLogs": { "status": if enabled { "ENABLED" } else { "DISABLED" }, "groupName": cw["groupName"].clone(), "streamName": cw["streamName"].clone() },
            "s3Logs": { "status": "DISABLED" },
        },
        "timeoutInMinutes": timeout,
        "queuedTimeoutInMinutes": input.i64("queuedTimeoutInMinutesOverride").or(project["queuedTimeoutInMinutes"].as_i64()).unwrap_or(480),
        "buildComplete": false,
        "initiator": initiator,
        "encryptionKey": input.str("encryptionKeyOverride").or(project["encryptionKey"].as_str()),
    });
    if let Some(v) = &source_version {
        build["sourceVersion"] = json!(v);
        if matches!(source, SourceInput::Dir(_)) {
            build["resolvedSourceVersion"] = json!(v);
        }
    }
    if !project["vpcConfig"].is_null() {
        build["vpcConfig"] = project["vpcConfig"].clone();
    }
    let limit = project["concurrentBuildLimit"].as_i64();
    let number = ctx.store.write(|tx| {
        if let Some(limit) = limit {
            let active = tx
                .list(SVC, "build")?
                .iter()
                .filter(|(_, b)| {
                    b["projectName"].as_str() == Some(name) && b["buildComplete"] != json!(true)
                })
                .count() as i64;
            if active >= limit {
                return Err(ServiceError::new(
                    "AccountLimitExceededException",
                    format!("Cannot have more than {limit} active builds for the project"),
                ));
            }
        }
        let n = tx
            .get(SVC, "counter", name)?
            .and_then(|v| v.as_i64())
            .unwrap_or(0)
            + 1;
        tx.put(SVC, "counter", name, &json!(n))?;
        build["buildNumber"] = json!(n);
        tx.put(SVC, "build", &id, &build)?;
        Ok(n)
    })?;
    let target = enabled.then_some(LogTarget { group, stream });
    if let Some(t) = &target {
        record::open_log(ctx.emulator, t);
    }
    let src_dir = ctx
        .emulator
        .settings
        .work_dir
        .join("builds")
        .join(sanitize(name))
        .join(&uuid)
        .join("src");
    if simulated {
        let mut sim_source = source.clone();
        let mut commit = None;
        if let SourceInput::Git { repo, version } = &source
            && let Ok(path) = ctx.emulator.settings.source_repo(repo)
            && let Ok(c) = super::files::resolve_revision(&path, version)
        {
            sim_source = SourceInput::Git {
                repo: repo.clone(),
                version: c.clone(),
            };
            commit = Some((path, c));
        }
        let spec = simulated_spec(&sim_source, &spec_ref, ctx);
        let steps = simulate::plan(now, spec.as_ref().map_err(String::as_str));
        let mut sim = json!({ "steps": steps, "next": 0 });
        if let Some((dir, loc)) = &out {
            sim["output_dir"] = json!(dir.display().to_string());
            sim["output_location"] = json!(loc);
        }
        match (&sim_source, &commit) {
            (SourceInput::Dir(d), _) => sim["input_dir"] = json!(d.display().to_string()),
            (_, Some((path, c))) => {
                sim["repo"] = json!(path.display().to_string());
                sim["commit"] = json!(c);
            }
            _ => {}
        }
        ctx.store.write(|tx| {
            if let Some((_, c)) = &commit {
                build["resolvedSourceVersion"] = json!(c);
                tx.put(SVC, "build", &id, &build)?;
            }
            tx.put(SVC, "sim", &id, &sim)
        })?;
        return Ok(json!({ "build": build }));
    }
    let mut codebuild_vars = vec![
        ("CODEBUILD_BUILD_ID".to_string(), id.clone()),
        (
            "CODEBUILD_BUILD_ARN".to_string(),
            build["arn"].as_str().unwrap_or("").to_string(),
        ),
        ("CODEBUILD_BUILD_NUMBER".to_string(), number.to_string()),
        (
            "CODEBUILD_SRC_DIR".to_string(),
            src_dir.display().to_string(),
        ),
        ("CODEBUILD_INITIATOR".to_string(), initiator),
        (
            "CODEBUILD_START_TIME".to_string(),
            ((now * 1000.0) as i64).to_string(),
        ),
        (
            "CODEBUILD_BUILD_IMAGE".to_string(),
            build["environment"]["image"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        ),
        (
            "CODEBUILD_PROJECT_ARN".to_string(),
            project["arn"].as_str().unwrap_or("").to_string(),
        ),
        ("AWS_REGION".to_string(), ctx.region.to_string()),
        ("AWS_DEFAULT_REGION".to_string(), ctx.region.to_string()),
    ];
    if let Some(t) = &target {
        codebuild_vars.push(("CODEBUILD_LOG_PATH".to_string(), t.stream.clone()));
    }
    if let Some(v) = &source_version {
        codebuild_vars.push(("CODEBUILD_SOURCE_VERSION".to_string(), v.clone()));
        codebuild_vars.push(("CODEBUILD_RESOLVED_SOURCE_VERSION".to_string(), v.clone()));
    }
    let plan = Plan {
        src_dir,
        source,
        buildspec: spec_ref,
        variables: vars
            .iter()
            .map(|v| {
                let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
                (s("name"), s("value"), s("type"))
            })
            .collect(),
        codebuild_vars,
        output: out,
    };
    let rec = Recorder {
        emu: ctx
            .emulator
            .arc()
            .map(|a| Arc::downgrade(&a))
            .unwrap_or_default(),
        build_id: id.clone(),
        log: target,
    };
    svc.launch(plan, rec);
    Ok(json!({ "build": build }))
}

pub fn stop(svc: &CodeBuild, ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let id = input.required_str("id")?;
    let id = id.rsplit("build/").next().unwrap_or(id);
    if ctx.store.document(SVC, "build", id)?.is_none() {
        return Err(ServiceError::new(
            "ResourceNotFoundException",
            format!("Build {id} does not exist"),
        ));
    }
    if !simulate::stop(ctx, id)? {
        svc.cancel(id, Cancel::Stopped);
    }
    let build = ctx.store.document(SVC, "build", id)?.map(|b| (*b).clone());
    Ok(json!({ "build": build }))
}

pub fn batch_get(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let ids = input.strings("ids");
    if ids.is_empty() || ids.len() > 100 {
        return Err(invalid("ids must hold between 1 and 100 build ids"));
    }
    let docs = ctx.store.documents(SVC, "build")?;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for i in ids {
        match docs.get(i.rsplit("build/").next().unwrap_or(&i)) {
            Some(b) => found.push((**b).clone()),
            None => missing.push(i),
        }
    }
    Ok(json!({ "builds": found, "buildsNotFound": missing }))
}

/// Build ids, newest first unless `sortOrder` is ASCENDING, 100 a page.
fn list_ids(input: &Input<'_>, builds: Vec<(f64, i64, String)>) -> Result<Value, ServiceError> {
    let mut builds = builds;
    builds.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(a.1.cmp(&b.1))
            .then_with(|| a.2.cmp(&b.2))
    });
    match input.str("sortOrder").unwrap_or("DESCENDING") {
        "DESCENDING" => builds.reverse(),
        "ASCENDING" => {}
        other => return Err(invalid(format!("Invalid sortOrder: {other}"))),
    }
    let ids: Vec<String> = builds.into_iter().map(|(_, _, id)| id).collect();
    let (range, next) = page(ids.len(), input.str("nextToken"))?;
    let mut out = json!({ "ids": ids[range].to_vec() });
    if let Some(n) = next {
        out["nextToken"] = json!(n);
    }
    Ok(out)
}

fn keyed(b: &Value, id: &str) -> (f64, i64, String) {
    (
        ts_of(&b["startTime"]),
        b["buildNumber"].as_i64().unwrap_or(0),
        id.to_string(),
    )
}

pub fn list_for_project(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("projectName")?;
    if ctx.store.document(SVC, "project", name)?.is_none() {
        return Err(project_not_found(ctx, name));
    }
    let docs = ctx.store.documents(SVC, "build")?;
    let builds = docs
        .iter()
        .filter(|(_, b)| b["projectName"].as_str() == Some(name))
        .map(|(id, b)| keyed(b, id))
        .collect();
    list_ids(&input, builds)
}

pub fn list(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let docs = ctx.store.documents(SVC, "build")?;
    list_ids(&input, docs.iter().map(|(id, b)| keyed(b, id)).collect())
}
