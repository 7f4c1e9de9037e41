//! A connection for a command: the clients, and — when the config says `endpoint = "embedded"`
//! — the in-process emulator they talk to, with its engine ticking in the background.

use std::path::Path;
use std::sync::Arc;

use super::{AwsError, Clients, ConnectionSettings, Endpoint, Target, embedded_sdk_config};
use crate::config::Config;
use pipetui_emulator::{Clock, Emulator, EmulatorConfig, EngineHandle};

/// pipetui's `[emulator]` and `[source]` mapped into the emulator's own config: its state in
/// `state_dir`, the clock speed, the fleet size and the local repository playing the configured
/// source (a relative `local_path` is taken from the working directory).
pub fn emulator_config(config: &Config, state_dir: &Path) -> EmulatorConfig {
    let mut emulator = EmulatorConfig::persistent(state_dir)
        .with_clock(Clock::scaled(config.emulator.clock_speed))
        .with_hosts_per_group(config.emulator.hosts_per_group);
    if let Some(path) = &config.source.local_path {
        let path = std::path::PathBuf::from(path);
        let path = std::path::absolute(&path).unwrap_or(path);
        emulator = emulator.with_source(config.source.repository.clone(), path);
    }
    emulator
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
        let emulator = emulator_config(config, state_dir).build().map_err(|e| {
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
