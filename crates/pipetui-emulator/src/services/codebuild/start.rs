//! StartBuild: the project and the call's overrides become the build document and its log
//! stream, then either the runner thread (`runner`) or the simulated replay (`simulate`).

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};

use super::buildspec;
use super::files;
use super::projects::tag;
use super::record::{self, LogTarget, Recorder};
use super::runner::{BuildspecRef, Plan, SourceInput};
use super::{CodeBuild, SVC, invalid, simulate};
use crate::engine::{sample_app, sanitize};
use crate::protocol::{Input, ServiceError, ts};
use crate::service::Ctx;

pub fn project_not_found(ctx: &Ctx<'_>, name: &str) -> ServiceError {
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
) -> Result<Option<(std::path::PathBuf, String)>, ServiceError> {
    let a = input
        .get("artifactsOverride")
        .unwrap_or(&project["artifacts"]);
    if a["type"].as_str() != Some("S3") {
        return Ok(None);
    }
    let Some(bucket) = a["location"].as_str() else {
        return Ok(None);
    };
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
    let dir = ctx.emulator.settings.s3_path(bucket, &key)?;
    Ok(Some((dir, format!("arn:aws:s3:::{bucket}/{key}"))))
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

/// The project with StartBuild's overrides applied.
struct Request<'a> {
    name: &'a str,
    project: &'a Value,
    input: Input<'a>,
    timeout: i64,
    source_type: &'a str,
    location: &'a str,
    source_version: Option<String>,
    source: SourceInput,
    buildspec: Option<&'a str>,
    simulated: bool,
    variables: Vec<Value>,
}

impl<'a> Request<'a> {
    fn new(
        ctx: &Ctx<'_>,
        name: &'a str,
        project: &'a Value,
        input: Input<'a>,
    ) -> Result<Self, ServiceError> {
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
                SourceInput::Dir(ctx.emulator.settings.s3_path(&bucket, &key)?)
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
        let simulated = tag(project, "pipetui:simulated") == Some("true");
        let mut variables = variables(project, &input);
        if simulated {
            variables
                .push(json!({ "name": "PIPETUI_SIMULATED", "value": "true", "type": "PLAINTEXT" }));
        }
        Ok(Self {
            name,
            project,
            input,
            timeout,
            source_type,
            location,
            source_version,
            source,
            buildspec: input
                .str("buildspecOverride")
                .or(project["source"]["buildspec"].as_str()),
            simulated,
            variables,
        })
    }

    fn environment(&self) -> Value {
        let mut environment = self.project["environment"].clone();
        environment["environmentVariables"] = json!(self.variables);
        for (o, m) in [
            ("imageOverride", "image"),
            ("computeTypeOverride", "computeType"),
            ("environmentTypeOverride", "type"),
        ] {
            if let Some(v) = self.input.str(o) {
                environment[m] = json!(v);
            }
        }
        if let Some(p) = self.input.bool("privilegedModeOverride") {
            environment["privilegedMode"] = json!(p);
        }
        environment
    }

    fn source_doc(&self) -> Value {
        let mut source = self.project["source"].clone();
        source["type"] = json!(self.source_type);
        if !self.location.is_empty() {
            source["location"] = json!(self.location);
        }
        if let Some(b) = self.buildspec {
            source["buildspec"] = json!(b);
        }
        source
    }

    /// Where the build logs (None when CloudWatch Logs is disabled) and the build's `logs`.
    fn logs(&self, ctx: &Ctx<'_>, uuid: &str) -> (Option<LogTarget>, Value) {
        let config = self
            .input
            .get("logsConfigOverride")
            .unwrap_or(&self.project["logsConfig"]);
        let cw = &config["cloudWatchLogs"];
        let status = json!({
            "status": if cw["status"].as_str() == Some("DISABLED") { "DISABLED" } else { "ENABLED" },
            "groupName": cw["groupName"].clone(),
            "streamName": cw["streamName"].clone(),
        });
        if cw["status"].as_str() == Some("DISABLED") {
            return (
                None,
                json!({ "cloudWatchLogs": status, "s3Logs": { "status": "DISABLED" } }),
            );
        }
        let group = cw["groupName"]
            .as_str()
            .filter(|g| !g.is_empty())
            .map_or_else(|| format!("/aws/codebuild/{}", self.name), str::to_string);
        let stream = match cw["streamName"].as_str().filter(|s| !s.is_empty()) {
            Some(prefix) => format!("{prefix}/{uuid}"),
            None => uuid.to_string(),
        };
        let logs = json!({
            "groupName": group,
            "streamName": stream,
            "deepLink": format!(
                "https://console.aws.amazon.com/cloudwatch/home?region={}#logEvent:group={};stream={}",
                ctx.region,
                group.replace('/', "%2F"),
                stream.replace('/', "%2F")
            ),
            "cloudWatchLogsArn": ctx.arn("logs", &format!("log-group:{group}:log-stream:{stream}")),
            "cloudWatchLogs": status,
            "s3Logs": { "status": "DISABLED" },
        });
        (Some(LogTarget { group, stream }), logs)
    }

