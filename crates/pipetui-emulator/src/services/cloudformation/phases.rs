//! How stack operations end their phases: failure handling (rollback or not) and what each
//! phase leads to once its tasks are done.

use super::eval::exporter;
use super::model::{Done, OpKind, Phase, Task};
use super::progress::{Failure, Run};

impl Run<'_, '_> {
    /// Delete tasks for the stack's resources, in reverse creation order.
    pub(super) fn delete_all(&self) -> Vec<Task> {
        self.stack
            .order
            .iter()
            .rev()
            .filter_map(|id| self.stack.resources.get(id))
            .filter(|r| r.status != "DELETE_COMPLETE")
            .map(|r| Task::Delete {
                res: Box::new(r.clone()),
                retain: r.deletion_policy.as_deref() == Some("Retain"),
            })
            .collect()
    }

    pub(super) fn fail(&mut self, logical: Option<String>, reason: String, at: f64) {
        self.op.current = None;
        self.op.tasks.clear();
        if self.op.phase != Phase::Forward || self.op.kind == OpKind::Delete {
            // Failures while undoing are logged and the undo goes on.
            tracing::debug!(?logical, %reason, "stack cleanup step failed");
            self.op.next_at = at;
            return;
        }
        let created = match &logical {
            Some(l) => {
                let was_create = self.stack.resources.get(l).is_none_or(|r| {
                    r.status == "CREATE_IN_PROGRESS" || r.status == "CREATE_FAILED"
                });
                let status = if was_create {
                    "CREATE_FAILED"
                } else {
                    "UPDATE_FAILED"
                };
                if let Some(r) = self.stack.resources.get_mut(l) {
                    r.status = status.into();
                    r.reason = Some(reason.clone());
                    r.timestamp = at;
                }
                if let Some(r) = self.stack.resources.get(l).cloned() {
                    self.res_event(&r, at, status, Some(&reason), true);
                    if was_create && self.op.kind == OpKind::Update {
                        // Whatever it left behind goes in the rollback's cleanup.
                        self.op.done.push(Done::Created(Box::new(r)));
                    }
                }
                self.op.failed.push(l.clone());
                was_create
            }
            None => true,
        };
        let verb = if created { "create" } else { "update" };
        let summary = match &logical {
            Some(_) => format!(
                "The following resource(s) failed to {verb}: [{}]. ",
                self.op.failed.join(", ")
            ),
            None => reason.clone(),
        };
        self.op.next_at = at;
        let disable = self.stack.disable_rollback;
        match self.op.kind {
            OpKind::Create if disable => {
                self.set_status(at, "CREATE_FAILED", Some(summary));
                self.ended = Some("EXECUTE_FAILED");
            }
            OpKind::Create => {
                let reason = format!("{summary}Rollback requested by user.");
                self.set_status(at, "ROLLBACK_IN_PROGRESS", Some(reason.trim().to_string()));
                self.op.phase = Phase::Rollback;
                self.op.tasks = self.delete_all().into();
            }
            OpKind::Update if disable => {
                self.set_status(at, "UPDATE_FAILED", Some(summary));
                self.ended = Some("EXECUTE_FAILED");
            }
            OpKind::Update => {
                self.set_status(
                    at,
                    "UPDATE_ROLLBACK_IN_PROGRESS",
                    Some(summary.trim().to_string()),
                );
                self.op.phase = Phase::Rollback;
                self.op.tasks = self
                    .op
                    .done
                    .iter()
                    .rev()
                    .filter_map(|d| match d {
                        Done::Updated { old, new } | Done::Replaced { old, new } => {
                            Some(Task::Revert {
                                old: old.clone(),
                                from: new.clone(),
                            })
                        }
                        Done::Created(_) => None,
                    })
                    .collect();
            }
            OpKind::Delete => {}
        }
    }

