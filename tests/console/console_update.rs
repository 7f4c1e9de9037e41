//! Reducer tests: keys and results in, state and effects out — no tokio, no terminal.

use crate::fixtures;

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fixtures::NOW;
use pipetui::console::action::{Action, Effect, FetchError, Loaded, Request};
use pipetui::console::keymap::{Command, Keymap};
use pipetui::console::poll::Health;
use pipetui::console::state::{Overlay, State, View};
use pipetui::console::{rows, update};
use pipetui::model::{Operation, RetryMode, Status};

mod operations;
mod paste;

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(k: KeyCode) -> Action {
    Action::Key(KeyEvent::new(k, KeyModifiers::NONE))
}

fn press(s: &mut State, keys: &str) -> Vec<Effect> {
    keys.chars().flat_map(|c| update(s, key(c))).collect()
}

fn runs(effects: &[Effect]) -> Vec<&Operation> {
    effects
        .iter()
        .filter_map(|e| {
            if let Effect::Run(op) = e {
                Some(op)
            } else {
                None
            }
        })
        .collect()
}

fn fetches(effects: &[Effect]) -> Vec<&Request> {
    effects
        .iter()
        .filter_map(|e| {
            if let Effect::Fetch(r) = e {
                Some(r)
            } else {
                None
            }
        })
        .collect()
}

/// The pipeline view of orders-pipeline with the cursor on the row named `row`.
fn on_row(read_only: bool, row: &str, action: bool) -> State {
    let mut s = fixtures::loaded(read_only);
    s.views = vec![View::Pipelines, View::Pipeline];
    let pos = rows::stage_rows(&s)
        .iter()
        .position(|r| match (action, r.action()) {
            (true, Some(a)) => a.name == row,
            (false, None) => r.stage().name == row,
            _ => false,
        })
        .expect("row exists");
    s.cursors.insert(
        View::Pipeline,
        pipetui::console::state::Cursor { selected: pos },
    );
    s
}

#[test]
fn vim_keys_and_arrows_move_and_enter_drills_into_a_pipeline() {
    let mut s = fixtures::loaded(false);
    s.focus.pipeline = None;
    press(&mut s, "jj");
    assert_eq!(s.cursor(View::Pipelines).selected, 2);
    update(&mut s, code(KeyCode::Up));
    assert_eq!(s.cursor(View::Pipelines).selected, 1);
    press(&mut s, "G");
    assert_eq!(
        s.cursor(View::Pipelines).selected,
        2,
        "clamped to the last row"
    );
    press(&mut s, "g");
    let effects = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.view(), View::Pipeline);
    assert_eq!(s.focus.pipeline.as_deref(), Some("orders-pipeline"));
    assert!(fetches(&effects).contains(&&Request::Pipeline("orders-pipeline".into())));
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.view(), View::Pipelines);
}

#[test]
fn slash_filters_the_list_and_esc_clears_it() {
    let mut s = fixtures::loaded(false);
    press(&mut s, "/pay");
    assert!(matches!(s.overlay, Some(Overlay::Filter)));
    let names: Vec<_> = rows::pipelines(&s).iter().map(|p| p.name.clone()).collect();
    assert_eq!(names, ["payments-pipeline"]);
    update(&mut s, code(KeyCode::Enter));
    assert!(s.overlay.is_none());
    assert_eq!(rows::pipelines(&s).len(), 1, "the filter stays after enter");
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(rows::pipelines(&s).len(), 3);
}

#[test]
fn palette_completes_commands_and_pipeline_names() {
    let mut s = fixtures::loaded(false);
    press(&mut s, ":al");
    update(&mut s, code(KeyCode::Tab));
    assert!(matches!(&s.overlay, Some(Overlay::Palette { input, .. }) if input == "alarms"));
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.view(), View::Alarms);

    press(&mut s, ":pipeline pay");
    update(&mut s, code(KeyCode::Tab));
    assert!(
        matches!(&s.overlay, Some(Overlay::Palette { input, .. }) if input == "pipeline payments-pipeline")
    );
    let effects = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.view(), View::Pipeline);
    assert_eq!(
        s.views,
        [View::Pipelines, View::Pipeline],
        "breadcrumbs restart at the list"
    );
    assert!(fetches(&effects).contains(&&Request::Pipeline("payments-pipeline".into())));

    press(&mut s, ":bogus");
    update(&mut s, code(KeyCode::Enter));
    assert!(
        s.notices
            .last()
            .is_some_and(|n| n.text.contains("unknown command"))
    );
}

