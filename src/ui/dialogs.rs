//! Overlays: palette, help, confirmations, the approval dialog, text inputs, rollback picker.
//! Every confirmation names the API call, the ids and where the call goes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::fit;
use super::theme::Theme;
use crate::console::format::{duration, revision_line, short, timestamp};
use crate::console::ops::APPROVAL_TTL_SECONDS;
use crate::console::palette;
use crate::console::state::{ApprovalDialog, Overlay, State};

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width
        .min(area.width.saturating_sub(2))
        .max(10.min(area.width));
    let h = height
        .min(area.height.saturating_sub(2))
        .max(3.min(area.height));
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn dialog(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line<'_>>, theme: &Theme) {
    let rect = centered(area, 76, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(format!(" {title} "), theme.header()));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

fn target_line<'a>(state: &State, theme: &Theme) -> Line<'a> {
    let style = if state.target.emulator {
        theme.emulator()
    } else {
        theme.warn()
    };
    Line::from(vec![
        Span::raw("target: "),
        Span::styled(state.target.describe(), style),
    ])
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(overlay) = &state.overlay else {
        return;
    };
    match overlay {
        Overlay::Filter => {}
        Overlay::Help => {
            let entries: Vec<(String, &str)> = state
                .keymap
                .bindings(state.view())
                .into_iter()
                .map(|(keys, cmd)| (keys, cmd.description()))
                .collect();
            // Two columns when one would not fit the screen.
            let two = entries.len() + 4 > area.height as usize;
            let rows = if two {
                entries.len().div_ceil(2)
            } else {
                entries.len()
            };
            let mut lines: Vec<Line> = Vec::new();
            for r in 0..rows {
                let mut spans = Vec::new();
                for (keys, desc) in [entries.get(r), entries.get(r + rows).filter(|_| two)]
                    .into_iter()
                    .flatten()
                {
                    let (kw, dw) = if two { (13, 23) } else { (22, 40) };
                    spans.push(Span::styled(fit(keys, kw), theme.key()));
                    spans.push(Span::raw(fit(desc, dw)));
                }
                lines.push(Line::from(spans));
            }
            lines.push(Line::styled(
                "palette (:) — ".to_string()
                    + &palette::COMMANDS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(" "),
                theme.dim(),
            ));
            if state.settings.read_only {
                lines.push(Line::styled(
                    "read-only mode: operations are disabled",
                    theme.warn(),
                ));
            }
            dialog(
                frame,
                area,
                &format!("keys — {}", state.view().name()),
                lines,
                theme,
            );
        }
        Overlay::Palette { input, selected } => {
            let mut lines = vec![Line::from(vec![
                Span::styled(":", theme.key()),
                Span::raw(format!("{input}▏")),
            ])];
            for (i, c) in palette::completions(state, input)
                .into_iter()
                .take(8)
                .enumerate()
            {
                let style = if i == *selected {
                    theme.selected()
                } else {
                    theme.dim()
                };
                lines.push(Line::styled(format!("  {c}"), style));
            }
            dialog(frame, area, "command (tab completes)", lines, theme);
        }
        Overlay::Confirm { op, warnings } => {
            let mut lines = vec![
                Line::styled(op.summary(), theme.header()),
                Line::from(vec![
                    Span::raw("API call: "),
                    Span::styled(op.api_call(), theme.key()),
                ]),
                target_line(state, theme),
            ];
            for (k, v) in op.parameters() {
                lines.push(Line::raw(format!("  {k}: {v}")));
            }
            for w in warnings {
                let style = if w.contains("PRODUCTION") {
                    theme.production()
                } else {
                    theme.warn()
                };
                lines.push(Line::styled(format!(" ⚠ {w} "), style));
            }
            lines.push(Line::styled(
                "y / enter: send    n / esc: cancel",
                theme.key(),
            ));
            dialog(frame, area, "confirm", lines, theme);
        }
        Overlay::Approval(d) => approval(frame, area, state, d, theme),
        Overlay::Input {
            prompt,
            value,
            error,
            ..
        } => {
            let mut lines = vec![
                Line::raw(format!("{prompt}:")),
                Line::raw(format!("> {value}▏")),
            ];
            if let Some(e) = error {
                lines.push(Line::styled(e.clone(), theme.error()));
            }
            lines.push(Line::styled("enter: continue    esc: cancel", theme.key()));
            dialog(frame, area, "input", lines, theme);
        }
        Overlay::RollbackPicker {
            pipeline,
            stage,
            candidates,
            selected,
        } => {
            let mut lines = vec![Line::raw(format!("Roll back {pipeline} / {stage} to:"))];
            for (i, e) in candidates.iter().enumerate().take(10) {
                let rev = e
                    .source_revisions
                    .first()
                    .map_or(String::new(), revision_line);
                let label = if i == 0 { " (last good)" } else { "" };
                let text = format!(
                    "  {} {} {rev}{label}",
                    short(&e.id, 8),
                    e.start.map_or("-".into(), timestamp)
                );
                let style = if i == *selected {
                    theme.selected()
                } else {
                    ratatui::style::Style::new()
                };
                lines.push(Line::styled(text, style));
            }
            lines.push(Line::styled("enter: choose    esc: cancel", theme.key()));
            dialog(frame, area, "rollback", lines, theme);
        }
    }
}

/// Comment characters shown on the dialog's one comment line.
const COMMENT_SHOWN: usize = 68;

/// The last `n` characters of `text`, led by `…` when cut.
fn tail(text: &str, n: usize) -> String {
    let count = text.chars().count();
    if count <= n {
        return text.to_string();
    }
    let rest: String = text.chars().skip(count - (n - 1)).collect();
    format!("…{rest}")
}

fn approval(frame: &mut Frame, area: Rect, state: &State, d: &ApprovalDialog, theme: &Theme) {
    let verb = if d.approve { "APPROVE" } else { "REJECT" };
    let verb_style = if d.approve {
        theme.status(&crate::model::Status::Succeeded)
    } else {
        theme.error()
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{verb} "), verb_style),
            Span::raw(format!("{} / {} / {}", d.pipeline, d.stage, d.action.name)),
        ]),
        Line::from(vec![
            Span::raw("API call: "),
            Span::styled("codepipeline:PutApprovalResult", theme.key()),
        ]),
        target_line(state, theme),
    ];
    if state.is_production(&d.stage) || state.is_production(&d.action.name) {
        lines.push(Line::styled(" PRODUCTION ", theme.production()));
    }
    if let Some(r) = &d.revision {
        lines.push(Line::raw(format!(
            "revision: {} {}",
            short(&r.id, 12),
            r.summary
                .as_deref()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
        )));
    }
    if let Some(c) = &d.action.custom_data {
        lines.push(Line::raw(format!("message: {c}")));
    }
    if let Some(u) = &d.action.review_url {
        lines.push(Line::raw(format!("review: {u}")));
    }
    if let Some(start) = d.started {
        let left = start + APPROVAL_TTL_SECONDS - state.data_now();
        let text = if left > 0.0 {
            format!("expires in {}", duration(left))
        } else {
            "expired".into()
        };
        lines.push(Line::styled(
            text,
            if left < 86_400.0 {
                theme.warn()
            } else {
                theme.dim()
            },
        ));
    }
    if !d.firing_alarms.is_empty() {
        lines.push(Line::styled(
            format!("⚠ alarms firing: {}", d.firing_alarms.join(", ")),
            theme.error(),
        ));
    }
    // The counter names PutApprovalResult's limit; a long comment shows its end, where typing goes.
    let count = d.comment.chars().count();
    let max = crate::console::input::COMMENT_MAX;
    lines.push(Line::styled(
        format!("comment ({count}/{max} characters)"),
        if count >= max {
            theme.warn()
        } else {
            theme.dim()
        },
    ));
    lines.push(Line::raw(format!("> {}▏", tail(&d.comment, COMMENT_SHOWN))));
    lines.push(Line::styled(
        "enter: send    tab: approve/reject    esc: cancel",
        theme.key(),
    ));
    dialog(frame, area, "manual approval", lines, theme);
}