    /// Evaluates outputs once every resource exists; export names must be unique.
    pub(super) fn outputs(&mut self) -> Result<(), Failure> {
        let ev = self.evaluated()?;
        let outputs = ev
            .outputs(&self.stack.lookup())
            .map_err(|e| (None, e.message))?;
        for o in &outputs {
            if let Some(name) = &o.export_name
                && let Some(other) =
                    exporter(self.ctx, name, &self.stack.stack_id).map_err(|e| (None, e.message))?
            {
                return Err((
                    None,
                    format!("Export with name {name} is already exported by stack {other}"),
                ));
            }
        }
        self.stack.outputs = outputs;
        Ok(())
    }

    pub(super) fn finish_phase(&mut self, at: f64) {
        match (self.op.kind, self.op.phase) {
            (OpKind::Create, Phase::Forward) => match self.outputs() {
                Ok(()) => {
                    self.set_status(at, "CREATE_COMPLETE", None);
                    self.ended = Some("EXECUTE_COMPLETE");
                }
                Err((l, r)) => self.fail(l, r, at),
            },
            (OpKind::Create, _) => {
                self.set_status(at, "ROLLBACK_COMPLETE", None);
                self.ended = Some("EXECUTE_FAILED");
            }
            (OpKind::Update, Phase::Forward) => {
                if let Err((l, r)) = self.outputs() {
                    return self.fail(l, r, at);
                }
                self.set_status(at, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None);
                self.op.phase = Phase::Cleanup;
                let mut tasks: Vec<Task> = self
                    .op
                    .done
                    .iter()
                    .rev()
                    .filter_map(|d| match d {
                        Done::Replaced { old, .. } => Some(Task::Delete {
                            retain: old.update_replace_policy.as_deref() == Some("Retain"),
                            res: old.clone(),
                        }),
                        _ => None,
                    })
                    .collect();
                let previous = self.op.previous.as_ref();
                for id in self.op.removed.iter().rev() {
                    if let Some(r) = previous.and_then(|p| p.resources.get(id)) {
                        tasks.push(Task::Delete {
                            res: Box::new(r.clone()),
                            retain: r.deletion_policy.as_deref() == Some("Retain"),
                        });
                    }
                }
                self.op.tasks = tasks.into();
            }
            (OpKind::Update, Phase::Cleanup) => {
                for id in std::mem::take(&mut self.op.removed) {
                    self.stack.resources.remove(&id);
                }
                self.set_status(at, "UPDATE_COMPLETE", None);
                self.ended = Some("EXECUTE_COMPLETE");
            }
            (OpKind::Update, Phase::Rollback) => {
                self.set_status(at, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", None);
                self.op.phase = Phase::RollbackCleanup;
                self.op.tasks = self
                    .op
                    .done
                    .iter()
                    .rev()
                    .filter_map(|d| match d {
                        Done::Created(new) | Done::Replaced { new, .. } => Some(Task::Delete {
                            res: new.clone(),
                            retain: false,
                        }),
                        Done::Updated { .. } => None,
                    })
                    .collect();
            }
            (OpKind::Update, Phase::RollbackCleanup) => {
                if let Some(prev) = self.op.previous.take() {
                    let mut resources = prev.resources;
                    for (k, r) in resources.iter_mut() {
                        if let Some(cur) = self.stack.resources.get(k)
                            && cur.physical_id() == r.physical_id()
                            && cur.status == "UPDATE_COMPLETE"
                        {
                            *r = cur.clone();
                        }
                    }
                    self.stack.resources = resources;
                    self.stack.template_body = prev.template_body;
                    self.stack.params = prev.params;
                    self.stack.order = prev.order;
                    self.stack.outputs = prev.outputs;
                }
                self.set_status(at, "UPDATE_ROLLBACK_COMPLETE", None);
                self.ended = Some("EXECUTE_FAILED");
            }
            (OpKind::Delete, _) => {
                self.stack.deletion_time = Some(at);
                self.set_status(at, "DELETE_COMPLETE", None);
                self.ended = Some("EXECUTE_COMPLETE");
            }
        }
    }
}
