//! What an action ran: a CodeBuild build with its phases and log location, a CodeDeploy
//! deployment with each host's lifecycle events.

use aws_sdk_codedeploy::types as cd;

use super::{owned, ts};
use crate::aws::{AwsError, Clients, SdkResultExt};
use crate::model::{
    Build, BuildPhase, Deployment, DeploymentCounts, DeploymentTarget, Diagnostics, ErrorDetails,
    LifecycleEvent, RollbackInfo, Status,
};

/// The project tag that makes the emulator replay a buildspec instead of running it.
const SIMULATED_TAG: &str = "pipetui:simulated";
/// The environment variable the emulator gives a simulated build.
const SIMULATED_ENV: &str = "PIPETUI_SIMULATED";

/// BatchGetDeploymentTargets accepts at most 25 ids per call.
const TARGET_BATCH: usize = 25;

/// One build (`BatchGetBuilds`), with whether it was simulated (`BatchGetProjects` tags).
pub async fn build(clients: &Clients, id: &str) -> Result<Build, AwsError> {
    let endpoint = clients.endpoint();
    let out = clients
        .codebuild
        .batch_get_builds()
        .ids(id)
        .send()
        .await
        .or_aws("BatchGetBuilds", &endpoint)?;
    // BatchGetBuilds answers 200 with `buildsNotFound`; turn that into the error a user expects.
    let Some(b) = out.builds().first() else {
        return Err(AwsError::Service {
            code: "ResourceNotFoundException".to_string(),
            message: format!("Build {id} not found"),
            operation: "BatchGetBuilds",
        });
    };
    let project = b.project_name().unwrap_or_default().to_string();
    let simulated = env_simulated(b) || project_simulated(clients, &project).await?;
    Ok(Build {
        id: b.id().unwrap_or(id).to_string(),
        status: b
            .build_status()
            .map_or(Status::None, |s| Status::parse(s.as_str())),
        current_phase: owned(b.current_phase()),
        phases: b
            .phases()
            .iter()
            .map(|p| BuildPhase {
                name: p
                    .phase_type()
                    .map_or_else(String::new, |t| t.as_str().to_string()),
                // A phase still running has no status yet.
                status: p
                    .phase_status()
                    .map_or(Status::InProgress, |s| Status::parse(s.as_str())),
                start: ts(p.start_time()),
                end: ts(p.end_time()),
                duration_secs: p.duration_in_seconds(),
                context: p
                    .contexts()
                    .iter()
                    .filter(|c| c.status_code().is_some() || c.message().is_some())
                    .map(|c| {
                        let code = c.status_code().unwrap_or_default();
                        let msg = c.message().unwrap_or_default();
                        match (code.is_empty(), msg.is_empty()) {
                            (false, false) => format!("{code}: {msg}"),
                            (true, _) => msg.to_string(),
                            (false, true) => code.to_string(),
                        }
                    })
                    .filter(|s| !s.is_empty())
                    .collect(),
            })
            .collect(),
        log_group: b.logs().and_then(|l| owned(l.group_name())),
        log_stream: b.logs().and_then(|l| owned(l.stream_name())),
        simulated,
        source_version: owned(b.resolved_source_version()).or_else(|| owned(b.source_version())),
        initiator: owned(b.initiator()),
        start: ts(b.start_time()),
        end: ts(b.end_time()),
        project,
    })
}

/// Whether the build ran with `PIPETUI_SIMULATED=true` in its environment.
fn env_simulated(b: &aws_sdk_codebuild::types::Build) -> bool {
    b.environment()
        .map(|e| e.environment_variables())
        .unwrap_or_default()
        .iter()
        .any(|v| v.name() == SIMULATED_ENV && v.value().eq_ignore_ascii_case("true"))
}

async fn project_simulated(clients: &Clients, project: &str) -> Result<bool, AwsError> {
    if project.is_empty() {
        return Ok(false);
    }
    let out = clients
        .codebuild
        .batch_get_projects()
        .names(project)
        .send()
        .await
        .or_aws("BatchGetProjects", &clients.endpoint())?;
    Ok(out.projects().iter().flat_map(|p| p.tags()).any(|t| {
        t.key() == Some(SIMULATED_TAG) && t.value().is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }))
}

/// One deployment (`GetDeployment`) with every target's lifecycle events
/// (`ListDeploymentTargets` + `BatchGetDeploymentTargets`, or the instance APIs where targets
/// are not supported).
pub async fn deployment(clients: &Clients, id: &str) -> Result<Deployment, AwsError> {
    let endpoint = clients.endpoint();
    let out = clients
        .codedeploy
        .get_deployment()
        .deployment_id(id)
        .send()
        .await
        .or_aws("GetDeployment", &endpoint)?;
    let Some(info) = out.deployment_info() else {
        return Err(AwsError::Other(format!(
            "GetDeployment: no deployment info for {id}"
        )));
    };
    let targets = match deployment_targets(clients, id).await {
        // A deployment that is created but not started has no targets yet.
        Err(AwsError::Service { code, .. }) if code == "DeploymentNotStartedException" => {
            Vec::new()
        }
        Err(AwsError::Service { code, .. }) if targets_unsupported(&code) => {
            match deployment_instances(clients, id).await {
                Err(AwsError::Service { code, .. }) if code == "DeploymentNotStartedException" => {
                    Vec::new()
                }
                other => other?,
            }
        }
        other => other?,
    };
    let overview = info.deployment_overview();
    Ok(Deployment {
        id: info.deployment_id().unwrap_or(id).to_string(),
        application: info.application_name().unwrap_or_default().to_string(),
        group: info.deployment_group_name().unwrap_or_default().to_string(),
        status: info
            .status()
            .map_or(Status::None, |s| Status::parse(s.as_str())),
        creator: info.creator().map(|c| c.as_str().to_string()),
        overview: overview.map_or_else(DeploymentCounts::default, |o| DeploymentCounts {
            pending: o.pending(),
            in_progress: o.in_progress(),
            succeeded: o.succeeded(),
            failed: o.failed(),
            skipped: o.skipped(),
            ready: o.ready(),
        }),
        error: info.error_information().map(|e| ErrorDetails {
            code: e
                .code()
                .map_or_else(String::new, |c| c.as_str().to_string()),
            message: e.message().unwrap_or_default().to_string(),
        }),
        rollback: info.rollback_info().map(|r| RollbackInfo {
            rollback_deployment_id: owned(r.rollback_deployment_id()),
            triggering_deployment_id: owned(r.rollback_triggering_deployment_id()),
            message: owned(r.rollback_message()),
        }),
        compute_platform: info.compute_platform().map(|p| p.as_str().to_string()),
        create: ts(info.create_time()),
        complete: ts(info.complete_time()),
        targets,
    })
}

