//! Pipeline reads and every CodePipeline operation against the emulated CodePipeline engine
//! (git source from the bundled sample app, manual approval, Lambda invoke).

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_codepipeline::types::{
    ActionCategory, ActionDeclaration, ActionOwner, ActionTypeId, ArtifactStore, ArtifactStoreType,
    ExecutionMode, InputArtifact, OutputArtifact, PipelineDeclaration, PipelineType,
    StageDeclaration,
};
use pipetui::audit::{AuditLog, Outcome};
use pipetui::aws::{Clients, ops, reads};
use pipetui::model::{Operation, RetryMode, Status};
use pipetui_emulator::Emulator;
use pipetui_emulator::engine::sample_app::git;

use super::{service_code, setup};

pub(super) const PIPELINE: &str = "acme-orders-pipeline";

fn action(
    name: &str,
    category: ActionCategory,
    provider: &str,
    config: &[(&str, &str)],
    inputs: &[&str],
    outputs: &[&str],
) -> ActionDeclaration {
    let mut b = ActionDeclaration::builder()
        .name(name)
        .run_order(1)
        .action_type_id(
            ActionTypeId::builder()
                .category(category)
                .owner(ActionOwner::Aws)
                .provider(provider)
                .version("1")
                .build()
                .unwrap(),
        );
    for (k, v) in config {
        b = b.configuration(*k, *v);
    }
    for i in inputs {
        b = b.input_artifacts(InputArtifact::builder().name(*i).build().unwrap());
    }
    for o in outputs {
        b = b.output_artifacts(OutputArtifact::builder().name(*o).build().unwrap());
    }
    b.build().unwrap()
}

fn stage(name: &str, action: ActionDeclaration) -> StageDeclaration {
    StageDeclaration::builder()
        .name(name)
        .actions(action)
        .build()
        .unwrap()
}

/// source → production-approval → release (Lambda invoke), like the stack's pipeline in small.
fn declaration() -> PipelineDeclaration {
    let mut source = action(
        "Source",
        ActionCategory::Source,
        "CodeCommit",
        &[("RepositoryName", "orders"), ("BranchName", "main")],
        &[],
        &["SourceOutput"],
    );
    source.namespace = Some("SourceVariables".into());
    let approval = action(
        "Approval",
        ActionCategory::Approval,
        "Manual",
        &[
            (
                "CustomData",
                "Ship #{SourceVariables.CommitId} to production?",
            ),
            ("ExternalEntityLink", "https://example.com/review"),
        ],
        &[],
        &[],
    );
    let release = action(
        "Announce",
        ActionCategory::Invoke,
        "Lambda",
        &[("FunctionName", "announce")],
        &["SourceOutput"],
        &[],
    );
    PipelineDeclaration::builder()
        .name(PIPELINE)
        .role_arn("arn:aws:iam::000000000000:role/pipeline")
        .artifact_store(
            ArtifactStore::builder()
                .r#type(ArtifactStoreType::S3)
                .location("artifacts")
                .build()
                .unwrap(),
        )
        .pipeline_type(PipelineType::V2)
        .execution_mode(ExecutionMode::Superseded)
        .stages(stage("source", source))
        .stages(stage("production-approval", approval))
        .stages(stage("release", release))
        .build()
        .unwrap()
}

pub(super) async fn create(emu: &Arc<Emulator>, clients: &Clients) -> String {
    clients
        .codepipeline
        .create_pipeline()
        .pipeline(declaration())
        .send()
        .await
        .unwrap();
    settle(emu);
    let repo = emu.settings.source_repo("orders").unwrap();
    git(&repo, &["rev-parse", "HEAD"])
        .unwrap()
        .trim()
        .to_string()
}

pub(super) fn settle(emu: &Emulator) {
    assert!(emu.settle(Duration::from_secs(30)), "the engine settled");
}

/// The waiting approval as the console would offer it.
pub(super) async fn approve_op(clients: &Clients, comment: &str, approve: bool) -> Operation {
    let detail = reads::pipeline(clients, PIPELINE).await.unwrap();
    let stage = &detail.stages[1];
    let action = &stage.actions[0];
    assert!(action.awaiting_approval(), "{action:?}");
    let (pipeline, stage, action, token, comment) = (
        PIPELINE.to_string(),
        stage.name.clone(),
        action.name.clone(),
        action.token.clone().unwrap(),
        comment.to_string(),
    );
    if approve {
        Operation::Approve {
            pipeline,
            stage,
            action,
            token,
            comment,
        }
    } else {
        Operation::Reject {
            pipeline,
            stage,
            action,
            token,
            comment,
        }
    }
}

