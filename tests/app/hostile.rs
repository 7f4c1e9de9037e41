//! A local attacker and an operator's slip: the state dir and its files are owner-only, the log
//! cannot fill the disk, and a config that holds a secret (or impossible faults) is refused
//! before anything is rendered or called.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config.example.toml")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn pipetui(dir: &Path, state: &Path) -> Command {
    let mut c = Command::cargo_bin("pipetui").expect("binary");
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("PIPETUI_STATE_DIR", state);
    c
}

#[test]
fn the_state_dir_and_its_files_are_owner_only() {
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("state");
    // An existing, too open state dir (an older pipetui, a umask of 022) is tightened too.
    std::fs::create_dir(&state).expect("mkdir");
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::write(state.join("pipetui.log"), "old line\n").expect("old log");
    std::fs::set_permissions(
        state.join("pipetui.log"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    pipetui(dir.path(), &state)
        .args(["status", "--config"])
        .arg(example())
        .assert()
        .success();
    assert_eq!(mode(&state), 0o700, "state dir");
    for file in ["pipetui.log", "emulator.db"] {
        assert_eq!(mode(&state.join(file)), 0o600, "{file}");
    }
    for companion in ["emulator.db-wal", "emulator.db-shm"] {
        let path = state.join(companion);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{companion}");
        }
    }

    let fresh = dir.path().join("fresh");
    let audit = pipetui::audit::AuditLog::open(&fresh).expect("audit log");
    drop(audit);
    assert_eq!(mode(&fresh), 0o700, "a new state dir");
    for file in ["audit.db", "audit.db-wal", "audit.db-shm"] {
        let path = fresh.join(file);
        if file == "audit.db" || path.exists() {
            assert_eq!(mode(&path), 0o600, "{file}");
        }
    }
}

#[test]
fn the_log_file_rotates_at_its_size_cap() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("pipetui.log");
    let mut log = pipetui::logging::CappedLog::open(&path, 1000).expect("open");
    let line = format!("{}\n", "x".repeat(99));
    for _ in 0..100 {
        log.write_all(line.as_bytes()).expect("write");
    }
    log.flush().expect("flush");
    let rotated = dir.path().join("pipetui.log.1");
    let size = |p: &Path| std::fs::metadata(p).expect("size").len();
    assert!(size(&path) <= 1000, "{} bytes", size(&path));
    assert!(
        rotated.exists(),
        "the full file moved aside as pipetui.log.1"
    );
    assert!(size(&rotated) <= 1000, "{} bytes", size(&rotated));
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("ls").count(),
        2,
        "at most two files are kept"
    );
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&rotated), 0o600);
    // Whole lines: the current file holds the newest lines only.
    assert_eq!(
        std::fs::read_to_string(&path)
            .expect("read")
            .lines()
            .count(),
        10
    );
}

#[test]
fn a_secret_in_build_secrets_is_refused_and_never_rendered() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("secret.toml");
    std::fs::write(
        &config,
        "[project]\nservice = \"orders\"\n[build.secrets]\nDB_PASSWORD = \"hunter2\"\n\
         NPM_TOKEN = \"ci/npm:token\"\n",
    )
    .expect("write");
    let out_dir = dir.path().join("out");
    let assert = pipetui(dir.path(), &dir.path().join("state"))
        .args(["template", "--config"])
        .arg(&config)
        .arg("--output")
        .arg(&out_dir)
        .assert()
        .code(2);
    let output = assert.get_output();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:4:", config.display()))
            && stderr.contains("build.secrets.DB_PASSWORD"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("NPM_TOKEN"),
        "a reference is fine: {stderr}"
    );
    for text in [
        stderr.to_string(),
        String::from_utf8_lossy(&output.stdout).to_string(),
    ] {
        assert!(
            !text.contains("hunter2"),
            "the value is never echoed: {text}"
        );
    }
    assert!(!out_dir.exists(), "no template was written");
}

#[test]
fn secret_references_are_arns_or_id_and_key() {
    use pipetui::config::references::is_secret_reference;
    for ok in [
        "ci/npm:token",
        "acme-billing-cicd-db-credentials:password",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password",
        "db:password:AWSCURRENT",
    ] {
        assert!(is_secret_reference(ok), "{ok}");
    }
    for bad in [
        "hunter2",
        "correct horse battery staple",
        "",
        "sk_live_51H8xYzAbCdEf",
        "pass:word with space",
        "arn:aws:s3:::bucket:key",
    ] {
        assert!(!is_secret_reference(bad), "{bad}");
    }
}
