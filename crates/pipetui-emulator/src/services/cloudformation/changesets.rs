//! Change sets: CreateChangeSet (CREATE makes a REVIEW_IN_PROGRESS stack), DescribeChangeSet,
//! ExecuteChangeSet, DeleteChangeSet, ListChangeSets. A change set is computed at once, so it
//! is CREATE_COMPLETE (or FAILED with no changes) by the time CreateChangeSet answers.

use serde_json::{Value, json};

use super::Request;
use super::eval::{Evaluated, check_capabilities, context, engine_err, parse, resolve_params};
use super::model::{
    CHANGE_SET, ChangeSet, NAME, SVC, Stack, load_change_set, save_change_set, stack_event,
};
use super::ops::{find_stack, new_stack, plan_update, start_create, start_update, updatable};
use super::progress::{advance, save_with_events};
use crate::cloudformation::engine::{self, Change};
use crate::protocol::{Input, ServiceError, ts};
use crate::service::Ctx;

const NO_CHANGES: &str = "The submitted information didn't contain changes. Submit different information to create a change set.";

pub(super) fn cs_not_found(name: &str) -> ServiceError {
    ServiceError::new(
        "ChangeSetNotFound",
        format!("ChangeSet [{name}] does not exist"),
    )
    .with_status(404)
}

fn invalid_status(message: String) -> ServiceError {
    ServiceError::new("InvalidChangeSetStatus", message)
}

fn change_sets_of(ctx: &Ctx<'_>, stack_id: &str) -> Result<Vec<ChangeSet>, ServiceError> {
    let mut out: Vec<ChangeSet> = ctx
        .store
        .read(|tx| tx.list(SVC, CHANGE_SET))?
        .into_iter()
        .filter_map(|(_, v)| serde_json::from_value::<ChangeSet>(v).ok())
        .filter(|c| c.stack_id == stack_id)
        .collect();
    out.sort_by(|a, b| a.creation_time.total_cmp(&b.creation_time));
    Ok(out)
}

/// The id of the change set a name (with its stack) or an ARN names.
pub(super) fn change_set_id(
    ctx: &Ctx<'_>,
    name_or_arn: &str,
    stack_name: Option<&str>,
) -> Result<String, ServiceError> {
    if name_or_arn.starts_with("arn:") {
        return Ok(name_or_arn.to_string());
    }
    let Some(stack_name) = stack_name else {
        return Err(ServiceError::validation(
            "StackName must be specified if ChangeSetName is not specified as an ARN.",
        ));
    };
    let stack = find_stack(ctx, stack_name)?.ok_or_else(|| cs_not_found(name_or_arn))?;
    change_sets_of(ctx, &stack.stack_id)?
        .into_iter()
        .find(|c| c.name == name_or_arn)
        .map(|c| c.id)
        .ok_or_else(|| cs_not_found(name_or_arn))
}

fn load(ctx: &Ctx<'_>, input: &Input<'_>) -> Result<ChangeSet, ServiceError> {
    let name = input.required_str("ChangeSetName")?;
    let id = change_set_id(ctx, name, input.str("StackName"))?;
    advance_stack_of(ctx, &id)?;
    ctx.store
        .read(|tx| load_change_set(tx, &id))?
        .ok_or_else(|| cs_not_found(name))
}

fn advance_stack_of(ctx: &Ctx<'_>, id: &str) -> Result<(), ServiceError> {
    if let Some(cs) = ctx.store.read(|tx| load_change_set(tx, id))? {
        advance(ctx, &cs.stack_id)?;
    }
    Ok(())
}

fn change_json(c: &Change) -> Value {
    let details: Vec<Value> = c
        .details
        .iter()
        .map(|d| {
            json!({
                "Target": {
                    "Attribute": d.attribute,
                    "Name": d.name,
                    "RequiresRecreation": d.requires_recreation.as_str(),
                },
                "Evaluation": d.evaluation.as_str(),
                "ChangeSource": d.change_source,
                "CausingEntity": d.causing_entity,
            })
        })
        .collect();
    json!({
        "Type": "Resource",
        "ResourceChange": {
            "Action": c.action.as_str(),
            "LogicalResourceId": c.logical_id,
            "PhysicalResourceId": c.physical_id,
            "ResourceType": c.resource_type,
            "Replacement": c.replacement.map(|r| r.as_str()),
            "Scope": c.scope,
            "Details": details,
        }
    })
}

