//! The mutating operations the console can send, as data: the confirmation dialog, the audit log
//! and the worker all read the same value.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum RetryMode {
    FailedActions,
    AllActions,
}

impl RetryMode {
    pub fn wire(self) -> &'static str {
        match self {
            RetryMode::FailedActions => "FAILED_ACTIONS",
            RetryMode::AllActions => "ALL_ACTIONS",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Operation {
    Approve {
        pipeline: String,
        stage: String,
        action: String,
        token: String,
        comment: String,
    },
    Reject {
        pipeline: String,
        stage: String,
        action: String,
        token: String,
        comment: String,
    },
    RetryStage {
        pipeline: String,
        stage: String,
        execution_id: String,
        mode: RetryMode,
    },
    RollbackStage {
        pipeline: String,
        stage: String,
        target_execution_id: String,
    },
    StopExecution {
        pipeline: String,
        execution_id: String,
        abandon: bool,
        reason: String,
    },
    StartExecution {
        pipeline: String,
    },
    DisableTransition {
        pipeline: String,
        stage: String,
        reason: String,
    },
    EnableTransition {
        pipeline: String,
        stage: String,
    },
    StopDeployment {
        deployment_id: String,
        auto_rollback: bool,
    },
}

impl Operation {
    /// The IAM-style name of the API call this operation makes.
    pub fn api_call(&self) -> &'static str {
        match self {
            Operation::Approve { .. } | Operation::Reject { .. } => {
                "codepipeline:PutApprovalResult"
            }
            Operation::RetryStage { .. } => "codepipeline:RetryStageExecution",
            Operation::RollbackStage { .. } => "codepipeline:RollbackStage",
            Operation::StopExecution { .. } => "codepipeline:StopPipelineExecution",
            Operation::StartExecution { .. } => "codepipeline:StartPipelineExecution",
            Operation::DisableTransition { .. } => "codepipeline:DisableStageTransition",
            Operation::EnableTransition { .. } => "codepipeline:EnableStageTransition",
            Operation::StopDeployment { .. } => "codedeploy:StopDeployment",
        }
    }

    /// A short sentence naming what happens to what.
    pub fn summary(&self) -> String {
        match self {
            Operation::Approve {
                pipeline,
                stage,
                action,
                ..
            } => {
                format!("Approve {pipeline} / {stage} / {action}")
            }
            Operation::Reject {
                pipeline,
                stage,
                action,
                ..
            } => {
                format!("Reject {pipeline} / {stage} / {action}")
            }
            Operation::RetryStage {
                pipeline,
                stage,
                mode,
                ..
            } => match mode {
                RetryMode::FailedActions => format!("Retry failed actions of {pipeline} / {stage}"),
                RetryMode::AllActions => format!("Retry all actions of {pipeline} / {stage}"),
            },
            Operation::RollbackStage {
                pipeline,
                stage,
                target_execution_id,
            } => {
                format!("Roll back {pipeline} / {stage} to execution {target_execution_id}")
            }
            Operation::StopExecution {
                pipeline,
                execution_id,
                abandon,
                ..
            } => {
                let how = if *abandon { "abandon" } else { "stop and wait" };
                format!("Stop ({how}) execution {execution_id} of {pipeline}")
            }
            Operation::StartExecution { pipeline } => format!("Start a release of {pipeline}"),
            Operation::DisableTransition {
                pipeline, stage, ..
            } => {
                format!("Disable the transition into {pipeline} / {stage}")
            }
            Operation::EnableTransition { pipeline, stage } => {
                format!("Enable the transition into {pipeline} / {stage}")
            }
            Operation::StopDeployment {
                deployment_id,
                auto_rollback,
            } => {
                let how = if *auto_rollback { " and roll back" } else { "" };
                format!("Stop deployment {deployment_id}{how}")
            }
        }
    }

    /// The pipeline the operation acts on, if any.
    pub fn pipeline(&self) -> Option<&str> {
        match self {
            Operation::Approve { pipeline, .. }
            | Operation::Reject { pipeline, .. }
            | Operation::RetryStage { pipeline, .. }
            | Operation::RollbackStage { pipeline, .. }
            | Operation::StopExecution { pipeline, .. }
            | Operation::StartExecution { pipeline }
            | Operation::DisableTransition { pipeline, .. }
            | Operation::EnableTransition { pipeline, .. } => Some(pipeline),
            Operation::StopDeployment { .. } => None,
        }
    }

    /// The identifying parameters as `name=value` pairs, for the confirmation dialog.
    /// Approval tokens are shown in full: they are not secrets, and the dialog must name the ids.
    pub fn parameters(&self) -> Vec<(&'static str, String)> {
        match self {
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
            } => vec![
                ("pipeline", pipeline.clone()),
                ("stage", stage.clone()),
                ("action", action.clone()),
                ("token", token.clone()),
                ("comment", comment.clone()),
            ],
            Operation::RetryStage {
                pipeline,
                stage,
                execution_id,
                mode,
            } => vec![
                ("pipeline", pipeline.clone()),
                ("stage", stage.clone()),
                ("execution", execution_id.clone()),
                ("retry mode", mode.wire().to_string()),
            ],
            Operation::RollbackStage {
                pipeline,
                stage,
                target_execution_id,
            } => vec![
                ("pipeline", pipeline.clone()),
                ("stage", stage.clone()),
                ("target execution", target_execution_id.clone()),
            ],
            Operation::StopExecution {
                pipeline,
                execution_id,
                abandon,
                reason,
            } => vec![
                ("pipeline", pipeline.clone()),
                ("execution", execution_id.clone()),
                ("abandon", abandon.to_string()),
                ("reason", reason.clone()),
            ],
            Operation::StartExecution { pipeline } => vec![("pipeline", pipeline.clone())],
            Operation::DisableTransition {
                pipeline,
                stage,
                reason,
            } => vec![
                ("pipeline", pipeline.clone()),
                ("stage", stage.clone()),
                ("transition", "Inbound".to_string()),
                ("reason", reason.clone()),
            ],
            Operation::EnableTransition { pipeline, stage } => vec![
                ("pipeline", pipeline.clone()),
                ("stage", stage.clone()),
                ("transition", "Inbound".to_string()),
            ],
            Operation::StopDeployment {
                deployment_id,
                auto_rollback,
            } => vec![
                ("deployment", deployment_id.clone()),
                ("auto rollback", auto_rollback.to_string()),
            ],
        }
    }

