//! Starting stack operations: CreateStack, UpdateStack, DeleteStack (and the same plans for
//! ExecuteChangeSet), plus ValidateTemplate and GetTemplate.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::eval::{
    Evaluated, check_capabilities, context, engine_err, parse, required_capability, resolve_params,
    same_declarations,
};
use super::model::{
    Event, NAME, Op, OpKind, Param, Previous, SVC, Stack, Task, load_change_set, load_stack,
    stack_event,
};
use super::progress::{advance, save_with_events};
use super::{Request, not_found};
use crate::cloudformation::engine::{self, Change, ChangeAction};
use crate::protocol::{Input, ServiceError};
use crate::service::Ctx;

/// The stack a name or stack id refers to; deleted stacks only by id.
pub(super) fn find_stack(ctx: &Ctx<'_>, name_or_id: &str) -> Result<Option<Stack>, ServiceError> {
    let id = if name_or_id.starts_with("arn:") {
        Some(name_or_id.to_string())
    } else {
        ctx.store
            .read(|tx| tx.get(SVC, NAME, name_or_id))?
            .and_then(|v| v.as_str().map(str::to_string))
    };
    let Some(id) = id else {
        return Ok(None);
    };
    advance(ctx, &id)?;
    ctx.store.read(|tx| load_stack(tx, &id))
}

/// Like [`find_stack`], failing as DescribeStacks does when there is no such stack.
pub(super) fn stack(ctx: &Ctx<'_>, name_or_id: &str) -> Result<Stack, ServiceError> {
    find_stack(ctx, name_or_id)?.ok_or_else(|| not_found(name_or_id))
}

/// The longest inline `TemplateBody` AWS accepts, in bytes (templates by URL may be 1 MB).
pub(super) const MAX_TEMPLATE_BODY: usize = 51_200;

/// The largest template CloudFormation reads from a `TemplateURL` (1 MB).
const MAX_TEMPLATE_BY_URL: u64 = 1024 * 1024;

/// Marks a body read from `TemplateURL` (the URL's limit, not the inline one, applies).
const FROM_URL: &str = "__pipetuiTemplateFromUrl";

pub(super) fn template_body(input: &Input<'_>) -> Result<String, ServiceError> {
    let from_url = input.bool(FROM_URL) == Some(true);
    match (input.str("TemplateBody"), input.str("TemplateURL")) {
        (Some(_), Some(_)) if !from_url => Err(ServiceError::validation(
            "Specify exactly one of TemplateBody or TemplateURL.",
        )),
        (Some(b), _) if !from_url && b.len() > MAX_TEMPLATE_BODY => {
            Err(ServiceError::validation(format!(
                "1 validation error detected: Value at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to {MAX_TEMPLATE_BODY}"
            )))
        }
        (Some(b), _) => Ok(b.to_string()),
        (None, Some(_)) => Err(ServiceError::validation(
            "TemplateURL must be a supported URL.",
        )),
        (None, None) => Err(ServiceError::validation(
            "Either Template URL or Template Body must be specified.",
        )),
    }
}

/// `(bucket, key)` of an S3 object URL CloudFormation accepts: virtual-hosted
/// (`https://b.s3[.region].amazonaws.com/key`) or path style (`https://s3[.region].amazonaws.com/b/key`).
pub fn s3_object_of_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("https://")?;
    let (host, path) = rest.split_once('/')?;
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let s3_host = |h: &str| {
        h == "s3.amazonaws.com"
            || (h.starts_with("s3.") || h.starts_with("s3-")) && h.ends_with(".amazonaws.com")
    };
    let (bucket, key) = if s3_host(host) {
        let (b, k) = path.split_once('/')?;
        (b.to_string(), k.to_string())
    } else {
        let (b, h) = host.split_once(".s3")?;
        if !h.ends_with(".amazonaws.com") {
            return None;
        }
        (b.to_string(), path.to_string())
    };
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

