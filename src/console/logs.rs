//! The logs view's behaviour: group → stream → lines, follow, windows, patterns, search, save.

use super::action::{Effect, Request};
use super::keymap::Command;
use super::state::{InputPurpose, LogPane, NoticeKind, Overlay, State, View};
use super::update::notify;
use super::{fetch, rows};
use crate::model::{Build, LogPage};

/// Pages fetched in a row for one query before waiting for the next poll.
const MAX_FOLLOW_UP_LINES: usize = 200_000;

/// Enter in the groups or streams pane.
pub fn open(state: &mut State) -> Vec<Effect> {
    match state.logs.pane {
        LogPane::Groups => {
            let sel = state.logs.groups_cursor.selected;
            let Some(group) = rows::log_groups(state).get(sel).map(|g| g.name.clone()) else {
                return Vec::new();
            };
            // A filter typed for the groups does not carry over to the streams.
            state.filters.remove(&View::Logs);
            state.logs.group = Some(group.clone());
            state.logs.streams.clear();
            state.logs.streams_cursor = Default::default();
            state.logs.pane = LogPane::Streams;
            fetch::now(state, Request::LogStreams(group))
        }
        LogPane::Streams => {
            let Some(group) = state.logs.group.clone() else {
                return Vec::new();
            };
            let sel = state.logs.streams_cursor.selected;
            let stream = sel
                .checked_sub(1)
                .and_then(|i| rows::log_streams(state).get(i).map(|s| s.name.clone()));
            state.filters.remove(&View::Logs);
            select(state, group, stream)
        }
        LogPane::Lines => Vec::new(),
    }
}

/// Shows `group` (one stream or all) from the start of the time window.
pub fn select(state: &mut State, group: String, stream: Option<String>) -> Vec<Effect> {
    state.logs.group = Some(group);
    state.logs.stream = stream;
    state.logs.pane = LogPane::Lines;
    reload(state)
}

/// Drops the lines and queries the window afresh (group, stream, pattern or window changed).
fn reload(state: &mut State) -> Vec<Effect> {
    let Some(group) = state.logs.group.clone() else {
        return Vec::new();
    };
    state.logs.buffer.clear();
    let filter = state
        .filters
        .get(&super::state::View::Logs)
        .cloned()
        .unwrap_or_default();
    state.logs.buffer.set_filter(&filter);
    state.logs.top = 0;
    state.logs.search_hit = None;
    state.logs.next_token = None;
    state.dirty = true;
    let start = state.logs.window.seconds().map(|s| state.now - s);
    fetch::now(
        state,
        Request::LogEvents {
            group,
            stream: state.logs.stream.clone(),
            pattern: state.logs.pattern.clone(),
            start,
            token: None,
            append: false,
        },
    )
}

/// Esc inside the logs view steps back a pane; false when already at the groups.
pub fn back(state: &mut State) -> bool {
    // Opened from a build (L): Esc returns to the build, not to the stream picker.
    let from_build = state.views.len() >= 2
        && state.views[state.views.len() - 2] == super::state::View::ActionDetail;
    if from_build {
        return false;
    }
    match state.logs.pane {
        LogPane::Lines => {
            state.logs.pane = LogPane::Streams;
            state.logs.follow = false;
            true
        }
        LogPane::Streams => {
            state.logs.pane = LogPane::Groups;
            true
        }
        LogPane::Groups => false,
    }
}

/// The read that brings lines newer than the newest one held.
pub fn follow_request(state: &State) -> Option<Request> {
    let group = state.logs.group.clone()?;
    let start = match state.logs.buffer.newest() {
        // CloudWatch times are milliseconds: ask from the next one.
        Some(t) => Some(t + 0.001),
        None => state.logs.window.seconds().map(|s| state.now - s),
    };
    Some(Request::LogEvents {
        group,
        stream: state.logs.stream.clone(),
        pattern: state.logs.pattern.clone(),
        start,
        token: None,
        append: true,
    })
}

/// A build arrived: its log becomes the logs buffer (tail shown in the action detail).
pub fn build_loaded(state: &mut State, build: &Build) -> Vec<Effect> {
    let Some(group) = build.log_group.clone() else {
        return Vec::new();
    };
    let same = state.logs.group.as_deref() == Some(&group) && state.logs.stream == build.log_stream;
    if same {
        return Vec::new();
    }
    state.logs.window = super::state::LogWindow::All;
    state.logs.pattern.clear();
    state.logs.follow = true;
    let effects = select(state, group, build.log_stream.clone());
    // The action detail stays on screen; the logs view opens on `L`.
    state.logs.pane = LogPane::Lines;
    effects
}

