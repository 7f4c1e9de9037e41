//! The audit log: attempts and outcomes persist, survive reopening (and a process that never
//! records its outcome), come back newest first, and keep the aws CLI equivalent verbatim.
// Test helpers unwrap like the tests they serve: a failure is the test failing.
#![allow(clippy::unwrap_used)]

use pipetui::audit::{AuditEntry, AuditLog, Outcome};
use serde_json::json;

fn approval(comment: &str) -> AuditEntry {
    AuditEntry::now(
        "arn:aws:iam::000000000000:user/pipetui",
        "EMULATOR",
        "codepipeline:PutApprovalResult",
        json!({
            "pipelineName": "acme-orders-pipeline",
            "stageName": "production-approval",
            "actionName": "Approval",
            "result": { "status": "Approved", "summary": comment },
        }),
        "aws codepipeline put-approval-result --pipeline-name acme-orders-pipeline \
         --stage-name production-approval --action-name Approval \
         --result 'summary=\"looks good\",status=Approved' --token 1234",
    )
}

#[test]
fn attempt_then_outcome_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    let id = log.record_attempt(&approval("looks good")).unwrap();
    assert_eq!(log.get(id).unwrap().unwrap().outcome, Outcome::Pending);

    log.record_outcome(
        id,
        Ok("Approved Approval in production-approval of acme-orders-pipeline"),
    )
    .unwrap();
    let entry = log.get(id).unwrap().unwrap();
    assert_eq!(
        entry.outcome,
        Outcome::Succeeded(
            "Approved Approval in production-approval of acme-orders-pipeline".into()
        )
    );
    assert_eq!(entry.identity, "arn:aws:iam::000000000000:user/pipetui");
    assert_eq!(entry.target, "EMULATOR");
    assert_eq!(entry.operation, "codepipeline:PutApprovalResult");
    assert_eq!(entry.parameters["result"]["summary"], "looks good");
    assert_eq!(entry.outcome.to_string(), "succeeded");
}

#[test]
fn failures_keep_their_message() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    let id = log.record_attempt(&approval("x")).unwrap();
    log.record_outcome(
        id,
        Err("ApprovalAlreadyCompletedException: already approved"),
    )
    .unwrap();
    let entry = log.get(id).unwrap().unwrap();
    assert_eq!(
        entry.outcome.to_string(),
        "failed: ApprovalAlreadyCompletedException: already approved"
    );
}

#[test]
fn outcome_for_an_unknown_id_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    let err = log.record_outcome(42, Ok("done")).unwrap_err();
    assert!(err.to_string().contains("no entry with id 42"), "{err}");
}

#[test]
fn entries_survive_reopening_and_a_missing_outcome_stays_pending() {
    let dir = tempfile::tempdir().unwrap();
    let (done, crashed) = {
        let log = AuditLog::open(dir.path()).unwrap();
        let done = log.record_attempt(&approval("first")).unwrap();
        log.record_outcome(done, Ok("Approved")).unwrap();
        // The process "dies" before this call is answered: no outcome is ever recorded.
        let crashed = log.record_attempt(&approval("second")).unwrap();
        (done, crashed)
    };
    assert!(dir.path().join("audit.db").exists());
    let log = AuditLog::open(dir.path()).unwrap();
    let entries = log.recent(10).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].id, crashed);
    assert_eq!(entries[0].outcome, Outcome::Pending);
    assert_eq!(entries[1].id, done);
    assert_eq!(entries[1].outcome, Outcome::Succeeded("Approved".into()));
}

#[test]
fn recent_is_newest_first_and_limited() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    for i in 0..5 {
        log.record_attempt(&approval(&format!("comment {i}")))
            .unwrap();
    }
    let entries = log.recent(3).unwrap();
    let comments: Vec<_> = entries
        .iter()
        .map(|e| {
            e.parameters["result"]["summary"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(comments, ["comment 4", "comment 3", "comment 2"]);
    assert!(entries[0].time >= entries[2].time);
}

#[test]
fn cli_command_is_kept_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path()).unwrap();
    let entry = approval("looks good");
    let id = log.record_attempt(&entry).unwrap();
    let stored = log.get(id).unwrap().unwrap();
    assert_eq!(stored.cli_command, entry.cli_command);
    assert!(stored.cli_command.contains("summary=\"looks good\""));
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(AuditLog::open(dir.path()).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join("audit.db")).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = AuditLog::open(dir.path()).unwrap_err();
    assert!(err.to_string().contains("schema version 99"), "{err}");
}

#[test]
fn two_handles_on_one_file_see_each_other() {
    // The console and `pipetui status`/a second console may have the log open at once.
    let dir = tempfile::tempdir().unwrap();
    let a = AuditLog::open(dir.path()).unwrap();
    let b = AuditLog::open(dir.path()).unwrap();
    let id = a.record_attempt(&approval("from a")).unwrap();
    b.record_outcome(id, Ok("ok")).unwrap();
    assert_eq!(
        a.get(id).unwrap().unwrap().outcome,
        Outcome::Succeeded("ok".into())
    );
}

/// Runs in a child process (see below): records an attempt, then dies without any cleanup.
#[test]
fn child_records_then_aborts() {
    let Ok(dir) = std::env::var("PIPETUI_AUDIT_CHILD_DIR") else {
        return;
    };
    let log = AuditLog::open(std::path::Path::new(&dir)).unwrap();
    log.record_attempt(&approval("before the crash")).unwrap();
    std::process::abort();
}

#[test]
fn an_attempt_survives_the_process_aborting() {
    let dir = tempfile::tempdir().unwrap();
    // The child test's name within this test binary (its module path without the crate).
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    let child = format!("{module}::child_records_then_aborts");
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &child, "--test-threads=1"])
        .env("PIPETUI_AUDIT_CHILD_DIR", dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child should have aborted");
    let log = AuditLog::open(dir.path()).unwrap();
    let entries = log.recent(10).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].parameters["result"]["summary"],
        "before the crash"
    );
    assert_eq!(entries[0].outcome, Outcome::Pending);
}
