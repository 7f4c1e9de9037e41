//! Where pipetui keeps its state and log file.

use std::path::{Path, PathBuf};

/// `$XDG_STATE_HOME/pipetui` (usually `~/.local/state/pipetui`), else a local data dir, else
/// `./.pipetui`.
pub fn default_state_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "pipetui")
        .map(|d| {
            d.state_dir()
                .map_or_else(|| d.data_local_dir().to_path_buf(), Path::to_path_buf)
        })
        .unwrap_or_else(|| PathBuf::from(".pipetui"))
}

pub fn log_file(state_dir: &Path) -> PathBuf {
    state_dir.join("pipetui.log")
}

/// Files in the state dir that hold operators' data (audit, emulator state, logs): owner-only.
const PRIVATE_FILES: &[&str] = &["audit.db", "emulator.db", "pipetui.log", "pipetui.log.1"];

/// Creates the state dir (owner-only, `0700`) or tightens an existing one: it holds the audit
/// log and the emulator's state, which other local users must not read or change.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Opens (creating when missing) a file that only its owner may read and write (`0600`), and
/// tightens an existing one.
pub fn open_private(path: &Path, append: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// Sets `0600` on the state dir's data files an older pipetui left readable, SQLite's
/// `-wal`/`-shm` companions included (new ones are created owner-only by their owners: the
/// audit log, the emulator's store, the log writer). Run once at start-up.
pub fn restrict_files(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for name in PRIVATE_FILES {
        for suffix in ["", "-wal", "-shm"] {
            let path = dir.join(format!("{name}{suffix}"));
            if path.exists()
                && let Err(e) =
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            {
                tracing::warn!(path = %path.display(), error = %e, "cannot make a state file private");
            }
        }
    }
}
