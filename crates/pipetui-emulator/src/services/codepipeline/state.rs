//! Read views: GetPipelineState, GetPipelineExecution, ListPipelineExecutions,
//! ListActionExecutions, and the paging tokens they share.

use serde_json::{Value, json};

use super::api::load;
use super::declaration::{self, actions, stage_name, stages};
use super::model::{ActionRun, Execution, executions, find_execution, validation};
use crate::protocol::{Input, ServiceError, ts};
use crate::service::Ctx;

const TOKEN_PREFIX: &str = "cp-page-";

pub fn token(n: usize) -> String {
    format!("{TOKEN_PREFIX}{n}")
}

/// Index a paging token stands for; unknown tokens are CodePipeline's InvalidNextTokenException.
pub fn page_start(t: Option<&str>, len: usize) -> Result<usize, ServiceError> {
    let Some(t) = t else { return Ok(0) };
    t.strip_prefix(TOKEN_PREFIX)
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n <= len)
        .ok_or_else(|| {
            ServiceError::new(
                "InvalidNextTokenException",
                "The next token was specified in an invalid format",
            )
        })
}

fn max_results(input: &Input<'_>) -> Result<usize, ServiceError> {
    let m = input.i64("maxResults").unwrap_or(100);
    if !(1..=100).contains(&m) {
        return Err(validation(
            "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100",
        ));
    }
    Ok(m as usize)
}

fn action_execution(run: &ActionRun, show_token: bool) -> Value {
    let mut v = json!({
        "actionExecutionId": run.id,
        "status": run.status,
        "lastStatusChange": ts(run.updated),
        "summary": run.summary,
        "lastUpdatedBy": run.updated_by,
        "externalExecutionUrl": run.external_url,
    });
    if run.category() != "Approval" {
        v["externalExecutionId"] = json!(run.external_id);
    }
    if show_token && run.in_progress() {
        v["token"] = json!(run.token);
    }
    if let Some(e) = &run.error {
        v["errorDetails"] = json!({ "code": e.code, "message": e.message });
    }
    v
}

fn entity_url(ctx: &Ctx<'_>, a: &declaration::ActionDecl<'_>) -> Option<String> {
    let c = a.configuration();
    let r = ctx.region;
    let [category, _, provider, _] = a.type_id();
    match (category.as_str(), provider.as_str()) {
        ("Source", "CodeCommit") => c.get("RepositoryName").map(|n| {
            format!("https://{r}.console.aws.amazon.com/codesuite/codecommit/repositories/{n}/browse?region={r}")
        }),
        (_, "CodeBuild") => c.get("ProjectName").map(|n| {
            format!("https://{r}.console.aws.amazon.com/codesuite/codebuild/projects/{n}/history?region={r}")
        }),
        (_, "CodeDeploy") => c.get("ApplicationName").map(|n| {
            format!("https://{r}.console.aws.amazon.com/codesuite/codedeploy/applications/{n}?region={r}")
        }),
        _ => None,
    }
}

