//! The reducer: `update(&mut State, Action) -> Vec<Effect>` is the only place state changes,
//! and it performs no I/O — effects go to the worker.

use crossterm::event::{KeyEventKind, MouseButton, MouseEventKind};

use super::action::{Action, Effect, Request};
use super::keymap::Command;
use super::state::{Cursor, LogPane, Notice, NoticeKind, Overlay, State, View};
use super::{fetch, input, ops, rows};

/// Screen row of the first list row (header, breadcrumbs, table header above it).
pub const LIST_TOP_ROW: u16 = 3;
/// Notices disappear after this many seconds.
const NOTICE_SECONDS: f64 = 8.0;

pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(key) => {
            if key.kind == KeyEventKind::Release {
                return Vec::new();
            }
            state.dirty = true;
            if state.overlay.is_some() {
                return input::overlay_key(state, key);
            }
            let view = state.view();
            // A read-only console's mutating keys say why they do nothing (ops refuses them).
            match state
                .keymap
                .lookup(view, &key)
                .or_else(|| state.keymap.disabled(view, &key))
            {
                Some(cmd) => command(state, cmd),
                None => Vec::new(),
            }
        }
        Action::Mouse(m) => match m.kind {
            MouseEventKind::ScrollDown => command(state, Command::Down),
            MouseEventKind::ScrollUp => command(state, Command::Up),
            MouseEventKind::Down(MouseButton::Left) if state.overlay.is_none() => {
                click(state, m.row);
                Vec::new()
            }
            _ => Vec::new(),
        },
        Action::Paste(text) => {
            state.dirty = true;
            input::paste(state, &text);
            Vec::new()
        }
        Action::Resize(w, h) => {
            state.size = (w, h);
            state.dirty = true;
            Vec::new()
        }
        Action::Tick(now) => tick(state, now),
        Action::DataClock { data, wall } => {
            // Not a redraw by itself: running times already redraw once a second.
            state.data_offset = data - wall;
            Vec::new()
        }
        Action::Command(cmd) => {
            state.dirty = true;
            command(state, cmd)
        }
        Action::Loaded { key, data } => fetch::loaded(state, &key, *data),
        Action::Failed { key, error } => fetch::failed(state, &key, &error),
        Action::Done { op, result } => ops::done(state, op, result),
        Action::Unknown { op, message } => ops::unknown(state, op, message),
        Action::Saved(result) => {
            match result {
                Ok(path) => {
                    state.logs.saved = Some(path.clone());
                    notify(state, format!("saved to {path}"), NoticeKind::Info);
                }
                Err(e) => notify(state, format!("cannot save: {e}"), NoticeKind::Error),
            }
            Vec::new()
        }
    }
}

pub fn notify(state: &mut State, text: String, kind: NoticeKind) {
    state.notices.push(Notice {
        text,
        kind,
        at: state.now,
    });
    // Keep the last few; older ones would not fit on screen anyway.
    if state.notices.len() > 3 {
        state.notices.remove(0);
    }
    state.dirty = true;
}

fn tick(state: &mut State, now: f64) -> Vec<Effect> {
    let age_before = super::format::data_age(state.now, state.polls.last_ok);
    let previous = state.now;
    state.now = now;
    let before = state.notices.len();
    state.notices.retain(|n| now - n.at < NOTICE_SECONDS);
    // Running times tick every second while something runs; an idle screen is not redrawn.
    let second_passed = now.floor() != previous.floor();
    if state.notices.len() != before
        || super::format::data_age(now, state.polls.last_ok) != age_before
        || (second_passed && fetch::something_runs(state))
    {
        state.dirty = true;
    }
    fetch::due(state)
}

/// Rows a page key moves.
fn page(state: &State) -> isize {
    (state.size.1 as isize - 8).max(1)
}

