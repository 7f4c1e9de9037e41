//! CodePipeline shapes: pipelines, stages, actions, executions.

use serde::Serialize;

use super::{Status, Timestamp};

/// A source revision (commit) an execution or stage works on.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Revision {
    pub id: String,
    pub summary: Option<String>,
    pub created: Option<Timestamp>,
    pub url: Option<String>,
}

/// One row of the pipelines list.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct PipelineSummary {
    pub name: String,
    pub version: i32,
    pub stages: Vec<StageCell>,
    pub latest_execution: Option<ExecutionSummary>,
    pub pending_approvals: usize,
    pub updated: Option<Timestamp>,
}

/// The latest status of one stage, as a coloured cell in the pipelines list.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct StageCell {
    pub name: String,
    pub status: Status,
    pub execution_id: Option<String>,
}

/// `GetPipeline` + `GetPipelineState`, merged.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct PipelineDetail {
    pub name: String,
    /// `V1` or `V2`.
    pub pipeline_type: String,
    /// `QUEUED`, `SUPERSEDED` or `PARALLEL`.
    pub execution_mode: String,
    pub stages: Vec<StageState>,
    /// Pipeline-level variables: name → default value.
    pub variables: Vec<(String, String)>,
    pub updated: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct StageState {
    pub name: String,
    pub inbound_transition: TransitionState,
    pub latest_execution: Option<LatestStageExecution>,
    pub actions: Vec<ActionState>,
    /// The revision the stage is working on (from the execution's source revisions).
    pub revision: Option<Revision>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransitionState {
    pub enabled: bool,
    pub reason: Option<String>,
    pub last_changed_by: Option<String>,
    pub last_changed_at: Option<Timestamp>,
}

impl Default for TransitionState {
    fn default() -> Self {
        Self {
            enabled: true,
            reason: None,
            last_changed_by: None,
            last_changed_at: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct LatestStageExecution {
    pub execution_id: String,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ErrorDetails {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ActionState {
    pub name: String,
    /// `Source`, `Build`, `Test`, `Deploy`, `Approval`, `Invoke`.
    pub category: String,
    /// `CodeBuild`, `CodeDeploy`, `Manual`, ...
    pub provider: String,
    pub status: Status,
    pub summary: Option<String>,
    pub last_status_change: Option<Timestamp>,
    pub external_execution_id: Option<String>,
    pub external_execution_url: Option<String>,
    pub error: Option<ErrorDetails>,
    /// Approval token, present while a manual approval waits.
    pub token: Option<String>,
    pub custom_data: Option<String>,
    pub review_url: Option<String>,
    pub revision: Option<Revision>,
    /// The action execution id (for `ListActionExecutions`).
    pub action_execution_id: Option<String>,
}

impl ActionState {
    /// A manual approval that is waiting for a decision.
    pub fn awaiting_approval(&self) -> bool {
        self.category == "Approval" && self.status == Status::InProgress && self.token.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ExecutionSummary {
    pub id: String,
    pub status: Status,
    pub status_summary: Option<String>,
    /// `StartPipelineExecution`, `Webhook`, `CloudWatchEvent`, ...
    pub trigger_type: Option<String>,
    pub trigger_detail: Option<String>,
    pub start: Option<Timestamp>,
    pub last_update: Option<Timestamp>,
    pub source_revisions: Vec<Revision>,
    /// `STANDARD` or `ROLLBACK`.
    pub execution_type: Option<String>,
    pub execution_mode: Option<String>,
}

/// One row of `ListActionExecutions`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ActionExecution {
    pub execution_id: String,
    pub action_execution_id: Option<String>,
    pub stage: String,
    pub action: String,
    pub provider: Option<String>,
    pub status: Status,
    pub start: Option<Timestamp>,
    pub last_update: Option<Timestamp>,
    pub external_execution_id: Option<String>,
    pub external_execution_url: Option<String>,
    pub summary: Option<String>,
    pub error: Option<ErrorDetails>,
    /// Resolved configuration of the action (key → value).
    pub input_config: Vec<(String, String)>,
    pub output_variables: Vec<(String, String)>,
}
