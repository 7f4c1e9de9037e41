//! Change sets: what an update would add, modify (and whether it replaces) and remove.

use serde_json::{Map, Value};

use super::EngineError;
use super::graph::references;
use super::intrinsics::{Scope, eval};
use super::registry::resource_spec;
use super::template::Template;

/// One resource as a change set sees it: properties evaluated as far as they can be.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSnapshot {
    pub logical_id: String,
    pub resource_type: String,
    /// Evaluated top-level properties; ones that could not be evaluated keep their template form.
    pub properties: Value,
    /// The template form, to follow references from resources that get replaced.
    pub template_properties: Value,
    /// Top-level properties whose value is only known at execution (not evaluated).
    pub dynamic: Vec<String>,
    pub physical_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeAction {
    Add,
    Modify,
    Remove,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replacement {
    True,
    False,
    Conditional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequiresRecreation {
    Never,
    Conditionally,
    Always,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evaluation {
    Static,
    Dynamic,
}

/// One `ResourceChangeDetail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeDetail {
    /// `Properties` or `Tags`.
    pub attribute: String,
    /// The property name (`None` for Tags).
    pub name: Option<String>,
    pub requires_recreation: RequiresRecreation,
    pub evaluation: Evaluation,
    /// `DirectModification` or `ResourceReference`.
    pub change_source: String,
    /// For `ResourceReference`: the logical id whose replacement causes this change.
    pub causing_entity: Option<String>,
}

/// One `ResourceChange`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub action: ChangeAction,
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
    /// Only for `Modify`.
    pub replacement: Option<Replacement>,
    /// `Properties` and/or `Tags`, for `Modify`.
    pub scope: Vec<String>,
    pub details: Vec<ChangeDetail>,
}

macro_rules! as_str {
    ($t:ty { $($v:ident),* }) => {
        impl $t {
            /// The wire value.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => stringify!($v)),* }
            }
        }
    };
}
as_str!(ChangeAction {
    Add,
    Modify,
    Remove
});
as_str!(Replacement {
    True,
    False,
    Conditional
});
as_str!(RequiresRecreation {
    Never,
    Conditionally,
    Always
});
as_str!(Evaluation { Static, Dynamic });

/// Snapshots of the active resources of `template`, evaluated in `scope` (whose lookup is the
/// current stack's resources, so references to resources not created yet stay dynamic).
pub fn snapshot(template: &Template, scope: &Scope<'_>) -> Vec<ResourceSnapshot> {
    let mut out = Vec::new();
    for (id, r) in &template.resources {
        if !scope.conditions.is_active(r.condition.as_deref()) {
            continue;
        }
        let mut props = Map::new();
        let mut dynamic = Vec::new();
        if let Value::Object(m) = &r.properties {
            for (k, v) in m {
                match eval(v, scope) {
                    Ok(Some(v)) => {
                        props.insert(k.clone(), v);
                    }
                    Ok(None) => {}
                    Err(_) => {
                        props.insert(k.clone(), v.clone());
                        dynamic.push(k.clone());
                    }
                }
            }
        }
        out.push(ResourceSnapshot {
            logical_id: id.clone(),
            resource_type: r.resource_type.clone(),
            properties: Value::Object(props),
            template_properties: r.properties.clone(),
            dynamic,
            physical_id: scope.resources.physical_id(id),
        });
    }
    out
}

/// The changes that turn `old` into `new`: Add and Modify in `new`'s order, then Remove.
/// Changing a resource's Type is refused, as AWS does.
pub fn diff(
    old: &[ResourceSnapshot],
    new: &[ResourceSnapshot],
) -> Result<Vec<Change>, EngineError> {
    let retyped: Vec<String> = new
        .iter()
        .filter(|n| {
            old.iter()
                .any(|o| o.logical_id == n.logical_id && o.resource_type != n.resource_type)
        })
        .map(|n| n.logical_id.clone())
        .collect();
    if !retyped.is_empty() {
        return Err(EngineError::validation(format!(
            "Update of resource type is not permitted. The new template modifies resource type of the following resources: [{}]",
            retyped.join(", ")
        )));
    }
    let mut changes = Vec::new();
    for n in new {
        match old.iter().find(|o| o.logical_id == n.logical_id) {
            None => changes.push(Change {
                action: ChangeAction::Add,
                logical_id: n.logical_id.clone(),
                resource_type: n.resource_type.clone(),
                physical_id: None,
                replacement: None,
                scope: Vec::new(),
                details: Vec::new(),
            }),
            Some(o) => {
                let details = direct_details(o, n);
                if !details.is_empty() {
                    changes.push(modify(o, n, details));
                }
            }
        }
    }
    propagate(old, new, &mut changes);
    for o in old {
        if !new.iter().any(|n| n.logical_id == o.logical_id) {
            changes.push(Change {
                action: ChangeAction::Remove,
                logical_id: o.logical_id.clone(),
                resource_type: o.resource_type.clone(),
                physical_id: o.physical_id.clone(),
                replacement: None,
                scope: Vec::new(),
                details: Vec::new(),
            });
        }
    }
    Ok(changes)
}

