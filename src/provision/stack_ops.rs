//! The CloudFormation calls of `init` and `destroy`, and the polling loop that turns stack events
//! into [`Progress`].

use std::collections::HashSet;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, StackEvent};

use super::{
    Change, ChangeSetPlan, MAX_INLINE_TEMPLATE, Operation, Outcome, Pace, Plan, Progress,
    ProvisionError, ResourceEvent, is_terminal,
};
use crate::aws::{AwsError, Clients, SdkResultExt, Target};

/// What DescribeStacks says about the stack right now.
#[derive(Debug, Clone)]
struct StackInfo {
    id: String,
    status: String,
}

/// The embedded emulator's bucket for templates over the inline limit.
const TEMPLATE_BUCKET: &str = "pipetui-templates";

/// One stack's init/destroy operations through one CloudFormation client.
pub struct Provisioner {
    cfn: Client,
    endpoint: String,
    real_aws: bool,
    pace: Pace,
    stack: String,
    /// The embedded emulator, whose S3 holds templates over the inline limit.
    emulator: Option<std::sync::Arc<pipetui_emulator::Emulator>>,
}

impl Provisioner {
    pub fn new(clients: &Clients, stack: &str) -> Self {
        Self {
            cfn: clients.cloudformation.clone(),
            endpoint: clients.endpoint(),
            real_aws: matches!(clients.target, Target::Aws { .. }),
            pace: Pace::for_target(&clients.target),
            stack: stack.to_string(),
            emulator: None,
        }
    }

    /// Templates over CloudFormation's inline limit go through the embedded emulator's S3 and a
    /// `TemplateURL`, as `aws cloudformation deploy --s3-bucket` does on AWS.
    pub fn with_emulator(
        mut self,
        emulator: Option<std::sync::Arc<pipetui_emulator::Emulator>>,
    ) -> Self {
        self.emulator = emulator;
        self
    }

    pub fn with_pace(mut self, pace: Pace) -> Self {
        self.pace = pace;
        self
    }

    pub fn stack(&self) -> &str {
        &self.stack
    }

