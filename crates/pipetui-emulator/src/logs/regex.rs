//! The `%regex%` of filter patterns: the AWS subset (literals, `.`, `[classes]`, `\d\w\s`, `^ $`,
//! `* + ? {n,m}`, top-level `|`).

use super::filter::PatternError;

fn err<T>(detail: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError {
        detail: detail.into(),
    })
}

/// A compiled `%regex%`; matching is a search (unanchored unless `^`/`$` are used). CloudWatch
/// Logs accepts a subset of regular expressions (no groups, ASCII only, bounded repetition);
/// this checks that subset, then `regex-lite` does the matching in linear time.
#[derive(Debug, Clone)]
pub struct Regex {
    re: regex_lite::Regex,
}

/// The largest `{n,m}` bound accepted.
const MAX_REPEAT: usize = 1000;

impl Regex {
    /// Compiles the AWS regex subset; groups `(`/`)` and multi-byte characters are rejected.
    pub fn parse(src: &str) -> Result<Regex, PatternError> {
        if !src.is_ascii() {
            return err("multi-byte characters are not supported in regex");
        }
        let bytes = src.as_bytes();
        let mut i = 0;
        let mut in_class = false;
        while let Some(&c) = bytes.get(i) {
            i += 1;
            match c {
                b'\\' => {
                    if bytes.get(i).is_none() {
                        return err("trailing backslash");
                    }
                    i += 1;
                }
                b'[' if !in_class => in_class = true,
                b']' if in_class => in_class = false,
                b'(' | b')' if !in_class => {
                    return err("parentheses are not supported in regex");
                }
                b'{' if !in_class => {
                    let Some(close) = bytes[i..].iter().position(|&d| d == b'}') else {
                        return err("unclosed '{'");
                    };
                    let body = &src[i..i + close];
                    let too_big = body
                        .split(',')
                        .filter_map(|n| n.trim().parse::<usize>().ok())
                        .any(|n| n > MAX_REPEAT);
                    if too_big {
                        return err("repetition count too large");
                    }
                }
                _ => {}
            }
        }
        // `(?m)` is off: `^` and `$` are the message's ends; `.` never matches a newline.
        let re = regex_lite::RegexBuilder::new(src)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| PatternError {
                detail: format!("bad regex: {e}"),
            })?;
        Ok(Regex { re })
    }

    /// Whether the regex matches anywhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.re.is_match(text)
    }
}