    /// The equivalent `aws` CLI command (without `--endpoint-url`, which the caller adds for the
    /// emulator), with every value shell-quoted.
    pub fn cli_equivalent(&self) -> String {
        let mut cmd = match self {
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
                let status = if matches!(self, Operation::Approve { .. }) {
                    "Approved"
                } else {
                    "Rejected"
                };
                format!(
                    "aws codepipeline put-approval-result --pipeline-name {} --stage-name {} \
                     --action-name {} --result {} --token {}",
                    quote(pipeline),
                    quote(stage),
                    quote(action),
                    quote(&approval_result(comment, status)),
                    quote(token)
                )
            }
            Operation::RetryStage {
                pipeline,
                stage,
                execution_id,
                mode,
            } => format!(
                "aws codepipeline retry-stage-execution --pipeline-name {} --stage-name {} \
                 --pipeline-execution-id {} --retry-mode {}",
                quote(pipeline),
                quote(stage),
                quote(execution_id),
                mode.wire()
            ),
            Operation::RollbackStage {
                pipeline,
                stage,
                target_execution_id,
            } => format!(
                "aws codepipeline rollback-stage --pipeline-name {} --stage-name {} \
                 --target-pipeline-execution-id {}",
                quote(pipeline),
                quote(stage),
                quote(target_execution_id)
            ),
            Operation::StopExecution {
                pipeline,
                execution_id,
                abandon,
                reason,
            } => {
                let mut s = format!(
                    "aws codepipeline stop-pipeline-execution --pipeline-name {} \
                     --pipeline-execution-id {}",
                    quote(pipeline),
                    quote(execution_id)
                );
                s.push_str(if *abandon {
                    " --abandon"
                } else {
                    " --no-abandon"
                });
                if !reason.is_empty() {
                    s.push_str(&format!(" --reason {}", quote(reason)));
                }
                s
            }
            Operation::StartExecution { pipeline } => {
                format!(
                    "aws codepipeline start-pipeline-execution --name {}",
                    quote(pipeline)
                )
            }
            Operation::DisableTransition {
                pipeline,
                stage,
                reason,
            } => format!(
                "aws codepipeline disable-stage-transition --pipeline-name {} --stage-name {} \
                 --transition-type Inbound --reason {}",
                quote(pipeline),
                quote(stage),
                quote(reason)
            ),
            Operation::EnableTransition { pipeline, stage } => format!(
                "aws codepipeline enable-stage-transition --pipeline-name {} --stage-name {} \
                 --transition-type Inbound",
                quote(pipeline),
                quote(stage)
            ),
            Operation::StopDeployment {
                deployment_id,
                auto_rollback,
            } => format!(
                "aws deploy stop-deployment --deployment-id {} {}",
                quote(deployment_id),
                if *auto_rollback {
                    "--auto-rollback-enabled"
                } else {
                    "--no-auto-rollback-enabled"
                }
            ),
        };
        cmd.shrink_to_fit();
        cmd
    }
}

/// The `--result` value: CLI shorthand when the comment allows it, JSON otherwise (shorthand
/// cannot carry commas, equals signs or brackets).
fn approval_result(comment: &str, status: &str) -> String {
    let plain = !comment.is_empty()
        && !comment.contains([',', '=', '[', ']', '{', '}', '"', '\'', '\\'])
        && comment.trim() == comment;
    if plain {
        format!("summary={comment},status={status}")
    } else {
        serde_json::json!({ "summary": comment, "status": status }).to_string()
    }
}

/// POSIX shell quoting: bare when safe, single quotes otherwise.
pub(crate) fn quote(value: &str) -> String {
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

impl Operation {
    /// Two operations with the same key act on the same thing (comments and reasons aside);
    /// the console never has two of them in flight.
    pub fn dedup_key(&self) -> String {
        let mut key = self.api_call().to_string();
        for (name, value) in self.parameters() {
            if name != "comment" && name != "reason" {
                key.push('|');
                key.push_str(&value);
            }
        }
        key
    }
}
