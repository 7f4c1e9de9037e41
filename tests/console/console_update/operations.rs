//! Operations through the reducer: confirmations, approvals, retry, rollback, stop, transitions;
//! read-only mode; which environments are production.

use super::*;

#[test]
fn retry_needs_confirmation_and_sends_exactly_one_operation() {
    let mut s = on_row(false, "Staging", false);
    assert!(press(&mut s, "r").is_empty(), "a key alone sends nothing");
    let Some(Overlay::Confirm { op, .. }) = &s.overlay else {
        panic!("confirmation expected")
    };
    assert_eq!(op.api_call(), "codepipeline:RetryStageExecution");
    let effects = press(&mut s, "y");
    assert_eq!(
        runs(&effects),
        [&Operation::RetryStage {
            pipeline: "orders-pipeline".into(),
            stage: "Staging".into(),
            execution_id: "11111111-aaaa-4bbb-8ccc-000000000001".into(),
            mode: RetryMode::FailedActions,
        }]
    );
    // In flight: the same retry is not sent twice.
    let again = press(&mut s, "ry");
    assert!(runs(&again).is_empty());
    assert!(
        s.notices
            .last()
            .is_some_and(|n| n.text.contains("already in flight"))
    );
    // Once it is answered, it can be sent again; a failure shows `Code: message`.
    let op = s.in_flight[0].clone();
    update(
        &mut s,
        Action::Done {
            op,
            result: Err("StageNotRetryableException: not failed".into()),
        },
    );
    assert!(
        s.notices
            .last()
            .is_some_and(|n| n.text.contains("StageNotRetryableException: not failed"))
    );
    assert_eq!(runs(&press(&mut s, "ry")).len(), 1);
}

#[test]
fn cancelling_a_confirmation_sends_nothing() {
    let mut s = on_row(false, "Staging", false);
    press(&mut s, "R");
    assert!(update(&mut s, code(KeyCode::Esc)).is_empty());
    assert!(s.overlay.is_none());
    assert!(s.in_flight.is_empty());
}

#[test]
fn retry_of_a_stage_that_did_not_fail_says_why() {
    let mut s = on_row(false, "Build", false);
    press(&mut s, "r");
    assert!(s.overlay.is_none());
    assert!(
        s.notices
            .last()
            .is_some_and(|n| n.text.contains("only a failed stage can be retried"))
    );
}

#[test]
fn approval_dialog_shows_context_and_sends_the_comment() {
    let mut s = on_row(false, "Approve", true);
    press(&mut s, "a");
    let Some(Overlay::Approval(d)) = &s.overlay else {
        panic!("approval dialog expected")
    };
    assert_eq!(
        d.firing_alarms,
        ["orders-production-error-rate"],
        "production alarms warn"
    );
    assert!(
        d.revision
            .as_ref()
            .is_some_and(|r| r.id.starts_with("3f2a9c1"))
    );
    // An empty comment is refused.
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    assert!(matches!(s.overlay, Some(Overlay::Approval(_))));
    press(&mut s, "smoke ok");
    let effects = update(&mut s, code(KeyCode::Enter));
    let ops = runs(&effects);
    assert_eq!(ops.len(), 1);
    assert!(matches!(ops[0], Operation::Approve { comment, token, .. }
        if comment == "smoke ok" && token == "0b7c8d9e-aaaa-bbbb-cccc-123456789abc"));
    // Rejecting the same approval while the approval is in flight is de-duplicated.
    press(&mut s, "x");
    press(&mut s, "no");
    assert!(runs(&update(&mut s, code(KeyCode::Enter))).is_empty());
}

#[test]
fn tab_turns_an_approval_into_a_rejection() {
    let mut s = on_row(false, "Approve", true);
    press(&mut s, "a");
    update(&mut s, code(KeyCode::Tab));
    press(&mut s, "tests red");
    let effects = update(&mut s, code(KeyCode::Enter));
    assert!(matches!(runs(&effects)[..], [Operation::Reject { .. }]));
}

