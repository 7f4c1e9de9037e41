//! Configuration problems: every one names the key path, where it was written and a hint.

use std::fmt;

use super::tree::Origin;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path (`deploy.strategy`, `environments.1.account_id`); empty for syntax errors.
    pub path: String,
    pub origin: Origin,
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    pub fn new(path: impl Into<String>, origin: Origin, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            origin,
            message: message.into(),
            hint: None,
        }
    }

    pub fn syntax(origin: Origin, message: String) -> Self {
        Self {
            path: String::new(),
            origin,
            message: format!("TOML syntax error: {message}"),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.origin)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        write!(f, "{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n    hint: {hint}")?;
        }
        Ok(())
    }
}

/// All problems found in one pass, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(&mut self, problem: Problem) {
        self.0.push(problem);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }

    /// Sorts by layer, source, line and column so the report reads top to bottom.
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            (
                a.origin.layer,
                &a.origin.source,
                a.origin.line,
                a.origin.column,
            )
                .cmp(&(
                    b.origin.layer,
                    &b.origin.source,
                    b.origin.line,
                    b.origin.column,
                ))
        });
        self.0.dedup();
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "{n} configuration problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.0 {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Closest candidate by edit distance, for "did you mean" hints.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        assert_eq!(
            did_you_mean("stratgy", ["strategy", "target"]),
            Some("strategy")
        );
        assert_eq!(did_you_mean("zzz", ["strategy", "target"]), None);
    }
}
