//! Evaluation of intrinsic functions against parameters, conditions and created resources.

use serde_json::{Map, Value};

use super::conditions::Conditions;
use super::params::ResolvedParams;
use super::template::{ResourceDecl, Template, scalar_text};
use super::{Context, EngineError, encode, sub};

/// How evaluation sees resources the service has already created.
pub trait ResourceLookup {
    /// What `Ref` gives; `None` if the resource does not exist (yet).
    fn physical_id(&self, logical: &str) -> Option<String>;
    /// What `Fn::GetAtt` gives; `None` if the resource or attribute does not exist.
    fn attribute(&self, logical: &str, attr: &str) -> Option<Value>;
}

/// No resources at all: for Conditions, parameters-only evaluation and tests.
pub struct NoResources;

impl ResourceLookup for NoResources {
    fn physical_id(&self, _: &str) -> Option<String> {
        None
    }
    fn attribute(&self, _: &str, _: &str) -> Option<Value> {
        None
    }
}

/// Everything an intrinsic can refer to.
pub struct Scope<'a> {
    pub template: &'a Template,
    pub params: &'a ResolvedParams,
    pub ctx: &'a Context,
    pub conditions: &'a Conditions,
    pub resources: &'a dyn ResourceLookup,
}

/// Evaluates every intrinsic in `value`. `AWS::NoValue` removes the property or list item that
/// holds it; a `value` that is itself NoValue gives `Null`.
pub fn evaluate(value: &Value, scope: &Scope<'_>) -> Result<Value, EngineError> {
    Ok(eval(value, scope)?.unwrap_or(Value::Null))
}

/// A resource's properties, evaluated: always an object.
pub fn evaluate_properties(
    resource: &ResourceDecl,
    scope: &Scope<'_>,
) -> Result<Value, EngineError> {
    match eval(&resource.properties, scope)? {
        Some(v @ Value::Object(_)) => Ok(v),
        _ => Ok(Value::Object(Map::new())),
    }
}

/// The function name if `m` is an intrinsic call (`{"Ref": ..}`, `{"Fn::X": ..}`, `{"Condition": "c"}`).
pub(crate) fn intrinsic_name(m: &Map<String, Value>) -> Option<&str> {
    if m.len() != 1 {
        return None;
    }
    let (k, v) = m.iter().next()?;
    // IAM policy `Condition` blocks are objects; only a string names a template condition.
    let is_fn = k == "Ref" || k.starts_with("Fn::") || (k == "Condition" && v.is_string());
    is_fn.then_some(k.as_str())
}

/// `None` is AWS::NoValue.
pub(crate) fn eval(value: &Value, scope: &Scope<'_>) -> Result<Option<Value>, EngineError> {
    match value {
        Value::Object(m) => {
            if let (Some(name), Some(arg)) = (intrinsic_name(m), m.values().next()) {
                return call(name, arg, scope);
            }
            let mut out = Map::new();
            for (k, v) in m {
                if let Some(v) = eval(v, scope)? {
                    out.insert(k.clone(), v);
                }
            }
            Ok(Some(Value::Object(out)))
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                if let Some(v) = eval(i, scope)? {
                    out.push(v);
                }
            }
            Ok(Some(Value::Array(out)))
        }
        other => Ok(Some(other.clone())),
    }
}

