//! pipetui: a terminal operations console for AWS CI/CD pipelines.
//!
//! - `cli`, `commands`: argument parsing and one function per command
//! - `config`: typed schema, layered loading with line:column origins, validation, naming
//! - `stack`: config → CloudFormation template (pure, no I/O)
//! - `aws`: the only place that names `aws_sdk_*` types: clients, typed errors
//! - `logging`, `paths`: the log file and the state dir
//!
//! The embedded AWS-compatible emulator is its own crate, `pipetui-emulator`.

pub mod audit;
pub mod aws;
pub mod cli;
pub mod commands;
pub mod config;
pub mod console;
pub mod logging;
pub mod model;
pub mod paths;
pub mod provision;
pub mod stack;
pub mod ui;

use std::process::ExitCode;

/// Exit status for invalid config, invalid usage, or a command not available yet.
pub const EXIT_USAGE: u8 = 2;

/// Runs one command; `main` only parses arguments and installs the error hooks.
pub fn run(cli: cli::Cli) -> color_eyre::Result<ExitCode> {
    let state_dir = cli.global.state_dir();
    let _log_guard = logging::init(&state_dir);
    tracing::info!(command = ?cli.command, "pipetui {}", env!("CARGO_PKG_VERSION"));
    commands::dispatch(cli)
}
