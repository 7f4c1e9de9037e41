//! What an action ran: a CodeBuild build (phases with durations, log tail) or a CodeDeploy
//! deployment (overview counts, each host's lifecycle events with durations and diagnostics).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::{fit, line_at, placeholder, row_style, scroll_offset};
use crate::console::format::duration;
use crate::console::state::{State, View};
use crate::model::{Build, Deployment};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if state.focus.build_id.is_some() {
        match &state.data.build {
            Some(b) => build(frame, area, state, b, theme),
            None => placeholder(frame, area, "loading build…", theme.dim()),
        }
    } else {
        match &state.data.deployment {
            Some(d) => deployment(frame, area, state, d, theme),
            None => placeholder(frame, area, "loading deployment…", theme.dim()),
        }
    }
}

fn build(frame: &mut Frame, area: Rect, state: &State, b: &Build, theme: &Theme) {
    let w = area.width as usize;
    let sim = if b.simulated { " (simulated)" } else { "" };
    line_at(
        frame,
        area,
        0,
        Line::from(vec![
            Span::styled(format!(" {}{sim} ", b.project), theme.header()),
            Span::styled(b.status.label().to_string(), theme.status(&b.status)),
            Span::raw(format!(
                "  phase {}  source {}",
                b.current_phase.as_deref().unwrap_or("-"),
                b.source_version
                    .as_deref()
                    .map_or("-", |s| crate::console::format::short(s, 12))
            )),
        ]),
    );
    let phases_h = b.phases.len().min(area.height as usize / 2);
    let selected = state.cursor(View::ActionDetail).selected;
    let offset = scroll_offset(selected, phases_h.max(1));
    for (k, p) in b.phases.iter().enumerate().skip(offset).take(phases_h) {
        let took = match (p.duration_secs, p.start) {
            (Some(d), _) => duration(d as f64),
            (None, Some(s)) if p.status.is_active() => duration(state.data_now() - s),
            _ => "-".into(),
        };
        let line = Line::from(vec![
            Span::raw(fit(
                &format!("  {} {}", Theme::symbol(&p.status), p.name),
                24,
            )),
            Span::styled(fit(p.status.label(), 12), theme.status(&p.status)),
            Span::raw(fit(&took, 9)),
            Span::styled(
                fit(&p.context.join("; "), w.saturating_sub(45)),
                theme.error(),
            ),
        ]);
        line_at(
            frame,
            area,
            (k - offset + 1) as u16,
            line.style(row_style(k == selected, theme)),
        );
    }
    let top = (phases_h + 1) as u16;
    let title = match &b.log_group {
        Some(g) => format!(
            " LOG {g} {}  (L: open in logs view)",
            b.log_stream.as_deref().unwrap_or("")
        ),
        None => " no log configured".into(),
    };
    line_at(frame, area, top, Line::styled(fit(&title, w), theme.dim()));
    // The tail of the build's log (the logs buffer holds it).
    let buf = &state.logs.buffer;
    let room = area.height.saturating_sub(top + 1) as usize;
    let n = buf.visible_len();
    for (k, idx) in (n.saturating_sub(room)..n).enumerate() {
        if let Some((_, _, msg)) = buf.visible(idx) {
            line_at(
                frame,
                area,
                top + 1 + k as u16,
                Line::raw(format!(" {}", fit(msg, w.saturating_sub(1)))),
            );
        }
    }
}

fn deployment(frame: &mut Frame, area: Rect, state: &State, d: &Deployment, theme: &Theme) {
    let w = area.width as usize;
    let o = &d.overview;
    line_at(
        frame,
        area,
        0,
        Line::from(vec![
            Span::styled(
                format!(" {} {}/{} ", d.id, d.application, d.group),
                theme.header(),
            ),
            Span::styled(d.status.label().to_string(), theme.status(&d.status)),
            Span::raw(format!(
                "  pending {} running {} ok {} failed {} skipped {}",
                o.pending, o.in_progress, o.succeeded, o.failed, o.skipped
            )),
        ]),
    );
    let mut y = 1u16;
    if let Some(e) = &d.error {
        line_at(
            frame,
            area,
            y,
            Line::styled(
                fit(&format!(" {}: {}", e.code, e.message), w),
                theme.error(),
            ),
        );
        y += 1;
    }
    if let Some(r) = &d.rollback {
        let text = format!(
            " rollback: {} {}",
            r.rollback_deployment_id
                .as_deref()
                .or(r.triggering_deployment_id.as_deref())
                .unwrap_or(""),
            r.message.as_deref().unwrap_or("")
        );
        line_at(frame, area, y, Line::styled(fit(&text, w), theme.warn()));
        y += 1;
    }
    let selected = state.cursor(View::ActionDetail).selected;
    for (k, t) in d.targets.iter().enumerate() {
        if y >= area.height {
            break;
        }
        let line = Line::from(vec![
            Span::raw(fit(&format!(" {} {}", Theme::symbol(&t.status), t.id), 30)),
            Span::styled(fit(t.status.label(), 12), theme.status(&t.status)),
            Span::styled(fit(&t.kind, 16), theme.dim()),
        ]);
        line_at(frame, area, y, line.style(row_style(k == selected, theme)));
        y += 1;
        // Lifecycle events of the selected host (or every host when there is room).
        if k != selected && d.targets.len() > 3 {
            continue;
        }
        for ev in &t.lifecycle {
            if y >= area.height {
                break;
            }
            let took = ev.duration_secs().map_or_else(
                || {
                    ev.start
                        .filter(|_| ev.status.is_active())
                        .map_or("-".into(), |s| duration(state.data_now() - s))
                },
                duration,
            );
            // Diagnostics matter when a hook failed; successful hooks only say "Succeeded".
            let diag = ev
                .diagnostics
                .as_ref()
                .filter(|_| ev.status.is_failure())
                .map_or(String::new(), |g| {
                    format!(
                        "{} {} {}",
                        g.error_code.as_deref().unwrap_or(""),
                        g.script_name.as_deref().unwrap_or(""),
                        g.message.as_deref().unwrap_or("")
                    )
                });
            line_at(
                frame,
                area,
                y,
                Line::from(vec![
                    Span::raw(fit(&format!("     {}", ev.name), 30)),
                    Span::styled(fit(ev.status.label(), 12), theme.status(&ev.status)),
                    Span::raw(fit(&took, 9)),
                    Span::styled(fit(diag.trim(), w.saturating_sub(51)), theme.error()),
                ]),
            );
            y += 1;
        }
    }
    // The selected host's failure in full: the script, its message and the log tail.
    let diag = d
        .targets
        .get(selected)
        .into_iter()
        .flat_map(|t| &t.lifecycle)
        .filter(|e| e.status.is_failure())
        .find_map(|e| e.diagnostics.as_ref());
    if let Some(g) = diag {
        let mut lines = vec![format!(
            " {} in {}",
            g.error_code.as_deref().unwrap_or("error"),
            g.script_name.as_deref().unwrap_or("?")
        )];
        lines.extend(g.message.iter().map(|m| format!(" {m}")));
        lines.extend(
            g.log_tail
                .iter()
                .flat_map(|t| t.lines())
                .map(|l| format!("   {l}")),
        );
        let room = area.height.saturating_sub(y + 1) as usize;
        for line in lines.into_iter().take(room) {
            y += 1;
            line_at(frame, area, y, Line::styled(fit(&line, w), theme.error()));
        }
    }
}
