//! CloudWatch alarms and metrics, CloudWatch Logs, CloudFormation stacks.

use serde::Serialize;

use super::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub enum AlarmState {
    Ok,
    Alarm,
    #[default]
    InsufficientData,
}

impl AlarmState {
    pub fn parse(wire: &str) -> AlarmState {
        match wire {
            "OK" => AlarmState::Ok,
            "ALARM" => AlarmState::Alarm,
            _ => AlarmState::InsufficientData,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Alarm {
    pub name: String,
    pub state: AlarmState,
    pub reason: Option<String>,
    pub updated: Option<Timestamp>,
    pub namespace: Option<String>,
    pub metric: Option<String>,
    pub dimensions: Vec<(String, String)>,
    pub threshold: Option<f64>,
    pub comparison: Option<String>,
    pub period: Option<i32>,
    pub evaluation_periods: Option<i32>,
    pub datapoints_to_alarm: Option<i32>,
    /// `Average`, `Sum`, ... or an extended statistic such as `p99`.
    pub statistic: Option<String>,
}

impl Alarm {
    /// The value of a dimension (`Environment`, `Service`).
    pub fn dimension(&self, name: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct AlarmHistoryItem {
    pub t: Timestamp,
    /// `StateUpdate`, `ConfigurationUpdate`, `Action`.
    pub kind: String,
    pub summary: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct MetricPoint {
    pub t: Timestamp,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct LogLine {
    pub t: Timestamp,
    pub ingested: Option<Timestamp>,
    pub stream: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct LogGroupInfo {
    pub name: String,
    pub stored_bytes: Option<i64>,
    pub retention_days: Option<i32>,
    pub created: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct LogStreamInfo {
    pub name: String,
    pub last_event: Option<Timestamp>,
    pub created: Option<Timestamp>,
}

/// One page of `FilterLogEvents` / `GetLogEvents`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct LogPage {
    pub group: String,
    pub lines: Vec<LogLine>,
    /// Token for the next (newer, when following) page; `None` at the end.
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct StackView {
    pub name: String,
    pub status: String,
    pub reason: Option<String>,
    pub events: Vec<StackEvent>,
    pub resources: Vec<StackResource>,
    pub outputs: Vec<StackOutput>,
    pub updated: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct StackEvent {
    pub t: Timestamp,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct StackOutput {
    pub key: String,
    pub value: String,
    pub description: Option<String>,
}