#[test]
fn read_only_mode_has_no_mutating_keys_and_rejects_operations() {
    let km = Keymap::new(true);
    for cmd in Command::ALL.into_iter().filter(|c| c.mutating()) {
        for view in View::ALL {
            assert!(!km.has(view, cmd), "{cmd:?} bound in {view:?}");
        }
    }
    assert!(km.hints(View::Pipeline).iter().all(|(_, c)| !c.mutating()));
    let mut s = on_row(true, "Approve", true);
    assert!(press(&mut s, "axrRsS").is_empty());
    assert!(s.overlay.is_none() || matches!(s.overlay, Some(Overlay::Help)));
    let effects = update(&mut s, Action::Command(Command::Approve));
    assert!(effects.is_empty());
    assert!(s.overlay.is_none());
    assert!(
        s.notices
            .last()
            .is_some_and(|n| n.text.contains("read-only"))
    );
    // Enter on an approval in read-only mode does not open the dialog either.
    update(&mut s, code(KeyCode::Enter));
    assert!(s.overlay.is_none());
}

/// Every key bound to a mutating command outside read-only mode says, when pressed in
/// read-only mode, which command is off and why; nothing is sent and no dialog opens.
#[test]
fn read_only_mutating_keys_say_so_and_send_nothing() {
    let normal = Keymap::new(false);
    let mut checked = 0;
    for view in [
        View::Pipelines,
        View::Pipeline,
        View::Executions,
        View::ActionDetail,
    ] {
        for (keys, cmd) in normal
            .bindings(view)
            .into_iter()
            .filter(|(_, c)| c.mutating())
        {
            let mut s = on_row(true, "Approve", true);
            s.views = vec![View::Pipelines, view];
            let k = keys.split(' ').next().unwrap();
            assert_eq!(k.chars().count(), 1, "{k}");
            let effects = press(&mut s, k);
            assert!(effects.is_empty(), "{cmd:?} in {view:?} sent {effects:?}");
            assert!(s.overlay.is_none(), "{cmd:?} in {view:?} opened a dialog");
            assert_eq!(
                s.notices.last().map(|n| n.text.as_str()),
                Some(
                    format!(
                        "read-only: {} is disabled (started with --read-only / console.read_only)",
                        cmd.name()
                    )
                    .as_str()
                ),
                "{cmd:?} in {view:?}"
            );
            assert!(
                s.keymap.hints(view).iter().all(|(_, c)| !c.mutating()),
                "hints in {view:?}"
            );
            checked += 1;
        }
    }
    // a x r R b s A S t on the pipeline, S on the list, s A S on executions, D on an action.
    assert!(checked >= 14, "only {checked} bindings checked");

    // A key that means something harmless in another view still does that there.
    let mut s = fixtures::loaded(true);
    s.views = vec![View::Pipelines, View::Logs];
    s.logs.pane = pipetui::console::state::LogPane::Lines;
    press(&mut s, "s");
    assert!(
        matches!(s.overlay, Some(Overlay::Input { .. })),
        "s searches the logs"
    );
    assert!(s.notices.is_empty(), "{:?}", s.notices);
}

#[test]
fn disabling_a_transition_validates_the_reason() {
    let mut s = on_row(false, "Production", false);
    press(&mut s, "t");
    assert!(matches!(s.overlay, Some(Overlay::Input { .. })));
    press(&mut s, "freeze #1");
    update(&mut s, code(KeyCode::Enter));
    let Some(Overlay::Input { error: Some(e), .. }) = &s.overlay else {
        panic!("error expected")
    };
    assert!(e.contains('#'));
    update(&mut s, code(KeyCode::Backspace));
    update(&mut s, code(KeyCode::Backspace));
    press(&mut s, "1");
    update(&mut s, code(KeyCode::Enter));
    let Some(Overlay::Confirm { op, warnings }) = &s.overlay else {
        panic!("confirm expected")
    };
    assert_eq!(op.api_call(), "codepipeline:DisableStageTransition");
    assert!(
        warnings.iter().any(|w| w.contains("PRODUCTION")),
        "production is called out"
    );
    assert_eq!(runs(&press(&mut s, "y")).len(), 1);
}