#[test]
fn throttling_backs_off_and_shows_a_stale_banner_until_data_returns() {
    let mut s = fixtures::state(false);
    let first = update(&mut s, Action::Tick(NOW));
    assert!(fetches(&first).contains(&&Request::Pipelines));
    // While in flight, no second request for the same slot.
    assert!(!fetches(&update(&mut s, Action::Tick(NOW + 10.0))).contains(&&Request::Pipelines));
    let throttled = FetchError {
        message: "ThrottlingException: Rate exceeded".into(),
        throttled: true,
        unreachable: false,
    };
    update(
        &mut s,
        Action::Failed {
            key: "pipelines".into(),
            error: throttled,
        },
    );
    assert!(matches!(s.polls.health(s.now, 5.0), Health::Stale { .. }));
    // Backed off: nothing is fetched a moment later, even other slots.
    assert!(fetches(&update(&mut s, Action::Tick(NOW + 11.0))).is_empty());
    // After the back-off (≤ 2 × 5 s × 1.1 jitter) it tries again.
    let retry = update(&mut s, Action::Tick(NOW + 22.0));
    assert!(fetches(&retry).contains(&&Request::Pipelines));
    update(
        &mut s,
        Action::Loaded {
            key: "pipelines".into(),
            data: Box::new(Loaded::Pipelines(fixtures::pipelines())),
        },
    );
    assert_eq!(s.polls.health(s.now, 5.0), Health::Fresh);
}

#[test]
fn unreachable_endpoint_shows_offline() {
    let mut s = fixtures::state(false);
    update(&mut s, Action::Tick(NOW));
    let err = FetchError {
        message: "cannot reach AWS (us-east-1)".into(),
        throttled: false,
        unreachable: true,
    };
    update(
        &mut s,
        Action::Failed {
            key: "pipelines".into(),
            error: err,
        },
    );
    assert!(matches!(s.polls.health(s.now, 5.0), Health::Offline { .. }));
    assert!(
        s.notices
            .last()
            .is_some_and(|n| n.text.contains("cannot reach"))
    );
}

#[test]
fn polling_is_fast_while_something_runs_and_slow_when_idle() {
    let mut s = fixtures::state(false);
    update(&mut s, Action::Tick(NOW));
    update(
        &mut s,
        Action::Loaded {
            key: "pipelines".into(),
            data: Box::new(Loaded::Pipelines(fixtures::pipelines())),
        },
    );
    assert!(
        fetches(&update(&mut s, Action::Tick(NOW + 2.5))).contains(&&Request::Pipelines),
        "running: fast"
    );

    let mut idle = fixtures::pipelines();
    for p in &mut idle {
        if let Some(e) = &mut p.latest_execution {
            e.status = Status::Succeeded;
        }
    }
    update(
        &mut s,
        Action::Loaded {
            key: "pipelines".into(),
            data: Box::new(Loaded::Pipelines(idle)),
        },
    );
    assert!(
        !fetches(&update(&mut s, Action::Tick(NOW + 5.0))).contains(&&Request::Pipelines),
        "idle: slow"
    );
    assert!(fetches(&update(&mut s, Action::Tick(NOW + 8.5))).contains(&&Request::Pipelines));
}

#[test]
fn views_not_on_screen_poll_nothing() {
    let mut s = fixtures::state(false);
    let effects = update(&mut s, Action::Tick(NOW));
    let reqs = fetches(&effects);
    assert!(
        reqs.iter()
            .all(|r| matches!(r, Request::Identity | Request::Pipelines | Request::Alarms)),
        "{reqs:?}"
    );
}

#[test]
fn idle_ticks_do_not_redraw() {
    let mut s = fixtures::loaded(false);
    s.polls.last_ok = Some(NOW);
    s.dirty = false;
    update(&mut s, Action::Tick(NOW + 0.25));
    assert!(!s.dirty);
    // An identical answer changes nothing on screen either.
    update(
        &mut s,
        Action::Loaded {
            key: "pipelines".into(),
            data: Box::new(Loaded::Pipelines(fixtures::pipelines())),
        },
    );
    assert!(!s.dirty);
}

