//! Logs: group picker, stream picker, then the lines (follow, wrap, search highlight).
//! A frame touches only the lines on screen, borrowed from the buffer.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::{fit, line_at, placeholder, row_style, scroll_offset};
use crate::console::format::{ago, clock};
use crate::console::state::{LogPane, State};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let logs = &state.logs;
    let w = area.width as usize;
    match logs.pane {
        LogPane::Groups => {
            line_at(
                frame,
                area,
                0,
                Line::styled(fit(" LOG GROUP", w), theme.header()),
            );
            if logs.groups.is_empty() {
                placeholder(frame, area, "loading log groups…", theme.dim());
                return;
            }
            let h = area.height.saturating_sub(1) as usize;
            let sel = logs.groups_cursor.selected;
            let off = scroll_offset(sel, h);
            for (i, g) in crate::console::rows::log_groups(state)
                .into_iter()
                .enumerate()
                .skip(off)
                .take(h)
            {
                let text = format!(
                    " {}  {}",
                    g.name,
                    g.retention_days
                        .map_or(String::new(), |d| format!("({d} days)"))
                );
                line_at(
                    frame,
                    area,
                    (i - off + 1) as u16,
                    Line::raw(fit(&text, w)).style(row_style(i == sel, theme)),
                );
            }
        }
        LogPane::Streams => {
            let title = format!(" {} — STREAM", logs.group.as_deref().unwrap_or(""));
            line_at(frame, area, 0, Line::styled(fit(&title, w), theme.header()));
            let h = area.height.saturating_sub(1) as usize;
            let sel = logs.streams_cursor.selected;
            let off = scroll_offset(sel, h);
            let all = std::iter::once(("(all streams)".to_string(), None));
            let names = all.chain(
                crate::console::rows::log_streams(state)
                    .into_iter()
                    .map(|s| (s.name.clone(), s.last_event)),
            );
            for (i, (name, last)) in names.enumerate().skip(off).take(h) {
                let text = format!(
                    " {}  {}",
                    name,
                    last.map_or(String::new(), |t| ago(state.data_now(), Some(t)))
                );
                line_at(
                    frame,
                    area,
                    (i - off + 1) as u16,
                    Line::raw(fit(&text, w)).style(row_style(i == sel, theme)),
                );
            }
        }
        LogPane::Lines => lines(frame, area, state, theme),
    }
}

fn lines(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let logs = &state.logs;
    let buf = &logs.buffer;
    let w = area.width as usize;
    let status = format!(
        " {} {}  [{}] {}{}  {} of {} lines{}",
        logs.group.as_deref().unwrap_or(""),
        logs.stream.as_deref().unwrap_or("(all streams)"),
        logs.window.label(),
        if logs.follow { "following" } else { "paused" },
        if logs.wrap { " wrap" } else { "" },
        buf.visible_len(),
        buf.len(),
        if logs.pattern.is_empty() {
            String::new()
        } else {
            format!("  pattern `{}`", logs.pattern)
        },
    );
    line_at(
        frame,
        area,
        0,
        Line::styled(fit(&status, w), theme.header()),
    );
    if buf.visible_len() == 0 {
        placeholder(
            frame,
            area,
            if buf.is_empty() {
                "no log lines in this window"
            } else {
                "no line matches the filter"
            },
            theme.dim(),
        );
        return;
    }
    let h = area.height.saturating_sub(1) as usize;
    // `top` is the line the cursor is on; keep it on the page, following pins the last page.
    let first = scroll_offset(logs.top, h);
    let search = logs.search.to_ascii_lowercase();
    let text_w = w.saturating_sub(10);
    let mut y = 1usize;
    let mut n = first;
    while y <= h {
        let Some((t, _stream, msg)) = buf.visible(n) else {
            break;
        };
        let marker_style = if Some(n) == logs.search_hit || n == logs.top {
            theme.key()
        } else {
            theme.dim()
        };
        // Wrapped lines take as many rows as they need; otherwise they are cut.
        let chunks: Vec<&str> = if logs.wrap && text_w > 0 {
            wrap(msg, text_w)
        } else {
            vec![msg]
        };
        for (k, chunk) in chunks.into_iter().enumerate() {
            if y > h {
                break;
            }
            let prefix = if k == 0 {
                format!("{} ", clock(t))
            } else {
                " ".repeat(9)
            };
            let mut spans = vec![Span::styled(prefix, marker_style)];
            spans.extend(highlight(cut(chunk, text_w), &search, theme));
            line_at(frame, area, y as u16, Line::from(spans));
            y += 1;
        }
        n += 1;
    }
}

/// At most `width` characters of `s`, borrowed.
fn cut(s: &str, width: usize) -> &str {
    match s.char_indices().nth(width) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn wrap(s: &str, width: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let piece = cut(rest, width);
        out.push(piece);
        rest = &rest[piece.len()..];
    }
    if out.is_empty() {
        out.push("");
    }
    out
}

/// Splits `text` into spans with every (ASCII case-insensitive) occurrence of `needle` marked.
fn highlight<'a>(text: &'a str, needle: &str, theme: &Theme) -> Vec<Span<'a>> {
    if needle.is_empty() || !text.is_ascii() {
        return vec![Span::raw(text)];
    }
    let lower = text.to_ascii_lowercase();
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(pos) = lower[at..].find(needle) {
        let start = at + pos;
        if start > at {
            spans.push(Span::raw(&text[at..start]));
        }
        spans.push(Span::styled(
            &text[start..start + needle.len()],
            theme.highlight(),
        ));
        at = start + needle.len();
    }
    if at < text.len() {
        spans.push(Span::styled(&text[at..], Style::new()));
    }
    spans
}
