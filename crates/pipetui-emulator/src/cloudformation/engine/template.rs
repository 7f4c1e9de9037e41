//! The typed template: sections pulled out of the parsed body, in source order.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::yaml::{Parsed, parse_body};
use super::{EngineError, validate};

/// Top-level sections CloudFormation accepts.
const SECTIONS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
    "Hooks",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub format_version: Option<String>,
    pub description: Option<String>,
    pub parameters: Vec<(String, ParameterDecl)>,
    /// Map name → top-level key → second-level key → value.
    pub mappings: Map<String, Value>,
    /// Condition name → expression, in source order.
    pub conditions: Vec<(String, Value)>,
    pub resources: Vec<(String, ResourceDecl)>,
    pub outputs: Vec<(String, OutputDecl)>,
    /// The whole body in long form, e.g. for GetTemplate's processed view.
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParameterDecl {
    /// `String`, `Number`, `List<Number>`, `CommaDelimitedList`, `AWS::...` or `List<AWS::...>`.
    pub param_type: String,
    pub description: Option<String>,
    pub default: Option<String>,
    pub allowed_values: Vec<String>,
    pub allowed_pattern: Option<String>,
    pub no_echo: bool,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub constraint_description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDecl {
    pub resource_type: String,
    /// Unevaluated; an empty object when the template has none.
    pub properties: Value,
    pub depends_on: Vec<String>,
    pub condition: Option<String>,
    pub deletion_policy: Option<String>,
    pub update_replace_policy: Option<String>,
    pub metadata: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutputDecl {
    pub value: Value,
    pub description: Option<String>,
    /// Unevaluated `Export.Name`.
    pub export_name: Option<Value>,
    pub condition: Option<String>,
}

impl Template {
    pub fn resource(&self, logical_id: &str) -> Option<&ResourceDecl> {
        self.resources
            .iter()
            .find(|(k, _)| k == logical_id)
            .map(|(_, r)| r)
    }

    pub fn parameter(&self, name: &str) -> Option<&ParameterDecl> {
        self.parameters
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, p)| p)
    }

    pub fn condition(&self, name: &str) -> Option<&Value> {
        self.conditions
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, c)| c)
    }
}

/// Parses and validates a JSON or YAML body as CreateStack/ValidateTemplate would.
pub fn parse_template(body: &str) -> Result<Template, EngineError> {
    let Parsed { value, order } = parse_body(body)?;
    let Value::Object(top) = &value else {
        // AWS's words for a body that parses but is not a mapping.
        return Err(EngineError::format("unsupported structure."));
    };
    let unknown: Vec<&str> = top
        .keys()
        .map(String::as_str)
        .filter(|k| !SECTIONS.contains(k))
        .collect();
    if !unknown.is_empty() {
        return Err(EngineError::format(format!(
            "Invalid template property or properties [{}]",
            unknown.join(", ")
        )));
    }
    if let Some(t) = top.get("Transform") {
        return Err(EngineError::validation(format!(
            "Transform {} is not supported by the emulator",
            scalar_text(t).unwrap_or_else(|| t.to_string())
        )));
    }
    let format_version = match top.get("AWSTemplateFormatVersion") {
        None => None,
        Some(v) => match scalar_text(v).as_deref() {
            Some("2010-09-09") => Some("2010-09-09".to_string()),
            _ => {
                return Err(EngineError::format(format!(
                    "Unsupported template version: {}",
                    scalar_text(v).unwrap_or_else(|| v.to_string())
                )));
            }
        },
    };
    let section = |name: &str| -> Result<Vec<(String, Value)>, EngineError> {
        match top.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Object(m)) => Ok(ordered(m, order.get(name))),
            Some(_) => Err(EngineError::format(format!(
                "{name} section must be a JSON object"
            ))),
        }
    };
    let resources = section("Resources")?;
    if resources.is_empty() {
        return Err(EngineError::format(
            "At least one Resources member must be defined.",
        ));
    }
    let template = Template {
        format_version,
        description: top.get("Description").and_then(scalar_text),
        parameters: section("Parameters")?
            .into_iter()
            .map(|(k, v)| parameter(&k, &v).map(|p| (k, p)))
            .collect::<Result<_, _>>()?,
        mappings: match top.get("Mappings") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        },
        conditions: section("Conditions")?,
        resources: resources
            .into_iter()
            .map(|(k, v)| resource(&k, &v).map(|r| (k, r)))
            .collect::<Result<_, _>>()?,
        outputs: section("Outputs")?
            .into_iter()
            .map(|(k, v)| output(&k, &v).map(|o| (k, o)))
            .collect::<Result<_, _>>()?,
        body: value.clone(),
    };
    validate::validate(&template)?;
    Ok(template)
}

