use std::process::ExitCode;

use color_eyre::eyre::WrapErr;

use crate::EXIT_USAGE;
use crate::cli::TemplateArgs;
use crate::config::Loaded;
use crate::stack;

/// Prints the CloudFormation template the config renders to, or writes it to `--output`.
pub fn run(loaded: &Loaded, args: &TemplateArgs) -> color_eyre::Result<ExitCode> {
    let template = match stack::try_render(&loaded.config) {
        Ok(t) => t,
        Err(e) => {
            // Validation checks the common names; this catches any other name over a limit.
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let mut json = template.to_json_pretty();
    json.push('\n');
    match &args.output {
        Some(path) => {
            std::fs::write(path, &json)
                .wrap_err_with(|| format!("cannot write the template to {}", path.display()))?;
            eprintln!(
                "wrote the template ({} resources) to {}",
                template.resources.len(),
                path.display()
            );
        }
        None => print!("{json}"),
    }
    Ok(ExitCode::SUCCESS)
}