#[tokio::test]
async fn the_pipelines_list_shows_stage_cells_and_waiting_approvals() {
    let (emu, clients) = setup();
    assert!(reads::pipelines(&clients).await.unwrap().is_empty());
    let head = create(&emu, &clients).await;

    let list = reads::pipelines(&clients).await.unwrap();
    assert_eq!(list.len(), 1);
    let p = &list[0];
    assert_eq!(p.name, PIPELINE);
    let cells: Vec<_> = p
        .stages
        .iter()
        .map(|s| (s.name.as_str(), s.status.clone()))
        .collect();
    assert_eq!(
        cells,
        [
            ("source", Status::Succeeded),
            ("production-approval", Status::InProgress),
            ("release", Status::None),
        ]
    );
    assert_eq!(p.pending_approvals, 1);
    let latest = p.latest_execution.as_ref().unwrap();
    assert_eq!(latest.status, Status::InProgress);
    assert_eq!(latest.trigger_type.as_deref(), Some("CreatePipeline"));
    assert_eq!(latest.source_revisions[0].id, head);
    assert_eq!(
        p.stages[0].execution_id.as_deref(),
        Some(latest.id.as_str())
    );
}

#[tokio::test]
async fn the_pipeline_detail_carries_what_the_approval_dialog_shows() {
    let (emu, clients) = setup();
    let head = create(&emu, &clients).await;
    let d = reads::pipeline(&clients, PIPELINE).await.unwrap();
    assert_eq!(d.pipeline_type, "V2");
    assert_eq!(d.execution_mode, "SUPERSEDED");
    let names: Vec<_> = d.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["source", "production-approval", "release"]);

    let source = &d.stages[0].actions[0];
    assert_eq!(
        (source.category.as_str(), source.provider.as_str()),
        ("Source", "CodeCommit")
    );
    assert_eq!(source.status, Status::Succeeded);
    assert_eq!(source.revision.as_ref().unwrap().id, head);

    let gate = &d.stages[1];
    assert!(gate.inbound_transition.enabled);
    let revision = gate
        .revision
        .as_ref()
        .expect("the revision the stage works on");
    assert_eq!(revision.id, head);
    assert_eq!(
        revision.summary.as_deref(),
        Some("Initial commit of the orders sample app")
    );
    let approval = &gate.actions[0];
    assert_eq!(
        (approval.category.as_str(), approval.provider.as_str()),
        ("Approval", "Manual")
    );
    assert!(approval.awaiting_approval());
    assert_eq!(
        approval.custom_data.as_deref(),
        Some(format!("Ship {head} to production?").as_str()),
        "custom data with its variables resolved"
    );
    assert_eq!(
        approval.review_url.as_deref(),
        Some("https://example.com/review")
    );
    assert_eq!(d.stages[2].latest_execution, None);

    let err = reads::pipeline(&clients, "nope").await.unwrap_err();
    assert_eq!(service_code(&err), "PipelineNotFoundException");
    assert!(
        err.to_string().starts_with("PipelineNotFoundException: "),
        "{err}"
    );
}

#[tokio::test]
async fn approving_releases_and_the_history_shows_it() {
    let (emu, clients) = setup();
    create(&emu, &clients).await;
    let op = approve_op(&clients, "looks good", true).await;
    let notice = ops::run(&clients, &op).await.unwrap();
    assert_eq!(
        notice,
        format!("Approved Approval in production-approval of {PIPELINE}")
    );
    settle(&emu);

    let list = reads::pipelines(&clients).await.unwrap();
    assert_eq!(list[0].pending_approvals, 0);
    assert!(
        list[0].stages.iter().all(|s| s.status == Status::Succeeded),
        "{list:?}"
    );
    let executions = reads::executions(&clients, PIPELINE).await.unwrap();
    assert_eq!(executions.len(), 1);
    assert_eq!(executions[0].status, Status::Succeeded);

    let runs = reads::action_executions(&clients, PIPELINE, &executions[0].id)
        .await
        .unwrap();
    let approval = runs.iter().find(|r| r.action == "Approval").unwrap();
    assert_eq!(approval.stage, "production-approval");
    assert_eq!(approval.status, Status::Succeeded);
    assert_eq!(approval.provider.as_deref(), Some("Manual"));
    assert!(
        runs.iter()
            .any(|r| r.action == "Announce" && r.status == Status::Succeeded)
    );

    // The same token again: the decision is already made.
    let err = ops::run(&clients, &op).await.unwrap_err();
    assert_eq!(service_code(&err), "ApprovalAlreadyCompletedException");
    assert!(
        err.to_string()
            .starts_with("ApprovalAlreadyCompletedException: "),
        "{err}"
    );
}

