//! Stack operations advance on the emulator clock, lazily: whenever a stack is read or written,
//! every step due by now is performed at the emulated time it was due, one resource at a time,
//! each taking [`STEP_SECONDS`].

use super::eval::{Evaluated, context};
use super::materialise;
use super::model::{
    Done, Event, NAME, Op, Resource, STEP_SECONDS, SVC, Stack, Task, append_events,
    load_change_set, load_stack, resource_event, save_change_set, save_stack, stack_event,
};
use crate::cloudformation::engine::{self, Random};
use crate::protocol::ServiceError;
use crate::service::Ctx;

/// Guards against a plan that never moves the clock (a bug, not an input problem).
const MAX_STEPS: usize = 100_000;

/// Performs every step of `stack_id`'s operation due by the emulator's now.
pub(super) fn advance(ctx: &Ctx<'_>, stack_id: &str) -> Result<(), ServiceError> {
    let now = ctx.clock.now();
    let Some(mut stack) = ctx.store.read(|tx| load_stack(tx, stack_id))? else {
        return Ok(());
    };
    for _ in 0..MAX_STEPS {
        let Some(op) = stack.op.take() else {
            break;
        };
        if op.next_at > now + 1e-9 {
            stack.op = Some(op);
            break;
        }
        let mut run = Run {
            ctx,
            stack,
            op,
            ended: None,
            events: Vec::new(),
        };
        run.step();
        stack = run.persist()?;
    }
    Ok(())
}

/// Saves a stack with the events of the operation just started.
pub(super) fn save_with_events(
    ctx: &Ctx<'_>,
    stack: &Stack,
    events: &[Event],
) -> Result<(), ServiceError> {
    ctx.store.write(|tx| {
        save_stack(tx, stack)?;
        append_events(tx, &stack.stack_id, events)
    })
}

pub(super) struct Run<'c, 'a> {
    pub ctx: &'c Ctx<'a>,
    pub stack: Stack,
    pub op: Op,
    /// Set when the operation ends: the change set execution status to record.
    pub ended: Option<&'static str>,
    pub events: Vec<Event>,
}

pub(super) type Failure = (Option<String>, String);

impl Run<'_, '_> {
    fn persist(self) -> Result<Stack, ServiceError> {
        let Run {
            ctx,
            mut stack,
            op,
            ended,
            events,
        } = self;
        let change_set = op.change_set_id.clone();
        stack.op = if ended.is_some() { None } else { Some(op) };
        ctx.store.write(|tx| {
            save_stack(tx, &stack)?;
            append_events(tx, &stack.stack_id, &events)?;
            if stack.is_deleted() {
                let live = tx.get(SVC, NAME, &stack.stack_name)?;
                if live.as_ref().and_then(|v| v.as_str()) == Some(stack.stack_id.as_str()) {
                    tx.delete(SVC, NAME, &stack.stack_name)?;
                }
            }
            if let (Some(status), Some(id)) = (ended, &change_set)
                && let Some(mut cs) = load_change_set(tx, id)?
            {
                cs.execution_status = status.to_string();
                save_change_set(tx, &cs)?;
            }
            Ok(())
        })?;
        Ok(stack)
    }

    fn token(&self) -> Option<String> {
        self.op.token.clone()
    }

    pub(super) fn set_status(&mut self, at: f64, status: &str, reason: Option<String>) {
        self.stack.status = status.to_string();
        self.stack.status_reason = reason.clone();
        let token = self.token();
        self.events.push(stack_event(
            &self.stack,
            token.as_deref(),
            at,
            status,
            reason.as_deref(),
        ));
    }

    pub(super) fn res_event(
        &mut self,
        res: &Resource,
        at: f64,
        status: &str,
        reason: Option<&str>,
        props: bool,
    ) {
        let token = self.token();
        self.events.push(resource_event(
            &self.stack,
            token.as_deref(),
            res,
            at,
            status,
            reason,
            props,
        ));
    }

    /// Sets the status of the map's entry for `res` if it is still that physical resource.
    pub(super) fn mark(&mut self, res: &Resource, at: f64, status: &str, reason: Option<&str>) {
        if let Some(r) = self.stack.resources.get_mut(&res.logical_id)
            && r.physical_id() == res.physical_id()
        {
            r.status = status.to_string();
            r.reason = reason.map(str::to_string);
            r.timestamp = at;
        }
    }

