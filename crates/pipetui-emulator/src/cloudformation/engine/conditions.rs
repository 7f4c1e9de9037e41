//! The Conditions section, evaluated once per operation from the resolved parameters.

use std::collections::BTreeMap;

use serde_json::Value;

use super::intrinsics::{NoResources, Scope, eval, intrinsic_name};
use super::params::ResolvedParams;
use super::template::Template;
use super::{Context, EngineError};

/// Longest chain of conditions using conditions (`C0` uses `C1` uses `C2` …) that is evaluated.
pub const MAX_CONDITION_CHAIN: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    values: BTreeMap<String, bool>,
}

impl Conditions {
    /// Known values, e.g. for tests or a service that stored them.
    pub fn from_values(values: impl IntoIterator<Item = (String, bool)>) -> Self {
        Self {
            values: values.into_iter().collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<bool> {
        self.values.get(name).copied()
    }

    /// Whether a resource or output with this `Condition` attribute exists in the stack.
    pub fn is_active(&self, condition: Option<&str>) -> bool {
        condition.is_none_or(|c| self.get(c).unwrap_or(false))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, bool)> {
        self.values.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

/// Evaluates every condition; conditions may use other conditions (`{"Condition": "X"}`).
pub fn evaluate_conditions(
    template: &Template,
    params: &ResolvedParams,
    ctx: &Context,
) -> Result<Conditions, EngineError> {
    let mut done = Conditions::default();
    let mut visiting = Vec::new();
    for (name, _) in &template.conditions {
        resolve(name, template, params, ctx, &mut done, &mut visiting)?;
    }
    Ok(done)
}

fn resolve(
    name: &str,
    template: &Template,
    params: &ResolvedParams,
    ctx: &Context,
    done: &mut Conditions,
    visiting: &mut Vec<String>,
) -> Result<(), EngineError> {
    if done.values.contains_key(name) {
        return Ok(());
    }
    let Some(expr) = template.condition(name) else {
        return Err(EngineError::format(format!(
            "Unresolved dependencies [{name}]. Cannot reference resources in the Conditions block of the template"
        )));
    };
    if visiting.len() >= MAX_CONDITION_CHAIN {
        // Each `Condition` reference resolves the one it names first, recursively.
        return Err(EngineError::format(format!(
            "Conditions reference other conditions more than {MAX_CONDITION_CHAIN} levels deep: {name}"
        )));
    }
    if visiting.iter().any(|v| v == name) {
        return Err(EngineError::format(format!(
            "Circular dependency between conditions: [{}]",
            visiting.join(", ")
        )));
    }
    visiting.push(name.to_string());
    let mut used = Vec::new();
    condition_refs(expr, &mut used);
    for dep in &used {
        resolve(dep, template, params, ctx, done, visiting)?;
    }
    visiting.pop();
    let scope = Scope {
        template,
        params,
        ctx,
        conditions: done,
        resources: &NoResources,
    };
    let value = match eval(expr, &scope)? {
        Some(Value::Bool(b)) => b,
        _ => {
            return Err(EngineError::format(format!(
                "Conditions can only be boolean operations on parameters and other conditions: {name}"
            )));
        }
    };
    done.values.insert(name.to_string(), value);
    Ok(())
}

/// Names used as `{"Condition": "X"}` inside an expression.
pub(crate) fn condition_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if intrinsic_name(m) == Some("Condition")
                && let Some(Value::String(s)) = m.get("Condition")
            {
                out.push(s.clone());
                return;
            }
            m.values().for_each(|v| condition_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| condition_refs(v, out)),
        _ => {}
    }
}
