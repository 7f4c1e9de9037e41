//! Which reads the view on screen needs and how often, and folding their results into state.

use super::action::{Effect, FetchError, Loaded, Request};
use super::poll::FAST_SECONDS;
use super::state::{LogPane, NoticeKind, State, View};
use super::update::notify;
use super::{logs, rows};

/// Identity changes only with credentials; refresh rarely.
const IDENTITY_SECONDS: f64 = 900.0;

fn slow(state: &State) -> f64 {
    state.settings.refresh_seconds.max(1.0)
}

fn pace(state: &State, active: bool) -> f64 {
    if active {
        FAST_SECONDS.min(slow(state))
    } else {
        slow(state)
    }
}

/// The reads the current view polls, with their intervals. Views not on screen poll nothing.
pub fn wanted(state: &State) -> Vec<(Request, f64)> {
    let mut out = vec![(Request::Identity, IDENTITY_SECONDS)];
    let slow = slow(state);
    let pipeline = state.focus.pipeline.clone();
    match state.view() {
        View::Pipelines => {
            let active = state.data.pipelines.iter().flatten().any(|p| {
                p.latest_execution
                    .as_ref()
                    .is_some_and(|e| e.status.is_active())
            });
            out.push((Request::Pipelines, pace(state, active)));
            out.push((Request::Alarms, slow));
        }
        View::Pipeline => {
            if let Some(name) = pipeline {
                let active = state.data.pipeline.iter().flat_map(|p| &p.stages).any(|s| {
                    s.actions.iter().any(|a| a.status.is_active())
                        || s.latest_execution
                            .as_ref()
                            .is_some_and(|e| e.status.is_active())
                });
                out.push((Request::Pipeline(name.clone()), pace(state, active)));
                out.push((Request::Executions(name), slow));
            }
            out.push((Request::Alarms, slow));
        }
        View::Executions => {
            if let Some(name) = pipeline {
                let active = state
                    .data
                    .executions
                    .iter()
                    .flatten()
                    .any(|e| e.status.is_active());
                out.push((Request::Executions(name.clone()), pace(state, active)));
                if let Some(id) = state.focus.execution.clone() {
                    out.push((
                        Request::ActionExecutions {
                            pipeline: name,
                            execution_id: id,
                        },
                        pace(state, active),
                    ));
                }
            }
        }
        View::ActionDetail => {
            if let Some(id) = state.focus.build_id.clone() {
                let active = state
                    .data
                    .build
                    .as_ref()
                    .is_none_or(|b| b.status.is_active());
                out.push((Request::Build(id), pace(state, active)));
                if active {
                    out.extend(logs::follow_request(state).map(|r| (r, FAST_SECONDS)));
                }
            }
            if let Some(id) = state.focus.deployment_id.clone() {
                let active = state
                    .data
                    .deployment
                    .as_ref()
                    .is_none_or(|d| d.status.is_active());
                out.push((Request::Deployment(id), pace(state, active)));
            }
        }
        View::Alarms => {
            out.push((Request::Alarms, slow));
            let sel = state.cursor(View::Alarms).selected;
            if let Some(alarm) = rows::alarms(state).get(sel) {
                out.push((Request::AlarmHistory(alarm.name.clone()), slow));
                out.push((Request::Metric(Box::new((*alarm).clone())), slow));
            }
        }
        View::Logs => match state.logs.pane {
            LogPane::Groups => out.push((Request::LogGroups, slow * 6.0)),
            LogPane::Streams => {
                if let Some(g) = state.logs.group.clone() {
                    out.push((Request::LogStreams(g), slow));
                }
            }
            LogPane::Lines => {
                if state.logs.follow {
                    out.extend(logs::follow_request(state).map(|r| (r, FAST_SECONDS)));
                }
            }
        },
        View::Stack => {
            let active = state
                .data
                .stack
                .as_ref()
                .is_none_or(|s| s.status.ends_with("IN_PROGRESS"));
            out.push((
                Request::Stack(state.settings.stack_name.clone()),
                pace(state, active),
            ));
        }
        View::Audit => out.push((Request::Audit, slow)),
    }
    out
}

/// Whether the view on screen shows something running (it polls fast then).
pub fn something_runs(state: &State) -> bool {
    wanted(state)
        .iter()
        .any(|(r, i)| *i <= FAST_SECONDS && !matches!(r, Request::LogEvents { .. }))
        && slow(state) > FAST_SECONDS
}

/// The fetches that fell due (each slot at most one in flight).
pub fn due(state: &mut State) -> Vec<Effect> {
    let now = state.now;
    let mut effects = Vec::new();
    for (req, _) in wanted(state) {
        let key = req.key();
        if state.polls.due(&key, now) {
            state.polls.started(&key);
            effects.push(Effect::Fetch(req));
        }
    }
    effects
}