#[test]
fn running_times_redraw_each_second_only_while_something_runs() {
    let mut s = fixtures::loaded(false);
    s.polls.last_ok = Some(NOW);
    s.dirty = false;
    update(&mut s, Action::Tick(NOW + 1.0));
    assert!(s.dirty, "orders-pipeline is running: its time ticks");

    let mut idle = fixtures::pipelines();
    for p in &mut idle {
        if let Some(e) = &mut p.latest_execution {
            e.status = Status::Succeeded;
        }
    }
    s.data.pipelines = Some(idle);
    s.dirty = false;
    update(&mut s, Action::Tick(NOW + 2.0));
    assert!(!s.dirty, "nothing runs: no redraw");
}

#[test]
fn a_late_answer_for_another_pipeline_is_dropped() {
    let mut s = fixtures::loaded(false);
    let mut other = fixtures::pipeline();
    other.name = "payments-pipeline".into();
    update(
        &mut s,
        Action::Loaded {
            key: "pipeline".into(),
            data: Box::new(Loaded::Pipeline(other)),
        },
    );
    assert_eq!(
        s.data.pipeline.as_ref().map(|p| p.name.as_str()),
        Some("orders-pipeline")
    );
}

#[test]
fn keys_can_be_remapped_per_view() {
    let mut overrides: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    overrides
        .entry("pipelines".into())
        .or_default()
        .insert("down".into(), vec!["n".into(), "ctrl-n".into()]);
    let km = Keymap::new(false)
        .with_overrides(&overrides, false)
        .expect("valid overrides");
    let mut s = fixtures::loaded(false);
    s.keymap = km;
    press(&mut s, "j");
    assert_eq!(
        s.cursor(View::Pipelines).selected,
        0,
        "j no longer moves in this view"
    );
    press(&mut s, "n");
    assert_eq!(s.cursor(View::Pipelines).selected, 1);
    assert!(
        s.keymap
            .bindings(View::Pipelines)
            .iter()
            .any(|(k, c)| *c == Command::Down && k.contains('n'))
    );
    // Other views keep their defaults.
    assert!(
        s.keymap
            .bindings(View::Alarms)
            .iter()
            .any(|(k, c)| *c == Command::Down && k.contains('j'))
    );

    let mut bad: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    bad.entry("nowhere".into())
        .or_default()
        .insert("down".into(), vec!["x".into()]);
    bad.entry("pipelines".into())
        .or_default()
        .insert("fly".into(), vec!["x".into()]);
    let errors = Keymap::new(false)
        .with_overrides(&bad, false)
        .expect_err("invalid");
    assert_eq!(errors.len(), 2);
}

#[test]
fn help_lists_the_keymap_of_the_current_view() {
    let mut s = on_row(false, "Approve", true);
    press(&mut s, "?");
    assert!(matches!(s.overlay, Some(Overlay::Help)));
    let b = s.keymap.bindings(View::Pipeline);
    assert!(b.iter().any(|(k, c)| k == "a" && *c == Command::Approve));
    press(&mut s, "q");
    assert!(
        s.overlay.is_none() && !s.quit,
        "q closes help, it does not quit"
    );
}

#[test]
fn logs_filter_search_and_first_error() {
    let mut s = fixtures::loaded(false);
    s.views = vec![View::Pipelines, View::Logs];
    s.logs.pane = pipetui::console::state::LogPane::Lines;
    s.logs.group = Some("/aws/codebuild/orders-build".into());
    s.logs.buffer.extend(fixtures::log_lines(1000));
    press(&mut s, "E");
    assert_eq!(s.logs.top, 7, "first error line");
    press(&mut s, "/ERROR");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.logs.buffer.visible_len(), 20);
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.logs.buffer.visible_len(), 1000);
    press(&mut s, "s");
    press(&mut s, "line 99:");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.logs.search_hit, Some(99));
    press(&mut s, "n");
    assert_eq!(
        s.logs.search_hit,
        Some(99),
        "only one match: next wraps to it"
    );
    let saved = update(&mut s, Action::Command(Command::Save));
    assert!(matches!(&saved[..], [Effect::Save { text, .. }] if text.lines().count() == 1000));
}

