//! Pipeline CRUD, tags and stage transitions.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::declaration::{self, stage_index};
use super::engine::{self, Start};
use super::model::{
    PIPELINE, PipelineDoc, SVC, Transition, get_pipeline, not_found, parse, put_execution,
    put_pipeline, validation,
};
use crate::protocol::{Input, ServiceError, ts};
use crate::service::Ctx;

pub const CALLER: &str = "arn:aws:iam::000000000000:user/pipetui";

fn tags_of(input: &Input<'_>, key: &str) -> Result<BTreeMap<String, String>, ServiceError> {
    let mut out = BTreeMap::new();
    for t in input.list(key) {
        let k = t.required_str("key")?;
        if k.starts_with("aws:") {
            return Err(ServiceError::new(
                "InvalidTagsException",
                "Tag keys starting with 'aws:' are reserved",
            ));
        }
        out.insert(k.to_string(), t.str("value").unwrap_or("").to_string());
    }
    if out.len() > 50 {
        return Err(ServiceError::new(
            "TooManyTagsException",
            "A pipeline can have at most 50 tags",
        ));
    }
    Ok(out)
}

fn tag_list(tags: &BTreeMap<String, String>) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| json!({ "key": k, "value": v }))
            .collect(),
    )
}

/// Creates a pipeline and, as AWS does, starts its first execution (trigger CreatePipeline).
pub fn create_pipeline(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let decl = input
        .get("pipeline")
        .ok_or_else(|| validation("1 validation error detected: Value null at 'pipeline' failed to satisfy constraint: Member must not be null"))?;
    let decl = declaration::normalize(decl, 1)?;
    let name = declaration::str_of(&decl, "name", "").to_string();
    let tags = tags_of(&input, "tags")?;
    if ctx.store.document(SVC, PIPELINE, &name)?.is_some() {
        return Err(ServiceError::new(
            "PipelineNameInUseException",
            format!("A pipeline with the name '{name}' already exists in account '000000000000'"),
        ));
    }
    let now = ctx.clock.now();
    let mut p = PipelineDoc {
        name: name.clone(),
        versions: BTreeMap::from([(1, decl.clone())]),
        version: 1,
        created: now,
        updated: now,
        tags,
        transitions: BTreeMap::new(),
        heads: BTreeMap::new(),
        next_seq: 1,
    };
    remember_heads(ctx, &mut p);
    let first = engine::create(
        ctx,
        &mut p,
        Start {
            trigger_type: "CreatePipeline".into(),
            trigger_detail: CALLER.into(),
            ..Default::default()
        },
    );
    ctx.store.write(|tx| {
        if tx.get(SVC, PIPELINE, &name)?.is_some() {
            return Err(ServiceError::new(
                "PipelineNameInUseException",
                format!("A pipeline with the name '{name}' already exists"),
            ));
        }
        put_pipeline(tx, &p)?;
        put_execution(tx, &first)
    })?;
    Ok(json!({ "pipeline": decl, "tags": tag_list(&p.tags) }))
}

/// Records the source heads now, so only later commits count as changes.
fn remember_heads(ctx: &Ctx<'_>, p: &mut PipelineDoc) {
    let decl = p.declaration().clone();
    if let Some(first) = declaration::stages(&decl).first() {
        for a in declaration::actions(first) {
            let [_, _, provider, _] = a.type_id();
            if let Some((repo, branch)) = super::source::repo_of(&provider, &a.configuration())
                && let Some(head) = ctx
                    .emulator
                    .settings
                    .source_repo(&repo)
                    .ok()
                    .and_then(|r| super::source::head(&r, &branch))
            {
                p.heads.insert(a.name().to_string(), head);
            }
        }
    }
}

