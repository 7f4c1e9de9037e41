//! CodePipeline reads: the pipelines list, one pipeline's stages and actions, executions and
//! action executions.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_codepipeline::types as cp;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{owned, ts};
use crate::aws::{AwsError, Clients, SdkResultExt};
use crate::model::{
    ActionExecution, ActionState, ErrorDetails, ExecutionSummary, LatestStageExecution,
    PipelineDetail, PipelineSummary, Revision, StageCell, StageState, Status, TransitionState,
};

/// Requests in flight at once while reading every pipeline's state. CodePipeline publishes no
/// per-API TPS; 8 keeps a 100-pipeline refresh well under what accounts observe as throttling.
const CONCURRENCY: usize = 8;

/// Action configuration keys of a manual approval (`ActionDeclaration.configuration`).
const CUSTOM_DATA: &str = "CustomData";
const REVIEW_URL: &str = "ExternalEntityLink";

/// Every pipeline (all pages of `ListPipelines`) with its stages' latest status, the latest
/// execution and the number of approvals waiting; in `ListPipelines` order.
pub async fn pipelines(clients: &Clients) -> Result<Vec<PipelineSummary>, AwsError> {
    let endpoint = clients.endpoint();
    let listed: Vec<cp::PipelineSummary> = clients
        .codepipeline
        .list_pipelines()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .or_aws("ListPipelines", &endpoint)?;

    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    for (index, summary) in listed.into_iter().enumerate() {
        let clients = clients.clone();
        let permits = permits.clone();
        tasks.spawn(async move {
            // The semaphore is never closed, so acquiring only waits.
            let _permit = permits.acquire_owned().await;
            (index, pipeline_summary(&clients, summary).await)
        });
    }
    let mut rows = Vec::with_capacity(tasks.len());
    while let Some(joined) = tasks.join_next().await {
        let (index, row) =
            joined.map_err(|e| AwsError::Other(format!("pipeline read task failed: {e}")))?;
        match row {
            Ok(row) => rows.push((index, row)),
            // Deleted between ListPipelines and GetPipelineState: not an error for the list.
            Err(AwsError::Service { code, .. }) if code == "PipelineNotFoundException" => {}
            Err(e) => return Err(e),
        }
    }
    rows.sort_by_key(|(index, _)| *index);
    Ok(rows.into_iter().map(|(_, row)| row).collect())
}

async fn pipeline_summary(
    clients: &Clients,
    listed: cp::PipelineSummary,
) -> Result<PipelineSummary, AwsError> {
    let endpoint = clients.endpoint();
    let name = listed.name().unwrap_or_default().to_string();
    let state = clients
        .codepipeline
        .get_pipeline_state()
        .name(&name)
        .send()
        .await
        .or_aws("GetPipelineState", &endpoint)?;
    let latest = clients
        .codepipeline
        .list_pipeline_executions()
        .pipeline_name(&name)
        .max_results(1)
        .send()
        .await
        .or_aws("ListPipelineExecutions", &endpoint)?;
    let stages = state
        .stage_states()
        .iter()
        .map(|s| StageCell {
            name: s.stage_name().unwrap_or_default().to_string(),
            status: s
                .latest_execution()
                .map_or(Status::None, |e| Status::parse(e.status().as_str())),
            execution_id: s
                .latest_execution()
                .map(|e| e.pipeline_execution_id().to_string()),
        })
        .collect();
    let pending_approvals = state
        .stage_states()
        .iter()
        .flat_map(|s| s.action_states())
        .filter(|a| a.latest_execution().is_some_and(awaiting_decision))
        .count();
    Ok(PipelineSummary {
        version: state.pipeline_version().or(listed.version()).unwrap_or(0),
        stages,
        latest_execution: latest.pipeline_execution_summaries().first().map(execution),
        pending_approvals,
        updated: ts(state.updated()).or(ts(listed.updated())),
        name,
    })
}

/// Only a manual approval waiting for a decision carries a token while in progress.
fn awaiting_decision(e: &cp::ActionExecution) -> bool {
    e.token().is_some()
        && e.status()
            .is_some_and(|s| *s == cp::ActionExecutionStatus::InProgress)
}

