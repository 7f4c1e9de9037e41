//! Operations that steer executions: start, stop, approve, retry a stage, roll a stage back.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::api::{CALLER, load, stage_not_found};
use super::declaration::{self, actions, stage_index, stages};
use super::engine::{self, Start};
use super::model::{
    Execution, Position, Stop, executions, find_execution, put_execution, put_pipeline, validation,
};
use crate::protocol::{Input, ServiceError, ts};
use crate::service::Ctx;

pub fn start_execution(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("name")?;
    let mut p = load(ctx, name)?;
    let v2 = declaration::str_of(p.declaration(), "pipelineType", "V1") == "V2";
    let token = input.str("clientRequestToken").map(str::to_string);
    if let Some(t) = &token
        && let Some(e) = executions(ctx.store, name)?
            .into_iter()
            .find(|e| e.client_token.as_deref() == Some(t))
    {
        return Ok(json!({ "pipelineExecutionId": e.id }));
    }
    let mut variables = Vec::new();
    for v in input.list("variables") {
        variables.push((
            v.required_str("name")?.to_string(),
            v.required_str("value")?.to_string(),
        ));
    }
    let declared: Vec<String> = p
        .declaration()
        .get("variables")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if !variables.is_empty() && !v2 {
        return Err(validation(
            "Pipeline variables are only supported for pipeline type V2",
        ));
    }
    if let Some((n, _)) = variables.iter().find(|(n, _)| !declared.contains(n)) {
        return Err(validation(format!(
            "Variable '{n}' is not declared in pipeline '{name}'"
        )));
    }
    let source_actions: Vec<String> = stages(p.declaration())
        .first()
        .map(|s| actions(s).iter().map(|a| a.name().to_string()).collect())
        .unwrap_or_default();
    let mut overrides = BTreeMap::new();
    for r in input.list("sourceRevisions") {
        let action = r.required_str("actionName")?;
        let kind = r.required_str("revisionType")?;
        let value = r.required_str("revisionValue")?;
        if !v2 {
            return Err(validation(
                "Source revision overrides are only supported for pipeline type V2",
            ));
        }
        if !source_actions.iter().any(|a| a == action) {
            return Err(validation(format!(
                "Source action '{action}' does not exist in pipeline '{name}'"
            )));
        }
        if kind != "COMMIT_ID" {
            return Err(validation(format!(
                "Revision type {kind} is not supported by the emulator's git sources (use COMMIT_ID)"
            )));
        }
        overrides.insert(action.to_string(), value.to_string());
    }
    let e = engine::create(
        ctx,
        &mut p,
        Start {
            trigger_type: "StartPipelineExecution".into(),
            trigger_detail: CALLER.into(),
            variables,
            overrides,
            client_token: token,
        },
    );
    ctx.store.write(|tx| {
        put_pipeline(tx, &p)?;
        put_execution(tx, &e)
    })?;
    Ok(json!({ "pipelineExecutionId": e.id }))
}

pub fn stop_execution(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("pipelineName")?;
    let id = input.required_str("pipelineExecutionId")?;
    let abandon = input.bool("abandon").unwrap_or(false);
    let reason = input.str("reason").map(str::to_string);
    if reason.as_ref().is_some_and(|r| r.len() > 200) {
        return Err(validation(
            "1 validation error detected: Value at 'reason' failed to satisfy constraint: Member must have length less than or equal to 200",
        ));
    }
    load(ctx, name)?;
    let mut e = find_execution(ctx.store, name, id)?;
    match (e.status.as_str(), &e.stop) {
        ("InProgress", _) => {}
        ("Stopping", Some(s)) if !s.abandon && abandon => {}
        ("Stopping", _) => {
            return Err(ServiceError::new(
                "DuplicatedStopRequestException",
                format!("Execution {id} is already being stopped"),
            ));
        }
        _ => {
            return Err(ServiceError::new(
                "PipelineExecutionNotStoppableException",
                format!(
                    "Unable to stop pipeline execution {id}: it is {} and no longer in progress",
                    e.status
                ),
            ));
        }
    }
    let now = ctx.clock.now();
    e.stop = Some(Stop { abandon, reason });
    e.updated = now;
    let s = e.at.stage;
    if abandon {
        let current: Vec<usize> = e
            .stages
            .get(s)
            .map(|st| st.current.values().copied().collect())
            .unwrap_or_default();
        for k in current {
            if let Some(run) = e.actions.get_mut(k)
                && run.in_progress()
            {
                run.status = "Abandoned".into();
                run.updated = now;
                run.deadline = None;
            }
        }
        e.status = "Stopped".into();
        if e.at.entered {
            set_stage(&mut e, s, "Stopped", now);
        }
    } else {
        e.status = "Stopping".into();
        if e.at.entered {
            set_stage(&mut e, s, "Stopping", now);
        }
    }
    ctx.store.write(|tx| put_execution(tx, &e))?;
    Ok(json!({ "pipelineExecutionId": e.id }))
}

