//! Keys while an overlay is open: text inputs, the palette, dialogs.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::model::Operation;

use super::action::Effect;
use super::state::{InputPurpose, LogPane, NoticeKind, Overlay, State, View};
use super::{logs, ops, palette};

/// `PutApprovalResult` accepts a summary of at most 512 characters.
pub const COMMENT_MAX: usize = 512;
/// Any other one-line field: far more than a name, reason or pattern needs, so a huge paste
/// cannot grow the state without bound.
const FIELD_MAX: usize = 1024;

/// Edits `text` with a key (at most `max` characters); true when the key was an edit.
fn edit(text: &mut String, key: &KeyEvent, max: usize) -> bool {
    match key.code {
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            if text.chars().count() < max {
                text.push(c);
            }
            true
        }
        KeyCode::Backspace => {
            text.pop();
            true
        }
        _ => false,
    }
}

pub fn overlay_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(overlay) = state.overlay.take() else {
        return Vec::new();
    };
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        return Vec::new(); // ctrl-c closes any overlay
    }
    match overlay {
        Overlay::Help => Vec::new(),
        Overlay::Palette {
            mut input,
            mut selected,
        } => {
            let options = palette::completions(state, &input);
            match key.code {
                KeyCode::Esc => return Vec::new(),
                KeyCode::Enter => {
                    // Enter runs the highlighted completion when the text is a prefix of it.
                    let line = options
                        .get(selected)
                        .filter(|o| !input.trim().is_empty() && o.starts_with(input.trim()))
                        .cloned()
                        .unwrap_or(input);
                    return palette::run(state, &line);
                }
                KeyCode::Tab => {
                    if let Some(o) = options.get(selected) {
                        input = o.clone();
                        if palette::COMMANDS.iter().any(|(n, _)| *n == input)
                            && (input == "pipeline" || input == "executions")
                        {
                            input.push(' ');
                        }
                        selected = 0;
                    }
                }
                KeyCode::Down => selected = (selected + 1).min(options.len().saturating_sub(1)),
                KeyCode::Up => selected = selected.saturating_sub(1),
                _ => {
                    if edit(&mut input, &key, FIELD_MAX) {
                        selected = 0;
                    }
                }
            }
            state.overlay = Some(Overlay::Palette { input, selected });
            Vec::new()
        }
        Overlay::Filter => {
            let keep_open = match key.code {
                KeyCode::Esc => {
                    edit_filter(state, String::clear);
                    false
                }
                KeyCode::Enter => {
                    edit_filter(state, |_| ());
                    false
                }
                _ => {
                    edit_filter(state, |text| {
                        edit(text, &key, FIELD_MAX);
                    });
                    true
                }
            };
            if keep_open {
                state.overlay = Some(Overlay::Filter);
            }
            Vec::new()
        }
        Overlay::Confirm { op, warnings } => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => ops::confirmed(state, op),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                Vec::new()
            }
            _ => {
                state.overlay = Some(Overlay::Confirm { op, warnings });
                Vec::new()
            }
        },
        Overlay::Approval(mut dialog) => match key.code {
            KeyCode::Esc => Vec::new(),
            KeyCode::Tab | KeyCode::BackTab => {
                dialog.approve = !dialog.approve;
                state.overlay = Some(Overlay::Approval(dialog));
                Vec::new()
            }
            KeyCode::Enter => {
                let comment = dialog.comment.trim().to_string();
                if comment.is_empty() || comment.chars().count() > 512 {
                    state.overlay = Some(Overlay::Approval(dialog));
                    super::update::notify(
                        state,
                        "a comment of 1 to 512 characters is required".into(),
                        super::state::NoticeKind::Error,
                    );
                    return Vec::new();
                }
                let Some(token) = dialog.action.token.clone() else {
                    return Vec::new();
                };
                let (pipeline, stage, action) = (
                    dialog.pipeline.clone(),
                    dialog.stage.clone(),
                    dialog.action.name.clone(),
                );
                let op = if dialog.approve {
                    Operation::Approve {
                        pipeline,
                        stage,
                        action,
                        token,
                        comment,
                    }
                } else {
                    Operation::Reject {
                        pipeline,
                        stage,
                        action,
                        token,
                        comment,
                    }
                };
                // The dialog already names the call, ids and target: Enter is the confirmation.
                ops::confirmed(state, op)
            }
            _ => {
                edit(&mut dialog.comment, &key, COMMENT_MAX);
                state.overlay = Some(Overlay::Approval(dialog));
                Vec::new()
            }
        },
        Overlay::RollbackPicker {
            pipeline,
            stage,
            candidates,
            mut selected,
        } => match key.code {
            KeyCode::Esc | KeyCode::Char('q') => Vec::new(),
            KeyCode::Enter => {
                let Some(target) = candidates.get(selected) else {
                    return Vec::new();
                };
                let op = Operation::RollbackStage {
                    pipeline,
                    stage,
                    target_execution_id: target.id.clone(),
                };
                state.overlay = Some(ops::confirm(op, state));
                Vec::new()
            }
            code => {
                match code {
                    KeyCode::Down | KeyCode::Char('j') => {
                        selected = (selected + 1).min(candidates.len().saturating_sub(1))
                    }
                    KeyCode::Up | KeyCode::Char('k') => selected = selected.saturating_sub(1),
                    _ => {}
                }
                state.overlay = Some(Overlay::RollbackPicker {
                    pipeline,
                    stage,
                    candidates,
                    selected,
                });
                Vec::new()
            }
        },
        Overlay::Input {
            purpose,
            prompt,
            mut value,
            error,
        } => match key.code {
            KeyCode::Esc => Vec::new(),
            KeyCode::Enter => input_done(state, purpose, prompt, value),
            _ => {
                edit(&mut value, &key, FIELD_MAX);
                state.overlay = Some(Overlay::Input {
                    purpose,
                    prompt,
                    value,
                    error,
                });
                Vec::new()
            }
        },
    }
}

