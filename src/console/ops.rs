//! Mutating operations as a state machine: a key opens a dialog (`Overlay::Confirm`, approval,
//! reason input, rollback picker); only confirming it yields the one `Effect::Run`.

use crate::model::{Operation, RetryMode, Status};

use super::action::Effect;
use super::keymap::Command;
use super::rows::{self, StageRow};
use super::state::{ApprovalDialog, InputPurpose, NoticeKind, Overlay, State, View};
use super::update::notify;

/// Seven days: how long a manual approval waits before it fails.
pub const APPROVAL_TTL_SECONDS: f64 = 7.0 * 86_400.0;

pub fn command(state: &mut State, cmd: Command) -> Vec<Effect> {
    if state.settings.read_only {
        notify(
            state,
            format!(
                "read-only: {} is disabled (started with --read-only / console.read_only)",
                cmd.name()
            ),
            NoticeKind::Error,
        );
        return Vec::new();
    }
    let result = match cmd {
        Command::Approve | Command::Reject => approval(state, cmd == Command::Approve),
        Command::RetryFailed => retry(state, RetryMode::FailedActions),
        Command::RetryAll => retry(state, RetryMode::AllActions),
        Command::Rollback => rollback(state),
        Command::Stop | Command::Abandon => stop(state, cmd == Command::Abandon),
        Command::Start => match super::update::selected_pipeline(state) {
            Some(pipeline) => Ok(confirm(Operation::StartExecution { pipeline }, state)),
            None => Err("select a pipeline first".to_string()),
        },
        Command::ToggleTransition => transition(state),
        Command::StopDeployment => stop_deployment(state),
        _ => return Vec::new(),
    };
    match result {
        Ok(overlay) => state.overlay = Some(overlay),
        Err(why) => notify(state, why, NoticeKind::Error),
    }
    Vec::new()
}

/// The confirmation dialog for `op`, with production warnings.
pub fn confirm(op: Operation, state: &State) -> Overlay {
    let mut warnings = Vec::new();
    let names: Vec<String> = op.parameters().into_iter().map(|(_, v)| v).collect();
    if names.iter().any(|n| state.is_production(n)) {
        warnings.push("This changes PRODUCTION.".to_string());
    }
    let firing = state.data.firing_alarms().count();
    if firing > 0 {
        warnings.push(format!("{firing} alarm(s) firing"));
    }
    Overlay::Confirm { op, warnings }
}

fn selected_row(state: &State) -> Option<StageRow<'_>> {
    let sel = state.cursor(View::Pipeline).selected;
    rows::stage_rows(state).get(sel).copied()
}

fn pipeline_name(state: &State) -> Result<String, String> {
    state
        .focus
        .pipeline
        .clone()
        .ok_or_else(|| "open a pipeline first".to_string())
}

fn approval(state: &State, approve: bool) -> Result<Overlay, String> {
    if state.view() != View::Pipeline {
        return Err("open a pipeline to approve or reject".into());
    }
    let pipeline = pipeline_name(state)?;
    let row = selected_row(state);
    // The selected action, else the first waiting approval of the selected stage or pipeline.
    let waiting = row
        .and_then(|r| {
            r.action()
                .filter(|a| a.awaiting_approval())
                .map(|a| (r.stage(), a))
        })
        .or_else(|| {
            let stage = row.map(|r| r.stage());
            stage
                .into_iter()
                .chain(state.data.pipeline.iter().flat_map(|p| &p.stages))
                .find_map(|s| {
                    s.actions
                        .iter()
                        .find(|a| a.awaiting_approval())
                        .map(|a| (s, a))
                })
        });
    let Some((stage, action)) = waiting else {
        return Err("no approval is waiting here".into());
    };
    let env = state
        .environment_of(&stage.name)
        .or_else(|| state.environment_of(&action.name))
        .map(str::to_string);
    let firing = match &env {
        Some(env) => rows::firing_for(state, env),
        None => state.data.firing_alarms().collect(),
    };
    let revision = stage.revision.clone().or_else(|| {
        state
            .data
            .pipeline
            .as_ref()
            .and_then(|p| p.stages.iter().find_map(|s| s.revision.clone()))
    });
    Ok(Overlay::Approval(Box::new(ApprovalDialog {
        pipeline,
        stage: stage.name.clone(),
        action: action.clone(),
        approve,
        comment: String::new(),
        started: action.last_status_change,
        revision,
        firing_alarms: firing.into_iter().map(|a| a.name.clone()).collect(),
    })))
}

