//! `AllowedPattern` matching with Java `matches()` semantics, as CloudFormation uses: the whole
//! value must match. `regex-lite` does the matching (linear time, so a hostile pattern cannot
//! hang the emulator); the pattern is wrapped in an anchored group to ask for a whole match.

/// Patterns longer than this are refused rather than compiled (AWS caps a template at 1 MB; a
/// parameter's pattern has no business approaching that).
const MAX_PATTERN: usize = 4096;

/// Whether `value` matches `pattern` entirely; `Err` for a pattern the engine cannot read.
pub(crate) fn full_match(pattern: &str, value: &str) -> Result<bool, String> {
    if pattern.len() > MAX_PATTERN {
        return Err(format!("pattern longer than {MAX_PATTERN} bytes"));
    }
    let re = regex_lite::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(1 << 20)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(re.is_match(value))
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