fn call(name: &str, arg: &Value, scope: &Scope<'_>) -> Result<Option<Value>, EngineError> {
    let v = match name {
        "Ref" => {
            let target = text(arg, scope, "Ref")?;
            return reference(&target, scope);
        }
        "Condition" => Value::Bool(condition(&text(arg, scope, "Condition")?, scope)?),
        "Fn::GetAtt" => get_att(arg, scope)?,
        "Fn::Sub" => Value::String(substitute(arg, scope)?),
        "Fn::Join" => join(arg, scope)?,
        "Fn::Select" => return select(arg, scope),
        "Fn::Split" => split(arg, scope)?,
        "Fn::If" => return if_(arg, scope),
        "Fn::FindInMap" => find_in_map(arg, scope)?,
        "Fn::GetAZs" => {
            let region = text(arg, scope, "Fn::GetAZs")?;
            let region = if region.is_empty() {
                scope.ctx.region.clone()
            } else {
                region
            };
            Value::Array(
                ["a", "b", "c"]
                    .map(|z| format!("{region}{z}").into())
                    .to_vec(),
            )
        }
        "Fn::ImportValue" => {
            let export = text(arg, scope, "Fn::ImportValue")?;
            match scope.ctx.exports.get(&export) {
                Some(v) => Value::String(v.clone()),
                None => {
                    return Err(EngineError::validation(format!(
                        "No export named {export} found"
                    )));
                }
            }
        }
        "Fn::Base64" => Value::String(encode::base64(text(arg, scope, "Fn::Base64")?.as_bytes())),
        "Fn::Cidr" => encode::cidr(&args(arg, scope, "Fn::Cidr", 3)?)?,
        "Fn::Equals" => {
            let a = args(arg, scope, "Fn::Equals", 2)?;
            Value::Bool(loose_text(&a[0]) == loose_text(&a[1]))
        }
        "Fn::And" | "Fn::Or" => {
            let items = match arg {
                Value::Array(items) if (2..=10).contains(&items.len()) => items,
                _ => {
                    return Err(EngineError::template(format!(
                        "{name} requires a list of 2 to 10 conditions"
                    )));
                }
            };
            let mut bools = Vec::with_capacity(items.len());
            for i in items {
                bools.push(boolean(i, scope, name)?);
            }
            Value::Bool(if name == "Fn::And" {
                bools.iter().all(|b| *b)
            } else {
                bools.iter().any(|b| *b)
            })
        }
        "Fn::Not" => match arg {
            Value::Array(items) if items.len() == 1 => {
                Value::Bool(!boolean(&items[0], scope, name)?)
            }
            _ => {
                return Err(EngineError::template(
                    "Fn::Not requires a list of 1 condition",
                ));
            }
        },
        other => {
            return Err(EngineError::format(format!(
                "Encountered unsupported function: {other} Supported functions are: [Fn::Base64, \
                 Fn::GetAtt, Fn::GetAZs, Fn::ImportValue, Fn::Join, Fn::Split, Fn::FindInMap, \
                 Fn::Select, Ref, Fn::Equals, Fn::If, Fn::Not, Condition, Fn::And, Fn::Or, \
                 Fn::Sub, Fn::Cidr]"
            )));
        }
    };
    Ok(Some(v))
}

/// Scalars as text, for comparisons and joins: `1`, `"1"` and `true`/`"true"` compare equal.
fn loose_text(v: &Value) -> String {
    scalar_text(v).unwrap_or_else(|| v.to_string())
}

/// Evaluates `arg` and requires a string (numbers and booleans are accepted as text).
fn text(arg: &Value, scope: &Scope<'_>, func: &str) -> Result<String, EngineError> {
    let v = eval(arg, scope)?.unwrap_or(Value::Null);
    scalar_text(&v)
        .ok_or_else(|| EngineError::template(format!("{func} requires a string argument, got {v}")))
}

fn boolean(arg: &Value, scope: &Scope<'_>, func: &str) -> Result<bool, EngineError> {
    match eval(arg, scope)? {
        Some(Value::Bool(b)) => Ok(b),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
        _ => Err(EngineError::template(format!(
            "{func} elements must be conditions (Fn::Equals, Fn::Not, Condition, ...)"
        ))),
    }
}

/// A fixed-length argument list, each evaluated.
fn args(arg: &Value, scope: &Scope<'_>, func: &str, n: usize) -> Result<Vec<Value>, EngineError> {
    match arg {
        Value::Array(items) if items.len() == n => items
            .iter()
            .map(|i| Ok(eval(i, scope)?.unwrap_or(Value::Null)))
            .collect(),
        _ => Err(EngineError::template(format!(
            "every {func} object requires {n} parameters"
        ))),
    }
}

pub(crate) fn condition(name: &str, scope: &Scope<'_>) -> Result<bool, EngineError> {
    scope.conditions.get(name).ok_or_else(|| {
        EngineError::format(format!(
            "Unresolved dependencies [{name}]. Cannot reference resources in the Conditions block of the template"
        ))
    })
}