/// `GetPipeline` + `GetPipelineState` merged: each stage with its actions (category and provider
/// from the declaration, status and approval token from the state) and the revision each stage is
/// working on (`GetPipelineExecution` of the stage's latest execution).
pub async fn pipeline(clients: &Clients, name: &str) -> Result<PipelineDetail, AwsError> {
    let endpoint = clients.endpoint();
    let declared = clients
        .codepipeline
        .get_pipeline()
        .name(name)
        .send()
        .await
        .or_aws("GetPipeline", &endpoint)?;
    let state = clients
        .codepipeline
        .get_pipeline_state()
        .name(name)
        .send()
        .await
        .or_aws("GetPipelineState", &endpoint)?;
    let declaration = declared.pipeline();
    let actions_declared: HashMap<(&str, &str), &cp::ActionDeclaration> = declaration
        .map(|p| p.stages())
        .unwrap_or_default()
        .iter()
        .flat_map(|s| s.actions().iter().map(move |a| ((s.name(), a.name()), a)))
        .collect();

    let revisions = execution_revisions(clients, name, &state).await?;
    let mut stages: Vec<StageState> = state
        .stage_states()
        .iter()
        .map(|s| {
            let stage = s.stage_name().unwrap_or_default();
            let latest = s.latest_execution().map(|e| LatestStageExecution {
                execution_id: e.pipeline_execution_id().to_string(),
                status: Status::parse(e.status().as_str()),
            });
            let revision = latest
                .as_ref()
                .and_then(|l| revisions.get(&l.execution_id))
                .cloned()
                .flatten();
            StageState {
                name: stage.to_string(),
                inbound_transition: s
                    .inbound_transition_state()
                    .map(transition)
                    .unwrap_or_default(),
                actions: s
                    .action_states()
                    .iter()
                    .map(|a| {
                        let declared = actions_declared
                            .get(&(stage, a.action_name().unwrap_or_default()))
                            .copied();
                        action_state(a, declared)
                    })
                    .collect(),
                latest_execution: latest,
                revision,
            }
        })
        .collect();
    resolve_approval_data(clients, name, &mut stages).await?;
    Ok(PipelineDetail {
        name: name.to_string(),
        pipeline_type: declaration
            .and_then(|p| p.pipeline_type())
            .map_or_else(|| "V1".to_string(), |t| t.as_str().to_string()),
        execution_mode: declaration
            .and_then(|p| p.execution_mode())
            .map_or_else(|| "SUPERSEDED".to_string(), |m| m.as_str().to_string()),
        stages,
        variables: declaration
            .map(|p| p.variables())
            .unwrap_or_default()
            .iter()
            .map(|v| {
                (
                    v.name().to_string(),
                    v.default_value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        updated: ts(state.updated()).or(declared.metadata().and_then(|m| ts(m.updated()))),
    })
}

/// A waiting approval's custom data with its variables resolved (`#{SourceVariables.CommitId}`
/// becomes the commit), from the action execution's resolved configuration.
async fn resolve_approval_data(
    clients: &Clients,
    name: &str,
    stages: &mut [StageState],
) -> Result<(), AwsError> {
    for stage in stages.iter_mut() {
        let Some(execution_id) = stage
            .latest_execution
            .as_ref()
            .map(|l| l.execution_id.clone())
        else {
            continue;
        };
        if !stage.actions.iter().any(ActionState::awaiting_approval) {
            continue;
        }
        let runs = action_executions(clients, name, &execution_id).await?;
        for action in stage.actions.iter_mut().filter(|a| a.awaiting_approval()) {
            let resolved = runs
                .iter()
                .filter(|r| r.stage == stage.name && r.action == action.name)
                .find(|r| {
                    action.action_execution_id.is_none()
                        || r.action_execution_id == action.action_execution_id
                })
                .and_then(|r| r.input_config.iter().find(|(k, _)| k == CUSTOM_DATA))
                .map(|(_, v)| v.clone());
            if resolved.is_some() {
                action.custom_data = resolved;
            }
        }
    }
    Ok(())
}

/// The first source revision of each distinct execution the stages are on (usually one to three).
async fn execution_revisions(
    clients: &Clients,
    name: &str,
    state: &aws_sdk_codepipeline::operation::get_pipeline_state::GetPipelineStateOutput,
) -> Result<HashMap<String, Option<Revision>>, AwsError> {
    let mut out = HashMap::new();
    for stage in state.stage_states() {
        let Some(id) = stage.latest_execution().map(|e| e.pipeline_execution_id()) else {
            continue;
        };
        if out.contains_key(id) {
            continue;
        }
        let found = clients
            .codepipeline
            .get_pipeline_execution()
            .pipeline_name(name)
            .pipeline_execution_id(id)
            .send()
            .await;
        let revision = match found {
            Ok(found) => found
                .pipeline_execution()
                .and_then(|e| e.artifact_revisions().first())
                .map(|r| Revision {
                    id: r.revision_id().unwrap_or_default().to_string(),
                    summary: owned(r.revision_summary()),
                    created: ts(r.created()),
                    url: owned(r.revision_url()),
                }),
            // Executions older than the history window are gone; the stage simply shows none.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_pipeline_execution_not_found_exception()) =>
            {
                None
            }
            Err(e) => {
                return Err(crate::aws::from_sdk(
                    "GetPipelineExecution",
                    &clients.endpoint(),
                    e,
                ));
            }
        };
        out.insert(id.to_string(), revision);
    }
    Ok(out)
}

fn transition(t: &cp::TransitionState) -> TransitionState {
    TransitionState {
        enabled: t.enabled(),
        reason: owned(t.disabled_reason()),
        last_changed_by: owned(t.last_changed_by()),
        last_changed_at: ts(t.last_changed_at()),
    }
}

fn action_state(a: &cp::ActionState, declared: Option<&cp::ActionDeclaration>) -> ActionState {
    let latest = a.latest_execution();
    let type_id = declared.and_then(|d| d.action_type_id());
    let config = declared.and_then(|d| d.configuration());
    let config_value = |key: &str| config.and_then(|c| owned(c.get(key).map(String::as_str)));
    ActionState {
        name: a.action_name().unwrap_or_default().to_string(),
        category: type_id.map_or_else(String::new, |t| t.category().as_str().to_string()),
        provider: type_id.map_or_else(String::new, |t| t.provider().to_string()),
        status: latest
            .and_then(|e| e.status())
            .map_or(Status::None, |s| Status::parse(s.as_str())),
        summary: latest.and_then(|e| owned(e.summary())),
        last_status_change: latest.and_then(|e| ts(e.last_status_change())),
        external_execution_id: latest.and_then(|e| owned(e.external_execution_id())),
        external_execution_url: latest.and_then(|e| owned(e.external_execution_url())),
        error: latest.and_then(|e| e.error_details()).map(error_details),
        token: latest.and_then(|e| owned(e.token())),
        custom_data: config_value(CUSTOM_DATA),
        review_url: config_value(REVIEW_URL).or_else(|| owned(a.entity_url())),
        revision: a.current_revision().map(|r| Revision {
            id: r.revision_id().to_string(),
            summary: owned(Some(r.revision_change_id())),
            created: ts(Some(r.created())),
            url: owned(a.revision_url()),
        }),
        action_execution_id: latest.and_then(|e| owned(e.action_execution_id())),
    }
}

fn error_details(e: &cp::ErrorDetails) -> ErrorDetails {
    ErrorDetails {
        code: e.code().unwrap_or_default().to_string(),
        message: e.message().unwrap_or_default().to_string(),
    }
}

fn execution(e: &cp::PipelineExecutionSummary) -> ExecutionSummary {
    ExecutionSummary {
        id: e.pipeline_execution_id().unwrap_or_default().to_string(),
        status: e
            .status()
            .map_or(Status::None, |s| Status::parse(s.as_str())),
        status_summary: owned(e.status_summary()),
        trigger_type: e
            .trigger()
            .and_then(|t| t.trigger_type())
            .map(|t| t.as_str().to_string()),
        trigger_detail: e.trigger().and_then(|t| owned(t.trigger_detail())),
        start: ts(e.start_time()),
        last_update: ts(e.last_update_time()),
        source_revisions: e
            .source_revisions()
            .iter()
            .map(|r| Revision {
                id: r.revision_id().unwrap_or_default().to_string(),
                summary: owned(r.revision_summary()),
                created: None,
                url: owned(r.revision_url()),
            })
            .collect(),
        execution_type: e.execution_type().map(|t| t.as_str().to_string()),
        execution_mode: e.execution_mode().map(|m| m.as_str().to_string()),
    }
}

/// The most recent executions of a pipeline, newest first (one page: at most 100).
pub async fn executions(clients: &Clients, name: &str) -> Result<Vec<ExecutionSummary>, AwsError> {
    let out = clients
        .codepipeline
        .list_pipeline_executions()
        .pipeline_name(name)
        .send()
        .await
        .or_aws("ListPipelineExecutions", &clients.endpoint())?;
    Ok(out
        .pipeline_execution_summaries()
        .iter()
        .map(execution)
        .collect())
}

/// Every action execution of one pipeline execution (all pages).
pub async fn action_executions(
    clients: &Clients,
    name: &str,
    execution_id: &str,
) -> Result<Vec<ActionExecution>, AwsError> {
    let filter = cp::ActionExecutionFilter::builder()
        .pipeline_execution_id(execution_id)
        .build();
    let details: Vec<cp::ActionExecutionDetail> = clients
        .codepipeline
        .list_action_executions()
        .pipeline_name(name)
        .filter(filter)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .or_aws("ListActionExecutions", &clients.endpoint())?;
    Ok(details.iter().map(action_execution).collect())
}

fn action_execution(d: &cp::ActionExecutionDetail) -> ActionExecution {
    let input = d.input();
    let result = d.output().and_then(|o| o.execution_result());
    let sorted = |map: Option<&HashMap<String, String>>| {
        let mut pairs: Vec<(String, String)> = map
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        pairs.sort();
        pairs
    };
    ActionExecution {
        execution_id: d.pipeline_execution_id().unwrap_or_default().to_string(),
        action_execution_id: owned(d.action_execution_id()),
        stage: d.stage_name().unwrap_or_default().to_string(),
        action: d.action_name().unwrap_or_default().to_string(),
        provider: input
            .and_then(|i| i.action_type_id())
            .map(|t| t.provider().to_string()),
        status: d
            .status()
            .map_or(Status::None, |s| Status::parse(s.as_str())),
        start: ts(d.start_time()),
        last_update: ts(d.last_update_time()),
        external_execution_id: result.and_then(|r| owned(r.external_execution_id())),
        external_execution_url: result.and_then(|r| owned(r.external_execution_url())),
        summary: result.and_then(|r| owned(r.external_execution_summary())),
        error: result.and_then(|r| r.error_details()).map(error_details),
        input_config: sorted(input.and_then(|i| i.resolved_configuration().or(i.configuration()))),
        output_variables: sorted(d.output().and_then(|o| o.output_variables())),
    }
}