/// With a `TemplateURL` (and no body), the input with the template read from the emulator's S3
/// (an object is a file under `s3/<bucket>/<key>` of the work directory) as its body.
pub(super) fn fetch_template_url(
    ctx: &Ctx<'_>,
    input: &Input<'_>,
) -> Result<Option<Value>, ServiceError> {
    let (Some(url), None) = (input.str("TemplateURL"), input.str("TemplateBody")) else {
        return Ok(None);
    };
    let Some((bucket, key)) = s3_object_of_url(url) else {
        return Err(ServiceError::validation(
            "TemplateURL must be a supported URL.",
        ));
    };
    let missing = || {
        ServiceError::validation(format!(
            "S3 error: The specified key does not exist. (bucket {bucket}, key {key})"
        ))
    };
    let path = ctx.emulator.settings.s3_path(&bucket, &key)?;
    let meta = std::fs::metadata(&path).map_err(|_| missing())?;
    if !meta.is_file() {
        return Err(missing());
    }
    if meta.len() > MAX_TEMPLATE_BY_URL {
        return Err(ServiceError::validation(format!(
            "Template may not exceed {MAX_TEMPLATE_BY_URL} bytes in size."
        )));
    }
    let body = std::fs::read_to_string(&path)
        .map_err(|e| ServiceError::validation(format!("S3 error: {e}")))?;
    let mut with_body = input.0.clone();
    if let Some(map) = with_body.as_object_mut() {
        map.insert("TemplateBody".into(), Value::String(body));
        map.insert(FROM_URL.into(), Value::Bool(true));
    }
    Ok(Some(with_body))
}

pub(super) fn check_name(name: &str) -> Result<(), ServiceError> {
    let mut chars = name.chars();
    let ok = name.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ServiceError::validation(format!(
            "1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*"
        )))
    }
}

/// A new stack record, not yet saved.
pub(super) fn new_stack(ctx: &Ctx<'_>, name: &str, req: &Request, now: f64) -> Stack {
    let uuid = uuid::Uuid::new_v4();
    Stack {
        stack_id: ctx.arn("cloudformation", &format!("stack/{name}/{uuid}")),
        stack_name: name.to_string(),
        description: None,
        template_body: req.template_body.clone(),
        params: Vec::new(),
        capabilities: req.capabilities.clone(),
        tags: req.tags.clone(),
        notification_arns: req.notification_arns.clone(),
        disable_rollback: req.disable_rollback.unwrap_or(false),
        termination_protection: req.termination_protection,
        creation_time: now,
        last_updated_time: None,
        deletion_time: None,
        status: "REVIEW_IN_PROGRESS".into(),
        status_reason: None,
        outputs: Vec::new(),
        order: Vec::new(),
        resources: BTreeMap::new(),
        seed: uuid.as_u128() as u64,
        provisioned: 0,
        op: None,
        change_set_id: None,
    }
}

/// Checks the request against the template and starts creating `stack`'s resources.
pub(super) fn start_create(
    ctx: &Ctx<'_>,
    stack: &mut Stack,
    req: &Request,
    now: f64,
) -> Result<Vec<Event>, ServiceError> {
    let template = parse(&req.template_body)?;
    check_capabilities(&template, &req.capabilities)?;
    let params = resolve_params(&template, &req.params, &[])?;
    let ev = Evaluated::new(&req.template_body, &params, context(ctx, stack)?)?;
    let order = ev.order()?;
    stack.template_body = req.template_body.clone();
    stack.description = ev.template.description.clone();
    stack.params = params;
    stack.capabilities = req.capabilities.clone();
    if !req.tags.is_empty() {
        stack.tags = req.tags.clone();
    }
    if let Some(d) = req.disable_rollback {
        stack.disable_rollback = d;
    }
    let mut op = Op::new(OpKind::Create, now);
    op.tasks = order
        .into_iter()
        .map(|logical| Task::Create { logical })
        .collect();
    op.token = req.token.clone();
    op.change_set_id = req.change_set_id.clone();
    stack.status = "CREATE_IN_PROGRESS".into();
    stack.status_reason = Some("User Initiated".into());
    let event = stack_event(
        stack,
        req.token.as_deref(),
        now,
        "CREATE_IN_PROGRESS",
        Some("User Initiated"),
    );
    stack.op = Some(op);
    Ok(vec![event])
}

/// What an update would do to `stack`.
pub(super) struct Plan {
    pub params: Vec<Param>,
    pub evaluated: Evaluated,
    pub changes: Vec<Change>,
    /// No resource, parameter or output changes.
    pub nothing: bool,
}

