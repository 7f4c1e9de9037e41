//! Keys are data: each view maps key chords to `Command`s; the help overlay and the hint bar are
//! generated from the same map, and read-only mode drops every mutating binding from it.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::state::View;

/// Everything a key can do. Names (for the config and help) come from [`Command::name`].
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[strum(serialize_all = "snake_case")]
pub enum Command {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Quit,
    Palette,
    Filter,
    Help,
    Refresh,
    Executions,
    Approve,
    Reject,
    RetryFailed,
    RetryAll,
    Rollback,
    Stop,
    Abandon,
    Start,
    ToggleTransition,
    StopDeployment,
    Follow,
    Wrap,
    Window,
    Pattern,
    Search,
    SearchNext,
    SearchPrev,
    FirstError,
    Save,
    #[strum(serialize = "logs")]
    ShowLogs,
}

impl Command {
    pub const ALL: [Command; 34] = [
        Command::Up,
        Command::Down,
        Command::PageUp,
        Command::PageDown,
        Command::Top,
        Command::Bottom,
        Command::Open,
        Command::Back,
        Command::Quit,
        Command::Palette,
        Command::Filter,
        Command::Help,
        Command::Refresh,
        Command::Executions,
        Command::Approve,
        Command::Reject,
        Command::RetryFailed,
        Command::RetryAll,
        Command::Rollback,
        Command::Stop,
        Command::Abandon,
        Command::Start,
        Command::ToggleTransition,
        Command::StopDeployment,
        Command::Follow,
        Command::Wrap,
        Command::Window,
        Command::Pattern,
        Command::Search,
        Command::SearchNext,
        Command::SearchPrev,
        Command::FirstError,
        Command::Save,
        Command::ShowLogs,
    ];

    /// The name used in `[console.keys.<view>]`.
    pub fn name(self) -> &'static str {
        self.into()
    }

    pub fn parse(name: &str) -> Option<Command> {
        name.parse().ok()
    }

    pub fn description(self) -> &'static str {
        match self {
            Command::Up => "move up",
            Command::Down => "move down",
            Command::PageUp => "page up",
            Command::PageDown => "page down",
            Command::Top => "first row",
            Command::Bottom => "last row",
            Command::Open => "open",
            Command::Back => "back",
            Command::Quit => "quit",
            Command::Palette => "command palette",
            Command::Filter => "filter",
            Command::Help => "help",
            Command::Refresh => "refresh now",
            Command::Executions => "execution history",
            Command::Approve => "approve",
            Command::Reject => "reject",
            Command::RetryFailed => "retry failed actions",
            Command::RetryAll => "retry whole stage",
            Command::Rollback => "roll back stage",
            Command::Stop => "stop execution",
            Command::Abandon => "stop and abandon",
            Command::Start => "start release",
            Command::ToggleTransition => "disable/enable transition",
            Command::StopDeployment => "stop deployment + roll back",
            Command::Follow => "follow/pause",
            Command::Wrap => "wrap lines",
            Command::Window => "time window",
            Command::Pattern => "filter pattern",
            Command::Search => "search",
            Command::SearchNext => "next match",
            Command::SearchPrev => "previous match",
            Command::FirstError => "first error",
            Command::Save => "save to file",
            Command::ShowLogs => "logs",
        }
    }

    /// Commands that change something in AWS; read-only mode removes their keys.
    pub fn mutating(self) -> bool {
        matches!(
            self,
            Command::Approve
                | Command::Reject
                | Command::RetryFailed
                | Command::RetryAll
                | Command::Rollback
                | Command::Stop
                | Command::Abandon
                | Command::Start
                | Command::ToggleTransition
                | Command::StopDeployment
        )
    }

    /// Shown in the bottom hint bar (the rest only in `?` help).
    fn hinted(self) -> bool {
        !matches!(
            self,
            Command::Up
                | Command::Down
                | Command::PageUp
                | Command::PageDown
                | Command::Top
                | Command::Bottom
                | Command::SearchPrev
        )
    }
}

