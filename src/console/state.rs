//! The one `State` of the console. Only `update` changes it; rendering reads it.

use std::collections::HashMap;

use crate::model::{
    ActionExecution, Alarm, AlarmHistoryItem, AlarmState, Build, Deployment, ExecutionSummary,
    Identity, LogGroupInfo, LogStreamInfo, MetricPoint, Operation, PipelineDetail, PipelineSummary,
    StackView, TargetInfo,
};

use super::keymap::Keymap;
use super::logbuf::LogBuffer;
use super::poll::Polls;

/// The screens, in breadcrumb order.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[strum(serialize_all = "lowercase")]
pub enum View {
    Pipelines,
    Pipeline,
    Executions,
    #[strum(serialize = "action")]
    ActionDetail,
    Alarms,
    Logs,
    Stack,
    Audit,
}

impl View {
    pub const ALL: [View; 8] = [
        View::Pipelines,
        View::Pipeline,
        View::Executions,
        View::ActionDetail,
        View::Alarms,
        View::Logs,
        View::Stack,
        View::Audit,
    ];

    /// The name used in breadcrumbs, the palette and `[console.keys.<view>]`.
    pub fn name(self) -> &'static str {
        self.into()
    }

    pub fn parse(name: &str) -> Option<View> {
        name.parse().ok()
    }
}

/// A list position: the selected row; the renderer derives the scroll offset from it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub selected: usize,
}

impl Cursor {
    /// Moves by `delta` rows within `len` rows (clamped, never wrapping).
    pub fn step(&mut self, delta: isize, len: usize) {
        if len == 0 {
            self.selected = 0;
            return;
        }
        let max = len as isize - 1;
        self.selected = (self.selected as isize + delta).clamp(0, max) as usize;
    }

    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeKind {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub kind: NoticeKind,
    pub at: f64,
}

/// What a one-line text input is for.
#[derive(Debug, Clone, PartialEq)]
pub enum InputPurpose {
    /// The reason for disabling a stage's inbound transition.
    DisableReason { pipeline: String, stage: String },
    /// The reason for stopping an execution.
    StopReason {
        pipeline: String,
        execution_id: String,
        abandon: bool,
    },
    /// A CloudWatch Logs filter pattern for the server-side query.
    LogPattern,
    /// Text to search for in the log lines (n / N move between matches).
    LogSearch,
}

/// Modal layers drawn above the view; the top one takes the keys.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    /// `:` command palette; `selected` indexes the completions.
    Palette {
        input: String,
        selected: usize,
    },
    /// `/` filter being typed (the view's filter updates as you type).
    Filter,
    Help,
    /// A mutating operation waiting for `y`.
    Confirm {
        op: Operation,
        warnings: Vec<String>,
    },
    /// Approve or reject with a comment; shows what is being approved.
    Approval(Box<ApprovalDialog>),
    Input {
        purpose: InputPurpose,
        prompt: String,
        value: String,
        error: Option<String>,
    },
    /// Earlier successful executions to roll a stage back to, the last good one first.
    RollbackPicker {
        pipeline: String,
        stage: String,
        candidates: Vec<ExecutionSummary>,
        selected: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalDialog {
    pub pipeline: String,
    pub stage: String,
    pub action: crate::model::ActionState,
    pub approve: bool,
    pub comment: String,
    /// When the approval action started (it expires 7 days later).
    pub started: Option<f64>,
    /// The revision the pipeline carries to the approval.
    pub revision: Option<crate::model::Revision>,
    /// Alarms in ALARM state for the environment the approval guards.
    pub firing_alarms: Vec<String>,
}

/// A row of the audit view (the `audit` module's entries, flattened for display).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    pub time: f64,
    pub identity: String,
    pub target: String,
    pub operation: String,
    pub outcome: String,
    pub cli_command: String,
}

/// Time window for log queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogWindow {
    FiveMinutes,
    #[default]
    OneHour,
    Day,
    All,
}

