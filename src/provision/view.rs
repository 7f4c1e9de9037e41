//! How a [`Progress`] looks: one pure render for the inline terminal view, and the plain lines
//! of `--no-tui`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};

use super::{Phase, Progress, ResourceEvent, ResourceRow, format_elapsed};

/// Rows of the inline view: title, bar, counts, then resources.
pub const VIEW_HEIGHT: u16 = 14;

fn status_style(phase: Phase) -> Style {
    match phase {
        Phase::Pending => Style::default().fg(Color::DarkGray),
        Phase::InProgress => Style::default().fg(Color::Yellow),
        Phase::Complete => Style::default().fg(Color::Green),
        Phase::Failed => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
    }
}

/// The counts line both front-ends show.
pub fn counts_line(p: &Progress) -> String {
    let c = p.counts();
    let mut s = format!(
        "{} pending · {} in progress · {} complete",
        c.pending, c.in_progress, c.complete
    );
    if c.failed > 0 {
        s.push_str(&format!(" · {} failed", c.failed));
    }
    s
}

fn row_line(r: &ResourceRow, now: f64) -> Line<'static> {
    let elapsed = r.elapsed(now).map(format_elapsed).unwrap_or_default();
    Line::from(vec![
        Span::styled(format!("{:<22}", r.status), status_style(r.phase())),
        Span::raw(format!("{:>8}  ", elapsed)),
        Span::styled(
            format!("{:<32}", r.logical_id),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            r.resource_type.clone(),
            Style::default().fg(Color::DarkGray),
        ),
    ])
}

/// Draws the progress into `area`: in-progress and failed resources first, then the latest done.
pub fn draw(frame: &mut Frame<'_>, area: Rect, p: &Progress) {
    let [title, bar, counts, rows] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    let status = p.stack_status.clone().unwrap_or_else(|| "starting".into());
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(
                format!("{} stack {}", p.operation.verb(), p.stack),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!("  {status}")),
        ])),
        title,
    );
    let c = p.counts();
    let color = if c.failed > 0 {
        Color::Red
    } else {
        Color::Green
    };
    frame.render_widget(
        Gauge::default()
            .gauge_style(Style::default().fg(color))
            .ratio(p.ratio().clamp(0.0, 1.0))
            .label(format!("{}/{}", c.complete + c.failed, c.total)),
        bar,
    );
    frame.render_widget(Paragraph::new(counts_line(p)), counts);
    let mut ordered: Vec<&ResourceRow> = p
        .rows
        .iter()
        .filter(|r| matches!(r.phase(), Phase::InProgress | Phase::Failed))
        .collect();
    let mut done: Vec<&ResourceRow> = p
        .rows
        .iter()
        .filter(|r| r.phase() == Phase::Complete)
        .collect();
    done.sort_by(|a, b| {
        b.finished
            .unwrap_or(0.0)
            .total_cmp(&a.finished.unwrap_or(0.0))
    });
    ordered.extend(done);
    let lines: Vec<Line<'_>> = ordered
        .into_iter()
        .take(rows.height as usize)
        .map(|r| row_line(r, p.latest))
        .collect();
    frame.render_widget(Paragraph::new(lines), rows);
}

/// The `--no-tui` line for one status change: `CREATE_COMPLETE  3s  ArtifactBucket (AWS::S3::Bucket)`.
pub fn plain_line(p: &Progress, e: &ResourceEvent) -> String {
    if e.is_stack() {
        return format!("stack {} {}", p.stack, e.status);
    }
    let elapsed = p
        .rows
        .iter()
        .find(|r| r.logical_id == e.logical_id)
        .and_then(|r| r.elapsed(p.latest))
        .filter(|_| e.status.ends_with("_COMPLETE") || e.status.ends_with("_FAILED"))
        .map(format_elapsed)
        .unwrap_or_default();
    let mut line = format!(
        "{:<20} {:>7}  {} ({})",
        e.status, elapsed, e.logical_id, e.resource_type
    );
    if let Some(r) = e.reason.as_deref().filter(|r| !r.is_empty()) {
        line.push_str(&format!(": {r}"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::Operation;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    #[test]
    fn the_view_shows_bar_counts_and_rows() {
        let mut p = Progress::new(
            "acme-orders-cicd-stack",
            Operation::Create,
            vec![
                ("ArtifactBucket".into(), "AWS::S3::Bucket".into()),
                ("Pipeline".into(), "AWS::CodePipeline::Pipeline".into()),
            ],
        );
        let ev = |id: &str, kind: &str, status: &str, t: f64| ResourceEvent {
            logical_id: id.into(),
            resource_type: kind.into(),
            status: status.into(),
            reason: None,
            timestamp: t,
        };
        p.apply(&ev(
            "ArtifactBucket",
            "AWS::S3::Bucket",
            "CREATE_IN_PROGRESS",
            0.0,
        ));
        p.apply(&ev(
            "ArtifactBucket",
            "AWS::S3::Bucket",
            "CREATE_COMPLETE",
            4.0,
        ));
        p.apply(&ev(
            "Pipeline",
            "AWS::CodePipeline::Pipeline",
            "CREATE_IN_PROGRESS",
            4.0,
        ));
        let mut t = Terminal::new(TestBackend::new(100, 8)).expect("terminal");
        t.draw(|f| draw(f, f.area(), &p)).expect("draw");
        let text: String = t
            .backend()
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect();
        assert!(text.contains("Creating stack acme-orders-cicd-stack"));
        assert!(text.contains("1/2"));
        assert!(text.contains("0 pending · 1 in progress · 1 complete"));
        assert!(text.contains("CREATE_COMPLETE") && text.contains("4s"));
        // The resource still in progress is listed before the finished one.
        let pipeline = text.find("Pipeline ").expect("pipeline row");
        let bucket = text.find("ArtifactBucket").expect("bucket row");
        assert!(pipeline < bucket);
    }
}
