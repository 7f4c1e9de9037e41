//! Builds as CodeBuild reports them: StopBuild, BatchGetBuilds, ListBuildsForProject and
//! ListBuilds. StartBuild is in `start`.

use serde_json::{Value, json};

use super::process::Cancel;
use super::start::project_not_found;
use super::{CodeBuild, SVC, invalid, page, simulate, ts_of};
use crate::protocol::{Input, ServiceError};
use crate::service::Ctx;

pub fn stop(svc: &CodeBuild, ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let id = input.required_str("id")?;
    let id = id.rsplit("build/").next().unwrap_or(id);
    if ctx.store.document(SVC, "build", id)?.is_none() {
        return Err(ServiceError::new(
            "ResourceNotFoundException",
            format!("Build {id} does not exist"),
        ));
    }
    if !simulate::stop(ctx, id)? {
        svc.cancel(id, Cancel::Stopped);
    }
    let build = ctx.store.document(SVC, "build", id)?.map(|b| (*b).clone());
    Ok(json!({ "build": build }))
}

pub fn batch_get(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let ids = input.strings("ids");
    if ids.is_empty() || ids.len() > 100 {
        return Err(invalid("ids must hold between 1 and 100 build ids"));
    }
    let docs = ctx.store.documents(SVC, "build")?;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for i in ids {
        match docs.get(i.rsplit("build/").next().unwrap_or(&i)) {
            Some(b) => found.push((**b).clone()),
            None => missing.push(i),
        }
    }
    Ok(json!({ "builds": found, "buildsNotFound": missing }))
}

/// Build ids, newest first unless `sortOrder` is ASCENDING, 100 a page.
fn list_ids(input: &Input<'_>, builds: Vec<(f64, i64, String)>) -> Result<Value, ServiceError> {
    let mut builds = builds;
    builds.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(a.1.cmp(&b.1))
            .then_with(|| a.2.cmp(&b.2))
    });
    match input.str("sortOrder").unwrap_or("DESCENDING") {
        "DESCENDING" => builds.reverse(),
        "ASCENDING" => {}
        other => return Err(invalid(format!("Invalid sortOrder: {other}"))),
    }
    let ids: Vec<String> = builds.into_iter().map(|(_, _, id)| id).collect();
    let (range, next) = page(ids.len(), input.str("nextToken"))?;
    let mut out = json!({ "ids": ids[range].to_vec() });
    if let Some(n) = next {
        out["nextToken"] = json!(n);
    }
    Ok(out)
}

fn keyed(b: &Value, id: &str) -> (f64, i64, String) {
    (
        ts_of(&b["startTime"]),
        b["buildNumber"].as_i64().unwrap_or(0),
        id.to_string(),
    )
}

pub fn list_for_project(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let name = input.required_str("projectName")?;
    if ctx.store.document(SVC, "project", name)?.is_none() {
        return Err(project_not_found(ctx, name));
    }
    let docs = ctx.store.documents(SVC, "build")?;
    let builds = docs
        .iter()
        .filter(|(_, b)| b["projectName"].as_str() == Some(name))
        .map(|(id, b)| keyed(b, id))
        .collect();
    list_ids(&input, builds)
}

pub fn list(ctx: &Ctx<'_>, input: Input<'_>) -> Result<Value, ServiceError> {
    let docs = ctx.store.documents(SVC, "build")?;
    list_ids(&input, docs.iter().map(|(id, b)| keyed(b, id)).collect())
}
