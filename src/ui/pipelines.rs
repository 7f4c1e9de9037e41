//! Every pipeline: the latest execution's status per stage as coloured cells, running time,
//! pending approvals and firing alarms.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::{fit, line_at, placeholder, row_style, scroll_offset};
use crate::console::format::{ago, duration};
use crate::console::rows;
use crate::console::state::{State, View};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(_) = &state.data.pipelines else {
        placeholder(frame, area, "loading pipelines…", theme.dim());
        return;
    };
    let list = rows::pipelines(state);
    let w = area.width as usize;
    // A quarter of the width, widened (up to a third) so names and PROD badges fit whole; room
    // for a badge on every row when any environment is production keeps the column steady.
    let badge = if state.settings.production.is_empty() {
        0
    } else {
        6
    };
    let needed = list
        .iter()
        .map(|p| p.name.chars().count() + 2 + badge)
        .max()
        .unwrap_or(0);
    let name_w = (w / 4).max(needed.min(w / 3)).clamp(12, 40);
    let tail_w = 12 + 9 + 4 + 4;
    let stages_w = w.saturating_sub(name_w + tail_w + 1);
    line_at(
        frame,
        area,
        0,
        Line::styled(
            format!(
                "{}{}{}{}{}{}",
                fit(" PIPELINE", name_w),
                fit("STAGES", stages_w + 1),
                fit("STATUS", 12),
                fit("TIME", 9),
                fit("APR", 4),
                fit("ALM", 4)
            ),
            theme.header(),
        ),
    );
    if list.is_empty() {
        let msg = if state.filter(View::Pipelines).is_empty() {
            "no pipelines"
        } else {
            "no pipeline matches the filter"
        };
        placeholder(frame, area, msg, theme.dim());
        return;
    }
    let height = area.height.saturating_sub(1) as usize;
    let selected = state.cursor(View::Pipelines).selected;
    let offset = scroll_offset(selected, height);
    for (i, p) in list.iter().enumerate().skip(offset).take(height) {
        let mut spans = Vec::with_capacity(p.stages.len() * 2 + 6);
        let prod = state.pipeline_is_production(p);
        spans.push(Span::raw(fit(
            &format!(" {}", p.name),
            name_w - if prod { 6 } else { 0 },
        )));
        if prod {
            spans.push(Span::styled(" PROD ", theme.production()));
        }
        // Each stage gets an equal share of the stage column, at least 2 columns.
        let n = p.stages.len().max(1);
        let cell_w = (stages_w / n).max(2);
        let mut used = 0;
        for stage in &p.stages {
            if used + cell_w > stages_w {
                break;
            }
            let text = format!("{}{}", Theme::symbol(&stage.status), stage.name);
            spans.push(Span::styled(
                fit(&text, cell_w - 1),
                theme.cell(&stage.status),
            ));
            spans.push(Span::raw(" "));
            used += cell_w;
        }
        spans.push(Span::raw(" ".repeat(stages_w.saturating_sub(used) + 1)));
        let (status, time) = match &p.latest_execution {
            Some(e) => {
                let time = if e.status.is_active() {
                    e.start
                        .map_or("-".into(), |s| duration(state.data_now() - s))
                } else {
                    ago(state.data_now(), e.last_update.or(e.start)).replace(" ago", "")
                };
                (
                    Span::styled(fit(e.status.label(), 12), theme.status(&e.status)),
                    time,
                )
            }
            None => (Span::styled(fit("-", 12), theme.dim()), "-".into()),
        };
        spans.push(status);
        spans.push(Span::raw(fit(&time, 9)));
        let approvals = if p.pending_approvals > 0 {
            p.pending_approvals.to_string()
        } else {
            "-".into()
        };
        spans.push(Span::styled(
            fit(&approvals, 4),
            if p.pending_approvals > 0 {
                theme.warn()
            } else {
                theme.dim()
            },
        ));
        let alarms = rows::firing_for_pipeline(state, &p.name);
        let alarms_text = if alarms > 0 {
            alarms.to_string()
        } else {
            "-".into()
        };
        spans.push(Span::styled(
            fit(&alarms_text, 4),
            if alarms > 0 {
                theme.error()
            } else {
                theme.dim()
            },
        ));
        let line = Line::from(spans).style(row_style(i == selected, theme));
        line_at(frame, area, (i - offset + 1) as u16, line);
    }
}
