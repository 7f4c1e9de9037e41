//! The emulated hosts: hook scripts really run with `/bin/sh` in each host's directory, in the
//! background, their output in a log file the diagnostics' `logTail` is cut from; bundles are
//! downloaded into the host's archive and installed per the appspec's `files`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::engine::groups;
use crate::store::Store;

/// `logTail` holds at most the last 4 KB of a script's output, as on AWS.
const TAIL: u64 = 4096;

/// Everything a hook script is started with.
pub struct Script<'a> {
    pub path: PathBuf,
    pub host_dir: &'a Path,
    pub log: PathBuf,
    pub env: Vec<(&'static str, String)>,
    pub started: f64,
    pub timeout: f64,
}

struct Running {
    child: Child,
    started: f64,
    timeout: f64,
    log: PathBuf,
}

/// How a script run stands at a tick.
pub enum Poll {
    Running,
    Exited { code: Option<i32>, tail: String },
    TimedOut { tail: String },
}

/// The scripts running now, keyed by `<deployment>/<target>`.
#[derive(Default)]
pub struct Runner {
    runs: Mutex<HashMap<String, Running>>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").finish_non_exhaustive()
    }
}

/// Kills a script and everything it started (it leads its own process group).
fn kill(child: &mut Child) {
    groups::kill(child.id());
    let _ = child.kill();
    let _ = child.wait();
}

/// The owner a script's process group is recorded under.
fn owner(key: &str) -> String {
    format!("codedeploy/{key}")
}

impl Runner {
    pub fn start(&self, store: &Store, key: &str, s: Script<'_>) -> std::io::Result<()> {
        if let Some(parent) = s.log.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let out = File::create(&s.log)?;
        let err = out.try_clone()?;
        // The script runs once its group is recorded (see `groups::GATE`).
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("{}exec /bin/sh \"$0\"", groups::GATE))
            .arg(&s.path)
            .current_dir(s.host_dir)
            .envs(s.env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()?;
        groups::record_and_open(store, &owner(key), &mut child);
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        runs.insert(
            key.to_string(),
            Running {
                child,
                started: s.started,
                timeout: s.timeout,
                log: s.log,
            },
        );
        Ok(())
    }

    /// The state of `key`'s script at emulated time `now`; `None` when none was started.
    /// A script past its timeout on the emulated clock is killed.
    pub fn poll(&self, store: &Store, key: &str, now: f64) -> Option<Poll> {
        let poll = self.poll_run(key, now);
        // A script that exited may leave a server it started running; only the record goes.
        if !matches!(poll, None | Some(Poll::Running)) {
            groups::forget(store, &owner(key));
        }
        poll
    }

    fn poll_run(&self, key: &str, now: f64) -> Option<Poll> {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let run = runs.get_mut(key)?;
        match run.child.try_wait() {
            Ok(Some(status)) => {
                let run = runs.remove(key)?;
                Some(Poll::Exited {
                    code: status.code(),
                    tail: log_tail(&run.log),
                })
            }
            Ok(None) if now - run.started > run.timeout => {
                let mut run = runs.remove(key)?;
                kill(&mut run.child);
                Some(Poll::TimedOut {
                    tail: log_tail(&run.log),
                })
            }
            Ok(None) => Some(Poll::Running),
            Err(_) => {
                let run = runs.remove(key)?;
                Some(Poll::Exited {
                    code: None,
                    tail: log_tail(&run.log),
                })
            }
        }
    }

    /// Kills every script whose key starts with `prefix` (a deployment that stopped) and
    /// forgets their records when a store is at hand.
    pub fn kill_all(&self, store: Option<&Store>, prefix: &str) {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let keys: Vec<String> = runs
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        for k in keys {
            if let Some(mut r) = runs.remove(&k) {
                kill(&mut r.child);
                if let Some(store) = store {
                    groups::forget(store, &owner(&k));
                }
            }
        }
    }

    /// Whether a script is still running (a later tick will collect it).
    pub fn busy(&self) -> bool {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        runs.values_mut()
            .any(|r| matches!(r.child.try_wait(), Ok(None)))
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.kill_all(None, "");
    }
}

/// The last 4 KB of a log file, cut at a character boundary.
pub fn log_tail(path: &Path) -> String {
    let Ok(mut f) = File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(TAIL)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    if len > TAIL {
        // Drop a partial first character left by the byte cut.
        text.trim_start_matches('\u{fffd}').to_string()
    } else {
        text
    }
}

pub fn copy_dir(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let to = dst.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &to)?;
        } else {
            std::fs::copy(entry.path(), &to)?;
        }
    }
    Ok(())
}

