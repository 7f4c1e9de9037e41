//! Pure render functions for the console, one file per view: `draw(frame, &State)` reads the
//! state and never changes it.

mod alarms;
mod audit;
mod detail;
mod dialogs;
mod executions;
mod logs;
mod pipeline;
mod pipelines;
mod stack;
pub mod theme;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::console::format::data_age;
use crate::console::poll::Health;
use crate::console::state::{NoticeKind, State, View};
use theme::Theme;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, state: &State) {
    let area = frame.area();
    let theme = Theme::of(state.settings.theme, state.settings.no_color);
    if area.height < 4 {
        return;
    }
    header(frame, Rect { height: 1, ..area }, state, &theme);
    crumbs(
        frame,
        Rect {
            y: area.y + 1,
            height: 1,
            ..area
        },
        state,
        &theme,
    );
    let body = Rect {
        y: area.y + 2,
        height: area.height - 3,
        ..area
    };
    match state.view() {
        View::Pipelines => pipelines::draw(frame, body, state, &theme),
        View::Pipeline => pipeline::draw(frame, body, state, &theme),
        View::Executions => executions::draw(frame, body, state, &theme),
        View::ActionDetail => detail::draw(frame, body, state, &theme),
        View::Alarms => alarms::draw(frame, body, state, &theme),
        View::Logs => logs::draw(frame, body, state, &theme),
        View::Stack => stack::draw(frame, body, state, &theme),
        View::Audit => audit::draw(frame, body, state, &theme),
    }
    footer(
        frame,
        Rect {
            y: area.y + area.height - 1,
            height: 1,
            ..area
        },
        state,
        &theme,
    );
    dialogs::draw(frame, area, state, &theme);
}

fn header(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let mut spans = vec![Span::styled(" pipetui ", theme.header())];
    let target_style = if state.target.emulator {
        theme.emulator()
    } else {
        theme.header()
    };
    spans.push(Span::styled(state.target.describe(), target_style));
    // Most important first: a narrow terminal cuts from the right.
    if state.settings.read_only {
        spans.push(Span::styled("  READ-ONLY", theme.warn()));
    }
    let firing = state.data.firing_alarms().count();
    if firing > 0 {
        spans.push(Span::styled(
            format!("  {firing} alarm(s) firing"),
            theme.error(),
        ));
    }
    spans.push(Span::raw(format!(
        "  data {}",
        data_age(state.now, state.polls.last_ok)
    )));
    if let Some(id) = &state.data.identity {
        spans.push(Span::styled(format!("  {}", id.arn), theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn crumbs(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let mut parts: Vec<String> = Vec::new();
    for view in &state.views {
        parts.push(match view {
            View::Pipeline => state.focus.pipeline.clone().unwrap_or_default(),
            View::Executions if !state.views.contains(&View::Pipeline) => {
                format!(
                    "{} › executions",
                    state.focus.pipeline.as_deref().unwrap_or("")
                )
            }
            View::Executions => "executions".into(),
            View::ActionDetail => state
                .focus
                .build_id
                .as_deref()
                .or(state.focus.deployment_id.as_deref())
                .map_or("action".into(), |id| {
                    crate::console::format::short(id, 40).to_string()
                }),
            v => v.name().to_string(),
        });
    }
    let mut spans = vec![Span::styled(format!(" {}", parts.join(" › ")), theme.key())];
    let filter = state.filter(state.view());
    if !filter.is_empty() || matches!(state.overlay, Some(crate::console::state::Overlay::Filter)) {
        spans.push(Span::raw(format!("  /{filter}")));
    }
    match state
        .polls
        .health(state.now, state.settings.refresh_seconds.max(1.0))
    {
        Health::Fresh => {}
        Health::Stale { reason } => {
            spans.push(Span::styled(format!("  STALE: {reason}"), theme.warn()));
        }
        Health::Offline { reason } => {
            spans.push(Span::styled(format!("  OFFLINE: {reason}"), theme.error()));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn footer(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if let Some(n) = state.notices.last() {
        let style = if n.kind == NoticeKind::Error {
            theme.error()
        } else {
            theme.warn()
        };
        frame.render_widget(
            Paragraph::new(Span::styled(format!(" {}", n.text), style)),
            area,
        );
        return;
    }
    let mut spans = Vec::new();
    for (key, cmd) in state.keymap.hints(state.view()) {
        spans.push(Span::styled(format!(" {key}"), theme.key()));
        spans.push(Span::raw(format!(" {}", cmd.description())));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// First row to show so that `selected` stays on a page of `height` rows.
pub fn scroll_offset(selected: usize, height: usize) -> usize {
    selected.saturating_sub(height.saturating_sub(1))
}

/// Pads or cuts `text` to exactly `width` columns (character based).
pub fn fit(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width {
        let mut s = String::with_capacity(width);
        s.push_str(text);
        s.extend(std::iter::repeat_n(' ', width - n));
        s
    } else if width == 0 {
        String::new()
    } else {
        let mut s: String = text.chars().take(width - 1).collect();
        s.push('…');
        s
    }
}

/// A message in the middle of an empty body.
pub fn placeholder(frame: &mut Frame, area: Rect, text: &str, style: Style) {
    let y = area.y + area.height / 2;
    frame.render_widget(
        Paragraph::new(Span::styled(text.to_string(), style))
            .alignment(ratatui::layout::Alignment::Center),
        Rect {
            y,
            height: 1,
            ..area
        },
    );
}

/// Renders one line of spans at row `y` of `area`, when it fits.
pub fn line_at(frame: &mut Frame, area: Rect, y: u16, line: Line<'_>) {
    if y < area.height {
        // Straight into the buffer: no layout work, which keeps big lists cheap per frame.
        frame
            .buffer_mut()
            .set_line(area.x, area.y + y, &line, area.width);
    }
}

/// Marks the selected row of a list.
pub fn row_style(selected: bool, theme: &Theme) -> Style {
    if selected {
        theme.selected()
    } else {
        Style::new()
    }
}
