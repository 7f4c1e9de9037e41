//! Read operations: DescribeStacks, DescribeStackEvents (newest first), DescribeStackResources,
//! ListStackResources, ListStacks, ListExports; lists page with an opaque NextToken.

use serde_json::{Value, json};

use super::model::{Resource, SVC, Stack, all_stacks, events_stream, wire_event};
use super::not_found;
use super::ops::stack;
use super::progress::advance;
use crate::protocol::{Input, ServiceError, ts};
use crate::service::Ctx;

const PAGE: usize = 100;

/// One page of `items` from the offset in `token`, and the token of the next page.
fn page<T: Clone>(
    items: &[T],
    token: Option<&str>,
    size: usize,
) -> Result<(Vec<T>, Option<String>), ServiceError> {
    let start = match token {
        None => 0,
        Some(t) => t
            .strip_prefix("p-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| ServiceError::validation("Invalid NextToken"))?,
    };
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| format!("p-{end}"));
    Ok((items[start..end].to_vec(), next))
}

fn with_token(mut out: Value, next: Option<String>) -> Value {
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    out
}

fn tags(stack: &Stack) -> Vec<Value> {
    stack
        .tags
        .iter()
        .map(|(k, v)| json!({ "Key": k, "Value": v }))
        .collect()
}

pub(super) fn stack_json(s: &Stack) -> Value {
    let params: Vec<Value> = s
        .params
        .iter()
        .map(|p| {
            json!({
                "ParameterKey": p.key,
                "ParameterValue": if p.no_echo { "****" } else { p.value.as_str() },
            })
        })
        .collect();
    let outputs: Vec<Value> = s
        .outputs
        .iter()
        .map(|o| {
            json!({
                "OutputKey": o.key,
                "OutputValue": o.value,
                "Description": o.description,
                "ExportName": o.export_name,
            })
        })
        .collect();
    json!({
        "StackId": s.stack_id,
        "StackName": s.stack_name,
        "ChangeSetId": s.change_set_id,
        "Description": s.description,
        "Parameters": params,
        "CreationTime": ts(s.creation_time),
        "DeletionTime": s.deletion_time.map(ts),
        "LastUpdatedTime": s.last_updated_time.map(ts),
        "RollbackConfiguration": {},
        "StackStatus": s.status,
        "StackStatusReason": s.status_reason,
        "DisableRollback": s.disable_rollback,
        "NotificationARNs": s.notification_arns,
        "Capabilities": s.capabilities,
        "Outputs": outputs,
        "Tags": tags(s),
        "EnableTerminationProtection": s.termination_protection,
        "DriftInformation": { "StackDriftStatus": "NOT_CHECKED" },
    })
}

/// Every live stack, advanced to now, newest first.
fn live_stacks(ctx: &Ctx<'_>) -> Result<Vec<Stack>, ServiceError> {
    let ids: Vec<String> = ctx
        .store
        .read(all_stacks)?
        .into_iter()
        .filter(|s| !s.is_deleted())
        .map(|s| s.stack_id)
        .collect();
    for id in &ids {
        advance(ctx, id)?;
    }
    let mut stacks = ctx.store.read(all_stacks)?;
    stacks.reverse();
    Ok(stacks)
}

pub(super) fn describe_stacks(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let stacks: Vec<Value> = match input.str("StackName") {
        Some(name) => vec![stack_json(&stack(ctx, name)?)],
        None => live_stacks(ctx)?
            .iter()
            .filter(|s| !s.is_deleted())
            .map(stack_json)
            .collect(),
    };
    let (items, next) = page(&stacks, input.str("NextToken"), PAGE)?;
    Ok(with_token(json!({ "Stacks": items }), next))
}

pub(super) fn describe_stack_events(
    ctx: &Ctx<'_>,
    input: Input<'_>,
) -> Result<Value, ServiceError> {
    let s = stack(ctx, input.required_str("StackName")?)?;
    let stream = events_stream(&s.stack_id);
    let mut events: Vec<Value> = ctx
        .store
        .read(|tx| tx.records(SVC, &stream, f64::MIN, f64::MAX))?
        .into_iter()
        .map(|r| wire_event(r.body))
        .collect();
    events.reverse();
    let (items, next) = page(&events, input.str("NextToken"), PAGE)?;
    Ok(with_token(json!({ "StackEvents": items }), next))
}

fn resource_json(s: &Stack, r: &Resource) -> Value {
    json!({
        "StackName": s.stack_name,
        "StackId": s.stack_id,
        "LogicalResourceId": r.logical_id,
        "PhysicalResourceId": r.physical_id(),
        "ResourceType": r.resource_type,
        "Timestamp": ts(r.timestamp),
        "ResourceStatus": r.status,
        "ResourceStatusReason": r.reason,
        "DriftInformation": { "StackResourceDriftStatus": "NOT_CHECKED" },
    })
}

