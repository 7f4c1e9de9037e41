//! A small backtracking regex for `AllowedPattern` (the crate has no regex dependency).
//!
//! Java `matches()` semantics, as CloudFormation uses: the whole value must match. Supports
//! literals, `.`, escapes (`\d \w \s` and their negations), classes with ranges, groups with
//! `|`, `(?:...)`, `^`/`$` and the quantifiers `* + ? {n} {n,} {n,m}` (lazy forms match greedily,
//! which gives the same answer for a whole-string match).

use std::cell::Cell;

#[derive(Debug, Clone)]
enum Node {
    Char(char),
    Any,
    Class(Vec<ClassItem>, bool),
    Start,
    End,
    Group(Vec<Vec<Node>>),
    Repeat(Box<Node>, usize, Option<usize>),
}

#[derive(Debug, Clone)]
enum ClassItem {
    Range(char, char),
    Digit(bool),
    Word(bool),
    Space(bool),
}

/// Bounds the work one match may do, so a hostile pattern cannot hang the emulator.
const BUDGET: usize = 200_000;

/// Whether `value` matches `pattern` entirely; `Err` for a pattern this engine cannot read.
pub(crate) fn full_match(pattern: &str, value: &str) -> Result<bool, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut p = Parser { s: &chars, i: 0 };
    let alts = p.alternation()?;
    if p.i != chars.len() {
        return Err(format!("unbalanced ')' in {pattern}"));
    }
    let input: Vec<char> = value.chars().collect();
    let m = Matcher {
        input: &input,
        budget: Cell::new(BUDGET),
    };
    let root = [Node::Group(alts)];
    Ok(m.seq(&root, 0, &mut |pos| pos == input.len()))
}

struct Parser<'a> {
    s: &'a [char],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Result<char, String> {
        let c = self.peek().ok_or("pattern ends early")?;
        self.i += 1;
        Ok(c)
    }

    fn alternation(&mut self) -> Result<Vec<Vec<Node>>, String> {
        let mut alts = vec![self.sequence()?];
        while self.peek() == Some('|') {
            self.i += 1;
            alts.push(self.sequence()?);
        }
        Ok(alts)
    }

    fn sequence(&mut self) -> Result<Vec<Node>, String> {
        let mut seq = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            seq.push(self.quantified(atom)?);
        }
        Ok(seq)
    }

    fn atom(&mut self) -> Result<Node, String> {
        Ok(match self.next()? {
            '.' => Node::Any,
            '^' => Node::Start,
            '$' => Node::End,
            '(' => {
                if self.s.get(self.i..self.i + 2) == Some(&['?', ':']) {
                    self.i += 2;
                }
                let alts = self.alternation()?;
                if self.next()? != ')' {
                    return Err("missing ')'".into());
                }
                Node::Group(alts)
            }
            '[' => self.class()?,
            '\\' => match escape(self.next()?) {
                Ok(item) => Node::Class(vec![item], false),
                Err(c) => Node::Char(c),
            },
            c @ ('*' | '+' | '?') => return Err(format!("nothing to repeat before '{c}'")),
            c => Node::Char(c),
        })
    }

    fn class(&mut self) -> Result<Node, String> {
        let negated = self.peek() == Some('^');
        if negated {
            self.i += 1;
        }
        let mut items = Vec::new();
        let mut first = true;
        loop {
            let c = self.next()?;
            if c == ']' && !first {
                break;
            }
            first = false;
            let lo = if c == '\\' {
                match escape(self.next()?) {
                    Ok(item) => {
                        items.push(item);
                        continue;
                    }
                    Err(c) => c,
                }
            } else {
                c
            };
            if self.peek() == Some('-') && self.s.get(self.i + 1).is_some_and(|&n| n != ']') {
                self.i += 1;
                let mut hi = self.next()?;
                if hi == '\\' {
                    hi = match escape(self.next()?) {
                        Err(literal) => literal,
                        Ok(_) => return Err("a class shorthand cannot end a range".into()),
                    };
                }
                items.push(ClassItem::Range(lo, hi));
            } else {
                items.push(ClassItem::Range(lo, lo));
            }
        }
        Ok(Node::Class(items, negated))
    }

    fn quantified(&mut self, atom: Node) -> Result<Node, String> {
        let (min, max) = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => return self.braces(atom),
            _ => return Ok(atom),
        };
        self.i += 1;
        self.skip_lazy();
        Ok(Node::Repeat(Box::new(atom), min, max))
    }

    fn braces(&mut self, atom: Node) -> Result<Node, String> {
        let close = self.s[self.i..]
            .iter()
            .position(|&c| c == '}')
            .ok_or("missing '}'")?;
        let body: String = self.s[self.i + 1..self.i + close].iter().collect();
        let num = |t: &str| {
            t.trim()
                .parse::<usize>()
                .map_err(|_| format!("bad {{{body}}}"))
        };
        let (min, max) = match body.split_once(',') {
            None => (num(&body)?, Some(num(&body)?)),
            Some((lo, "")) => (num(lo)?, None),
            Some((lo, hi)) => (num(lo)?, Some(num(hi)?)),
        };
        self.i += close + 1;
        self.skip_lazy();
        Ok(Node::Repeat(Box::new(atom), min, max))
    }

    fn skip_lazy(&mut self) {
        if matches!(self.peek(), Some('?' | '+')) {
            self.i += 1;
        }
    }
}