impl LogWindow {
    pub fn seconds(self) -> Option<f64> {
        match self {
            LogWindow::FiveMinutes => Some(300.0),
            LogWindow::OneHour => Some(3600.0),
            LogWindow::Day => Some(86_400.0),
            LogWindow::All => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LogWindow::FiveMinutes => "5m",
            LogWindow::OneHour => "1h",
            LogWindow::Day => "24h",
            LogWindow::All => "all",
        }
    }

    pub fn next(self) -> LogWindow {
        match self {
            LogWindow::FiveMinutes => LogWindow::OneHour,
            LogWindow::OneHour => LogWindow::Day,
            LogWindow::Day => LogWindow::All,
            LogWindow::All => LogWindow::FiveMinutes,
        }
    }
}

/// Which part of the logs view has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogPane {
    #[default]
    Groups,
    Streams,
    Lines,
}

#[derive(Debug, Default)]
pub struct LogsState {
    pub pane: LogPane,
    pub groups: Vec<LogGroupInfo>,
    pub groups_cursor: Cursor,
    pub group: Option<String>,
    pub streams: Vec<LogStreamInfo>,
    /// 0 = all streams, n = streams[n-1].
    pub streams_cursor: Cursor,
    pub stream: Option<String>,
    pub buffer: LogBuffer,
    /// Index into the visible lines of the top line on screen.
    pub top: usize,
    pub follow: bool,
    pub wrap: bool,
    pub window: LogWindow,
    pub pattern: String,
    pub search: String,
    /// Visible-line index of the current search match.
    pub search_hit: Option<usize>,
    pub next_token: Option<String>,
    /// Where the last save went (or why it failed), for the status line.
    pub saved: Option<String>,
}

/// Everything the pipeline views need.
#[derive(Debug, Default)]
pub struct Data {
    pub identity: Option<Identity>,
    pub pipelines: Option<Vec<PipelineSummary>>,
    pub pipeline: Option<PipelineDetail>,
    pub executions: Option<Vec<ExecutionSummary>>,
    pub action_executions: Option<Vec<ActionExecution>>,
    pub build: Option<Build>,
    pub deployment: Option<Deployment>,
    pub alarms: Option<Vec<Alarm>>,
    pub alarm_history: Option<Vec<AlarmHistoryItem>>,
    pub metric: Option<Vec<MetricPoint>>,
    pub stack: Option<StackView>,
    pub audit: Option<Vec<AuditRow>>,
}

impl Data {
    /// Alarms currently in ALARM.
    pub fn firing_alarms(&self) -> impl Iterator<Item = &Alarm> {
        self.alarms
            .iter()
            .flatten()
            .filter(|a| a.state == AlarmState::Alarm)
    }
}

/// What the user is looking at inside the pipeline views.
#[derive(Debug, Default)]
pub struct Focus {
    pub pipeline: Option<String>,
    pub execution: Option<String>,
    /// `CodeBuild` build id or `CodeDeploy` deployment id shown in the action detail view.
    pub build_id: Option<String>,
    pub deployment_id: Option<String>,
    pub alarm: Option<String>,
}

/// How the console was configured at start.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub read_only: bool,
    /// Environments marked production (`production` in `[[environments]]`; by default the names
    /// production/prod/prd).
    pub production: Vec<String>,
    /// Every environment's name (to find the alarms an approval guards).
    pub environments: Vec<String>,
    pub stack_name: String,
    /// Slow polling interval (from `console.refresh_seconds`).
    pub refresh_seconds: f64,
    /// Where saved logs go.
    pub save_dir: std::path::PathBuf,
    pub no_color: bool,
    pub theme: crate::ui::theme::ThemeKind,
}

