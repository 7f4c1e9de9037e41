//! CodeBuild (awsJson 1.1, `CodeBuild_20161006`): projects, and builds that really run their
//! buildspec (`runner`) or replay it (`simulate`, for projects tagged `pipetui:simulated`),
//! streaming their logs to CloudWatch Logs and their phases to BatchGetBuilds.

mod builds;
mod buildspec;
mod files;
mod process;
mod projects;
mod record;
mod runner;
mod simulate;
mod start;

use std::sync::Arc;

use serde_json::{Value, json};

use crate::protocol::value::as_timestamp;
use crate::protocol::{Input, ServiceError};
use crate::service::{Ctx, Service, unknown_operation};

use process::{Cancel, Registry, Running};
use record::{LogTarget, Recorder};
use runner::Plan;

const SVC: &str = "codebuild";
/// Items in one page of a List* answer.
const PAGE: usize = 100;

/// The context message a build gets when the emulator restarted under it.
pub const INTERRUPTED: &str = "Build interrupted: the emulator restarted while it was running";

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::new("InvalidInputException", message)
}

/// Epoch seconds of a stored timestamp.
fn ts_of(v: &Value) -> f64 {
    as_timestamp(v).or_else(|| v.as_f64()).unwrap_or(0.0)
}

/// The slice of `len` items a `nextToken` asks for, and the token of the page after it.
fn page(
    len: usize,
    token: Option<&str>,
) -> Result<(std::ops::Range<usize>, Option<String>), ServiceError> {
    let start = match token {
        None | Some("") => 0,
        Some(t) => t
            .strip_prefix("pipetui-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= len)
            .ok_or_else(|| invalid("Invalid nextToken"))?,
    };
    let end = (start + PAGE).min(len);
    let next = (end < len).then(|| format!("pipetui-{end}"));
    Ok((start..end, next))
}

#[derive(Default)]
pub struct CodeBuild {
    /// Builds whose processes run in this process.
    running: Registry,
}

impl std::fmt::Debug for CodeBuild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeBuild").finish_non_exhaustive()
    }
}

impl Drop for CodeBuild {
    /// The emulator is going away: its builds' processes go with it (recovery reports them).
    fn drop(&mut self) {
        for r in self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            r.kill_all();
        }
    }
}

impl CodeBuild {
    fn launch(&self, plan: Plan, rec: Recorder) {
        let running = Arc::new(Running::default());
        let registry = self.running.clone();
        registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(rec.build_id.clone(), running.clone());
        let failed = rec.clone();
        let spawned = std::thread::Builder::new()
            .name("pipetui-build".into())
            .spawn(move || runner::run(plan, rec, running, registry));
        if let Err(e) = spawned {
            tracing::error!(build = %failed.build_id, error = %e, "cannot start a build thread");
            self.running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&failed.build_id);
            let message = format!("cannot start the build: {e}");
            let _ = failed.update(|b, now| {
                record::fail_open_phase(b, "CLIENT_ERROR", &message, now);
            });
        }
    }

    fn cancel(&self, id: &str, why: Cancel) -> bool {
        let r = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned();
        match r {
            Some(r) if r.cancelled().is_none() => {
                r.cancel(why);
                true
            }
            _ => false,
        }
    }

    /// Kills running builds whose timeout passed on the emulated clock.
    fn enforce_timeouts(&self, ctx: &Ctx<'_>) -> Result<bool, ServiceError> {
        let ids: Vec<String> = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        let now = ctx.clock.now();
        let mut changed = false;
        for id in ids {
            let Some(b) = ctx.store.document(SVC, "build", &id)? else {
                continue;
            };
            let deadline =
                ts_of(&b["startTime"]) + b["timeoutInMinutes"].as_f64().unwrap_or(60.0) * 60.0;
            if now >= deadline {
                changed |= self.cancel(&id, Cancel::TimedOut);
            }
        }
        Ok(changed)
    }
}

impl Service for CodeBuild {
    fn id(&self) -> crate::protocol::ServiceId {
        crate::protocol::ServiceId::CodeBuild
    }

    fn call(
        &self,
        ctx: &Ctx<'_>,
        operation: &str,
        input: Input<'_>,
    ) -> Result<Value, ServiceError> {
        match operation {
            "CreateProject" => projects::create(ctx, input),
            "UpdateProject" => projects::update(ctx, input),
            "BatchGetProjects" => projects::batch_get(ctx, input),
            "ListProjects" => projects::list(ctx, input),
            "DeleteProject" => projects::delete(ctx, input),
            "StartBuild" => start::start(self, ctx, input),
            "StopBuild" => builds::stop(self, ctx, input),
            "BatchGetBuilds" => builds::batch_get(ctx, input),
            "ListBuildsForProject" => builds::list_for_project(ctx, input),
            "ListBuilds" => builds::list(ctx, input),
            _ => Err(unknown_operation(operation)),
        }
    }

