//! CloudWatch Logs filter patterns (metric filters, subscription filters, FilterLogEvents, Live
//! Tail): terms, `"phrases"`, `?or` terms, `-exclusions`, JSON `{ $.a = 1 && ... }`,
//! space-delimited `[ip, ..., status = 5*]` and `%regex%` (the limited AWS regex subset: no groups).
//! Matching is case-sensitive. A pattern is parsed once and then matched against many messages.

use std::collections::HashMap;

use serde_json::Value as Json;

pub use super::regex::Regex;

/// The message AWS gives (as `InvalidParameterException`) for a pattern it cannot parse.
pub const INVALID_PATTERN: &str = "Invalid filter pattern";

/// A pattern that could not be parsed; `detail` says why (the service sends [`INVALID_PATTERN`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid filter pattern: {detail}")]
pub struct PatternError {
    pub detail: String,
}

fn err<T>(detail: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError {
        detail: detail.into(),
    })
}

/// A parsed filter pattern.
#[derive(Debug, Clone)]
pub struct FilterPattern(Kind);

#[derive(Debug, Clone)]
enum Kind {
    All,
    Terms {
        all: Vec<String>,
        any: Vec<String>,
        none: Vec<String>,
    },
    Json(Expr),
    Space(Vec<Slot>),
    Regex(Regex),
}

/// The longest pattern AWS accepts (`FilterPattern`, max 1024); it also bounds the recursion of
/// matching a space-delimited pattern, once per field.
pub const MAX_PATTERN_CHARS: usize = 1024;

/// Parses a filter pattern; empty or blank matches every message.
pub fn parse(pattern: &str) -> Result<FilterPattern, PatternError> {
    if pattern.chars().nth(MAX_PATTERN_CHARS).is_some() {
        return err(format!("longer than {MAX_PATTERN_CHARS} characters"));
    }
    let p = pattern.trim();
    let kind = if p.is_empty() {
        Kind::All
    } else if let Some(inner) = p.strip_prefix('{') {
        let Some(inner) = inner.strip_suffix('}') else {
            return err("unclosed '{'");
        };
        let mut parser = Parser {
            toks: lex(inner)?,
            pos: 0,
            json: true,
            depth: 0,
        };
        let expr = parser.expr()?;
        parser.end()?;
        Kind::Json(expr)
    } else if let Some(inner) = p.strip_prefix('[') {
        let Some(inner) = inner.strip_suffix(']') else {
            return err("unclosed '['");
        };
        Kind::Space(parse_slots(inner)?)
    } else if p.len() >= 2 && p.starts_with('%') && p.ends_with('%') {
        Kind::Regex(Regex::parse(&p[1..p.len() - 1])?)
    } else {
        parse_terms(p)?
    };
    Ok(FilterPattern(kind))
}

impl FilterPattern {
    /// Whether `message` matches. A non-JSON message never matches a JSON pattern.
    pub fn matches(&self, message: &str) -> bool {
        match &self.0 {
            Kind::All => true,
            Kind::Terms { all, any, none } => {
                all.iter().all(|t| message.contains(t.as_str()))
                    && (any.is_empty() || any.iter().any(|t| message.contains(t.as_str())))
                    && !none.iter().any(|t| message.contains(t.as_str()))
            }
            Kind::Json(expr) => match serde_json::from_str::<Json>(message) {
                Ok(doc) => expr.eval(&|path| json_lookup(&doc, path)),
                Err(_) => false,
            },
            Kind::Space(slots) => {
                let fields = split_fields(message);
                let mut bound = Vec::with_capacity(slots.len());
                let mut budget = MAX_ASSIGN_STEPS;
                assign(slots, 0, &fields, 0, &mut bound, &mut budget)
            }
            Kind::Regex(re) => re.is_match(message),
        }
    }

    /// Whether this pattern matches every message (empty pattern).
    pub fn is_match_all(&self) -> bool {
        matches!(self.0, Kind::All)
    }
}

// ---- terms ------------------------------------------------------------------------------------

fn parse_terms(p: &str) -> Result<Kind, PatternError> {
    let (mut all, mut any, mut none) = (Vec::new(), Vec::new(), Vec::new());
    let mut chars = p.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let prefix = if c == '?' || c == '-' {
            chars.next();
            Some(c)
        } else {
            None
        };
        let mut term = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => term.extend(chars.next()),
                    '"' => {
                        closed = true;
                        break;
                    }
                    _ => term.push(c),
                }
            }
            if !closed {
                return err("unterminated quoted phrase");
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                if c == '"' {
                    return err("quote inside an unquoted term");
                }
                term.push(c);
                chars.next();
            }
        }
        if term.is_empty() {
            return err("empty term");
        }
        match prefix {
            Some('?') => any.push(term),
            Some(_) => none.push(term),
            None => all.push(term),
        }
    }
    Ok(Kind::Terms { all, any, none })
}