fn check_cs_name(name: &str) -> Result<(), ServiceError> {
    let mut chars = name.chars();
    let ok = name.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ServiceError::validation(format!(
            "1 validation error detected: Value '{name}' at 'changeSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
        )))
    }
}

pub(super) fn create_change_set(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let stack_name = input.required_str("StackName")?;
    let cs_name = input.required_str("ChangeSetName")?;
    check_cs_name(cs_name)?;
    let cs_type = input.str("ChangeSetType").unwrap_or("UPDATE");
    let existing = find_stack(ctx, stack_name)?.filter(|s| !s.is_deleted());
    let now = ctx.clock.now();
    let (stack, req, changes, nothing, params, placeholder): (Stack, Request, _, _, _, _) =
        match cs_type {
            "CREATE" => {
                let req = Request::from_input(&input)?;
                let placeholder = match existing {
                    Some(s) if s.status == "REVIEW_IN_PROGRESS" => None,
                    Some(_) => {
                        return Err(ServiceError::validation(format!(
                            "Stack [{stack_name}] already exists and cannot be created again with the changeSet [{cs_name}]."
                        )));
                    }
                    None => {
                        super::ops::check_name(stack_name)?;
                        Some(new_stack(ctx, stack_name, &req, now))
                    }
                };
                let stack = match (&placeholder, find_stack(ctx, stack_name)?) {
                    (Some(p), _) => p.clone(),
                    (None, Some(s)) => s,
                    (None, None) => return Err(super::not_found(stack_name)),
                };
                let template = parse(&req.template_body)?;
                check_capabilities(&template, &req.capabilities)?;
                let params = resolve_params(&template, &req.params, &[])?;
                let ev = Evaluated::new(&req.template_body, &params, context(ctx, &stack)?)?;
                ev.order()?;
                let lookup = Default::default();
                let snap = engine::snapshot(&ev.template, &ev.scope(&lookup));
                let changes = engine::diff(&[], &snap).map_err(engine_err)?;
                (stack, req, changes, false, params, placeholder)
            }
            "UPDATE" => {
                let Some(stack) = existing.filter(|s| s.status != "REVIEW_IN_PROGRESS") else {
                    return Err(ServiceError::validation(format!(
                        "Stack [{stack_name}] does not exist"
                    )));
                };
                updatable(&stack)?;
                let req = Request::from_input_or_previous(&input, &stack)?;
                let plan = plan_update(ctx, &stack, &req)?;
                (stack, req, plan.changes, plan.nothing, plan.params, None)
            }
            other => {
                return Err(ServiceError::validation(format!(
                    "ChangeSetType {other} is not supported by the emulator"
                )));
            }
        };
    if change_sets_of(ctx, &stack.stack_id)?
        .iter()
        .any(|c| c.name == cs_name)
    {
        return Err(ServiceError::new(
            "AlreadyExistsException",
            format!("ChangeSet [{cs_name}] already exists"),
        ));
    }
    let id = ctx.arn(
        "cloudformation",
        &format!("changeSet/{cs_name}/{}", uuid::Uuid::new_v4()),
    );
    let (status, exec, reason) = if nothing {
        ("FAILED", "UNAVAILABLE", Some(NO_CHANGES.to_string()))
    } else {
        ("CREATE_COMPLETE", "AVAILABLE", None)
    };
    let cs = ChangeSet {
        id: id.clone(),
        name: cs_name.to_string(),
        stack_id: stack.stack_id.clone(),
        stack_name: stack.stack_name.clone(),
        change_set_type: cs_type.to_string(),
        description: input.str("Description").map(str::to_string),
        template_body: req.template_body.clone(),
        params,
        capabilities: req.capabilities.clone(),
        tags: req.tags.clone(),
        status: status.into(),
        status_reason: reason,
        execution_status: exec.into(),
        creation_time: now,
        changes: changes.iter().map(change_json).collect(),
    };
    if let Some(p) = &placeholder {
        let event = stack_event(p, None, now, "REVIEW_IN_PROGRESS", Some("User Initiated"));
        ctx.store
            .write(|tx| tx.put(SVC, NAME, &p.stack_name, &json!(p.stack_id)))?;
        save_with_events(ctx, p, &[event])?;
    }
    ctx.store.write(|tx| save_change_set(tx, &cs))?;
    Ok(json!({ "Id": id, "StackId": stack.stack_id }))
}

