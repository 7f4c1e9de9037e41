//! Template bodies (JSON or YAML) → one `serde_json::Value` in long form, plus the source order
//! of each top-level section's keys (serde_json's map is sorted, and resource order matters for
//! deterministic creation order).

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_yaml_ng::Value as Yaml;

use super::EngineError;

/// A parsed body: the value and, per top-level section, its keys in source order.
pub(crate) struct Parsed {
    pub value: Value,
    pub order: HashMap<String, Vec<String>>,
}

/// Short-form tags whose long form is `Fn::<Tag>`.
const FN_TAGS: &[&str] = &[
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAZs",
    "GetAtt",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "If",
    "Equals",
    "And",
    "Or",
    "Not",
    "Length",
    "ToJsonString",
];

/// The largest template AWS accepts at all (1 MB, by URL; an inline TemplateBody is limited to
/// 51,200 bytes by the service before it gets here).
pub const MAX_TEMPLATE_BYTES: usize = 1024 * 1024;

/// Deepest nesting of mappings and lists a template may have. Every walker over a template
/// (validation, references, evaluation) recurses once per level; real templates stay near 20.
pub const MAX_TEMPLATE_DEPTH: usize = 64;

pub(crate) fn parse_body(body: &str) -> Result<Parsed, EngineError> {
    if body.len() > MAX_TEMPLATE_BYTES {
        return Err(EngineError::validation(format!(
            "Template may not exceed {MAX_TEMPLATE_BYTES} bytes in size."
        )));
    }
    // AWS tries JSON first, then YAML (a YAML flow mapping also starts with `{`); the JSON
    // error is the one worth reporting for a body that looks like JSON.
    let parsed = if body.trim_start().starts_with('{') {
        parse_json(body).or_else(|json_err| parse_yaml(body).map_err(|_| json_err))
    } else {
        parse_yaml(body)
    }?;
    if depth(&parsed.value) > MAX_TEMPLATE_DEPTH {
        return Err(too_deep());
    }
    Ok(parsed)
}

/// Whether another YAML input (a buildspec, an AppSpec file) nests deeper than any real one;
/// checked before libyaml builds it, for the same reason as templates.
pub(crate) fn yaml_too_deep(text: &str) -> bool {
    yaml_depth_estimate(text) > 2 * MAX_TEMPLATE_DEPTH
}

fn too_deep() -> EngineError {
    EngineError::format(format!(
        "the template nests mappings and lists more than {MAX_TEMPLATE_DEPTH} levels deep"
    ))
}

/// Nesting depth of a value, without recursion (the value may be as deep as a parser allows).
fn depth(v: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(v, 0usize)];
    while let Some((v, d)) = stack.pop() {
        deepest = deepest.max(d);
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            Value::Object(m) => stack.extend(m.values().map(|i| (i, d + 1))),
            _ => {}
        }
    }
    deepest
}

/// A cheap upper estimate of a YAML document's nesting: block indentation levels (and `- - x`
/// sequences on one line) plus open flow brackets. libyaml builds every level before the
/// deserialiser's own limit can refuse it, which took tens of seconds for 100,000 levels, so
/// deep documents are refused before libyaml sees them. Quotes are tracked per line only.
pub(crate) fn yaml_depth_estimate(body: &str) -> usize {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut deepest = 0usize;
    for line in body.lines() {
        let content = line.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let mut indent = line.len() - content.len();
        if flow == 0 {
            while indents.last().is_some_and(|&top| top >= indent) {
                indents.pop();
            }
            indents.push(indent);
            // `- - - x` opens one sequence per dash.
            let mut rest = content;
            while let Some(r) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("-\t")) {
                indent += 2;
                indents.push(indent);
                rest = r.trim_start_matches([' ', '\t']);
            }
        }
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        for c in content.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '#') if prev == ' ' || prev == '\t' => break,
                (None, '"' | '\'') if matches!(prev, ' ' | '\t' | '[' | '{' | ',' | ':') => {
                    quote = Some(c)
                }
                (None, '[' | '{') => flow += 1,
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
            deepest = deepest.max(indents.len() + flow);
            prev = c;
        }
        deepest = deepest.max(indents.len() + flow);
    }
    deepest
}