    async fn describe(&self, name_or_id: &str) -> Result<Option<StackInfo>, AwsError> {
        let out = self
            .cfn
            .describe_stacks()
            .stack_name(name_or_id)
            .send()
            .await
            .or_aws("DescribeStacks", &self.endpoint);
        match out {
            Ok(o) => Ok(o.stacks().first().map(|s| StackInfo {
                id: s.stack_id().unwrap_or(name_or_id).to_string(),
                status: s
                    .stack_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            })),
            Err(AwsError::Service { message, .. }) if message.contains("does not exist") => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Creates a change set for `template` and waits until CloudFormation has computed it.
    pub async fn plan(&self, template: &str) -> Result<Plan, ProvisionError> {
        if self.real_aws && template.len() > MAX_INLINE_TEMPLATE {
            return Err(ProvisionError::TemplateTooLarge {
                bytes: template.len(),
            });
        }
        let existing = self.describe(&self.stack).await?;
        let operation = match existing.as_ref().map(|s| s.status.as_str()) {
            None | Some("REVIEW_IN_PROGRESS" | "DELETE_COMPLETE") => Operation::Create,
            Some(s @ ("ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED")) => {
                return Ok(Plan::Recreate {
                    status: s.to_string(),
                });
            }
            Some(s) if !is_terminal(s) || s == "DELETE_FAILED" || s == "UPDATE_ROLLBACK_FAILED" => {
                return Err(ProvisionError::Busy {
                    stack: self.stack.clone(),
                    status: s.to_string(),
                });
            }
            Some(_) => Operation::Update,
        };
        let change_set = change_set_name();
        let kind = if operation == Operation::Create {
            ChangeSetType::Create
        } else {
            ChangeSetType::Update
        };
        let mut request = self
            .cfn
            .create_change_set()
            .stack_name(&self.stack)
            .change_set_name(&change_set)
            .change_set_type(kind);
        request = match (&self.emulator, template.len() > MAX_INLINE_TEMPLATE) {
            (Some(emulator), true) => {
                let key = format!("{}/{change_set}.json", self.stack);
                let url = emulator
                    .put_object(TEMPLATE_BUCKET, &key, template.as_bytes())
                    .map_err(|e| {
                        AwsError::Other(format!(
                            "cannot stage the template in the emulator's S3: {e}"
                        ))
                    })?;
                request.template_url(url)
            }
            _ => request.template_body(template),
        };
        request
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam)
            .description("pipetui init")
            .send()
            .await
            .or_aws("CreateChangeSet", &self.endpoint)?;
        loop {
            let mut changes = Vec::new();
            let mut token = None;
            let (status, reason) = loop {
                let out = self
                    .cfn
                    .describe_change_set()
                    .stack_name(&self.stack)
                    .change_set_name(&change_set)
                    .set_next_token(token)
                    .send()
                    .await
                    .or_aws("DescribeChangeSet", &self.endpoint)?;
                changes.extend(out.changes().iter().filter_map(|c| {
                    let r = c.resource_change()?;
                    Some(Change {
                        action: r
                            .action()
                            .map(|a| a.as_str().to_string())
                            .unwrap_or_default(),
                        logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                        resource_type: r.resource_type().unwrap_or_default().to_string(),
                        replacement: r
                            .replacement()
                            .map(|a| a.as_str().to_string())
                            .unwrap_or_default(),
                    })
                }));
                token = out.next_token().map(str::to_string);
                if token.is_none() {
                    break (
                        out.status().cloned(),
                        out.status_reason().unwrap_or_default().to_string(),
                    );
                }
            };
            match status {
                Some(ChangeSetStatus::CreateComplete) => {
                    return Ok(Plan::Changes(ChangeSetPlan {
                        change_set,
                        operation,
                        changes,
                    }));
                }
                Some(ChangeSetStatus::Failed) => {
                    // The empty change set is of no use; a failure to delete it changes nothing.
                    let _ = self.discard(&change_set).await;
                    if reason.contains("didn't contain changes") || reason.contains("No updates") {
                        return Ok(Plan::UpToDate);
                    }
                    return Err(ProvisionError::ChangeSetFailed { change_set, reason });
                }
                _ => self.pace.wait().await,
            }
        }
    }

    /// Deletes a change set that will not be executed.
    pub async fn discard(&self, change_set: &str) -> Result<(), AwsError> {
        self.cfn
            .delete_change_set()
            .stack_name(&self.stack)
            .change_set_name(change_set)
            .send()
            .await
            .or_aws("DeleteChangeSet", &self.endpoint)?;
        Ok(())
    }

    /// Executes the change set and watches it to the end; `on` sees every visible change.
    pub async fn execute(
        &self,
        plan: &ChangeSetPlan,
        mut on: impl FnMut(&Progress, Option<&ResourceEvent>),
    ) -> Result<Outcome, ProvisionError> {
        let info = self
            .describe(&self.stack)
            .await?
            .ok_or_else(|| ProvisionError::NoStack {
                stack: self.stack.clone(),
            })?;
        let seen = self.event_ids(&info.id).await?;
        let expected = plan
            .changes
            .iter()
            .map(|c| (c.logical_id.clone(), c.resource_type.clone()))
            .collect();
        let mut progress = Progress::new(&self.stack, plan.operation, expected);
        on(&progress, None);
        self.cfn
            .execute_change_set()
            .stack_name(&self.stack)
            .change_set_name(&plan.change_set)
            .send()
            .await
            .or_aws("ExecuteChangeSet", &self.endpoint)?;
        self.watch(&info.id, seen, &mut progress, &mut on).await?;
        let outputs = if progress.succeeded() {
            self.outputs(&info.id).await?
        } else {
            Vec::new()
        };
        Ok(Outcome { progress, outputs })
    }

    /// Deletes the stack and watches it go. `Ok(None)` when there is no such stack.
    pub async fn destroy(
        &self,
        mut on: impl FnMut(&Progress, Option<&ResourceEvent>),
    ) -> Result<Option<Outcome>, ProvisionError> {
        let Some(info) = self
            .describe(&self.stack)
            .await?
            .filter(|s| s.status != "DELETE_COMPLETE")
        else {
            return Ok(None);
        };
        if !is_terminal(&info.status) {
            return Err(ProvisionError::Busy {
                stack: self.stack.clone(),
                status: info.status,
            });
        }
        let resources = self
            .cfn
            .describe_stack_resources()
            .stack_name(&info.id)
            .send()
            .await
            .or_aws("DescribeStackResources", &self.endpoint)?;
        let expected = resources
            .stack_resources()
            .iter()
            .filter(|r| {
                r.resource_status()
                    .is_none_or(|s| s.as_str() != "DELETE_COMPLETE")
            })
            .map(|r| {
                (
                    r.logical_resource_id().unwrap_or_default().to_string(),
                    r.resource_type().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let seen = self.event_ids(&info.id).await?;
        let mut progress = Progress::new(&self.stack, Operation::Delete, expected);
        on(&progress, None);
        self.cfn
            .delete_stack()
            .stack_name(&info.id)
            .send()
            .await
            .or_aws("DeleteStack", &self.endpoint)?;
        self.watch(&info.id, seen, &mut progress, &mut on).await?;
        Ok(Some(Outcome {
            progress,
            outputs: Vec::new(),
        }))
    }

    /// The ids of every event so far, so the watch shows only this operation's.
    async fn event_ids(&self, stack_id: &str) -> Result<HashSet<String>, AwsError> {
        Ok(self
            .new_events(stack_id, &HashSet::new())
            .await?
            .into_iter()
            .filter_map(|e| e.event_id().map(str::to_string))
            .collect())
    }

    /// Events not in `seen`, oldest first (the API pages newest first).
    async fn new_events(
        &self,
        stack_id: &str,
        seen: &HashSet<String>,
    ) -> Result<Vec<StackEvent>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .cfn
                .describe_stack_events()
                .stack_name(stack_id)
                .set_next_token(token)
                .send()
                .await
                .or_aws("DescribeStackEvents", &self.endpoint)?;
            // Events stamped alike may come in any order, so the whole page is read; on AWS a
            // page that reaches known events is the last one needed. An emulator restarted with
            // a fast clock can stamp new events before old ones, so there every page is read.
            let mut reached_known = false;
            for e in page.stack_events() {
                if e.event_id().is_some_and(|id| seen.contains(id)) {
                    reached_known = true;
                } else {
                    out.push(e.clone());
                }
            }
            token = page.next_token().map(str::to_string);
            if (reached_known && self.real_aws) || token.is_none() {
                break;
            }
        }
        out.reverse();
        Ok(out)
    }

    /// Polls events until the stack's own event says it reached a terminal status.
    async fn watch(
        &self,
        stack_id: &str,
        mut seen: HashSet<String>,
        progress: &mut Progress,
        on: &mut impl FnMut(&Progress, Option<&ResourceEvent>),
    ) -> Result<(), AwsError> {
        loop {
            for e in self.new_events(stack_id, &seen).await? {
                if let Some(id) = e.event_id() {
                    seen.insert(id.to_string());
                }
                let ev = ResourceEvent {
                    logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
                    resource_type: e.resource_type().unwrap_or_default().to_string(),
                    status: e
                        .resource_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    reason: e.resource_status_reason().map(str::to_string),
                    timestamp: e.timestamp().map_or(0.0, |t| t.as_secs_f64()),
                };
                if progress.apply(&ev) {
                    on(progress, Some(&ev));
                }
            }
            if progress.is_done() {
                return Ok(());
            }
            self.pace.wait().await;
            on(progress, None);
        }
    }

    async fn outputs(&self, stack_id: &str) -> Result<Vec<(String, String, String)>, AwsError> {
        let out = self
            .cfn
            .describe_stacks()
            .stack_name(stack_id)
            .send()
            .await
            .or_aws("DescribeStacks", &self.endpoint)?;
        Ok(out
            .stacks()
            .first()
            .map(|s| {
                s.outputs()
                    .iter()
                    .map(|o| {
                        (
                            o.output_key().unwrap_or_default().to_string(),
                            o.output_value().unwrap_or_default().to_string(),
                            o.description().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// `pipetui-<unix millis>-<n>`: unique per process and across runs.
fn change_set_name() -> String {
    static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("pipetui-{millis}-{n}")
}