    fn step(&mut self) {
        let at = self.op.next_at;
        if let Some(task) = self.op.current.take() {
            if let Err((logical, reason)) = self.complete(task, at) {
                self.fail(logical, reason, at);
            }
            return;
        }
        match self.op.tasks.pop_front() {
            Some(task) => match self.start(task, at) {
                Ok(Some(task)) => {
                    self.op.current = Some(task);
                    self.op.next_at = at + STEP_SECONDS;
                }
                Ok(None) => {}
                Err((logical, reason)) => self.fail(logical, reason, at),
            },
            None => self.finish_phase(at),
        }
    }

    pub(super) fn evaluated(&self) -> Result<Evaluated, Failure> {
        let c = context(self.ctx, &self.stack).map_err(|e| (None, e.message))?;
        Evaluated::new(&self.stack.template_body, &self.stack.params, c)
            .map_err(|e| (None, e.message))
    }

    /// Evaluates `logical`'s properties and makes its resource record (not yet provisioned).
    fn prepare(
        &self,
        logical: &str,
        at: f64,
        status: &str,
    ) -> Result<(Evaluated, Resource), Failure> {
        let fail = |m: String| (Some(logical.to_string()), m);
        let ev = self.evaluated().map_err(|(_, m)| fail(m))?;
        let decl = ev
            .template
            .resource(logical)
            .ok_or_else(|| fail(format!("Resource {logical} is not in the template")))?
            .clone();
        let lookup = self.stack.lookup();
        let props =
            engine::evaluate_properties(&decl, &ev.scope(&lookup)).map_err(|e| fail(e.message))?;
        let res = Resource {
            logical_id: logical.to_string(),
            resource_type: decl.resource_type.clone(),
            status: status.to_string(),
            reason: None,
            timestamp: at,
            properties: props,
            prov: None,
            deletion_policy: decl.deletion_policy.clone(),
            update_replace_policy: decl.update_replace_policy.clone(),
        };
        Ok((ev, res))
    }

    fn provision(&mut self, ev: &Evaluated, res: &mut Resource) -> Result<(), Failure> {
        let spec = engine::resource_spec(&res.resource_type).ok_or_else(|| {
            (
                Some(res.logical_id.clone()),
                format!("Unrecognized resource types: [{}]", res.resource_type),
            )
        })?;
        let mut rng = Random::new(self.stack.seed.wrapping_add(self.stack.provisioned));
        self.stack.provisioned += 1;
        let p = engine::provision(
            spec,
            &res.logical_id,
            &res.properties,
            &ev.context,
            &mut rng,
        )
        .map_err(|reason| (Some(res.logical_id.clone()), reason))?;
        res.prov = Some(p.into());
        Ok(())
    }

    /// Starts a task at `at`; `Some` if it now runs for a step, `None` if it completed at once.
    fn start(&mut self, task: Task, at: f64) -> Result<Option<Task>, Failure> {
        match task {
            Task::Create { logical } => {
                let (ev, mut res) = self.prepare(&logical, at, "CREATE_IN_PROGRESS")?;
                self.res_event(&res, at, "CREATE_IN_PROGRESS", None, true);
                self.stack.resources.insert(logical.clone(), res.clone());
                if !self.stack.order.contains(&logical) {
                    self.stack.order.push(logical.clone());
                }
                self.provision(&ev, &mut res)?;
                self.res_event(
                    &res,
                    at,
                    "CREATE_IN_PROGRESS",
                    Some("Resource creation Initiated"),
                    true,
                );
                self.stack.resources.insert(logical.clone(), res);
                Ok(Some(Task::Create { logical }))
            }
            Task::Update { logical, .. } => {
                let Some(old) = self.stack.resources.get(&logical).cloned() else {
                    return self.start(Task::Create { logical }, at);
                };
                let (ev, mut new) = self.prepare(&logical, at, "UPDATE_IN_PROGRESS")?;
                let replace = engine::resource_spec(&new.resource_type).is_some_and(|spec| {
                    changed_properties(&old.properties, &new.properties)
                        .iter()
                        .any(|p| spec.replaces_on(p))
                });
                self.res_event(
                    &new_with_prov(&new, &old),
                    at,
                    "UPDATE_IN_PROGRESS",
                    None,
                    true,
                );
                self.mark(&old, at, "UPDATE_IN_PROGRESS", None);
                if replace {
                    self.provision(&ev, &mut new)?;
                    self.res_event(
                        &new,
                        at,
                        "UPDATE_IN_PROGRESS",
                        Some("Requested update requires the creation of a new physical resource; hence creating one."),
                        true,
                    );
                } else {
                    new.prov = old.prov.clone();
                }
                Ok(Some(Task::Update {
                    logical,
                    pending: Some(Box::new(new)),
                    replace,
                }))
            }
            Task::Revert { old, from } => {
                self.res_event(&old, at, "UPDATE_IN_PROGRESS", None, true);
                Ok(Some(Task::Revert { old, from }))
            }
            Task::Delete { res, retain } => {
                if retain {
                    self.res_event(&res, at, "DELETE_SKIPPED", None, false);
                    self.mark(&res, at, "DELETE_SKIPPED", None);
                    return Ok(None);
                }
                if res.prov.is_none() || res.status == "DELETE_COMPLETE" {
                    if res.status != "DELETE_COMPLETE" {
                        self.res_event(&res, at, "DELETE_COMPLETE", None, false);
                        self.mark(&res, at, "DELETE_COMPLETE", None);
                    }
                    return Ok(None);
                }
                self.res_event(&res, at, "DELETE_IN_PROGRESS", None, false);
                self.mark(&res, at, "DELETE_IN_PROGRESS", None);
                Ok(Some(Task::Delete { res, retain }))
            }
        }
    }

