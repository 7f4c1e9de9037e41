//! The execution engine: each tick moves every active execution through its stages —
//! transitions, execution modes (SUPERSEDED, QUEUED, PARALLEL), runOrder groups, stop, failure
//! with automatic rollback — and starts executions when a source branch moves.

use std::sync::Arc;

use serde_json::Value;

use super::declaration::{
    actions, retry_on_failure, rollback_on_failure, stage_name, stages, str_of,
};
use super::executors;
use super::model::{
    ActionRun, EXECUTION, ErrorDetail, Execution, PipelineDoc, Position, SVC, StageRun, parse,
    put_execution, put_pipeline,
};
use super::source;
use crate::protocol::ServiceError;
use crate::service::Ctx;

/// Why an execution starts and with what.
#[derive(Debug, Clone, Default)]
pub struct Start {
    pub trigger_type: String,
    pub trigger_detail: String,
    pub variables: Vec<(String, String)>,
    pub overrides: std::collections::BTreeMap<String, String>,
    pub client_token: Option<String>,
}

/// A new STANDARD execution of the current version, waiting to enter the first stage.
pub fn create(ctx: &Ctx<'_>, p: &mut PipelineDoc, start: Start) -> Execution {
    let now = ctx.clock.now();
    let decl = p.declaration().clone();
    let mut variables: Vec<(String, String)> = decl
        .get("variables")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter_map(|v| {
                    let name = v.get("name")?.as_str()?.to_string();
                    let value = v
                        .get("defaultValue")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    Some((name, value))
                })
                .collect()
        })
        .unwrap_or_default();
    for (n, v) in start.variables {
        match variables.iter_mut().find(|(k, _)| *k == n) {
            Some(slot) => slot.1 = v,
            None => variables.push((n, v)),
        }
    }
    let seq = p.next_seq;
    p.next_seq += 1;
    Execution {
        id: uuid::Uuid::new_v4().to_string(),
        pipeline: p.name.clone(),
        seq,
        version: p.version,
        status: "InProgress".into(),
        summary: None,
        start: now,
        updated: now,
        trigger_type: start.trigger_type,
        trigger_detail: start.trigger_detail,
        mode: str_of(&decl, "executionMode", "SUPERSEDED").to_string(),
        kind: "STANDARD".into(),
        rollback_target: None,
        stop: None,
        client_token: start.client_token,
        variables,
        overrides: start.overrides,
        revisions: Vec::new(),
        artifacts: Default::default(),
        outputs: Default::default(),
        at: Position {
            stage: 0,
            entered: false,
        },
        only_stage: None,
        stages: stages(&decl)
            .iter()
            .map(|s| StageRun {
                name: stage_name(s).to_string(),
                ..Default::default()
            })
            .collect(),
        actions: Vec::new(),
    }
}

/// A ROLLBACK execution that re-runs stage `stage` with `target`'s artifacts and variables.
pub fn rollback(
    ctx: &Ctx<'_>,
    p: &mut PipelineDoc,
    target: &Execution,
    stage: usize,
    trigger: &str,
    detail: String,
) -> Execution {
    let mut e = create(
        ctx,
        p,
        Start {
            trigger_type: trigger.into(),
            trigger_detail: detail,
            ..Default::default()
        },
    );
    e.kind = "ROLLBACK".into();
    e.rollback_target = Some(target.id.clone());
    e.variables = target.variables.clone();
    e.revisions = target.revisions.clone();
    e.artifacts = target.artifacts.clone();
    e.outputs = target.outputs.clone();
    e.at = Position {
        stage,
        entered: false,
    };
    e.only_stage = Some(stage);
    e
}

pub fn tick(ctx: &Ctx<'_>) -> Result<bool, ServiceError> {
    let pipelines = ctx.store.documents(SVC, super::model::PIPELINE)?;
    let mut changed = false;
    for doc in pipelines.values() {
        let mut p: PipelineDoc = parse(doc)?;
        changed |= detect_changes(ctx, &mut p)?;
        changed |= advance(ctx, &mut p)?;
    }
    Ok(changed)
}