/// Errors meaning "this endpoint has no target APIs", as opposed to a real failure.
fn targets_unsupported(code: &str) -> bool {
    matches!(
        code,
        "UnknownOperation" | "UnknownOperationException" | "InvalidAction" | "NotImplemented"
    )
}

async fn deployment_targets(
    clients: &Clients,
    id: &str,
) -> Result<Vec<DeploymentTarget>, AwsError> {
    let endpoint = clients.endpoint();
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .codedeploy
            .list_deployment_targets()
            .deployment_id(id)
            .set_next_token(token.take())
            .send()
            .await
            .or_aws("ListDeploymentTargets", &endpoint)?;
        ids.extend(page.target_ids().iter().cloned());
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    let mut targets = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(TARGET_BATCH) {
        let out = clients
            .codedeploy
            .batch_get_deployment_targets()
            .deployment_id(id)
            .set_target_ids(Some(chunk.to_vec()))
            .send()
            .await
            .or_aws("BatchGetDeploymentTargets", &endpoint)?;
        targets.extend(out.deployment_targets().iter().filter_map(target));
    }
    Ok(targets)
}

fn target(t: &cd::DeploymentTarget) -> Option<DeploymentTarget> {
    let kind = |k: &str| k.to_string();
    let (kind, id, status, events) = if let Some(i) = t.instance_target() {
        (
            kind("InstanceTarget"),
            i.target_id(),
            i.status().map(|s| s.as_str()),
            i.lifecycle_events(),
        )
    } else if let Some(e) = t.ecs_target() {
        (
            kind("ECSTarget"),
            e.target_id(),
            e.status().map(|s| s.as_str()),
            e.lifecycle_events(),
        )
    } else if let Some(l) = t.lambda_target() {
        (
            kind("LambdaTarget"),
            l.target_id(),
            l.status().map(|s| s.as_str()),
            l.lifecycle_events(),
        )
    } else if let Some(c) = t.cloud_formation_target() {
        (
            kind("CloudFormationTarget"),
            c.target_id(),
            c.status().map(|s| s.as_str()),
            c.lifecycle_events(),
        )
    } else {
        return None;
    };
    Some(DeploymentTarget {
        id: id.unwrap_or_default().to_string(),
        kind,
        status: status.map_or(Status::None, Status::parse),
        lifecycle: events.iter().map(lifecycle_event).collect(),
    })
}

// The instance APIs are deprecated in favour of the target ones, which is why they are only
// the fallback for endpoints without target support.
#[allow(deprecated)]
async fn deployment_instances(
    clients: &Clients,
    id: &str,
) -> Result<Vec<DeploymentTarget>, AwsError> {
    let endpoint = clients.endpoint();
    let ids: Vec<String> = clients
        .codedeploy
        .list_deployment_instances()
        .deployment_id(id)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .or_aws("ListDeploymentInstances", &endpoint)?;
    let mut targets = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(TARGET_BATCH) {
        let out = clients
            .codedeploy
            .batch_get_deployment_instances()
            .deployment_id(id)
            .set_instance_ids(Some(chunk.to_vec()))
            .send()
            .await
            .or_aws("BatchGetDeploymentInstances", &endpoint)?;
        targets.extend(out.instances_summary().iter().map(|i| {
            DeploymentTarget {
                id: i.instance_id().unwrap_or_default().to_string(),
                kind: "InstanceTarget".to_string(),
                status: i
                    .status()
                    .map_or(Status::None, |s| Status::parse(s.as_str())),
                lifecycle: i.lifecycle_events().iter().map(lifecycle_event).collect(),
            }
        }));
    }
    Ok(targets)
}

fn lifecycle_event(e: &cd::LifecycleEvent) -> LifecycleEvent {
    LifecycleEvent {
        name: e.lifecycle_event_name().unwrap_or_default().to_string(),
        status: e
            .status()
            .map_or(Status::None, |s| Status::parse(s.as_str())),
        start: ts(e.start_time()),
        end: ts(e.end_time()),
        diagnostics: e.diagnostics().map(|d| Diagnostics {
            error_code: d.error_code().map(|c| c.as_str().to_string()),
            script_name: owned(d.script_name()),
            message: owned(d.message()),
            log_tail: owned(d.log_tail()),
        }),
    }
}
