//! Typed decoding of the origin-tracking tree.
//!
//! Written by hand rather than with serde: serde stops at the first error, and the config must
//! report every problem at once, each with its key path and line:column.

use std::collections::BTreeMap;

use super::problem::{Problem, Problems, did_you_mean};
use super::tree::{Layer, Node, Origin, Value, join};

/// A config value that can be read from a tree node, reporting problems instead of failing fast.
pub trait FromNode: Sized {
    fn from_node(node: &Node, path: &str, problems: &mut Problems) -> Option<Self>;
}

/// Values from the environment and flags arrive as text; numbers and booleans are parsed from it.
fn textual(node: &Node) -> Option<&str> {
    match (&node.value, node.origin.layer) {
        (Value::Str(s), Layer::Env | Layer::Flag) => Some(s.trim()),
        _ => None,
    }
}

fn wrong_type(node: &Node, path: &str, expected: &str, problems: &mut Problems) {
    problems.push(Problem::new(
        path,
        node.origin.clone(),
        format!("expected {expected}, found {}", node.value.type_name()),
    ));
}

impl FromNode for String {
    fn from_node(node: &Node, path: &str, problems: &mut Problems) -> Option<Self> {
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            _ => {
                wrong_type(node, path, "a string", problems);
                None
            }
        }
    }
}

impl FromNode for bool {
    fn from_node(node: &Node, path: &str, problems: &mut Problems) -> Option<Self> {
        if let Some(text) = textual(node) {
            return match text {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => {
                    problems.push(Problem::new(
                        path,
                        node.origin.clone(),
                        format!("expected true or false, found \"{text}\""),
                    ));
                    None
                }
            };
        }
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                wrong_type(node, path, "a boolean (true or false)", problems);
                None
            }
        }
    }
}

macro_rules! integer_from_node {
    ($($t:ty),*) => {$(
        impl FromNode for $t {
            fn from_node(node: &Node, path: &str, problems: &mut Problems) -> Option<Self> {
                let n: i64 = if let Some(text) = textual(node) {
                    match text.parse() {
                        Ok(n) => n,
                        Err(_) => {
                            problems.push(Problem::new(path, node.origin.clone(),
                                format!("expected an integer, found \"{text}\"")));
                            return None;
                        }
                    }
                } else if let Value::Int(n) = node.value {
                    n
                } else {
                    wrong_type(node, path, "an integer", problems);
                    return None;
                };
                match <$t>::try_from(n) {
                    Ok(v) => Some(v),
                    Err(_) => {
                        problems.push(Problem::new(path, node.origin.clone(), format!(
                            "{n} is out of range; expected {} to {}", <$t>::MIN, <$t>::MAX)));
                        None
                    }
                }
            }
        }
    )*};
}
integer_from_node!(u16, u32, u64, i64);

impl FromNode for f64 {
    fn from_node(node: &Node, path: &str, problems: &mut Problems) -> Option<Self> {
        let v = if let Some(text) = textual(node) {
            text.parse().ok()
        } else {
            match node.value {
                Value::Float(f) => Some(f),
                Value::Int(i) => Some(i as f64),
                _ => None,
            }
        };
        match v {
            Some(f) if f.is_finite() => Some(f),
            _ => {
                wrong_type(node, path, "a finite number", problems);
                None
            }
        }
    }
}

impl<T: FromNode> FromNode for Vec<T> {
    fn from_node(node: &Node, path: &str, problems: &mut Problems) -> Option<Self> {
        if let Some(text) = textual(node) {
            // Comma-separated lists from the environment or a flag.
            let mut out = Vec::new();
            for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let n = Node {
                    value: Value::Str(item.to_string()),
                    origin: node.origin.clone(),
                };
                out.push(T::from_node(&n, path, problems)?);
            }
            return Some(out);
        }
        match &node.value {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    match T::from_node(item, &join(path, &i.to_string()), problems) {
                        Some(v) => out.push(v),
                        None => ok = false,
                    }
                }
                ok.then_some(out)
            }
            _ => {
                wrong_type(node, path, "an array", problems);
                None
            }
        }
    }
}

