//! The real `pipetui` binary in a pseudo-terminal (portable-pty + vt100 at 120×40) against the
//! embedded emulator in a temporary state dir, driven by keys and checked by screen text; plus
//! `pipetui status`, the non-interactive view of the same pipelines.
// Test helpers unwrap like the tests they serve: a failure is the test failing.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

const ROWS: u16 = 40;
const COLS: u16 = 120;
/// Generous: a slow shared machine must not fail a test; nothing here measures speed.
const PATIENCE: Duration = Duration::from_secs(90);
const PIPELINE: &str = "acme-orders-cicd-pipeline";

fn example_config() -> String {
    format!("{}/config.example.toml", env!("CARGO_MANIFEST_DIR"))
}

/// The environment every run gets: the example config on a fast emulator clock in `state`.
fn base_command(state: &Path, args: &[&str]) -> CommandBuilder {
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_pipetui"));
    cmd.arg("--config");
    cmd.arg(example_config());
    for a in args {
        cmd.arg(a);
    }
    cmd.cwd(state);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("PIPETUI_") || k == "NO_COLOR") {
        cmd.env_remove(k);
    }
    cmd.env("PIPETUI_STATE_DIR", state);
    cmd.env("PIPETUI_EMULATOR__CLOCK_SPEED", "50");
    cmd.env("TERM", "xterm-256color");
    cmd
}

struct Term {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    child: Box<dyn Child + Send + Sync>,
    reader: Option<JoinHandle<()>>,
    _master: Box<dyn MasterPty + Send>,
}

impl Term {
    fn spawn(cmd: CommandBuilder) -> Term {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut out = pair.master.try_clone_reader().unwrap();
        let writer = Arc::new(Mutex::new(pair.master.take_writer().unwrap()));
        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let (p, w) = (parser.clone(), writer.clone());
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match out.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let bytes = &buf[..n];
                        p.lock().unwrap().process(bytes);
                        // Answer a cursor-position query like a real terminal would.
                        if bytes.windows(4).any(|w| w == b"\x1b[6n") {
                            let _ = w.lock().unwrap().write_all(b"\x1b[1;1R");
                        }
                    }
                }
            }
        });
        Term {
            parser,
            writer,
            child,
            reader: Some(reader),
            _master: pair.master,
        }
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Waits until the screen satisfies `ok`; on timeout fails with the screen as it is.
    fn wait_until(&mut self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("pipetui exited ({status:?}) while waiting for {what}; screen:\n{screen}");
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_for(&mut self, text: &str) -> String {
        self.wait_until(text, |s| s.contains(text))
    }

    fn keys(&self, keys: &str) {
        let mut w = self.writer.lock().unwrap();
        w.write_all(keys.as_bytes()).unwrap();
        w.flush().unwrap();
    }

    /// Waits for the process to end and the last output to be parsed; its exit status.
    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "pipetui did not exit; screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        status
    }

    /// The terminal is back to normal: main screen, cursor visible.
    fn assert_restored(&self) {
        let parser = self.parser.lock().unwrap();
        let screen = parser.screen();
        assert!(!screen.alternate_screen(), "still on the alternate screen");
        assert!(!screen.hide_cursor(), "the cursor is still hidden");
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        // A failed test must not leave a console running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
    }
}

