//! The CloudFormation stack: status and reason, outputs, resources, events.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::{fit, line_at, placeholder, row_style, scroll_offset};
use crate::console::format::clock;
use crate::console::rows;
use crate::console::state::{State, View};

fn status_style(status: &str, theme: &Theme) -> Style {
    if status.contains("FAILED") || status.contains("ROLLBACK") {
        theme.error()
    } else if status.ends_with("IN_PROGRESS") {
        theme.warn()
    } else {
        theme.status(&crate::model::Status::Succeeded)
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(s) = &state.data.stack else {
        placeholder(
            frame,
            area,
            &format!("loading stack {}…", state.settings.stack_name),
            theme.dim(),
        );
        return;
    };
    let w = area.width as usize;
    line_at(
        frame,
        area,
        0,
        Line::from(vec![
            Span::styled(format!(" {} ", s.name), theme.header()),
            Span::styled(s.status.clone(), status_style(&s.status, theme)),
            Span::styled(
                format!("  {}", s.reason.as_deref().unwrap_or("")),
                theme.dim(),
            ),
        ]),
    );
    let mut y = 1u16;
    let block = (area.height / 4).max(1) as usize;
    line_at(
        frame,
        area,
        y,
        Line::styled(fit(" OUTPUTS", w), theme.header()),
    );
    y += 1;
    for o in s.outputs.iter().take(block) {
        line_at(
            frame,
            area,
            y,
            Line::raw(fit(&format!("  {} = {}", o.key, o.value), w)),
        );
        y += 1;
    }
    line_at(
        frame,
        area,
        y,
        Line::styled(
            fit(&format!(" RESOURCES ({})", s.resources.len()), w),
            theme.header(),
        ),
    );
    y += 1;
    for r in s.resources.iter().take(block) {
        line_at(
            frame,
            area,
            y,
            Line::from(vec![
                Span::raw(fit(&format!("  {}", r.logical_id), 32)),
                Span::styled(fit(&r.status, 22), status_style(&r.status, theme)),
                Span::styled(fit(&r.resource_type, w.saturating_sub(54)), theme.dim()),
            ]),
        );
        y += 1;
    }
    line_at(
        frame,
        area,
        y,
        Line::styled(fit(" EVENTS", w), theme.header()),
    );
    y += 1;
    let events = rows::stack_events(state);
    let h = area.height.saturating_sub(y) as usize;
    let sel = state.cursor(View::Stack).selected;
    let off = scroll_offset(sel, h);
    for (i, e) in events.iter().enumerate().skip(off).take(h) {
        let line = Line::from(vec![
            Span::raw(format!(" {} ", clock(e.t))),
            Span::raw(fit(&e.logical_id, 28)),
            Span::styled(fit(&e.status, 22), status_style(&e.status, theme)),
            Span::styled(
                fit(e.reason.as_deref().unwrap_or(""), w.saturating_sub(60)),
                theme.dim(),
            ),
        ]);
        line_at(
            frame,
            area,
            y + (i - off) as u16,
            line.style(row_style(i == sel, theme)),
        );
    }
}