    /// The build as BatchGetBuilds first reports it: SUBMITTED, in progress.
    fn document(&self, ctx: &Ctx<'_>, id: &str, logs: Value, now: f64) -> Value {
        let p = self.project;
        let mut build = json!({
            "id": id,
            "arn": ctx.arn("codebuild", &format!("build/{id}")),
            "startTime": ts(now),
            "currentPhase": "SUBMITTED",
            "buildStatus": "IN_PROGRESS",
            "projectName": self.name,
            "phases": [{ "phaseType": "SUBMITTED", "startTime": ts(now) }],
            "source": self.source_doc(),
            "secondarySources": [],
            "secondarySourceVersions": [],
            "artifacts": { "location": "" },
            "secondaryArtifacts": [],
            "cache": p["cache"].clone(),
            "environment": self.environment(),
            "serviceRole": self.input.str("serviceRoleOverride").or(p["serviceRole"].as_str()),
            "logs": logs,
            "timeoutInMinutes": self.timeout,
            "queuedTimeoutInMinutes": self
                .input
                .i64("queuedTimeoutInMinutesOverride")
                .or(p["queuedTimeoutInMinutes"].as_i64())
                .unwrap_or(480),
            "buildComplete": false,
            "initiator": self.initiator(),
            "encryptionKey": self.input.str("encryptionKeyOverride").or(p["encryptionKey"].as_str()),
        });
        if let Some(v) = &self.source_version {
            build["sourceVersion"] = json!(v);
            if matches!(self.source, SourceInput::Dir(_)) {
                build["resolvedSourceVersion"] = json!(v);
            }
        }
        if !p["vpcConfig"].is_null() {
            build["vpcConfig"] = p["vpcConfig"].clone();
        }
        build
    }

    /// Who started the build: CodePipeline passes `codepipeline/<pipeline>`.
    fn initiator(&self) -> &str {
        self.input.str("initiator").unwrap_or("pipetui")
    }
}