/// The entries of `m` in source order; keys the order pass missed go last, sorted.
fn ordered(m: &Map<String, Value>, order: Option<&Vec<String>>) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = Vec::with_capacity(m.len());
    // A set, not a scan of `out`: a section may have thousands of keys.
    let mut placed: HashSet<&str> = HashSet::with_capacity(m.len());
    for k in order.into_iter().flatten() {
        if let Some(v) = m.get(k)
            && placed.insert(k.as_str())
        {
            out.push((k.clone(), v.clone()));
        }
    }
    for (k, v) in m {
        if placed.insert(k.as_str()) {
            out.push((k.clone(), v.clone()));
        }
    }
    out
}

/// Strings, numbers and booleans as CloudFormation reads them when it wants text.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parameter(name: &str, v: &Value) -> Result<ParameterDecl, EngineError> {
    let Value::Object(m) = v else {
        return Err(EngineError::format(format!(
            "Invalid parameter {name}: must be a JSON object"
        )));
    };
    let Some(param_type) = m.get("Type").and_then(scalar_text) else {
        return Err(EngineError::format(format!(
            "[/Parameters/{name}] Every Parameters object must contain a Type member."
        )));
    };
    let number = |k: &str| m.get(k).and_then(|v| scalar_text(v)?.parse::<f64>().ok());
    let count = |k: &str| m.get(k).and_then(|v| scalar_text(v)?.parse::<u64>().ok());
    Ok(ParameterDecl {
        param_type,
        description: m.get("Description").and_then(scalar_text),
        default: m.get("Default").and_then(|d| match d {
            // A list default of a list type is written as its comma-joined form.
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(scalar_text)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            other => scalar_text(other),
        }),
        allowed_values: match m.get("AllowedValues") {
            Some(Value::Array(items)) => items.iter().filter_map(scalar_text).collect(),
            _ => Vec::new(),
        },
        allowed_pattern: m.get("AllowedPattern").and_then(scalar_text),
        no_echo: m
            .get("NoEcho")
            .and_then(scalar_text)
            .is_some_and(|s| s.eq_ignore_ascii_case("true")),
        min_length: count("MinLength"),
        max_length: count("MaxLength"),
        min_value: number("MinValue"),
        max_value: number("MaxValue"),
        constraint_description: m.get("ConstraintDescription").and_then(scalar_text),
    })
}

fn resource(name: &str, v: &Value) -> Result<ResourceDecl, EngineError> {
    let Value::Object(m) = v else {
        return Err(EngineError::format(format!(
            "[/Resources/{name}] Every Resources object must contain a Type member."
        )));
    };
    let Some(resource_type) = m.get("Type").and_then(Value::as_str) else {
        return Err(EngineError::format(format!(
            "[/Resources/{name}] Every Resources object must contain a Type member."
        )));
    };
    let depends_on = match m.get("DependsOn") {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str().map(str::to_string).ok_or_else(|| {
                    EngineError::format(format!(
                        "[/Resources/{name}/DependsOn] DependsOn must be a string or list of strings"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(EngineError::format(format!(
                "[/Resources/{name}/DependsOn] DependsOn must be a string or list of strings"
            )));
        }
    };
    let properties = match m.get("Properties") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(p @ Value::Object(_)) => p.clone(),
        Some(_) => {
            return Err(EngineError::format(format!(
                "[/Resources/{name}/Properties] Properties must be a JSON object"
            )));
        }
    };
    Ok(ResourceDecl {
        resource_type: resource_type.to_string(),
        properties,
        depends_on,
        condition: m.get("Condition").and_then(scalar_text),
        deletion_policy: m.get("DeletionPolicy").and_then(scalar_text),
        update_replace_policy: m.get("UpdateReplacePolicy").and_then(scalar_text),
        metadata: m.get("Metadata").cloned(),
    })
}

fn output(name: &str, v: &Value) -> Result<OutputDecl, EngineError> {
    let value = match v {
        Value::Object(m) => m.get("Value"),
        _ => None,
    };
    let Some(value) = value else {
        return Err(EngineError::format(format!(
            "Every Outputs member must contain a Value object, the Outputs member {name} is missing one"
        )));
    };
    let export_name = v
        .get("Export")
        .map(|e| e.get("Name").cloned().ok_or(()))
        .transpose()
        .map_err(|()| {
            EngineError::format(format!(
                "[/Outputs/{name}/Export] Export must contain a Name"
            ))
        })?;
    Ok(OutputDecl {
        value: value.clone(),
        description: v.get("Description").and_then(scalar_text),
        export_name,
        condition: v.get("Condition").and_then(scalar_text),
    })
}
