//! Really runs a build in a background thread: the source is copied into an isolated working
//! copy, the buildspec's phases run command by command with `sh -c`, their merged output is
//! streamed line by line to CloudWatch Logs, and the artifacts are copied out.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;

use super::buildspec::{self, Buildspec, COMMAND_PHASES, OnFailure};
use super::files;
use super::process::{Cancel, Outcome, Registry, Running, Shell, exported, run_phase};
use super::record::{Gone, Recorder, complete, start_phase};

/// Where the build's input comes from.
#[derive(Debug, Clone)]
pub enum SourceInput {
    /// An unpacked S3 object (a pipeline's input artifact).
    Dir(PathBuf),
    /// A repository played by a local git repository, at a revision (HEAD when none).
    Git {
        repo: String,
        version: String,
    },
    Empty,
}

/// The buildspec: inline YAML or a path inside the source.
#[derive(Debug, Clone)]
pub enum BuildspecRef {
    Inline(String),
    File(String),
}

impl BuildspecRef {
    /// CodeBuild's rule: a value with a newline is the buildspec itself, otherwise a path.
    pub fn from_setting(s: Option<&str>) -> Self {
        match s.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) if s.contains('\n') => BuildspecRef::Inline(s.to_string()),
            Some(s) => BuildspecRef::File(s.to_string()),
            None => BuildspecRef::File("buildspec.yml".into()),
        }
    }
}

/// Everything the thread needs to run one build.
#[derive(Debug, Clone)]
pub struct Plan {
    pub src_dir: PathBuf,
    pub source: SourceInput,
    pub buildspec: BuildspecRef,
    /// Project variables with overrides applied: (name, value, type).
    pub variables: Vec<(String, String, String)>,
    /// CODEBUILD_* variables that do not change while the build runs.
    pub codebuild_vars: Vec<(String, String)>,
    /// Output artifact directory and its `arn:aws:s3:::` location.
    pub output: Option<(PathBuf, String)>,
}

/// The value a secret variable gets: the emulator has no Parameter Store or Secrets Manager.
pub const MASKED: &str = "********";

/// Runs the build to its end; always removes it from `registry` and kills leftovers.
pub fn run(plan: Plan, rec: Recorder, running: Arc<Running>, registry: Registry) {
    if let Err(Gone) = run_build(&plan, &rec, &running) {
        tracing::debug!(build = %rec.build_id, "emulator closed while a build ran");
    }
    running.kill_all();
    if let Some(emu) = rec.emu.upgrade() {
        crate::engine::groups::forget(&emu.store, &super::process::owner(&rec.build_id));
    }
    registry
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&rec.build_id);
}

fn finish(rec: &Recorder, status: &str) -> Result<(), Gone> {
    rec.update(|b, now| complete(b, status, now))?;
    rec.agent(&format!("Build {status}"))
}

fn cancelled(rec: &Recorder, why: Cancel, phase: &str) -> Result<(), Gone> {
    let (code, message) = match why {
        Cancel::TimedOut => ("BUILD_TIMED_OUT", "Build has timed out. "),
        Cancel::Stopped => ("BUILD_STOPPED", "Build was stopped by request"),
    };
    rec.phase_complete(phase, why.status(), code, message)?;
    finish(rec, why.status())
}

fn prepare_source(plan: &Plan, rec: &Recorder) -> Result<Result<Option<String>, String>, Gone> {
    let emu = rec.emu.upgrade().ok_or(Gone)?;
    let dest = &plan.src_dir;
    Ok(match &plan.source {
        SourceInput::Empty => std::fs::create_dir_all(dest)
            .map(|_| None)
            .map_err(|e| e.to_string()),
        SourceInput::Dir(from) if !from.is_dir() => Err(format!(
            "CLIENT_ERROR: no such source artifact: {}",
            from.display()
        )),
        SourceInput::Dir(from) => files::copy_tree(from, dest)
            .map(|_| None)
            .map_err(|e| format!("CLIENT_ERROR: {e}")),
        SourceInput::Git { repo, version } => emu
            .settings
            .source_repo(repo)
            .and_then(|path| {
                let commit = files::resolve_revision(&path, version)?;
                files::checkout(&path, &commit, dest)?;
                Ok(Some(commit))
            })
            .map_err(|e| format!("CLIENT_ERROR: repository {repo} at {version}: {e}")),
    })
}