fn pseudo(name: &str, ctx: &Context) -> Option<Option<Value>> {
    let s = |v: &str| Some(Some(Value::String(v.to_string())));
    match name {
        "AWS::AccountId" => s(&ctx.account_id),
        "AWS::Region" => s(&ctx.region),
        "AWS::StackName" => s(&ctx.stack_name),
        "AWS::StackId" => s(&ctx.stack_id),
        "AWS::Partition" => s(ctx.partition()),
        "AWS::URLSuffix" => s(ctx.url_suffix()),
        "AWS::NotificationARNs" => Some(Some(Value::Array(
            ctx.notification_arns
                .iter()
                .cloned()
                .map(Value::String)
                .collect(),
        ))),
        "AWS::NoValue" => Some(None),
        _ => None,
    }
}

/// `Ref`: pseudo parameter, parameter, or resource (its physical id).
fn reference(target: &str, scope: &Scope<'_>) -> Result<Option<Value>, EngineError> {
    if let Some(v) = pseudo(target, scope.ctx) {
        return Ok(v);
    }
    if let Some(v) = scope.params.value(target) {
        return Ok(Some(v));
    }
    match scope.resources.physical_id(target) {
        Some(id) => Ok(Some(Value::String(id))),
        None => Err(EngineError::unresolved(&[target.to_string()], "Resources")),
    }
}

fn get_att(arg: &Value, scope: &Scope<'_>) -> Result<Value, EngineError> {
    let (logical, attr) = match arg {
        Value::String(s) => match s.split_once('.') {
            Some((l, a)) => (l.to_string(), a.to_string()),
            None => (s.clone(), String::new()),
        },
        Value::Array(items) if items.len() == 2 => (
            text(&items[0], scope, "Fn::GetAtt")?,
            text(&items[1], scope, "Fn::GetAtt")?,
        ),
        _ => {
            return Err(EngineError::template(
                "Fn::GetAtt requires a list of a resource name and an attribute name",
            ));
        }
    };
    attribute(&logical, &attr, scope)
}

fn attribute(logical: &str, attr: &str, scope: &Scope<'_>) -> Result<Value, EngineError> {
    if scope.template.resource(logical).is_none() {
        return Err(EngineError::template(format!(
            "instance of Fn::GetAtt references undefined resource {logical}"
        )));
    }
    scope.resources.attribute(logical, attr).ok_or_else(|| {
        EngineError::template(format!(
            "resource {logical} does not support attribute type {attr} in Fn::GetAtt"
        ))
    })
}

fn substitute(arg: &Value, scope: &Scope<'_>) -> Result<String, EngineError> {
    let (template, vars) = match arg {
        Value::String(s) => (s.as_str(), None),
        Value::Array(items) if items.len() == 2 => match (&items[0], &items[1]) {
            (Value::String(s), Value::Object(vars)) => (s.as_str(), Some(vars)),
            _ => return Err(sub_shape()),
        },
        _ => return Err(sub_shape()),
    };
    let mut out = String::new();
    for part in sub::parse(template) {
        let name = match part {
            sub::Part::Text(t) => {
                out.push_str(&t);
                continue;
            }
            sub::Part::Var(name) => name,
        };
        let value = match vars.and_then(|m| m.get(&name)) {
            Some(v) => eval(v, scope)?,
            None => match name.split_once('.') {
                Some((logical, attr)) => Some(attribute(logical, attr, scope)?),
                None => reference(&name, scope)?,
            },
        };
        match value.as_ref().and_then(scalar_text) {
            Some(t) => out.push_str(&t),
            None => {
                return Err(EngineError::template(format!(
                    "variable {name} in Fn::Sub expression does not resolve to a string"
                )));
            }
        }
    }
    Ok(out)
}

fn sub_shape() -> EngineError {
    EngineError::template(
        "One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a \
         string as first argument, and an optional second argument to specify a mapping of \
         values to replace in the string",
    )
}