/// Provisions the example stack on the embedded emulator in `state` (no terminal UI).
fn init(state: &Path) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pipetui"))
        .args(["--config", &example_config(), "init", "--yes", "--no-tui"])
        .current_dir(state)
        .env("PIPETUI_STATE_DIR", state)
        .env("PIPETUI_EMULATOR__CLOCK_SPEED", "50")
        .env_remove("PIPETUI_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "init failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_console_shows_the_pipelines_and_q_restores_the_terminal() {
    let state = tempfile::tempdir().unwrap();
    init(state.path());
    let mut term = Term::spawn(base_command(state.path(), &[]));
    let screen = term.wait_for(PIPELINE);
    assert!(
        screen.contains("EMULATOR"),
        "the header names the target:\n{screen}"
    );
    let bar = screen.lines().last().unwrap_or_default();
    assert!(
        bar.contains("start"),
        "mutating hints outside read-only mode: {bar}"
    );
    let parser = term.parser.clone();
    term.wait_until("the alternate screen", |_| term_is_alternate(&parser));
    term.keys("q");
    let status = term.wait_exit();
    assert!(status.success(), "{status:?}");
    term.assert_restored();
}

fn term_is_alternate(parser: &Arc<Mutex<vt100::Parser>>) -> bool {
    parser.lock().unwrap().screen().alternate_screen()
}

/// A release waiting for its approval on `pipetui emulator serve` (whose engine keeps running
/// between commands); the server and its URL.
fn waiting_release(state: &Path) -> (Server, String) {
    let config = state.join("fast.toml");
    std::fs::write(
        &config,
        "[project]\nservice = \"orders\"\n[emulator]\nclock_speed = 50.0\n",
    )
    .unwrap();
    let (server, url) = serve(state, &config, 0);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pipetui"))
        .args(["--config", &example_config(), "init", "--yes", "--no-tui"])
        .current_dir(state)
        .env("PIPETUI_STATE_DIR", state)
        .env("PIPETUI_AWS__ENDPOINT", &url)
        .envs(STATIC_KEYS)
        .env_remove("PIPETUI_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (server, url)
}

/// Static keys: no credential-chain probing (IMDS) in a test.
const STATIC_KEYS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

#[test]
fn read_only_offers_no_operations() {
    let state = tempfile::tempdir().unwrap();
    let (_server, url) = waiting_release(state.path());
    let mut cmd = base_command(state.path(), &["--read-only"]);
    cmd.env("PIPETUI_AWS__ENDPOINT", &url);
    for (k, v) in STATIC_KEYS {
        cmd.env(k, v);
    }
    let mut term = Term::spawn(cmd);
    let screen = term.wait_until("the approval to wait", |s| {
        pipeline_row(s).is_some_and(|r| r.contains("▶Approva"))
    });
    assert!(screen.contains("READ-ONLY"), "a read-only badge:\n{screen}");
    let bar = screen.lines().last().unwrap_or_default().to_lowercase();
    for hint in ["approve", "reject", "retry", "rollback", "start", "stop"] {
        assert!(!bar.contains(hint), "hint bar offers {hint}: {bar}");
    }
    // Into the pipeline, then approve, reject and start: no dialog opens, nothing is sent.
    term.keys("\r");
    wait_for_waiting_approval(&mut term);
    let screen = term.screen();
    let bar = screen.lines().last().unwrap_or_default().to_lowercase();
    assert!(!bar.contains("approve"), "{bar}");
    term.keys("a");
    term.keys("x");
    term.keys("S");
    std::thread::sleep(Duration::from_millis(500));
    let screen = term.screen();
    for call in ["PutApprovalResult", "StartPipelineExecution"] {
        assert!(!screen.contains(call), "{call} offered:\n{screen}");
    }
    assert!(screen.contains("READ-ONLY"), "{screen}");
    term.keys("\x1b");
    term.wait_until("the list with the approval still waiting", |s| {
        pipeline_row(s).is_some_and(|r| r.contains("▶Approva"))
    });
    term.keys("q");
    term.wait_exit();
    term.assert_restored();
    let audit = pipetui::audit::AuditLog::open(state.path()).unwrap();
    assert!(
        audit.recent(10).unwrap().is_empty(),
        "nothing was attempted"
    );
}

#[test]
fn status_prints_every_pipeline_and_its_stages() {
    let state = tempfile::tempdir().unwrap();
    init(state.path());
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pipetui"))
            .args(["--config", &example_config(), "status"])
            .args(args)
            .current_dir(state.path())
            .env("PIPETUI_STATE_DIR", state.path())
            .env("PIPETUI_EMULATOR__CLOCK_SPEED", "50")
            .env_remove("PIPETUI_CONFIG")
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.starts_with("Target: EMULATOR\n"), "{table}");
    let row = table
        .lines()
        .find(|l| l.starts_with(PIPELINE))
        .unwrap_or_else(|| panic!("no row for the pipeline:\n{table}"));
    assert!(row.split_whitespace().count() >= 3, "{row}");
    for stage in [
        "  Source ",
        "  Build ",
        "  Approval-production ",
        "  Deploy-production ",
    ] {
        assert!(table.contains(stage), "no {stage:?} row:\n{table}");
    }

    let out = run(&["--output", "json"]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["target"], "EMULATOR");
    let p = &json["pipelines"][0];
    assert_eq!(p["name"], PIPELINE);
    let stages: Vec<_> = p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(stages[0], "Source");
    assert!(stages.contains(&"Approval-production"), "{stages:?}");
    assert_eq!(p["stages"][0]["status"], "Succeeded");
}

#[test]
fn status_reports_an_unreachable_endpoint_and_exits_1() {
    let state = tempfile::tempdir().unwrap();
    // Nothing listens on port 9 of 127.0.0.1.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pipetui"))
        .args(["--config", &example_config(), "status"])
        .current_dir(state.path())
        .env("PIPETUI_STATE_DIR", state.path())
        .env("PIPETUI_AWS__ENDPOINT", "http://127.0.0.1:9")
        .env("PIPETUI_AWS__MAX_ATTEMPTS", "1")
        .env_remove("PIPETUI_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: cannot reach http://127.0.0.1:9"),
        "{err}"
    );
}