#[test]
fn rollback_offers_earlier_successful_executions_last_good_first() {
    let mut s = on_row(false, "Production", false);
    press(&mut s, "b");
    let Some(Overlay::RollbackPicker { candidates, .. }) = &s.overlay else {
        panic!("picker expected")
    };
    let ids: Vec<_> = candidates.iter().map(|e| &e.id[..8]).collect();
    assert_eq!(ids, ["44444444", "66666666"]);
    update(&mut s, code(KeyCode::Enter));
    let effects = press(&mut s, "y");
    assert!(
        matches!(runs(&effects)[..], [Operation::RollbackStage { target_execution_id, .. }]
        if target_execution_id.starts_with("44444444"))
    );

    let mut src = on_row(false, "Source", false);
    press(&mut src, "b");
    assert!(
        src.notices
            .last()
            .is_some_and(|n| n.text.contains("cannot be rolled back"))
    );
}

#[test]
fn stopping_an_execution_asks_for_a_reason_then_confirms() {
    let mut s = fixtures::loaded(false);
    s.views = vec![View::Pipelines, View::Executions];
    press(&mut s, "s");
    assert!(matches!(s.overlay, Some(Overlay::Input { .. })));
    press(&mut s, "bad build");
    update(&mut s, code(KeyCode::Enter));
    let Some(Overlay::Confirm { op, .. }) = &s.overlay else {
        panic!("confirm expected")
    };
    assert_eq!(op.api_call(), "codepipeline:StopPipelineExecution");
    let effects = press(&mut s, "y");
    assert!(
        matches!(runs(&effects)[..], [Operation::StopExecution { abandon: false, reason, .. }] if reason == "bad build")
    );
    // A finished execution cannot be stopped.
    press(&mut s, "j");
    press(&mut s, "A");
    assert!(
        s.notices
            .last()
            .is_some_and(|n| n.text.contains("only a running one can be stopped"))
    );
}

/// `production` in `[[environments]]` decides what the console marks PROD; by default the
/// names production/prod/prd are, and a flag overrides the name either way.
#[test]
fn production_comes_from_each_environments_flag() {
    use pipetui::config::{ConfigFile, Overrides, load};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("envs.toml");
    std::fs::write(
        &path,
        "[project]\nservice = \"orders\"\n\
         [[environments]]\nname = \"staging\"\n\
         [[environments]]\nname = \"prod\"\nproduction = false\n\
         [[environments]]\nname = \"prod-eu\"\n\
         [[environments]]\nname = \"live\"\napproval = true\nproduction = true\n\
         [[environments]]\nname = \"production\"\n",
    )
    .unwrap();
    let loaded = load(
        ConfigFile::Explicit(path),
        std::iter::empty(),
        &Overrides::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let flags: Vec<_> = loaded
        .config
        .environments
        .iter()
        .map(|e| (e.name.as_str(), e.production))
        .collect();
    assert_eq!(
        flags,
        [
            ("staging", false),
            ("prod", false),
            ("prod-eu", false),
            ("live", true),
            ("production", true)
        ]
    );
    let settings = pipetui::console::settings(&loaded, dir.path());
    assert_eq!(settings.production, ["live", "production"]);
    let mut s = fixtures::state(false);
    s.settings = settings;
    for (name, prod) in [
        ("Deploy-live", true),
        ("Approval-live", true),
        ("Deploy-production", true),
        ("Deploy-prod", false),
        ("Deploy-prod-eu", false),
        ("Deploy-staging", false),
        ("Deploy-delivery", false),
        ("orders-live-error-rate", true),
    ] {
        assert_eq!(s.is_production(name), prod, "{name}");
    }
}

#[test]
fn a_lost_answer_reads_unknown_not_failed() {
    let mut s = on_row(false, "Staging", false);
    press(&mut s, "ry");
    let op = s.in_flight[0].clone();
    update(
        &mut s,
        Action::Unknown {
            op,
            message: "the answer was lost (RetryStageExecution timed out)".into(),
        },
    );
    let notice = &s.notices.last().expect("a notice").text;
    assert!(notice.contains("outcome unknown"), "{notice}");
    assert!(!notice.contains("failed"), "{notice}");
    assert!(
        s.in_flight.is_empty(),
        "the operator may decide to send it again"
    );
}