/// "No updates are to be performed." / "The submitted information didn't contain changes."
/// when this holds (the service must also compare outputs, parameters and stack settings).
pub fn no_changes(changes: &[Change]) -> bool {
    changes.is_empty()
}

fn recreation(resource_type: &str, property: &str) -> RequiresRecreation {
    match resource_spec(resource_type) {
        Some(s) if s.replaces_on(property) => RequiresRecreation::Always,
        _ => RequiresRecreation::Never,
    }
}

fn detail(
    resource_type: &str,
    prop: &str,
    evaluation: Evaluation,
    cause: Option<&str>,
) -> ChangeDetail {
    let tags = prop == "Tags";
    ChangeDetail {
        attribute: if tags { "Tags" } else { "Properties" }.into(),
        name: (!tags).then(|| prop.to_string()),
        requires_recreation: recreation(resource_type, prop),
        evaluation,
        change_source: if cause.is_some() {
            "ResourceReference"
        } else {
            "DirectModification"
        }
        .into(),
        causing_entity: cause.map(str::to_string),
    }
}

fn direct_details(o: &ResourceSnapshot, n: &ResourceSnapshot) -> Vec<ChangeDetail> {
    let empty = Map::new();
    let old = o.properties.as_object().unwrap_or(&empty);
    let new = n.properties.as_object().unwrap_or(&empty);
    let mut names: Vec<&String> = new.keys().collect();
    names.extend(old.keys().filter(|k| !new.contains_key(*k)));
    names.sort();
    names
        .into_iter()
        .filter_map(|k| {
            let dynamic = n.dynamic.contains(k);
            (dynamic || old.get(k) != new.get(k)).then(|| {
                let e = if dynamic {
                    Evaluation::Dynamic
                } else {
                    Evaluation::Static
                };
                detail(&n.resource_type, k, e, None)
            })
        })
        .collect()
}

fn modify(o: &ResourceSnapshot, n: &ResourceSnapshot, details: Vec<ChangeDetail>) -> Change {
    let mut scope: Vec<String> = Vec::new();
    for d in &details {
        if !scope.contains(&d.attribute) {
            scope.push(d.attribute.clone());
        }
    }
    scope.sort();
    Change {
        action: ChangeAction::Modify,
        logical_id: n.logical_id.clone(),
        resource_type: n.resource_type.clone(),
        physical_id: o.physical_id.clone(),
        replacement: Some(replacement(&details)),
        scope,
        details,
    }
}

/// True if a statically known change replaces; Conditional if only a dynamic one might.
fn replacement(details: &[ChangeDetail]) -> Replacement {
    let always = |e| {
        details
            .iter()
            .any(|d| d.requires_recreation == RequiresRecreation::Always && d.evaluation == e)
    };
    if always(Evaluation::Static) {
        Replacement::True
    } else if always(Evaluation::Dynamic)
        || details
            .iter()
            .any(|d| d.requires_recreation == RequiresRecreation::Conditionally)
    {
        Replacement::Conditional
    } else {
        Replacement::False
    }
}

/// A replaced resource gets a new physical id, so every resource referring to it changes too.
fn propagate(old: &[ResourceSnapshot], new: &[ResourceSnapshot], changes: &mut Vec<Change>) {
    loop {
        let replaced: Vec<String> = changes
            .iter()
            .filter(|c| {
                matches!(
                    c.replacement,
                    Some(Replacement::True | Replacement::Conditional)
                )
            })
            .map(|c| c.logical_id.clone())
            .collect();
        let mut grew = false;
        for n in new {
            let Some(o) = old.iter().find(|o| o.logical_id == n.logical_id) else {
                continue;
            };
            let Value::Object(props) = &n.template_properties else {
                continue;
            };
            let mut extra = Vec::new();
            for (k, v) in props {
                let refs = references(v);
                let Some(cause) = replaced
                    .iter()
                    .find(|r| refs.contains(r) && **r != n.logical_id)
                else {
                    continue;
                };
                let known = changes.iter().any(|c| {
                    c.logical_id == n.logical_id
                        && c.details.iter().any(|d| {
                            d.name.as_deref() == Some(k.as_str())
                                || (k == "Tags" && d.attribute == "Tags")
                        })
                });
                if !known {
                    extra.push(detail(
                        &n.resource_type,
                        k,
                        Evaluation::Dynamic,
                        Some(cause),
                    ));
                }
            }
            if extra.is_empty() {
                continue;
            }
            grew = true;
            match changes.iter_mut().find(|c| c.logical_id == n.logical_id) {
                Some(c) => {
                    c.details.extend(extra);
                    let details = std::mem::take(&mut c.details);
                    *c = modify(o, n, details);
                }
                None => changes.push(modify(o, n, extra)),
            }
        }
        if !grew {
            break;
        }
    }
}
