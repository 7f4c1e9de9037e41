//! `:audit`: every operation attempted from this console, with outcome and `aws` equivalent.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::{fit, line_at, placeholder, row_style, scroll_offset};
use crate::console::format::timestamp;
use crate::console::rows;
use crate::console::state::{State, View};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if state.data.audit.is_none() {
        placeholder(frame, area, "loading audit log…", theme.dim());
        return;
    }
    let w = area.width as usize;
    let list = rows::audit(state);
    line_at(
        frame,
        area,
        0,
        Line::styled(
            format!(
                "{}{}{}{}",
                fit(" TIME (UTC)", 21),
                fit("OPERATION", 36),
                fit("TARGET", 14),
                fit("OUTCOME", w.saturating_sub(71))
            ),
            theme.header(),
        ),
    );
    if list.is_empty() {
        placeholder(frame, area, "no operation attempted yet", theme.dim());
        return;
    }
    let h = area.height.saturating_sub(5) as usize;
    let sel = state.cursor(View::Audit).selected;
    let off = scroll_offset(sel, h);
    for (i, r) in list.iter().enumerate().skip(off).take(h) {
        let outcome_style = if r.outcome.starts_with("failed") {
            theme.error()
        } else if r.outcome.starts_with("unknown") {
            theme.warn()
        } else {
            theme.dim()
        };
        let line = Line::from(vec![
            Span::raw(fit(&format!(" {}", timestamp(r.time)), 21)),
            Span::raw(fit(&r.operation, 36)),
            Span::raw(fit(&r.target, 14)),
            Span::styled(fit(&r.outcome, w.saturating_sub(71)), outcome_style),
        ]);
        line_at(
            frame,
            area,
            (i - off + 1) as u16,
            line.style(row_style(i == sel, theme)),
        );
    }
    if let Some(r) = list.get(sel) {
        let top = area.height.saturating_sub(4);
        line_at(
            frame,
            area,
            top,
            Line::styled(fit(&format!(" by {}", r.identity), w), theme.dim()),
        );
        // The CLI equivalent in full, over up to three rows.
        let chars: Vec<char> = r.cli_command.chars().collect();
        let width = w.saturating_sub(1).max(1);
        for (k, chunk) in chars.chunks(width).take(3).enumerate() {
            let text: String = chunk.iter().collect();
            line_at(
                frame,
                area,
                top + 1 + k as u16,
                Line::raw(format!(" {text}")),
            );
        }
    }
}