/// Writes the build with the next build number, unless the project is at its concurrent limit.
fn record_build(
    ctx: &Ctx<'_>,
    req: &Request<'_>,
    id: &str,
    build: &mut Value,
) -> Result<i64, ServiceError> {
    let limit = req.project["concurrentBuildLimit"].as_i64();
    ctx.store.write(|tx| {
        if let Some(limit) = limit {
            let active = tx
                .list(SVC, "build")?
                .iter()
                .filter(|(_, b)| {
                    b["projectName"].as_str() == Some(req.name) && b["buildComplete"] != json!(true)
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
            .get(SVC, "counter", req.name)?
            .and_then(|v| v.as_i64())
            .unwrap_or(0)
            + 1;
        tx.put(SVC, "counter", req.name, &json!(n))?;
        build["buildNumber"] = json!(n);
        tx.put(SVC, "build", id, build)?;
        Ok(n)
    })
}

pub fn start(svc: &CodeBuild, ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("projectName")?;
    let project = ctx
        .store
        .document(SVC, "project", name)?
        .ok_or_else(|| project_not_found(ctx, name))?;
    let req = Request::new(ctx, name, &project, input)?;
    if let Some(a) = input.get("artifactsOverride") {
        super::projects::validate_artifacts(a)?;
    }
    let uuid = uuid::Uuid::new_v4().to_string();
    let id = format!("{name}:{uuid}");
    let now = ctx.clock.now();
    let (target, logs) = req.logs(ctx, &uuid);
    let mut build = req.document(ctx, &id, logs, now);
    // Paths are settled before the build is recorded: a refused one leaves nothing behind.
    let output = output(ctx, &project, &input, &id)?;
    let src_dir = ctx.emulator.settings.within(
        &std::path::Path::new("builds")
            .join(sanitize(name))
            .join(&uuid)
            .join("src"),
    )?;
    let number = record_build(ctx, &req, &id, &mut build)?;
    if let Some(t) = &target {
        record::open_log(ctx.emulator, t);
    }
    if req.simulated {
        start_simulated(ctx, &req, &id, &mut build, output, now)?;
        return Ok(json!({ "build": build }));
    }
    let plan = Plan {
        codebuild_vars: codebuild_vars(ctx, &req, &build, number, &src_dir, target.as_ref()),
        src_dir,
        source: req.source.clone(),
        buildspec: BuildspecRef::from_setting(req.buildspec),
        variables: req
            .variables
            .iter()
            .map(|v| {
                let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
                (s("name"), s("value"), s("type"))
            })
            .collect(),
        output,
    };
    let rec = Recorder {
        emu: ctx
            .emulator
            .arc()
            .map(|a| Arc::downgrade(&a))
            .unwrap_or_default(),
        build_id: id,
        log: target,
    };
    svc.launch(plan, rec);
    Ok(json!({ "build": build }))
}

/// The CODEBUILD_* (and AWS_REGION) variables every command of the build sees.
fn codebuild_vars(
    ctx: &Ctx<'_>,
    req: &Request<'_>,
    build: &Value,
    number: i64,
    src_dir: &std::path::Path,
    target: Option<&LogTarget>,
) -> Vec<(String, String)> {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let start_ms = (super::ts_of(&build["startTime"]) * 1000.0) as i64;
    let mut vars = vec![
        ("CODEBUILD_BUILD_ID", s(&build["id"])),
        ("CODEBUILD_BUILD_ARN", s(&build["arn"])),
        ("CODEBUILD_BUILD_NUMBER", number.to_string()),
        ("CODEBUILD_SRC_DIR", src_dir.display().to_string()),
        ("CODEBUILD_INITIATOR", req.initiator().to_string()),
        ("CODEBUILD_START_TIME", start_ms.to_string()),
        ("CODEBUILD_BUILD_IMAGE", s(&build["environment"]["image"])),
        ("CODEBUILD_PROJECT_ARN", s(&req.project["arn"])),
        ("AWS_REGION", ctx.region.to_string()),
        ("AWS_DEFAULT_REGION", ctx.region.to_string()),
    ];
    if let Some(t) = target {
        vars.push(("CODEBUILD_LOG_PATH", t.stream.clone()));
    }
    if let Some(v) = &req.source_version {
        vars.push(("CODEBUILD_SOURCE_VERSION", v.clone()));
        vars.push(("CODEBUILD_RESOLVED_SOURCE_VERSION", v.clone()));
    }
    vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Stores the replay plan of a simulated build; ticks play it.
fn start_simulated(
    ctx: &Ctx<'_>,
    req: &Request<'_>,
    id: &str,
    build: &mut Value,
    output: Option<(PathBuf, String)>,
    now: f64,
) -> Result<(), ServiceError> {
    let mut source = req.source.clone();
    let mut commit = None;
    if let SourceInput::Git { repo, version } = &req.source
        && let Ok(path) = ctx.emulator.settings.source_repo(repo)
        && let Ok(c) = files::resolve_revision(&path, version)
    {
        source = SourceInput::Git {
            repo: repo.clone(),
            version: c.clone(),
        };
        commit = Some((path, c));
    }
    let spec = simulated_spec(&source, &BuildspecRef::from_setting(req.buildspec), ctx);
    let steps = simulate::plan(now, spec.as_ref().map_err(String::as_str));
    let mut sim = json!({ "steps": steps, "next": 0 });
    if let Some((dir, loc)) = &output {
        sim["output_dir"] = json!(dir.display().to_string());
        sim["output_location"] = json!(loc);
    }
    match (&source, &commit) {
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
            tx.put(SVC, "build", id, build)?;
        }
        tx.put(SVC, "sim", id, &sim)
    })
}