/// Pipeline, stage, and the stage's latest execution (id, status).
type StageTarget = (String, String, Option<(String, Status)>);

/// The stage a stage-level operation applies to, with its latest execution.
fn selected_stage(state: &State) -> Result<StageTarget, String> {
    if state.view() != View::Pipeline {
        return Err("open a pipeline and select a stage".into());
    }
    let pipeline = pipeline_name(state)?;
    let stage = selected_row(state)
        .map(|r| r.stage())
        .ok_or("select a stage")?;
    let latest = stage
        .latest_execution
        .as_ref()
        .map(|e| (e.execution_id.clone(), e.status.clone()));
    Ok((pipeline, stage.name.clone(), latest))
}

fn retry(state: &State, mode: RetryMode) -> Result<Overlay, String> {
    let (pipeline, stage, latest) = selected_stage(state)?;
    let Some((execution_id, status)) = latest else {
        return Err(format!("stage {stage} has not run yet"));
    };
    if status != Status::Failed {
        return Err(format!(
            "stage {stage} is {status}: only a failed stage can be retried"
        ));
    }
    Ok(confirm(
        Operation::RetryStage {
            pipeline,
            stage,
            execution_id,
            mode,
        },
        state,
    ))
}

fn rollback(state: &State) -> Result<Overlay, String> {
    let (pipeline, stage, latest) = selected_stage(state)?;
    let first = state
        .data
        .pipeline
        .as_ref()
        .and_then(|p| p.stages.first())
        .map(|s| s.name.as_str());
    if first == Some(stage.as_str()) {
        return Err(format!(
            "{stage} is the source stage: it cannot be rolled back"
        ));
    }
    if let Some((_, status)) = &latest
        && status.is_active()
    {
        return Err(format!(
            "stage {stage} is still running: stop it before rolling back"
        ));
    }
    let Some(executions) = state.data.executions.as_ref() else {
        return Err("the execution history is still loading; try again in a moment".into());
    };
    let current = latest.map(|(id, _)| id);
    // Newest first: the last good execution is offered first.
    let mut candidates: Vec<_> = executions
        .iter()
        .filter(|e| e.status == Status::Succeeded && Some(&e.id) != current.as_ref())
        .filter(|e| e.execution_type.as_deref() != Some("ROLLBACK"))
        .cloned()
        .collect();
    candidates.sort_by(|a, b| b.start.unwrap_or(0.0).total_cmp(&a.start.unwrap_or(0.0)));
    if candidates.is_empty() {
        return Err(format!(
            "no earlier successful execution to roll {stage} back to"
        ));
    }
    Ok(Overlay::RollbackPicker {
        pipeline,
        stage,
        candidates,
        selected: 0,
    })
}

fn stop(state: &State, abandon: bool) -> Result<Overlay, String> {
    let pipeline = super::update::selected_pipeline(state).ok_or("select a pipeline first")?;
    let execution = match state.view() {
        View::Executions => {
            let sel = state.cursor(View::Executions).selected;
            rows::executions(state)
                .get(sel)
                .map(|e| (e.id.clone(), e.status.clone()))
        }
        View::Pipeline => state
            .data
            .pipeline
            .iter()
            .flat_map(|p| &p.stages)
            .filter_map(|s| s.latest_execution.as_ref())
            .find(|e| e.status.is_active())
            .map(|e| (e.execution_id.clone(), e.status.clone())),
        _ => None,
    };
    let Some((execution_id, status)) = execution else {
        return Err("no running execution here".into());
    };
    if status != Status::InProgress {
        return Err(format!(
            "execution {execution_id} is {status}: only a running one can be stopped"
        ));
    }
    Ok(Overlay::Input {
        purpose: InputPurpose::StopReason {
            pipeline,
            execution_id,
            abandon,
        },
        prompt: if abandon {
            "Reason (stop and abandon)"
        } else {
            "Reason (stop and wait)"
        }
        .into(),
        value: String::new(),
        error: None,
    })
}

