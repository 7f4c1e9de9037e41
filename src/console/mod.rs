//! The interactive console (Elm architecture): keys and finished I/O become `Action`s,
//! `update` is the only mutation and returns `Effect`s, the `worker` runs them on tokio tasks,
//! and `ui::draw` renders `&State`. The terminal is restored on every exit path, panics included.

pub mod action;
pub mod fetch;
pub mod format;
pub mod input;
pub mod keymap;
pub mod logbuf;
pub mod logs;
pub mod ops;
pub mod palette;
pub mod poll;
pub mod rows;
mod signals;
pub mod state;
pub mod update;
pub mod verify;
mod worker;

use std::io::stdout;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
};
use crossterm::execute;

use crate::aws::Target;
use crate::model::TargetInfo;

pub use action::{Action, Effect};
pub use state::{Settings, State, View};
pub use update::update;

/// Time between ticks (polls falling due, notices expiring); nothing is drawn unless changed.
const TICK: Duration = Duration::from_millis(250);

/// Wall-clock epoch seconds (the console's notion of "now"; the reducer gets it via `Tick`).
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Header and confirmation text for where calls go.
pub fn target_info(target: &Target) -> TargetInfo {
    TargetInfo {
        label: target.to_string(),
        emulator: matches!(target, Target::Emulator),
        account: None,
        endpoint_url: match target {
            Target::Endpoint { url, .. } => Some(url.clone()),
            _ => None,
        },
    }
}

/// Console settings from the loaded config.
pub fn settings(loaded: &crate::config::Loaded, state_dir: &Path) -> Settings {
    let config = &loaded.config;
    let environments: Vec<String> = config.environments.iter().map(|e| e.name.clone()).collect();
    let production = config
        .environments
        .iter()
        .filter(|e| e.production)
        .map(|e| e.name.clone())
        .collect();
    let stack_name = crate::config::validate::naming(config)
        .name(crate::config::NameKind::Stack, crate::stack::CICD, "stack")
        .unwrap_or_else(|e| e.name);
    Settings {
        read_only: config.console.read_only,
        production,
        environments,
        stack_name,
        refresh_seconds: f64::from(config.console.refresh_seconds),
        save_dir: state_dir.join("saved-logs"),
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        theme: match config.console.theme {
            crate::config::ConsoleTheme::Dark => crate::ui::theme::ThemeKind::Dark,
            crate::config::ConsoleTheme::Light => crate::ui::theme::ThemeKind::Light,
            crate::config::ConsoleTheme::Mono => crate::ui::theme::ThemeKind::Mono,
        },
    }
}