fn params_json(cs: &ChangeSet) -> Vec<Value> {
    cs.params
        .iter()
        .map(|p| {
            json!({
                "ParameterKey": p.key,
                "ParameterValue": if p.no_echo { "****" } else { p.value.as_str() },
            })
        })
        .collect()
}

pub(super) fn describe_change_set(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let cs = load(ctx, &input)?;
    let tags: Vec<Value> = cs
        .tags
        .iter()
        .map(|(k, v)| json!({ "Key": k, "Value": v }))
        .collect();
    Ok(json!({
        "ChangeSetName": cs.name,
        "ChangeSetId": cs.id,
        "StackId": cs.stack_id,
        "StackName": cs.stack_name,
        "Description": cs.description,
        "Parameters": params_json(&cs),
        "CreationTime": ts(cs.creation_time),
        "ExecutionStatus": cs.execution_status,
        "Status": cs.status,
        "StatusReason": cs.status_reason,
        "NotificationARNs": [],
        "RollbackConfiguration": {},
        "Capabilities": cs.capabilities,
        "Tags": tags,
        "Changes": cs.changes,
        "IncludeNestedStacks": false,
    }))
}

pub(super) fn execute_change_set(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let mut cs = load(ctx, &input)?;
    if cs.execution_status != "AVAILABLE" {
        return Err(invalid_status(format!(
            "ChangeSet [{}] cannot be executed in its current execution status of [{}]",
            cs.id, cs.execution_status
        )));
    }
    let mut stack = find_stack(ctx, &cs.stack_id)?.ok_or_else(|| cs_not_found(&cs.name))?;
    if stack.busy() {
        return Err(invalid_status(format!(
            "ChangeSet [{}] cannot be executed because stack [{}] is in [{}] state",
            cs.id, stack.stack_name, stack.status
        )));
    }
    let req = Request {
        template_body: cs.template_body.clone(),
        params: cs
            .params
            .iter()
            .map(|p| (p.key.clone(), Some(p.value.clone()), false))
            .collect(),
        capabilities: cs.capabilities.clone(),
        tags: cs.tags.clone(),
        notification_arns: stack.notification_arns.clone(),
        disable_rollback: input.bool("DisableRollback"),
        termination_protection: stack.termination_protection,
        token: input.str("ClientRequestToken").map(str::to_string),
        change_set_id: Some(cs.id.clone()),
    };
    let now = ctx.clock.now();
    let events = if cs.change_set_type == "CREATE" {
        start_create(ctx, &mut stack, &req, now)?
    } else {
        updatable(&stack)?;
        let plan = plan_update(ctx, &stack, &req)?;
        start_update(&mut stack, &req, plan, now)?
    };
    stack.change_set_id = Some(cs.id.clone());
    cs.execution_status = "EXECUTE_IN_PROGRESS".into();
    let others: Vec<String> = change_sets_of(ctx, &cs.stack_id)?
        .into_iter()
        .filter(|c| c.id != cs.id)
        .map(|c| c.id)
        .collect();
    ctx.store.write(|tx| {
        save_change_set(tx, &cs)?;
        for o in &others {
            tx.delete(SVC, CHANGE_SET, o)?;
        }
        Ok(())
    })?;
    save_with_events(ctx, &stack, &events)?;
    advance(ctx, &stack.stack_id)?;
    Ok(json!({}))
}

pub(super) fn delete_change_set(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let cs = load(ctx, &input)?;
    if cs.execution_status == "EXECUTE_IN_PROGRESS" {
        return Err(invalid_status(format!(
            "ChangeSet [{}] cannot be deleted in its current execution status of [{}]",
            cs.id, cs.execution_status
        )));
    }
    ctx.store.write(|tx| tx.delete(SVC, CHANGE_SET, &cs.id))?;
    Ok(json!({}))
}

pub(super) fn list_change_sets(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("StackName")?;
    let stack = find_stack(ctx, name)?.ok_or_else(|| super::not_found(name))?;
    let summaries: Vec<Value> = change_sets_of(ctx, &stack.stack_id)?
        .iter()
        .map(|c| {
            json!({
                "StackId": c.stack_id,
                "StackName": c.stack_name,
                "ChangeSetId": c.id,
                "ChangeSetName": c.name,
                "ExecutionStatus": c.execution_status,
                "Status": c.status,
                "StatusReason": c.status_reason,
                "CreationTime": ts(c.creation_time),
                "Description": c.description,
                "IncludeNestedStacks": false,
            })
        })
        .collect();
    Ok(json!({ "Summaries": summaries }))
}
