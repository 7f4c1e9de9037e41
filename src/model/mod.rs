//! Domain types the console, the worker and the AWS read layer share: owned data, no SDK or
//! ratatui types. Timestamps are epoch seconds (`f64`), as on the AWS JSON wire.

mod activity;
mod monitor;
mod operation;
mod pipeline;

pub use activity::{
    Build, BuildPhase, Deployment, DeploymentCounts, DeploymentTarget, Diagnostics, LifecycleEvent,
    RollbackInfo,
};
pub use monitor::{
    Alarm, AlarmHistoryItem, AlarmState, LogGroupInfo, LogLine, LogPage, LogStreamInfo,
    MetricPoint, StackEvent, StackOutput, StackResource, StackView,
};
pub use operation::{Operation, RetryMode};
pub use pipeline::{
    ActionExecution, ActionState, ErrorDetails, ExecutionSummary, LatestStageExecution,
    PipelineDetail, PipelineSummary, Revision, StageCell, StageState, TransitionState,
};

use serde::Serialize;

/// Epoch seconds.
pub type Timestamp = f64;

/// The status of a pipeline execution, stage, action, build or deployment, folded into the
/// values CodePipeline uses; anything else is kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Default)]
pub enum Status {
    InProgress,
    Succeeded,
    Failed,
    Stopped,
    Stopping,
    Superseded,
    Abandoned,
    Cancelled,
    /// Waiting to start (CodeDeploy `Created`/`Queued`/`Ready`, CodeBuild `QUEUED`).
    Pending,
    /// Never ran (no execution yet).
    #[default]
    None,
    Unknown(String),
}

impl Status {
    /// Parses the wire spelling of any of the services (`InProgress`, `IN_PROGRESS`, `Succeeded`,
    /// `SUCCEEDED`, `FAULT`, `TIMED_OUT`, ...).
    pub fn parse(wire: &str) -> Status {
        let key: String = wire
            .chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect();
        match key.as_str() {
            "inprogress" | "running" => Status::InProgress,
            "succeeded" | "success" | "succeed" => Status::Succeeded,
            "failed" | "fault" | "timedout" | "error" => Status::Failed,
            "stopped" => Status::Stopped,
            "stopping" => Status::Stopping,
            "superseded" => Status::Superseded,
            "abandoned" => Status::Abandoned,
            "cancelled" | "canceled" => Status::Cancelled,
            "created" | "queued" | "ready" | "pending" | "baking" => Status::Pending,
            "" => Status::None,
            _ => Status::Unknown(wire.to_string()),
        }
    }

    /// CodePipeline's spelling, for tables and logs.
    pub fn label(&self) -> &str {
        match self {
            Status::InProgress => "InProgress",
            Status::Succeeded => "Succeeded",
            Status::Failed => "Failed",
            Status::Stopped => "Stopped",
            Status::Stopping => "Stopping",
            Status::Superseded => "Superseded",
            Status::Abandoned => "Abandoned",
            Status::Cancelled => "Cancelled",
            Status::Pending => "Pending",
            Status::None => "-",
            Status::Unknown(s) => s,
        }
    }

    /// Still moving: polling should be fast while anything is active.
    pub fn is_active(&self) -> bool {
        matches!(
            self,
            Status::InProgress | Status::Stopping | Status::Pending
        )
    }

    pub fn is_failure(&self) -> bool {
        matches!(self, Status::Failed | Status::Abandoned | Status::Cancelled)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Who the clients act as (`sts:GetCallerIdentity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

/// Where operations go, as shown in the header and every confirmation: `EMULATOR`, or
/// `profile@region` plus the account once known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct TargetInfo {
    /// `EMULATOR`, `profile@region` or an endpoint URL.
    pub label: String,
    pub emulator: bool,
    pub account: Option<String>,
    /// `--endpoint-url` to add to `aws` CLI equivalents (emulator served on a port).
    pub endpoint_url: Option<String>,
}

impl TargetInfo {
    /// `EMULATOR` or `profile@region (account 123456789012)`.
    pub fn describe(&self) -> String {
        match (&self.account, self.emulator) {
            (Some(acct), false) => format!("{} (account {acct})", self.label),
            _ => self.label.clone(),
        }
    }
}