    fn complete(&mut self, task: Task, at: f64) -> Result<(), Failure> {
        match task {
            Task::Create { logical } => {
                let Some(mut res) = self.stack.resources.get(&logical).cloned() else {
                    return Ok(());
                };
                materialise::put(self.ctx, &self.stack.stack_id, &res, None)
                    .map_err(|reason| (Some(logical.clone()), reason))?;
                res.status = "CREATE_COMPLETE".into();
                res.timestamp = at;
                self.res_event(&res, at, "CREATE_COMPLETE", None, true);
                self.stack.resources.insert(logical, res.clone());
                self.op.done.push(Done::Created(Box::new(res)));
                Ok(())
            }
            Task::Update {
                logical,
                pending,
                replace,
            } => {
                let (Some(mut new), Some(old)) =
                    (pending, self.stack.resources.get(&logical).cloned())
                else {
                    return Ok(());
                };
                let before = (!replace).then_some(&old);
                materialise::put(self.ctx, &self.stack.stack_id, &new, before)
                    .map_err(|reason| (Some(logical.clone()), reason))?;
                new.status = "UPDATE_COMPLETE".into();
                new.timestamp = at;
                self.res_event(&new, at, "UPDATE_COMPLETE", None, true);
                self.stack.resources.insert(logical, (*new).clone());
                let mut old = old;
                old.status = "UPDATE_COMPLETE".into();
                self.op.done.push(if replace {
                    Done::Replaced {
                        old: Box::new(old),
                        new,
                    }
                } else {
                    Done::Updated {
                        old: Box::new(old),
                        new,
                    }
                });
                Ok(())
            }
            Task::Revert { old, from } => {
                if old.physical_id() == from.physical_id()
                    && let Err(e) =
                        materialise::put(self.ctx, &self.stack.stack_id, &old, Some(&from))
                {
                    tracing::debug!(error = %e, "reverting a stack resource");
                }
                let mut old = *old;
                old.status = "UPDATE_COMPLETE".into();
                old.timestamp = at;
                self.res_event(&old, at, "UPDATE_COMPLETE", None, true);
                self.stack.resources.insert(old.logical_id.clone(), old);
                Ok(())
            }
            Task::Delete { res, .. } => {
                materialise::delete(self.ctx, &res);
                self.res_event(&res, at, "DELETE_COMPLETE", None, false);
                self.mark(&res, at, "DELETE_COMPLETE", None);
                Ok(())
            }
        }
    }
}

/// The resource as its first UPDATE_IN_PROGRESS event shows it: new properties, old id.
fn new_with_prov(new: &Resource, old: &Resource) -> Resource {
    let mut r = new.clone();
    r.prov = old.prov.clone();
    r
}

/// Top-level properties that differ between two evaluated property sets.
pub(super) fn changed_properties(old: &serde_json::Value, new: &serde_json::Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let o = old.as_object().unwrap_or(&empty);
    let n = new.as_object().unwrap_or(&empty);
    let mut keys: Vec<String> = n.keys().chain(o.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().filter(|k| o.get(k) != n.get(k)).collect()
}