/// A key chord such as `j`, `ctrl-c`, `shift-tab`, `enter`, `pgdn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Chord {
    pub code: KeyCodeKey,
    pub ctrl: bool,
    pub alt: bool,
}

/// `KeyCode` subset that orders and hashes (for the BTreeMap and stable help text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeKey {
    Char(char),
    Enter,
    Esc,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Tab,
    BackTab,
    Backspace,
    F(u8),
}

impl Chord {
    pub fn from_event(key: &KeyEvent) -> Option<Chord> {
        let code = match key.code {
            KeyCode::Char(c) => KeyCodeKey::Char(c),
            KeyCode::Enter => KeyCodeKey::Enter,
            KeyCode::Esc => KeyCodeKey::Esc,
            KeyCode::Up => KeyCodeKey::Up,
            KeyCode::Down => KeyCodeKey::Down,
            KeyCode::Left => KeyCodeKey::Left,
            KeyCode::Right => KeyCodeKey::Right,
            KeyCode::PageUp => KeyCodeKey::PageUp,
            KeyCode::PageDown => KeyCodeKey::PageDown,
            KeyCode::Home => KeyCodeKey::Home,
            KeyCode::End => KeyCodeKey::End,
            KeyCode::Tab => KeyCodeKey::Tab,
            KeyCode::BackTab => KeyCodeKey::BackTab,
            KeyCode::Backspace => KeyCodeKey::Backspace,
            KeyCode::F(n) => KeyCodeKey::F(n),
            _ => return None,
        };
        Some(Chord {
            code,
            ctrl: key.modifiers.contains(KeyModifiers::CONTROL),
            alt: key.modifiers.contains(KeyModifiers::ALT),
        })
    }

    /// Parses `ctrl-c`, `alt-x`, `G`, `enter`, `space`, `f5`.
    pub fn parse(text: &str) -> Result<Chord, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = text;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCodeKey::Enter,
            "esc" => KeyCodeKey::Esc,
            "up" => KeyCodeKey::Up,
            "down" => KeyCodeKey::Down,
            "left" => KeyCodeKey::Left,
            "right" => KeyCodeKey::Right,
            "pgup" => KeyCodeKey::PageUp,
            "pgdn" => KeyCodeKey::PageDown,
            "home" => KeyCodeKey::Home,
            "end" => KeyCodeKey::End,
            "tab" => KeyCodeKey::Tab,
            "backtab" => KeyCodeKey::BackTab,
            "backspace" => KeyCodeKey::Backspace,
            "space" => KeyCodeKey::Char(' '),
            f if f.len() > 1 && f.starts_with('f') => match f[1..].parse::<u8>() {
                Ok(n) if (1..=12).contains(&n) => KeyCodeKey::F(n),
                _ => return Err(format!("unknown key `{text}`")),
            },
            s => {
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCodeKey::Char(c),
                    _ => return Err(format!("unknown key `{text}`")),
                }
            }
        };
        Ok(Chord { code, ctrl, alt })
    }

    /// Which of several keys for one command to show first.
    fn rank(&self) -> u8 {
        match (self.ctrl || self.alt, self.code) {
            (false, KeyCodeKey::Enter | KeyCodeKey::Esc) => 0,
            (false, KeyCodeKey::Char(_)) => 1,
            (false, _) => 2,
            (true, _) => 3,
        }
    }

    pub fn label(&self) -> String {
        let key = match self.code {
            KeyCodeKey::Char(' ') => "space".to_string(),
            KeyCodeKey::Char(c) => c.to_string(),
            KeyCodeKey::Enter => "enter".into(),
            KeyCodeKey::Esc => "esc".into(),
            KeyCodeKey::Up => "↑".into(),
            KeyCodeKey::Down => "↓".into(),
            KeyCodeKey::Left => "←".into(),
            KeyCodeKey::Right => "→".into(),
            KeyCodeKey::PageUp => "pgup".into(),
            KeyCodeKey::PageDown => "pgdn".into(),
            KeyCodeKey::Home => "home".into(),
            KeyCodeKey::End => "end".into(),
            KeyCodeKey::Tab => "tab".into(),
            KeyCodeKey::BackTab => "backtab".into(),
            KeyCodeKey::Backspace => "backspace".into(),
            KeyCodeKey::F(n) => format!("f{n}"),
        };
        let mut s = String::new();
        if self.ctrl {
            s.push_str("ctrl-");
        }
        if self.alt {
            s.push_str("alt-");
        }
        s + &key
    }
}

