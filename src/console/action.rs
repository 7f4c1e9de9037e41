//! Messages into the reducer (`Action`) and work out of it (`Effect`).

use crossterm::event::{KeyEvent, MouseEvent};

use crate::model::{
    ActionExecution, Alarm, AlarmHistoryItem, Build, Deployment, ExecutionSummary, Identity,
    LogGroupInfo, LogPage, LogStreamInfo, MetricPoint, Operation, PipelineDetail, PipelineSummary,
    StackView,
};

use super::keymap::Command;
use super::state::AuditRow;

/// A read the worker performs. Its [`Request::key`] names the slot: a newer request for the same
/// slot replaces an older one still running (latest request wins).
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Identity,
    Pipelines,
    Pipeline(String),
    Executions(String),
    ActionExecutions {
        pipeline: String,
        execution_id: String,
    },
    Build(String),
    Deployment(String),
    Alarms,
    AlarmHistory(String),
    Metric(Box<Alarm>),
    LogGroups,
    LogStreams(String),
    LogEvents {
        group: String,
        stream: Option<String>,
        pattern: String,
        start: Option<f64>,
        token: Option<String>,
        /// Appending to the buffer (follow) rather than replacing it.
        append: bool,
    },
    Stack(String),
    Audit,
}

impl Request {
    /// The polling slot.
    pub fn key(&self) -> String {
        match self {
            Request::Identity => "identity".into(),
            Request::Pipelines => "pipelines".into(),
            Request::Pipeline(_) => "pipeline".into(),
            Request::Executions(_) => "executions".into(),
            Request::ActionExecutions { .. } => "action-executions".into(),
            Request::Build(_) => "build".into(),
            Request::Deployment(_) => "deployment".into(),
            Request::Alarms => "alarms".into(),
            Request::AlarmHistory(_) => "alarm-history".into(),
            Request::Metric(_) => "metric".into(),
            Request::LogGroups => "log-groups".into(),
            Request::LogStreams(_) => "log-streams".into(),
            Request::LogEvents { .. } => "log-events".into(),
            Request::Stack(_) => "stack".into(),
            Request::Audit => "audit".into(),
        }
    }
}

/// Data a request brought back (owned).
#[derive(Debug, Clone)]
pub enum Loaded {
    Identity(Identity),
    Pipelines(Vec<PipelineSummary>),
    Pipeline(PipelineDetail),
    Executions(String, Vec<ExecutionSummary>),
    ActionExecutions(String, Vec<ActionExecution>),
    Build(Build),
    Deployment(Deployment),
    Alarms(Vec<Alarm>),
    AlarmHistory(String, Vec<AlarmHistoryItem>),
    Metric(String, Vec<MetricPoint>),
    LogGroups(Vec<LogGroupInfo>),
    LogStreams(String, Vec<LogStreamInfo>),
    LogEvents { page: LogPage, append: bool },
    Stack(StackView),
    Audit(Vec<AuditRow>),
}

/// A failed read, classified for back-off and the banner.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchError {
    /// `Code: message` or `cannot reach …`.
    pub message: String,
    pub throttled: bool,
    pub unreachable: bool,
}

#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// Text the terminal pasted (bracketed paste): it goes into the focused text field as text,
    /// never as keys.
    Paste(String),
    Resize(u16, u16),
    /// Time passes (epoch seconds): polls fall due, notices expire.
    Tick(f64),
    /// The time on the clock that stamps the data (the embedded emulator's) at wall time `wall`.
    DataClock {
        data: f64,
        wall: f64,
    },
    Command(Command),
    Loaded {
        key: String,
        data: Box<Loaded>,
    },
    Failed {
        key: String,
        error: FetchError,
    },
    /// An operation finished: the notice, or the `Code: message` failure.
    Done {
        op: Operation,
        result: Result<String, String>,
    },
    /// An operation's answer was lost (timeout, dropped connection) and reading the resulting
    /// state could not tell whether it was applied: the operator must check before retrying.
    Unknown {
        op: Operation,
        message: String,
    },
    Saved(Result<String, String>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Fetch(Request),
    /// Send a mutating operation (the worker records it in the audit log first).
    Run(Operation),
    /// Write text to a file.
    Save {
        path: std::path::PathBuf,
        text: String,
    },
}