pub fn get_pipeline_state(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("name")?;
    let p = load(ctx, name)?;
    let decl = p.declaration();
    let execs = executions(ctx.store, name)?;
    let parallel = declaration::str_of(decl, "executionMode", "SUPERSEDED") == "PARALLEL";
    let mut states = Vec::new();
    for (i, stage) in stages(decl).iter().enumerate() {
        let sname = stage_name(stage);
        // Executions are matched to stages by name, so a renamed stage starts fresh.
        let run_of = |e: &Execution| e.stages.iter().position(|s| s.name == sname);
        let latest = execs
            .iter()
            .rev()
            .find(|e| run_of(e).is_some_and(|k| e.stages[k].status.is_some()));
        let mut st = json!({ "stageName": sname });
        if i > 0 {
            let mut t = json!({ "enabled": true });
            if let Some(tr) = p.transitions.get(sname) {
                t = json!({
                    "enabled": tr.enabled,
                    "lastChangedBy": tr.changed_by,
                    "lastChangedAt": ts(tr.changed_at),
                    "disabledReason": tr.reason,
                });
            }
            st["inboundTransitionState"] = t;
        }
        let waiting: Vec<&Execution> = execs
            .iter()
            .filter(|e| e.active() && !e.at.entered && run_of(e) == Some(e.at.stage) && i > 0)
            .collect();
        let inbound = |e: &Execution| json!({ "pipelineExecutionId": e.id, "status": e.status, "type": e.kind });
        if let Some(w) = waiting.last() {
            st["inboundExecution"] = inbound(w);
            st["inboundExecutions"] = Value::Array(waiting.iter().map(|e| inbound(e)).collect());
        }
        if let Some(e) = latest
            && let Some(k) = run_of(e)
        {
            let run = &e.stages[k];
            st["latestExecution"] = json!({
                "pipelineExecutionId": e.id,
                "status": run.status,
                "type": e.kind,
            });
            if run.manual_retries + run.auto_retries > 0 {
                st["retryStageMetadata"] = json!({
                    "autoStageRetryAttempt": run.auto_retries,
                    "manualStageRetryAttempt": run.manual_retries,
                    "latestRetryTrigger": run.last_retry,
                });
            }
        }
        let mut action_states = Vec::new();
        for a in actions(stage) {
            let mut s = json!({ "actionName": a.name(), "entityUrl": entity_url(ctx, &a) });
            let last = execs.iter().rev().find_map(|e| {
                let k = run_of(e)?;
                let idx = *e.stages[k].current.get(a.name())?;
                e.actions.get(idx).map(|r| (e, r))
            });
            if let Some((e, run)) = last {
                s["latestExecution"] = action_execution(run, !parallel);
                if run.category() == "Source"
                    && let Some(rev) = e.revisions.iter().find(|r| r.action == run.action)
                {
                    s["currentRevision"] = json!({
                        "revisionId": rev.revision_id,
                        "revisionChangeId": rev.change_id,
                        "created": ts(rev.created),
                    });
                    s["revisionUrl"] = json!(rev.url);
                }
            }
            action_states.push(s);
        }
        st["actionStates"] = Value::Array(action_states);
        states.push(st);
    }
    Ok(json!({
        "pipelineName": name,
        "pipelineVersion": p.version,
        "stageStates": states,
        "created": ts(p.created),
        "updated": ts(p.updated),
    }))
}

fn summary(e: &Execution) -> Value {
    let mut v = json!({
        "pipelineExecutionId": e.id,
        "status": e.status,
        "statusSummary": e.summary,
        "startTime": ts(e.start),
        "lastUpdateTime": ts(e.updated),
        "sourceRevisions": e.revisions.iter().map(|r| json!({
            "actionName": r.action, "revisionId": r.revision_id,
            "revisionSummary": r.summary, "revisionUrl": r.url,
        })).collect::<Vec<_>>(),
        "trigger": { "triggerType": e.trigger_type, "triggerDetail": e.trigger_detail },
        "executionMode": e.mode,
        "executionType": e.kind,
    });
    if let Some(s) = &e.stop {
        v["stopTrigger"] = json!({ "reason": s.reason.clone().unwrap_or_default() });
    }
    if let Some(t) = &e.rollback_target {
        v["rollbackMetadata"] = json!({ "rollbackTargetPipelineExecutionId": t });
    }
    v
}

pub fn get_pipeline_execution(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("pipelineName")?;
    let id = input.required_str("pipelineExecutionId")?;
    load(ctx, name)?;
    let e = find_execution(ctx.store, name, id)?;
    let mut v = json!({
        "pipelineName": e.pipeline,
        "pipelineVersion": e.version,
        "pipelineExecutionId": e.id,
        "status": e.status,
        "statusSummary": e.summary,
        "artifactRevisions": e.revisions.iter().map(|r| json!({
            "name": r.artifact, "revisionId": r.revision_id,
            "revisionChangeIdentifier": r.change_id, "revisionSummary": r.summary,
            "created": ts(r.created), "revisionUrl": r.url,
        })).collect::<Vec<_>>(),
        "variables": e.variables.iter().map(|(n, v)| json!({ "name": n, "resolvedValue": v })).collect::<Vec<_>>(),
        "trigger": { "triggerType": e.trigger_type, "triggerDetail": e.trigger_detail },
        "executionMode": e.mode,
        "executionType": e.kind,
    });
    if let Some(t) = &e.rollback_target {
        v["rollbackMetadata"] = json!({ "rollbackTargetPipelineExecutionId": t });
    }
    Ok(json!({ "pipelineExecution": v }))
}

