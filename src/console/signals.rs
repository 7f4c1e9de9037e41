//! SIGTERM, SIGHUP, SIGINT and SIGQUIT end the console through its normal exit, so the terminal
//! is restored (in raw mode Ctrl-C is a key, but `kill -INT` still arrives as a signal).

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::Sender;

use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinHandle;

use super::action::Action;
use super::keymap::Command;

/// Listens for the four signals on the current runtime; the first one stores its number in
/// `signalled` and asks the event loop to quit. `None` when the handlers cannot be installed.
pub fn listen(tx: Sender<Action>, signalled: Arc<AtomicI32>) -> Option<JoinHandle<()>> {
    let install = |kind: SignalKind| {
        signal(kind)
            .map_err(|e| tracing::warn!(error = %e, "cannot handle a signal; it would end the console abruptly"))
            .ok()
    };
    let mut term = install(SignalKind::terminate())?;
    let mut hup = install(SignalKind::hangup())?;
    let mut int = install(SignalKind::interrupt())?;
    let mut quit = install(SignalKind::quit())?;
    Some(tokio::spawn(async move {
        // Every signal asks again: the loop may be busy drawing when the first one arrives.
        loop {
            let kind = tokio::select! {
                _ = term.recv() => SignalKind::terminate(),
                _ = hup.recv() => SignalKind::hangup(),
                _ = int.recv() => SignalKind::interrupt(),
                _ = quit.recv() => SignalKind::quit(),
            };
            let _ = signalled.compare_exchange(
                0,
                kind.as_raw_value(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            if tx.send(Action::Command(Command::Quit)).is_err() {
                return;
            }
        }
    }))
}