/// The pipeline view has loaded the approval action and it waits (keys before that find no
/// approval to answer).
fn wait_for_waiting_approval(term: &mut Term) {
    term.wait_until("the waiting approval in the pipeline view", |s| {
        s.lines()
            .any(|l| l.contains("[approval]") && l.contains("InProgress"))
    });
}

/// The row of `PIPELINE` in the pipelines view (with its stage cells), if shown.
fn pipeline_row(screen: &str) -> Option<&str> {
    screen
        .lines()
        .find(|l| l.trim_start().starts_with(PIPELINE) && l.contains("Source"))
}

/// The issue's "done means": init flows into the console, the release reaches the approval, it
/// is approved with a comment from the keyboard, production succeeds, and the audit log shows
/// the approval with its aws CLI equivalent.
#[test]
fn init_watch_approve_from_the_keyboard_and_production_succeeds() {
    let state = tempfile::tempdir().unwrap();
    let mut term = Term::spawn(base_command(state.path(), &["init", "--yes"]));
    // Build, test and staging pass on their own; then the approval waits.
    term.wait_until("the approval to wait", |s| {
        pipeline_row(s).is_some_and(|r| r.contains("▶Approva"))
    });
    term.keys("\r");
    wait_for_waiting_approval(&mut term);
    term.keys("a");
    let dialog = term.wait_for("PutApprovalResult");
    assert!(
        dialog.contains("EMULATOR"),
        "the dialog names the target:\n{dialog}"
    );
    term.keys("ship it");
    term.wait_for("ship it");
    term.keys("\r");
    term.wait_for("Approved");
    // Back to the list; production deploys and the whole row turns green.
    term.keys("\x1b");
    let screen = term.wait_until("the release to succeed", |s| {
        pipeline_row(s).is_some_and(|r| r.contains("Succeeded") && !r.contains("▶"))
    });
    let row = pipeline_row(&screen).unwrap();
    assert!(!row.contains('✗'), "no stage failed: {row}");

    term.keys(":audit\r");
    let audit = term.wait_for("put-approval-result");
    assert!(audit.contains("PutApprovalResult"), "{audit}");
    term.keys("q");
    assert!(term.wait_exit().success());
    term.assert_restored();

    let log = pipetui::audit::AuditLog::open(state.path()).unwrap();
    let entries = log.recent(10).unwrap();
    let approval = entries
        .iter()
        .find(|e| e.operation == "codepipeline:PutApprovalResult")
        .expect("the approval is audited");
    assert_eq!(approval.target, "EMULATOR");
    assert_eq!(approval.parameters["comment"], "ship it");
    assert!(
        matches!(&approval.outcome, pipetui::audit::Outcome::Succeeded(n) if n.starts_with("Approved ")),
        "{:?}",
        approval.outcome
    );
    assert!(
        approval.cli_command.starts_with(&format!(
            "aws codepipeline put-approval-result --pipeline-name {PIPELINE} --stage-name Approval-production"
        )),
        "{}",
        approval.cli_command
    );
    assert!(approval.cli_command.contains("status=Approved"));
}

/// A `pipetui emulator serve` process, killed when dropped (also when a test fails).
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `pipetui emulator serve` on `port` (0 = any) over `state` with `config`; the child and its URL.
fn serve(state: &Path, config: &Path, port: u16) -> (Server, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pipetui"))
        .args(["emulator", "serve", "--port", &port.to_string(), "--config"])
        .arg(config)
        .current_dir(state)
        .env("PIPETUI_STATE_DIR", state)
        .env_remove("PIPETUI_CONFIG")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    // Keep draining its output, as a terminal would.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_string();
    (Server(child), url)
}

