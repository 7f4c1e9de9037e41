//! What the emulator needs to really run pipelines: where work happens on disk, the local git
//! repositories that play the sources, the emulated fleet size, and the background ticker that
//! moves executions, builds and deployments forward.

pub mod sample_app;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::Emulator;

/// Settings of the emulator's engine.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Root of everything the engine writes: `repos/`, `s3/`, `builds/`, `hosts/`.
    pub work_dir: PathBuf,
    /// Emulated hosts in each CodeDeploy deployment group.
    pub hosts_per_group: u32,
    /// Repository name → local git repository playing it. A name not listed resolves to
    /// `work_dir/repos/<name>`, created from the bundled sample app on first use.
    pub sources: BTreeMap<String, PathBuf>,
}

impl EngineSettings {
    pub fn new(work_dir: PathBuf) -> Self {
        Self {
            work_dir,
            hosts_per_group: 3,
            sources: BTreeMap::new(),
        }
    }

    /// The directory that plays S3 object `bucket/key` (artifacts are kept unpacked).
    pub fn s3_dir(&self, bucket: &str, key: &str) -> PathBuf {
        let mut p = self.work_dir.join("s3").join(sanitize(bucket));
        for part in key
            .split('/')
            .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        {
            p.push(sanitize(part));
        }
        p
    }

    /// The local git repository that plays `repository`, created from the sample app when it
    /// is the default location and does not exist yet.
    pub fn source_repo(&self, repository: &str) -> std::io::Result<PathBuf> {
        if let Some(p) = self.sources.get(repository) {
            return Ok(p.clone());
        }
        let p = self.work_dir.join("repos").join(sanitize(repository));
        if !p.join(".git").exists() {
            sample_app::init_repo(&p, "main")?;
        }
        Ok(p)
    }
}

/// Keeps a path component to characters that are safe on every filesystem.
pub fn sanitize(part: &str) -> String {
    part.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs the engine's ticks in the background until dropped.
#[derive(Debug)]
pub struct EngineHandle {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Real time between background ticks.
pub const TICK: Duration = Duration::from_millis(100);

pub(super) fn start(emulator: &Arc<Emulator>) -> EngineHandle {
    let stop = Arc::new(AtomicBool::new(false));
    let weak = Arc::downgrade(emulator);
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("pipetui-engine".into())
        .spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let Some(emu) = weak.upgrade() else { break };
                emu.tick();
                drop(emu);
                std::thread::sleep(TICK);
            }
        })
        .ok();
    EngineHandle { stop, thread }
}

/// A fresh directory for an in-memory emulator's work.
pub(crate) fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("pipetui-emulator-{}", uuid::Uuid::new_v4()))
}
