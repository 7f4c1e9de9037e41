//! The `:` command palette: its commands and their completion.

use super::action::Effect;
use super::state::{State, View};
use super::update;

/// Palette commands with a one-line description (also listed in `?` help).
pub const COMMANDS: &[(&str, &str)] = &[
    ("pipelines", "all pipelines"),
    ("pipeline", "one pipeline: pipeline <name>"),
    ("executions", "execution history: executions <pipeline>"),
    ("alarms", "CloudWatch alarms"),
    ("logs", "CloudWatch Logs groups"),
    ("stack", "the CloudFormation stack"),
    ("audit", "operations attempted from this console"),
    ("help", "keys of this view"),
    ("quit", "leave pipetui"),
];

/// Completions for what was typed: command names, then pipeline names after
/// `pipeline ` / `executions `.
pub fn completions(state: &State, input: &str) -> Vec<String> {
    let input = input.trim_start();
    if let Some((cmd, arg)) = input.split_once(' ') {
        if cmd == "pipeline" || cmd == "executions" {
            let arg = arg.trim().to_lowercase();
            return state
                .data
                .pipelines
                .iter()
                .flatten()
                .filter(|p| p.name.to_lowercase().contains(&arg))
                .map(|p| format!("{cmd} {}", p.name))
                .collect();
        }
        return Vec::new();
    }
    COMMANDS
        .iter()
        .filter(|(name, _)| name.starts_with(input))
        .map(|(name, _)| (*name).to_string())
        .collect()
}

/// Runs a palette line; unknown commands become an error notice.
pub fn run(state: &mut State, line: &str) -> Vec<Effect> {
    let line = line.trim();
    let (cmd, arg) = match line.split_once(' ') {
        Some((c, a)) => (c, a.trim()),
        None => (line, ""),
    };
    match (cmd, arg) {
        ("pipelines", _) => update::goto(state, View::Pipelines),
        ("alarms", _) => update::goto(state, View::Alarms),
        ("logs", _) => update::goto(state, View::Logs),
        ("stack", _) => update::goto(state, View::Stack),
        ("audit", _) => update::goto(state, View::Audit),
        ("help", _) => {
            state.overlay = Some(super::state::Overlay::Help);
            Vec::new()
        }
        ("quit" | "q", _) => {
            state.quit = true;
            Vec::new()
        }
        ("pipeline" | "executions", "") => {
            // No name: the pipeline under the cursor or on screen.
            match update::selected_pipeline(state) {
                Some(name) => run(state, &format!("{cmd} {name}")),
                None => {
                    update::notify(
                        state,
                        format!("which pipeline? `:{cmd} <name>` (tab completes)"),
                        super::state::NoticeKind::Error,
                    );
                    Vec::new()
                }
            }
        }
        ("pipeline" | "executions", name) => {
            let known = state
                .data
                .pipelines
                .iter()
                .flatten()
                .any(|p| p.name == name);
            if !known {
                update::notify(
                    state,
                    format!("no pipeline named `{name}`"),
                    super::state::NoticeKind::Error,
                );
                return Vec::new();
            }
            state.views.truncate(1);
            if cmd == "pipeline" {
                let pos = super::rows::pipelines(state)
                    .iter()
                    .position(|p| p.name == name);
                state.filters.remove(&View::Pipelines);
                let pos = pos.or_else(|| {
                    super::rows::pipelines(state)
                        .iter()
                        .position(|p| p.name == name)
                });
                state.cursors.insert(
                    View::Pipelines,
                    super::state::Cursor {
                        selected: pos.unwrap_or(0),
                    },
                );
                update::command(state, super::keymap::Command::Open)
            } else {
                update::goto_executions(state, name.to_string())
            }
        }
        ("", _) => Vec::new(),
        _ => {
            update::notify(
                state,
                format!(
                    "unknown command `{line}` (try :pipelines, :alarms, :logs, :stack, :audit)"
                ),
                super::state::NoticeKind::Error,
            );
            Vec::new()
        }
    }
}
