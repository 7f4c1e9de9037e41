//! What the service stores: stacks (with their resources and the operation in progress), change
//! sets, and stack events as an append-only stream.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::cloudformation::engine::Provisioned;
use crate::protocol::{ServiceError, ts};
use crate::store::Tx;

pub(super) const SVC: &str = "cloudformation";
/// Stack id → stack document.
pub(super) const STACK: &str = "stack";
/// Stack name → id of the live (not deleted) stack of that name.
pub(super) const NAME: &str = "name";
/// Change set id → change set document.
pub(super) const CHANGE_SET: &str = "changeset";

/// Emulated seconds one resource takes to create, update or delete.
pub(super) const STEP_SECONDS: f64 = 1.0;

pub(super) fn events_stream(stack_id: &str) -> String {
    format!("events/{stack_id}")
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct Param {
    pub key: String,
    pub value: String,
    pub no_echo: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct Output {
    pub key: String,
    pub value: String,
    pub description: Option<String>,
    pub export_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct Prov {
    pub physical_id: String,
    pub name: String,
    pub arn: Option<String>,
    pub attributes: BTreeMap<String, Value>,
}

impl From<Provisioned> for Prov {
    fn from(p: Provisioned) -> Self {
        Self {
            physical_id: p.physical_id,
            name: p.name,
            arn: p.arn,
            attributes: p.attributes,
        }
    }
}

impl From<&Prov> for Provisioned {
    fn from(p: &Prov) -> Self {
        Self {
            physical_id: p.physical_id.clone(),
            name: p.name.clone(),
            arn: p.arn.clone(),
            attributes: p.attributes.clone(),
        }
    }
}

/// One resource of a stack as DescribeStackResources shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct Resource {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
    pub timestamp: f64,
    /// Evaluated properties.
    pub properties: Value,
    pub prov: Option<Prov>,
    pub deletion_policy: Option<String>,
    pub update_replace_policy: Option<String>,
}

impl Resource {
    pub fn physical_id(&self) -> Option<&str> {
        self.prov.as_ref().map(|p| p.physical_id.as_str())
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub(super) enum OpKind {
    Create,
    Update,
    Delete,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub(super) enum Phase {
    Forward,
    Cleanup,
    Rollback,
    RollbackCleanup,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) enum Task {
    Create {
        logical: String,
    },
    /// `pending` is the resource as it will be once the update completes.
    Update {
        logical: String,
        pending: Option<Box<Resource>>,
        replace: bool,
    },
    /// Puts a resource back as it was before a failed update.
    Revert {
        old: Box<Resource>,
        from: Box<Resource>,
    },
    /// `retain`: the DeletionPolicy (or UpdateReplacePolicy) is Retain, so DELETE_SKIPPED.
    Delete {
        res: Box<Resource>,
        retain: bool,
    },
}

/// What the forward phase of an update did, to undo it on rollback.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) enum Done {
    Created(Box<Resource>),
    Updated {
        old: Box<Resource>,
        new: Box<Resource>,
    },
    Replaced {
        old: Box<Resource>,
        new: Box<Resource>,
    },
}

/// The stack as it was before an update.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct Previous {
    pub template_body: String,
    pub params: Vec<Param>,
    pub order: Vec<String>,
    pub resources: BTreeMap<String, Resource>,
    pub outputs: Vec<Output>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct Op {
    pub kind: OpKind,
    pub phase: Phase,
    pub tasks: VecDeque<Task>,
    pub current: Option<Task>,
    /// Emulated time of the next step.
    pub next_at: f64,
    pub failed: Vec<String>,
    pub done: Vec<Done>,
    pub previous: Option<Box<Previous>>,
    /// Resources an update removes, deleted in its cleanup phase (old order, reversed).
    pub removed: Vec<String>,
    pub change_set_id: Option<String>,
    pub token: Option<String>,
}

impl Op {
    pub fn new(kind: OpKind, now: f64) -> Self {
        Self {
            kind,
            phase: Phase::Forward,
            tasks: VecDeque::new(),
            current: None,
            next_at: now,
            failed: Vec::new(),
            done: Vec::new(),
            previous: None,
            removed: Vec::new(),
            change_set_id: None,
            token: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct Stack {
    pub stack_id: String,
    pub stack_name: String,
    pub description: Option<String>,
    pub template_body: String,
    pub params: Vec<Param>,
    pub capabilities: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub notification_arns: Vec<String>,
    pub disable_rollback: bool,
    pub termination_protection: bool,
    pub creation_time: f64,
    pub last_updated_time: Option<f64>,
    pub deletion_time: Option<f64>,
    pub status: String,
    pub status_reason: Option<String>,
    pub outputs: Vec<Output>,
    /// Creation order of the current resources.
    pub order: Vec<String>,
    pub resources: BTreeMap<String, Resource>,
    pub seed: u64,
    pub provisioned: u64,
    pub op: Option<Op>,
    pub change_set_id: Option<String>,
}

impl Stack {
    pub fn is_deleted(&self) -> bool {
        self.status == "DELETE_COMPLETE"
    }

    /// An operation is running (`*_IN_PROGRESS` other than REVIEW_IN_PROGRESS).
    pub fn busy(&self) -> bool {
        self.op.is_some()
    }

    /// Resources the engine may Ref/GetAtt: those that have a physical id and still exist.
    pub fn lookup(&self) -> BTreeMap<String, Provisioned> {
        self.resources
            .iter()
            .filter(|(_, r)| r.status != "DELETE_COMPLETE")
            .filter_map(|(k, r)| r.prov.as_ref().map(|p| (k.clone(), Provisioned::from(p))))
            .collect()
    }
}

fn corrupt(what: &str, e: serde_json::Error) -> ServiceError {
    ServiceError::internal(format!("stored {what} unreadable: {e}"))
}

pub(super) fn load_stack(tx: &Tx<'_>, stack_id: &str) -> Result<Option<Stack>, ServiceError> {
    match tx.get(SVC, STACK, stack_id)? {
        Some(v) => serde_json::from_value(v)
            .map(Some)
            .map_err(|e| corrupt("stack", e)),
        None => Ok(None),
    }
}

pub(super) fn save_stack(tx: &Tx<'_>, stack: &Stack) -> Result<(), ServiceError> {
    let v = serde_json::to_value(stack).map_err(|e| corrupt("stack", e))?;
    tx.put(SVC, STACK, &stack.stack_id, &v)
}

pub(super) fn all_stacks(tx: &Tx<'_>) -> Result<Vec<Stack>, ServiceError> {
    let mut out: Vec<Stack> = tx
        .list(SVC, STACK)?
        .into_iter()
        .filter_map(|(_, v)| serde_json::from_value(v).ok())
        .collect();
    out.sort_by(|a, b| {
        a.creation_time
            .total_cmp(&b.creation_time)
            .then(a.stack_id.cmp(&b.stack_id))
    });
    Ok(out)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct ChangeSet {
    pub id: String,
    pub name: String,
    pub stack_id: String,
    pub stack_name: String,
    pub change_set_type: String,
    pub description: Option<String>,
    pub template_body: String,
    pub params: Vec<Param>,
    pub capabilities: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub status: String,
    pub status_reason: Option<String>,
    pub execution_status: String,
    pub creation_time: f64,
    /// `Changes` as DescribeChangeSet lists them.
    pub changes: Vec<Value>,
}

pub(super) fn load_change_set(tx: &Tx<'_>, id: &str) -> Result<Option<ChangeSet>, ServiceError> {
    match tx.get(SVC, CHANGE_SET, id)? {
        Some(v) => serde_json::from_value(v)
            .map(Some)
            .map_err(|e| corrupt("change set", e)),
        None => Ok(None),
    }
}

pub(super) fn save_change_set(tx: &Tx<'_>, cs: &ChangeSet) -> Result<(), ServiceError> {
    let v = serde_json::to_value(cs).map_err(|e| corrupt("change set", e))?;
    tx.put(SVC, CHANGE_SET, &cs.id, &v)
}

/// One StackEvent, stored with its time as a plain number.
#[derive(Debug, Clone)]
pub(super) struct Event {
    pub at: f64,
    pub body: Value,
}

pub(super) fn stack_event(
    stack: &Stack,
    token: Option<&str>,
    at: f64,
    status: &str,
    reason: Option<&str>,
) -> Event {
    let mut body = json!({
        "EventId": uuid::Uuid::new_v4().to_string(),
        "StackId": stack.stack_id,
        "StackName": stack.stack_name,
        "LogicalResourceId": stack.stack_name,
        "PhysicalResourceId": stack.stack_id,
        "ResourceType": "AWS::CloudFormation::Stack",
        "Timestamp": at,
        "ResourceStatus": status,
    });
    if let Some(r) = reason {
        body["ResourceStatusReason"] = json!(r);
    }
    if let Some(t) = token {
        body["ClientRequestToken"] = json!(t);
    }
    Event { at, body }
}

pub(super) fn resource_event(
    stack: &Stack,
    token: Option<&str>,
    res: &Resource,
    at: f64,
    status: &str,
    reason: Option<&str>,
    with_properties: bool,
) -> Event {
    let mut body = json!({
        "EventId": format!("{}-{status}-{}", res.logical_id, uuid::Uuid::new_v4()),
        "StackId": stack.stack_id,
        "StackName": stack.stack_name,
        "LogicalResourceId": res.logical_id,
        "PhysicalResourceId": res.physical_id().unwrap_or(""),
        "ResourceType": res.resource_type,
        "Timestamp": at,
        "ResourceStatus": status,
    });
    if let Some(r) = reason {
        body["ResourceStatusReason"] = json!(r);
    }
    if with_properties {
        body["ResourceProperties"] = json!(res.properties.to_string());
    }
    if let Some(t) = token {
        body["ClientRequestToken"] = json!(t);
    }
    Event { at, body }
}

pub(super) fn append_events(
    tx: &Tx<'_>,
    stack_id: &str,
    events: &[Event],
) -> Result<(), ServiceError> {
    let stream = events_stream(stack_id);
    for e in events {
        tx.append(SVC, &stream, e.at, &e.body)?;
    }
    Ok(())
}

/// A stored event as the wire shows it (timestamp marked).
pub(super) fn wire_event(mut body: Value) -> Value {
    if let Some(t) = body.get("Timestamp").and_then(Value::as_f64) {
        body["Timestamp"] = ts(t);
    }
    body
}