fn move_cursor(state: &mut State, delta: isize) {
    let view = state.view();
    if view == View::Logs && state.logs.pane == LogPane::Lines {
        let len = state.logs.buffer.visible_len();
        let top = (state.logs.top as isize + delta).clamp(0, len.saturating_sub(1) as isize);
        state.logs.top = top as usize;
        // Scrolling up means reading: stop following.
        if delta < 0 {
            state.logs.follow = false;
        }
        return;
    }
    let len = rows::len(state, view);
    let cursor = match (view, state.logs.pane) {
        (View::Logs, LogPane::Groups) => &mut state.logs.groups_cursor,
        (View::Logs, _) => &mut state.logs.streams_cursor,
        _ => state.cursors.entry(view).or_default(),
    };
    cursor.step(delta, len);
    if view == View::Alarms {
        fetch::alarm_selected(state);
    }
}

fn click(state: &mut State, row: u16) {
    if row < LIST_TOP_ROW {
        return;
    }
    let view = state.view();
    let target = (row - LIST_TOP_ROW) as isize;
    // Lists scroll so the cursor stays visible; clicks address rows from the top of the page.
    let height = (state.size.1 as isize - LIST_TOP_ROW as isize - 2).max(1);
    let current = match view {
        View::Logs => return,
        _ => state.cursor(view).selected as isize,
    };
    let first = (current - height + 1).max(0);
    let delta = first + target - current;
    move_cursor(state, delta);
    state.dirty = true;
}

pub fn command(state: &mut State, cmd: Command) -> Vec<Effect> {
    if cmd.mutating() {
        return ops::command(state, cmd);
    }
    match cmd {
        Command::Up => move_cursor(state, -1),
        Command::Down => move_cursor(state, 1),
        Command::PageUp => move_cursor(state, -page(state)),
        Command::PageDown => move_cursor(state, page(state)),
        Command::Top => move_cursor(state, isize::MIN / 2),
        Command::Bottom => move_cursor(state, isize::MAX / 2),
        Command::Open => return open(state),
        Command::Back => back(state),
        Command::Quit => state.quit = true,
        Command::Palette => {
            state.overlay = Some(Overlay::Palette {
                input: String::new(),
                selected: 0,
            })
        }
        Command::Filter => state.overlay = Some(Overlay::Filter),
        Command::Help => state.overlay = Some(Overlay::Help),
        Command::Refresh => {
            state.polls.expire_all();
            return fetch::due(state);
        }
        Command::Executions => {
            if let Some(name) = selected_pipeline(state) {
                return goto_executions(state, name);
            }
        }
        Command::ShowLogs => return show_logs(state),
        Command::Follow
        | Command::Wrap
        | Command::Window
        | Command::Pattern
        | Command::Search
        | Command::SearchNext
        | Command::SearchPrev
        | Command::FirstError
        | Command::Save => return super::logs::command(state, cmd),
        _ => {}
    }
    Vec::new()
}

/// The pipeline the user points at: the selected row on the list, or the one on screen.
pub fn selected_pipeline(state: &State) -> Option<String> {
    match state.view() {
        View::Pipelines => {
            let sel = state.cursor(View::Pipelines).selected;
            rows::pipelines(state).get(sel).map(|p| p.name.clone())
        }
        _ => state.focus.pipeline.clone(),
    }
}

pub fn push(state: &mut State, view: View) {
    if state.view() != view {
        state.views.push(view);
    }
    state.dirty = true;
}

fn open_pipeline(state: &mut State, name: String) -> Vec<Effect> {
    if state.focus.pipeline.as_deref() != Some(&name) {
        state.data.pipeline = None;
        state.data.executions = None;
        state.data.action_executions = None;
        state.focus.execution = None;
        state.cursors.insert(View::Pipeline, Cursor::default());
        state.cursors.insert(View::Executions, Cursor::default());
    }
    state.focus.pipeline = Some(name.clone());
    push(state, View::Pipeline);
    fetch::now(state, Request::Pipeline(name))
}

