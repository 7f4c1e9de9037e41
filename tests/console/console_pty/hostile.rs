//! An operator's slips through the real terminal: a paste never acts as keys, a comment stops at
//! what `PutApprovalResult` accepts, and every signal that ends the console restores the
//! terminal.

use std::time::Duration;

use super::harness::*;

/// A console on a release waiting for its approval (served by `pipetui emulator serve`), in the
/// pipeline view with the cursor on the approval action.
fn on_the_waiting_approval(state: &std::path::Path) -> (Server, Term) {
    let (server, url) = waiting_release(state);
    let mut cmd = base_command(state, &[]);
    cmd.env("PIPETUI_AWS__ENDPOINT", &url);
    for (k, v) in STATIC_KEYS {
        cmd.env(k, v);
    }
    let mut term = Term::spawn(cmd);
    term.wait_until("the approval to wait", |s| {
        pipeline_row(s).is_some_and(|r| r.contains("▶Approv"))
    });
    term.keys("\r");
    wait_for_waiting_approval(&mut term);
    // Two rows per stage before it (Source, Build, Test, Staging), then its action row.
    term.keys("gg");
    term.keys(&"j".repeat(9));
    (server, term)
}

/// Esc, then wait: a key right behind an Esc would read as Alt+key.
fn close_the_dialog(term: &mut Term) {
    term.keys("\x1b");
    term.wait_until("the dialog to close", |s| !s.contains("PutApprovalResult"));
}

fn attempts(state: &std::path::Path) -> Vec<String> {
    let audit = pipetui::audit::AuditLog::open(state).unwrap();
    audit
        .recent(10)
        .unwrap()
        .into_iter()
        .map(|e| e.operation)
        .collect()
}

#[test]
fn a_paste_is_text_for_the_comment_and_never_keys() {
    let state = tempfile::tempdir().unwrap();
    let (_server, mut term) = on_the_waiting_approval(state.path());

    // On the approval row: "a" would open the dialog and the newline would send it.
    term.paste("approved by paste\n");
    term.wait_for("paste ignored");
    std::thread::sleep(Duration::from_millis(500));
    let screen = term.screen();
    assert!(!screen.contains("PutApprovalResult"), "{screen}");
    assert!(
        !screen.contains("approved by paste"),
        "nothing was typed:\n{screen}"
    );
    assert!(attempts(state.path()).is_empty(), "nothing was sent");

    // In the comment field: the text goes in; the newline and tab act as spaces, not keys.
    term.keys("a");
    term.wait_for("PutApprovalResult");
    term.paste("first line\nsecond\tline");
    let screen = term.wait_for("first line second line");
    assert!(
        screen.contains("APPROVE"),
        "the tab did not flip it:\n{screen}"
    );
    assert!(screen.contains("(22/512 characters)"), "{screen}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        attempts(state.path()).is_empty(),
        "the newline sent nothing"
    );
    close_the_dialog(&mut term);
    term.keys("q");
    assert!(term.wait_exit().success());
    term.assert_restored();
}

#[test]
fn a_long_comment_stops_at_512_characters_with_a_counter() {
    let state = tempfile::tempdir().unwrap();
    let (_server, mut term) = on_the_waiting_approval(state.path());
    term.keys("a");
    term.wait_for("(0/512 characters)");
    term.keys(&"t".repeat(600));
    term.wait_for("(512/512 characters)");
    close_the_dialog(&mut term);
    term.keys("a");
    term.wait_for("(0/512 characters)");
    term.paste(&"p".repeat(600));
    term.wait_for("(512/512 characters)");
    term.keys("\r");
    term.wait_for("Approved");
    term.keys("q");
    assert!(term.wait_exit().success());
    term.assert_restored();

    let audit = pipetui::audit::AuditLog::open(state.path()).unwrap();
    let entries = audit.recent(10).unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].parameters["comment"], "p".repeat(512));
}

/// The console ends on `signal` with its terminal restored and the shell's 128+N status.
fn a_signal_restores_the_terminal(signal: &str, number: u32) {
    let state = tempfile::tempdir().unwrap();
    let mut term = Term::spawn(base_command(state.path(), &[]));
    let parser = term.parser.clone();
    term.wait_until("the console with bracketed paste on", |s| {
        s.contains("EMULATOR") && parser.lock().unwrap().screen().bracketed_paste()
    });
    assert!(term_is_alternate(&parser));
    term.signal(signal);
    let status = term.wait_exit();
    term.assert_restored();
    assert_eq!(status.exit_code(), 128 + number, "{signal}: {status:?}");
}

#[test]
fn sigterm_restores_the_terminal() {
    a_signal_restores_the_terminal("TERM", 15);
}

#[test]
fn sighup_restores_the_terminal() {
    a_signal_restores_the_terminal("HUP", 1);
}

#[test]
fn sigint_from_kill_restores_the_terminal() {
    a_signal_restores_the_terminal("INT", 2);
}

#[test]
fn sigquit_restores_the_terminal() {
    a_signal_restores_the_terminal("QUIT", 3);
}