#[tokio::test]
async fn an_audited_approval_records_identity_target_and_cli_equivalent() {
    let (emu, clients) = setup();
    create(&emu, &clients).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(dir.path()).unwrap();
    let who = reads::identity(&clients).await.unwrap();
    let op = approve_op(&clients, "ship it", true).await;
    let token = match &op {
        Operation::Approve { token, .. } => token.clone(),
        _ => unreachable!(),
    };
    ops::run_audited(&clients, &audit, Some(&who), &op)
        .await
        .unwrap();
    let failed = ops::run_audited(&clients, &audit, Some(&who), &op)
        .await
        .unwrap_err();

    let entries = audit.recent(10).unwrap();
    assert_eq!(entries.len(), 2);
    let ok = &entries[1];
    assert_eq!(ok.identity, who.arn);
    assert_eq!(ok.target, "EMULATOR");
    assert_eq!(ok.operation, "codepipeline:PutApprovalResult");
    assert_eq!(ok.parameters["comment"], "ship it");
    assert_eq!(ok.parameters["stage"], "production-approval");
    assert_eq!(
        ok.outcome,
        Outcome::Succeeded(format!(
            "Approved Approval in production-approval of {PIPELINE}"
        ))
    );
    assert_eq!(
        ok.cli_command,
        format!(
            "aws codepipeline put-approval-result --pipeline-name {PIPELINE} \
             --stage-name production-approval --action-name Approval \
             --result 'summary=ship it,status=Approved' --token {token} \
             --endpoint-url http://127.0.0.1:4566"
        )
    );
    assert_eq!(entries[0].outcome, Outcome::Failed(failed.to_string()));
}

#[tokio::test]
async fn reject_retry_and_roll_back_a_stage() {
    let (emu, clients) = setup();
    create(&emu, &clients).await;
    let op = approve_op(&clients, "approve the first", true).await;
    ops::run(&clients, &op).await.unwrap();
    settle(&emu);
    let good = reads::executions(&clients, PIPELINE).await.unwrap()[0]
        .id
        .clone();

    let started = ops::run(
        &clients,
        &Operation::StartExecution {
            pipeline: PIPELINE.into(),
        },
    )
    .await
    .unwrap();
    assert!(started.starts_with("Started execution "), "{started}");
    settle(&emu);
    let reject = approve_op(&clients, "not today", false).await;
    let notice = ops::run(&clients, &reject).await.unwrap();
    assert_eq!(
        notice,
        format!("Rejected Approval in production-approval of {PIPELINE}")
    );
    settle(&emu);
    let latest = reads::executions(&clients, PIPELINE).await.unwrap()[0].clone();
    assert_eq!(latest.status, Status::Failed);
    let gate = &reads::pipeline(&clients, PIPELINE).await.unwrap().stages[1];
    assert_eq!(gate.actions[0].status, Status::Failed);

    let retry = Operation::RetryStage {
        pipeline: PIPELINE.into(),
        stage: "production-approval".into(),
        execution_id: latest.id.clone(),
        mode: RetryMode::FailedActions,
    };
    let notice = ops::run(&clients, &retry).await.unwrap();
    assert_eq!(
        notice,
        format!(
            "Retrying failed actions of production-approval in {PIPELINE} (execution {})",
            latest.id
        )
    );
    settle(&emu);
    let again = approve_op(&clients, "fine", true).await;
    ops::run(&clients, &again).await.unwrap();
    settle(&emu);
    assert_eq!(
        reads::executions(&clients, PIPELINE).await.unwrap()[0].status,
        Status::Succeeded
    );

    let rollback = Operation::RollbackStage {
        pipeline: PIPELINE.into(),
        stage: "release".into(),
        target_execution_id: good.clone(),
    };
    let notice = ops::run(&clients, &rollback).await.unwrap();
    assert!(
        notice.starts_with(&format!(
            "Rolling back release of {PIPELINE} to execution {good}"
        )),
        "{notice}"
    );
    settle(&emu);
    let newest = reads::executions(&clients, PIPELINE).await.unwrap()[0].clone();
    assert_eq!(newest.execution_type.as_deref(), Some("ROLLBACK"));
    assert_eq!(newest.trigger_type.as_deref(), Some("ManualRollback"));

    let bad = Operation::RollbackStage {
        pipeline: PIPELINE.into(),
        stage: "source".into(),
        target_execution_id: good,
    };
    let err = ops::run(&clients, &bad).await.unwrap_err();
    assert_eq!(service_code(&err), "UnableToRollbackStageException");
}

