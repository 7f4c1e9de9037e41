//! Source actions: the local git repository that plays CodeCommit/GitHub, branch heads for
//! change detection, and checking a commit out as the output artifact directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::engine::EngineSettings;
use crate::engine::sample_app::git;

/// The repository and branch a source action reads, or None for a non-git provider.
pub fn repo_of(provider: &str, config: &BTreeMap<String, String>) -> Option<(String, String)> {
    let get = |k: &str| config.get(k).filter(|v| !v.is_empty()).cloned();
    let repo = match provider {
        "CodeCommit" => get("RepositoryName")?,
        "CodeStarSourceConnection" | "CodeConnections" => get("FullRepositoryId")?,
        "GitHub" => match (get("Owner"), get("Repo")) {
            (Some(o), Some(r)) => format!("{o}/{r}"),
            (None, Some(r)) => r,
            _ => return None,
        },
        _ => return None,
    };
    let branch = get("BranchName")
        .or_else(|| get("Branch"))
        .unwrap_or_else(|| "main".into());
    Some((repo, branch))
}

fn git_dir(repo: &Path) -> PathBuf {
    let dot = repo.join(".git");
    if dot.is_dir() {
        dot
    } else {
        repo.to_path_buf()
    }
}

/// The commit at the tip of `branch`, read from the ref files (no process: this runs every tick).
pub fn head(repo: &Path, branch: &str) -> Option<String> {
    let dir = git_dir(repo);
    if let Ok(s) = std::fs::read_to_string(dir.join("refs/heads").join(branch)) {
        let s = s.trim();
        if !s.is_empty() {
            return Some(s.to_string());
        }
    }
    let packed = std::fs::read_to_string(dir.join("packed-refs")).ok()?;
    let wanted = format!("refs/heads/{branch}");
    packed.lines().find_map(|l| {
        let (id, name) = l.split_once(' ')?;
        (name.trim() == wanted).then(|| id.to_string())
    })
}

/// What a checkout produced.
#[derive(Debug, Clone)]
pub struct Commit {
    pub id: String,
    pub message: String,
    pub author_date: String,
    pub committer_date: String,
    pub epoch: f64,
}

/// Resolves `wanted` (a commit id, or the head of `branch`) and writes its tree into `dest`.
pub fn checkout(
    settings: &EngineSettings,
    repository: &str,
    branch: &str,
    wanted: Option<&str>,
    dest: &Path,
) -> Result<Commit, String> {
    let repo = settings
        .source_repo(repository)
        .map_err(|e| format!("The repository {repository} could not be opened: {e}"))?;
    let rev = match wanted {
        Some(c) => c.to_string(),
        None => head(&repo, branch).ok_or_else(|| {
            format!("The branch {branch} does not exist in repository {repository}")
        })?,
    };
    let info = git(
        &repo,
        &[
            "log",
            "-1",
            "--format=%H%x00%aI%x00%cI%x00%at%x00%B",
            &rev,
            "--",
        ],
    )
    .map_err(|e| format!("The revision {rev} could not be found in {repository}: {e}"))?;
    let mut parts = info.splitn(5, '\0');
    let mut next = || parts.next().unwrap_or_default().trim().to_string();
    let (id, author_date, committer_date, epoch, message) =
        (next(), next(), next(), next(), next());
    std::fs::create_dir_all(dest).map_err(|e| format!("cannot create the artifact: {e}"))?;
    let tar = dest.with_extension("tar");
    let tar_arg = tar.to_string_lossy().into_owned();
    git(
        &repo,
        &[
            "archive",
            "--format=tar",
            "-o",
            tar_arg.as_str(),
            id.as_str(),
        ],
    )
    .map_err(|e| format!("cannot archive {id}: {e}"))?;
    let out = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(dest)
        .output()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    let _ = std::fs::remove_file(&tar);
    if !out.status.success() {
        return Err(format!(
            "cannot unpack {id}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(Commit {
        id,
        message,
        author_date,
        committer_date,
        epoch: epoch.parse().unwrap_or(0.0),
    })
}

/// Copies the directory playing an S3 object (S3 source provider).
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The console page of a commit, as CodePipeline links it.
pub fn revision_url(provider: &str, repository: &str, commit: &str, region: &str) -> String {
    match provider {
        "CodeCommit" => format!(
            "https://{region}.console.aws.amazon.com/codesuite/codecommit/repositories/{repository}/commit/{commit}?region={region}"
        ),
        _ => format!("https://github.com/{repository}/commit/{commit}"),
    }
}

/// CodePipeline's artifact key: `<pipeline up to 20>/<artifact up to 10>/<7 random>`.
pub fn artifact_key(pipeline: &str, artifact: &str) -> String {
    let random: String = (0..7).map(|_| fastrand::alphanumeric()).collect();
    let p: String = pipeline.chars().take(20).collect();
    let a: String = artifact.chars().take(10).collect();
    format!("{p}/{a}/{random}")
}