/// A class shorthand, or the literal character an escape stands for.
fn escape(c: char) -> Result<ClassItem, char> {
    match c {
        'd' => Ok(ClassItem::Digit(true)),
        'D' => Ok(ClassItem::Digit(false)),
        'w' => Ok(ClassItem::Word(true)),
        'W' => Ok(ClassItem::Word(false)),
        's' => Ok(ClassItem::Space(true)),
        'S' => Ok(ClassItem::Space(false)),
        'n' => Err('\n'),
        't' => Err('\t'),
        'r' => Err('\r'),
        other => Err(other),
    }
}

impl ClassItem {
    fn matches(&self, c: char) -> bool {
        match *self {
            ClassItem::Range(lo, hi) => lo <= c && c <= hi,
            ClassItem::Digit(yes) => c.is_ascii_digit() == yes,
            ClassItem::Word(yes) => (c.is_ascii_alphanumeric() || c == '_') == yes,
            ClassItem::Space(yes) => c.is_whitespace() == yes,
        }
    }
}

struct Matcher<'a> {
    input: &'a [char],
    budget: Cell<usize>,
}

impl Matcher<'_> {
    /// Matches `nodes` from `pos`, then hands each end position to `k` until it accepts.
    fn seq(&self, nodes: &[Node], pos: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
        let left = self.budget.get();
        if left == 0 {
            return false;
        }
        self.budget.set(left - 1);
        let Some((first, rest)) = nodes.split_first() else {
            return k(pos);
        };
        let here = self.input.get(pos).copied();
        match first {
            Node::Char(c) => here == Some(*c) && self.seq(rest, pos + 1, k),
            Node::Any => here.is_some_and(|c| c != '\n') && self.seq(rest, pos + 1, k),
            Node::Class(items, negated) => {
                here.is_some_and(|c| items.iter().any(|i| i.matches(c)) != *negated)
                    && self.seq(rest, pos + 1, k)
            }
            Node::Start => pos == 0 && self.seq(rest, pos, k),
            Node::End => pos == self.input.len() && self.seq(rest, pos, k),
            Node::Group(alts) => alts
                .iter()
                .any(|alt| self.seq(alt, pos, &mut |p| self.seq(rest, p, k))),
            Node::Repeat(node, min, max) => self.repeat(node, *min, *max, 0, pos, rest, k),
        }
    }

    #[allow(clippy::too_many_arguments)] // the backtracking state of one repetition
    fn repeat(
        &self,
        node: &Node,
        min: usize,
        max: Option<usize>,
        count: usize,
        pos: usize,
        rest: &[Node],
        k: &mut dyn FnMut(usize) -> bool,
    ) -> bool {
        if max.is_none_or(|m| count < m) {
            let one = std::slice::from_ref(node);
            // An iteration that consumed nothing would loop forever; it adds nothing anyway.
            let more = self.seq(one, pos, &mut |p| {
                p != pos && self.repeat(node, min, max, count + 1, p, rest, k)
            });
            if more {
                return true;
            }
        }
        count >= min && self.seq(rest, pos, k)
    }
}

#[cfg(test)]
mod tests {
    use super::full_match;

    fn ok(p: &str, v: &str) -> bool {
        full_match(p, v).unwrap_or(false)
    }

    #[test]
    fn patterns_pipetui_and_aws_docs_use() {
        let elb = "^arn:aws[a-z-]*:elasticloadbalancing:.+$";
        assert!(ok(
            elb,
            "arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/x"
        ));
        assert!(!ok(elb, "arn:aws:s3:::x"));
        assert!(ok("[a-zA-Z][-a-zA-Z0-9]*", "my-stack1"));
        assert!(!ok("[a-zA-Z][-a-zA-Z0-9]*", "1stack"));
        assert!(ok(
            "(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})/(\\d{1,2})",
            "10.0.0.0/16"
        ));
        assert!(ok("(?:dev|prod)-[a-z]+", "prod-api"));
        assert!(!ok("(?:dev|prod)-[a-z]+", "test-api"));
        assert!(ok("[^\\s]{3,}", "abc"));
        assert!(!ok("[^\\s]{3,}", "a c"));
        assert!(ok("a*a*a*a*a*a*a*b?", "aaaaaaaaaaaaaaaaaaaa"));
        assert!(full_match("(abc", "abc").is_err());
    }
}