pub fn list_pipeline_executions(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("pipelineName")?;
    let max = max_results(&input)?;
    let p = load(ctx, name)?;
    let in_stage = input
        .object("filter")
        .and_then(|f| f.object("succeededInStage"))
        .and_then(|s| s.str("stageName").map(str::to_string));
    let all: Vec<Execution> = executions(ctx.store, name)?
        .into_iter()
        .rev()
        .filter(|e| match &in_stage {
            Some(s) => {
                e.version == p.version
                    && e.stages
                        .iter()
                        .any(|r| &r.name == s && r.status.as_deref() == Some("Succeeded"))
            }
            None => true,
        })
        .collect();
    let start = page_start(input.str("nextToken"), all.len())?;
    let items: Vec<Value> = all.iter().skip(start).take(max).map(summary).collect();
    let mut out = json!({ "pipelineExecutionSummaries": items });
    if start + max < all.len() {
        out["nextToken"] = json!(token(start + max));
    }
    Ok(out)
}

fn artifact_details(list: &[super::model::ArtifactLoc]) -> Value {
    Value::Array(
        list.iter()
            .map(|a| json!({ "name": a.name, "s3location": { "bucket": a.bucket, "key": a.key } }))
            .collect(),
    )
}

fn action_detail(e: &Execution, run: &ActionRun, role: &str) -> Value {
    let [category, owner, provider, version] = &run.type_id;
    let mut result = json!({
        "externalExecutionId": run.external_id,
        "externalExecutionSummary": run.summary,
        "externalExecutionUrl": run.external_url,
    });
    if let Some(err) = &run.error {
        result["errorDetails"] = json!({ "code": err.code, "message": err.message });
    }
    json!({
        "pipelineExecutionId": e.id,
        "actionExecutionId": run.id,
        "pipelineVersion": run.pipeline_version,
        "stageName": run.stage,
        "actionName": run.action,
        "startTime": ts(run.start),
        "lastUpdateTime": ts(run.updated),
        "updatedBy": run.updated_by,
        "status": run.status,
        "input": {
            "actionTypeId": { "category": category, "owner": owner, "provider": provider, "version": version },
            "configuration": run.configuration,
            "resolvedConfiguration": run.resolved,
            "roleArn": run.role_arn.clone().unwrap_or_else(|| role.to_string()),
            "region": run.region,
            "inputArtifacts": artifact_details(&run.inputs),
            "namespace": run.namespace,
        },
        "output": {
            "outputArtifacts": artifact_details(if run.status == "Succeeded" { &run.outputs } else { &[] }),
            "executionResult": result,
            "outputVariables": run.output_variables,
        },
    })
}

pub fn list_action_executions(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("pipelineName")?;
    let max = max_results(&input)?;
    let p = load(ctx, name)?;
    let role = declaration::str_of(p.declaration(), "roleArn", "").to_string();
    let filter = input.object("filter");
    let wanted = filter.and_then(|f| {
        f.str("pipelineExecutionId").or_else(|| {
            f.object("latestInPipelineExecution")
                .and_then(|l| l.str("pipelineExecutionId"))
        })
    });
    let execs = match wanted {
        Some(id) => vec![find_execution(ctx.store, name, id)?],
        None => executions(ctx.store, name)?,
    };
    let mut runs: Vec<(&Execution, &ActionRun)> = execs
        .iter()
        .flat_map(|e| e.actions.iter().map(move |r| (e, r)))
        .collect();
    // Newest first; actions started in the same instant keep their reverse start order.
    runs.reverse();
    runs.sort_by(|a, b| b.1.start.total_cmp(&a.1.start).then(b.0.seq.cmp(&a.0.seq)));
    let start = page_start(input.str("nextToken"), runs.len())?;
    let items: Vec<Value> = runs
        .iter()
        .skip(start)
        .take(max)
        .map(|(e, r)| action_detail(e, r, &role))
        .collect();
    let mut out = json!({ "actionExecutionDetails": items });
    if start + max < runs.len() {
        out["nextToken"] = json!(token(start + max));
    }
    Ok(out)
}