pub(super) fn plan_update(
    ctx: &Ctx<'_>,
    stack: &Stack,
    req: &Request,
) -> Result<Plan, ServiceError> {
    let template = parse(&req.template_body)?;
    check_capabilities(&template, &req.capabilities)?;
    let params = resolve_params(&template, &req.params, &stack.params)?;
    let c = context(ctx, stack)?;
    let old = Evaluated::new(&stack.template_body, &stack.params, c.clone())?;
    let new = Evaluated::new(&req.template_body, &params, c)?;
    new.order()?;
    let lookup = stack.lookup();
    let old_snap = engine::snapshot(&old.template, &old.scope(&lookup));
    let new_snap = engine::snapshot(&new.template, &new.scope(&lookup));
    let changes = engine::diff(&old_snap, &new_snap).map_err(engine_err)?;
    let values = |ps: &[Param]| -> Vec<(String, String)> {
        ps.iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect()
    };
    let nothing = engine::no_changes(&changes)
        && values(&params) == values(&stack.params)
        && same_declarations(&old.template, &new.template);
    Ok(Plan {
        params,
        evaluated: new,
        changes,
        nothing,
    })
}

pub(super) fn updatable(stack: &Stack) -> Result<(), ServiceError> {
    if matches!(
        stack.status.as_str(),
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE"
    ) && stack.op.is_none()
    {
        Ok(())
    } else {
        Err(ServiceError::validation(format!(
            "Stack:{} is in {} state and can not be updated.",
            stack.stack_id, stack.status
        )))
    }
}

pub(super) fn start_update(
    stack: &mut Stack,
    req: &Request,
    plan: Plan,
    now: f64,
) -> Result<Vec<Event>, ServiceError> {
    let order = plan.evaluated.order()?;
    let mut op = Op::new(OpKind::Update, now);
    op.previous = Some(Box::new(Previous {
        template_body: stack.template_body.clone(),
        params: stack.params.clone(),
        order: stack.order.clone(),
        resources: stack.resources.clone(),
        outputs: stack.outputs.clone(),
    }));
    let action = |id: &str| {
        plan.changes
            .iter()
            .find(|c| c.logical_id == id)
            .map(|c| c.action)
    };
    op.tasks = order
        .iter()
        .filter_map(|id| match action(id) {
            Some(ChangeAction::Add) => Some(Task::Create {
                logical: id.clone(),
            }),
            Some(ChangeAction::Modify) => Some(Task::Update {
                logical: id.clone(),
                pending: None,
                replace: false,
            }),
            _ => None,
        })
        .collect();
    op.removed = stack
        .order
        .iter()
        .filter(|id| action(id) == Some(ChangeAction::Remove))
        .cloned()
        .collect();
    op.token = req.token.clone();
    op.change_set_id = req.change_set_id.clone();
    stack.template_body = req.template_body.clone();
    stack.description = plan.evaluated.template.description.clone();
    stack.params = plan.params;
    stack.capabilities = req.capabilities.clone();
    if !req.tags.is_empty() {
        stack.tags = req.tags.clone();
    }
    if let Some(d) = req.disable_rollback {
        stack.disable_rollback = d;
    }
    let mut new_order = order;
    new_order.extend(op.removed.iter().cloned());
    stack.order = new_order;
    stack.last_updated_time = Some(now);
    stack.status = "UPDATE_IN_PROGRESS".into();
    stack.status_reason = Some("User Initiated".into());
    let event = stack_event(
        stack,
        req.token.as_deref(),
        now,
        "UPDATE_IN_PROGRESS",
        Some("User Initiated"),
    );
    stack.op = Some(op);
    Ok(vec![event])
}

pub(super) fn create_stack(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("StackName")?;
    check_name(name)?;
    let req = Request::from_input(&input)?;
    if input.bool("DisableRollback").is_some() && input.str("OnFailure").is_some() {
        return Err(ServiceError::validation(
            "You cannot specify both DisableRollback and OnFailure.",
        ));
    }
    if find_stack(ctx, name)?.is_some() {
        return Err(ServiceError::new(
            "AlreadyExistsException",
            format!("Stack [{name}] already exists"),
        ));
    }
    let now = ctx.clock.now();
    let mut stack = new_stack(ctx, name, &req, now);
    let events = start_create(ctx, &mut stack, &req, now)?;
    ctx.store.write(|tx| {
        tx.put(SVC, NAME, name, &json!(stack.stack_id))?;
        Ok(())
    })?;
    save_with_events(ctx, &stack, &events)?;
    advance(ctx, &stack.stack_id)?;
    Ok(json!({ "StackId": stack.stack_id }))
}

