use std::process::ExitCode;

use crate::config::validate::naming;
use crate::config::{EndpointSetting, Loaded, NameKind};

/// Prints a short summary of what the config describes.
pub fn run(loaded: &Loaded) -> ExitCode {
    let c = &loaded.config;
    let n = naming(c);
    let pipeline = n
        .name(NameKind::Pipeline, "cicd", "pipeline")
        .unwrap_or_default();
    let envs: Vec<String> = c
        .environments
        .iter()
        .map(|e| {
            if e.approval {
                format!("[approval] {}", e.name)
            } else {
                e.name.clone()
            }
        })
        .collect();
    let endpoint = match &c.aws.endpoint {
        EndpointSetting::Embedded => "embedded emulator".to_string(),
        EndpointSetting::Aws => match &c.aws.profile {
            Some(p) => format!("AWS profile {p} in {}", c.aws.region),
            None => format!("AWS in {}", c.aws.region),
        },
        EndpointSetting::Url(u) => u.clone(),
    };
    println!("{} is valid", loaded.file.describe());
    println!("  pipeline      {pipeline}");
    println!(
        "  source        {} {}@{} ({})",
        c.source.provider, c.source.repository, c.source.branch, c.source.trigger
    );
    println!(
        "  deploy        {} ({})",
        c.deploy.target, c.deploy.strategy
    );
    println!("  environments  {}", envs.join(" → "));
    println!("  endpoint      {endpoint}");
    ExitCode::SUCCESS
}