pub fn goto_executions(state: &mut State, name: String) -> Vec<Effect> {
    if state.focus.pipeline.as_deref() != Some(&name) {
        state.data.pipeline = None;
        state.data.executions = None;
        state.data.action_executions = None;
        state.focus.execution = None;
        state.cursors.insert(View::Executions, Cursor::default());
    }
    state.focus.pipeline = Some(name.clone());
    push(state, View::Executions);
    fetch::now(state, Request::Executions(name))
}

fn open(state: &mut State) -> Vec<Effect> {
    match state.view() {
        View::Pipelines => match selected_pipeline(state) {
            Some(name) => open_pipeline(state, name),
            None => Vec::new(),
        },
        View::Pipeline => open_action(state),
        View::Executions => {
            let sel = state.cursor(View::Executions).selected;
            let (Some(pipeline), Some(id)) = (
                state.focus.pipeline.clone(),
                rows::executions(state).get(sel).map(|e| e.id.clone()),
            ) else {
                return Vec::new();
            };
            state.focus.execution = Some(id.clone());
            state.data.action_executions = None;
            fetch::now(
                state,
                Request::ActionExecutions {
                    pipeline,
                    execution_id: id,
                },
            )
        }
        View::Logs => super::logs::open(state),
        View::Alarms => {
            fetch::alarm_selected(state);
            fetch::due(state)
        }
        _ => Vec::new(),
    }
}

/// Enter on a pipeline action: approvals open the dialog, builds and deployments their detail.
fn open_action(state: &mut State) -> Vec<Effect> {
    let sel = state.cursor(View::Pipeline).selected;
    let Some(action) = rows::stage_rows(state)
        .get(sel)
        .and_then(|r| r.action())
        .cloned()
    else {
        return Vec::new();
    };
    if action.awaiting_approval() && !state.settings.read_only {
        return ops::command(state, Command::Approve);
    }
    let Some(ext) = action.external_execution_id.clone() else {
        notify(
            state,
            format!("{} has no build or deployment to show", action.name),
            NoticeKind::Info,
        );
        return Vec::new();
    };
    match action.provider.as_str() {
        "CodeBuild" => {
            if state.focus.build_id.as_deref() != Some(&ext) {
                state.data.build = None;
            }
            state.focus.build_id = Some(ext.clone());
            state.focus.deployment_id = None;
            push(state, View::ActionDetail);
            fetch::now(state, Request::Build(ext))
        }
        "CodeDeploy" | "CodeDeployToECS" => {
            if state.focus.deployment_id.as_deref() != Some(&ext) {
                state.data.deployment = None;
            }
            state.focus.deployment_id = Some(ext.clone());
            state.focus.build_id = None;
            push(state, View::ActionDetail);
            fetch::now(state, Request::Deployment(ext))
        }
        other => {
            notify(
                state,
                format!("no detail view for {other} actions"),
                NoticeKind::Info,
            );
            Vec::new()
        }
    }
}

fn show_logs(state: &mut State) -> Vec<Effect> {
    if state.view() == View::Pipeline {
        return open_action(state);
    }
    let Some((group, stream)) = state
        .data
        .build
        .as_ref()
        .and_then(|b| Some((b.log_group.clone()?, b.log_stream.clone())))
    else {
        notify(state, "no log for this action".into(), NoticeKind::Info);
        return Vec::new();
    };
    push(state, View::Logs);
    super::logs::select(state, group, stream)
}

fn back(state: &mut State) {
    let view = state.view();
    if state.filters.get(&view).is_some_and(|f| !f.is_empty()) {
        state.filters.remove(&view);
        if view == View::Logs {
            state.logs.buffer.set_filter("");
        }
        return;
    }
    if view == View::Logs && super::logs::back(state) {
        return;
    }
    if state.views.len() > 1 {
        state.views.pop();
    }
}

/// Jumps to a top-level view (from the palette): the breadcrumbs restart there.
pub fn goto(state: &mut State, view: View) -> Vec<Effect> {
    state.views.truncate(1);
    if view != View::Pipelines {
        state.views.push(view);
    }
    state.dirty = true;
    fetch::due(state)
}
