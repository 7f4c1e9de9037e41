//! One function per command. Every command loads and validates the config first, so a bad
//! config exits 2 before any API call.

mod console;
mod destroy;
mod emulator;
mod init;
mod status;
mod template;
mod validate;

use std::process::ExitCode;

use crate::cli::{Cli, Command, EmulatorCommand};
use crate::config::{self, LoadError, Loaded};
use crate::{EXIT_USAGE, cli::GlobalArgs};

pub fn dispatch(cli: Cli) -> color_eyre::Result<ExitCode> {
    let state_dir = cli.global.state_dir();
    let command = cli.command.unwrap_or(Command::Console);
    let loaded = match load(&cli.global) {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    match command {
        Command::Validate => Ok(validate::run(&loaded)),
        Command::Template(args) => template::run(&loaded, &args),
        Command::Console => console::run(&loaded, &state_dir),
        Command::Init(args) => init::run(&loaded, &args, &state_dir),
        Command::Status(args) => status::run(&loaded, &state_dir, &args),
        Command::Destroy(args) => destroy::run(&loaded, &args, &state_dir),
        Command::Emulator(EmulatorCommand::Serve { port }) => {
            emulator::serve_command(&loaded, &state_dir, port)
        }
    }
}

/// Loads the layered config; on problems prints them all and yields exit code 2.
pub fn load(global: &GlobalArgs) -> Result<Loaded, ExitCode> {
    let file = config::locate(global.config.as_deref());
    let env = std::env::vars().filter(|(k, _)| k.starts_with("PIPETUI_"));
    match config::load(file.clone(), env, &global.overrides()) {
        Ok(loaded) => Ok(loaded),
        Err(LoadError::Invalid(problems)) => {
            tracing::warn!(file = %file.describe(), problems = problems.len(), "invalid config");
            eprint!("error: {} is invalid\n{problems}", file.describe());
            Err(ExitCode::from(EXIT_USAGE))
        }
        Err(e @ LoadError::Read { .. }) => {
            eprintln!("error: {e}");
            Err(ExitCode::from(EXIT_USAGE))
        }
    }
}
