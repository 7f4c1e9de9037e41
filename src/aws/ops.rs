//! The mutating operations: one SDK call per [`Operation`], a human notice on success, the
//! equivalent `aws` CLI command for the target, and [`run_audited`], which stores the attempt in
//! the audit log before the call and its outcome after.

use aws_sdk_codepipeline::types as cp;

use super::{AwsError, Clients, SdkResultExt, Target};
use crate::audit::{AuditEntry, AuditLog, Outcome};
use crate::model::{Identity, Operation, RetryMode};

/// Where `pipetui emulator serve` listens by default: the CLI equivalent of an operation on the
/// embedded emulator runs against it (same state dir, same pipelines).
pub const EMULATOR_CLI_ENDPOINT: &str = "http://127.0.0.1:4566";

/// Sends `op` and returns the notice to show ("Approved Approval in production-approval of
/// acme-orders-pipeline"); a failure is `Code: message`.
pub async fn run(clients: &Clients, op: &Operation) -> Result<String, AwsError> {
    // Every mutating call is sent once: a resend is the operator's decision.
    let clients = &single_attempt(clients);
    let endpoint = clients.endpoint();
    let cp = &clients.codepipeline;
    match op {
        Operation::Approve {
            pipeline,
            stage,
            action,
            token,
            comment,
        }
        | Operation::Reject {
            pipeline,
            stage,
            action,
            token,
            comment,
        } => {
            let (status, verb) = if matches!(op, Operation::Approve { .. }) {
                (cp::ApprovalStatus::Approved, "Approved")
            } else {
                (cp::ApprovalStatus::Rejected, "Rejected")
            };
            let result = cp::ApprovalResult::builder()
                .summary(comment)
                .status(status)
                .build()
                .map_err(|e| AwsError::Other(format!("PutApprovalResult: {e}")))?;
            cp.put_approval_result()
                .pipeline_name(pipeline)
                .stage_name(stage)
                .action_name(action)
                .token(token)
                .result(result)
                .send()
                .await
                .or_aws("PutApprovalResult", &endpoint)?;
            Ok(format!("{verb} {action} in {stage} of {pipeline}"))
        }
        Operation::RetryStage {
            pipeline,
            stage,
            execution_id,
            mode,
        } => {
            let wire = match mode {
                RetryMode::FailedActions => cp::StageRetryMode::FailedActions,
                RetryMode::AllActions => cp::StageRetryMode::AllActions,
            };
            let out = cp
                .retry_stage_execution()
                .pipeline_name(pipeline)
                .stage_name(stage)
                .pipeline_execution_id(execution_id)
                .retry_mode(wire)
                .send()
                .await
                .or_aws("RetryStageExecution", &endpoint)?;
            let what = match mode {
                RetryMode::FailedActions => "failed actions",
                RetryMode::AllActions => "all actions",
            };
            Ok(format!(
                "Retrying {what} of {stage} in {pipeline} (execution {})",
                out.pipeline_execution_id().unwrap_or(execution_id)
            ))
        }
        Operation::RollbackStage {
            pipeline,
            stage,
            target_execution_id,
        } => {
            let out = cp
                .rollback_stage()
                .pipeline_name(pipeline)
                .stage_name(stage)
                .target_pipeline_execution_id(target_execution_id)
                .send()
                .await
                .or_aws("RollbackStage", &endpoint)?;
            Ok(format!(
                "Rolling back {stage} of {pipeline} to execution {target_execution_id} \
                 (rollback execution {})",
                out.pipeline_execution_id()
            ))
        }
        Operation::StopExecution {
            pipeline,
            execution_id,
            abandon,
            reason,
        } => {
            cp.stop_pipeline_execution()
                .pipeline_name(pipeline)
                .pipeline_execution_id(execution_id)
                .abandon(*abandon)
                .set_reason(Some(reason.clone()).filter(|r| !r.is_empty()))
                .send()
                .await
                .or_aws("StopPipelineExecution", &endpoint)?;
            let how = if *abandon {
                "Abandoning"
            } else {
                "Stopping (letting running actions finish)"
            };
            Ok(format!("{how} execution {execution_id} of {pipeline}"))
        }
        Operation::StartExecution { pipeline } => {
            let out = cp
                .start_pipeline_execution()
                .name(pipeline)
                .send()
                .await
                .or_aws("StartPipelineExecution", &endpoint)?;
            Ok(format!(
                "Started execution {} of {pipeline}",
                out.pipeline_execution_id().unwrap_or("?")
            ))
        }
        Operation::DisableTransition {
            pipeline,
            stage,
            reason,
        } => {
            cp.disable_stage_transition()
                .pipeline_name(pipeline)
                .stage_name(stage)
                .transition_type(cp::StageTransitionType::Inbound)
                .reason(reason)
                .send()
                .await
                .or_aws("DisableStageTransition", &endpoint)?;
            Ok(format!(
                "Disabled the transition into {stage} of {pipeline}"
            ))
        }
        Operation::EnableTransition { pipeline, stage } => {
            cp.enable_stage_transition()
                .pipeline_name(pipeline)
                .stage_name(stage)
                .transition_type(cp::StageTransitionType::Inbound)
                .send()
                .await
                .or_aws("EnableStageTransition", &endpoint)?;
            Ok(format!("Enabled the transition into {stage} of {pipeline}"))
        }
        Operation::StopDeployment {
            deployment_id,
            auto_rollback,
        } => {
            let out = clients
                .codedeploy
                .stop_deployment()
                .deployment_id(deployment_id)
                .auto_rollback_enabled(*auto_rollback)
                .send()
                .await
                .or_aws("StopDeployment", &endpoint)?;
            let how = if *auto_rollback {
                "Stopping and rolling back"
            } else {
                "Stopping"
            };
            let mut notice = format!("{how} deployment {deployment_id}");
            if let Some(message) = out.status_message().filter(|m| !m.is_empty()) {
                notice.push_str(": ");
                notice.push_str(message);
            }
            Ok(notice)
        }
    }
}