/// Global bindings, then each view's own (a view binding wins over a global one).
const GLOBAL: &[(&str, Command)] = &[
    ("k", Command::Up),
    ("up", Command::Up),
    ("j", Command::Down),
    ("down", Command::Down),
    ("ctrl-u", Command::PageUp),
    ("pgup", Command::PageUp),
    ("ctrl-d", Command::PageDown),
    ("pgdn", Command::PageDown),
    ("g", Command::Top),
    ("home", Command::Top),
    ("G", Command::Bottom),
    ("end", Command::Bottom),
    ("enter", Command::Open),
    ("l", Command::Open),
    ("right", Command::Open),
    ("esc", Command::Back),
    ("h", Command::Back),
    ("left", Command::Back),
    ("q", Command::Quit),
    ("ctrl-c", Command::Quit),
    (":", Command::Palette),
    ("/", Command::Filter),
    ("?", Command::Help),
    ("ctrl-r", Command::Refresh),
];

fn view_defaults(view: View) -> &'static [(&'static str, Command)] {
    match view {
        View::Pipelines => &[("e", Command::Executions), ("S", Command::Start)],
        View::Pipeline => &[
            ("e", Command::Executions),
            ("a", Command::Approve),
            ("x", Command::Reject),
            ("r", Command::RetryFailed),
            ("R", Command::RetryAll),
            ("b", Command::Rollback),
            ("s", Command::Stop),
            ("A", Command::Abandon),
            ("S", Command::Start),
            ("t", Command::ToggleTransition),
            ("L", Command::ShowLogs),
        ],
        View::Executions => &[
            ("s", Command::Stop),
            ("A", Command::Abandon),
            ("S", Command::Start),
        ],
        View::ActionDetail => &[("D", Command::StopDeployment), ("L", Command::ShowLogs)],
        View::Alarms => &[],
        View::Logs => &[
            ("F", Command::Follow),
            ("w", Command::Wrap),
            ("W", Command::Window),
            ("f", Command::Pattern),
            ("s", Command::Search),
            ("n", Command::SearchNext),
            ("N", Command::SearchPrev),
            ("E", Command::FirstError),
            ("ctrl-s", Command::Save),
        ],
        View::Stack | View::Audit => &[],
    }
}

/// A remapping problem (unknown view, command or key), at the config key it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeymapError {
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Keymap {
    views: BTreeMap<View, BTreeMap<Chord, Command>>,
    /// Read-only mode's dropped mutating bindings: never hinted, only recognised so a press can
    /// say why nothing happens.
    disabled: BTreeMap<View, BTreeMap<Chord, Command>>,
}

impl Keymap {
    /// The default bindings; `read_only` leaves out every mutating command.
    pub fn new(read_only: bool) -> Keymap {
        let mut views = BTreeMap::new();
        let mut disabled = BTreeMap::new();
        for view in View::ALL {
            let mut map = BTreeMap::new();
            let mut off = BTreeMap::new();
            for (key, cmd) in GLOBAL.iter().chain(view_defaults(view)) {
                if let Ok(chord) = Chord::parse(key) {
                    if read_only && cmd.mutating() {
                        off.insert(chord, *cmd);
                    } else {
                        map.insert(chord, *cmd);
                    }
                }
            }
            views.insert(view, map);
            disabled.insert(view, off);
        }
        Keymap { views, disabled }
    }