pub fn events_loaded(state: &mut State, page: LogPage, append: bool) -> Vec<Effect> {
    if state.logs.group.as_deref() != Some(&page.group) {
        return Vec::new();
    }
    if !append && state.logs.buffer.is_empty() && page.lines.is_empty() {
        return Vec::new();
    }
    let at_bottom = state.logs.top + 1 >= state.logs.buffer.visible_len();
    let added = page.lines.len();
    state.logs.buffer.extend(page.lines);
    if added > 0 {
        state.dirty = true;
    }
    if state.logs.follow && at_bottom {
        state.logs.top = state.logs.buffer.visible_len().saturating_sub(1);
    }
    // More pages of the same query: fetch them now, up to a bound.
    match page.next_token {
        Some(token) if added > 0 && state.logs.buffer.len() < MAX_FOLLOW_UP_LINES => {
            let Some(group) = state.logs.group.clone() else {
                return Vec::new();
            };
            let start = state.logs.window.seconds().map(|s| state.now - s);
            let req = Request::LogEvents {
                group,
                stream: state.logs.stream.clone(),
                pattern: state.logs.pattern.clone(),
                start,
                token: Some(token),
                append: true,
            };
            state.polls.started(&req.key());
            vec![Effect::Fetch(req)]
        }
        _ => Vec::new(),
    }
}

pub fn command(state: &mut State, cmd: Command) -> Vec<Effect> {
    let logs = &mut state.logs;
    match cmd {
        Command::Follow => {
            logs.follow = !logs.follow;
            if logs.follow {
                logs.top = logs.buffer.visible_len().saturating_sub(1);
            }
        }
        Command::Wrap => logs.wrap = !logs.wrap,
        Command::Window => {
            logs.window = logs.window.next();
            return reload(state);
        }
        Command::Pattern => {
            state.overlay = Some(Overlay::Input {
                purpose: InputPurpose::LogPattern,
                prompt: "CloudWatch filter pattern".into(),
                value: logs.pattern.clone(),
                error: None,
            })
        }
        Command::Search => {
            state.overlay = Some(Overlay::Input {
                purpose: InputPurpose::LogSearch,
                prompt: "Search".into(),
                value: logs.search.clone(),
                error: None,
            })
        }
        Command::SearchNext | Command::SearchPrev => {
            let forward = cmd == Command::SearchNext;
            let from = match logs.search_hit {
                Some(h) if forward => h + 1,
                Some(h) => h + logs.buffer.visible_len().saturating_sub(1),
                None => logs.top,
            };
            let from = if logs.buffer.visible_len() == 0 {
                0
            } else {
                from % logs.buffer.visible_len()
            };
            match logs.buffer.find(&logs.search, from, forward) {
                Some(hit) => {
                    logs.search_hit = Some(hit);
                    logs.top = hit;
                    logs.follow = false;
                }
                None => notify(
                    state,
                    format!("no match for `{}`", state.logs.search),
                    NoticeKind::Info,
                ),
            }
        }
        Command::FirstError => match logs.buffer.first_error() {
            Some(n) => {
                logs.top = n;
                logs.follow = false;
            }
            None => notify(state, "no error in these lines".into(), NoticeKind::Info),
        },
        Command::Save => {
            let Some(group) = logs.group.clone() else {
                return Vec::new();
            };
            let name: String = group
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let path = state.settings.save_dir.join(format!(
                "{}-{}.log",
                name.trim_matches('_'),
                state.now as i64
            ));
            return vec![Effect::Save {
                path,
                text: logs.buffer.export(),
            }];
        }
        _ => {}
    }
    Vec::new()
}

/// A pattern or search text was entered.
pub fn input_done(state: &mut State, purpose: &InputPurpose, value: String) -> Vec<Effect> {
    match purpose {
        InputPurpose::LogPattern => {
            state.logs.pattern = value;
            reload(state)
        }
        InputPurpose::LogSearch => {
            state.logs.search = value;
            state.logs.search_hit = None;
            command(state, Command::SearchNext)
        }
        _ => Vec::new(),
    }
}
