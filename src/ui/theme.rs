//! Colours and symbols. With NO_COLOR every meaning is carried by a symbol or a modifier.

use ratatui::style::{Color, Modifier, Style};

use crate::model::{AlarmState, Status};

/// Which palette: for dark or light terminal backgrounds, or none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ThemeKind {
    #[default]
    Dark,
    Light,
    Mono,
}

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
    /// Light backgrounds: black text instead of white, a light selection bar.
    pub light: bool,
}

impl Theme {
    pub fn new(no_color: bool) -> Self {
        Self::of(ThemeKind::Dark, no_color)
    }

    /// NO_COLOR wins over any configured palette.
    pub fn of(kind: ThemeKind, no_color: bool) -> Self {
        Self {
            color: !no_color && kind != ThemeKind::Mono,
            light: kind == ThemeKind::Light,
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn status(&self, s: &Status) -> Style {
        match s {
            Status::Succeeded => self.fg(Color::Green),
            Status::Failed | Status::Abandoned | Status::Cancelled => {
                self.fg(Color::Red).add_modifier(Modifier::BOLD)
            }
            Status::InProgress | Status::Stopping => {
                self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
            }
            Status::Pending => self.fg(Color::Yellow),
            Status::Stopped | Status::Superseded => self.fg(Color::Magenta),
            Status::None | Status::Unknown(_) => self.fg(Color::DarkGray),
        }
    }

    /// A stage cell of the pipelines list: a coloured block, reversed when colours are off.
    pub fn cell(&self, s: &Status) -> Style {
        if !self.color {
            return match s {
                Status::Failed | Status::InProgress => {
                    Style::new().add_modifier(Modifier::REVERSED)
                }
                _ => Style::new(),
            };
        }
        let bg = match s {
            Status::Succeeded => Color::Green,
            Status::Failed | Status::Abandoned | Status::Cancelled => Color::Red,
            Status::InProgress | Status::Stopping => Color::Blue,
            Status::Pending => Color::Yellow,
            Status::Stopped | Status::Superseded => Color::Magenta,
            Status::None | Status::Unknown(_) => Color::DarkGray,
        };
        Style::new().bg(bg).fg(Color::Black)
    }

    pub fn symbol(s: &Status) -> &'static str {
        match s {
            Status::Succeeded => "✓",
            Status::Failed | Status::Abandoned | Status::Cancelled => "✗",
            Status::InProgress | Status::Stopping => "▶",
            Status::Pending => "…",
            Status::Stopped | Status::Superseded => "■",
            Status::None | Status::Unknown(_) => "·",
        }
    }

    pub fn alarm(&self, s: &AlarmState) -> Style {
        match s {
            AlarmState::Ok => self.fg(Color::Green),
            AlarmState::Alarm => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            AlarmState::InsufficientData => self.fg(Color::Yellow),
        }
    }

    /// The unmistakable production badge.
    pub fn production(&self) -> Style {
        let s = Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED);
        if self.color {
            Style::new()
                .bg(Color::Red)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }

    pub fn selected(&self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    pub fn header(&self) -> Style {
        let fg = if self.light {
            Color::Black
        } else {
            Color::White
        };
        self.fg(fg).add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn highlight(&self) -> Style {
        if self.color {
            Style::new().bg(Color::Yellow).fg(Color::Black)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::UNDERLINED)
        }
    }

    pub fn emulator(&self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::BOLD)
    }
}