fn load_buildspec(plan: &Plan) -> Result<(String, Buildspec), String> {
    match &plan.buildspec {
        BuildspecRef::Inline(text) => Ok(("inline buildspec".into(), buildspec::parse(text)?)),
        BuildspecRef::File(rel) => {
            let path = plan.src_dir.join(rel.trim_start_matches("./"));
            let text = std::fs::read_to_string(&path).map_err(|e| {
                format!(
                    "stat {}: {}",
                    path.display(),
                    e.kind().to_string().to_lowercase()
                )
            })?;
            Ok((path.display().to_string(), buildspec::parse(&text)?))
        }
    }
}

fn run_build(plan: &Plan, rec: &Recorder, running: &Running) -> Result<(), Gone> {
    rec.agent("Running on CodeBuild On-demand (pipetui emulator)")?;
    rec.update(|b, now| {
        super::record::end_phase(b, "SUCCEEDED", json!(null), now);
        start_phase(b, "QUEUED", now);
        super::record::end_phase(b, "SUCCEEDED", json!(null), now);
        start_phase(b, "PROVISIONING", now);
    })?;
    rec.agent("Waiting for agent ping")?;
    rec.agent("Waiting for DOWNLOAD_SOURCE")?;
    rec.phase_complete("PROVISIONING", "SUCCEEDED", "", "")?;
    rec.update(|b, now| start_phase(b, "DOWNLOAD_SOURCE", now))?;
    rec.agent("Phase is DOWNLOAD_SOURCE")?;
    let resolved = match prepare_source(plan, rec)? {
        Ok(commit) => {
            if let Some(c) = &commit {
                rec.update(|b, _| b["resolvedSourceVersion"] = json!(c))?;
            }
            commit
        }
        Err(message) => {
            rec.phase_complete("DOWNLOAD_SOURCE", "FAILED", "CLIENT_ERROR", &message)?;
            return finish(rec, "FAILED");
        }
    };
    let src = plan.src_dir.display().to_string();
    rec.agent(&format!("CODEBUILD_SRC_DIR={src}"))?;
    let (location, spec) = match load_buildspec(plan) {
        Ok(s) => s,
        Err(message) => {
            rec.phase_complete("DOWNLOAD_SOURCE", "FAILED", "YAML_FILE_ERROR", &message)?;
            return finish(rec, "FAILED");
        }
    };
    rec.agent(&format!("YAML location is {location}"))?;
    rec.agent("Processing environment variables")?;
    for s in &spec.secrets {
        // Never the value: only which variable got the placeholder.
        rec.agent(&format!(
            "{} is not emulated: {} gets a masked placeholder",
            s.store, s.variable
        ))?;
    }
    rec.agent(&format!("Moving to directory {src}"))?;
    rec.agent(&format!("Phases found in YAML: {}", spec.defined_phases()))?;
    for (i, (_, phase)) in COMMAND_PHASES.iter().enumerate() {
        let n = spec.phases[i].commands.len();
        if n > 0 {
            rec.agent(&format!(" {phase}: {n} commands"))?;
        }
    }
    rec.phase_complete("DOWNLOAD_SOURCE", "SUCCEEDED", "", "")?;
    let shell = match spec.shell.as_deref() {
        Some("bash") => "bash".to_string(),
        Some(s) if s.starts_with('/') && Path::new(s).exists() => s.to_string(),
        _ => "/bin/sh".to_string(),
    };
    let mut env = base_env(plan, &spec);
    if let Some(c) = &resolved {
        set_var(&mut env, "CODEBUILD_RESOLVED_SOURCE_VERSION", c);
    }
    // 0.1 runs each command in a fresh shell; 0.2 keeps one shell's state across commands.
    let state = (spec.version != "0.1").then(|| {
        plan.src_dir
            .parent()
            .unwrap_or(&plan.src_dir)
            .join("shell-state")
    });
    let mut succeeding = true;
    let mut upload = true;
    for (i, (_, phase)) in COMMAND_PHASES.iter().enumerate() {
        rec.update(|b, now| start_phase(b, phase, now))?;
        rec.agent(&format!("Entering phase {phase}"))?;
        if let Some(why) = running.cancelled() {
            return cancelled(rec, why, phase);
        }
        set_var(
            &mut env,
            "CODEBUILD_BUILD_SUCCEEDING",
            if succeeding { "1" } else { "0" },
        );
        let ctx = Shell {
            shell: &shell,
            env: &env,
            dir: &plan.src_dir,
            rec,
            running,
            state: state.as_deref(),
        };
        match run_phase(&ctx, &spec.phases[i])? {
            Outcome::Ok => rec.phase_complete(phase, "SUCCEEDED", "", "")?,
            Outcome::Cancelled(why) => return cancelled(rec, why, phase),
            Outcome::Failed { code, message } => {
                succeeding = false;
                rec.phase_complete(phase, "FAILED", &code, &message)?;
                // CodeBuild's transitions: INSTALL and PRE_BUILD failures skip to FINALIZING,
                // BUILD goes on to POST_BUILD, POST_BUILD to UPLOAD_ARTIFACTS.
                if spec.phases[i].on_failure == OnFailure::Abort && i < 2 {
                    upload = false;
                    break;
                }
            }
        }
    }
    if !spec.exported_variables.is_empty() {
        let sh = Shell {
            shell: &shell,
            env: &env,
            dir: &plan.src_dir,
            rec,
            running,
            state: state.as_deref(),
        };
        let vars: Vec<_> = exported(&sh, &spec.exported_variables)
            .into_iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect();
        rec.update(|b, _| b["exportedEnvironmentVariables"] = json!(vars))?;
    }
    if upload {
        rec.update(|b, now| start_phase(b, "UPLOAD_ARTIFACTS", now))?;
        match upload_artifacts(plan, &spec, rec)? {
            Ok(()) => rec.phase_complete("UPLOAD_ARTIFACTS", "SUCCEEDED", "", "")?,
            Err(message) => {
                succeeding = false;
                rec.phase_complete("UPLOAD_ARTIFACTS", "FAILED", "CLIENT_ERROR", &message)?;
            }
        }
    }
    match running.cancelled() {
        Some(why) => finish(rec, why.status()),
        None => finish(rec, if succeeding { "SUCCEEDED" } else { "FAILED" }),
    }
}