pub fn update_pipeline(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let given = input
        .get("pipeline")
        .ok_or_else(|| validation("1 validation error detected: Value null at 'pipeline' failed to satisfy constraint: Member must not be null"))?;
    let name = given
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut p: PipelineDoc = ctx.store.read(|tx| get_pipeline(tx, name))?;
    if let Some(v) = given.get("version").and_then(Value::as_i64)
        && v != p.version
    {
        return Err(ServiceError::new(
            "InvalidStructureException",
            format!(
                "The pipeline version {v} does not match the current version {}",
                p.version
            ),
        ));
    }
    let version = p.version + 1;
    let decl = declaration::normalize(given, version)?;
    let now = ctx.clock.now();
    p.versions.insert(version, decl.clone());
    p.version = version;
    p.updated = now;
    // Executions still running on the old definition are cancelled (AWS's Cancelled status).
    let mut cancelled = Vec::new();
    for mut e in super::model::executions(ctx.store, name)?
        .into_iter()
        .filter(|e| e.active())
    {
        for run in e.actions.iter_mut().filter(|r| r.in_progress()) {
            run.status = "Abandoned".into();
            run.updated = now;
            run.deadline = None;
        }
        if e.at.entered
            && let Some(st) = e.stages.get_mut(e.at.stage)
        {
            st.status = Some("Cancelled".into());
            st.changed = now;
        }
        e.status = "Cancelled".into();
        e.summary =
            Some("The pipeline definition was updated before this execution completed".into());
        e.updated = now;
        cancelled.push(e);
    }
    let restart = given
        .get("restartExecutionOnUpdate")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let next = restart.then(|| {
        engine::create(
            ctx,
            &mut p,
            Start {
                trigger_type: "StartPipelineExecution".into(),
                trigger_detail: CALLER.into(),
                ..Default::default()
            },
        )
    });
    ctx.store.write(|tx| {
        put_pipeline(tx, &p)?;
        for e in cancelled.iter().chain(next.iter()) {
            put_execution(tx, e)?;
        }
        Ok(())
    })?;
    Ok(json!({ "pipeline": decl }))
}

pub fn delete_pipeline(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("name")?;
    let execs = super::model::executions(ctx.store, name)?;
    ctx.store.write(|tx| {
        tx.delete(SVC, PIPELINE, name)?;
        for e in &execs {
            tx.delete(SVC, super::model::EXECUTION, &e.key())?;
        }
        Ok(())
    })?;
    Ok(json!({}))
}

pub fn load(ctx: &Ctx<'_>, name: &str) -> Result<PipelineDoc, ServiceError> {
    match ctx.store.document(SVC, PIPELINE, name)? {
        Some(v) => parse(&v),
        None => Err(not_found(name)),
    }
}

pub fn get_pipeline_op(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("name")?;
    let p = load(ctx, name)?;
    let decl = match input.i64("version") {
        Some(v) => p.declaration_at(v).cloned().ok_or_else(|| {
            ServiceError::new(
                "PipelineVersionNotFoundException",
                format!("Pipeline '{name}' does not have version {v}"),
            )
        })?,
        None => p.declaration().clone(),
    };
    Ok(json!({
        "pipeline": decl,
        "metadata": {
            "pipelineArn": ctx.arn("codepipeline", name),
            "created": ts(p.created),
            "updated": ts(p.updated),
        }
    }))
}

pub fn list_pipelines(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let max = input.i64("maxResults").unwrap_or(1000);
    if !(1..=1000).contains(&max) {
        return Err(validation(
            "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 1000",
        ));
    }
    let docs = ctx.store.documents(SVC, PIPELINE)?;
    let start = super::state::page_start(input.str("nextToken"), docs.len())?;
    let items: Vec<Value> = docs
        .values()
        .skip(start)
        .take(max as usize)
        .map(|v| {
            let p: PipelineDoc = parse(v)?;
            let d = p.declaration();
            Ok(json!({
                "name": p.name, "version": p.version,
                "pipelineType": declaration::str_of(d, "pipelineType", "V1"),
                "executionMode": declaration::str_of(d, "executionMode", "SUPERSEDED"),
                "created": ts(p.created), "updated": ts(p.updated),
            }))
        })
        .collect::<Result<_, ServiceError>>()?;
    let mut out = json!({ "pipelines": items });
    let next = start + max as usize;
    if next < docs.len() {
        out["nextToken"] = json!(super::state::token(next));
    }
    Ok(out)
}

