//! CloudFormation (awsQuery, `2010-05-15`): stacks built by the template engine
//! (`crate::cloudformation::engine`), progressing on the emulator clock one resource
//! at a time, with stack events, rollback, change sets and exports. Log groups, alarms and
//! dashboards become live objects in the Logs and CloudWatch services.

mod changesets;
mod describe;
mod eval;
mod materialise;
mod model;
mod ops;
mod phases;
mod progress;

use std::sync::Mutex;

use serde_json::Value;

use crate::protocol::{Input, ServiceError, ServiceId};
use crate::service::{Ctx, Service, unknown_operation};

use model::Stack;

/// Serialises operations: advancing a stack calls other services and must not run twice.
#[derive(Default)]
pub struct CloudFormation {
    lock: Mutex<()>,
}

fn not_found(name_or_id: &str) -> ServiceError {
    ServiceError::validation(format!("Stack with id {name_or_id} does not exist"))
}

/// What CreateStack, UpdateStack and CreateChangeSet share.
#[derive(Debug, Clone, Default)]
struct Request {
    pub template_body: String,
    /// (key, value, UsePreviousValue)
    pub params: Vec<(String, Option<String>, bool)>,
    pub capabilities: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub notification_arns: Vec<String>,
    pub disable_rollback: Option<bool>,
    pub termination_protection: bool,
    pub token: Option<String>,
    pub change_set_id: Option<String>,
}

impl Request {
    fn common(input: &Input<'_>, template_body: String) -> Self {
        let params = input
            .list("Parameters")
            .iter()
            .filter_map(|p| {
                Some((
                    p.str("ParameterKey")?.to_string(),
                    p.str("ParameterValue").map(str::to_string),
                    p.bool("UsePreviousValue").unwrap_or(false),
                ))
            })
            .collect();
        let tags = input
            .list("Tags")
            .iter()
            .filter_map(|t| Some((t.str("Key")?.to_string(), t.str("Value")?.to_string())))
            .collect();
        let disable_rollback = match (input.bool("DisableRollback"), input.str("OnFailure")) {
            (Some(d), _) => Some(d),
            (None, Some("DO_NOTHING")) => Some(true),
            (None, Some(_)) => Some(false),
            (None, None) => None,
        };
        Self {
            template_body,
            params,
            capabilities: input.strings("Capabilities"),
            tags,
            notification_arns: input.strings("NotificationARNs"),
            disable_rollback,
            termination_protection: input.bool("EnableTerminationProtection").unwrap_or(false),
            token: input.str("ClientRequestToken").map(str::to_string),
            change_set_id: None,
        }
    }

    pub fn from_input(input: &Input<'_>) -> Result<Self, ServiceError> {
        Ok(Self::common(input, ops::template_body(input)?))
    }

    /// For updates: `UsePreviousTemplate` takes the stack's template.
    pub fn from_input_or_previous(input: &Input<'_>, stack: &Stack) -> Result<Self, ServiceError> {
        if input.bool("UsePreviousTemplate") == Some(true) {
            if input.str("TemplateBody").is_some() {
                return Err(ServiceError::validation(
                    "You cannot specify both usePreviousTemplate and Template Body/Template URL",
                ));
            }
            return Ok(Self::common(input, stack.template_body.clone()));
        }
        Self::from_input(input)
    }
}

impl Service for CloudFormation {
    fn id(&self) -> ServiceId {
        ServiceId::CloudFormation
    }

    fn call(
        &self,
        ctx: &Ctx<'_>,
        operation: &str,
        input: Input<'_>,
    ) -> Result<Value, ServiceError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let fetched;
        let input = match ops::fetch_template_url(ctx, &input)? {
            Some(with_body) => {
                fetched = with_body;
                Input(&fetched)
            }
            None => input,
        };
        match operation {
            "ValidateTemplate" => ops::validate_template(input),
            "CreateStack" => ops::create_stack(ctx, input),
            "UpdateStack" => ops::update_stack(ctx, input),
            "DeleteStack" => ops::delete_stack(ctx, input),
            "GetTemplate" => ops::get_template(ctx, input),
            "DescribeStacks" => describe::describe_stacks(ctx, input),
            "DescribeStackEvents" => describe::describe_stack_events(ctx, input),
            "DescribeStackResources" => describe::describe_stack_resources(ctx, input),
            "DescribeStackResource" => describe::describe_stack_resource(ctx, input),
            "ListStackResources" => describe::list_stack_resources(ctx, input),
            "ListStacks" => describe::list_stacks(ctx, input),
            "ListExports" => describe::list_exports(ctx, input),
            "CreateChangeSet" => changesets::create_change_set(ctx, input),
            "DescribeChangeSet" => changesets::describe_change_set(ctx, input),
            "ExecuteChangeSet" => changesets::execute_change_set(ctx, input),
            "DeleteChangeSet" => changesets::delete_change_set(ctx, input),
            "ListChangeSets" => changesets::list_change_sets(ctx, input),
            "UpdateTerminationProtection" => ops::update_termination_protection(ctx, input),
            op => Err(unknown_operation(op)),
        }
    }

    /// Stacks also move on without being polled, so a stack's pipeline appears even when its
    /// creator only watches CodePipeline.
    fn tick(&self, ctx: &Ctx<'_>) -> Result<bool, ServiceError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let now = ctx.clock.now();
        let docs = ctx.store.documents(model::SVC, model::STACK)?;
        let mut changed = false;
        for (id, doc) in docs.iter() {
            let due = doc
                .get("op")
                .and_then(|op| op.get("next_at"))
                .and_then(Value::as_f64)
                .is_some_and(|t| t <= now + 1e-9);
            if due {
                progress::advance(ctx, id)?;
                changed = true;
            }
        }
        Ok(changed)
    }
}
