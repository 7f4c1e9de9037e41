//! Really runs a build in a background thread: the source is copied into an isolated working
//! copy, the buildspec's phases run command by command with `sh -c`, their merged output is
//! streamed line by line to CloudWatch Logs, and the artifacts are copied out.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use super::buildspec::{self, Buildspec, COMMAND_PHASES, OnFailure, PhaseSpec};
use super::files;
use super::record::{Gone, Recorder, complete, start_phase};

/// What cancelled a running build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    Stopped,
    TimedOut,
}

impl Cancel {
    pub fn status(self) -> &'static str {
        match self {
            Cancel::Stopped => "STOPPED",
            Cancel::TimedOut => "TIMED_OUT",
        }
    }
}

/// A build whose process runs: how to cancel it.
#[derive(Debug, Default)]
pub struct Running {
    cancel: Mutex<Option<Cancel>>,
    /// Process groups of the commands it started (background children included).
    groups: Mutex<Vec<u32>>,
}

/// Builds running in this process, by id.
pub type Registry = Arc<Mutex<HashMap<String, Arc<Running>>>>;

fn kill_group(pgid: u32) {
    // No libc binding is a direct dependency, and `unsafe` is forbidden: kill(1) does it.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

impl Running {
    /// Marks the build cancelled (the first reason wins) and kills its processes.
    pub fn cancel(&self, why: Cancel) {
        self.cancel
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(why);
        self.kill_all();
    }

    pub fn cancelled(&self) -> Option<Cancel> {
        *self.cancel.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn kill_all(&self) {
        for g in self.groups.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            kill_group(*g);
        }
    }

    fn add_group(&self, pgid: u32) {
        self.groups
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(pgid);
    }
}

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

enum Outcome {
    Ok,
    Failed { code: String, message: String },
    Cancelled(Cancel),
}

/// Runs the build to its end; always removes it from `registry` and kills leftovers.
pub fn run(plan: Plan, rec: Recorder, running: Arc<Running>, registry: Registry) {
    if let Err(Gone) = run_build(&plan, &rec, &running) {
        tracing::debug!(build = %rec.build_id, "emulator closed while a build ran");
    }
    running.kill_all();
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

struct Shell<'a> {
    shell: &'a str,
    env: &'a [(String, String)],
    dir: &'a Path,
    rec: &'a Recorder,
    running: &'a Running,
}

fn run_phase(sh: &Shell<'_>, phase: &PhaseSpec) -> Result<Outcome, Gone> {
    let mut outcome = Outcome::Ok;
    for cmd in &phase.commands {
        outcome = run_command(sh, cmd)?;
        if !matches!(outcome, Outcome::Ok) {
            break;
        }
    }
    if matches!(outcome, Outcome::Cancelled(_)) {
        return Ok(outcome);
    }
    // `finally` runs whatever happened to the commands; its failure fails the phase too.
    for cmd in &phase.finally {
        let r = run_command(sh, cmd)?;
        match r {
            Outcome::Ok => {}
            Outcome::Cancelled(_) => return Ok(r),
            Outcome::Failed { .. } => {
                if matches!(outcome, Outcome::Ok) {
                    outcome = r;
                }
                break;
            }
        }
    }
    Ok(outcome)
}

fn describe(status: ExitStatus) -> String {
    match status.code() {
        Some(c) => format!("exit status {c}"),
        None => "signal: killed".into(),
    }
}

fn run_command(sh: &Shell<'_>, cmd: &str) -> Result<Outcome, Gone> {
    if let Some(why) = sh.running.cancelled() {
        return Ok(Outcome::Cancelled(why));
    }
    sh.rec.agent(&format!("Running command {cmd}"))?;
    let spawned = (|| {
        let (reader, writer) = std::io::pipe()?;
        // The Command holds the pipe's write ends until dropped, so it lives only in here.
        let child = {
            let mut c = Command::new(sh.shell);
            c.arg("-c")
                .arg(cmd)
                .current_dir(sh.dir)
                .env_clear()
                .envs(sh.env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null())
                .stdout(writer.try_clone()?)
                .stderr(writer);
            #[cfg(unix)]
            std::os::unix::process::CommandExt::process_group(&mut c, 0);
            c.spawn()?
        };
        Ok::<_, std::io::Error>((child, reader))
    })();
    let (mut child, reader) = match spawned {
        Ok(x) => x,
        Err(e) => {
            return Ok(Outcome::Failed {
                code: "COMMAND_EXECUTION_ERROR".into(),
                message: format!("Error while executing command: {cmd}. Reason: {e}"),
            });
        }
    };
    sh.running.add_group(child.id());
    if let Some(why) = sh.running.cancelled() {
        kill_group(child.id());
        let _ = child.wait();
        return Ok(Outcome::Cancelled(why));
    }
    let (tx, rx) = mpsc::channel::<String>();
    let _ = std::thread::Builder::new()
        .name("pipetui-build-output".into())
        .spawn(move || {
            let mut r = BufReader::new(reader);
            let mut buf = Vec::new();
            while matches!(r.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
                let line = String::from_utf8_lossy(&buf);
                if tx
                    .send(line.trim_end_matches(['\n', '\r']).to_string())
                    .is_err()
                {
                    break;
                }
                buf.clear();
            }
        });
    // Lines are logged as they come; once the shell exits, a child it left in the background
    // may hold the pipe open, so the tail is drained only briefly.
    let mut exited: Option<(ExitStatus, Instant)> = None;
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(line) => sh.rec.output(&line)?,
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => match exited {
                Some((_, at)) if at.elapsed() > Duration::from_millis(300) => break,
                Some(_) => {}
                None => {
                    if let Ok(Some(s)) = child.try_wait() {
                        exited = Some((s, Instant::now()));
                    }
                }
            },
        }
    }
    let status = match exited {
        Some((s, _)) => Ok(s),
        None => child.wait(),
    };
    if let Some(why) = sh.running.cancelled() {
        return Ok(Outcome::Cancelled(why));
    }
    Ok(match status {
        Ok(s) if s.success() => Outcome::Ok,
        Ok(s) => {
            let reason = describe(s);
            sh.rec
                .agent(&format!("Command did not exit successfully {cmd} {reason}"))?;
            Outcome::Failed {
                code: "COMMAND_EXECUTION_ERROR".into(),
                message: format!("Error while executing command: {cmd}. Reason: {reason}"),
            }
        }
        Err(e) => Outcome::Failed {
            code: "COMMAND_EXECUTION_ERROR".into(),
            message: format!("Error while executing command: {cmd}. Reason: {e}"),
        },
    })
}
