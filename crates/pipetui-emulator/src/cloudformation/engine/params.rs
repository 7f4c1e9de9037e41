//! Parameter values: given ones checked against the template's declarations, defaults filled in.

use serde_json::Value;

use super::template::{ParameterDecl, Template};
use super::{EngineError, pattern};

/// What DescribeStacks shows instead of a NoEcho value.
pub const MASK: &str = "****";

#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedParam {
    pub key: String,
    /// The value as given (or defaulted): list types keep their comma-joined form.
    pub value: String,
    pub param_type: String,
    pub no_echo: bool,
    pub from_default: bool,
}

impl ResolvedParam {
    /// The value DescribeStacks reports: `****` for NoEcho parameters.
    pub fn shown_value(&self) -> &str {
        if self.no_echo { MASK } else { &self.value }
    }

    /// What `Ref` gives: a list for list types, a string otherwise (Numbers stay strings, as in AWS).
    pub fn as_value(&self) -> Value {
        match list_kind(&self.param_type) {
            Some(trim) => Value::Array(split_list(&self.value, trim)),
            None => Value::String(self.value.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResolvedParams {
    pub params: Vec<ResolvedParam>,
}

impl ResolvedParams {
    pub fn get(&self, key: &str) -> Option<&ResolvedParam> {
        self.params.iter().find(|p| p.key == key)
    }

    /// The `Ref` value of a parameter.
    pub fn value(&self, key: &str) -> Option<Value> {
        self.get(key).map(ResolvedParam::as_value)
    }

    /// `(ParameterKey, ParameterValue)` as DescribeStacks lists them, NoEcho masked.
    pub fn describe(&self) -> Vec<(String, String)> {
        self.params
            .iter()
            .map(|p| (p.key.clone(), p.shown_value().to_string()))
            .collect()
    }
}

/// `Some(trim)` for list types; typed lists trim their members, `CommaDelimitedList` keeps them.
fn list_kind(param_type: &str) -> Option<bool> {
    if param_type == "CommaDelimitedList" {
        Some(false)
    } else if param_type.starts_with("List<") {
        Some(true)
    } else {
        None
    }
}

fn split_list(value: &str, trim: bool) -> Vec<Value> {
    if value.is_empty() {
        return Vec::new();
    }
    value
        .split(',')
        .map(|s| Value::String(if trim { s.trim() } else { s }.to_string()))
        .collect()
}

/// Whether the template accepts this parameter type (AWS-specific types are taken as strings).
pub(crate) fn known_type(t: &str) -> bool {
    matches!(
        t,
        "String" | "Number" | "List<Number>" | "CommaDelimitedList"
    ) || t.starts_with("AWS::")
        || (t.starts_with("List<AWS::") && t.ends_with('>'))
}

/// Checks `given` against the template and fills in defaults. UsePreviousValue is the caller's:
/// it passes the previous value as given.
pub fn resolve_parameters(
    template: &Template,
    given: &[(String, String)],
) -> Result<ResolvedParams, EngineError> {
    let unknown: Vec<String> = given
        .iter()
        .filter(|(k, _)| template.parameter(k).is_none())
        .map(|(k, _)| k.clone())
        .collect();
    if !unknown.is_empty() {
        return Err(EngineError::validation(format!(
            "Parameters: [{}] do not exist in the template",
            unknown.join(", ")
        )));
    }
    let mut params = Vec::new();
    let mut missing = Vec::new();
    for (key, decl) in &template.parameters {
        // The last of repeated keys wins, as in the query protocol's member list.
        let value = given.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v);
        let (value, from_default) = match (value, &decl.default) {
            (Some(v), _) => (v.clone(), false),
            (None, Some(d)) => (d.clone(), true),
            (None, None) => {
                missing.push(key.clone());
                continue;
            }
        };
        params.push(ResolvedParam {
            key: key.clone(),
            value,
            param_type: decl.param_type.clone(),
            no_echo: decl.no_echo,
            from_default,
        });
    }
    if !missing.is_empty() {
        return Err(EngineError::validation(format!(
            "Parameters: [{}] must have values",
            missing.join(", ")
        )));
    }
    for p in &params {
        if let Some(decl) = template.parameter(&p.key) {
            check(&p.key, &p.value, decl)?;
        }
    }
    Ok(ResolvedParams { params })
}

fn check(key: &str, value: &str, decl: &ParameterDecl) -> Result<(), EngineError> {
    // With a ConstraintDescription AWS reports it instead of the specific constraint.
    let fail = |what: String| {
        Err(EngineError::validation(
            match &decl.constraint_description {
                Some(c) => format!("Parameter '{key}' failed to satisfy constraint: {c}"),
                None => what,
            },
        ))
    };
    let members: Vec<String> = match list_kind(&decl.param_type) {
        Some(trim) => split_list(value, trim)
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        None => vec![value.to_string()],
    };
    let numeric = decl.param_type == "Number" || decl.param_type == "List<Number>";
    for m in &members {
        let number = m.trim().parse::<f64>().ok();
        if numeric && number.is_none() {
            return Err(EngineError::validation(format!(
                "Parameter '{key}' must be a number."
            )));
        }
        if !decl.allowed_values.is_empty() && !decl.allowed_values.iter().any(|a| a == m) {
            return fail(format!("Parameter '{key}' must be one of AllowedValues"));
        }
        if let Some(p) = &decl.allowed_pattern {
            let matched = pattern::full_match(p, m).map_err(|e| {
                EngineError::validation(format!(
                    "Parameter '{key}' has an AllowedPattern the emulator cannot read: {e}"
                ))
            })?;
            if !matched {
                return fail(format!("Parameter '{key}' must match pattern {p}"));
            }
        }
        let len = m.chars().count() as u64;
        if decl.min_length.is_some_and(|min| len < min) {
            let min = decl.min_length.unwrap_or_default();
            return fail(format!(
                "Parameter '{key}' must contain at least {min} characters"
            ));
        }
        if decl.max_length.is_some_and(|max| len > max) {
            let max = decl.max_length.unwrap_or_default();
            return fail(format!(
                "Parameter '{key}' must contain at most {max} characters"
            ));
        }
        if let (Some(n), Some(min)) = (number, decl.min_value)
            && n < min
        {
            return fail(format!(
                "Parameter '{key}' must be a number not less than {min}"
            ));
        }
        if let (Some(n), Some(max)) = (number, decl.max_value)
            && n > max
        {
            return fail(format!(
                "Parameter '{key}' must be a number not greater than {max}"
            ));
        }
    }
    Ok(())
}