/// Evaluates `arg` and requires a list.
fn list(arg: &Value, scope: &Scope<'_>) -> Result<Option<Vec<Value>>, EngineError> {
    Ok(match eval(arg, scope)? {
        Some(Value::Array(items)) => Some(items),
        _ => None,
    })
}

fn join(arg: &Value, scope: &Scope<'_>) -> Result<Value, EngineError> {
    let shape = || {
        EngineError::template(
            "every Fn::Join object requires two parameters, (1) a string delimiter and (2) a \
             list of strings to be joined or a function that returns a list of strings (such as \
             Fn::GetAZs) to be joined.",
        )
    };
    let Value::Array(a) = arg else {
        return Err(shape());
    };
    let [delim, items] = a.as_slice() else {
        return Err(shape());
    };
    let delim = text(delim, scope, "Fn::Join").map_err(|_| shape())?;
    let items = list(items, scope)?.ok_or_else(shape)?;
    let parts: Option<Vec<String>> = items.iter().map(scalar_text).collect();
    Ok(Value::String(parts.ok_or_else(shape)?.join(&delim)))
}

fn select(arg: &Value, scope: &Scope<'_>) -> Result<Option<Value>, EngineError> {
    let shape = || {
        EngineError::template(
            "every Fn::Select object requires two parameters, (1) an index (integer) and (2) a list",
        )
    };
    let Value::Array(a) = arg else {
        return Err(shape());
    };
    let [index, items] = a.as_slice() else {
        return Err(shape());
    };
    let index = text(index, scope, "Fn::Select")?;
    let i: usize = index.trim().parse().map_err(|_| shape())?;
    let items = list(items, scope)?.ok_or_else(shape)?;
    match items.get(i) {
        Some(v) => Ok(Some(v.clone())),
        None => Err(EngineError::template(format!(
            "Fn::Select cannot select nonexistent value at index {i}"
        ))),
    }
}

fn split(arg: &Value, scope: &Scope<'_>) -> Result<Value, EngineError> {
    let shape = || {
        EngineError::template(
            "every Fn::Split object requires two parameters, (1) a string delimiter and (2) a \
             string to be split or a function that returns a string to be split.",
        )
    };
    let Value::Array(a) = arg else {
        return Err(shape());
    };
    let [delim, source] = a.as_slice() else {
        return Err(shape());
    };
    let delim = text(delim, scope, "Fn::Split")?;
    let source = text(source, scope, "Fn::Split")?;
    if delim.is_empty() {
        return Err(shape());
    }
    Ok(Value::Array(
        source.split(delim.as_str()).map(|s| s.into()).collect(),
    ))
}

fn if_(arg: &Value, scope: &Scope<'_>) -> Result<Option<Value>, EngineError> {
    let Value::Array(a) = arg else {
        return Err(EngineError::template(
            "Fn::If requires a list argument with three elements",
        ));
    };
    let [cond, then, otherwise] = a.as_slice() else {
        return Err(EngineError::template(
            "Fn::If requires a list argument with three elements",
        ));
    };
    let name = scalar_text(cond).ok_or_else(|| {
        EngineError::template("Fn::If requires a condition name as its first element")
    })?;
    let chosen = scope.conditions.get(&name).ok_or_else(|| {
        EngineError::template(format!("unresolved condition dependency {name} in Fn::If"))
    })?;
    eval(if chosen { then } else { otherwise }, scope)
}

fn find_in_map(arg: &Value, scope: &Scope<'_>) -> Result<Value, EngineError> {
    let a = match arg {
        Value::Array(a) if a.len() == 3 => a,
        _ => {
            return Err(EngineError::template(
                "every Fn::FindInMap object requires three parameters, the map name, map key \
                 and the attribute for return value",
            ));
        }
    };
    let map = text(&a[0], scope, "Fn::FindInMap")?;
    let top = text(&a[1], scope, "Fn::FindInMap")?;
    let second = text(&a[2], scope, "Fn::FindInMap")?;
    scope
        .template
        .mappings
        .get(&map)
        .and_then(|m| m.get(&top))
        .and_then(|m| m.get(&second))
        .cloned()
        .ok_or_else(|| {
            EngineError::template(format!("Unable to get mapping for {map}::{top}::{second}"))
        })
}
