//! What an action ran: CodeBuild builds and CodeDeploy deployments.

use serde::Serialize;

use super::{Status, Timestamp};

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Build {
    pub id: String,
    pub project: String,
    pub status: Status,
    pub current_phase: Option<String>,
    pub phases: Vec<BuildPhase>,
    pub log_group: Option<String>,
    pub log_stream: Option<String>,
    /// Replayed buildspec in the emulator (project tagged `pipetui:simulated`).
    pub simulated: bool,
    pub source_version: Option<String>,
    pub initiator: Option<String>,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct BuildPhase {
    /// `SUBMITTED`, `PROVISIONING`, `BUILD`, ...
    pub name: String,
    pub status: Status,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    pub duration_secs: Option<i64>,
    /// Phase context messages (`statusCode: message`).
    pub context: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Deployment {
    pub id: String,
    pub application: String,
    pub group: String,
    pub status: Status,
    /// `user`, `autoscaling`, `codeDeployRollback`, ...
    pub creator: Option<String>,
    pub overview: DeploymentCounts,
    pub error: Option<super::ErrorDetails>,
    pub rollback: Option<RollbackInfo>,
    pub compute_platform: Option<String>,
    pub create: Option<Timestamp>,
    pub complete: Option<Timestamp>,
    pub targets: Vec<DeploymentTarget>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct DeploymentCounts {
    pub pending: i64,
    pub in_progress: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub skipped: i64,
    pub ready: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct RollbackInfo {
    pub rollback_deployment_id: Option<String>,
    pub triggering_deployment_id: Option<String>,
    pub message: Option<String>,
}

/// One host (instance, ECS task set, Lambda) of a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct DeploymentTarget {
    pub id: String,
    /// `InstanceTarget`, `ECSTarget`, `LambdaTarget`.
    pub kind: String,
    pub status: Status,
    pub lifecycle: Vec<LifecycleEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct LifecycleEvent {
    pub name: String,
    pub status: Status,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    pub diagnostics: Option<Diagnostics>,
}

impl LifecycleEvent {
    pub fn duration_secs(&self) -> Option<f64> {
        Some(self.end? - self.start?)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Diagnostics {
    pub error_code: Option<String>,
    pub script_name: Option<String>,
    pub message: Option<String>,
    pub log_tail: Option<String>,
}
