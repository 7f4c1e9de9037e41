//! `pipetui status`: every pipeline with each stage's latest status, once, for scripts and
//! quick looks. AWS errors print as `Code: message` and exit 1.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use crate::aws::{Session, reads};
use crate::cli::{OutputFormat, StatusArgs};
use crate::config::Loaded;
use crate::model::{PipelineSummary, Status};

pub fn run(loaded: &Loaded, state_dir: &Path, args: &StatusArgs) -> color_eyre::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    let result = runtime.block_on(async {
        let session = Session::open(&loaded.config, state_dir).await?;
        let pipelines = reads::pipelines(&session.clients).await?;
        Ok::<_, crate::aws::AwsError>((session.clients.target.to_string(), pipelines))
    });
    match result {
        Ok((target, pipelines)) => {
            let text = match args.output {
                OutputFormat::Table => table(&target, &pipelines),
                OutputFormat::Json => format!("{:#}\n", as_json(&target, &pipelines)),
            };
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Machine-readable form: status labels as CodePipeline spells them, ids in full.
pub fn as_json(target: &str, pipelines: &[PipelineSummary]) -> serde_json::Value {
    json!({
        "target": target,
        "pipelines": pipelines.iter().map(|p| {
            let latest = p.latest_execution.as_ref();
            json!({
                "name": p.name,
                "status": latest.map(|e| e.status.label()),
                "executionId": latest.map(|e| e.id.as_str()),
                "pendingApprovals": p.pending_approvals,
                "stages": p.stages.iter().map(|s| json!({
                    "name": s.name,
                    // A stage that never ran has no status: null, not "-".
                    "status": (s.status != Status::None).then(|| s.status.label()),
                    "executionId": s.execution_id,
                })).collect::<Vec<_>>(),
            })
        }).collect::<Vec<_>>(),
    })
}

/// One row per pipeline (its latest execution), an indented row per stage.
pub fn table(target: &str, pipelines: &[PipelineSummary]) -> String {
    if pipelines.is_empty() {
        return format!("No pipelines at {target}. Create them with `pipetui init`.\n");
    }
    let mut rows: Vec<[String; 3]> = vec![[
        "PIPELINE / STAGE".to_string(),
        "STATUS".to_string(),
        "EXECUTION".to_string(),
    ]];
    for p in pipelines {
        let latest = p.latest_execution.as_ref();
        let mut execution = latest.map_or_else(|| "-".to_string(), |e| e.id.clone());
        if p.pending_approvals > 0 {
            let s = if p.pending_approvals == 1 { "" } else { "s" };
            let _ = write!(execution, "  ({} approval{s} waiting)", p.pending_approvals);
        }
        rows.push([
            p.name.clone(),
            latest.map_or("-", |e| e.status.label()).to_string(),
            execution,
        ]);
        for s in &p.stages {
            rows.push([
                format!("  {}", s.name),
                s.status.label().to_string(),
                s.execution_id.clone().unwrap_or_else(|| "-".to_string()),
            ]);
        }
    }
    let w0 = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r[1].chars().count()).max().unwrap_or(0);
    let mut out = format!("Target: {target}\n");
    for [a, b, c] in rows {
        let line = format!("{a:<w0$}  {b:<w1$}  {c}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