pub(super) fn update_stack(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("StackName")?;
    let mut stack = stack(ctx, name)?;
    updatable(&stack)?;
    let req = Request::from_input_or_previous(&input, &stack)?;
    let plan = plan_update(ctx, &stack, &req)?;
    if plan.nothing {
        return Err(ServiceError::validation("No updates are to be performed."));
    }
    let now = ctx.clock.now();
    let events = start_update(&mut stack, &req, plan, now)?;
    save_with_events(ctx, &stack, &events)?;
    advance(ctx, &stack.stack_id)?;
    Ok(json!({ "StackId": stack.stack_id }))
}

pub(super) fn delete_stack(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("StackName")?;
    let Some(mut stack) = find_stack(ctx, name)? else {
        return Ok(json!({}));
    };
    if stack.is_deleted() || stack.op.as_ref().is_some_and(|o| o.kind == OpKind::Delete) {
        return Ok(json!({}));
    }
    if stack.termination_protection {
        return Err(ServiceError::validation(format!(
            "Stack [{}] cannot be deleted while TerminationProtection is enabled",
            stack.stack_name
        )));
    }
    let now = ctx.clock.now();
    let token = input.str("ClientRequestToken").map(str::to_string);
    let mut op = Op::new(OpKind::Delete, now);
    op.token = token.clone();
    op.tasks = stack
        .order
        .iter()
        .rev()
        .filter_map(|id| stack.resources.get(id))
        .filter(|r| r.status != "DELETE_COMPLETE")
        .map(|r| Task::Delete {
            res: Box::new(r.clone()),
            retain: r.deletion_policy.as_deref() == Some("Retain"),
        })
        .collect();
    stack.status = "DELETE_IN_PROGRESS".into();
    stack.status_reason = Some("User Initiated".into());
    let event = stack_event(
        &stack,
        token.as_deref(),
        now,
        "DELETE_IN_PROGRESS",
        Some("User Initiated"),
    );
    stack.op = Some(op);
    save_with_events(ctx, &stack, &[event])?;
    advance(ctx, &stack.stack_id)?;
    Ok(json!({}))
}

pub(super) fn validate_template(input: Input<'_>) -> Result<Value, ServiceError> {
    let body = template_body(&input)?;
    let t = parse(&body)?;
    let params: Vec<Value> = t
        .parameters
        .iter()
        .map(|(k, p)| {
            json!({
                "ParameterKey": k,
                "DefaultValue": p.default,
                "NoEcho": p.no_echo,
                "Description": p.description,
            })
        })
        .collect();
    let mut out = json!({
        "Parameters": params,
        "Description": t.description,
        "DeclaredTransforms": [],
    });
    if let Some((cap, types)) = required_capability(&t) {
        out["Capabilities"] = json!([cap]);
        out["CapabilitiesReason"] = json!(format!(
            "The following resource(s) require capabilities: [{}]",
            types.join(", ")
        ));
    }
    Ok(out)
}

pub(super) fn get_template(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let body = match input.str("ChangeSetName") {
        Some(cs) => {
            let id = super::changesets::change_set_id(ctx, cs, input.str("StackName"))?;
            ctx.store
                .read(|tx| load_change_set(tx, &id))?
                .map(|c| c.template_body)
                .ok_or_else(|| super::changesets::cs_not_found(cs))?
        }
        None => stack(ctx, input.required_str("StackName")?)?.template_body,
    };
    Ok(json!({ "TemplateBody": body, "StagesAvailable": ["Original", "Processed"] }))
}

pub(super) fn update_termination_protection(
    ctx: &Ctx<'_>,
    input: Input<'_>,
) -> Result<Value, ServiceError> {
    let mut s = stack(ctx, input.required_str("StackName")?)?;
    if s.is_deleted() {
        return Err(not_found(input.required_str("StackName")?));
    }
    s.termination_protection = input
        .bool("EnableTerminationProtection")
        .ok_or_else(|| ServiceError::validation("EnableTerminationProtection is required"))?;
    save_with_events(ctx, &s, &[])?;
    Ok(json!({ "StackId": s.stack_id }))
}