/// The pipeline named by a resource ARN (`arn:aws:codepipeline:<region>:<account>:<name>`).
fn pipeline_of_arn(ctx: &Ctx<'_>, arn: &str) -> Result<PipelineDoc, ServiceError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "codepipeline" {
        return Err(ServiceError::new(
            "InvalidArnException",
            format!("The ARN {arn} is not valid"),
        ));
    }
    load(ctx, parts[5]).map_err(|_| {
        ServiceError::new(
            "ResourceNotFoundException",
            format!("The resource with the ARN {arn} was not found"),
        )
    })
}

pub fn list_tags(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let p = pipeline_of_arn(ctx, input.required_str("resourceArn")?)?;
    Ok(json!({ "tags": tag_list(&p.tags) }))
}

pub fn tag_resource(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let mut p = pipeline_of_arn(ctx, input.required_str("resourceArn")?)?;
    p.tags.extend(tags_of(&input, "tags")?);
    if p.tags.len() > 50 {
        return Err(ServiceError::new(
            "TooManyTagsException",
            "A pipeline can have at most 50 tags",
        ));
    }
    ctx.store.write(|tx| put_pipeline(tx, &p))?;
    Ok(json!({}))
}

pub fn untag_resource(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let mut p = pipeline_of_arn(ctx, input.required_str("resourceArn")?)?;
    for k in input.strings("tagKeys") {
        p.tags.remove(&k);
    }
    ctx.store.write(|tx| put_pipeline(tx, &p))?;
    Ok(json!({}))
}

/// EnableStageTransition / DisableStageTransition (Inbound holds executions before the stage).
pub fn set_transition(
    ctx: &Ctx<'_>,
    input: Input<'_>,
    enabled: bool,
) -> Result<Value, ServiceError> {
    let name = input.required_str("pipelineName")?;
    let stage = input.required_str("stageName")?;
    let kind = input.required_str("transitionType")?;
    if !matches!(kind, "Inbound" | "Outbound") {
        return Err(validation(format!(
            "Value '{kind}' at 'transitionType' failed to satisfy constraint: Member must satisfy enum value set: [Inbound, Outbound]"
        )));
    }
    let reason = if enabled {
        None
    } else {
        let r = input.required_str("reason")?;
        let ok = r.len() <= 300
            && r.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!@ ().*?-".contains(c));
        if !ok {
            return Err(validation(format!(
                "1 validation error detected: Value '{r}' at 'reason' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9!@ \\(\\)\\.\\*\\?\\-]+"
            )));
        }
        Some(r.to_string())
    };
    let mut p = load(ctx, name)?;
    let decl = p.declaration().clone();
    let Some(i) = stage_index(&decl, stage) else {
        return Err(stage_not_found(stage, name));
    };
    // An outbound transition of stage i is the inbound transition of stage i+1.
    let target = if kind == "Outbound" {
        declaration::stages(&decl)
            .get(i + 1)
            .map(declaration::stage_name)
            .ok_or_else(|| validation(format!("Stage {stage} has no outbound transition")))?
            .to_string()
    } else {
        stage.to_string()
    };
    p.transitions.insert(
        target,
        Transition {
            enabled,
            reason,
            changed_at: ctx.clock.now(),
            changed_by: CALLER.into(),
        },
    );
    ctx.store.write(|tx| put_pipeline(tx, &p))?;
    Ok(json!({}))
}

pub fn stage_not_found(stage: &str, pipeline: &str) -> ServiceError {
    ServiceError::new(
        "StageNotFoundException",
        format!("Stage '{stage}' not found in pipeline '{pipeline}'"),
    )
}