#[tokio::test]
async fn transitions_and_stopping_executions() {
    let (emu, clients) = setup();
    create(&emu, &clients).await;
    let disable = Operation::DisableTransition {
        pipeline: PIPELINE.into(),
        stage: "release".into(),
        reason: "Release freeze".into(),
    };
    let notice = ops::run(&clients, &disable).await.unwrap();
    assert_eq!(
        notice,
        format!("Disabled the transition into release of {PIPELINE}")
    );
    let d = reads::pipeline(&clients, PIPELINE).await.unwrap();
    let t = &d.stages[2].inbound_transition;
    assert!(!t.enabled);
    assert_eq!(t.reason.as_deref(), Some("Release freeze"));
    let enable = Operation::EnableTransition {
        pipeline: PIPELINE.into(),
        stage: "release".into(),
    };
    let notice = ops::run(&clients, &enable).await.unwrap();
    assert_eq!(
        notice,
        format!("Enabled the transition into release of {PIPELINE}")
    );
    assert!(
        reads::pipeline(&clients, PIPELINE).await.unwrap().stages[2]
            .inbound_transition
            .enabled
    );

    let running = reads::executions(&clients, PIPELINE).await.unwrap()[0]
        .id
        .clone();
    let stop = Operation::StopExecution {
        pipeline: PIPELINE.into(),
        execution_id: running.clone(),
        abandon: true,
        reason: "bad build".into(),
    };
    let notice = ops::run(&clients, &stop).await.unwrap();
    assert_eq!(
        notice,
        format!("Abandoning execution {running} of {PIPELINE}")
    );
    settle(&emu);
    assert_eq!(
        reads::executions(&clients, PIPELINE).await.unwrap()[0].status,
        Status::Stopped
    );
    let err = ops::run(&clients, &stop).await.unwrap_err();
    assert_eq!(
        service_code(&err),
        "PipelineExecutionNotStoppableException",
        "{err}"
    );

    let unknown = Operation::StartExecution {
        pipeline: "nope".into(),
    };
    let err = ops::run(&clients, &unknown).await.unwrap_err();
    assert_eq!(service_code(&err), "PipelineNotFoundException");
}

#[tokio::test]
async fn many_pipelines_keep_their_order_and_throttling_is_typed() {
    let (emu, clients) = setup();
    for i in 0..12 {
        let mut d = declaration();
        d.name = format!("p{i:02}");
        clients
            .codepipeline
            .create_pipeline()
            .pipeline(d)
            .send()
            .await
            .unwrap();
    }
    settle(&emu);
    let names: Vec<_> = reads::pipelines(&clients)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    let listed: Vec<String> = clients
        .codepipeline
        .list_pipelines()
        .send()
        .await
        .unwrap()
        .pipelines()
        .iter()
        .map(|p| p.name().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 12);
    assert_eq!(
        names, listed,
        "ListPipelines order, whatever finished first"
    );

    emu.faults.set(
        pipetui_emulator::protocol::ServiceId::CodePipeline,
        Some("GetPipelineState"),
        pipetui_emulator::faults::Fault {
            throttle: 1.0,
            ..Default::default()
        },
    );
    let err = reads::pipelines(&clients).await.unwrap_err();
    assert_eq!(err.to_string(), "ThrottlingException: Rate exceeded");
}
