use std::process::ExitCode;

use crate::cli::TemplateArgs;
use crate::config::Loaded;

pub fn run(loaded: &Loaded, args: &TemplateArgs) -> color_eyre::Result<ExitCode> {
    let _ = (loaded, args);
    Ok(ExitCode::SUCCESS)
}
