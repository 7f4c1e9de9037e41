//! Files for builds: copying an input into an isolated working copy, checking a git revision
//! out, and assembling output artifacts with the buildspec's `files` globs.
//!
//! No glob crate is in the dependency tree, and buildspecs only need `*`, `?` and `**`, so a
//! small segment matcher lives here rather than a new dependency.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::buildspec::ArtifactSpec;

/// Copies the tree at `from` into `to` (created), keeping modes and symlinks.
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<u64> {
    std::fs::create_dir_all(to)?;
    let mut n = 0;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            n += copy_tree(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            let link = std::fs::read_link(entry.path())?;
            #[cfg(unix)]
            std::os::unix::fs::symlink(link, &target)?;
            #[cfg(not(unix))]
            let _ = link;
            n += 1;
        } else {
            std::fs::copy(entry.path(), &target)?;
            n += 1;
        }
    }
    Ok(n)
}

/// The full commit id `rev` names in `repo`.
pub fn resolve_revision(repo: &Path, rev: &str) -> io::Result<String> {
    let out = crate::engine::sample_app::git(
        repo,
        &["rev-parse", "--verify", &format!("{rev}^{{commit}}")],
    )?;
    Ok(out.trim().to_string())
}

/// Writes the tree of `commit` in `repo` into `to` (`git archive | tar -x`), so the build never
/// runs inside the repository itself.
pub fn checkout(repo: &Path, commit: &str, to: &Path) -> io::Result<()> {
    std::fs::create_dir_all(to)?;
    let mut archive = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["archive", "--format=tar", commit])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let Some(tar_in) = archive.stdout.take() else {
        return Err(io::Error::other("git archive produced no output"));
    };
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(to)
        .stdin(tar_in)
        .stderr(Stdio::piped())
        .output()?;
    let git = archive.wait_with_output()?;
    if !git.status.success() {
        return Err(io::Error::other(format!(
            "git archive {commit}: {}",
            String::from_utf8_lossy(&git.stderr).trim()
        )));
    }
    if !tar.status.success() {
        return Err(io::Error::other(format!(
            "tar: {}",
            String::from_utf8_lossy(&tar.stderr).trim()
        )));
    }
    Ok(())
}

/// Whether one path segment matches a pattern segment with `*` and `?`.
fn segment_matches(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            segment_matches(&pattern[1..], name)
                || (!name.is_empty() && segment_matches(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => segment_matches(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => segment_matches(&pattern[1..], &name[1..]),
        _ => false,
    }
}

fn parts_match(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.first() {
        None => path.is_empty(),
        Some(&"**") => (0..=path.len()).any(|skip| parts_match(&pattern[1..], &path[skip..])),
        Some(p) => {
            !path.is_empty()
                && segment_matches(p.as_bytes(), path[0].as_bytes())
                && parts_match(&pattern[1..], &path[1..])
        }
    }
}

/// Whether the relative `path` (with `/`) matches the glob `pattern`. A pattern naming a
/// directory takes everything under it, as CodeBuild does.
pub fn glob_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
    let pat: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let parts: Vec<&str> = path.split('/').collect();
    parts_match(&pat, &parts)
        || (!pattern.contains('*')
            && path.starts_with(pattern)
            && path.as_bytes().get(pattern.len()) == Some(&b'/'))
}

/// Every file under `dir`, as paths relative to it with `/`, sorted.
pub fn list_files(dir: &Path) -> io::Result<Vec<String>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                walk(root, &path, out)?;
            } else if let Ok(rel) = path.strip_prefix(root) {
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

/// What the UPLOAD_ARTIFACTS phase did.
#[derive(Debug)]
pub struct Uploaded {
    pub files: usize,
}

/// Copies the files the artifact spec selects from the working copy `src` into `out` (emptied
/// first); an artifact that selects nothing is CodeBuild's "no matching artifact paths found".
pub fn upload(spec: &ArtifactSpec, src: &Path, out: &Path) -> Result<Uploaded, String> {
    let base: PathBuf = match &spec.base_directory {
        Some(b) => src.join(b.trim_start_matches("./")),
        None => src.to_path_buf(),
    };
    if !base.is_dir() {
        return Err(format!(
            "CLIENT_ERROR: no matching base directory path found for {}",
            spec.base_directory.as_deref().unwrap_or(".")
        ));
    }
    let all = list_files(&base).map_err(|e| format!("CLIENT_ERROR: {e}"))?;
    let chosen: Vec<&String> = all
        .iter()
        .filter(|f| spec.files.iter().any(|p| glob_matches(p, f)))
        .collect();
    if chosen.is_empty() {
        return Err("CLIENT_ERROR: no matching artifact paths found".into());
    }
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("CLIENT_ERROR: {e}"))?;
    }
    for rel in &chosen {
        let name = if spec.discard_paths {
            rel.rsplit('/').next().unwrap_or(rel.as_str())
        } else {
            rel.as_str()
        };
        let target = out.join(name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("CLIENT_ERROR: {e}"))?;
        }
        std::fs::copy(base.join(rel), &target).map_err(|e| format!("CLIENT_ERROR: {e}"))?;
    }
    Ok(Uploaded {
        files: chosen.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_codebuild() {
        assert!(glob_matches("**/*", "a.txt"));
        assert!(glob_matches("**/*", "dir/sub/a.txt"));
        assert!(glob_matches("*.sh", "run.sh"));
        assert!(!glob_matches("*.sh", "dir/run.sh"));
        assert!(glob_matches("scripts/*.sh", "scripts/start.sh"));
        assert!(glob_matches("target/**/*.jar", "target/x/y/app.jar"));
        assert!(glob_matches("target/**/*.jar", "target/app.jar"));
        assert!(glob_matches("dist", "dist/VERSION"));
        assert!(!glob_matches("dist", "distribution/x"));
        assert!(glob_matches("a?c", "abc"));
        assert!(!glob_matches("appspec.yml", "scripts/appspec.yml"));
    }

    #[test]
    fn upload_keeps_or_discards_paths() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("dist/scripts")).unwrap();
        std::fs::write(src.join("dist/VERSION"), "1").unwrap();
        std::fs::write(src.join("dist/scripts/start.sh"), "x").unwrap();
        let mut spec = ArtifactSpec {
            files: vec!["**/*".into()],
            base_directory: Some("dist".into()),
            ..Default::default()
        };
        let out = dir.path().join("out");
        assert_eq!(upload(&spec, &src, &out).unwrap().files, 2);
        assert!(out.join("scripts/start.sh").is_file());
        spec.discard_paths = true;
        upload(&spec, &src, &out).unwrap();
        assert!(out.join("start.sh").is_file() && !out.join("scripts").exists());
        spec.files = vec!["*.jar".into()];
        assert!(
            upload(&spec, &src, &out)
                .unwrap_err()
                .contains("no matching")
        );
    }
}