// ---- expressions shared by JSON and space-delimited patterns --------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Op(Op),
    Word(String),
    Quoted(String),
    Regex(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

fn lex(s: &str) -> Result<Vec<Tok>, PatternError> {
    let cs: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let next_is = |i: usize, c: char| cs.get(i + 1) == Some(&c);
    while let Some(&c) = cs.get(i) {
        let (tok, len) = match c {
            _ if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '&' if next_is(i, '&') => (Tok::And, 2),
            '|' if next_is(i, '|') => (Tok::Or, 2),
            '=' => (Tok::Op(Op::Eq), 1),
            '!' if next_is(i, '=') => (Tok::Op(Op::Ne), 2),
            '<' if next_is(i, '=') => (Tok::Op(Op::Le), 2),
            '>' if next_is(i, '=') => (Tok::Op(Op::Ge), 2),
            '<' => (Tok::Op(Op::Lt), 1),
            '>' => (Tok::Op(Op::Gt), 1),
            '"' | '%' => {
                let mut text = String::new();
                let mut j = i + 1;
                loop {
                    match cs.get(j) {
                        None => return err(format!("unterminated {c}")),
                        Some('\\') if c == '"' => {
                            text.extend(cs.get(j + 1));
                            j += 1;
                        }
                        Some(&d) if d == c => break,
                        Some(&d) => text.push(d),
                    }
                    j += 1;
                }
                let tok = if c == '"' {
                    Tok::Quoted(text)
                } else {
                    Tok::Regex(text)
                };
                (tok, j + 1 - i)
            }
            '&' | '|' | '!' | ',' => return err(format!("unexpected '{c}'")),
            _ => {
                let stop = |d: &char| d.is_whitespace() || "()&|=!<>,\"".contains(*d);
                let len = cs[i..].iter().take_while(|d| !stop(d)).count();
                (Tok::Word(cs[i..i + len].iter().collect()), len)
            }
        };
        out.push(tok);
        i += len;
    }
    Ok(out)
}

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone)]
enum Lit {
    Num(f64),
    Str(String),
    Re(Regex),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Check {
    Null,
    True,
    False,
    NotExists,
}

#[derive(Debug, Clone)]
enum Expr {
    /// Operands of a chain of `&&` (flat, so a long chain is not a deep tree).
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cmp(Vec<Seg>, Op, Lit),
    Is(Vec<Seg>, Check),
}

/// What a path resolves to: a JSON value, a space-delimited field, or nothing.
enum Found<'a> {
    Missing,
    Json(&'a Json),
    Text(&'a str),
}

impl Expr {
    fn eval<'a>(&self, look: &dyn Fn(&[Seg]) -> Found<'a>) -> bool {
        match self {
            Expr::And(all) => all.iter().all(|e| e.eval(look)),
            Expr::Or(any) => any.iter().any(|e| e.eval(look)),
            Expr::Is(path, check) => match (look(path), check) {
                (Found::Missing, Check::NotExists) => true,
                (Found::Json(Json::Null), Check::Null) => true,
                (Found::Json(Json::Bool(b)), Check::True) => *b,
                (Found::Json(Json::Bool(b)), Check::False) => !*b,
                _ => false,
            },
            Expr::Cmp(path, op, lit) => compare(&look(path), *op, lit),
        }
    }
}

fn compare(found: &Found<'_>, op: Op, lit: &Lit) -> bool {
    let text: String = match found {
        Found::Missing | Found::Json(Json::Null | Json::Array(_) | Json::Object(_)) => {
            return false;
        }
        Found::Json(Json::String(s)) => s.clone(),
        Found::Json(v) => v.to_string(),
        Found::Text(s) => (*s).to_string(),
    };
    match lit {
        Lit::Num(n) => {
            let v = match found {
                Found::Json(Json::Number(x)) => x.as_f64(),
                _ => text.trim().parse::<f64>().ok(),
            };
            let Some(v) = v else { return false };
            match op {
                Op::Eq => v == *n,
                Op::Ne => v != *n,
                Op::Lt => v < *n,
                Op::Le => v <= *n,
                Op::Gt => v > *n,
                Op::Ge => v >= *n,
            }
        }
        Lit::Str(p) => (op == Op::Eq) == glob(p, &text),
        Lit::Re(re) => (op == Op::Eq) == re.is_match(&text),
    }
}

/// Whole-string match where `*` matches any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

fn json_lookup<'a>(doc: &'a Json, path: &[Seg]) -> Found<'a> {
    let mut cur = doc;
    for seg in path {
        let next = match seg {
            Seg::Key(k) => cur.get(k.as_str()),
            Seg::Index(i) => cur.get(*i),
        };
        match next {
            Some(v) => cur = v,
            None => return Found::Missing,
        }
    }
    Found::Json(cur)
}

