//! The bundled sample app (`assets/sample-app/`), written out as a git repository so that the
//! emulator's pipelines have a real source to check out, build, test and deploy.

use std::path::Path;
use std::process::Command;

/// (path in the app, contents, executable)
pub const FILES: &[(&str, &str, bool)] = &[
    (
        "README.md",
        include_str!("../../sample-app/README.md"),
        false,
    ),
    (
        "buildspec.yml",
        include_str!("../../sample-app/buildspec.yml"),
        false,
    ),
    (
        "buildspec-test.yml",
        include_str!("../../sample-app/buildspec-test.yml"),
        false,
    ),
    (
        "appspec.yml",
        include_str!("../../sample-app/appspec.yml"),
        false,
    ),
    (
        "src/orders.sh",
        include_str!("../../sample-app/src/orders.sh"),
        true,
    ),
    (
        "tests/run.sh",
        include_str!("../../sample-app/tests/run.sh"),
        true,
    ),
    (
        "scripts/stop.sh",
        include_str!("../../sample-app/scripts/stop.sh"),
        true,
    ),
    (
        "scripts/before_install.sh",
        include_str!("../../sample-app/scripts/before_install.sh"),
        true,
    ),
    (
        "scripts/after_install.sh",
        include_str!("../../sample-app/scripts/after_install.sh"),
        true,
    ),
    (
        "scripts/start.sh",
        include_str!("../../sample-app/scripts/start.sh"),
        true,
    ),
    (
        "scripts/validate.sh",
        include_str!("../../sample-app/scripts/validate.sh"),
        true,
    ),
    (
        "scripts/health_check.sh",
        include_str!("../../sample-app/scripts/health_check.sh"),
        true,
    ),
    (
        "switches/.keep",
        include_str!("../../sample-app/switches/.keep"),
        false,
    ),
];

/// Author of the commits the emulator makes itself.
pub const AUTHOR_NAME: &str = "pipetui";
pub const AUTHOR_EMAIL: &str = "pipetui@localhost";

/// Runs git in `dir` with a fixed identity, so commits work on machines with no git config.
pub fn git(dir: &Path, args: &[&str]) -> std::io::Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", &format!("user.name={AUTHOR_NAME}")])
        .args(["-c", &format!("user.email={AUTHOR_EMAIL}")])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()?;
    if !out.status.success() {
        return Err(std::io::Error::other(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Writes the sample app into `dir` and commits it on `branch`.
pub fn init_repo(dir: &Path, branch: &str) -> std::io::Result<()> {
    write_files(dir)?;
    git(dir, &["init", "-q", "-b", branch])?;
    git(dir, &["add", "-A"])?;
    git(
        dir,
        &[
            "commit",
            "-q",
            "-m",
            "Initial commit of the orders sample app",
        ],
    )?;
    Ok(())
}

/// Writes the sample app's files into `dir`.
pub fn write_files(dir: &Path) -> std::io::Result<()> {
    for (path, contents, executable) in FILES {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, contents)?;
        #[cfg(unix)]
        if *executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(())
}
