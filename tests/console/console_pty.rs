//! The real `pipetui` binary in a pseudo-terminal (portable-pty + vt100 at 120×40) against the
//! embedded emulator in a temporary state dir, driven by keys and checked by screen text; plus
//! `pipetui status`, the non-interactive view of the same pipelines.
// Test helpers unwrap like the tests they serve: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod harness;
mod hostile;

use std::time::Duration;

use harness::*;

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

/// A panic inside the console (the test-only `PIPETUI_TEST_PANIC=1` trigger, right after the
/// first frame) leaves the terminal usable: main screen, cursor shown, then color-eyre's report.
#[test]
fn a_panic_restores_the_terminal_before_the_report() {
    let state = tempfile::tempdir().unwrap();
    let mut cmd = base_command(state.path(), &[]);
    cmd.env("PIPETUI_TEST_PANIC", "1");
    cmd.env("RUST_BACKTRACE", "0");
    let mut term = Term::spawn(cmd);
    let status = term.wait_exit();
    assert!(!status.success(), "a panic exits non-zero: {status:?}");
    term.assert_restored();
    let screen = term.screen();
    assert!(
        screen.contains("The application panicked"),
        "color-eyre's report:\n{screen}"
    );
    assert!(
        screen.contains("PIPETUI_TEST_PANIC: panic after the first frame"),
        "the panic message:\n{screen}"
    );
}

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
        pipeline_row(s).is_some_and(|r| r.contains("▶Approv"))
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
    // Each says which command is off and why.
    for (key, name) in [("a", "approve"), ("x", "reject"), ("S", "start")] {
        term.keys(key);
        term.wait_for(&format!(
            "read-only: {name} is disabled (started with --read-only / console.read_only)"
        ));
    }
    std::thread::sleep(Duration::from_millis(500));
    let screen = term.screen();
    for call in ["PutApprovalResult", "StartPipelineExecution"] {
        assert!(!screen.contains(call), "{call} offered:\n{screen}");
    }
    assert!(screen.contains("READ-ONLY"), "{screen}");
    term.keys("\x1b");
    term.wait_until("the list with the approval still waiting", |s| {
        pipeline_row(s).is_some_and(|r| r.contains("▶Approv"))
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

/// The issue's "done means": init flows into the console, the release reaches the approval, it
/// is approved with a comment from the keyboard, production succeeds, and the audit log shows
/// the approval with its aws CLI equivalent.
#[test]
fn init_watch_approve_from_the_keyboard_and_production_succeeds() {
    let state = tempfile::tempdir().unwrap();
    let mut term = Term::spawn(base_command(state.path(), &["init", "--yes"]));
    // Build, test and staging pass on their own; then the approval waits.
    term.wait_until("the approval to wait", |s| {
        pipeline_row(s).is_some_and(|r| r.contains("▶Approv"))
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
        pipeline_row(s).is_some_and(|r| r.contains("▶Approv"))
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

#[test]
fn status_prints_an_aws_error_as_code_and_message_and_exits_1() {
    let state = tempfile::tempdir().unwrap();
    let config = state.path().join("throttled.toml");
    std::fs::write(
        &config,
        "[project]\nservice = \"orders\"\n\
         [emulator.faults.\"codepipeline:ListPipelines\"]\nthrottle = 1.0\n",
    )
    .unwrap();
    let (_server, url) = serve(state.path(), &config, 0);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pipetui"))
        .args(["--config", &example_config(), "status"])
        .current_dir(state.path())
        .env("PIPETUI_STATE_DIR", state.path())
        .env("PIPETUI_AWS__ENDPOINT", &url)
        .env("PIPETUI_AWS__MAX_ATTEMPTS", "1")
        .envs(STATIC_KEYS)
        .env_remove("PIPETUI_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: ThrottlingException: Rate exceeded\n"
    );
    assert!(out.stdout.is_empty());
}