/// Deepest parenthesis nesting accepted in a pattern.
pub const MAX_NESTING: usize = 32;

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    json: bool,
    /// Open parentheses around the current position.
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn bump(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn end(&self) -> Result<(), PatternError> {
        match self.peek() {
            None => Ok(()),
            Some(t) => err(format!("unexpected {t:?}")),
        }
    }
    fn expr(&mut self) -> Result<Expr, PatternError> {
        let mut any = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            any.push(self.and()?);
        }
        Ok(match any.len() {
            1 => any.swap_remove(0),
            _ => Expr::Or(any),
        })
    }
    fn and(&mut self) -> Result<Expr, PatternError> {
        let mut all = vec![self.primary()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            all.push(self.primary()?);
        }
        Ok(match all.len() {
            1 => all.swap_remove(0),
            _ => Expr::And(all),
        })
    }
    fn primary(&mut self) -> Result<Expr, PatternError> {
        match self.bump() {
            Some(Tok::LParen) => {
                // Parsing, matching and dropping recurse once per parenthesis.
                self.depth += 1;
                if self.depth > MAX_NESTING {
                    return err(format!("parentheses nest more than {MAX_NESTING} deep"));
                }
                let e = self.expr()?;
                self.depth -= 1;
                match self.bump() {
                    Some(Tok::RParen) => Ok(e),
                    _ => err("missing ')'"),
                }
            }
            Some(Tok::Word(w)) => {
                let path = self.path(&w)?;
                match self.bump() {
                    Some(Tok::Op(op)) => Ok(Expr::Cmp(path, op, self.literal(op)?)),
                    Some(Tok::Word(k)) => {
                        let check = match (k.as_str(), self.bump()) {
                            ("IS", Some(Tok::Word(v))) if v == "NULL" => Check::Null,
                            ("IS", Some(Tok::Word(v))) if v == "TRUE" => Check::True,
                            ("IS", Some(Tok::Word(v))) if v == "FALSE" => Check::False,
                            ("NOT", Some(Tok::Word(v))) if v == "EXISTS" => Check::NotExists,
                            _ => return err(format!("unexpected '{k}' after {w}")),
                        };
                        Ok(Expr::Is(path, check))
                    }
                    _ => err(format!("expected an operator after {w}")),
                }
            }
            other => err(format!("expected a selector, found {other:?}")),
        }
    }
    fn literal(&mut self, op: Op) -> Result<Lit, PatternError> {
        let lit = match self.bump() {
            Some(Tok::Word(w)) => match w.parse::<f64>() {
                Ok(n) if n.is_finite() => Lit::Num(n),
                _ => Lit::Str(w),
            },
            Some(Tok::Quoted(s)) => Lit::Str(s),
            Some(Tok::Regex(r)) => Lit::Re(Regex::parse(&r)?),
            other => return err(format!("expected a value, found {other:?}")),
        };
        match (&lit, op) {
            (Lit::Num(_), _) | (_, Op::Eq | Op::Ne) => Ok(lit),
            _ => err("ordering comparisons need a number"),
        }
    }
    fn path(&self, w: &str) -> Result<Vec<Seg>, PatternError> {
        if !self.json {
            return Ok(vec![Seg::Key(w.to_string())]);
        }
        let Some(mut rest) = w.strip_prefix('$') else {
            return err("selector must start with $");
        };
        let mut out = Vec::new();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                let end = r.find(['.', '[']).unwrap_or(r.len());
                if end == 0 {
                    return err(format!("empty key in {w}"));
                }
                out.push(Seg::Key(r[..end].to_string()));
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let Some(close) = r.find(']') else {
                    return err(format!("unclosed [ in {w}"));
                };
                let Ok(i) = r[..close].parse::<usize>() else {
                    return err(format!("bad index in {w}"));
                };
                out.push(Seg::Index(i));
                rest = &r[close + 1..];
            } else {
                return err(format!("bad selector {w}"));
            }
        }
        Ok(out)
    }
}

