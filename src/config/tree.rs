//! A TOML tree in which every key and value remembers where it came from (file and line:column,
//! environment variable or flag), so layered configuration can still point at the exact spot.

use std::fmt;
use std::sync::Arc;

use super::problem::{Problem, Problems};

/// Which layer a value came from; later layers win.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    Defaults,
    File,
    Env,
    Flag,
}

/// Where a key or value was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub layer: Layer,
    /// File path, `PIPETUI_…` variable name or `--flag`.
    pub source: Arc<str>,
    /// 1-based line and column; 0 when the source has no lines (env, flags).
    pub line: usize,
    pub column: usize,
}

impl Origin {
    pub fn unplaced(layer: Layer, source: impl Into<Arc<str>>) -> Self {
        Self {
            layer,
            source: source.into(),
            line: 0,
            column: 0,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.source)
        } else {
            write!(f, "{}:{}:{}", self.source, self.line, self.column)
        }
    }
}

#[derive(Debug, Clone)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Vec<Entry>),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Bool(_) => "a boolean",
            Value::Datetime(_) => "a date-time",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub key_origin: Origin,
    pub node: Node,
}

impl Node {
    pub fn empty_table(origin: Origin) -> Self {
        Node {
            value: Value::Table(Vec::new()),
            origin,
        }
    }

    pub fn entries(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Table(e) => Some(e),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries()?.iter().find(|e| e.key == key)
    }

    /// Follows a dotted path such as `deploy.ecs.cluster`; array elements by index (`environments.1`).
    pub fn lookup(&self, path: &str) -> Option<&Node> {
        let mut node = self;
        for part in path.split('.').filter(|p| !p.is_empty()) {
            node = match &node.value {
                Value::Table(entries) => &entries.iter().find(|e| e.key == part)?.node,
                Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Where to point at a problem with `path`: the deepest node on the path that the user wrote
    /// (a value that only the embedded defaults supplied is reported at the user's enclosing
    /// table, never inside the embedded example).
    pub fn nearest_origin(&self, path: &str) -> Origin {
        let mut node = self;
        let mut origin = self.origin.clone();
        for part in path.split('.').filter(|p| !p.is_empty()) {
            let next = match &node.value {
                Value::Table(entries) => entries.iter().find(|e| e.key == part).map(|e| &e.node),
                Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            match next {
                Some(n) => {
                    node = n;
                    if n.origin.layer != Layer::Defaults || origin.layer == Layer::Defaults {
                        origin = n.origin.clone();
                    }
                }
                None => break,
            }
        }
        origin
    }

    /// Removes a key of this table.
    pub fn remove(&mut self, key: &str) {
        if let Value::Table(entries) = &mut self.value {
            entries.retain(|e| e.key != key);
        }
    }

    /// Sets `path` (creating tables on the way), replacing any value there.
    pub fn set(&mut self, path: &[&str], node: Node) {
        let Some((first, rest)) = path.split_first() else {
            *self = node;
            return;
        };
        if !matches!(self.value, Value::Table(_)) {
            self.value = Value::Table(Vec::new());
        }
        let origin = node.origin.clone();
        if let Value::Table(entries) = &mut self.value {
            let idx = match entries.iter().position(|e| e.key == *first) {
                Some(i) => i,
                None => {
                    entries.push(Entry {
                        key: (*first).to_string(),
                        key_origin: origin.clone(),
                        node: Node::empty_table(origin),
                    });
                    entries.len() - 1
                }
            };
            entries[idx].node.set(rest, node);
        }
    }

    /// Merges `upper` over `self`: tables merge key by key, everything else (arrays included) is
    /// replaced. Tables whose path is in `replace_whole` are user-keyed maps (tags, env vars) and
    /// are replaced as a unit, so defaults never leak entries into them.
    pub fn merge(&mut self, upper: Node, path: &str, replace_whole: &[&str]) {
        let is_map = replace_whole.iter().any(|p| pattern_matches(p, path));
        match (&mut self.value, upper.value) {
            (Value::Table(lower), Value::Table(upper_entries)) if !is_map => {
                for entry in upper_entries {
                    let child_path = join(path, &entry.key);
                    match lower.iter_mut().find(|e| e.key == entry.key) {
                        Some(existing) => {
                            existing.key_origin = entry.key_origin;
                            existing.node.merge(entry.node, &child_path, replace_whole);
                        }
                        None => lower.push(entry),
                    }
                }
                self.origin = upper.origin;
            }
            (_, value) => {
                self.value = value;
                self.origin = upper.origin;
            }
        }
    }
}

/// `*` matches one path segment.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let mut p = pattern.split('.');
    let mut k = path.split('.');
    loop {
        match (p.next(), k.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == "*" || a == b => {}
            _ => return false,
        }
    }
}

pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Maps byte offsets to 1-based line:column (columns count characters, as editors do).
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, starts }
    }

    fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, column)
    }
}

/// Parses TOML text into a tree with origins. Every syntax error is reported, not just the first.
pub fn parse_toml(text: &str, source: &str, layer: Layer) -> Result<Node, Problems> {
    use toml::de::DeTable;
    let index = LineIndex::new(text);
    let source: Arc<str> = Arc::from(source);
    let origin_at = |offset: usize| {
        let (line, column) = index.position(offset);
        Origin {
            layer,
            source: source.clone(),
            line,
            column,
        }
    };
    let (table, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        let problems = errors
            .iter()
            .map(|e| {
                let origin = origin_at(e.span().map_or(0, |s| s.start));
                Problem::syntax(origin, e.message().trim().to_string())
            })
            .collect();
        return Err(Problems(problems));
    }
    let span = table.span();
    let root_value = convert_table(table.get_ref(), &origin_at)?;
    Ok(Node {
        value: root_value,
        origin: origin_at(span.start),
    })
}

fn convert_table<F: Fn(usize) -> Origin>(
    table: &toml::de::DeTable<'_>,
    origin_at: &F,
) -> Result<Value, Problems> {
    let mut entries = Vec::with_capacity(table.len());
    for (key, value) in table.iter() {
        entries.push(Entry {
            key: key.get_ref().to_string(),
            key_origin: origin_at(key.span().start),
            node: convert_value(value, origin_at)?,
        });
    }
    Ok(Value::Table(entries))
}

fn convert_value<F: Fn(usize) -> Origin>(
    value: &toml::Spanned<toml::de::DeValue<'_>>,
    origin_at: &F,
) -> Result<Node, Problems> {
    use toml::de::DeValue;
    let origin = origin_at(value.span().start);
    let converted = match value.get_ref() {
        DeValue::String(s) => Value::Str(s.to_string()),
        DeValue::Integer(i) => {
            let digits = i.as_str().replace('_', "");
            let digits = digits
                .trim_start_matches("0x")
                .trim_start_matches("0o")
                .trim_start_matches("0b");
            match i64::from_str_radix(digits, i.radix()) {
                Ok(n) => Value::Int(n),
                Err(_) => {
                    return Err(Problems(vec![Problem::syntax(
                        origin,
                        format!("integer {} does not fit in 64 bits", i.as_str()),
                    )]));
                }
            }
        }
        DeValue::Float(f) => match f.as_str().replace('_', "").parse::<f64>() {
            Ok(n) => Value::Float(n),
            Err(_) => match f.as_str() {
                "inf" | "+inf" => Value::Float(f64::INFINITY),
                "-inf" => Value::Float(f64::NEG_INFINITY),
                _ => Value::Float(f64::NAN),
            },
        },
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::Datetime(d.to_string()),
        DeValue::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| convert_value(v, origin_at))
                .collect::<Result<_, _>>()?,
        ),
        DeValue::Table(t) => convert_table(t, origin_at)?,
    };
    Ok(Node {
        value: converted,
        origin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_point_at_line_and_column() {
        let text = "[deploy]\n# c\nstrategy = \"rolling\"\n";
        let root = parse_toml(text, "x.toml", Layer::File).map_err(|p| p.to_string());
        let root = root.unwrap_or_else(|e| panic!("{e}"));
        let entry = root
            .lookup("deploy")
            .and_then(|d| d.get("strategy"))
            .cloned();
        let entry = entry.unwrap_or_else(|| panic!("missing"));
        assert_eq!((entry.key_origin.line, entry.key_origin.column), (3, 1));
        assert_eq!((entry.node.origin.line, entry.node.origin.column), (3, 12));
    }

    #[test]
    fn merge_replaces_maps_and_merges_sections() {
        let lower = parse_toml(
            "[a]\nx = 1\ny = 2\n[tags]\nA = \"1\"\n",
            "d",
            Layer::Defaults,
        );
        let upper = parse_toml("[a]\ny = 3\n[tags]\nB = \"2\"\n", "f", Layer::File);
        let (mut lower, upper) = (
            lower.ok().unwrap_or_else(|| panic!()),
            upper.ok().unwrap_or_else(|| panic!()),
        );
        lower.merge(upper, "", &["tags"]);
        assert!(matches!(
            lower.lookup("a.x").map(|n| &n.value),
            Some(Value::Int(1))
        ));
        assert!(matches!(
            lower.lookup("a.y").map(|n| &n.value),
            Some(Value::Int(3))
        ));
        assert!(lower.lookup("tags.A").is_none());
        assert!(lower.lookup("tags.B").is_some());
    }
}
