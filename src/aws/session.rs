//! A connection for a command: the clients, and — when the config says `endpoint = "embedded"`
//! — the in-process emulator they talk to, with its engine ticking in the background.

use std::path::Path;
use std::sync::Arc;

use super::{AwsError, Clients, ConnectionSettings, Endpoint, Target, embedded_sdk_config};
use crate::config::Config;
use crate::emulator::{Clock, Emulator, EngineHandle, EngineSettings};

/// The engine's settings from the config: fleet size and the local repository playing the
/// configured source (a relative `local_path` is taken from the working directory).
pub fn engine_settings(config: &Config, state_dir: &Path) -> EngineSettings {
    let mut settings = EngineSettings::new(state_dir.to_path_buf());
    settings.hosts_per_group = config.emulator.hosts_per_group;
    if let Some(path) = &config.source.local_path {
        let path = std::path::PathBuf::from(path);
        let path = std::path::absolute(&path).unwrap_or(path);
        settings
            .sources
            .insert(config.source.repository.clone(), path);
    }
    settings
}

pub struct Session {
    pub clients: Clients,
    emulator: Option<Arc<Emulator>>,
    /// Dropped last: stops the engine thread.
    _engine: Option<EngineHandle>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("target", &self.clients.target)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Connects as the config says. The embedded emulator keeps its state in `state_dir`
    /// (shared with `pipetui emulator serve`, so both see the same stacks and pipelines).
    pub async fn open(config: &Config, state_dir: &Path) -> Result<Self, AwsError> {
        let settings = ConnectionSettings::from_config(&config.aws);
        if settings.endpoint != Endpoint::Embedded {
            return Ok(Self {
                clients: Clients::connect(&settings).await?,
                emulator: None,
                _engine: None,
            });
        }
        let clock = Clock::scaled(config.emulator.clock_speed);
        let emulator = Emulator::open_with(state_dir, clock, engine_settings(config, state_dir))
            .map_err(|e| {
                AwsError::Other(format!(
                    "cannot open the embedded emulator's store in {}: {e}",
                    state_dir.display()
                ))
            })?;
        Ok(Self::embedded(emulator, &settings))
    }

    /// Clients for an emulator that already runs in this process; its engine starts ticking.
    pub fn embedded(emulator: Arc<Emulator>, settings: &ConnectionSettings) -> Self {
        let engine = emulator.start_engine();
        let config = embedded_sdk_config(emulator.clone(), settings);
        Self {
            clients: Clients::new(&config, Target::Emulator),
            emulator: Some(emulator),
            _engine: Some(engine),
        }
    }

    /// The in-process emulator, when the session uses one.
    pub fn emulator(&self) -> Option<&Arc<Emulator>> {
        self.emulator.as_ref()
    }
}
