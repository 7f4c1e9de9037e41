//! Runs effects on tokio tasks and sends the results back as `Action`s. A newer request for
//! the same slot aborts the older one (latest request wins); nothing here touches `State`.

use std::collections::HashMap;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use tokio::runtime::Handle;
use tokio::task::AbortHandle;

use crate::audit::{AuditLog, Outcome};
use crate::aws::reads::{self, LogSource};
use crate::aws::{AwsError, Clients};
use crate::model::Identity;

use super::action::{Action, Effect, FetchError, Loaded, Request};
use super::state::AuditRow;

/// Audit rows shown by `:audit`.
const AUDIT_ROWS: usize = 500;
/// Log groups listed by the logs view (no prefix: every group).
const LOG_GROUP_PREFIX: &str = "";

pub struct Worker {
    handle: Handle,
    clients: Clients,
    tx: Sender<Action>,
    running: Mutex<HashMap<String, AbortHandle>>,
    audit: Option<Arc<AuditLog>>,
    identity: Arc<Mutex<Option<Identity>>>,
}

impl Worker {
    pub fn new(
        handle: Handle,
        clients: Clients,
        tx: Sender<Action>,
        audit: Option<Arc<AuditLog>>,
    ) -> Self {
        Self {
            handle,
            clients,
            tx,
            running: Mutex::new(HashMap::new()),
            audit,
            identity: Arc::default(),
        }
    }

    pub fn run(&self, effect: Effect) {
        match effect {
            Effect::Fetch(req) => self.fetch(req),
            Effect::Run(op) => {
                let (clients, tx, audit, identity) = (
                    self.clients.clone(),
                    self.tx.clone(),
                    self.audit.clone(),
                    self.identity.clone(),
                );
                self.handle.spawn(async move {
                    let who = identity.lock().ok().and_then(|g| g.clone());
                    let action = match &audit {
                        Some(log) => super::verify::operate(&clients, log, who.as_ref(), op).await,
                        None => Action::Done {
                            op,
                            result: Err(AwsError::Other(
                                "not sent: the audit log is not available (see the log file)"
                                    .into(),
                            )
                            .to_string()),
                        },
                    };
                    let _ = tx.send(action);
                });
            }
            Effect::Save { path, text } => {
                let tx = self.tx.clone();
                self.handle.spawn_blocking(move || {
                    let result = path
                        .parent()
                        .map_or(Ok(()), std::fs::create_dir_all)
                        .and_then(|()| std::fs::write(&path, text))
                        .map(|()| path.display().to_string())
                        .map_err(|e| format!("{}: {e}", path.display()));
                    let _ = tx.send(Action::Saved(result));
                });
            }
        }
    }

    fn fetch(&self, req: Request) {
        let key = req.key();
        let (clients, tx, audit, identity) = (
            self.clients.clone(),
            self.tx.clone(),
            self.audit.clone(),
            self.identity.clone(),
        );
        let task_key = key.clone();
        let task = self.handle.spawn(async move {
            let action = match read(&clients, audit.as_deref(), req).await {
                Ok(data) => {
                    if let Loaded::Identity(id) = &data
                        && let Ok(mut slot) = identity.lock()
                    {
                        *slot = Some(id.clone());
                    }
                    Action::Loaded {
                        key: task_key,
                        data: Box::new(data),
                    }
                }
                Err(e) => Action::Failed {
                    key: task_key,
                    error: classify(&e),
                },
            };
            let _ = tx.send(action);
        });
        if let Ok(mut running) = self.running.lock() {
            running.retain(|_, h| !h.is_finished());
            if let Some(old) = running.insert(key, task.abort_handle()) {
                old.abort();
            }
        }
    }
}

/// Throttling and unreachable endpoints drive back-off and the banner.
pub fn classify(e: &AwsError) -> FetchError {
    let (throttled, unreachable) = match e {
        AwsError::Service { code, .. } => (
            [
                "Throttl",
                "TooManyRequests",
                "RequestLimitExceeded",
                "SlowDown",
                "LimitExceeded",
            ]
            .iter()
            .any(|t| code.contains(t)),
            false,
        ),
        AwsError::Unreachable { .. } => (false, true),
        _ => (false, false),
    };
    FetchError {
        message: e.to_string(),
        throttled,
        unreachable,
    }
}

async fn read(
    clients: &Clients,
    audit: Option<&AuditLog>,
    req: Request,
) -> Result<Loaded, AwsError> {
    Ok(match req {
        Request::Identity => Loaded::Identity(reads::identity(clients).await?),
        Request::Pipelines => Loaded::Pipelines(reads::pipelines(clients).await?),
        Request::Pipeline(name) => Loaded::Pipeline(reads::pipeline(clients, &name).await?),
        Request::Executions(name) => {
            let e = reads::executions(clients, &name).await?;
            Loaded::Executions(name, e)
        }
        Request::ActionExecutions {
            pipeline,
            execution_id,
        } => {
            let a = reads::action_executions(clients, &pipeline, &execution_id).await?;
            Loaded::ActionExecutions(execution_id, a)
        }
        Request::Build(id) => Loaded::Build(reads::build(clients, &id).await?),
        Request::Deployment(id) => Loaded::Deployment(reads::deployment(clients, &id).await?),
        Request::Alarms => Loaded::Alarms(reads::alarms(clients).await?),
        Request::AlarmHistory(name) => {
            let h = reads::alarm_history(clients, &name).await?;
            Loaded::AlarmHistory(name, h)
        }
        Request::Metric(alarm) => {
            // Several evaluation windows, so the sparkline shows how the metric got here.
            let window = reads::evaluation_window(&alarm) * 10;
            let points = reads::metric_series(clients, &alarm, window).await?;
            Loaded::Metric(alarm.name.clone(), points)
        }
        Request::LogGroups => {
            Loaded::LogGroups(reads::log_groups(clients, LOG_GROUP_PREFIX).await?)
        }
        Request::LogStreams(group) => {
            let s = reads::log_streams(clients, &group).await?;
            Loaded::LogStreams(group, s)
        }
        Request::LogEvents {
            group,
            stream,
            pattern,
            start,
            token,
            append,
        } => {
            let source = match stream {
                Some(s) if pattern.is_empty() => LogSource::Stream(s),
                s => LogSource::Filter {
                    pattern,
                    streams: s.into_iter().collect(),
                },
            };
            let mut page =
                reads::log_events(clients, &group, &source, start, None, token.as_deref()).await?;
            page.group = group;
            Loaded::LogEvents { page, append }
        }
        Request::Stack(name) => Loaded::Stack(reads::stack(clients, &name).await?),
        Request::Audit => {
            let Some(log) = audit else {
                return Err(AwsError::Other("the audit log is not available".into()));
            };
            let rows = log
                .recent(AUDIT_ROWS)
                .map_err(|e| AwsError::Other(e.to_string()))?;
            Loaded::Audit(
                rows.into_iter()
                    .map(|e| AuditRow {
                        time: e.time.unix_timestamp() as f64,
                        identity: e.identity,
                        target: e.target,
                        operation: e.operation,
                        outcome: match e.outcome {
                            Outcome::Pending => "pending".into(),
                            Outcome::Succeeded(_) => "succeeded".into(),
                            Outcome::Failed(m) => format!("failed: {m}"),
                            Outcome::Unknown(m) => format!("unknown: {m}"),
                        },
                        cli_command: e.cli_command,
                    })
                    .collect(),
            )
        }
    })
}
