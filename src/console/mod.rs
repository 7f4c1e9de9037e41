//! The interactive console: state, actions, the reducer, keymap, worker and event loop.

use std::path::Path;
use std::process::ExitCode;

/// Runs the console until the user quits; the terminal is restored on every exit path.
pub fn run(
    session: crate::aws::Session,
    loaded: &crate::config::Loaded,
    state_dir: &Path,
) -> color_eyre::Result<ExitCode> {
    let _ = (session, loaded, state_dir);
    eprintln!("error: the console is not available yet");
    Ok(ExitCode::from(crate::EXIT_USAGE))
}
