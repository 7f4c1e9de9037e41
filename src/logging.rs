//! Logs go to a file in the state dir only: the terminal belongs to the UI. The file is
//! owner-only and size-capped: when it reaches [`LOG_CAP_BYTES`] it becomes `pipetui.log.1`
//! (replacing the previous one) and a new file starts, so a flood of lines cannot fill the disk.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::paths;

/// Size at which the log file rotates; at most two files of this size are kept.
pub const LOG_CAP_BYTES: u64 = 10 * 1024 * 1024;

/// Starts file logging; the guard flushes on drop. Level from `PIPETUI_LOG` (default `info`).
/// When the state dir cannot be created, pipetui still runs, without a log file.
pub fn init(state_dir: &Path) -> Option<WorkerGuard> {
    if let Err(e) = paths::ensure_private_dir(state_dir) {
        eprintln!(
            "warning: cannot create state dir {}: {e}; logging is off",
            state_dir.display()
        );
        return None;
    }
    // Files left by an older pipetui are tightened too.
    paths::restrict_files(state_dir);
    let path = paths::log_file(state_dir);
    let file = match CappedLog::open(&path, LOG_CAP_BYTES) {
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

/// An append-only, owner-only log file that rotates to `<name>.1` at a size cap. Written here
/// because `tracing-appender` rotates by time only, and a flood of lines must not fill the disk.
#[derive(Debug)]
pub struct CappedLog {
    path: PathBuf,
    cap: u64,
    file: File,
    size: u64,
}

impl CappedLog {
    pub fn open(path: &Path, cap: u64) -> std::io::Result<Self> {
        let file = paths::open_private(path, true)?;
        let size = file.metadata()?.len();
        Ok(Self {
            path: path.to_path_buf(),
            cap: cap.max(1),
            file,
            size,
        })
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        std::fs::rename(&self.path, &old)?;
        self.file = paths::open_private(&self.path, true)?;
        self.size = 0;
        Ok(())
    }
}

impl Write for CappedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // One write is one formatted event: rotate before it would cross the cap.
        if self.size > 0 && self.size + buf.len() as u64 > self.cap {
            self.rotate()?;
        }
        // An event larger than the cap itself is cut to it.
        let take = buf
            .len()
            .min(usize::try_from(self.cap).unwrap_or(usize::MAX));
        self.file.write_all(&buf[..take])?;
        self.size += take as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}
