//! The processes of a build: each command runs with `sh -c` in its own process group (so a
//! timeout or StopBuild kills everything it started), its stdout and stderr merged and sent to
//! the log line by line as they come.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::buildspec::PhaseSpec;
use super::record::{Gone, Recorder};
use crate::engine::groups::{self, kill as kill_group};

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

/// The owner a build's process groups are recorded under.
pub fn owner(build_id: &str) -> String {
    format!("codebuild/{build_id}")
}

pub enum Outcome {
    Ok,
    Failed { code: String, message: String },
    Cancelled(Cancel),
}

/// How a build's commands run.
pub struct Shell<'a> {
    pub shell: &'a str,
    pub env: &'a [(String, String)],
    pub dir: &'a Path,
    pub rec: &'a Recorder,
    pub running: &'a Running,
    /// Buildspec 0.2 runs every command "in the same shell instance": the directory and the
    /// exported variables a command leaves are saved here and restored for the next one.
    pub state: Option<&'a Path>,
}

/// The variable naming the shell-state file inside the command's environment.
const STATE_VAR: &str = "PIPETUI_SHELL_STATE";

/// `cmd` wrapped so it starts from the saved shell state and saves its own on exit (the EXIT
/// trap runs on `exit` too). CODEBUILD_BUILD_SUCCEEDING is the service's, never restored.
fn script(sh: &Shell<'_>, cmd: &str) -> String {
    if sh.state.is_none() {
        return cmd.to_string();
    }
    let succeeding = sh
        .env
        .iter()
        .find(|(k, _)| k == "CODEBUILD_BUILD_SUCCEEDING")
        .map_or("1", |(_, v)| v.as_str());
    format!(
        "if [ -f \"${STATE_VAR}\" ]; then . \"${STATE_VAR}\"; cd \"$PIPETUI_PWD\" 2>/dev/null; fi\n\
         export CODEBUILD_BUILD_SUCCEEDING={succeeding}\n\
         trap '__pipetui_rc=$?; export PIPETUI_PWD=\"$(pwd)\"; export -p > \"${STATE_VAR}\"; exit $__pipetui_rc' EXIT\n\
         {cmd}\n"
    )
}

fn spawn(sh: &Shell<'_>, cmd: &str) -> std::io::Result<(std::process::Child, std::io::PipeReader)> {
    let (reader, writer) = std::io::pipe()?;
    // The Command holds the pipe's write ends until dropped, so it lives only in here.
    let mut c = Command::new(sh.shell);
    c.arg("-c")
        .arg(format!("{}{}", groups::GATE, script(sh, cmd)))
        .current_dir(sh.dir)
        .env_clear()
        .envs(sh.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(writer.try_clone()?)
        .stderr(writer);
    if let Some(state) = sh.state {
        c.env(STATE_VAR, state);
    }
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut c, 0);
    Ok((c.spawn()?, reader))
}

/// The values `names` have in the build's shell at its end (`env.exported-variables`).
pub fn exported(sh: &Shell<'_>, names: &[String]) -> Vec<(String, String)> {
    names
        .iter()
        .filter(|n| {
            n.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .filter_map(|n| {
            let mut c = Command::new(sh.shell);
            let probe =
                format!("[ -f \"${STATE_VAR}\" ] && . \"${STATE_VAR}\"; printf '%s' \"${{{n}-}}\"");
            c.arg("-c")
                .arg(probe)
                .current_dir(sh.dir)
                .env_clear()
                .envs(sh.env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null())
                .stderr(Stdio::null());
            if let Some(state) = sh.state {
                c.env(STATE_VAR, state);
            }
            let out = c.output().ok()?;
            Some((n.clone(), String::from_utf8_lossy(&out.stdout).into_owned()))
        })
        .collect()
}

pub fn run_phase(sh: &Shell<'_>, phase: &PhaseSpec) -> Result<Outcome, Gone> {
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
    let spawned = spawn(sh, cmd);
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
    // The command starts only once its group is recorded: a crash at any point leaves nothing
    // recovery does not know of.
    match sh.rec.emu.upgrade() {
        Some(emu) => groups::record_and_open(&emu.store, &owner(&sh.rec.build_id), &mut child),
        None => groups::open_gate(&mut child),
    }
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
            Ok(line) => {
                // Whatever else is already waiting goes in the same call: a chatty command
                // must not cost one store write per line.
                let mut lines = vec![line];
                while lines.len() < 1000 {
                    match rx.try_recv() {
                        Ok(l) => lines.push(l),
                        Err(_) => break,
                    }
                }
                sh.rec.output(lines)?;
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        // Checked every turn: a background child printing steadily must not hide the exit.
        match exited {
            Some((_, at)) if at.elapsed() > Duration::from_millis(300) => break,
            Some(_) => {}
            None => {
                if let Ok(Some(s)) = child.try_wait() {
                    exited = Some((s, Instant::now()));
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    #[test]
    fn a_process_group_is_found_in_proc() {
        let mut child = Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        assert_eq!(groups::members(child.id()), [child.id()]);
        kill_group(child.id());
        assert!(!child.wait().unwrap().success());
    }
}
