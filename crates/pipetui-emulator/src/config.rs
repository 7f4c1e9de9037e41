//! The emulator's own configuration: what a host application maps its settings into. The
//! emulator knows nothing of any application's config file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::clock::Clock;
use crate::core::Emulator;
use crate::engine::{self, EngineSettings};

/// How to build an [`Emulator`].
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Where the state (`emulator.db`) lives and the engine works (`repos/`, `s3/`, `builds/`,
    /// `hosts/`). `None`: an in-memory store and a fresh temporary work directory.
    pub state_dir: Option<PathBuf>,
    /// The emulated time: real, sped up, or manual (tests advance it and never sleep).
    pub clock: Clock,
    /// Emulated hosts in each CodeDeploy deployment group.
    pub hosts_per_group: u32,
    /// Source repository name → local git repository playing it. A name not listed is created
    /// from the bundled sample app on first use.
    pub sources: BTreeMap<String, PathBuf>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            state_dir: None,
            clock: Clock::Real,
            hosts_per_group: 3,
            sources: BTreeMap::new(),
        }
    }
}

impl EmulatorConfig {
    /// State kept in `state_dir/emulator.db`, surviving restarts.
    pub fn persistent(state_dir: impl Into<PathBuf>) -> Self {
        Self {
            state_dir: Some(state_dir.into()),
            ..Self::default()
        }
    }

    /// Throwaway state, for tests.
    pub fn in_memory() -> Self {
        Self::default()
    }

    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_hosts_per_group(mut self, hosts: u32) -> Self {
        self.hosts_per_group = hosts;
        self
    }

    /// `repository` is played by the local git repository at `path`.
    pub fn with_source(mut self, repository: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        self.sources.insert(repository.into(), path.into());
        self
    }

    /// Opens (or creates) the emulator this config describes. Work a previous process left
    /// running in a persistent state dir is resolved before this returns.
    pub fn build(self) -> Result<Arc<Emulator>, rusqlite::Error> {
        let work_dir = self.state_dir.clone().unwrap_or_else(engine::scratch_dir);
        let settings = EngineSettings {
            work_dir,
            hosts_per_group: self.hosts_per_group,
            sources: self.sources,
        };
        match &self.state_dir {
            Some(dir) => Emulator::open_with(dir, self.clock, settings),
            None => Emulator::in_memory_with(self.clock, settings),
        }
    }
}