#[derive(Debug)]
pub struct State {
    /// Epoch seconds as of the last `Tick`; rendering takes ages from here, never the clock.
    pub now: f64,
    /// The data's clock minus `now`: an embedded emulator may run faster than real time, and
    /// ages and elapsed times must be measured on the clock that stamped the data.
    pub data_offset: f64,
    pub target: TargetInfo,
    pub settings: Settings,
    pub keymap: Keymap,
    /// Breadcrumbs; the last is on screen.
    pub views: Vec<View>,
    pub cursors: HashMap<View, Cursor>,
    /// Per-view `/` filter text.
    pub filters: HashMap<View, String>,
    /// Second list of a view (executions: its action executions; alarms: none).
    pub inner_cursor: Cursor,
    pub focus: Focus,
    pub data: Data,
    pub logs: LogsState,
    pub overlay: Option<Overlay>,
    pub notices: Vec<Notice>,
    /// Operations sent and not answered yet (never sent twice).
    pub in_flight: Vec<Operation>,
    pub polls: Polls,
    pub size: (u16, u16),
    pub quit: bool,
    /// Set whenever something visible changed; the loop redraws and clears it.
    pub dirty: bool,
}

impl State {
    pub fn new(target: TargetInfo, settings: Settings, keymap: Keymap, now: f64) -> Self {
        Self {
            now,
            data_offset: 0.0,
            target,
            settings,
            keymap,
            views: vec![View::Pipelines],
            cursors: HashMap::new(),
            filters: HashMap::new(),
            inner_cursor: Cursor::default(),
            focus: Focus::default(),
            data: Data::default(),
            logs: LogsState::default(),
            overlay: None,
            notices: Vec::new(),
            in_flight: Vec::new(),
            polls: Polls::default(),
            size: (80, 24),
            quit: false,
            dirty: true,
        }
    }

    /// "Now" on the data's clock (epoch seconds), for ages and elapsed times on screen.
    pub fn data_now(&self) -> f64 {
        self.now + self.data_offset
    }

    pub fn view(&self) -> View {
        self.views.last().copied().unwrap_or(View::Pipelines)
    }

    pub fn cursor(&self, view: View) -> Cursor {
        self.cursors.get(&view).copied().unwrap_or_default()
    }

    pub fn filter(&self, view: View) -> &str {
        self.filters.get(&view).map(String::as_str).unwrap_or("")
    }

    /// The environment a stage, action, pipeline or alarm name refers to: the longest
    /// environment name found in it between separators (`Deploy-prod-eu` is `prod-eu`, not
    /// `prod`; `Deploy-preprod` is not `prod`).
    pub fn environment_of(&self, name: &str) -> Option<&str> {
        self.settings
            .environments
            .iter()
            .filter(|env| names_env(name, env))
            .max_by_key(|env| env.len())
            .map(String::as_str)
    }

    /// Whether a name belongs to an environment marked production (`production` in its
    /// `[[environments]]` entry, by default the names production/prod/prd).
    pub fn is_production(&self, name: &str) -> bool {
        self.environment_of(name).is_some_and(|env| {
            self.settings
                .production
                .iter()
                .any(|p| p.eq_ignore_ascii_case(env))
        })
    }

    /// A pipeline is production when its name or any of its stages is.
    pub fn pipeline_is_production(&self, p: &crate::model::PipelineSummary) -> bool {
        self.is_production(&p.name) || p.stages.iter().any(|s| self.is_production(&s.name))
    }
}

/// `env` occurs in `name` (ASCII case ignored) bounded by the ends or by separators.
/// Byte-wise and allocation-free: it runs for every row of every frame.
fn names_env(name: &str, env: &str) -> bool {
    let (name, env) = (name.as_bytes(), env.as_bytes());
    if env.is_empty() || env.len() > name.len() {
        return false;
    }
    let sep =
        |c: Option<&u8>| c.is_none_or(|c| matches!(c, b'-' | b'_' | b'.' | b' ' | b'/' | b':'));
    (0..=name.len() - env.len()).any(|i| {
        name[i..i + env.len()].eq_ignore_ascii_case(env)
            && sep(i.checked_sub(1).and_then(|j| name.get(j)))
            && sep(name.get(i + env.len()))
    })
}
