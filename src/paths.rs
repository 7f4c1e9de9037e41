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