// ---- space-delimited --------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Slot {
    Ellipsis,
    Field {
        name: Option<String>,
        cond: Option<Expr>,
    },
}

fn parse_slots(inner: &str) -> Result<Vec<Slot>, PatternError> {
    let mut parts = vec![String::new()];
    let mut quoted = None;
    for c in inner.chars() {
        match (c, quoted) {
            (',', None) => parts.push(String::new()),
            ('"' | '%', None) => quoted = Some(c),
            (q, Some(open)) if q == open => quoted = None,
            _ => {}
        }
        if (c != ',' || quoted.is_some())
            && let Some(p) = parts.last_mut()
        {
            p.push(c);
        }
    }
    if parts.len() == 1 && parts[0].trim().is_empty() {
        return err("empty field list");
    }
    let mut slots: Vec<Slot> = Vec::with_capacity(parts.len());
    for part in &parts {
        let slot = parse_slot(part.trim())?;
        // `..., ...` means the same as one `...` and would only multiply the work of matching.
        if !(matches!(slot, Slot::Ellipsis) && matches!(slots.last(), Some(Slot::Ellipsis))) {
            slots.push(slot);
        }
    }
    Ok(slots)
}

fn parse_slot(part: &str) -> Result<Slot, PatternError> {
    if part == "..." {
        return Ok(Slot::Ellipsis);
    }
    let toks = lex(part)?;
    match toks.as_slice() {
        [] => err("empty field"),
        [Tok::Word(w)] => Ok(Slot::Field {
            name: Some(w.clone()),
            cond: None,
        }),
        [Tok::Quoted(s)] => Ok(Slot::Field {
            name: None,
            cond: Some(Expr::Cmp(vec![], Op::Eq, Lit::Str(s.clone()))),
        }),
        _ => {
            let mut p = Parser {
                toks,
                pos: 0,
                json: false,
                depth: 0,
            };
            let cond = p.expr()?;
            p.end()?;
            let name = p.toks.iter().find_map(|t| match t {
                Tok::Word(w) => Some(w.clone()),
                _ => None,
            });
            Ok(Slot::Field {
                name,
                cond: Some(cond),
            })
        }
    }
}

/// Splits on whitespace; `"..."` and `[...]` are one field each (delimiters stripped).
fn split_fields(message: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = message.trim_start();
    while !rest.is_empty() {
        let close = match rest.as_bytes()[0] {
            b'"' => Some('"'),
            b'[' => Some(']'),
            _ => None,
        };
        let (field, after) = match close.and_then(|c| rest[1..].find(c).map(|at| (c, at))) {
            Some((_, at)) => (&rest[1..1 + at], &rest[2 + at..]),
            None => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        out.push(field);
        rest = after.trim_start();
    }
    out
}

/// Most placements of fields into slots tried per message: each `...` multiplies the ways a
/// message can be split, so a pattern of many ellipses must not stall the caller.
const MAX_ASSIGN_STEPS: usize = 100_000;

fn assign<'m>(
    slots: &[Slot],
    si: usize,
    fields: &[&'m str],
    fi: usize,
    bound: &mut Vec<&'m str>,
    budget: &mut usize,
) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    let Some(slot) = slots.get(si) else {
        return fi == fields.len() && conditions_hold(slots, bound);
    };
    match slot {
        Slot::Ellipsis => {
            (fi..=fields.len()).any(|next| assign(slots, si + 1, fields, next, bound, budget))
        }
        Slot::Field { .. } => {
            let Some(field) = fields.get(fi) else {
                return false;
            };
            bound.push(field);
            let ok = assign(slots, si + 1, fields, fi + 1, bound, budget);
            bound.pop();
            ok
        }
    }
}

fn conditions_hold(slots: &[Slot], bound: &[&str]) -> bool {
    let fields = slots.iter().filter(|s| matches!(s, Slot::Field { .. }));
    let mut names: HashMap<&str, &str> = HashMap::new();
    for (slot, value) in fields.clone().zip(bound) {
        if let Slot::Field { name: Some(n), .. } = slot {
            names.entry(n.as_str()).or_insert(value);
        }
    }
    fields.zip(bound).all(|(slot, own)| match slot {
        Slot::Field { cond: Some(c), .. } => c.eval(&|path: &[Seg]| match path {
            [] => Found::Text(own),
            [Seg::Key(k)] => names
                .get(k.as_str())
                .map_or(Found::Missing, |v| Found::Text(v)),
            _ => Found::Missing,
        }),
        _ => true,
    })
}
