//! The two front-ends over the progress stream: plain lines (`--no-tui`, or no terminal) and an
//! inline ratatui view under the command line, restored when dropped (also on panic unwinding).

use std::io::{IsTerminal, Stdout, Write};

use ratatui::backend::CrosstermBackend;
use ratatui::{Terminal, TerminalOptions, Viewport};

use super::view::{VIEW_HEIGHT, counts_line, draw, plain_line};
use super::{Outcome, Progress, ResourceEvent, format_elapsed};

pub enum Front {
    Plain,
    Inline(Box<Terminal<CrosstermBackend<Stdout>>>),
}

impl Front {
    /// The inline view when asked for and stdout is a terminal; plain lines otherwise.
    pub fn new(no_tui: bool) -> Self {
        if no_tui || !std::io::stdout().is_terminal() {
            return Front::Plain;
        }
        // No raw mode: the view only draws, so Ctrl-C keeps working and nothing needs undoing
        // but the cursor, which the terminal shows again when dropped.
        let options = TerminalOptions {
            viewport: Viewport::Inline(VIEW_HEIGHT),
        };
        match Terminal::with_options(CrosstermBackend::new(std::io::stdout()), options) {
            Ok(t) => Front::Inline(Box::new(t)),
            Err(e) => {
                tracing::warn!(error = %e, "inline view unavailable; plain progress lines");
                Front::Plain
            }
        }
    }

    pub fn update(&mut self, p: &Progress, e: Option<&ResourceEvent>) {
        match self {
            Front::Plain => {
                if let Some(e) = e {
                    println!("{}", plain_line(p, e));
                    let _ = std::io::stdout().flush();
                }
            }
            Front::Inline(t) => {
                if let Err(err) = t.draw(|f| draw(f, f.area(), p)) {
                    tracing::warn!(error = %err, "cannot draw the progress view");
                }
            }
        }
    }

    /// Leaves the last view on screen and puts the cursor below it.
    pub fn finish(self) {
        if let Front::Inline(mut t) = self {
            // The cursor goes under the view, so what follows is printed below it.
            let bottom = t.get_frame().area().bottom();
            let _ = t.set_cursor_position((0, bottom.saturating_sub(1)));
            let _ = t.show_cursor();
            drop(t);
            println!();
        }
    }
}

/// Runs `f` unless Ctrl-C comes first (`None`), so the view is put away before the process
/// ends; CloudFormation carries on with the operation either way.
pub async fn until_interrupted<F: std::future::Future>(f: F) -> Option<F::Output> {
    tokio::select! {
        out = f => Some(out),
        _ = tokio::signal::ctrl_c() => None,
    }
}

/// What to say after Ctrl-C; exit code 130 like a shell.
pub fn interrupted(stack: &str) -> std::process::ExitCode {
    eprintln!(
        "interrupted: CloudFormation continues with stack {stack}; run the command again or open \
         the console to follow it"
    );
    std::process::ExitCode::from(130)
}

/// The summary after an operation: counts, the first failure with its reason, retained resources.
pub fn print_summary(outcome: &Outcome) {
    let p = &outcome.progress;
    let status = p.stack_status.as_deref().unwrap_or("unknown");
    let took = match (
        p.rows.iter().filter_map(|r| r.started).reduce(f64::min),
        p.rows.iter().filter_map(|r| r.finished).reduce(f64::max),
    ) {
        (Some(a), Some(b)) => format!(
            " in {}",
            format_elapsed(std::time::Duration::from_secs_f64((b - a).max(0.0)))
        ),
        _ => String::new(),
    };
    println!("stack {} {status}{took} ({})", p.stack, counts_line(p));
    if let Some(f) = &p.first_failure {
        eprintln!(
            "error: {} ({}) {}: {}",
            f.logical_id, f.resource_type, f.status, f.reason
        );
    }
    let retained: Vec<&str> = p
        .rows
        .iter()
        .filter(|r| r.status == "DELETE_SKIPPED")
        .map(|r| r.logical_id.as_str())
        .collect();
    if !retained.is_empty() {
        println!("retained (DeletionPolicy Retain): {}", retained.join(", "));
    }
}
