//! One pipeline: stages with inbound transition and revision, each action's status, summary,
//! elapsed time, last change and error; a detail pane for the selected row.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::{fit, line_at, placeholder, row_style, scroll_offset};
use crate::console::format::{ago, duration, revision_line};
use crate::console::rows::{self, StageRow};
use crate::console::state::{State, View};

/// Rows kept for the detail pane under the list.
const DETAIL_ROWS: u16 = 4;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(p) = &state.data.pipeline else {
        placeholder(frame, area, "loading pipeline…", theme.dim());
        return;
    };
    let w = area.width as usize;
    let name_w = (w / 3).clamp(20, 40);
    let summary_w = w.saturating_sub(name_w + 12 + 9 + 10);
    line_at(
        frame,
        area,
        0,
        Line::styled(
            format!(
                "{} {}{}{}{}",
                fit(
                    &format!(" {} ({} {})", p.name, p.pipeline_type, p.execution_mode),
                    name_w - 1
                ),
                fit("STATUS", 12),
                fit("ELAPSED", 9),
                fit("CHANGED", 10),
                fit("SUMMARY / ERROR", summary_w)
            ),
            theme.header(),
        ),
    );
    let list = rows::stage_rows(state);
    let list_h = area.height.saturating_sub(1 + DETAIL_ROWS) as usize;
    let selected = state.cursor(View::Pipeline).selected;
    let offset = scroll_offset(selected, list_h);
    for (i, row) in list.iter().enumerate().skip(offset).take(list_h) {
        let line = match row {
            StageRow::Stage(s) => {
                let mut spans = Vec::new();
                let status = s
                    .latest_execution
                    .as_ref()
                    .map(|e| e.status.clone())
                    .unwrap_or_default();
                let prod = state.is_production(&s.name);
                let gate = if s.inbound_transition.enabled {
                    ""
                } else {
                    " ⛔"
                };
                let name = format!(" {} {}{gate}", Theme::symbol(&status), s.name);
                spans.push(Span::styled(
                    fit(&name, name_w - if prod { 6 } else { 0 }),
                    theme.header(),
                ));
                if prod {
                    spans.push(Span::styled(" PROD ", theme.production()));
                }
                spans.push(Span::styled(fit(status.label(), 12), theme.status(&status)));
                let rev = s.revision.as_ref().map_or(String::new(), revision_line);
                let note = if s.inbound_transition.enabled {
                    rev
                } else {
                    format!(
                        "transition disabled: {}",
                        s.inbound_transition.reason.as_deref().unwrap_or("")
                    )
                };
                spans.push(Span::raw(fit("", 19)));
                spans.push(Span::styled(fit(&note, summary_w), theme.dim()));
                Line::from(spans)
            }
            StageRow::Action(_, a) => {
                let elapsed = match (a.status.is_active(), a.last_status_change) {
                    (true, Some(t)) => duration(state.data_now() - t),
                    _ => "-".into(),
                };
                let text = match &a.error {
                    Some(e) => format!("{}: {}", e.code, e.message),
                    None => a.summary.clone().unwrap_or_default(),
                };
                let text_style = if a.error.is_some() {
                    theme.error()
                } else {
                    ratatui::style::Style::new()
                };
                let label = if a.awaiting_approval() {
                    format!("   {} [approval]", a.name)
                } else {
                    format!("   {} ({})", a.name, a.provider)
                };
                Line::from(vec![
                    Span::raw(fit(&label, name_w)),
                    Span::styled(fit(a.status.label(), 12), theme.status(&a.status)),
                    Span::raw(fit(&elapsed, 9)),
                    Span::raw(fit(
                        &ago(state.data_now(), a.last_status_change).replace(" ago", ""),
                        10,
                    )),
                    Span::styled(fit(&text.replace('\n', " "), summary_w), text_style),
                ])
            }
        };
        line_at(
            frame,
            area,
            (i - offset + 1) as u16,
            line.style(row_style(i == selected, theme)),
        );
    }
    detail(frame, area, state, list.get(selected).copied(), theme);
}

/// The selected row in full: error, revision, transition, external link.
fn detail(frame: &mut Frame, area: Rect, state: &State, row: Option<StageRow<'_>>, theme: &Theme) {
    let top = area.height.saturating_sub(DETAIL_ROWS);
    let Some(row) = row else { return };
    let mut lines: Vec<Line> = Vec::new();
    let stage = row.stage();
    match row.action() {
        Some(a) => {
            if let Some(e) = &a.error {
                lines.push(Line::styled(
                    format!(" {}: {}", e.code, e.message),
                    theme.error(),
                ));
            }
            if a.awaiting_approval() {
                lines.push(Line::styled(
                    " waiting for approval: press a to approve, x to reject",
                    theme.warn(),
                ));
            }
            if let Some(id) = &a.external_execution_id {
                lines.push(Line::raw(format!(" {} {id}", a.provider)));
            }
            if let Some(url) = a.external_execution_url.as_ref().or(a.review_url.as_ref()) {
                lines.push(Line::styled(format!(" {url}"), theme.dim()));
            }
        }
        None => {
            let t = &stage.inbound_transition;
            if !t.enabled {
                lines.push(Line::styled(
                    format!(
                        " inbound transition disabled by {} {}: {}",
                        t.last_changed_by.as_deref().unwrap_or("?"),
                        ago(state.data_now(), t.last_changed_at),
                        t.reason.as_deref().unwrap_or("")
                    ),
                    theme.warn(),
                ));
            }
            if let Some(r) = &stage.revision {
                lines.push(Line::raw(format!(
                    " revision {} {}",
                    r.id,
                    r.summary.as_deref().unwrap_or("")
                )));
            }
            if let Some(e) = &stage.latest_execution {
                lines.push(Line::styled(
                    format!(" execution {}", e.execution_id),
                    theme.dim(),
                ));
            }
        }
    }
    let rule = "─".repeat(area.width as usize);
    line_at(frame, area, top, Line::styled(rule, theme.dim()));
    for (k, line) in lines.into_iter().take(DETAIL_ROWS as usize - 1).enumerate() {
        line_at(frame, area, top + 1 + k as u16, line);
    }
}