/// Runs the console until the user quits; the terminal is restored on every exit path.
pub fn run(
    session: crate::aws::Session,
    loaded: &crate::config::Loaded,
    state_dir: &Path,
) -> color_eyre::Result<ExitCode> {
    // Worker tasks run on the caller's runtime when there is one (the SDK clients were built
    // there), else on one of our own.
    let (handle, _own_runtime) = match tokio::runtime::Handle::try_current() {
        Ok(h) => (h, None),
        Err(_) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            (rt.handle().clone(), Some(rt))
        }
    };
    let settings = settings(loaded, state_dir);
    // The config was validated, so the overrides apply; a failure here would be a bug.
    let keymap = keymap::Keymap::new(settings.read_only)
        .with_overrides(&loaded.config.console.keys, settings.read_only)
        .unwrap_or_else(|_| keymap::Keymap::new(settings.read_only));
    let mut state = State::new(
        target_info(&session.clients.target),
        settings,
        keymap,
        now(),
    );
    let audit = match crate::audit::AuditLog::open(state_dir) {
        Ok(log) => Some(Arc::new(log)),
        Err(e) => {
            tracing::warn!(error = %e, "audit log unavailable; operations are disabled");
            update::notify(
                &mut state,
                format!("operations disabled: {e}"),
                state::NoticeKind::Error,
            );
            None
        }
    };
    let (tx, rx) = mpsc::channel();
    let worker = worker::Worker::new(handle.clone(), session.clients.clone(), tx.clone(), audit);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Registered before the terminal changes, so a signal from now on ends the loop cleanly.
    let signalled = Arc::new(std::sync::atomic::AtomicI32::new(0));
    let signals = {
        let _entered = handle.enter();
        signals::listen(tx.clone(), signalled.clone())
    };
    let input = spawn_input(tx, stop.clone());

    let mut terminal = ratatui::init();
    install_mouse_restore_hook();
    let _ = execute!(stdout(), EnableMouseCapture, EnableBracketedPaste);
    if let Ok(size) = terminal.size() {
        state.size = (size.width, size.height);
    }
    let emulator = session.emulator().cloned();
    let result = event_loop(&mut terminal, &mut state, &rx, &worker, emulator.as_deref());
    let _ = execute!(stdout(), DisableBracketedPaste, DisableMouseCapture);
    ratatui::restore();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(task) = signals {
        task.abort();
    }
    let _ = input.join();
    drop(session);
    let signal = signalled.load(std::sync::atomic::Ordering::Relaxed);
    if signal != 0 {
        tracing::info!(signal, "console closed by a signal");
        // The shell convention for "ended by signal N".
        return result.map(|()| ExitCode::from(u8::try_from(128 + signal).unwrap_or(1)));
    }
    result.map(|()| ExitCode::SUCCESS)
}

/// Mouse capture and bracketed paste are ours to undo on a panic; ratatui's hook restores the
/// rest.
fn install_mouse_restore_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(stdout(), DisableBracketedPaste, DisableMouseCapture);
        previous(info);
    }));
}

/// Reads terminal events on a thread so input never waits for the worker or rendering.
fn spawn_input(
    tx: mpsc::Sender<Action>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            match crossterm::event::poll(Duration::from_millis(100)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => break,
            }
            let action = match crossterm::event::read() {
                Ok(Event::Key(k)) => Action::Key(k),
                Ok(Event::Mouse(m)) => Action::Mouse(m),
                Ok(Event::Paste(text)) => Action::Paste(text),
                Ok(Event::Resize(w, h)) => Action::Resize(w, h),
                Ok(_) => continue,
                Err(_) => break,
            };
            if tx.send(action).is_err() {
                break;
            }
        }
    })
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    rx: &Receiver<Action>,
    worker: &worker::Worker,
    emulator: Option<&pipetui_emulator::Emulator>,
) -> color_eyre::Result<()> {
    let mut last_tick = Instant::now() - TICK;
    // Test-only: `PIPETUI_TEST_PANIC=1` panics right after the first frame, so the PTY tests can
    // prove a panic restores the terminal. Harmless in release: nothing happens unless it is set.
    let panic_after_draw = std::env::var_os("PIPETUI_TEST_PANIC").is_some_and(|v| v == "1");
    let mut redraws: u64 = 0;
    loop {
        if state.dirty {
            terminal.draw(|frame| crate::ui::draw(frame, state))?;
            state.dirty = false;
            redraws += 1;
            if panic_after_draw {
                panic!("PIPETUI_TEST_PANIC: panic after the first frame");
            }
        }
        if state.quit {
            tracing::info!(redraws, "console closed");
            return Ok(());
        }
        let wait = TICK.saturating_sub(last_tick.elapsed());
        let action = match rx.recv_timeout(wait) {
            Ok(action) => action,
            Err(RecvTimeoutError::Timeout) => {
                last_tick = Instant::now();
                if let Some(emu) = emulator {
                    update(
                        state,
                        Action::DataClock {
                            data: emu.clock.now(),
                            wall: now(),
                        },
                    );
                }
                Action::Tick(now())
            }
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        };
        for effect in update(state, action) {
            worker.run(effect);
        }
        // Busy input must not starve polling: tick on schedule even while actions stream in.
        if last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            for effect in update(state, Action::Tick(now())) {
                worker.run(effect);
            }
        }
    }
}