/// Starts an execution when a source branch head moved (unless the pipeline is tagged
/// `pipetui:trigger=manual`: the tag, not PollForSourceChanges/DetectChanges, decides).
fn detect_changes(ctx: &Ctx<'_>, p: &mut PipelineDoc) -> Result<bool, ServiceError> {
    if p.manual_trigger() {
        return Ok(false);
    }
    let decl = p.declaration().clone();
    let Some(first) = stages(&decl).first() else {
        return Ok(false);
    };
    let mut moved: Option<(String, String)> = None;
    let mut heads_changed = false;
    for a in actions(first) {
        let [_, _, provider, _] = a.type_id();
        let Some((repo, branch)) = source::repo_of(&provider, &a.configuration()) else {
            continue;
        };
        let Some(head) = ctx
            .emulator
            .settings
            .source_repo(&repo)
            .ok()
            .and_then(|r| source::head(&r, &branch))
        else {
            continue;
        };
        match p.heads.get(a.name()) {
            Some(seen) if *seen == head => continue,
            Some(_) => {
                let kind = match provider.as_str() {
                    "CodeCommit" => "CloudWatchEvent",
                    "GitHub" => "Webhook",
                    _ => "WebhookV2",
                };
                moved = Some((kind.to_string(), head.clone()));
            }
            None => {}
        }
        p.heads.insert(a.name().to_string(), head);
        heads_changed = true;
    }
    if !heads_changed {
        return Ok(false);
    }
    let exec = moved.map(|(trigger_type, trigger_detail)| {
        create(
            ctx,
            p,
            Start {
                trigger_type,
                trigger_detail,
                ..Default::default()
            },
        )
    });
    ctx.store.write(|tx| {
        put_pipeline(tx, p)?;
        if let Some(e) = &exec {
            put_execution(tx, e)?;
        }
        Ok(())
    })?;
    if let Some(e) = &exec {
        tracing::debug!(pipeline = %p.name, execution = %e.id, "source change started an execution");
    }
    Ok(exec.is_some())
}

/// The raw execution documents of `pipeline`, oldest first.
fn raw_executions(ctx: &Ctx<'_>, pipeline: &str) -> Result<Vec<Arc<Value>>, ServiceError> {
    let docs = ctx.store.documents(SVC, EXECUTION)?;
    let prefix = format!("{pipeline}/");
    Ok(docs
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .map(|(_, v)| v.clone())
        .collect())
}

fn is_active(v: &Value) -> bool {
    matches!(
        v.get("status").and_then(Value::as_str),
        Some("InProgress" | "Stopping")
    )
}

/// Latest execution (by seq) that entered each stage.
fn entered_max(raw: &[Arc<Value>], stage_count: usize) -> Vec<Option<u64>> {
    let mut out = vec![None; stage_count];
    for v in raw {
        let seq = v.get("seq").and_then(Value::as_u64).unwrap_or(0);
        if let Some(st) = v.get("stages").and_then(Value::as_array) {
            for (i, s) in st.iter().enumerate().take(stage_count) {
                if s.get("status").is_some_and(|x| !x.is_null()) {
                    out[i] = Some(out[i].map_or(seq, |m: u64| m.max(seq)));
                }
            }
        }
    }
    out
}

fn advance(ctx: &Ctx<'_>, p: &mut PipelineDoc) -> Result<bool, ServiceError> {
    let raw = raw_executions(ctx, &p.name)?;
    let mut execs: Vec<Execution> = raw
        .iter()
        .filter(|v| is_active(v))
        .map(|v| parse(v))
        .collect::<Result<_, _>>()?;
    if execs.is_empty() {
        return Ok(false);
    }
    let stage_count = stages(p.declaration())
        .len()
        .max(execs.iter().map(|e| e.stages.len()).max().unwrap_or(0));
    let mut entered = entered_max(&raw, stage_count);
    let mut dirty = vec![false; execs.len()];
    let mut created_any = false;
    for _pass in 0..16 {
        let mut any = false;
        let mut created = Vec::new();
        for i in 0..execs.len() {
            if !execs[i].active() {
                continue;
            }
            if step(ctx, p, &mut execs, i, &mut entered, &raw, &mut created)? {
                dirty[i] = true;
                any = true;
            }
        }
        for c in created {
            execs.push(c);
            dirty.push(true);
            any = true;
            created_any = true;
        }
        if !any {
            break;
        }
    }
    if !dirty.iter().any(|d| *d) {
        return Ok(false);
    }
    ctx.store.write(|tx| {
        if created_any {
            put_pipeline(tx, p)?;
        }
        for (e, d) in execs.iter().zip(&dirty) {
            if *d {
                put_execution(tx, e)?;
            }
        }
        Ok(())
    })?;
    Ok(true)
}

/// An action run that finished well hands its artifacts and variables to the execution.
pub fn absorb(e: &mut Execution, run: &ActionRun) {
    if run.status != "Succeeded" {
        return;
    }
    for o in &run.outputs {
        e.artifacts.insert(o.name.clone(), o.clone());
    }
    if let Some(ns) = &run.namespace {
        e.outputs.insert(ns.clone(), run.output_variables.clone());
    }
}

