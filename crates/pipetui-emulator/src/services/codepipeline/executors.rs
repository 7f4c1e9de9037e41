//! Action executors: how each action type starts and, on later ticks, finishes. Source and
//! Invoke complete at once; Build/Test poll CodeBuild, Deploy polls CodeDeploy, Manual approval
//! waits for PutApprovalResult or its deadline.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::declaration::{ActionDecl, artifact_bucket};
use super::model::{ActionRun, ArtifactLoc, ErrorDetail, Execution};
use super::{approval, lambda, source};
use crate::protocol::{ServiceError, ServiceId};
use crate::service::Ctx;

pub fn fail(run: &mut ActionRun, now: f64, code: &str, message: impl Into<String>) {
    run.status = "Failed".into();
    run.updated = now;
    // The token stays (a late answer gets ApprovalAlreadyCompleted); only the deadline goes.
    run.deadline = None;
    run.error = Some(ErrorDetail {
        code: code.into(),
        message: message.into(),
    });
}

fn succeed(run: &mut ActionRun, now: f64, summary: Option<String>) {
    run.status = "Succeeded".into();
    run.updated = now;
    if summary.is_some() {
        run.summary = summary;
    }
}

/// Replaces `#{variables.x}`, `#{Namespace.Var}` and `#{codepipeline.PipelineExecutionId}`.
pub fn resolve(text: &str, e: &Execution) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#{") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[at..]);
            return Ok(out);
        };
        let reference = &after[..end];
        let (ns, var) = reference.split_once('.').unwrap_or(("", reference));
        let value = match ns {
            "variables" => e
                .variables
                .iter()
                .find(|(n, _)| n == var)
                .map(|(_, v)| v.clone()),
            "codepipeline" if var == "PipelineExecutionId" => Some(e.id.clone()),
            _ => e.outputs.get(ns).and_then(|m| m.get(var)).cloned(),
        };
        match value {
            Some(v) => out.push_str(&v),
            None => {
                return Err(format!(
                    "The variable reference #{{{reference}}} could not be resolved"
                ));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Starts action `a` of stage `stage` for `e`; the returned run may already be finished.
pub fn start(
    ctx: &Ctx<'_>,
    decl: &Value,
    e: &mut Execution,
    stage: &str,
    a: ActionDecl<'_>,
) -> ActionRun {
    let now = ctx.clock.now();
    let configuration = a.configuration();
    let bucket = artifact_bucket(decl, ctx.region);
    let mut run = ActionRun {
        id: uuid::Uuid::new_v4().to_string(),
        stage: stage.to_string(),
        action: a.name().to_string(),
        status: "InProgress".into(),
        start: now,
        updated: now,
        updated_by: None,
        type_id: a.type_id(),
        resolved: BTreeMap::new(),
        configuration,
        role_arn: a.str("roleArn").map(str::to_string),
        region: a.str("region").unwrap_or(ctx.region).to_string(),
        namespace: a.str("namespace").map(str::to_string),
        inputs: Vec::new(),
        outputs: a
            .outputs()
            .into_iter()
            .map(|n| ArtifactLoc {
                key: source::artifact_key(&e.pipeline, &n),
                bucket: bucket.clone(),
                name: n,
            })
            .collect(),
        external_id: None,
        external_url: None,
        summary: None,
        error: None,
        output_variables: BTreeMap::new(),
        token: None,
        deadline: None,
        pipeline_version: e.version,
    };
    for name in a.inputs() {
        match e.artifacts.get(&name) {
            Some(loc) => run.inputs.push(loc.clone()),
            None => {
                fail(
                    &mut run,
                    now,
                    "JobFailed",
                    format!("Input artifact {name} is not available in this execution"),
                );
                return run;
            }
        }
    }
    for (k, v) in &run.configuration {
        match resolve(v, e) {
            Ok(r) => {
                run.resolved.insert(k.clone(), r);
            }
            Err(m) => {
                fail(&mut run, now, "ConfigurationError", m);
                return run;
            }
        }
    }
    let [category, owner, provider, _] = run.type_id.clone();
    match (category.as_str(), provider.as_str()) {
        ("Source", "S3") => source_s3(ctx, e, &mut run),
        ("Source", _) if source::repo_of(&provider, &run.resolved).is_some() => {
            source_git(ctx, e, &mut run)
        }
        ("Build" | "Test", "CodeBuild") => start_build(ctx, e, &mut run),
        ("Deploy", "CodeDeploy") => start_deploy(ctx, e, &mut run),
        ("Approval", "Manual") => approval::start(ctx, e, &mut run),
        ("Invoke", "Lambda") => lambda::invoke(ctx, e, &mut run),
        _ => fail(
            &mut run,
            now,
            "ConfigurationError",
            format!(
                "Action provider {owner}/{provider} ({category}) is not supported by the emulator"
            ),
        ),
    }
    run
}

fn source_git(ctx: &Ctx<'_>, e: &mut Execution, run: &mut ActionRun) {
    let now = ctx.clock.now();
    let provider = run.provider().to_string();
    let Some((repo, branch)) = source::repo_of(&provider, &run.resolved) else {
        return;
    };
    let Some(out) = run.outputs.first().cloned() else {
        fail(
            run,
            now,
            "ConfigurationError",
            "A source action needs an output artifact",
        );
        return;
    };
    let dest = match ctx.emulator.settings.s3_path(&out.bucket, &out.key) {
        Ok(d) => d,
        Err(err) => return fail(run, now, "JobFailed", err.message),
    };
    let wanted = e.overrides.get(&run.action).cloned();
    match source::checkout(
        &ctx.emulator.settings,
        &repo,
        &branch,
        wanted.as_deref(),
        &dest,
    ) {
        Ok(c) => {
            let url = source::revision_url(&provider, &repo, &c.id, ctx.region);
            run.external_id = Some(c.id.clone());
            run.external_url = Some(url.clone());
            let mut vars = BTreeMap::from([
                ("CommitId".to_string(), c.id.clone()),
                ("CommitMessage".to_string(), c.message.clone()),
                ("AuthorDate".to_string(), c.author_date.clone()),
                ("CommitterDate".to_string(), c.committer_date.clone()),
                ("BranchName".to_string(), branch.clone()),
                ("RepositoryName".to_string(), repo.clone()),
            ]);
            if provider != "CodeCommit" {
                vars.insert("FullRepositoryName".into(), repo.clone());
                if let Some(arn) = run.resolved.get("ConnectionArn") {
                    vars.insert("ConnectionArn".into(), arn.clone());
                }
            }
            run.output_variables = vars;
            e.revisions.retain(|r| r.action != run.action);
            e.revisions.push(super::model::Revision {
                action: run.action.clone(),
                artifact: out.name.clone(),
                revision_id: c.id.clone(),
                change_id: c.id.clone(),
                summary: c.message.clone(),
                created: c.epoch,
                url,
            });
            succeed(run, now, Some(c.message));
        }
        Err(m) => fail(run, now, "JobFailed", m),
    }
}

fn source_s3(ctx: &Ctx<'_>, e: &mut Execution, run: &mut ActionRun) {
    let now = ctx.clock.now();
    let bucket = run.resolved.get("S3Bucket").cloned().unwrap_or_default();
    let key = run.resolved.get("S3ObjectKey").cloned().unwrap_or_default();
    let Some(out) = run.outputs.first().cloned() else {
        fail(
            run,
            now,
            "ConfigurationError",
            "A source action needs an output artifact",
        );
        return;
    };
    let paths = (
        ctx.emulator.settings.s3_path(&bucket, &key),
        ctx.emulator.settings.s3_path(&out.bucket, &out.key),
    );
    let (from, dest) = match paths {
        (Ok(from), Ok(dest)) => (from, dest),
        (Err(err), _) | (_, Err(err)) => return fail(run, now, "JobFailed", err.message),
    };
    if !from.is_dir() {
        fail(
            run,
            now,
            "JobFailed",
            format!("The object s3://{bucket}/{key} could not be found"),
        );
        return;
    }
    if let Err(err) = source::copy_dir(&from, &dest) {
        fail(
            run,
            now,
            "JobFailed",
            format!("cannot copy s3://{bucket}/{key}: {err}"),
        );
        return;
    }
    let version = uuid::Uuid::new_v4().simple().to_string();
    run.output_variables = BTreeMap::from([
        ("ObjectKey".to_string(), key.clone()),
        ("VersionId".to_string(), version.clone()),
    ]);
    e.revisions.retain(|r| r.action != run.action);
    e.revisions.push(super::model::Revision {
        action: run.action.clone(),
        artifact: out.name,
        revision_id: version.clone(),
        change_id: version,
        summary: format!("s3://{bucket}/{key}"),
        created: now,
        url: format!("https://s3.console.aws.amazon.com/s3/object/{bucket}?prefix={key}"),
    });
    succeed(run, now, None);
}

/// The commit a downstream action works on: the revision of its input's source, else the first.
fn commit_for(e: &Execution, run: &ActionRun) -> Option<String> {
    run.inputs
        .iter()
        .find_map(|i| e.revisions.iter().find(|r| r.artifact == i.name))
        .or_else(|| e.revisions.first())
        .map(|r| r.revision_id.clone())
}

fn start_build(ctx: &Ctx<'_>, e: &Execution, run: &mut ActionRun) {
    let now = ctx.clock.now();
    let project = run.resolved.get("ProjectName").cloned().unwrap_or_default();
    let primary = run
        .resolved
        .get("PrimarySource")
        .and_then(|p| run.inputs.iter().find(|i| &i.name == p))
        .or_else(|| run.inputs.first())
        .cloned();
    let Some(input) = primary else {
        fail(
            run,
            now,
            "ConfigurationError",
            "A CodeBuild action needs an input artifact",
        );
        return;
    };
    let env: Vec<Value> = match run.resolved.get("EnvironmentVariables") {
        Some(s) if !s.trim().is_empty() => match serde_json::from_str::<Vec<Value>>(s) {
            Ok(list) => list
                .into_iter()
                .map(|v| {
                    json!({
                        "name": v.get("name").cloned().unwrap_or(Value::Null),
                        "value": v.get("value").cloned().unwrap_or(Value::Null),
                        "type": v.get("type").and_then(Value::as_str).unwrap_or("PLAINTEXT"),
                    })
                })
                .collect(),
            Err(err) => {
                fail(
                    run,
                    now,
                    "ConfigurationError",
                    format!("EnvironmentVariables is not a valid JSON list: {err}"),
                );
                return;
            }
        },
        _ => Vec::new(),
    };
    let artifacts = match run.outputs.first() {
        Some(o) => {
            json!({ "type": "S3", "location": o.bucket, "path": o.key, "name": "", "packaging": "NONE" })
        }
        None => json!({ "type": "NO_ARTIFACTS" }),
    };
    let mut req = json!({
        "projectName": project,
        "sourceTypeOverride": "S3",
        "sourceLocationOverride": format!("{}/{}", input.bucket, input.key),
        "artifactsOverride": artifacts,
        "environmentVariablesOverride": env,
        "initiator": format!("codepipeline/{}", e.pipeline),
    });
    if let Some(c) = commit_for(e, run) {
        req["sourceVersion"] = json!(c);
    }
    match ctx.call(ServiceId::CodeBuild, "StartBuild", &req) {
        Ok(out) => started(run, &out, "/build/id", |id| {
            format!(
                "https://console.aws.amazon.com/codebuild/home?region={}#/builds/{id}/view/new",
                ctx.region
            )
        }),
        Err(err) => fail(
            run,
            now,
            "JobFailed",
            format!("Error calling startBuild: {}", err.message),
        ),
    }
}

fn start_deploy(ctx: &Ctx<'_>, e: &Execution, run: &mut ActionRun) {
    let now = ctx.clock.now();
    let Some(input) = run.inputs.first().cloned() else {
        fail(
            run,
            now,
            "ConfigurationError",
            "A CodeDeploy action needs an input artifact",
        );
        return;
    };
    let description = format!(
        "Deployment by CodePipeline {} (execution {})",
        e.pipeline, e.id
    );
    create_deployment(ctx, run, &input, description);
}

/// [CHOICE] How long a deploy action waits for its group's active deployment (typically
/// CodeDeploy's own automatic rollback, racing the stage's `onFailure` rollback) before failing
/// with DeploymentLimitExceededException, in emulated seconds.
const GROUP_BUSY_WAIT: f64 = 3600.0;

fn create_deployment(ctx: &Ctx<'_>, run: &mut ActionRun, input: &ArtifactLoc, description: String) {
    let now = ctx.clock.now();
    let req = json!({
        "applicationName": run.resolved.get("ApplicationName").cloned().unwrap_or_default(),
        "deploymentGroupName": run.resolved.get("DeploymentGroupName").cloned().unwrap_or_default(),
        "revision": { "revisionType": "S3", "s3Location": { "bucket": input.bucket, "key": input.key, "bundleType": "zip" } },
        "description": description,
    });
    match ctx.call(ServiceId::CodeDeploy, "CreateDeployment", &req) {
        Ok(out) => {
            started(run, &out, "/deploymentId", |id| {
                format!(
                    "https://console.aws.amazon.com/codedeploy/home?region={}#/deployments/{id}",
                    ctx.region
                )
            });
            run.summary = None;
        }
        Err(err)
            if err.code == "DeploymentLimitExceededException"
                && now - run.start < GROUP_BUSY_WAIT =>
        {
            run.summary = Some(format!(
                "Waiting for the group's active deployment: {}",
                err.message
            ));
        }
        Err(err) => fail(
            run,
            now,
            "JobFailed",
            format!("{}: {}", err.code, err.message),
        ),
    }
}

/// Records the build or deployment an action started: its id (at `pointer` in the answer) and
/// its console link.
fn started(run: &mut ActionRun, out: &Value, pointer: &str, url: impl Fn(&str) -> String) {
    let id = out
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    run.external_url = Some(url(&id));
    run.external_id = Some(id);
}

/// Moves an in-progress action on; whether it changed.
pub fn poll(ctx: &Ctx<'_>, run: &mut ActionRun) -> Result<bool, ServiceError> {
    if !run.in_progress() {
        return Ok(false);
    }
    let now = ctx.clock.now();
    match (run.category(), run.provider()) {
        ("Approval", _) => Ok(approval::expire(run, now)),
        ("Build" | "Test", "CodeBuild") => poll_build(ctx, run),
        ("Deploy", "CodeDeploy") => poll_deploy(ctx, run),
        _ => Ok(false),
    }
}

fn poll_build(ctx: &Ctx<'_>, run: &mut ActionRun) -> Result<bool, ServiceError> {
    let now = ctx.clock.now();
    let Some(id) = run.external_id.clone() else {
        return Ok(false);
    };
    let out = match ctx.call(
        ServiceId::CodeBuild,
        "BatchGetBuilds",
        &json!({ "ids": [id] }),
    ) {
        Ok(o) => o,
        Err(err) => {
            tracing::debug!(code = %err.code, "BatchGetBuilds from the pipeline engine");
            return Ok(false);
        }
    };
    let Some(build) = out.pointer("/builds/0") else {
        fail(
            run,
            now,
            "JobFailed",
            format!("Build {id} no longer exists"),
        );
        return Ok(true);
    };
    if build.get("buildComplete").and_then(Value::as_bool) != Some(true) {
        return Ok(false);
    }
    let status = build
        .get("buildStatus")
        .and_then(Value::as_str)
        .unwrap_or("FAILED");
    if let Some(vars) = build
        .get("exportedEnvironmentVariables")
        .and_then(Value::as_array)
    {
        for v in vars {
            if let (Some(n), Some(val)) = (
                v.get("name").and_then(Value::as_str),
                v.get("value").and_then(Value::as_str),
            ) {
                run.output_variables.insert(n.into(), val.into());
            }
        }
    }
    if status == "SUCCEEDED" {
        succeed(run, now, Some(format!("Build {id} succeeded")));
        return Ok(true);
    }
    let phase = build.get("phases").and_then(Value::as_array).and_then(|p| {
        p.iter().find(|ph| {
            ph.get("phaseStatus")
                .and_then(Value::as_str)
                .is_some_and(|s| s != "SUCCEEDED")
        })
    });
    let message = match phase {
        Some(ph) => {
            let ctx0 = ph.pointer("/contexts/0");
            format!(
                "Build terminated with state: {status}. Phase: {}, Code: {}, Message: {}",
                ph.get("phaseType").and_then(Value::as_str).unwrap_or(""),
                ctx0.and_then(|c| c.get("statusCode"))
                    .and_then(Value::as_str)
                    .unwrap_or(""),
                ctx0.and_then(|c| c.get("message"))
                    .and_then(Value::as_str)
                    .unwrap_or(""),
            )
        }
        None => format!("Build terminated with state: {status}"),
    };
    fail(run, now, "JobFailed", message);
    Ok(true)
}

fn poll_deploy(ctx: &Ctx<'_>, run: &mut ActionRun) -> Result<bool, ServiceError> {
    let now = ctx.clock.now();
    let Some(id) = run.external_id.clone() else {
        // The group was busy when the action started: try again.
        let Some(input) = run.inputs.first().cloned() else {
            return Ok(false);
        };
        let before = (run.status.clone(), run.summary.clone());
        let description = format!("Deployment by CodePipeline (action execution {})", run.id);
        create_deployment(ctx, run, &input, description);
        return Ok(run.external_id.is_some() || (run.status.clone(), run.summary.clone()) != before);
    };
    let out = match ctx.call(
        ServiceId::CodeDeploy,
        "GetDeployment",
        &json!({ "deploymentId": id }),
    ) {
        Ok(o) => o,
        Err(err) => {
            tracing::debug!(code = %err.code, "GetDeployment from the pipeline engine");
            return Ok(false);
        }
    };
    let info = out.get("deploymentInfo").cloned().unwrap_or(Value::Null);
    match info.get("status").and_then(Value::as_str).unwrap_or("") {
        "Succeeded" => {
            succeed(run, now, Some(format!("Deployment {id} succeeded")));
            Ok(true)
        }
        "Failed" | "Stopped" => {
            let code = info
                .pointer("/errorInformation/code")
                .and_then(Value::as_str)
                .unwrap_or("JobFailed");
            let message = info
                .pointer("/errorInformation/message")
                .and_then(Value::as_str)
                .map_or_else(|| format!("Deployment {id} failed"), str::to_string);
            run.summary = info
                .pointer("/rollbackInfo/rollbackMessage")
                .and_then(Value::as_str)
                .map(str::to_string);
            fail(run, now, code, message);
            Ok(true)
        }
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::codepipeline::model::Position;

    fn execution() -> Execution {
        Execution {
            id: "e-1".into(),
            pipeline: "web".into(),
            seq: 1,
            version: 1,
            status: "InProgress".into(),
            summary: None,
            start: 0.0,
            updated: 0.0,
            trigger_type: "StartPipelineExecution".into(),
            trigger_detail: String::new(),
            mode: "SUPERSEDED".into(),
            kind: "STANDARD".into(),
            rollback_target: None,
            stop: None,
            client_token: None,
            variables: vec![("env".into(), "prod".into())],
            overrides: BTreeMap::new(),
            revisions: Vec::new(),
            artifacts: BTreeMap::new(),
            outputs: BTreeMap::from([(
                "SourceVariables".to_string(),
                BTreeMap::from([("CommitId".to_string(), "abc123".to_string())]),
            )]),
            at: Position {
                stage: 0,
                entered: false,
            },
            only_stage: None,
            stages: Vec::new(),
            actions: Vec::new(),
        }
    }

    #[test]
    fn variables_resolve_from_the_execution_and_action_namespaces() {
        let e = execution();
        let text =
            "#{variables.env}:#{SourceVariables.CommitId}:#{codepipeline.PipelineExecutionId}";
        assert_eq!(resolve(text, &e).as_deref(), Ok("prod:abc123:e-1"));
        assert_eq!(
            resolve("no refs #{ here", &e).as_deref(),
            Ok("no refs #{ here")
        );
        let missing = resolve("#{Build.Image}", &e).unwrap_err();
        assert!(missing.contains("#{Build.Image}"), "{missing}");
    }
}
