//! Honest outcomes: when an operation's answer is lost (timeout, dropped connection) the audit
//! log says `unknown`, then the console reads the state the call was meant to change and records
//! what really happened. Nothing is resent: only the operator may send a call again.

use crate::audit::{AuditLog, Outcome};
use crate::aws::ops::{outcome_unknown, send_audited};
use crate::aws::{Clients, reads};
use crate::model::{Identity, Operation, Status};

use super::action::Action;

/// What reading back after a lost answer showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadBack {
    /// The change is there: the call took effect.
    Applied(String),
    /// The state is as before: the call did not take effect.
    NotApplied(String),
    /// The state cannot tell (or could not be read).
    Undecided(String),
}

/// Sends `op` (audited, one attempt) and turns the result into the `Action` for the reducer,
/// settling a lost answer by reading back.
pub async fn operate(
    clients: &Clients,
    audit: &AuditLog,
    who: Option<&Identity>,
    op: Operation,
) -> Action {
    let (id, result) = match send_audited(clients, audit, who, &op).await {
        Ok(sent) => sent,
        Err(e) => {
            return Action::Done {
                op,
                result: Err(e.to_string()),
            };
        }
    };
    let lost = match result {
        Ok(notice) => {
            return Action::Done {
                op,
                result: Ok(notice),
            };
        }
        Err(e) if !outcome_unknown(&e) => {
            return Action::Done {
                op,
                result: Err(e.to_string()),
            };
        }
        Err(e) => e,
    };
    let (outcome, action) = match read_back(clients, &op).await {
        ReadBack::Applied(what) => {
            let notice = format!(
                "{}: the answer was lost ({lost}), but reading back shows it took effect — {what}",
                op.summary()
            );
            (
                Outcome::Succeeded(notice.clone()),
                Action::Done {
                    op,
                    result: Ok(notice),
                },
            )
        }
        ReadBack::NotApplied(what) => {
            let message = format!(
                "not applied: the answer was lost ({lost}) and reading back shows {what}; \
                 nothing was resent"
            );
            (
                Outcome::Failed(message.clone()),
                Action::Done {
                    op,
                    result: Err(message),
                },
            )
        }
        ReadBack::Undecided(why) => {
            let message =
                format!("the answer was lost ({lost}) and {why}; check before sending it again");
            (
                Outcome::Unknown(message.clone()),
                Action::Unknown { op, message },
            )
        }
    };
    if let Err(e) = audit.record(id, &outcome) {
        tracing::warn!(error = %e, id, "could not store a read-back outcome");
    }
    action
}

/// Reads the state `op` was meant to change and says whether it did.
pub async fn read_back(clients: &Clients, op: &Operation) -> ReadBack {
    let unreadable =
        |e: crate::aws::AwsError| ReadBack::Undecided(format!("reading back failed too ({e})"));
    match op {
        Operation::Approve {
            pipeline,
            stage,
            action,
            token,
            ..
        }
        | Operation::Reject {
            pipeline,
            stage,
            action,
            token,
            ..
        } => {
            let detail = match reads::pipeline(clients, pipeline).await {
                Ok(d) => d,
                Err(e) => return unreadable(e),
            };
            let Some(state) = detail
                .stages
                .iter()
                .filter(|s| &s.name == stage)
                .flat_map(|s| &s.actions)
                .find(|a| &a.name == action)
            else {
                return ReadBack::Undecided(format!("{stage}/{action} is no longer in {pipeline}"));
            };
            let wanted = if matches!(op, Operation::Approve { .. }) {
                Status::Succeeded
            } else {
                Status::Failed
            };
            if state.status == Status::InProgress && state.token.as_deref() == Some(token) {
                ReadBack::NotApplied("the approval still waits for an answer".into())
            } else if state.status == wanted {
                ReadBack::Applied(format!("{action} is {}", state.status))
            } else {
                ReadBack::Undecided(format!(
                    "{action} is now {} (answered or expired some other way)",
                    state.status
                ))
            }
        }
        Operation::StopExecution {
            pipeline,
            execution_id,
            ..
        } => match reads::executions(clients, pipeline).await {
            Ok(list) => match list.iter().find(|e| &e.id == execution_id) {
                Some(e) if matches!(e.status, Status::Stopping | Status::Stopped) => {
                    ReadBack::Applied(format!("execution {execution_id} is {}", e.status))
                }
                Some(e) if e.status == Status::InProgress => {
                    ReadBack::NotApplied(format!("execution {execution_id} still runs"))
                }
                Some(e) => ReadBack::Undecided(format!(
                    "execution {execution_id} is {} (it ended on its own?)",
                    e.status
                )),
                None => ReadBack::Undecided(format!("execution {execution_id} is not listed")),
            },
            Err(e) => unreadable(e),
        },
        Operation::RetryStage {
            pipeline, stage, ..
        } => match reads::pipeline(clients, pipeline).await {
            Ok(d) => match d
                .stages
                .iter()
                .find(|s| &s.name == stage)
                .and_then(|s| s.latest_execution.as_ref())
            {
                Some(e) if e.status == Status::Failed => {
                    ReadBack::NotApplied(format!("{stage} is still Failed"))
                }
                Some(e) if e.status.is_active() || e.status == Status::Succeeded => {
                    ReadBack::Applied(format!("{stage} is {}", e.status))
                }
                _ => ReadBack::Undecided(format!("{stage} shows no decisive status")),
            },
            Err(e) => unreadable(e),
        },
        Operation::DisableTransition {
            pipeline, stage, ..
        }
        | Operation::EnableTransition { pipeline, stage } => {
            let want_enabled = matches!(op, Operation::EnableTransition { .. });
            match reads::pipeline(clients, pipeline).await {
                Ok(d) => match d.stages.iter().find(|s| &s.name == stage) {
                    Some(s) if s.inbound_transition.enabled == want_enabled => {
                        ReadBack::Applied(format!(
                            "the transition into {stage} is {}",
                            if want_enabled { "enabled" } else { "disabled" }
                        ))
                    }
                    Some(_) => {
                        ReadBack::NotApplied(format!("the transition into {stage} is unchanged"))
                    }
                    None => ReadBack::Undecided(format!("{stage} is no longer in {pipeline}")),
                },
                Err(e) => unreadable(e),
            }
        }
        Operation::StopDeployment { deployment_id, .. } => {
            match reads::deployment(clients, deployment_id).await {
                Ok(d) if matches!(d.status, Status::Stopped | Status::Stopping) => {
                    ReadBack::Applied(format!("deployment {deployment_id} is {}", d.status))
                }
                Ok(d) => ReadBack::Undecided(format!(
                    "deployment {deployment_id} is {} (a stop may still be on its way)",
                    d.status
                )),
                Err(e) => unreadable(e),
            }
        }
        // A new execution cannot be told from one started by someone else.
        Operation::StartExecution { pipeline } | Operation::RollbackStage { pipeline, .. } => {
            ReadBack::Undecided(format!(
                "a new execution of {pipeline} cannot be attributed to this call; see its \
                 executions list"
            ))
        }
    }
}
