//! Execution history (id, trigger, status, start, duration, revision) and the selected
//! execution's action executions.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::{fit, line_at, placeholder, row_style, scroll_offset};
use crate::console::format::{duration, revision_line, short, timestamp};
use crate::console::rows;
use crate::console::state::{State, View};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if state.data.executions.is_none() {
        placeholder(frame, area, "loading executions…", theme.dim());
        return;
    }
    let w = area.width as usize;
    let rev_w = w.saturating_sub(10 + 12 + 20 + 9 + 18);
    line_at(
        frame,
        area,
        0,
        Line::styled(
            format!(
                "{}{}{}{}{}{}",
                fit(" ID", 10),
                fit("STATUS", 12),
                fit("STARTED", 20),
                fit("TOOK", 9),
                fit("TRIGGER", 18),
                fit("REVISION", rev_w)
            ),
            theme.header(),
        ),
    );
    let list = rows::executions(state);
    let inner = state.focus.execution.is_some();
    let list_h = if inner {
        (area.height as usize - 1) / 2
    } else {
        area.height as usize - 1
    };
    let selected = state.cursor(View::Executions).selected;
    let offset = scroll_offset(selected, list_h);
    for (i, e) in list.iter().enumerate().skip(offset).take(list_h) {
        let took = match (e.start, e.last_update) {
            (Some(s), _) if e.status.is_active() => duration(state.data_now() - s),
            (Some(s), Some(u)) => duration(u - s),
            _ => "-".into(),
        };
        let rev = e
            .source_revisions
            .first()
            .map_or(String::new(), revision_line);
        let mut trigger = e.trigger_type.clone().unwrap_or_default();
        if e.execution_type.as_deref() == Some("ROLLBACK") {
            trigger = format!("ROLLBACK {trigger}");
        }
        let marker = if state.focus.execution.as_deref() == Some(&e.id) {
            "▸"
        } else {
            " "
        };
        let line = Line::from(vec![
            Span::raw(fit(&format!("{marker}{}", short(&e.id, 8)), 10)),
            Span::styled(fit(e.status.label(), 12), theme.status(&e.status)),
            Span::raw(fit(&e.start.map_or("-".into(), timestamp), 20)),
            Span::raw(fit(&took, 9)),
            Span::raw(fit(&trigger, 17)),
            Span::raw(" "),
            Span::styled(fit(&rev, rev_w), theme.dim()),
        ]);
        line_at(
            frame,
            area,
            (i - offset + 1) as u16,
            line.style(row_style(i == selected, theme)),
        );
    }
    if !inner {
        return;
    }
    let top = (list_h + 1) as u16;
    let title = format!(
        " ACTIONS OF {}",
        state
            .focus
            .execution
            .as_deref()
            .map_or("", |id| short(id, 8))
    );
    line_at(
        frame,
        area,
        top,
        Line::styled(fit(&title, w), theme.header()),
    );
    let Some(actions) = &state.data.action_executions else {
        line_at(frame, area, top + 1, Line::styled(" loading…", theme.dim()));
        return;
    };
    for (k, a) in actions
        .iter()
        .enumerate()
        .take(area.height.saturating_sub(top + 1) as usize)
    {
        let took = match (a.start, a.last_update) {
            (Some(s), Some(u)) => duration(u - s),
            _ => "-".into(),
        };
        let text = match &a.error {
            Some(e) => format!("{}: {}", e.code, e.message),
            None => a
                .summary
                .clone()
                .or(a.external_execution_id.clone())
                .unwrap_or_default(),
        };
        line_at(
            frame,
            area,
            top + 1 + k as u16,
            Line::from(vec![
                Span::raw(fit(&format!(" {} / {}", a.stage, a.action), 29)),
                Span::raw(" "),
                Span::styled(fit(a.status.label(), 12), theme.status(&a.status)),
                Span::raw(fit(&took, 9)),
                Span::raw(fit(&text, w.saturating_sub(51))),
            ]),
        );
    }
}
