//! The rows each view lists after its `/` filter; shared by the reducer (selection) and the
//! renderer, so both always agree on what row N is.

use crate::model::{ActionState, Alarm, ExecutionSummary, PipelineSummary, StackEvent, StageState};

use super::state::{AuditRow, State, View};

fn matches(filter: &str, fields: &[&str]) -> bool {
    if filter.is_empty() {
        return true;
    }
    let f = filter.to_lowercase();
    fields.iter().any(|s| s.to_lowercase().contains(&f))
}

pub fn pipelines(state: &State) -> Vec<&PipelineSummary> {
    let f = state.filter(View::Pipelines);
    state
        .data
        .pipelines
        .iter()
        .flatten()
        .filter(|p| {
            let status = p.latest_execution.as_ref().map_or("", |e| e.status.label());
            matches(f, &[&p.name, status])
        })
        .collect()
}

/// A row of the pipeline view: a stage header or one of its actions.
#[derive(Debug, Clone, Copy)]
pub enum StageRow<'a> {
    Stage(&'a StageState),
    Action(&'a StageState, &'a ActionState),
}

impl<'a> StageRow<'a> {
    pub fn stage(&self) -> &'a StageState {
        match self {
            StageRow::Stage(s) | StageRow::Action(s, _) => s,
        }
    }

    pub fn action(&self) -> Option<&'a ActionState> {
        match self {
            StageRow::Stage(_) => None,
            StageRow::Action(_, a) => Some(a),
        }
    }
}

pub fn stage_rows(state: &State) -> Vec<StageRow<'_>> {
    let f = state.filter(View::Pipeline);
    let mut rows = Vec::new();
    for stage in state.data.pipeline.iter().flat_map(|p| &p.stages) {
        let actions: Vec<&ActionState> = stage
            .actions
            .iter()
            .filter(|a| matches(f, &[&stage.name, &a.name, a.status.label(), &a.provider]))
            .collect();
        if actions.is_empty() && !matches(f, &[&stage.name]) {
            continue;
        }
        rows.push(StageRow::Stage(stage));
        rows.extend(actions.into_iter().map(|a| StageRow::Action(stage, a)));
    }
    rows
}

pub fn executions(state: &State) -> Vec<&ExecutionSummary> {
    let f = state.filter(View::Executions);
    state
        .data
        .executions
        .iter()
        .flatten()
        .filter(|e| {
            let rev = e.source_revisions.first();
            matches(
                f,
                &[
                    &e.id,
                    e.status.label(),
                    e.trigger_type.as_deref().unwrap_or(""),
                    rev.map_or("", |r| r.id.as_str()),
                    rev.and_then(|r| r.summary.as_deref()).unwrap_or(""),
                ],
            )
        })
        .collect()
}

pub fn alarms(state: &State) -> Vec<&Alarm> {
    let f = state.filter(View::Alarms);
    state
        .data
        .alarms
        .iter()
        .flatten()
        .filter(|a| {
            matches(
                f,
                &[&a.name, a.state.label(), a.reason.as_deref().unwrap_or("")],
            )
        })
        .collect()
}

pub fn stack_events(state: &State) -> Vec<&StackEvent> {
    let f = state.filter(View::Stack);
    state
        .data
        .stack
        .iter()
        .flat_map(|s| &s.events)
        .filter(|e| matches(f, &[&e.logical_id, &e.resource_type, &e.status]))
        .collect()
}

/// Log groups passing the filter (groups pane).
pub fn log_groups(state: &State) -> Vec<&crate::model::LogGroupInfo> {
    let f = state.filter(View::Logs);
    state
        .logs
        .groups
        .iter()
        .filter(|g| matches(f, &[&g.name]))
        .collect()
}

/// Streams passing the filter (streams pane; the "all streams" row is always first).
pub fn log_streams(state: &State) -> Vec<&crate::model::LogStreamInfo> {
    let f = state.filter(View::Logs);
    state
        .logs
        .streams
        .iter()
        .filter(|s| matches(f, &[&s.name]))
        .collect()
}

pub fn audit(state: &State) -> Vec<&AuditRow> {
    let f = state.filter(View::Audit);
    state
        .data
        .audit
        .iter()
        .flatten()
        .filter(|r| matches(f, &[&r.operation, &r.outcome, &r.target, &r.cli_command]))
        .collect()
}

/// Number of selectable rows in a view (for cursor clamping).
pub fn len(state: &State, view: View) -> usize {
    match view {
        View::Pipelines => pipelines(state).len(),
        View::Pipeline => stage_rows(state).len(),
        View::Executions => executions(state).len(),
        View::ActionDetail => state
            .data
            .deployment
            .as_ref()
            .map_or(0, |d| d.targets.len())
            .max(state.data.build.as_ref().map_or(0, |b| b.phases.len())),
        View::Alarms => alarms(state).len(),
        View::Logs => match state.logs.pane {
            super::state::LogPane::Groups => log_groups(state).len(),
            super::state::LogPane::Streams => log_streams(state).len() + 1,
            super::state::LogPane::Lines => state.logs.buffer.visible_len(),
        },
        View::Stack => stack_events(state).len(),
        View::Audit => audit(state).len(),
    }
}

/// Firing alarms for an environment name, or all firing alarms when the name matches none.
pub fn firing_for<'a>(state: &'a State, env: &str) -> Vec<&'a Alarm> {
    let env = env.to_ascii_lowercase();
    state
        .data
        .firing_alarms()
        .filter(|a| {
            a.dimension("Environment")
                .is_some_and(|e| e.to_ascii_lowercase() == env)
                || a.name.to_ascii_lowercase().contains(&env)
        })
        .collect()
}

/// Alarms in ALARM that concern a pipeline (its name contains the alarm's `Service` dimension).
pub fn firing_for_pipeline(state: &State, pipeline: &str) -> usize {
    let p = pipeline.to_ascii_lowercase();
    state
        .data
        .firing_alarms()
        .filter(|a| {
            a.dimension("Service")
                .is_none_or(|s| p.contains(&s.to_ascii_lowercase()))
        })
        .count()
}