/// A user-keyed map (tags, environment variables), in key order.
impl<T: FromNode> FromNode for BTreeMap<String, T> {
    fn from_node(node: &Node, path: &str, problems: &mut Problems) -> Option<Self> {
        let Some(entries) = node.entries() else {
            wrong_type(node, path, "a table", problems);
            return None;
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for e in entries {
            match T::from_node(&e.node, &join(path, &e.key), problems) {
                Some(v) => {
                    out.insert(e.key.clone(), v);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}

/// Reads the fields of one table; `finish` reports keys nobody asked for as unknown.
pub struct TableReader<'a> {
    node: &'a Node,
    path: String,
    known: Vec<&'static str>,
    pub problems: &'a mut Problems,
    failed: bool,
}

impl<'a> TableReader<'a> {
    pub fn new(node: &'a Node, path: &str, problems: &'a mut Problems) -> Option<Self> {
        if node.entries().is_none() {
            wrong_type(node, path, "a table", problems);
            return None;
        }
        Some(Self {
            node,
            path: path.to_string(),
            known: Vec::new(),
            problems,
            failed: false,
        })
    }

    pub fn path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    pub fn origin(&self) -> Origin {
        self.node.origin.clone()
    }

    /// An optional key: `None` when absent (or invalid, which is recorded).
    pub fn optional<T: FromNode>(&mut self, key: &'static str) -> Option<T> {
        self.known.push(key);
        let entry = self.node.get(key)?;
        let path = join(&self.path, key);
        let v = T::from_node(&entry.node, &path, self.problems);
        if v.is_none() {
            self.failed = true;
        }
        v
    }

    /// A key with a default when absent.
    pub fn or<T: FromNode>(&mut self, key: &'static str, default: T) -> T {
        self.optional(key).unwrap_or(default)
    }

    /// A key that must be present.
    pub fn required<T: FromNode>(&mut self, key: &'static str, hint: &str) -> Option<T> {
        if self.node.get(key).is_none() {
            self.known.push(key);
            self.failed = true;
            self.problems.push(
                Problem::new(
                    join(&self.path, key),
                    self.node.origin.clone(),
                    "missing required value",
                )
                .with_hint(hint.to_string()),
            );
            return None;
        }
        self.optional(key)
    }

    /// A required integer that must lie in `lo..=hi`; checked while decoding so a range problem
    /// is reported together with every type problem.
    pub fn ranged<T>(&mut self, key: &'static str, lo: i64, hi: i64) -> Option<T>
    where
        T: FromNode + Copy + TryInto<i64>,
    {
        let hint = format!("add `{key}`; config.example.toml documents it");
        let v: T = self.required(key, &hint)?;
        let n: i64 = v.try_into().unwrap_or(i64::MAX);
        if n < lo || n > hi {
            let origin = self
                .node
                .get(key)
                .map_or_else(|| self.node.origin.clone(), |e| e.node.origin.clone());
            self.problems.push(Problem::new(
                join(&self.path, key),
                origin,
                format!("{n} is out of range; expected {lo} to {hi}"),
            ));
            self.failed = true;
            return None;
        }
        Some(v)
    }

    /// Checks the format of a value just read (`Some((message, hint))` is a problem), so that
    /// format problems are reported together with type problems, before cross-key validation.
    pub fn checked<T>(
        &mut self,
        key: &'static str,
        value: Option<T>,
        check: impl Fn(&T) -> Option<(String, &'static str)>,
    ) -> Option<T> {
        let v = value?;
        let Some((message, hint)) = check(&v) else {
            return Some(v);
        };
        let origin = self
            .node
            .get(key)
            .map_or_else(|| self.node.origin.clone(), |e| e.node.origin.clone());
        let mut p = Problem::new(join(&self.path, key), origin, message);
        if !hint.is_empty() {
            p = p.with_hint(hint);
        }
        self.problems.push(p);
        self.failed = true;
        None
    }

    /// Reports unknown keys; returns false if any field of this table failed to decode.
    pub fn finish(self) -> bool {
        let mut ok = !self.failed;
        for e in self.node.entries().unwrap_or_default() {
            if self.known.contains(&e.key.as_str()) {
                continue;
            }
            ok = false;
            let mut p = Problem::new(
                join(&self.path, &e.key),
                e.key_origin.clone(),
                format!("unknown key \"{}\"", e.key),
            );
            p = match did_you_mean(&e.key, self.known.iter().copied()) {
                Some(s) => p.with_hint(format!("did you mean \"{s}\"?")),
                None => p.with_hint(format!("valid keys here: {}", self.known.join(", "))),
            };
            self.problems.push(p);
        }
        ok
    }
}

/// Declares a config enum read from a fixed set of lowercase words, with a hint listing them.
macro_rules! config_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::config::decode::FromNode for $name {
            fn from_node(
                node: &$crate::config::tree::Node,
                path: &str,
                problems: &mut $crate::config::problem::Problems,
            ) -> Option<Self> {
                let text = <String as $crate::config::decode::FromNode>::from_node(node, path, problems)?;
                match text.as_str() {
                    $($text => Some($name::$variant),)+
                    _ => {
                        let expected = [$($text),+].join(", ");
                        let mut p = $crate::config::problem::Problem::new(
                            path,
                            node.origin.clone(),
                            format!("unknown {} \"{}\"; expected one of {}", $what, text, expected),
                        );
                        if let Some(s) = $crate::config::problem::did_you_mean(&text, [$($text),+]) {
                            p = p.with_hint(format!("did you mean \"{s}\"?"));
                        }
                        problems.push(p);
                        None
                    }
                }
            }
        }
    };
}
pub(crate) use config_enum;
