//! Resource dependencies: explicit `DependsOn` plus every Ref/GetAtt/Sub reference.

use serde_json::Value;

use super::conditions::Conditions;
use super::intrinsics::intrinsic_name;
use super::template::Template;
use super::{EngineError, sub};

/// Every name `value` references through Ref, Fn::GetAtt or Fn::Sub (resources, parameters and
/// pseudo parameters alike), in first-use order. Both branches of Fn::If count.
pub fn references(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(value, None, &mut out);
    out
}

/// Like [`references`], but an Fn::If with a known condition contributes only its chosen branch.
pub(crate) fn live_references(value: &Value, conditions: &Conditions) -> Vec<String> {
    let mut out = Vec::new();
    walk(value, Some(conditions), &mut out);
    out
}

fn push(out: &mut Vec<String>, name: &str) {
    if !out.iter().any(|o| o == name) {
        out.push(name.to_string());
    }
}

fn walk(v: &Value, conditions: Option<&Conditions>, out: &mut Vec<String>) {
    let items = match v {
        Value::Object(m) => m,
        Value::Array(items) => {
            items.iter().for_each(|i| walk(i, conditions, out));
            return;
        }
        _ => return,
    };
    let Some((name, arg)) = intrinsic_name(items).zip(items.values().next()) else {
        items.values().for_each(|i| walk(i, conditions, out));
        return;
    };
    match (name, arg) {
        ("Ref", Value::String(target)) => push(out, target),
        ("Fn::GetAtt", Value::String(s)) => push(out, s.split_once('.').map_or(s, |(l, _)| l)),
        ("Fn::GetAtt", Value::Array(a)) => {
            if let Some(Value::String(l)) = a.first() {
                push(out, l);
            }
            a.iter().skip(1).for_each(|i| walk(i, conditions, out));
        }
        ("Fn::Sub", Value::String(s)) => sub_refs(s, None, out),
        ("Fn::Sub", Value::Array(a)) => {
            let vars = a.get(1).and_then(Value::as_object);
            if let Some(Value::String(s)) = a.first() {
                sub_refs(s, vars.map(|m| m.keys().cloned().collect()), out);
            }
            a.iter().skip(1).for_each(|i| walk(i, conditions, out));
        }
        ("Fn::If", Value::Array(a)) if a.len() == 3 => {
            let chosen = a[0]
                .as_str()
                .and_then(|c| conditions.and_then(|cs| cs.get(c)));
            match chosen {
                Some(true) => walk(&a[1], conditions, out),
                Some(false) => walk(&a[2], conditions, out),
                None => a[1..].iter().for_each(|i| walk(i, conditions, out)),
            }
        }
        _ => walk(arg, conditions, out),
    }
}

fn sub_refs(s: &str, locals: Option<Vec<String>>, out: &mut Vec<String>) {
    for var in sub::variables(s) {
        if locals.as_ref().is_some_and(|l| l.contains(&var)) {
            continue;
        }
        push(out, var.split_once('.').map_or(var.as_str(), |(l, _)| l));
    }
}

/// The resources `logical_id` depends on: DependsOn first, then references in its Properties,
/// limited to resources the template declares. Both Fn::If branches count.
pub fn dependencies(template: &Template, logical_id: &str) -> Vec<String> {
    let Some(r) = template.resource(logical_id) else {
        return Vec::new();
    };
    let mut deps = Vec::new();
    for d in r.depends_on.iter().chain(&references(&r.properties)) {
        if template.resource(d).is_some() {
            push(&mut deps, d);
        }
    }
    deps
}

/// Creation order of the resources whose Condition holds: each after everything it depends on,
/// ties broken by template order. Deletion order is the reverse.
pub fn dependency_order(
    template: &Template,
    conditions: &Conditions,
) -> Result<Vec<String>, EngineError> {
    let active: Vec<&str> = template
        .resources
        .iter()
        .filter(|(_, r)| conditions.is_active(r.condition.as_deref()))
        .map(|(k, _)| k.as_str())
        .collect();
    let mut edges: Vec<Vec<usize>> = Vec::with_capacity(active.len());
    let mut dangling = Vec::new();
    for id in &active {
        let Some(r) = template.resource(id) else {
            edges.push(Vec::new());
            continue;
        };
        let mut deps = Vec::new();
        let named = r
            .depends_on
            .iter()
            .cloned()
            .chain(live_references(&r.properties, conditions));
        for d in named {
            match active.iter().position(|a| *a == d) {
                Some(i) if !deps.contains(&i) => deps.push(i),
                Some(_) => {}
                // A resource whose Condition is false cannot be used by one that exists.
                None if template.resource(&d).is_some() => push(&mut dangling, &d),
                None => {}
            }
        }
        edges.push(deps);
    }
    if !dangling.is_empty() {
        return Err(EngineError::unresolved(&dangling, "Resources"));
    }
    topo(&active, &edges)
}

/// Fails on a cycle among all declared resources, whatever their conditions (as ValidateTemplate).
pub(crate) fn check_cycles(template: &Template) -> Result<(), EngineError> {
    let all: Vec<&str> = template.resources.iter().map(|(k, _)| k.as_str()).collect();
    let edges: Vec<Vec<usize>> = all
        .iter()
        .map(|id| {
            dependencies(template, id)
                .iter()
                .filter_map(|d| all.iter().position(|a| a == d))
                .collect()
        })
        .collect();
    topo(&all, &edges).map(|_| ())
}

/// Kahn's algorithm, always taking the first ready node so the order is the template's.
fn topo(nodes: &[&str], edges: &[Vec<usize>]) -> Result<Vec<String>, EngineError> {
    let mut placed = vec![false; nodes.len()];
    let mut order = Vec::with_capacity(nodes.len());
    while order.len() < nodes.len() {
        let ready = (0..nodes.len()).find(|&i| !placed[i] && edges[i].iter().all(|&d| placed[d]));
        match ready {
            Some(i) => {
                placed[i] = true;
                order.push(nodes[i].to_string());
            }
            None => return Err(cycle(nodes, edges, &placed)),
        }
    }
    Ok(order)
}

/// AWS names the resources on the cycle; resources merely waiting on it are left out.
fn cycle(active: &[&str], edges: &[Vec<usize>], placed: &[bool]) -> EngineError {
    let mut left: Vec<bool> = placed.iter().map(|p| !p).collect();
    // Drop resources nothing remaining depends on, until only cycle members remain.
    loop {
        let needed: Vec<bool> = (0..active.len())
            .map(|i| left[i] && (0..active.len()).any(|j| left[j] && edges[j].contains(&i)))
            .collect();
        if needed == left {
            break;
        }
        left = needed;
    }
    let names: Vec<&str> = (0..active.len())
        .filter(|&i| left[i])
        .map(|i| active[i])
        .collect();
    EngineError::validation(format!(
        "Circular dependency between resources: [{}]",
        names.join(", ")
    ))
}