fn parse_json(body: &str) -> Result<Parsed, EngineError> {
    let value: Value = serde_json::from_str(body).map_err(|e| {
        EngineError::format(format!(
            "JSON not well-formed. (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    // Parsing succeeded once, so the second pass over the same text only fails on non-objects.
    let order = serde_json::from_str::<TopOrder>(body)
        .map(|t| t.0)
        .unwrap_or_default();
    Ok(Parsed { value, order })
}

fn parse_yaml(body: &str) -> Result<Parsed, EngineError> {
    // Twice the template limit: the estimate may count a bracket in a plain scalar or a block
    // scalar's deeper indentation, and the exact check follows the parse.
    if yaml_depth_estimate(body) > 2 * MAX_TEMPLATE_DEPTH {
        return Err(too_deep());
    }
    let yaml: Yaml = serde_yaml_ng::from_str(body).map_err(|e| match e.location() {
        Some(l) => EngineError::format(format!(
            "YAML not well-formed. (line {}, column {})",
            l.line(),
            l.column()
        )),
        None => EngineError::format(format!("YAML not well-formed. {e}")),
    })?;
    let mut order = HashMap::new();
    if let Yaml::Mapping(top) = &yaml {
        for (k, v) in top {
            if let (Some(section), Yaml::Mapping(inner)) = (k.as_str(), v) {
                let keys = inner.keys().map(key_string).collect();
                order.insert(section.to_string(), keys);
            }
        }
    }
    Ok(Parsed {
        value: convert(yaml)?,
        order,
    })
}

fn key_string(k: &Yaml) -> String {
    match k {
        Yaml::String(s) => s.clone(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        Yaml::Null => "null".into(),
        other => format!("{other:?}"),
    }
}

/// YAML → JSON, expanding CloudFormation short-form tags to their long form.
fn convert(y: Yaml) -> Result<Value, EngineError> {
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => number(&n),
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(convert)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Yaml::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(key_string(&k), convert(v)?);
            }
            Value::Object(out)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = convert(tagged.value)?;
            long_form(name, inner)?
        }
    })
}

fn number(n: &serde_yaml_ng::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::Number(i.into())
    } else if let Some(u) = n.as_u64() {
        Value::Number(u.into())
    } else {
        // NaN and infinities have no JSON form; CloudFormation would treat them as strings.
        n.as_f64()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(n.to_string()))
    }
}

fn long_form(tag: &str, inner: Value) -> Result<Value, EngineError> {
    let mut m = Map::new();
    match tag {
        "Ref" | "Condition" => {
            m.insert(tag.into(), inner);
        }
        "GetAtt" => {
            // `!GetAtt a.b.c` is resource `a`, attribute `b.c` (nested attributes keep their dots).
            let v = match inner {
                Value::String(s) => match s.split_once('.') {
                    Some((res, attr)) => Value::Array(vec![res.into(), attr.into()]),
                    None => Value::String(s),
                },
                other => other,
            };
            m.insert("Fn::GetAtt".into(), v);
        }
        "GetAZs" => {
            // `!GetAZs` with nothing after it means the stack's region, like `!GetAZs ''`.
            let v = if inner.is_null() {
                Value::String(String::new())
            } else {
                inner
            };
            m.insert("Fn::GetAZs".into(), v);
        }
        t if FN_TAGS.contains(&t) => {
            m.insert(format!("Fn::{t}"), inner);
        }
        other => {
            return Err(EngineError::format(format!(
                "YAML not well-formed. Unsupported tag !{other}"
            )));
        }
    }
    Ok(Value::Object(m))
}

/// Top-level JSON object → section name → its keys in source order.
struct TopOrder(HashMap<String, Vec<String>>);

impl<'de> Deserialize<'de> for TopOrder {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopOrder;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopOrder, A::Error> {
                let mut out = HashMap::new();
                while let Some(k) = map.next_key::<String>()? {
                    let keys: SectionKeys = map.next_value()?;
                    out.insert(k, keys.0);
                }
                Ok(TopOrder(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// The keys of one section if it is an object; any other value gives none.
struct SectionKeys(Vec<String>);

impl<'de> Deserialize<'de> for SectionKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SectionKeys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SectionKeys, A::Error> {
                let mut keys: Vec<String> = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    // A duplicate key keeps its first position, its last value (serde_json's rule).
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                Ok(SectionKeys(keys))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SectionKeys, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(SectionKeys(Vec::new()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<SectionKeys, E> {
                Ok(SectionKeys(Vec::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<SectionKeys, E> {
                Ok(SectionKeys(Vec::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<SectionKeys, E> {
                Ok(SectionKeys(Vec::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<SectionKeys, E> {
                Ok(SectionKeys(Vec::new()))
            }
            fn visit_str<E>(self, _: &str) -> Result<SectionKeys, E> {
                Ok(SectionKeys(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<SectionKeys, E> {
                Ok(SectionKeys(Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_tags_become_long_form() {
        let p = parse_body(
            "A: !GetAtt Db.Endpoint.Address\nB: !Ref X\nC: !If [c, !Sub 'x${Y}', !Ref AWS::NoValue]\nD: !GetAZs\n",
        )
        .map_err(|e| e.message);
        let v = p.map(|p| p.value);
        assert_eq!(
            v,
            Ok(json!({
                "A": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
                "B": {"Ref": "X"},
                "C": {"Fn::If": ["c", {"Fn::Sub": "x${Y}"}, {"Ref": "AWS::NoValue"}]},
                "D": {"Fn::GetAZs": ""}
            }))
        );
    }

    #[test]
    fn json_keeps_source_order() {
        let p = parse_body(r#"{"Resources": {"Z": {}, "A": {}, "M": {}}}"#);
        let order = p.map(|p| p.order.get("Resources").cloned().unwrap_or_default());
        assert_eq!(
            order.map_err(|e| e.message),
            Ok(vec!["Z".into(), "A".into(), "M".into()])
        );
    }

    #[test]
    fn malformed_bodies_report_a_location() {
        let e = parse_body("{\"a\": [}").err().map(|e| e.message);
        assert!(e.is_some_and(|m| m.starts_with("Template format error: JSON not well-formed.")));
        let e = parse_body("a: [1, 2\n").err().map(|e| e.message);
        assert!(e.is_some_and(|m| m.starts_with("Template format error: YAML not well-formed.")));
        let e = parse_body("a: !Bogus x\n").err().map(|e| e.message);
        assert!(e.is_some_and(|m| m.contains("!Bogus")));
    }
}