/// Throttled half the time, then gone, then back: the console keeps answering keys, says it is
/// offline, and recovers on its own.
#[test]
fn the_console_survives_throttling_and_an_outage() {
    let state = tempfile::tempdir().unwrap();
    init(state.path());
    let config = state.path().join("faults.toml");
    std::fs::write(
        &config,
        "[project]\nservice = \"orders\"\n[emulator]\nclock_speed = 50.0\n\
         [emulator.faults.codepipeline]\nthrottle = 0.5\n",
    )
    .unwrap();
    let (server, url) = serve(state.path(), &config, 0);
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();

    let mut cmd = base_command(state.path(), &[]);
    cmd.env("PIPETUI_AWS__ENDPOINT", &url);
    for (k, v) in STATIC_KEYS {
        cmd.env(k, v);
    }
    let mut term = Term::spawn(cmd);
    let screen = term.wait_for(PIPELINE);
    assert!(
        screen.contains(&url),
        "the header names the endpoint:\n{screen}"
    );

    drop(server);
    term.wait_for("OFFLINE");
    // Input still works while calls fail: help opens and closes.
    assert!(!term.screen().contains("move down"));
    term.keys("?");
    term.wait_for("move down");
    term.keys("\x1b");
    let screen = term.wait_until("the help to close", |s| !s.contains("move down"));
    assert!(screen.contains("OFFLINE"), "{screen}");

    let (_server, _) = serve(state.path(), &config, port);
    term.wait_until("recovery", |s| {
        !s.contains("OFFLINE") && !s.contains("STALE") && s.contains(PIPELINE)
    });
    term.keys("q");
    assert!(term.wait_exit().success());
    term.assert_restored();
}

/// Reject from the keyboard, retry the failed approval stage, approve the new request: the
/// release still reaches production, and the audit log has all three in order.
#[test]
fn reject_then_retry_the_stage_then_approve() {
    let state = tempfile::tempdir().unwrap();
    let mut term = Term::spawn(base_command(state.path(), &["init", "--yes"]));
    term.wait_until("the approval to wait", |s| {
        pipeline_row(s).is_some_and(|r| r.contains("▶Approva"))
    });
    term.keys("\r");
    wait_for_waiting_approval(&mut term);
    term.keys("a");
    term.wait_for("PutApprovalResult");
    term.keys("\t");
    term.keys("not yet");
    term.wait_for("not yet");
    term.keys("\r");
    term.wait_for("Rejected");
    term.wait_for("✗ Approval-production");

    // The cursor to the approval stage (two rows per stage above it), then retry failed actions.
    term.keys("gg");
    term.keys(&"j".repeat(8));
    term.keys("r");
    let dialog = term.wait_for("RetryStageExecution");
    assert!(dialog.contains("Approval-production"), "{dialog}");
    term.keys("y");
    term.wait_for("Retrying");
    wait_for_waiting_approval(&mut term);
    term.keys("a");
    term.wait_for("PutApprovalResult");
    term.keys("fixed");
    term.wait_for("fixed");
    term.keys("\r");
    term.wait_for("Approved");
    term.keys("\x1b");
    term.wait_until("the release to succeed", |s| {
        pipeline_row(s).is_some_and(|r| r.contains("Succeeded") && !r.contains("▶"))
    });
    term.keys("q");
    assert!(term.wait_exit().success());
    term.assert_restored();

    let log = pipetui::audit::AuditLog::open(state.path()).unwrap();
    let mut entries = log.recent(10).unwrap();
    entries.reverse();
    let calls: Vec<_> = entries.iter().map(|e| e.operation.as_str()).collect();
    assert_eq!(
        calls,
        [
            "codepipeline:PutApprovalResult",
            "codepipeline:RetryStageExecution",
            "codepipeline:PutApprovalResult",
        ]
    );
    assert!(
        entries[0].cli_command.contains("status=Rejected"),
        "{}",
        entries[0].cli_command
    );
    assert!(
        entries[1]
            .cli_command
            .contains("--retry-mode FAILED_ACTIONS")
    );
    assert!(
        entries
            .iter()
            .all(|e| matches!(e.outcome, pipetui::audit::Outcome::Succeeded(_)))
    );
}