fn set_stage(e: &mut Execution, s: usize, status: &str, now: f64) {
    if let Some(st) = e.stages.get_mut(s) {
        st.status = Some(status.into());
        st.changed = now;
    }
}

fn invalid_token() -> ServiceError {
    ServiceError::new(
        "InvalidApprovalTokenException",
        "The approval request already received a response or has expired.",
    )
}

pub fn put_approval_result(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("pipelineName")?;
    let stage = input.required_str("stageName")?;
    let action = input.required_str("actionName")?;
    let token = input.required_str("token")?;
    let result = input
        .object("result")
        .ok_or_else(|| validation("1 validation error detected: Value null at 'result' failed to satisfy constraint: Member must not be null"))?;
    let status = result.required_str("status")?;
    if !matches!(status, "Approved" | "Rejected") {
        return Err(validation(format!(
            "Value '{status}' at 'result.status' failed to satisfy constraint: Member must satisfy enum value set: [Approved, Rejected]"
        )));
    }
    let summary = result.str("summary").unwrap_or("").to_string();
    if summary.len() > 512 {
        return Err(validation(
            "Value at 'result.summary' failed to satisfy constraint: Member must have length less than or equal to 512",
        ));
    }
    let p = load(ctx, name)?;
    let Some(si) = stage_index(p.declaration(), stage) else {
        return Err(stage_not_found(stage, name));
    };
    if !actions(&stages(p.declaration())[si])
        .iter()
        .any(|a| a.name() == action)
    {
        return Err(ServiceError::new(
            "ActionNotFoundException",
            format!("Action '{action}' not found in stage '{stage}' of pipeline '{name}'"),
        ));
    }
    let now = ctx.clock.now();
    for mut e in executions(ctx.store, name)?.into_iter().rev() {
        let Some(k) = e.actions.iter().position(|r| {
            r.token.as_deref() == Some(token) && r.stage == stage && r.action == action
        }) else {
            continue;
        };
        if !e.active() && e.actions[k].in_progress() {
            return Err(invalid_token());
        }
        let run = &mut e.actions[k];
        if !run.in_progress() {
            return Err(if run.updated_by.is_some() {
                ServiceError::new(
                    "ApprovalAlreadyCompletedException",
                    format!(
                        "The approval action {action} has already been {}",
                        run.status.to_lowercase()
                    ),
                )
            } else {
                invalid_token()
            });
        }
        run.status = if status == "Approved" {
            "Succeeded"
        } else {
            "Failed"
        }
        .into();
        run.summary = Some(summary.clone());
        run.updated = now;
        run.updated_by = Some(CALLER.into());
        run.deadline = None;
        if status == "Rejected" {
            run.error = Some(super::model::ErrorDetail {
                code: "JobFailed".into(),
                message: format!("Rejected by {CALLER}: {summary}"),
            });
        }
        let done = run.clone();
        engine::absorb(&mut e, &done);
        e.updated = now;
        ctx.store.write(|tx| put_execution(tx, &e))?;
        return Ok(json!({ "approvedAt": ts(now) }));
    }
    Err(invalid_token())
}