    /// Applies `view → command → keys` overrides (`view` may be `global`): the command's
    /// default keys in that view are replaced by the given ones.
    pub fn with_overrides(
        mut self,
        overrides: &BTreeMap<String, BTreeMap<String, Vec<String>>>,
        read_only: bool,
    ) -> Result<Keymap, Vec<KeymapError>> {
        let mut errors = Vec::new();
        for (view_name, commands) in overrides {
            let views: Vec<View> = if view_name == "global" {
                View::ALL.to_vec()
            } else if let Some(v) = View::parse(view_name) {
                vec![v]
            } else {
                let views: Vec<&str> = View::ALL.iter().map(|v| v.name()).collect();
                errors.push(KeymapError {
                    path: format!("console.keys.{view_name}"),
                    message: format!("unknown view \"{view_name}\""),
                    hint: Some(format!("expected global or one of {}", views.join(", "))),
                });
                continue;
            };
            for (cmd_name, keys) in commands {
                let Some(cmd) = Command::parse(cmd_name) else {
                    errors.push(KeymapError {
                        path: format!("console.keys.{view_name}.{cmd_name}"),
                        message: format!("unknown command \"{cmd_name}\""),
                        hint: Some("press ? in the console to see every command of a view".into()),
                    });
                    continue;
                };
                let mut chords = Vec::new();
                for key in keys {
                    match Chord::parse(key) {
                        Ok(c) => chords.push(c),
                        Err(e) => errors.push(KeymapError {
                            path: format!("console.keys.{view_name}.{cmd_name}"),
                            message: e,
                            hint: Some(
                                "a character, or enter, esc, up, pgdn, f5, … with ctrl-/alt-"
                                    .into(),
                            ),
                        }),
                    }
                }
                let maps = if read_only && cmd.mutating() {
                    &mut self.disabled
                } else {
                    &mut self.views
                };
                for view in &views {
                    if let Some(map) = maps.get_mut(view) {
                        map.retain(|_, c| *c != cmd);
                        for chord in &chords {
                            map.insert(*chord, cmd);
                        }
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }

    /// The command a key runs in `view` (SHIFT is ignored: shifted letters arrive uppercase).
    pub fn lookup(&self, view: View, key: &KeyEvent) -> Option<Command> {
        let chord = Chord::from_event(key)?;
        self.views.get(&view)?.get(&chord).copied()
    }

    /// Every (keys, command) of a view, one entry per command, in command order; each
    /// command's keys start with the one worth showing (enter/esc, then plain keys).
    pub fn bindings(&self, view: View) -> Vec<(String, Command)> {
        let mut by_cmd: BTreeMap<Command, Vec<Chord>> = BTreeMap::new();
        if let Some(map) = self.views.get(&view) {
            for (chord, cmd) in map {
                by_cmd.entry(*cmd).or_default().push(*chord);
            }
        }
        by_cmd
            .into_iter()
            .map(|(cmd, mut keys)| {
                keys.sort_by_key(|c| (c.rank(), *c));
                let labels: Vec<String> = keys.iter().map(Chord::label).collect();
                (labels.join(" "), cmd)
            })
            .collect()
    }

    /// The first key of each hinted command, for the bottom bar.
    /// The view's own commands come first: they are what the bar is for at 80 columns.
    pub fn hints(&self, view: View) -> Vec<(String, Command)> {
        let mut hints: Vec<(String, Command)> = self
            .bindings(view)
            .into_iter()
            .filter(|(_, c)| c.hinted())
            .map(|(keys, c)| (keys.split(' ').next().unwrap_or("").to_string(), c))
            .collect();
        hints.sort_by_key(|(_, c)| GLOBAL.iter().any(|(_, g)| g == c));
        hints
    }

    /// The mutating command a key would run in `view` were the console not read-only.
    pub fn disabled(&self, view: View, key: &KeyEvent) -> Option<Command> {
        let chord = Chord::from_event(key)?;
        self.disabled.get(&view)?.get(&chord).copied()
    }

    pub fn has(&self, view: View, cmd: Command) -> bool {
        self.views
            .get(&view)
            .is_some_and(|m| m.values().any(|c| *c == cmd))
    }
}