/// A path of the appspec made relative to `root` (no escaping it with `..`).
fn inside(root: &Path, path: &str) -> PathBuf {
    let mut p = root.to_path_buf();
    for part in path
        .split('/')
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
    {
        p.push(part);
    }
    p
}

/// Copies `src` into `dst`, noting every file written in `written`.
fn copy_noting(src: &Path, dst: &Path, written: &mut Vec<PathBuf>) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let to = dst.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_noting(&entry.path(), &to, written)?;
        } else {
            std::fs::copy(entry.path(), &to)?;
            written.push(to);
        }
    }
    Ok(())
}

/// Install: removes the files the previous revision installed (like the agent's cleanup
/// file), then copies each `files` entry of the appspec from the archive into the host.
pub fn install(spec: &Value, archive: &Path, host: &Path) -> Result<String, String> {
    let cleanup = host.join(".codedeploy").join("installed");
    if let Ok(old) = std::fs::read_to_string(&cleanup) {
        for line in old.lines().filter(|l| !l.is_empty()) {
            let _ = std::fs::remove_file(line);
        }
    }
    let mut written = Vec::new();
    let mut done = Vec::new();
    for f in spec["files"].as_array().into_iter().flatten() {
        let source = f["source"].as_str().unwrap_or("/");
        let dest = f["destination"].as_str().unwrap_or("/");
        let from = inside(archive, source);
        let to = inside(host, dest);
        let result = if from.is_dir() {
            copy_noting(&from, &to, &mut written)
        } else {
            std::fs::create_dir_all(&to).and_then(|_| {
                let target = to.join(from.file_name().map(PathBuf::from).unwrap_or_default());
                std::fs::copy(&from, &target)?;
                written.push(target);
                Ok(())
            })
        };
        result.map_err(|e| format!("Copying {source} to {dest} failed: {e}"))?;
        done.push(format!("Copied {source} to {dest}"));
    }
    let list: Vec<String> = written
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    std::fs::write(&cleanup, list.join("\n"))
        .map_err(|e| format!("Recording the installed files failed: {e}"))?;
    Ok(done.join("\n"))
}

/// Where the host keeps the bundles it downloaded.
pub fn archive_dir(host: &Path, deployment: &str) -> PathBuf {
    host.join(".codedeploy").join("archives").join(deployment)
}

/// The archive of the last revision this host deployed successfully.
pub fn last_archive(host: &Path) -> Option<PathBuf> {
    let p = std::fs::read_to_string(host.join(".codedeploy").join("last")).ok()?;
    let p = PathBuf::from(p.trim());
    p.is_dir().then_some(p)
}

pub fn set_last_archive(host: &Path, archive: &Path) -> std::io::Result<()> {
    std::fs::write(
        host.join(".codedeploy").join("last"),
        archive.to_string_lossy().as_bytes(),
    )
}

/// Real time a health check may take before its process group is killed: it runs inside a
/// tick, which must not wait on a script that never ends.
const HEALTH_CHECK_LIMIT: Duration = Duration::from_secs(10);

/// Runs the bundle's `scripts/health_check.sh` on a host and reads `ErrorRate=<pct> Latency=<ms>`.
/// It runs in its own recorded process group, like the hooks, and is killed past the limit.
pub fn health_check(
    store: &Store,
    owner_key: &str,
    host: &Path,
    archive: &Path,
    env: &[(&'static str, String)],
) -> Option<(f64, f64)> {
    let script = archive.join("scripts").join("health_check.sh");
    if !script.is_file() {
        return None;
    }
    let out_path = host.join(".codedeploy").join("health_check.out");
    std::fs::create_dir_all(out_path.parent()?).ok()?;
    let out_file = File::create(&out_path).ok()?;
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("{}exec /bin/sh \"$0\"", groups::GATE))
        .arg(&script)
        .current_dir(host)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::piped())
        .stdout(out_file)
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .ok()?;
    let owner = owner(owner_key);
    groups::record_and_open(store, &owner, &mut child);
    let deadline = Instant::now() + HEALTH_CHECK_LIMIT;
    while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Whatever it left in the background goes too: a probe leaves nothing running.
    kill(&mut child);
    groups::forget(store, &owner);
    let out = std::fs::read(&out_path).ok()?;
    let text = String::from_utf8_lossy(&out);
    let field = |name: &str| {
        text.split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.strip_prefix('=')?.parse::<f64>().ok())
    };
    Some((field("ErrorRate")?, field("Latency")?))
}
