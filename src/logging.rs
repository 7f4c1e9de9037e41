//! Logs go to a file in the state dir only: the terminal belongs to the UI.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::paths;

/// Starts file logging; the guard flushes on drop. Level from `PIPETUI_LOG` (default `info`).
/// When the state dir cannot be created, pipetui still runs, without a log file.
pub fn init(state_dir: &Path) -> Option<WorkerGuard> {
    if let Err(e) = std::fs::create_dir_all(state_dir) {
        eprintln!(
            "warning: cannot create state dir {}: {e}; logging is off",
            state_dir.display()
        );
        return None;
    }
    let path = paths::log_file(state_dir);
    let file = match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "warning: cannot open log file {}: {e}; logging is off",
                path.display()
            );
            return None;
        }
    };
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = EnvFilter::try_from_env("PIPETUI_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
    installed.is_ok().then_some(guard)
}