fn transition(state: &State) -> Result<Overlay, String> {
    let (pipeline, stage, _) = selected_stage(state)?;
    let enabled = selected_row(state).is_none_or(|r| r.stage().inbound_transition.enabled);
    if enabled {
        Ok(Overlay::Input {
            purpose: InputPurpose::DisableReason { pipeline, stage },
            prompt: "Reason for disabling the transition".into(),
            value: String::new(),
            error: None,
        })
    } else {
        Ok(confirm(
            Operation::EnableTransition { pipeline, stage },
            state,
        ))
    }
}

fn stop_deployment(state: &State) -> Result<Overlay, String> {
    let d = state
        .data
        .deployment
        .as_ref()
        .ok_or("open a deployment first")?;
    if !d.status.is_active() {
        return Err(format!(
            "deployment {} is {}: nothing to stop",
            d.id, d.status
        ));
    }
    Ok(confirm(
        Operation::StopDeployment {
            deployment_id: d.id.clone(),
            auto_rollback: true,
        },
        state,
    ))
}

/// `DisableStageTransition`'s reason: 1–300 characters of `[a-zA-Z0-9!@ ()\.*?\-]`.
pub fn validate_reason(reason: &str) -> Result<(), String> {
    if reason.trim().is_empty() {
        return Err("a reason is required".into());
    }
    if reason.chars().count() > 300 {
        return Err("at most 300 characters".into());
    }
    match reason
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "!@ ().*?-".contains(*c)))
    {
        Some(c) => Err(format!(
            "`{c}` is not allowed (letters, digits, spaces and !@().*?- only)"
        )),
        None => Ok(()),
    }
}

/// The user confirmed `op`: exactly one effect, unless it is already in flight.
pub fn confirmed(state: &mut State, op: Operation) -> Vec<Effect> {
    state.overlay = None;
    if state.settings.read_only {
        notify(
            state,
            "read-only mode: operations are disabled".into(),
            NoticeKind::Error,
        );
        return Vec::new();
    }
    if state
        .in_flight
        .iter()
        .any(|o| o.dedup_key() == op.dedup_key())
    {
        notify(
            state,
            format!("already in flight: {}", op.summary()),
            NoticeKind::Info,
        );
        return Vec::new();
    }
    notify(state, format!("sent: {}", op.summary()), NoticeKind::Info);
    state.in_flight.push(op.clone());
    vec![Effect::Run(op)]
}

pub fn done(state: &mut State, op: Operation, result: Result<String, String>) -> Vec<Effect> {
    state.in_flight.retain(|o| o.dedup_key() != op.dedup_key());
    match result {
        Ok(notice) => notify(state, notice, NoticeKind::Info),
        Err(e) => notify(
            state,
            format!("{} failed — {e}", op.api_call()),
            NoticeKind::Error,
        ),
    }
    // Show the effect of the operation as soon as possible.
    state.polls.expire_all();
    super::fetch::due(state)
}

/// An operation's answer was lost and reading back could not tell: say so, never "failed".
pub fn unknown(state: &mut State, op: Operation, message: String) -> Vec<Effect> {
    state.in_flight.retain(|o| o.dedup_key() != op.dedup_key());
    notify(
        state,
        format!("{}: outcome unknown — {message}", op.api_call()),
        NoticeKind::Error,
    );
    state.polls.expire_all();
    super::fetch::due(state)
}