#[test]
fn cli_equivalents_are_exact_and_quoted() {
    let op = Operation::Approve {
        pipeline: "orders-pipeline".into(),
        stage: "ApproveProduction".into(),
        action: "Approve".into(),
        token: "abc-123".into(),
        comment: "smoke ok".into(),
    };
    assert_eq!(
        op.cli_equivalent(),
        "aws codepipeline put-approval-result --pipeline-name orders-pipeline --stage-name ApproveProduction \
         --action-name Approve --result 'summary=smoke ok,status=Approved' --token abc-123"
    );
    let stop = Operation::StopExecution {
        pipeline: "p".into(),
        execution_id: "e".into(),
        abandon: true,
        reason: "it's broken".into(),
    };
    assert_eq!(
        stop.cli_equivalent(),
        r"aws codepipeline stop-pipeline-execution --pipeline-name p --pipeline-execution-id e --abandon --reason 'it'\''s broken'"
    );
}

#[test]
fn mouse_scrolls_and_clicks_select_rows_and_resize_redraws() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mouse = |kind, row| {
        Action::Mouse(MouseEvent {
            kind,
            column: 5,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    let mut s = fixtures::loaded(false);
    update(&mut s, mouse(MouseEventKind::ScrollDown, 10));
    assert_eq!(s.cursor(View::Pipelines).selected, 1);
    update(&mut s, mouse(MouseEventKind::ScrollUp, 10));
    assert_eq!(s.cursor(View::Pipelines).selected, 0);
    // Row 3 is the first list row (header, breadcrumbs and column titles above it).
    update(&mut s, mouse(MouseEventKind::Down(MouseButton::Left), 5));
    assert_eq!(s.cursor(View::Pipelines).selected, 2);
    s.dirty = false;
    update(&mut s, Action::Resize(100, 30));
    assert!(s.dirty);
    assert_eq!(s.size, (100, 30));
}

#[test]
fn palette_without_a_name_uses_the_pipeline_under_the_cursor() {
    let mut s = fixtures::loaded(false);
    s.focus.pipeline = None;
    press(&mut s, "j:executions");
    // Esc-free: the typed text is exactly a command, so Enter runs it as typed.
    let effects = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.view(), View::Executions);
    assert_eq!(s.focus.pipeline.as_deref(), Some("payments-pipeline"));
    assert!(fetches(&effects).contains(&&Request::Executions("payments-pipeline".into())));
}

#[test]
fn esc_from_a_build_log_returns_to_the_build() {
    let mut s = fixtures::loaded(false);
    s.views = vec![View::Pipelines, View::Pipeline, View::ActionDetail];
    s.focus.build_id = Some(fixtures::build().id);
    update(&mut s, key('L'));
    assert_eq!(s.view(), View::Logs);
    assert_eq!(s.logs.group.as_deref(), Some("/aws/codebuild/orders-build"));
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.view(), View::ActionDetail);
}

#[test]
fn a_million_log_lines_fit_in_200_mb_and_filter_exactly() {
    let mut buf = pipetui::console::logbuf::LogBuffer::new();
    buf.extend(fixtures::log_lines(1_000_000));
    let mb = buf.heap_bytes() as f64 / 1e6;
    eprintln!("1,000,000 lines: {mb:.0} MB");
    assert!(mb <= 200.0, "{mb:.0} MB");
    buf.set_filter("error unit");
    assert_eq!(buf.visible_len(), 20_000, "one line in 50 is an error");
    // A match never spans two lines.
    buf.set_filter("shard 12[container]");
    assert_eq!(buf.visible_len(), 0);
}

#[test]
fn a_faster_emulator_clock_moves_ages_but_not_polling() {
    let mut s = fixtures::loaded(false);
    update(
        &mut s,
        Action::DataClock {
            data: NOW + 500.0,
            wall: NOW,
        },
    );
    assert_eq!(s.data_now(), NOW + 500.0);
    assert_eq!(s.now, NOW, "polls and notices keep wall time");
}

#[test]
fn slash_filters_log_groups_and_enter_opens_the_filtered_one() {
    let mut s = fixtures::loaded(false);
    s.views = vec![View::Pipelines, View::Logs];
    let group = |name: &str| pipetui::model::LogGroupInfo {
        name: name.into(),
        ..Default::default()
    };
    s.logs.groups = vec![
        group("/pipetui/orders-build"),
        group("/pipetui/orders-test"),
        group("/pipetui/notifier"),
    ];
    press(&mut s, "/test");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(rows::log_groups(&s).len(), 1);
    let effects = update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.logs.group.as_deref(), Some("/pipetui/orders-test"));
    assert!(fetches(&effects).contains(&&Request::LogStreams("/pipetui/orders-test".into())));
    assert_eq!(
        s.filter(View::Logs),
        "",
        "the filter does not carry over to the streams"
    );
}
