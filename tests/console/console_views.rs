//! Snapshots of every view at 80×24 and 120×40 on a `TestBackend`, from fixed fake data; and
//! style checks where colour carries meaning (snapshots hold text only).

use crate::fixtures;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pipetui::console::action::{Action, FetchError};
use pipetui::console::state::{LogPane, Overlay, State, View};
use pipetui::console::update;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn render(state: &State, w: u16, h: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    terminal
        .draw(|f| pipetui::ui::draw(f, state))
        .expect("draw");
    terminal.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Snapshots `state` at both sizes, with clock times filtered.
fn snap(name: &str, state: &mut State) {
    for (w, h) in SIZES {
        state.size = (w, h);
        let screen = text(&render(state, w, h));
        insta::with_settings!({
            filters => vec![(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "[time]"), (r"\b\d{2}:\d{2}:\d{2}\b", "[clock]")],
            snapshot_suffix => format!("{w}x{h}"),
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!(name, screen);
        });
    }
}

fn key(s: &mut State, c: char) {
    update(
        s,
        Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    );
}

fn at(view: View) -> State {
    let mut s = fixtures::loaded(false);
    s.views = vec![View::Pipelines, view];
    s
}

fn find(buf: &Buffer, needle: &str) -> (u16, u16) {
    for y in 0..buf.area.height {
        let row: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        if let Some(byte) = row.find(needle) {
            return (row[..byte].chars().count() as u16, y);
        }
    }
    panic!("{needle:?} not on screen:\n{}", text(buf));
}

#[test]
fn pipelines_view() {
    snap("pipelines", &mut fixtures::loaded(false));
}

#[test]
fn pipelines_loading_and_offline() {
    let mut s = fixtures::state(false);
    update(&mut s, Action::Tick(fixtures::NOW));
    let error = FetchError {
        message: "cannot reach AWS (us-east-1)".into(),
        throttled: false,
        unreachable: true,
    };
    update(
        &mut s,
        Action::Failed {
            key: "pipelines".into(),
            error,
        },
    );
    snap("pipelines_offline", &mut s);
}

#[test]
fn pipeline_view() {
    snap("pipeline", &mut at(View::Pipeline));
}

#[test]
fn pipeline_view_read_only() {
    let mut s = fixtures::loaded(true);
    s.views = vec![View::Pipelines, View::Pipeline];
    snap("pipeline_read_only", &mut s);
}

#[test]
fn executions_view() {
    let mut s = at(View::Executions);
    s.focus.execution = Some("44444444-aaaa-4bbb-8ccc-000000000004".into());
    s.data.action_executions = Some(vec![pipetui::model::ActionExecution {
        execution_id: "44444444-aaaa-4bbb-8ccc-000000000004".into(),
        stage: "Build".into(),
        action: "Build".into(),
        status: pipetui::model::Status::Succeeded,
        start: Some(fixtures::NOW - 90_000.0),
        last_update: Some(fixtures::NOW - 89_800.0),
        summary: Some("Build succeeded".into()),
        ..Default::default()
    }]);
    snap("executions", &mut s);
}

#[test]
fn build_detail_view() {
    let mut s = at(View::ActionDetail);
    s.focus.build_id = Some(fixtures::build().id);
    s.logs.buffer.extend(fixtures::log_lines(40));
    snap("action_build", &mut s);
}

#[test]
fn deployment_detail_view() {
    let mut s = at(View::ActionDetail);
    s.focus.deployment_id = Some("d-ABCDEF123".into());
    s.cursors.insert(
        View::ActionDetail,
        pipetui::console::state::Cursor { selected: 1 },
    );
    snap("action_deployment", &mut s);
}

#[test]
fn alarms_view() {
    let mut s = at(View::Alarms);
    s.data.alarm_history = Some(vec![pipetui::model::AlarmHistoryItem {
        t: fixtures::NOW - 300.0,
        kind: "StateUpdate".into(),
        summary: "Alarm updated from OK to ALARM".into(),
    }]);
    snap("alarms", &mut s);
}

#[test]
fn logs_views() {
    let mut s = at(View::Logs);
    s.logs.groups = vec![pipetui::model::LogGroupInfo {
        name: "/aws/codebuild/orders-build".into(),
        retention_days: Some(30),
        ..Default::default()
    }];
    snap("logs_groups", &mut s);
    s.logs.pane = LogPane::Lines;
    s.logs.group = Some("/aws/codebuild/orders-build".into());
    s.logs.buffer.extend(fixtures::log_lines(200));
    s.logs.search = "error".into();
    s.logs.top = 7;
    s.logs.search_hit = Some(7);
    snap("logs_lines", &mut s);
}

#[test]
fn stack_view() {
    snap("stack", &mut at(View::Stack));
}

#[test]
fn audit_view() {
    snap("audit", &mut at(View::Audit));
}

#[test]
fn dialogs() {
    let mut s = at(View::Pipeline);
    key(&mut s, '?');
    snap("help", &mut s);

    let mut s = at(View::Pipeline);
    let row = pipetui::console::rows::stage_rows(&s)
        .iter()
        .position(|r| r.action().is_some_and(|a| a.name == "Approve"))
        .expect("approval row");
    s.cursors.insert(
        View::Pipeline,
        pipetui::console::state::Cursor { selected: row },
    );
    key(&mut s, 'a');
    for c in "smoke tests green".chars() {
        key(&mut s, c);
    }
    snap("approval", &mut s);

    let mut s = at(View::Pipeline);
    let row = pipetui::console::rows::stage_rows(&s)
        .iter()
        .position(|r| r.action().is_none() && r.stage().name == "Staging")
        .expect("stage row");
    s.cursors.insert(
        View::Pipeline,
        pipetui::console::state::Cursor { selected: row },
    );
    key(&mut s, 'r');
    assert!(matches!(s.overlay, Some(Overlay::Confirm { .. })));
    snap("confirm_retry", &mut s);

    let mut s = fixtures::loaded(false);
    key(&mut s, ':');
    key(&mut s, 'a');
    snap("palette", &mut s);
}

#[test]
fn failed_stage_cell_is_red_and_production_badge_stands_out() {
    let s = fixtures::loaded(false);
    let buf = render(&s, 120, 40);
    let (x, y) = find(&buf, "✗Build");
    assert_eq!(buf[(x, y)].bg, Color::Red, "failed stage cell");
    let (x, y) = find(&buf, "✓Source");
    assert_eq!(buf[(x, y)].bg, Color::Green);

    let s = at(View::Pipeline);
    let buf = render(&s, 120, 40);
    let (x, y) = find(&buf, "PROD");
    assert_eq!(buf[(x, y)].bg, Color::Red, "production badge");
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
}

/// The PROD badge follows the environments' `production` flags, not the names alone.
#[test]
fn production_badges_follow_the_environment_flags() {
    let badges = |s: &State| {
        let buf = render(s, 120, 40);
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
            })
            .filter(|l| l.contains(" PROD "))
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
    };
    let mut s = at(View::Pipeline);
    assert_eq!(badges(&s), ["✓ Production PROD"]);
    s.settings.production = vec!["staging".into()];
    assert_eq!(badges(&s), ["✗ Staging PROD"]);
    s.settings.production.clear();
    assert!(badges(&s).is_empty());
    s.views = vec![View::Pipelines];
    assert!(badges(&s).is_empty());
    s.settings.production = vec!["production".into()];
    assert_eq!(badges(&s), ["orders-pipeline PROD ✓Source"]);
}

#[test]
fn no_color_keeps_meaning_without_colours() {
    let mut s = fixtures::loaded(false);
    s.settings.no_color = true;
    let buf = render(&s, 120, 40);
    for cell in buf.content() {
        assert!(
            matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
            "a colour leaked: {cell:?}"
        );
    }
    let (x, y) = find(&buf, "✗Build");
    assert!(
        buf[(x, y)].modifier.contains(Modifier::REVERSED),
        "failed cell still stands out"
    );
}

#[test]
fn mono_theme_and_light_theme() {
    let mut s = fixtures::loaded(false);
    s.settings.theme = pipetui::ui::theme::ThemeKind::Mono;
    let buf = render(&s, 80, 24);
    assert!(
        buf.content()
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );

    s.settings.theme = pipetui::ui::theme::ThemeKind::Light;
    let buf = render(&s, 80, 24);
    let (x, y) = find(&buf, "PIPELINE");
    assert_eq!(
        buf[(x, y)].fg,
        Color::Black,
        "headers stay readable on a light background"
    );
    let (x, y) = find(&buf, "✗Build");
    assert_eq!(buf[(x, y)].bg, Color::Red);
}