fn set_stage(e: &mut Execution, s: usize, status: &str, now: f64) {
    if let Some(st) = e.stages.get_mut(s) {
        st.status = Some(status.to_string());
        st.changed = now;
    }
    e.updated = now;
}

fn step(
    ctx: &Ctx<'_>,
    p: &mut PipelineDoc,
    execs: &mut [Execution],
    i: usize,
    entered: &mut [Option<u64>],
    raw: &[Arc<Value>],
    created: &mut Vec<Execution>,
) -> Result<bool, ServiceError> {
    let now = ctx.clock.now();
    let Some(decl) = p.declaration_at(execs[i].version).cloned() else {
        return Ok(false);
    };
    let s = execs[i].at.stage;
    let Some(stage_decl) = stages(&decl).get(s).cloned() else {
        execs[i].status = "Succeeded".into();
        execs[i].updated = now;
        return Ok(true);
    };
    let sname = stage_name(&stage_decl).to_string();
    if !execs[i].at.entered {
        if execs[i].status == "Stopping" {
            execs[i].status = "Stopped".into();
            execs[i].updated = now;
            return Ok(true);
        }
        let me = execs[i].seq;
        let mode = execs[i].mode.clone();
        let others_at = |pred: &dyn Fn(&Execution) -> bool| {
            execs
                .iter()
                .any(|o| o.seq != me && o.active() && o.at.stage == s && pred(o))
        };
        if mode == "SUPERSEDED"
            && (others_at(&|o| o.seq > me) || entered.get(s).copied().flatten() > Some(me))
        {
            execs[i].status = "Superseded".into();
            execs[i].summary = Some("A newer pipeline execution superseded this one".into());
            execs[i].updated = now;
            return Ok(true);
        }
        if s > 0 && !p.inbound_enabled(&sname) {
            return Ok(false);
        }
        let wait = match mode.as_str() {
            "PARALLEL" => false,
            "QUEUED" => others_at(&|o| o.at.entered || o.seq < me),
            _ => others_at(&|o| o.at.entered),
        };
        if wait {
            return Ok(false);
        }
        let e = &mut execs[i];
        e.at.entered = true;
        if let Some(st) = e.stages.get_mut(s) {
            st.current.clear();
        }
        set_stage(e, s, "InProgress", now);
        if let Some(slot) = entered.get_mut(s) {
            *slot = Some(slot.map_or(me, |m| m.max(me)));
        }
        return Ok(true);
    }
    let e = &mut execs[i];
    if e.stages.len() <= s {
        // An execution always has a run per stage of its version; a short one is corrupt.
        return Ok(false);
    }
    let mut changed = false;
    let current: Vec<usize> = e
        .stages
        .get(s)
        .map(|st| st.current.values().copied().collect())
        .unwrap_or_default();
    for k in current {
        if let Some(run) = e.actions.get_mut(k)
            && run.in_progress()
            && executors::poll(ctx, run)?
        {
            changed = true;
            let run = run.clone();
            absorb(e, &run);
        }
    }
    let in_progress = e.current_actions(s).any(ActionRun::in_progress);
    if e.status == "Stopping" {
        if in_progress {
            return Ok(changed);
        }
        set_stage(e, s, "Stopped", now);
        e.status = "Stopped".into();
        return Ok(true);
    }
    let acts = actions(&stage_decl);
    let mut orders: Vec<i64> = acts.iter().map(|a| a.run_order()).collect();
    orders.sort_unstable();
    orders.dedup();
    let mut outcome = "Succeeded";
    for o in orders {
        let group: Vec<_> = acts.iter().filter(|a| a.run_order() == o).collect();
        let status_of = |e: &Execution, name: &str| {
            e.stages[s]
                .current
                .get(name)
                .and_then(|&k| e.actions.get(k))
                .map(|r| r.status.clone())
        };
        let states: Vec<Option<String>> = group.iter().map(|a| status_of(e, a.name())).collect();
        if states.iter().all(|st| st.as_deref() == Some("Succeeded")) {
            continue;
        }
        if states.iter().any(Option::is_none) {
            for (a, st) in group.iter().zip(&states) {
                if st.is_none() {
                    let run = executors::start(ctx, &decl, e, &sname, **a);
                    absorb(e, &run);
                    e.actions.push(run);
                    let idx = e.actions.len() - 1;
                    e.stages[s].current.insert(a.name().to_string(), idx);
                }
            }
            e.updated = now;
            return Ok(true);
        }
        outcome = if states.iter().any(|st| st.as_deref() == Some("InProgress")) {
            "InProgress"
        } else {
            "Failed"
        };
        break;
    }
    match outcome {
        "InProgress" => Ok(changed),
        "Succeeded" => {
            set_stage(e, s, "Succeeded", now);
            if s >= e.last_stage() {
                e.status = "Succeeded".into();
                e.summary = None;
            } else {
                e.at = Position {
                    stage: s + 1,
                    entered: false,
                };
            }
            Ok(true)
        }
        _ => {
            // V2 automatic stage retry: once, then the failure stands.
            if let Some(mode) = retry_on_failure(&stage_decl)
                && e.stages[s].auto_retries == 0
            {
                let st = &mut e.stages[s];
                st.reset_for_retry(mode, &e.actions);
                st.auto_retries += 1;
                st.last_retry = Some("AutomatedStageRetry".into());
                e.updated = now;
                tracing::debug!(pipeline = %p.name, stage = %sname, "automatic stage retry");
                return Ok(true);
            }
            set_stage(e, s, "Failed", now);
            e.status = "Failed".into();
            let why = e
                .current_actions(s)
                .find_map(|r| r.error.as_ref().map(|x| x.message.clone()));
            e.summary = why;
            let auto = rollback_on_failure(&stage_decl)
                && str_of(&decl, "pipelineType", "V1") == "V2"
                && e.mode != "PARALLEL"
                && e.kind == "STANDARD";
            if auto {
                let failed = e.clone();
                if let Some(target) = rollback_target(raw, &failed, s)? {
                    let rb = rollback(ctx, p, &target, s, "AutomatedRollback", failed.id.clone());
                    tracing::debug!(pipeline = %p.name, stage = %sname, target = %target.id, "automatic stage rollback");
                    created.push(rb);
                }
            }
            Ok(true)
        }
    }
}