fn upload_artifacts(
    plan: &Plan,
    spec: &Buildspec,
    rec: &Recorder,
) -> Result<Result<(), String>, Gone> {
    let (Some(artifacts), Some((dir, location))) = (&spec.artifacts, &plan.output) else {
        rec.agent("No artifacts to upload")?;
        return Ok(Ok(()));
    };
    if let Some(base) = &artifacts.base_directory {
        rec.agent(&format!("Expanding base directory path: {base}"))?;
    }
    rec.agent("Assembling file list")?;
    for f in &artifacts.files {
        rec.agent(&format!("Expanding {f}"))?;
    }
    match files::upload(artifacts, &plan.src_dir, dir) {
        Ok(u) => {
            rec.agent(&format!("Found {} file(s)", u.files))?;
            rec.update(|b, _| b["artifacts"]["location"] = json!(location))?;
            Ok(Ok(()))
        }
        Err(e) => {
            rec.agent(&e)?;
            Ok(Err(e))
        }
    }
}

fn set_var(env: &mut Vec<(String, String)>, name: &str, value: &str) {
    env.retain(|(k, _)| k != name);
    env.push((name.to_string(), value.to_string()));
}

/// Precedence as CodeBuild documents it: StartBuild overrides, then the project, then the
/// buildspec; CODEBUILD_* variables are the service's own.
fn base_env(plan: &Plan, spec: &Buildspec) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for k in ["PATH", "HOME", "LANG", "TMPDIR"] {
        if let Ok(v) = std::env::var(k) {
            set_var(&mut env, k, &v);
        }
    }
    for (k, v) in &spec.variables {
        set_var(&mut env, k, v);
    }
    for s in &spec.secrets {
        set_var(&mut env, &s.variable, MASKED);
    }
    for (k, v, kind) in &plan.variables {
        let v = if kind == "PLAINTEXT" {
            v.as_str()
        } else {
            MASKED
        };
        set_var(&mut env, k, v);
    }
    for (k, v) in &plan.codebuild_vars {
        set_var(&mut env, k, v);
    }
    env
}