fn input_done(
    state: &mut State,
    purpose: InputPurpose,
    prompt: String,
    value: String,
) -> Vec<Effect> {
    match &purpose {
        InputPurpose::DisableReason { pipeline, stage } => {
            if let Err(e) = ops::validate_reason(&value) {
                state.overlay = Some(Overlay::Input {
                    purpose,
                    prompt,
                    value,
                    error: Some(e),
                });
                return Vec::new();
            }
            let op = Operation::DisableTransition {
                pipeline: pipeline.clone(),
                stage: stage.clone(),
                reason: value,
            };
            state.overlay = Some(ops::confirm(op, state));
            Vec::new()
        }
        InputPurpose::StopReason {
            pipeline,
            execution_id,
            abandon,
        } => {
            if value.chars().count() > 200 {
                let e = Some("at most 200 characters".to_string());
                state.overlay = Some(Overlay::Input {
                    purpose,
                    prompt,
                    value,
                    error: e,
                });
                return Vec::new();
            }
            let op = Operation::StopExecution {
                pipeline: pipeline.clone(),
                execution_id: execution_id.clone(),
                abandon: *abandon,
                reason: value,
            };
            state.overlay = Some(ops::confirm(op, state));
            Vec::new()
        }
        InputPurpose::LogPattern | InputPurpose::LogSearch => {
            logs::input_done(state, &purpose, value)
        }
    }
}

/// Changes the current view's filter text and re-applies it.
fn edit_filter(state: &mut State, change: impl FnOnce(&mut String)) {
    let view = state.view();
    let mut text = state.filters.remove(&view).unwrap_or_default();
    change(&mut text);
    if view == View::Logs && state.logs.pane == LogPane::Lines {
        state.logs.buffer.set_filter(&text);
        state.logs.top = state
            .logs
            .top
            .min(state.logs.buffer.visible_len().saturating_sub(1));
        state.logs.search_hit = None;
    } else if view == View::Logs {
        state.logs.groups_cursor.selected = 0;
        state.logs.streams_cursor.selected = 0;
    } else {
        state.cursors.entry(view).or_default().selected = 0;
    }
    if !text.is_empty() {
        state.filters.insert(view, text);
    }
}

/// Pasted text made fit for a one-line field: line breaks and tabs become spaces, every other
/// control character is dropped — a paste is text, never keys.
pub fn one_line(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\r' | '\n' | '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

/// Appends `pasted` to `text`, keeping at most `max` characters; whether some was cut off.
fn append(text: &mut String, pasted: &str, max: usize) -> bool {
    let room = max.saturating_sub(text.chars().count());
    text.extend(pasted.chars().take(room));
    pasted.chars().count() > room
}

/// A paste goes into the focused text field as text; with no text field open it is ignored
/// (pasted keys must not act on the selected row).
pub fn paste(state: &mut State, text: &str) {
    let clean = one_line(text);
    let cut = match state.overlay.as_mut() {
        Some(Overlay::Approval(dialog)) => append(&mut dialog.comment, &clean, COMMENT_MAX),
        Some(Overlay::Palette { input, selected }) => {
            *selected = 0;
            append(input, &clean, FIELD_MAX)
        }
        Some(Overlay::Input { value, .. }) => append(value, &clean, FIELD_MAX),
        Some(Overlay::Filter) => {
            let mut cut = false;
            edit_filter(state, |t| cut = append(t, &clean, FIELD_MAX));
            cut
        }
        _ => {
            super::update::notify(
                state,
                "paste ignored: no text field is open (pasted text is never taken as keys)".into(),
                NoticeKind::Info,
            );
            return;
        }
    };
    if cut {
        let max = match state.overlay {
            Some(Overlay::Approval(_)) => COMMENT_MAX,
            _ => FIELD_MAX,
        };
        super::update::notify(
            state,
            format!("paste cut to {max} characters (the field's limit)"),
            NoticeKind::Info,
        );
    }
}