/// The most recent STANDARD execution of the same version that succeeded in stage `s`.
fn rollback_target(
    raw: &[Arc<Value>],
    failed: &Execution,
    s: usize,
) -> Result<Option<Execution>, ServiceError> {
    for v in raw.iter().rev() {
        let ok = v
            .pointer(&format!("/stages/{s}/status"))
            .and_then(Value::as_str)
            == Some("Succeeded")
            && v.get("kind").and_then(Value::as_str) == Some("STANDARD")
            && v.get("version").and_then(Value::as_i64) == Some(failed.version)
            && v.get("id").and_then(Value::as_str) != Some(failed.id.as_str());
        if ok {
            return parse(v).map(Some);
        }
    }
    Ok(None)
}

/// Restart resolution: actions that were running when the previous process stopped fail
/// visibly, and so do their executions (which RetryStageExecution can then resume).
pub fn recover(ctx: &Ctx<'_>) -> Result<(), ServiceError> {
    let docs = ctx.store.documents(SVC, EXECUTION)?;
    let now = ctx.clock.now();
    let mut changed = Vec::new();
    for v in docs.values().filter(|v| is_active(v)) {
        let mut e: Execution = parse(v)?;
        if !e.at.entered {
            continue;
        }
        let s = e.at.stage;
        let current: Vec<usize> = e
            .stages
            .get(s)
            .map(|st| st.current.values().copied().collect())
            .unwrap_or_default();
        // A manual approval has nothing running behind it: it keeps waiting, token and
        // deadline intact, unless something else in its stage was interrupted and fails it.
        let interrupted = current.iter().any(|&k| {
            e.actions
                .get(k)
                .is_some_and(|r| r.in_progress() && r.category() != "Approval")
        });
        if !interrupted {
            continue;
        }
        let mut hit = false;
        for k in current {
            if let Some(run) = e.actions.get_mut(k)
                && run.in_progress()
            {
                run.status = "Failed".into();
                run.updated = now;
                run.deadline = None;
                run.error = Some(ErrorDetail {
                    code: "JobFailed".into(),
                    message: RESTARTED.into(),
                });
                hit = true;
            }
        }
        if hit {
            set_stage(&mut e, s, "Failed", now);
            e.status = "Failed".into();
            e.summary = Some(RESTARTED.into());
            changed.push(e);
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    tracing::info!(
        count = changed.len(),
        "pipeline executions interrupted by a restart marked Failed"
    );
    ctx.store.write(|tx| {
        for e in &changed {
            put_execution(tx, e)?;
        }
        Ok(())
    })
}

pub const RESTARTED: &str = "The emulator restarted while this action was running";