fn resources(s: &Stack) -> Vec<&Resource> {
    s.order
        .iter()
        .filter_map(|id| s.resources.get(id))
        .chain(
            s.resources
                .values()
                .filter(|r| !s.order.contains(&r.logical_id)),
        )
        .collect()
}

pub(super) fn describe_stack_resources(
    ctx: &Ctx<'_>,
    input: Input<'_>,
) -> Result<Value, ServiceError> {
    let s = match (input.str("StackName"), input.str("PhysicalResourceId")) {
        (Some(_), Some(_)) => {
            return Err(ServiceError::validation(
                "Cannot specify both StackName and PhysicalResourceId",
            ));
        }
        (Some(name), None) => stack(ctx, name)?,
        (None, Some(physical)) => live_stacks(ctx)?
            .into_iter()
            .find(|s| {
                s.resources
                    .values()
                    .any(|r| r.physical_id() == Some(physical))
            })
            .ok_or_else(|| not_found(physical))?,
        (None, None) => {
            return Err(ServiceError::validation(
                "At least one of StackName or PhysicalResourceId must be specified",
            ));
        }
    };
    let logical = input.str("LogicalResourceId");
    let items: Vec<Value> = resources(&s)
        .into_iter()
        .filter(|r| logical.is_none_or(|l| l == r.logical_id))
        .take(100)
        .map(|r| resource_json(&s, r))
        .collect();
    Ok(json!({ "StackResources": items }))
}

pub(super) fn describe_stack_resource(
    ctx: &Ctx<'_>,
    input: Input<'_>,
) -> Result<Value, ServiceError> {
    let name = input.required_str("StackName")?;
    let logical = input.required_str("LogicalResourceId")?;
    let s = stack(ctx, name)?;
    let r = s.resources.get(logical).ok_or_else(|| {
        ServiceError::validation(format!(
            "Resource {logical} does not exist for stack {name}"
        ))
    })?;
    let mut detail = resource_json(&s, r);
    detail["LastUpdatedTimestamp"] = ts(r.timestamp);
    Ok(json!({ "StackResourceDetail": detail }))
}

pub(super) fn list_stack_resources(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let s = stack(ctx, input.required_str("StackName")?)?;
    let items: Vec<Value> = resources(&s)
        .into_iter()
        .map(|r| {
            json!({
                "LogicalResourceId": r.logical_id,
                "PhysicalResourceId": r.physical_id(),
                "ResourceType": r.resource_type,
                "LastUpdatedTimestamp": ts(r.timestamp),
                "ResourceStatus": r.status,
                "ResourceStatusReason": r.reason,
                "DriftInformation": { "StackResourceDriftStatus": "NOT_CHECKED" },
            })
        })
        .collect();
    let (items, next) = page(&items, input.str("NextToken"), PAGE)?;
    Ok(with_token(json!({ "StackResourceSummaries": items }), next))
}

pub(super) fn list_stacks(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let filter = input.strings("StackStatusFilter");
    live_stacks(ctx)?;
    let mut all = ctx.store.read(all_stacks)?;
    all.reverse();
    let items: Vec<Value> = all
        .iter()
        .filter(|s| filter.is_empty() || filter.contains(&s.status))
        .map(|s| {
            json!({
                "StackId": s.stack_id,
                "StackName": s.stack_name,
                "TemplateDescription": s.description,
                "CreationTime": ts(s.creation_time),
                "LastUpdatedTime": s.last_updated_time.map(ts),
                "DeletionTime": s.deletion_time.map(ts),
                "StackStatus": s.status,
                "StackStatusReason": s.status_reason,
                "DriftInformation": { "StackDriftStatus": "NOT_CHECKED" },
            })
        })
        .collect();
    let (items, next) = page(&items, input.str("NextToken"), PAGE)?;
    Ok(with_token(json!({ "StackSummaries": items }), next))
}

pub(super) fn list_exports(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let items: Vec<Value> = live_stacks(ctx)?
        .iter()
        .filter(|s| !s.is_deleted())
        .flat_map(|s| {
            s.outputs.iter().filter_map(|o| {
                Some(json!({
                    "ExportingStackId": s.stack_id,
                    "Name": o.export_name.clone()?,
                    "Value": o.value,
                }))
            })
        })
        .collect();
    let (items, next) = page(&items, input.str("NextToken"), PAGE)?;
    Ok(with_token(json!({ "Exports": items }), next))
}
