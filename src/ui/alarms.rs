//! Alarms: state coloured, reason, last change; the selected alarm's metric as a sparkline
//! with its threshold, and its state history.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Sparkline;

use super::theme::Theme;
use super::{fit, line_at, placeholder, row_style, scroll_offset};
use crate::console::format::{ago, clock};
use crate::console::rows;
use crate::console::state::{State, View};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if state.data.alarms.is_none() {
        placeholder(frame, area, "loading alarms…", theme.dim());
        return;
    }
    let w = area.width as usize;
    let name_w = (w / 3).clamp(20, 50);
    line_at(
        frame,
        area,
        0,
        Line::styled(
            format!(
                "{}{}{}{}",
                fit(" ALARM", name_w),
                fit("STATE", 19),
                fit("CHANGED", 10),
                fit("REASON", w.saturating_sub(name_w + 29))
            ),
            theme.header(),
        ),
    );
    let list = rows::alarms(state);
    let list_h = (area.height as usize).saturating_sub(1) / 2;
    let selected = state.cursor(View::Alarms).selected;
    let offset = scroll_offset(selected, list_h);
    for (i, a) in list.iter().enumerate().skip(offset).take(list_h) {
        let prod = a
            .dimension("Environment")
            .is_some_and(|e| state.is_production(e));
        let mut spans = vec![Span::raw(fit(
            &format!(" {}", a.name),
            name_w - if prod { 6 } else { 1 },
        ))];
        if prod {
            spans.push(Span::styled(" PROD ", theme.production()));
        } else {
            spans.push(Span::raw(" "));
        }
        spans.push(Span::styled(
            fit(a.state.label(), 19),
            theme.alarm(&a.state),
        ));
        spans.push(Span::raw(fit(
            &ago(state.data_now(), a.updated).replace(" ago", ""),
            10,
        )));
        spans.push(Span::styled(
            fit(
                a.reason.as_deref().unwrap_or(""),
                w.saturating_sub(name_w + 29),
            ),
            theme.dim(),
        ));
        line_at(
            frame,
            area,
            (i - offset + 1) as u16,
            Line::from(spans).style(row_style(i == selected, theme)),
        );
    }
    let Some(alarm) = list.get(selected) else {
        return;
    };
    let top = (list_h + 1) as u16;
    let desc = format!(
        " {} {} {} {} {} × {}s",
        alarm.namespace.as_deref().unwrap_or(""),
        alarm.metric.as_deref().unwrap_or(""),
        alarm.statistic.as_deref().unwrap_or(""),
        alarm.comparison.as_deref().unwrap_or(""),
        alarm.threshold.map_or("-".into(), |t| format!("{t}")),
        alarm.period.unwrap_or(0),
    );
    line_at(
        frame,
        area,
        top,
        Line::styled(fit(&desc, w), theme.header()),
    );
    let spark_h = 3u16.min(area.height.saturating_sub(top + 1));
    match &state.data.metric {
        Some(points) if !points.is_empty() => {
            let values: Vec<u64> = points
                .iter()
                .map(|p| (p.value.max(0.0) * 100.0) as u64)
                .collect();
            let latest = points.last().map_or(0.0, |p| p.value);
            let max_w = (w.saturating_sub(16)).max(1);
            let data = &values[values.len().saturating_sub(max_w)..];
            let style = theme.alarm(&alarm.state);
            frame.render_widget(
                Sparkline::default().data(data).style(style),
                Rect {
                    x: area.x + 1,
                    y: area.y + top + 1,
                    width: max_w as u16,
                    height: spark_h,
                },
            );
            line_at(
                frame,
                area,
                top + 1,
                Line::from(vec![
                    Span::raw(" ".repeat(max_w + 2)),
                    Span::raw(format!("now {latest:.2}")),
                ]),
            );
        }
        Some(_) => line_at(
            frame,
            area,
            top + 1,
            Line::styled(" no datapoints in the window", theme.dim()),
        ),
        None => line_at(
            frame,
            area,
            top + 1,
            Line::styled(" loading metric…", theme.dim()),
        ),
    }
    let hist_top = top + 1 + spark_h;
    for (k, h) in state.data.alarm_history.iter().flatten().enumerate() {
        let y = hist_top + k as u16;
        if y >= area.height {
            break;
        }
        line_at(
            frame,
            area,
            y,
            Line::raw(fit(&format!(" {} {}", clock(h.t), h.summary), w)),
        );
    }
}