    fn tick(&self, ctx: &Ctx<'_>) -> Result<bool, ServiceError> {
        let killed = self.enforce_timeouts(ctx)?;
        Ok(simulate::tick(ctx)? | killed)
    }

    fn busy(&self) -> bool {
        !self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }

    /// A build whose process belonged to a previous emulator cannot go on: it fails, visibly.
    /// Simulated builds run on stored state and simply carry on.
    fn recover(&self, ctx: &Ctx<'_>) -> Result<(), ServiceError> {
        // Commands the previous process started die before their builds are failed.
        crate::engine::groups::kill_recorded(ctx.store, "codebuild/");
        // The previous process may still be finishing its last write; wait for its lock a while.
        let mut tries = 0;
        loop {
            match recover_builds(ctx) {
                Err(e) if e.message.contains("locked") && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }
}

fn recover_builds(ctx: &Ctx<'_>) -> Result<(), ServiceError> {
    let now = ctx.clock.now();
    let sims = ctx.store.documents(SVC, "sim")?;
    let mut logs = Vec::new();
    ctx.store.write(|tx| {
        for (id, mut b) in tx.list(SVC, "build")? {
            if b["buildStatus"].as_str() != Some("IN_PROGRESS") || sims.contains_key(&id) {
                continue;
            }
            let phase = record::fail_open_phase(&mut b, "BUILD_INTERRUPTED", INTERRUPTED, now);
            if let Some(t) = LogTarget::of(&b) {
                logs.push((t, phase));
            }
            tx.put(SVC, "build", &id, &b)?;
        }
        Ok(())
    })?;
    let ms = ctx.clock.now_millis();
    for (t, phase) in logs {
        let lines = [
            format!("Phase complete: {phase} State: FAILED"),
            format!("Phase context status code: BUILD_INTERRUPTED Message: {INTERRUPTED}"),
            "Build FAILED".to_string(),
        ]
        .map(|l| (ms, record::container_line(now, &l)));
        record::put_lines(ctx.emulator, &t, &lines);
    }
    Ok(())
}

/// CloudFormation's resource handler: creates (or, with `update`, updates in place) the live
/// CodeBuild object behind a stack resource of `resource_type` from its evaluated `props`
/// (CloudFormation's PascalCase property names).
pub fn cfn_put(
    ctx: &Ctx<'_>,
    resource_type: &str,
    physical_id: &str,
    props: &Value,
    update: bool,
) -> Result<(), ServiceError> {
    if resource_type != "AWS::CodeBuild::Project" {
        return Ok(());
    }
    let input = projects::input_from_cfn(physical_id, props);
    let exists = ctx.store.document(SVC, "project", physical_id)?.is_some();
    if update && exists {
        // Properties removed from the template go back to the service's defaults.
        let reset: Vec<&str> = [
            "description",
            "tags",
            "vpcConfig",
            "cache",
            "logsConfig",
            "encryptionKey",
        ]
        .into_iter()
        .filter(|m| input.get(*m).is_none())
        .collect();
        projects::update_resetting(ctx, Input(&input), &reset).map(|_| ())
    } else {
        projects::create(ctx, Input(&input)).map(|_| ())
    }
}

/// CloudFormation's resource handler: deletes the live object; one already gone is not an error.
pub fn cfn_delete(
    ctx: &Ctx<'_>,
    resource_type: &str,
    physical_id: &str,
    _props: &Value,
) -> Result<(), ServiceError> {
    if resource_type != "AWS::CodeBuild::Project" {
        return Ok(());
    }
    projects::delete(ctx, Input(&json!({ "name": physical_id }))).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_hold_a_hundred_and_tokens_move_on() {
        let (r, next) = page(250, None).unwrap();
        assert_eq!((r, next.as_deref()), (0..100, Some("pipetui-100")));
        let (r, next) = page(250, Some("pipetui-200")).unwrap();
        assert_eq!((r, next), (200..250, None));
        assert_eq!(page(0, None).unwrap(), (0..0, None));
        assert_eq!(
            page(10, Some("bogus")).unwrap_err().code,
            "InvalidInputException"
        );
        assert!(page(10, Some("pipetui-11")).is_err());
    }
}
