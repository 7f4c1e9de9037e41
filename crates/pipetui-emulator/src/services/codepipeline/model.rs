//! What CodePipeline keeps in the store: pipelines (every version of the declaration, tags,
//! transitions, the source heads last seen) and executions (stage runs and every action
//! execution), as serde documents.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::ServiceError;
use crate::store::Tx;

pub const SVC: &str = "codepipeline";
pub const PIPELINE: &str = "pipeline";
pub const EXECUTION: &str = "execution";
/// Record stream of approval notifications ("sent" to the action's SNS topic).
pub const NOTIFICATIONS: &str = "notifications";

/// Tag that turns automatic source-change triggers off for a pipeline.
pub const TRIGGER_TAG: &str = "pipetui:trigger";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Transition {
    pub enabled: bool,
    pub reason: Option<String>,
    pub changed_at: f64,
    pub changed_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PipelineDoc {
    pub name: String,
    /// Declarations by version (the current one is the highest).
    pub versions: BTreeMap<i64, Value>,
    pub version: i64,
    pub created: f64,
    pub updated: f64,
    pub tags: BTreeMap<String, String>,
    /// Inbound transition state per stage name (absent = enabled, never changed).
    pub transitions: BTreeMap<String, Transition>,
    /// Source action name → branch head last seen by the change detector.
    pub heads: BTreeMap<String, String>,
    pub next_seq: u64,
}

impl PipelineDoc {
    pub fn declaration(&self) -> &Value {
        self.versions.get(&self.version).unwrap_or(&Value::Null)
    }

    pub fn declaration_at(&self, version: i64) -> Option<&Value> {
        self.versions.get(&version)
    }

    pub fn manual_trigger(&self) -> bool {
        self.tags
            .get(TRIGGER_TAG)
            .is_some_and(|v| v.eq_ignore_ascii_case("manual"))
    }

    pub fn inbound_enabled(&self, stage: &str) -> bool {
        self.transitions.get(stage).is_none_or(|t| t.enabled)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ArtifactLoc {
    pub name: String,
    pub bucket: String,
    pub key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Revision {
    pub action: String,
    pub artifact: String,
    pub revision_id: String,
    pub change_id: String,
    pub summary: String,
    pub created: f64,
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// One action execution (a retry makes a new one).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionRun {
    pub id: String,
    pub stage: String,
    pub action: String,
    pub status: String,
    pub start: f64,
    pub updated: f64,
    pub updated_by: Option<String>,
    pub type_id: [String; 4],
    pub configuration: BTreeMap<String, String>,
    pub resolved: BTreeMap<String, String>,
    pub role_arn: Option<String>,
    pub region: String,
    pub namespace: Option<String>,
    pub inputs: Vec<ArtifactLoc>,
    pub outputs: Vec<ArtifactLoc>,
    pub external_id: Option<String>,
    pub external_url: Option<String>,
    pub summary: Option<String>,
    pub error: Option<ErrorDetail>,
    pub output_variables: BTreeMap<String, String>,
    /// Open manual-approval request token.
    pub token: Option<String>,
    pub deadline: Option<f64>,
    pub pipeline_version: i64,
}

impl ActionRun {
    pub fn in_progress(&self) -> bool {
        self.status == "InProgress"
    }
    pub fn category(&self) -> &str {
        &self.type_id[0]
    }
    pub fn provider(&self) -> &str {
        &self.type_id[2]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct StageRun {
    pub name: String,
    /// None while the execution has not entered the stage.
    pub status: Option<String>,
    pub changed: f64,
    pub manual_retries: u32,
    /// Automatic retries made by `onFailure: { result: RETRY }` (AWS makes one).
    #[serde(default)]
    pub auto_retries: u32,
    /// `ManualStageRetry` or `AutomatedStageRetry`, for retryStageMetadata.
    #[serde(default)]
    pub last_retry: Option<String>,
    /// Action name → index in [`Execution::actions`] of its current action execution.
    pub current: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stop {
    pub abandon: bool,
    pub reason: Option<String>,
}

/// Where an execution is: waiting at the inbound transition of `stage`, or running in it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Position {
    pub stage: usize,
    pub entered: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Execution {
    pub id: String,
    pub pipeline: String,
    pub seq: u64,
    pub version: i64,
    pub status: String,
    pub summary: Option<String>,
    pub start: f64,
    pub updated: f64,
    pub trigger_type: String,
    pub trigger_detail: String,
    pub mode: String,
    pub kind: String,
    pub rollback_target: Option<String>,
    pub stop: Option<Stop>,
    pub client_token: Option<String>,
    pub variables: Vec<(String, String)>,
    /// Source action name → commit to check out instead of the branch head.
    pub overrides: BTreeMap<String, String>,
    pub revisions: Vec<Revision>,
    pub artifacts: BTreeMap<String, ArtifactLoc>,
    /// Namespace → output variables.
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
    pub at: Position,
    /// A rollback runs only this stage.
    pub only_stage: Option<usize>,
    pub stages: Vec<StageRun>,
    pub actions: Vec<ActionRun>,
}

impl Execution {
    pub fn key(&self) -> String {
        exec_key(&self.pipeline, self.seq)
    }

    pub fn active(&self) -> bool {
        matches!(self.status.as_str(), "InProgress" | "Stopping")
    }

    pub fn last_stage(&self) -> usize {
        self.only_stage
            .unwrap_or(self.stages.len().saturating_sub(1))
    }

    /// The current action executions of stage `i`.
    pub fn current_actions(&self, i: usize) -> impl Iterator<Item = &ActionRun> {
        self.stages
            .get(i)
            .into_iter()
            .flat_map(|s| s.current.values())
            .filter_map(|&a| self.actions.get(a))
    }
}

pub fn exec_key(pipeline: &str, seq: u64) -> String {
    format!("{pipeline}/{seq:010}")
}

pub fn not_found(name: &str) -> ServiceError {
    ServiceError::new(
        "PipelineNotFoundException",
        format!("Account '000000000000' does not have a pipeline with name '{name}'"),
    )
}

pub fn validation(message: impl Into<String>) -> ServiceError {
    ServiceError::new("ValidationException", message)
}

pub fn parse<T: for<'de> Deserialize<'de>>(v: &Value) -> Result<T, ServiceError> {
    serde_json::from_value(v.clone())
        .map_err(|e| ServiceError::internal(format!("corrupt codepipeline document: {e}")))
}

pub fn to_value<T: Serialize>(v: &T) -> Result<Value, ServiceError> {
    serde_json::to_value(v)
        .map_err(|e| ServiceError::internal(format!("cannot store codepipeline document: {e}")))
}

pub fn get_pipeline(tx: &Tx<'_>, name: &str) -> Result<PipelineDoc, ServiceError> {
    match tx.get(SVC, PIPELINE, name)? {
        Some(v) => parse(&v),
        None => Err(not_found(name)),
    }
}

pub fn put_pipeline(tx: &Tx<'_>, p: &PipelineDoc) -> Result<(), ServiceError> {
    tx.put(SVC, PIPELINE, &p.name, &to_value(p)?)
}

pub fn put_execution(tx: &Tx<'_>, e: &Execution) -> Result<(), ServiceError> {
    tx.put(SVC, EXECUTION, &e.key(), &to_value(e)?)
}

/// Every execution of `pipeline`, oldest first.
pub fn executions(
    store: &crate::store::Store,
    pipeline: &str,
) -> Result<Vec<Execution>, ServiceError> {
    let docs = store.documents(SVC, EXECUTION)?;
    let prefix = format!("{pipeline}/");
    docs.range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .map(|(_, v)| parse(v))
        .collect()
}

/// The execution `id` of `pipeline`, if it belongs to it.
pub fn find_execution(
    store: &crate::store::Store,
    pipeline: &str,
    id: &str,
) -> Result<Execution, ServiceError> {
    executions(store, pipeline)?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| {
            ServiceError::new(
                "PipelineExecutionNotFoundException",
                format!(
                    "Pipeline Execution with id '{id}' not found for pipeline with name '{pipeline}'"
                ),
            )
        })
}

impl StageRun {
    /// Forgets the action executions a retry runs again: all of them, or the unsuccessful ones.
    pub fn reset_for_retry(&mut self, mode: &str, actions: &[ActionRun]) {
        if mode == "ALL_ACTIONS" {
            self.current.clear();
        } else {
            self.current
                .retain(|_, k| actions.get(*k).is_some_and(|r| r.status == "Succeeded"));
        }
    }
}
