//! CodePipeline (awsJson 1.1): the API over a store of pipelines and executions, and an engine
//! that runs them — git sources, CodeBuild builds/tests, CodeDeploy deployments, manual
//! approvals, Lambda invokes — on the emulator's ticks.
//!
//! Emulator choices: a commit on a source branch starts an execution unless the pipeline is
//! tagged `pipetui:trigger=manual` (the tag, not PollForSourceChanges/DetectChanges, decides);
//! an Outbound transition is the next stage's Inbound one; stage conditions (beforeEntry,
//! onSuccess and onFailure rule conditions) are stored but not evaluated (onFailure ROLLBACK and
//! RETRY are honoured); Lambda invokes are logged and succeed; a restart fails every action
//! that was in progress, approvals included.

mod api;
mod approval;
mod cfn;
mod control;
mod declaration;
mod engine;
mod executors;
mod lambda;
pub mod model;
mod source;
mod state;

use std::sync::Mutex;

use serde_json::Value;

use crate::protocol::{Input, ServiceError, ServiceId};
use crate::service::{Ctx, Service, unknown_operation};

pub use approval::APPROVAL_TIMEOUT;
pub use engine::RESTARTED;
pub use lambda::INVOCATIONS;

#[derive(Debug, Default)]
pub struct CodePipeline {
    /// API operations and ticks take turns, so an approval and a tick never lose each
    /// other's read-modify-write of the same execution.
    serial: Mutex<()>,
}

impl Service for CodePipeline {
    fn id(&self) -> ServiceId {
        ServiceId::CodePipeline
    }

    fn call(
        &self,
        ctx: &Ctx<'_>,
        operation: &str,
        input: Input<'_>,
    ) -> Result<Value, ServiceError> {
        let _turn = self.serial.lock().unwrap_or_else(|p| p.into_inner());
        match operation {
            "CreatePipeline" => api::create_pipeline(ctx, input),
            "UpdatePipeline" => api::update_pipeline(ctx, input),
            "DeletePipeline" => api::delete_pipeline(ctx, input),
            "GetPipeline" => api::get_pipeline_op(ctx, input),
            "ListPipelines" => api::list_pipelines(ctx, input),
            "ListTagsForResource" => api::list_tags(ctx, input),
            "TagResource" => api::tag_resource(ctx, input),
            "UntagResource" => api::untag_resource(ctx, input),
            "EnableStageTransition" => api::set_transition(ctx, input, true),
            "DisableStageTransition" => api::set_transition(ctx, input, false),
            "GetPipelineState" => state::get_pipeline_state(ctx, input),
            "GetPipelineExecution" => state::get_pipeline_execution(ctx, input),
            "ListPipelineExecutions" => state::list_pipeline_executions(ctx, input),
            "ListActionExecutions" => state::list_action_executions(ctx, input),
            "StartPipelineExecution" => control::start_execution(ctx, input),
            "StopPipelineExecution" => control::stop_execution(ctx, input),
            "PutApprovalResult" => control::put_approval_result(ctx, input),
            "RetryStageExecution" => control::retry_stage(ctx, input),
            "RollbackStage" => control::rollback_stage(ctx, input),
            op => Err(unknown_operation(op)),
        }
    }

    fn tick(&self, ctx: &Ctx<'_>) -> Result<bool, ServiceError> {
        let _turn = self.serial.lock().unwrap_or_else(|p| p.into_inner());
        engine::tick(ctx)
    }

    fn recover(&self, ctx: &Ctx<'_>) -> Result<(), ServiceError> {
        let _turn = self.serial.lock().unwrap_or_else(|p| p.into_inner());
        engine::recover(ctx)
    }
}

/// CloudFormation's resource handler: creates (or, with `update`, updates in place) the live
/// CodePipeline object behind a stack resource of `resource_type` from its evaluated `props`
/// (CloudFormation's PascalCase property names).
pub fn cfn_put(
    ctx: &Ctx<'_>,
    resource_type: &str,
    physical_id: &str,
    props: &Value,
    _update: bool,
) -> Result<(), ServiceError> {
    cfn::put(ctx, resource_type, physical_id, props)
}

/// CloudFormation's resource handler: deletes the live object; one already gone is not an error.
pub fn cfn_delete(
    ctx: &Ctx<'_>,
    resource_type: &str,
    physical_id: &str,
    _props: &Value,
) -> Result<(), ServiceError> {
    cfn::delete(ctx, resource_type, physical_id)
}
