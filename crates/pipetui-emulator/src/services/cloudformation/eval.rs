//! The template engine as the service uses it: a stack's template, parameters, conditions and
//! resources put together into an engine [`Scope`].

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::model::{Output, Param, Stack, all_stacks};
use crate::cloudformation::engine::{
    self, Conditions, Context, EngineError, Provisioned, ResolvedParams, Scope, Template,
};
use crate::protocol::ServiceError;
use crate::service::Ctx;

pub(super) fn engine_err(e: EngineError) -> ServiceError {
    ServiceError::new(e.code, e.message)
}

pub(super) fn parse(body: &str) -> Result<Template, ServiceError> {
    engine::parse_template(body).map_err(engine_err)
}

/// Exports of every live stack but `except`.
pub(super) fn exports(
    ctx: &Ctx<'_>,
    except: &str,
) -> Result<HashMap<String, String>, ServiceError> {
    let stacks = ctx.store.read(all_stacks)?;
    Ok(stacks
        .iter()
        .filter(|s| !s.is_deleted() && s.stack_id != except)
        .flat_map(|s| s.outputs.iter())
        .filter_map(|o| Some((o.export_name.clone()?, o.value.clone())))
        .collect())
}

/// The stack that exports `name`, if a live one does.
pub(super) fn exporter(
    ctx: &Ctx<'_>,
    name: &str,
    except: &str,
) -> Result<Option<String>, ServiceError> {
    let stacks = ctx.store.read(all_stacks)?;
    Ok(stacks
        .iter()
        .filter(|s| !s.is_deleted() && s.stack_id != except)
        .find(|s| {
            s.outputs
                .iter()
                .any(|o| o.export_name.as_deref() == Some(name))
        })
        .map(|s| s.stack_name.clone()))
}

pub(super) fn context(ctx: &Ctx<'_>, stack: &Stack) -> Result<Context, ServiceError> {
    Ok(Context {
        account_id: ctx.account_id.to_string(),
        region: ctx.region.to_string(),
        stack_name: stack.stack_name.clone(),
        stack_id: stack.stack_id.clone(),
        notification_arns: stack.notification_arns.clone(),
        exports: exports(ctx, &stack.stack_id)?,
    })
}

/// A template with its parameters resolved and conditions evaluated.
pub(super) struct Evaluated {
    pub template: Template,
    pub params: ResolvedParams,
    pub conditions: Conditions,
    pub context: Context,
}

impl Evaluated {
    pub fn new(body: &str, params: &[Param], context: Context) -> Result<Self, ServiceError> {
        let template = parse(body)?;
        let given: Vec<(String, String)> = params
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect();
        let params = engine::resolve_parameters(&template, &given).map_err(engine_err)?;
        let conditions =
            engine::evaluate_conditions(&template, &params, &context).map_err(engine_err)?;
        Ok(Self {
            template,
            params,
            conditions,
            context,
        })
    }

    pub fn scope<'a>(&'a self, resources: &'a BTreeMap<String, Provisioned>) -> Scope<'a> {
        Scope {
            template: &self.template,
            params: &self.params,
            ctx: &self.context,
            conditions: &self.conditions,
            resources,
        }
    }

    pub fn order(&self) -> Result<Vec<String>, ServiceError> {
        engine::dependency_order(&self.template, &self.conditions).map_err(engine_err)
    }

    pub fn outputs(
        &self,
        resources: &BTreeMap<String, Provisioned>,
    ) -> Result<Vec<Output>, EngineError> {
        Ok(
            engine::evaluate_outputs(&self.template, &self.scope(resources))?
                .into_iter()
                .map(|o| Output {
                    key: o.key,
                    value: o.value,
                    description: o.description,
                    export_name: o.export_name,
                })
                .collect(),
        )
    }
}

/// Resolves the request's parameters against `template`, `UsePreviousValue` taking the value
/// from `previous`; the stored form keeps NoEcho so DescribeStacks can mask it.
pub(super) fn resolve_params(
    template: &Template,
    given: &[(String, Option<String>, bool)],
    previous: &[Param],
) -> Result<Vec<Param>, ServiceError> {
    let mut pairs = Vec::new();
    for (k, v, use_previous) in given {
        let value = if *use_previous {
            match previous.iter().find(|p| &p.key == k) {
                Some(p) => p.value.clone(),
                None => {
                    return Err(ServiceError::validation(format!(
                        "Invalid input for parameter key {k}. Cannot specify usePreviousValue as true for a parameter key not in the previous template"
                    )));
                }
            }
        } else {
            v.clone().unwrap_or_default()
        };
        pairs.push((k.clone(), value));
    }
    let resolved = engine::resolve_parameters(template, &pairs).map_err(engine_err)?;
    Ok(resolved
        .params
        .into_iter()
        .map(|p| Param {
            key: p.key,
            value: p.value,
            no_echo: p.no_echo,
        })
        .collect())
}

const IAM_NAMES: &[(&str, &str)] = &[
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"),
    ("AWS::IAM::User", "UserName"),
    ("AWS::IAM::Group", "GroupName"),
    ("AWS::IAM::InstanceProfile", "InstanceProfileName"),
];

/// The capability the template needs (`CAPABILITY_NAMED_IAM` when an IAM resource is named)
/// and the resource types that need it.
pub(super) fn required_capability(t: &Template) -> Option<(&'static str, Vec<String>)> {
    let mut named = false;
    let mut types: Vec<String> = Vec::new();
    for (_, r) in &t.resources {
        if !r.resource_type.starts_with("AWS::IAM::") {
            continue;
        }
        if !types.contains(&r.resource_type) {
            types.push(r.resource_type.clone());
        }
        if IAM_NAMES.iter().any(|(ty, p)| {
            *ty == r.resource_type && r.properties.get(*p).is_some_and(|v| !v.is_null())
        }) {
            named = true;
        }
    }
    if types.is_empty() {
        return None;
    }
    Some((
        if named {
            "CAPABILITY_NAMED_IAM"
        } else {
            "CAPABILITY_IAM"
        },
        types,
    ))
}

pub(super) fn check_capabilities(t: &Template, given: &[String]) -> Result<(), ServiceError> {
    let Some((needed, _)) = required_capability(t) else {
        return Ok(());
    };
    let ok = given.iter().any(|c| c == "CAPABILITY_NAMED_IAM")
        || (needed == "CAPABILITY_IAM" && given.iter().any(|c| c == "CAPABILITY_IAM"));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::new(
            "InsufficientCapabilitiesException",
            format!("Requires capabilities : [{needed}]"),
        ))
    }
}

/// Whether two templates declare the same resources and outputs (formatting aside).
pub(super) fn same_declarations(a: &Template, b: &Template) -> bool {
    let section = |t: &Template, k: &str| t.body.get(k).cloned().unwrap_or(Value::Null);
    ["Resources", "Outputs", "Conditions", "Mappings"]
        .iter()
        .all(|k| section(a, k) == section(b, k))
}
