//! The `Fn::Sub` string language, shared by evaluation and dependency discovery.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    Text(String),
    /// `${Name}`, `${Res.Attr}` or `${AWS::Region}`, trimmed.
    Var(String),
}

/// Splits a Sub string; `${!X}` is the literal `${X}` and an unclosed `${` is plain text.
pub(crate) fn parse(s: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        text.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            text.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let inner = &after[..end];
        if let Some(literal) = inner.strip_prefix('!') {
            text.push_str("${");
            text.push_str(literal);
            text.push('}');
        } else {
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(Part::Var(inner.trim().to_string()));
        }
        rest = &after[end + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    parts
}

/// The variable names a Sub string uses.
pub(crate) fn variables(s: &str) -> Vec<String> {
    parse(s)
        .into_iter()
        .filter_map(|p| match p {
            Part::Var(v) => Some(v),
            Part::Text(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_variables_and_unclosed() {
        assert_eq!(
            parse("a-${X}-${!Lit}-${ B.Arn }${"),
            vec![
                Part::Text("a-".into()),
                Part::Var("X".into()),
                Part::Text("-${Lit}-".into()),
                Part::Var("B.Arn".into()),
                Part::Text("${".into()),
            ]
        );
        assert_eq!(variables("${AWS::Region}/${R}"), vec!["AWS::Region", "R"]);
    }
}
