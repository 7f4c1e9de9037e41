//! Static checks ValidateTemplate and CreateStack make before touching any resource.

use serde_json::Value;

use super::conditions::condition_refs;
use super::intrinsics::intrinsic_name;
use super::template::Template;
use super::{EngineError, graph, params, registry, sub};

pub(crate) const PSEUDO: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// One use of a name inside a value.
#[derive(Debug, Clone, PartialEq)]
enum Use {
    Ref(String),
    /// Resource and attribute (`None` when the attribute is computed by an intrinsic).
    GetAtt(String, Option<String>),
    If(String),
}

pub(crate) fn validate(t: &Template) -> Result<(), EngineError> {
    for (name, p) in &t.parameters {
        if !params::known_type(&p.param_type) {
            return Err(EngineError::format(format!(
                "Unrecognized parameter type: {} for parameter {name}",
                p.param_type
            )));
        }
    }
    let mut unknown: Vec<&str> = Vec::new();
    for (_, r) in &t.resources {
        if registry::resource_spec(&r.resource_type).is_none()
            && !unknown.contains(&r.resource_type.as_str())
        {
            unknown.push(&r.resource_type);
        }
    }
    if !unknown.is_empty() {
        return Err(EngineError::format(format!(
            "Unrecognized resource types: [{}]",
            unknown.join(", ")
        )));
    }
    let declared_conditions = t
        .resources
        .iter()
        .filter_map(|(_, r)| r.condition.as_ref())
        .chain(t.outputs.iter().filter_map(|(_, o)| o.condition.as_ref()));
    for c in declared_conditions {
        if t.condition(c).is_none() {
            return Err(EngineError::format(format!(
                "Condition {c} is not defined."
            )));
        }
    }
    check_conditions_block(t)?;
    let mut missing = Vec::new();
    for (_, r) in &t.resources {
        for d in &r.depends_on {
            if t.resource(d).is_none() && !missing.contains(d) {
                missing.push(d.clone());
            }
        }
        check_uses(t, &r.properties, &mut missing)?;
    }
    if !missing.is_empty() {
        return Err(EngineError::unresolved(&missing, "Resources"));
    }
    for (_, o) in &t.outputs {
        check_uses(t, &o.value, &mut missing)?;
        if let Some(e) = &o.export_name {
            check_uses(t, e, &mut missing)?;
        }
    }
    if !missing.is_empty() {
        return Err(EngineError::unresolved(&missing, "Outputs"));
    }
    graph::check_cycles(t)
}

fn check_conditions_block(t: &Template) -> Result<(), EngineError> {
    for (_, expr) in &t.conditions {
        let mut used = Vec::new();
        collect(expr, &mut used);
        for u in used {
            let name = match u {
                Use::Ref(n) | Use::GetAtt(n, _) => n,
                Use::If(_) => continue,
            };
            if t.parameter(&name).is_none() && !PSEUDO.contains(&name.as_str()) {
                return Err(EngineError::format(format!(
                    "Unresolved dependencies [{name}]. Cannot reference resources in the Conditions block of the template"
                )));
            }
        }
        let mut conds = Vec::new();
        condition_refs(expr, &mut conds);
        if let Some(c) = conds.iter().find(|c| t.condition(c).is_none()) {
            return Err(EngineError::format(format!(
                "Condition {c} is not defined."
            )));
        }
    }
    Ok(())
}

/// Checks every use in `v`; unknown Ref/Sub names are collected, other problems fail at once.
fn check_uses(t: &Template, v: &Value, missing: &mut Vec<String>) -> Result<(), EngineError> {
    let mut used = Vec::new();
    collect(v, &mut used);
    for u in used {
        match u {
            Use::Ref(n) => {
                let known = PSEUDO.contains(&n.as_str())
                    || t.parameter(&n).is_some()
                    || t.resource(&n).is_some();
                if !known && !missing.contains(&n) {
                    missing.push(n);
                }
            }
            Use::GetAtt(n, attr) => {
                let Some(r) = t.resource(&n) else {
                    return Err(EngineError::template(format!(
                        "instance of Fn::GetAtt references undefined resource {n}"
                    )));
                };
                let spec = registry::resource_spec(&r.resource_type);
                if let (Some(spec), Some(attr)) = (spec, attr)
                    && !spec.has_attribute(&attr)
                {
                    return Err(EngineError::template(format!(
                        "resource {n} does not support attribute type {attr} in Fn::GetAtt"
                    )));
                }
            }
            Use::If(c) => {
                if t.condition(&c).is_none() {
                    return Err(EngineError::template(format!(
                        "unresolved condition dependency {c} in Fn::If"
                    )));
                }
            }
        }
    }
    Ok(())
}

fn collect(v: &Value, out: &mut Vec<Use>) {
    let m = match v {
        Value::Object(m) => m,
        Value::Array(items) => {
            items.iter().for_each(|i| collect(i, out));
            return;
        }
        _ => return,
    };
    let Some((name, arg)) = intrinsic_name(m).zip(m.values().next()) else {
        m.values().for_each(|i| collect(i, out));
        return;
    };
    match (name, arg) {
        ("Ref", Value::String(n)) => out.push(Use::Ref(n.clone())),
        ("Fn::GetAtt", Value::String(s)) => {
            let (l, a) = s.split_once('.').unwrap_or((s, ""));
            out.push(Use::GetAtt(l.into(), Some(a.into())));
        }
        ("Fn::GetAtt", Value::Array(a)) => {
            if let Some(Value::String(l)) = a.first() {
                let attr = a.get(1).and_then(Value::as_str).map(str::to_string);
                out.push(Use::GetAtt(l.clone(), attr));
            }
            a.iter().skip(1).for_each(|i| collect(i, out));
        }
        ("Fn::Sub", Value::String(s)) => sub_uses(s, None, out),
        ("Fn::Sub", Value::Array(a)) => {
            let locals = a.get(1).and_then(Value::as_object);
            if let Some(Value::String(s)) = a.first() {
                sub_uses(s, locals.map(|m| m.keys().cloned().collect()), out);
            }
            a.iter().skip(1).for_each(|i| collect(i, out));
        }
        ("Fn::If", Value::Array(a)) => {
            if let Some(Value::String(c)) = a.first() {
                out.push(Use::If(c.clone()));
            }
            a.iter().skip(1).for_each(|i| collect(i, out));
        }
        _ => collect(arg, out),
    }
}

fn sub_uses(s: &str, locals: Option<Vec<String>>, out: &mut Vec<Use>) {
    for var in sub::variables(s) {
        if locals.as_ref().is_some_and(|l| l.contains(&var)) {
            continue;
        }
        match var.split_once('.') {
            Some((l, a)) => out.push(Use::GetAtt(l.into(), Some(a.into()))),
            None => out.push(Use::Ref(var)),
        }
    }
}
