//! What the emulator needs to really run pipelines: where work happens on disk, the local git
//! repositories that play the sources, the emulated fleet size, and the background ticker that
//! moves executions, builds and deployments forward.

pub mod groups;
pub mod sample_app;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::Emulator;
use super::protocol::ServiceError;

/// Settings of the emulator's engine.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Root of everything the engine writes: `repos/`, `s3/`, `builds/`, `hosts/`.
    pub work_dir: PathBuf,
    /// Emulated hosts in each CodeDeploy deployment group.
    pub hosts_per_group: u32,
    /// Repository name → local git repository playing it. A name not listed resolves to
    /// `work_dir/repos/<name>`, created from the bundled sample app on first use.
    pub sources: BTreeMap<String, PathBuf>,
}

impl EngineSettings {
    pub fn new(work_dir: PathBuf) -> Self {
        Self {
            work_dir,
            hosts_per_group: 3,
            sources: BTreeMap::new(),
        }
    }

    /// The directory that plays S3 object `bucket/key` (artifacts are kept unpacked). Safe by
    /// construction; the engine goes through [`EngineSettings::s3_path`], which also resolves
    /// symlinks.
    pub fn s3_dir(&self, bucket: &str, key: &str) -> PathBuf {
        self.work_dir.join(s3_relative(bucket, key))
    }

    /// [`EngineSettings::s3_dir`], refused when it would leave the work directory.
    pub fn s3_path(&self, bucket: &str, key: &str) -> Result<PathBuf, ServiceError> {
        self.within(&s3_relative(bucket, key))
    }

    /// `work_dir/relative`, refused unless it stays inside the work directory.
    pub fn within(&self, relative: &Path) -> Result<PathBuf, ServiceError> {
        confine(&self.work_dir, relative)
    }

    /// The local git repository that plays `repository`, created from the sample app when it
    /// is the default location and does not exist yet.
    pub fn source_repo(&self, repository: &str) -> std::io::Result<PathBuf> {
        if let Some(p) = self.sources.get(repository) {
            return Ok(p.clone());
        }
        let rel = Path::new("repos").join(sanitize(repository));
        let p = self
            .within(&rel)
            .map_err(|e| std::io::Error::other(e.message))?;
        if !p.join(".git").exists() {
            sample_app::init_repo(&p, "main")?;
        }
        Ok(p)
    }
}

/// `s3/<bucket>/<key parts>`, each part sanitized and `.`/`..` parts dropped.
fn s3_relative(bucket: &str, key: &str) -> PathBuf {
    let mut p = Path::new("s3").join(sanitize(bucket));
    for part in key
        .split('/')
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
    {
        p.push(sanitize(part));
    }
    p
}

/// `root/relative`, or an internal error when it would resolve outside `root`: `relative` may
/// hold only plain names, and the deepest part of the result that exists, symlinks resolved,
/// must still lie under `root` resolved.
pub fn confine(root: &Path, relative: &Path) -> Result<PathBuf, ServiceError> {
    let escapes = || {
        tracing::warn!(root = %root.display(), path = %relative.display(), "path escapes the work directory");
        ServiceError::internal(format!(
            "refused: {} would resolve outside the emulator's work directory",
            relative.display()
        ))
    };
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(escapes());
    }
    let joined = root.join(relative);
    let Ok(real_root) = root.canonicalize() else {
        // Nothing exists under a root that does not exist yet, so nothing there can be a link.
        return Ok(joined);
    };
    for existing in joined.ancestors().take_while(|a| a.starts_with(root)) {
        if let Ok(real) = existing.canonicalize() {
            return match real.starts_with(&real_root) {
                true => Ok(joined),
                false => Err(escapes()),
            };
        }
    }
    Ok(joined)
}

/// Keeps a path component to characters that are safe on every filesystem.
pub fn sanitize(part: &str) -> String {
    // `.`, `..` and the empty name would name the directory itself or its parent; `%` never
    // comes out of the mapping below, so their stand-ins cannot collide with another name.
    if part.chars().all(|c| c == '.') {
        return format!("%{}", part.len());
    }
    part.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// S3's bucket naming rules: 3–63 lowercase letters, digits, dots and hyphens, starting and
/// ending with a letter or digit, no two dots in a row, not shaped like an IP address.
pub fn valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    let edge = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&b.len())
        && edge(b.first())
        && edge(b.last())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-')
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err()
}

/// Runs the engine's ticks in the background until dropped.
#[derive(Debug)]
pub struct EngineHandle {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Real time between background ticks.
pub const TICK: Duration = Duration::from_millis(100);

pub(super) fn start(emulator: &Arc<Emulator>) -> EngineHandle {
    let stop = Arc::new(AtomicBool::new(false));
    let weak = Arc::downgrade(emulator);
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("pipetui-engine".into())
        .spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let Some(emu) = weak.upgrade() else { break };
                emu.tick();
                drop(emu);
                std::thread::sleep(TICK);
            }
        })
        .ok();
    EngineHandle { stop, thread }
}

/// A fresh directory for an in-memory emulator's work.
pub(crate) fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("pipetui-emulator-{}", uuid::Uuid::new_v4()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_names_never_name_a_parent() {
        assert_eq!(sanitize(".."), "%2");
        assert_eq!(sanitize("."), "%1");
        assert_eq!(sanitize(""), "%0");
        assert_eq!(sanitize("a..b"), "a..b");
        assert_eq!(sanitize("a/b"), "a_b");
    }

    #[test]
    fn confine_refuses_parents_and_links_out() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("work");
        std::fs::create_dir_all(root.join("s3")).unwrap();
        assert!(confine(&root, Path::new("s3/a/b")).is_ok());
        assert!(confine(&root, Path::new("s3/../../x")).is_err());
        assert!(confine(&root, Path::new("/etc")).is_err());
        std::os::unix::fs::symlink(dir.path(), root.join("s3/out")).unwrap();
        let e = confine(&root, Path::new("s3/out/emulator.db")).unwrap_err();
        assert_eq!(e.code, "InternalFailure");
    }

    #[test]
    fn bucket_names_follow_s3() {
        for ok in ["artifacts", "my-bucket.v2", "abc"] {
            assert!(valid_bucket_name(ok), "{ok}");
        }
        for bad in [
            "..",
            "ab",
            "Upper",
            "a..b",
            "-ab",
            "ab-",
            "192.168.1.1",
            "a_b",
        ] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
    }
}
