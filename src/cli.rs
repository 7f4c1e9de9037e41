//! Command-line interface (clap derive). `--help` on every command says what it does.

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::config::Overrides;
use crate::paths;

#[derive(Debug, Parser)]
#[command(
    name = "pipetui",
    version,
    about = "Terminal operations console for AWS CI/CD pipelines",
    long_about = "pipetui provisions a CodePipeline/CodeBuild/CodeDeploy stack from one TOML file \
                  and operates it from the terminal. With no AWS account it runs everything on an \
                  embedded AWS-compatible emulator (the default: aws.endpoint = \"embedded\").\n\n\
                  Without a command, pipetui opens the console."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Config file [default: ./pipetui.toml, else $XDG_CONFIG_HOME/pipetui/config.toml, else the
    /// embedded example]
    #[arg(long, global = true, env = "PIPETUI_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// AWS profile (implies aws.endpoint = "aws" unless --endpoint-url is given)
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Endpoint: "embedded", "aws" or a URL such as http://127.0.0.1:4566
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Refuse every mutating operation (approve, retry, stop, init, destroy, …)
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Directory for the emulator database, sample repository and log file
    #[arg(long, global = true, env = "PIPETUI_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

impl GlobalArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            read_only: self.read_only,
        }
    }

    pub fn state_dir(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(paths::default_state_dir)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the live console (the default command)
    Console,
    /// Provision the pipeline stack from the config through a CloudFormation change set
    Init(InitArgs),
    /// Print the CloudFormation template the config renders to
    Template(TemplateArgs),
    /// Check the config and list every problem with its line:column (exit 2 on problems)
    Validate,
    /// Print the state of every pipeline of the stack
    Status(StatusArgs),
    /// Delete the pipeline stack
    Destroy(DestroyArgs),
    /// Run the AWS-compatible emulator
    #[command(subcommand)]
    Emulator(EmulatorCommand),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Execute the change set without asking
    #[arg(long)]
    pub yes: bool,
    /// Plain progress lines instead of the terminal UI (for scripts and CI)
    #[arg(long)]
    pub no_tui: bool,
}

#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// Write the template to this file instead of standard output. A directory (existing, or
    /// ending in "/") gets stack.json plus deploy-account-<id>.json for each environment in
    /// another account (the deploy roles to create once there) and region-<name>.json for each
    /// other region (its artifact store and deployment group)
    #[arg(long, short, value_name = "FILE|DIR")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Delete without asking
    #[arg(long)]
    pub yes: bool,
    /// Plain progress lines instead of the terminal UI
    #[arg(long)]
    pub no_tui: bool,
}

#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Serve the emulator on 127.0.0.1 for any AWS client (aws CLI, boto3, Terraform)
    Serve {
        /// TCP port on 127.0.0.1 [default: emulator.port from the config, 4566]
        #[arg(long)]
        port: Option<u16>,
    },
}

/// Parses the command line, adding the log file location to `--help`.
pub fn parse() -> Cli {
    parse_from(std::env::args_os())
}

pub fn parse_from<I, T>(args: I) -> Cli
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let log = paths::log_file(&paths::default_state_dir());
    let command = Cli::command().after_help(format!(
        "Exit codes: 0 success, 1 failure, 2 invalid config or usage.\n\
         Log file: {} (in --state-dir; PIPETUI_LOG=debug for more detail)\n",
        log.display()
    ));
    let matches = command.get_matches_from(args);
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    }
}