/// Fetches `req` right away (navigation): a newer request for its slot replaces a running one.
pub fn now(state: &mut State, req: Request) -> Vec<Effect> {
    state.polls.started(&req.key());
    let mut effects = vec![Effect::Fetch(req)];
    effects.extend(due(state));
    effects
}

/// The alarm under the cursor changed: its history and metric are fetched afresh.
pub fn alarm_selected(state: &mut State) {
    let sel = state.cursor(View::Alarms).selected;
    let name = rows::alarms(state).get(sel).map(|a| a.name.clone());
    if name != state.focus.alarm {
        state.focus.alarm = name;
        state.data.alarm_history = None;
        state.data.metric = None;
        state.polls.expire("alarm-history");
        state.polls.expire("metric");
    }
}

fn interval_for(state: &State, key: &str) -> f64 {
    wanted(state)
        .into_iter()
        .find(|(r, _)| r.key() == key)
        .map_or(slow(state), |(_, i)| i)
}

/// Replaces `slot` with `value`, marking the screen dirty only when something changed.
fn set<T: PartialEq>(dirty: &mut bool, slot: &mut Option<T>, value: T) {
    if slot.as_ref() != Some(&value) {
        *slot = Some(value);
        *dirty = true;
    }
}

pub fn loaded(state: &mut State, key: &str, data: Loaded) -> Vec<Effect> {
    let was_failing = state.polls.failing > 0;
    let mut follow_up = Vec::new();
    let d = &mut state.dirty;
    match data {
        Loaded::Identity(id) => {
            if state.target.account.is_none() {
                state.target.account = Some(id.account.clone());
            }
            set(d, &mut state.data.identity, id)
        }
        Loaded::Pipelines(p) => set(d, &mut state.data.pipelines, p),
        Loaded::Pipeline(p) => {
            // Latest request wins: a late answer for a pipeline no longer shown is dropped.
            if state.focus.pipeline.as_deref() == Some(&p.name) {
                set(d, &mut state.data.pipeline, p);
            }
        }
        Loaded::Executions(name, e) => {
            if state.focus.pipeline.as_deref() == Some(&name) {
                set(d, &mut state.data.executions, e);
            }
        }
        Loaded::ActionExecutions(id, a) => {
            if state.focus.execution.as_deref() == Some(&id) {
                set(d, &mut state.data.action_executions, a);
            }
        }
        Loaded::Build(b) => {
            if state.focus.build_id.as_deref() == Some(&b.id) {
                follow_up = logs::build_loaded(state, &b);
                set(&mut state.dirty, &mut state.data.build, b);
            }
        }
        Loaded::Deployment(dep) => {
            if state.focus.deployment_id.as_deref() == Some(&dep.id) {
                set(d, &mut state.data.deployment, dep);
            }
        }
        Loaded::Alarms(a) => {
            set(d, &mut state.data.alarms, a);
            alarm_selected(state);
        }
        Loaded::AlarmHistory(name, h) => {
            if state.focus.alarm.as_deref() == Some(&name) {
                set(d, &mut state.data.alarm_history, h);
            }
        }
        Loaded::Metric(name, m) => {
            if state.focus.alarm.as_deref() == Some(&name) {
                set(d, &mut state.data.metric, m);
            }
        }
        Loaded::LogGroups(g) => {
            if state.logs.groups != g {
                state.logs.groups = g;
                state.logs.groups_cursor.clamp(state.logs.groups.len());
                *d = true;
            }
        }
        Loaded::LogStreams(group, s) => {
            if state.logs.group.as_deref() == Some(&group) && state.logs.streams != s {
                state.logs.streams = s;
                *d = true;
            }
        }
        Loaded::LogEvents { page, append } => follow_up = logs::events_loaded(state, page, append),
        Loaded::Stack(s) => set(d, &mut state.data.stack, s),
        Loaded::Audit(a) => set(d, &mut state.data.audit, a),
    }
    let interval = interval_for(state, key);
    state.polls.succeeded(key, state.now, interval);
    if was_failing {
        state.dirty = true;
    }
    clamp_cursors(state);
    follow_up
}

pub fn failed(state: &mut State, key: &str, error: &FetchError) -> Vec<Effect> {
    let interval = interval_for(state, key);
    let first = state.polls.failing == 0;
    state.polls.failed(
        key,
        state.now,
        interval,
        &error.message,
        error.throttled,
        error.unreachable,
    );
    tracing::debug!(key, error = %error.message, "read failed");
    state.dirty = true;
    if first && !error.throttled {
        notify(state, error.message.clone(), NoticeKind::Error);
    }
    Vec::new()
}

fn clamp_cursors(state: &mut State) {
    for view in [
        View::Pipelines,
        View::Pipeline,
        View::Executions,
        View::Alarms,
        View::Stack,
        View::Audit,
    ] {
        let len = rows::len(state, view);
        if let Some(c) = state.cursors.get_mut(&view) {
            c.clamp(len);
        }
    }
}