pub fn retry_stage(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("pipelineName")?;
    let stage = input.required_str("stageName")?;
    let id = input.required_str("pipelineExecutionId")?;
    let mode = input.required_str("retryMode")?;
    if !matches!(mode, "FAILED_ACTIONS" | "ALL_ACTIONS") {
        return Err(validation(format!(
            "Value '{mode}' at 'retryMode' failed to satisfy constraint: Member must satisfy enum value set: [FAILED_ACTIONS, ALL_ACTIONS]"
        )));
    }
    let p = load(ctx, name)?;
    let Some(si) = stage_index(p.declaration(), stage) else {
        return Err(stage_not_found(stage, name));
    };
    let all = executions(ctx.store, name)?;
    let mut e = find_execution(ctx.store, name, id)?;
    let not_retryable = |m: String| ServiceError::new("StageNotRetryableException", m);
    let stage_status = e.stages.get(si).and_then(|s| s.status.clone());
    if !matches!(stage_status.as_deref(), Some("Failed" | "Stopped"))
        || !matches!(e.status.as_str(), "Failed" | "Stopped")
    {
        return Err(not_retryable(format!(
            "Stage {stage} of execution {id} has no failed actions to retry"
        )));
    }
    if e.version != p.version {
        return Err(not_retryable(format!(
            "The pipeline structure changed since execution {id} ran stage {stage}"
        )));
    }
    let entered_later =
        |o: &Execution| o.seq > e.seq && o.stages.get(si).is_some_and(|s| s.status.is_some());
    if all.iter().any(entered_later) {
        return Err(ServiceError::new(
            "NotLatestPipelineExecutionException",
            format!("Stage {stage} has run in a later execution than {id}"),
        ));
    }
    let running = all.iter().any(|o| {
        o.id != e.id && o.active() && o.at.stage == si && o.at.entered && e.mode != "PARALLEL"
    });
    if running {
        return Err(ServiceError::new(
            "ConflictException",
            format!("Stage {stage} is running another execution"),
        )
        .with_status(409));
    }
    let now = ctx.clock.now();
    let st = &mut e.stages[si];
    st.reset_for_retry(mode, &e.actions);
    st.manual_retries += 1;
    st.last_retry = Some("ManualStageRetry".into());
    st.status = Some("InProgress".into());
    st.changed = now;
    e.status = "InProgress".into();
    e.summary = None;
    e.stop = None;
    e.at = Position {
        stage: si,
        entered: true,
    };
    e.updated = now;
    ctx.store.write(|tx| put_execution(tx, &e))?;
    Ok(json!({ "pipelineExecutionId": e.id }))
}

pub fn rollback_stage(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("pipelineName")?;
    let stage = input.required_str("stageName")?;
    let target_id = input.required_str("targetPipelineExecutionId")?;
    let mut p = load(ctx, name)?;
    let decl = p.declaration().clone();
    let unable = |m: String| ServiceError::new("UnableToRollbackStageException", m);
    if declaration::str_of(&decl, "pipelineType", "V1") != "V2" {
        return Err(validation(
            "Stage rollback is only supported for V2 pipelines",
        ));
    }
    if declaration::str_of(&decl, "executionMode", "SUPERSEDED") == "PARALLEL" {
        return Err(validation(
            "Stage rollback is not supported for pipelines in PARALLEL execution mode",
        ));
    }
    let Some(si) = stage_index(&decl, stage) else {
        return Err(stage_not_found(stage, name));
    };
    if si == 0 {
        return Err(unable(format!("Cannot roll back the source stage {stage}")));
    }
    let all = executions(ctx.store, name)?;
    let target = find_execution(ctx.store, name, target_id)?;
    if target.kind == "ROLLBACK" {
        return Err(unable(format!(
            "Execution {target_id} is itself a rollback and cannot be a rollback target"
        )));
    }
    if target.stages.get(si).and_then(|s| s.status.as_deref()) != Some("Succeeded") {
        return Err(unable(format!(
            "Execution {target_id} did not succeed in stage {stage}"
        )));
    }
    if target.version != p.version {
        return Err(ServiceError::new(
            "PipelineExecutionOutdatedException",
            format!(
                "Execution {target_id} ran on pipeline version {} but the pipeline is at version {}",
                target.version, p.version
            ),
        ));
    }
    if all
        .iter()
        .any(|o| o.active() && o.at.stage == si && o.at.entered)
    {
        return Err(unable(format!("Stage {stage} is currently running")));
    }
    let latest = all
        .iter()
        .filter(|o| o.stages.get(si).is_some_and(|s| s.status.is_some()))
        .max_by_key(|o| o.seq);
    if latest.is_some_and(|l| l.id == target.id) {
        return Err(unable(format!(
            "Execution {target_id} is already the latest execution of stage {stage}"
        )));
    }
    let e = engine::rollback(ctx, &mut p, &target, si, "ManualRollback", CALLER.into());
    ctx.store.write(|tx| {
        put_pipeline(tx, &p)?;
        put_execution(tx, &e)
    })?;
    Ok(json!({ "pipelineExecutionId": e.id }))
}
