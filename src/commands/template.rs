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
    if let Some(dir) = args.output.as_deref().filter(|p| is_dir_target(p)) {
        return write_dir(loaded, dir, &json);
    }
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

/// `-o DIR/` (or an existing directory): the stack plus one template per target account.
fn is_dir_target(path: &std::path::Path) -> bool {
    path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/')
}

fn write_dir(
    loaded: &Loaded,
    dir: &std::path::Path,
    stack_json: &str,
) -> color_eyre::Result<ExitCode> {
    std::fs::create_dir_all(dir).wrap_err_with(|| format!("cannot create {}", dir.display()))?;
    let mut files = vec![("stack.json".to_string(), stack_json.to_string())];
    // Each extra template: its file name and how it renders.
    let accounts = stack::target_accounts(&loaded.config).into_iter().map(|a| {
        let t = stack::render_account(&loaded.config, &a);
        (format!("deploy-account-{a}.json"), t)
    });
    let regions = stack::other_regions(&loaded.config).into_iter().map(|r| {
        let t = stack::render_region(&loaded.config, &r);
        (format!("region-{r}.json"), t)
    });
    for (name, rendered) in accounts.chain(regions) {
        let t = match rendered {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(EXIT_USAGE));
            }
        };
        let mut json = t.to_json_pretty();
        json.push('\n');
        files.push((name, json));
    }
    for (name, json) in &files {
        let path = dir.join(name);
        std::fs::write(&path, json).wrap_err_with(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