/// [`Operation::cli_equivalent`] plus the flags that send it where the console sends it:
/// `--endpoint-url` for an emulator or custom endpoint, `--region`, and `--profile`.
pub fn cli_command(op: &Operation, target: &Target) -> String {
    let mut cmd = op.cli_equivalent();
    match target {
        Target::Emulator => {
            cmd.push_str(" --endpoint-url ");
            cmd.push_str(EMULATOR_CLI_ENDPOINT);
        }
        Target::Endpoint { url, region } => {
            cmd.push_str(" --endpoint-url ");
            cmd.push_str(&quote(url));
            if !region.is_empty() {
                cmd.push_str(" --region ");
                cmd.push_str(&quote(region));
            }
        }
        Target::Aws { profile, region } => {
            if !region.is_empty() {
                cmd.push_str(" --region ");
                cmd.push_str(&quote(region));
            }
            if let Some(profile) = profile.as_deref().filter(|p| !p.is_empty()) {
                cmd.push_str(" --profile ");
                cmd.push_str(&quote(profile));
            }
        }
    }
    cmd
}

/// The operation's parameters as a JSON object for the audit log (names and ids as the
/// confirmation dialog shows them; an operation carries no secret values).
pub fn audit_parameters(op: &Operation) -> serde_json::Value {
    serde_json::Value::Object(
        op.parameters()
            .into_iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
            .collect(),
    )
}

/// Who acted, as the audit log records it: the caller ARN, else the account.
pub fn audit_identity(identity: Option<&Identity>) -> String {
    match identity {
        Some(i) if !i.arn.is_empty() => i.arn.clone(),
        Some(i) if !i.account.is_empty() => format!("account {}", i.account),
        _ => "unknown".to_string(),
    }
}

/// Records the attempt, sends `op`, records the outcome. The attempt is stored before the call
/// so an operation is never sent unaudited; if the outcome cannot be stored the call's own
/// result still wins (the failure is logged).
pub async fn run_audited(
    clients: &Clients,
    audit: &AuditLog,
    identity: Option<&Identity>,
    op: &Operation,
) -> Result<String, AwsError> {
    send_audited(clients, audit, identity, op).await?.1
}

/// Whether a failed call may still have taken effect: its answer timed out or the connection
/// broke, so the request may have been applied before the answer was lost.
pub fn outcome_unknown(e: &AwsError) -> bool {
    matches!(e, AwsError::Timeout { .. } | AwsError::Unreachable { .. })
}

/// The clients for mutating calls: one attempt each, because the SDK would otherwise resend a
/// call whose answer was lost (a 5xx, a timeout) — only the operator may send it again.
pub fn single_attempt(clients: &Clients) -> Clients {
    use aws_config::retry::RetryConfig;
    let once = || RetryConfig::standard().with_max_attempts(1);
    let mut c = clients.clone();
    c.codepipeline = aws_sdk_codepipeline::Client::from_conf(
        clients
            .codepipeline
            .config()
            .to_builder()
            .retry_config(once())
            .build(),
    );
    c.codedeploy = aws_sdk_codedeploy::Client::from_conf(
        clients
            .codedeploy
            .config()
            .to_builder()
            .retry_config(once())
            .build(),
    );
    c
}

/// [`run_audited`] with the audit entry's id, for a caller that settles an unknown outcome:
/// `Err` means nothing was sent (the attempt could not be stored). A lost answer is recorded
/// as `unknown`, never as `failed`.
pub async fn send_audited(
    clients: &Clients,
    audit: &AuditLog,
    identity: Option<&Identity>,
    op: &Operation,
) -> Result<(i64, Result<String, AwsError>), AwsError> {
    let entry = AuditEntry::now(
        audit_identity(identity),
        clients.target.to_string(),
        op.api_call(),
        audit_parameters(op),
        cli_command(op, &clients.target),
    );
    let id = audit
        .record_attempt(&entry)
        .map_err(|e| AwsError::Other(format!("not sent: {e}")))?;
    let result = run(clients, op).await;
    let outcome = match &result {
        Ok(notice) => Outcome::Succeeded(notice.clone()),
        Err(e) if outcome_unknown(e) => Outcome::Unknown(e.to_string()),
        Err(e) => Outcome::Failed(e.to_string()),
    };
    if let Err(e) = audit.record(id, &outcome) {
        tracing::warn!(error = %e, id, "could not store an operation's outcome");
    }
    Ok((id, result))
}

/// Why a transition-disable reason would be refused (`DisableStageTransition` allows 1–300
/// characters of letters, digits, spaces and `!@().*?-`).
pub fn transition_reason_problem(reason: &str) -> Option<String> {
    let len = reason.chars().count();
    if len == 0 {
        return Some("a reason is required".to_string());
    }
    if len > 300 {
        return Some(format!(
            "the reason is {len} characters; at most 300 are allowed"
        ));
    }
    let bad: String = reason
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || " !@().*?-".contains(*c)))
        .collect();
    if bad.is_empty() {
        None
    } else {
        Some(format!(
            "the reason may use letters, digits, spaces and !@().*?- only (not {bad:?})"
        ))
    }
}

/// POSIX shell quoting: bare when safe, single quotes otherwise.
fn quote(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@+%".contains(c));
    if safe {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}
