//! CodePipeline in the emulator through the real SDK (in-process, manual clock, no sleeping):
//! API and errors, the engine with git sources, manual approvals and Lambda invokes, stage
//! transitions, execution modes, stop, retry, rollback, restart and change detection.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_codepipeline::Client;
use aws_sdk_codepipeline::types::{
    ActionCategory, ActionDeclaration, ActionExecution, ActionOwner, ActionTypeId, ApprovalResult,
    ApprovalStatus, ArtifactStore, ArtifactStoreType, ExecutionMode, InputArtifact, OutputArtifact,
    PipelineDeclaration, PipelineType, PipelineVariable, PipelineVariableDeclaration,
    StageDeclaration, StageRetryMode, StageState, StageTransitionType, Tag,
};
use pipetui::emulator::engine::sample_app::git;
use pipetui::emulator::{Clock, Emulator, EngineSettings};

mod common;
use common::{START, code};

const REPO: &str = "orders";

fn action(
    name: &str,
    category: ActionCategory,
    provider: &str,
    config: &[(&str, &str)],
    io: (&[&str], &[&str]),
    run_order: i32,
) -> ActionDeclaration {
    let mut b = ActionDeclaration::builder()
        .name(name)
        .run_order(run_order)
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
    for i in io.0 {
        b = b.input_artifacts(InputArtifact::builder().name(*i).build().unwrap());
    }
    for o in io.1 {
        b = b.output_artifacts(OutputArtifact::builder().name(*o).build().unwrap());
    }
    b.build().unwrap()
}

fn source() -> ActionDeclaration {
    let mut a = action(
        "Source",
        ActionCategory::Source,
        "CodeCommit",
        &[("RepositoryName", REPO), ("BranchName", "main")],
        (&[], &["SourceOutput"]),
        1,
    );
    a.namespace = Some("SourceVariables".into());
    a
}

fn approval() -> ActionDeclaration {
    action(
        "Approve",
        ActionCategory::Approval,
        "Manual",
        &[
            ("CustomData", "Ship #{SourceVariables.CommitId}?"),
            (
                "NotificationArn",
                "arn:aws:sns:us-east-1:000000000000:approvals",
            ),
            ("ExternalEntityLink", "https://example.com/review"),
        ],
        (&[], &[]),
        1,
    )
}

fn invoke(name: &str, run_order: i32) -> ActionDeclaration {
    action(
        name,
        ActionCategory::Invoke,
        "Lambda",
        &[
            ("FunctionName", "announce"),
            (
                "UserParameters",
                "commit=#{SourceVariables.CommitId} env=#{variables.env}",
            ),
        ],
        (&["SourceOutput"], &[]),
        run_order,
    )
}

fn stage(name: &str, actions: Vec<ActionDeclaration>) -> StageDeclaration {
    let mut b = StageDeclaration::builder().name(name);
    for a in actions {
        b = b.actions(a);
    }
    b.build().unwrap()
}

fn declaration(
    name: &str,
    mode: ExecutionMode,
    stages: Vec<StageDeclaration>,
) -> PipelineDeclaration {
    let mut b = PipelineDeclaration::builder()
        .name(name)
        .role_arn("arn:aws:iam::000000000000:role/pipeline")
        .artifact_store(
            ArtifactStore::builder()
                .r#type(ArtifactStoreType::S3)
                .location("artifacts")
                .build()
                .unwrap(),
        )
        .pipeline_type(PipelineType::V2)
        .execution_mode(mode)
        .variables(
            PipelineVariableDeclaration::builder()
                .name("env")
                .default_value("staging")
                .build()
                .unwrap(),
        );
    for s in stages {
        b = b.stages(s);
    }
    b.build().unwrap()
}

/// Source → Approval → Release (Lambda invoke).
fn standard(name: &str, mode: ExecutionMode) -> PipelineDeclaration {
    declaration(
        name,
        mode,
        vec![
            stage("Source", vec![source()]),
            stage("Approval", vec![approval()]),
            stage("Release", vec![invoke("Announce", 1)]),
        ],
    )
}

struct Env {
    emu: Arc<Emulator>,
    c: Client,
    _dir: Option<tempfile::TempDir>,
}

fn setup() -> Env {
    let emu = common::emulator();
    let c = Client::new(&common::sdk_config(&emu));
    Env { emu, c, _dir: None }
}

impl Env {
    fn settle(&self) {
        assert!(self.emu.settle(Duration::from_secs(30)), "engine settled");
    }

    fn repo(&self) -> std::path::PathBuf {
        self.emu.settings.source_repo(REPO).unwrap()
    }

    fn commit(&self, message: &str) -> String {
        let repo = self.repo();
        std::fs::write(repo.join("CHANGES.txt"), message).unwrap();
        git(&repo, &["add", "-A"]).unwrap();
        git(&repo, &["commit", "-q", "-m", message]).unwrap();
        git(&repo, &["rev-parse", "HEAD"])
            .unwrap()
            .trim()
            .to_string()
    }

    async fn create(&self, p: PipelineDeclaration) {
        self.c.create_pipeline().pipeline(p).send().await.unwrap();
    }

    async fn stage(&self, pipeline: &str, stage: &str) -> StageState {
        let s = self
            .c
            .get_pipeline_state()
            .name(pipeline)
            .send()
            .await
            .unwrap();
        s.stage_states()
            .iter()
            .find(|s| s.stage_name() == Some(stage))
            .cloned()
            .unwrap()
    }

    async fn action(&self, pipeline: &str, stage: &str, action: &str) -> ActionExecution {
        self.stage(pipeline, stage)
            .await
            .action_states()
            .iter()
            .find(|a| a.action_name() == Some(action))
            .and_then(|a| a.latest_execution().cloned())
            .unwrap()
    }

    async fn token(&self, pipeline: &str) -> String {
        let a = self.action(pipeline, "Approval", "Approve").await;
        assert_eq!(a.status().unwrap().as_str(), "InProgress");
        a.token().unwrap().to_string()
    }

    async fn answer(&self, pipeline: &str, token: &str, approve: bool) -> Result<(), String> {
        let status = if approve {
            ApprovalStatus::Approved
        } else {
            ApprovalStatus::Rejected
        };
        let r = self
            .c
            .put_approval_result()
            .pipeline_name(pipeline)
            .stage_name("Approval")
            .action_name("Approve")
            .token(token)
            .result(
                ApprovalResult::builder()
                    .summary("reviewed")
                    .status(status)
                    .build()
                    .unwrap(),
            )
            .send()
            .await;
        r.map(drop).map_err(|e| code(Err::<(), _>(e)))
    }

    /// Answers the open approval of `stage` in pipeline "web", then settles.
    async fn decide(&self, stage: &str, approve: bool) {
        let a = self.action("web", stage, "Approve").await;
        let status = if approve {
            ApprovalStatus::Approved
        } else {
            ApprovalStatus::Rejected
        };
        let result = ApprovalResult::builder()
            .summary("ok")
            .status(status)
            .build()
            .unwrap();
        self.c
            .put_approval_result()
            .pipeline_name("web")
            .stage_name(stage)
            .action_name("Approve")
            .token(a.token().unwrap())
            .result(result)
            .send()
            .await
            .unwrap();
        self.settle();
    }

    /// Execution ids with their status, newest first.
    async fn executions(&self, pipeline: &str) -> Vec<(String, String)> {
        let out = self
            .c
            .list_pipeline_executions()
            .pipeline_name(pipeline)
            .send()
            .await
            .unwrap();
        out.pipeline_execution_summaries()
            .iter()
            .map(|s| {
                (
                    s.pipeline_execution_id().unwrap().to_string(),
                    s.status().unwrap().as_str().to_string(),
                )
            })
            .collect()
    }
}

#[tokio::test]
async fn pipeline_crud_versions_tags_and_errors() {
    let env = setup();
    let c = &env.c;
    let out = c
        .create_pipeline()
        .pipeline(standard("web", ExecutionMode::Superseded))
        .tags(Tag::builder().key("team").value("orders").build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(out.pipeline().unwrap().version(), Some(1));
    let again = c
        .create_pipeline()
        .pipeline(standard("web", ExecutionMode::Superseded))
        .send()
        .await;
    assert_eq!(code(again), "PipelineNameInUseException");
    let bad = declaration(
        "bad",
        ExecutionMode::Superseded,
        vec![
            stage("Release", vec![invoke("A", 1)]),
            stage("Source", vec![source()]),
        ],
    );
    assert_eq!(
        code(c.create_pipeline().pipeline(bad).send().await),
        "InvalidStructureException"
    );

    let got = c.get_pipeline().name("web").send().await.unwrap();
    let meta = got.metadata().unwrap();
    assert_eq!(
        meta.pipeline_arn(),
        Some("arn:aws:codepipeline:us-east-1:000000000000:web")
    );
    assert_eq!(meta.created().unwrap().secs(), START as i64);
    let mut decl = got.pipeline().unwrap().clone();
    assert_eq!(decl.stages().len(), 3);
    assert_eq!(decl.execution_mode().unwrap().as_str(), "SUPERSEDED");

    env.emu.clock.advance(60.0);
    decl.stages.pop();
    let updated = c.update_pipeline().pipeline(decl).send().await.unwrap();
    assert_eq!(updated.pipeline().unwrap().version(), Some(2));
    let v1 = c
        .get_pipeline()
        .name("web")
        .version(1)
        .send()
        .await
        .unwrap();
    assert_eq!(v1.pipeline().unwrap().stages().len(), 3);
    let now = c.get_pipeline().name("web").send().await.unwrap();
    assert_eq!(now.pipeline().unwrap().stages().len(), 2);
    assert_eq!(
        now.metadata().unwrap().updated().unwrap().secs(),
        START as i64 + 60
    );
    let missing = c.get_pipeline().name("web").version(9).send().await;
    assert_eq!(code(missing), "PipelineVersionNotFoundException");
    assert_eq!(
        code(c.get_pipeline().name("nope").send().await),
        "PipelineNotFoundException"
    );
    assert_eq!(
        code(c.get_pipeline_state().name("nope").send().await),
        "PipelineNotFoundException"
    );

    let list = c.list_pipelines().send().await.unwrap();
    let summary = &list.pipelines()[0];
    assert_eq!((summary.name(), summary.version()), (Some("web"), Some(2)));
    assert_eq!(summary.pipeline_type().unwrap().as_str(), "V2");

    let arn = "arn:aws:codepipeline:us-east-1:000000000000:web";
    c.tag_resource()
        .resource_arn(arn)
        .tags(
            Tag::builder()
                .key("pipetui:trigger")
                .value("manual")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    c.untag_resource()
        .resource_arn(arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = tags.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["pipetui:trigger"]);
    let other = c
        .list_tags_for_resource()
        .resource_arn("arn:aws:codepipeline:us-east-1:000000000000:x");
    assert_eq!(code(other.send().await), "ResourceNotFoundException");

    c.delete_pipeline().name("web").send().await.unwrap();
    assert_eq!(
        code(c.get_pipeline().name("web").send().await),
        "PipelineNotFoundException"
    );
    assert!(
        c.list_pipelines()
            .send()
            .await
            .unwrap()
            .pipelines()
            .is_empty()
    );
}

#[tokio::test]
async fn source_approval_invoke_release_with_variables_and_notification() {
    let env = setup();
    env.create(standard("web", ExecutionMode::Superseded)).await;
    let head = git(&env.repo(), &["rev-parse", "HEAD"])
        .unwrap()
        .trim()
        .to_string();
    env.settle();
    let execs = env.executions("web").await;
    assert_eq!(
        execs.len(),
        1,
        "creating a pipeline starts its first execution"
    );
    let id = execs[0].0.clone();
    let e = env
        .c
        .get_pipeline_execution()
        .pipeline_name("web")
        .pipeline_execution_id(&id)
        .send()
        .await
        .unwrap();
    let e = e.pipeline_execution().unwrap();
    assert_eq!(
        e.trigger().unwrap().trigger_type().unwrap().as_str(),
        "CreatePipeline"
    );
    let rev = &e.artifact_revisions()[0];
    assert_eq!(rev.revision_id(), Some(head.as_str()));
    assert_eq!(
        rev.revision_summary(),
        Some("Initial commit of the orders sample app")
    );
    assert_eq!(e.variables()[0].resolved_value(), Some("staging"));

    let src = env.stage("web", "Source").await;
    assert_eq!(
        src.latest_execution().unwrap().status().as_str(),
        "Succeeded"
    );
    assert_eq!(
        src.action_states()[0]
            .current_revision()
            .unwrap()
            .revision_id(),
        head
    );
    let pending = env.action("web", "Approval", "Approve").await;
    assert_eq!(pending.summary(), Some(format!("Ship {head}?").as_str()));
    let token = env.token("web").await;

    let notes = env
        .emu
        .store
        .read(|tx| tx.records("codepipeline", "notifications", 0.0, f64::MAX))
        .unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(
        notes[0].body["subject"],
        "APPROVAL NEEDED: AWS CodePipeline web for action Approve"
    );
    assert!(notes[0].body["message"].as_str().unwrap().contains(&token));

    let wrong = "00000000-0000-0000-0000-000000000000";
    assert_eq!(
        env.answer("web", wrong, true).await,
        Err("InvalidApprovalTokenException".into())
    );
    env.emu.clock.advance(30.0);
    env.answer("web", &token, true).await.unwrap();
    assert_eq!(
        env.answer("web", &token, false).await,
        Err("ApprovalAlreadyCompletedException".into())
    );
    env.settle();
    assert_eq!(env.executions("web").await[0].1, "Succeeded");
    let approved = env.action("web", "Approval", "Approve").await;
    assert_eq!(
        (approved.status().unwrap().as_str(), approved.summary()),
        ("Succeeded", Some("reviewed"))
    );
    assert!(approved.token().is_none());

    let details = env
        .c
        .list_action_executions()
        .pipeline_name("web")
        .send()
        .await
        .unwrap();
    let announce = details
        .action_execution_details()
        .iter()
        .find(|d| d.action_name() == Some("Announce"))
        .unwrap();
    let input = announce.input().unwrap();
    assert_eq!(
        input.resolved_configuration().unwrap()["UserParameters"],
        format!("commit={head} env=staging")
    );
    assert_eq!(
        input.input_artifacts()[0].s3_location().unwrap().bucket(),
        Some("artifacts")
    );
    let key = input.input_artifacts()[0]
        .s3_location()
        .unwrap()
        .key()
        .unwrap();
    assert!(
        key.starts_with("web/SourceOutp/") && key.len() == "web/SourceOutp/".len() + 7,
        "{key}"
    );
    let dir = env.emu.settings.s3_dir("artifacts", key);
    assert!(
        dir.join("appspec.yml").is_file(),
        "the source artifact holds the checked-out tree"
    );
    let source_run = details
        .action_execution_details()
        .iter()
        .find(|d| d.action_name() == Some("Source"))
        .unwrap();
    let vars = source_run.output().unwrap().output_variables().unwrap();
    assert_eq!(vars["CommitId"], head);
    assert_eq!(vars["BranchName"], "main");

    let logs = aws_sdk_cloudwatchlogs::Client::new(&common::sdk_config(&env.emu));
    let events = logs
        .filter_log_events()
        .log_group_name("/aws/lambda/announce")
        .send()
        .await
        .unwrap();
    let lines: Vec<_> = events.events().iter().filter_map(|e| e.message()).collect();
    assert!(lines[0].starts_with("START RequestId: "), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("commit={head} env=staging")))
    );
    assert!(lines.iter().any(|l| l.starts_with("REPORT RequestId: ")));
}

#[tokio::test]
async fn rejection_and_timeout_fail_the_execution() {
    let env = setup();
    env.create(standard("web", ExecutionMode::Queued)).await;
    env.settle();
    let token = env.token("web").await;
    env.answer("web", &token, false).await.unwrap();
    env.settle();
    assert_eq!(env.executions("web").await[0].1, "Failed");
    let a = env.action("web", "Approval", "Approve").await;
    assert_eq!(a.status().unwrap().as_str(), "Failed");
    assert!(
        a.error_details()
            .unwrap()
            .message()
            .unwrap()
            .contains("reviewed")
    );
    assert_eq!(
        env.stage("web", "Approval")
            .await
            .latest_execution()
            .unwrap()
            .status()
            .as_str(),
        "Failed"
    );

    env.c
        .start_pipeline_execution()
        .name("web")
        .send()
        .await
        .unwrap();
    env.settle();
    let token = env.token("web").await;
    env.emu.clock.advance(7.0 * 86_400.0 - 60.0);
    env.settle();
    assert_eq!(
        env.executions("web").await[0].1,
        "InProgress",
        "not expired before 7 days"
    );
    env.emu.clock.advance(61.0);
    env.settle();
    assert_eq!(env.executions("web").await[0].1, "Failed");
    let a = env.action("web", "Approval", "Approve").await;
    assert!(
        a.error_details()
            .unwrap()
            .message()
            .unwrap()
            .contains("expired")
    );
    assert_eq!(
        env.answer("web", &token, true).await,
        Err("InvalidApprovalTokenException".into())
    );
}

#[tokio::test]
async fn a_disabled_transition_holds_executions_until_enabled() {
    let env = setup();
    env.create(standard("web", ExecutionMode::Superseded)).await;
    env.c
        .disable_stage_transition()
        .pipeline_name("web")
        .stage_name("Approval")
        .transition_type(StageTransitionType::Inbound)
        .reason("Release freeze")
        .send()
        .await
        .unwrap();
    env.settle();
    let s = env.stage("web", "Approval").await;
    let t = s.inbound_transition_state().unwrap();
    assert_eq!(
        (t.enabled(), t.disabled_reason()),
        (false, Some("Release freeze"))
    );
    assert!(s.latest_execution().is_none(), "held before the stage");
    let waiting = s
        .inbound_execution()
        .unwrap()
        .pipeline_execution_id()
        .to_string();
    assert_eq!(
        env.executions("web").await[0],
        (waiting.clone(), "InProgress".into())
    );
    let bad = env
        .c
        .disable_stage_transition()
        .pipeline_name("web")
        .stage_name("Nope")
        .transition_type(StageTransitionType::Inbound)
        .reason("x")
        .send()
        .await;
    assert_eq!(code(bad), "StageNotFoundException");

    env.c
        .enable_stage_transition()
        .pipeline_name("web")
        .stage_name("Approval")
        .transition_type(StageTransitionType::Inbound)
        .send()
        .await
        .unwrap();
    env.settle();
    let s = env.stage("web", "Approval").await;
    assert!(s.inbound_transition_state().unwrap().enabled());
    assert_eq!(
        s.latest_execution().unwrap().pipeline_execution_id(),
        waiting
    );
    env.token("web").await;
}

#[tokio::test]
async fn superseded_mode_replaces_the_waiting_execution() {
    let env = setup();
    env.create(standard("web", ExecutionMode::Superseded)).await;
    env.settle();
    let first = env.token("web").await;
    env.commit("second");
    env.settle();
    env.commit("third");
    env.settle();
    let execs = env.executions("web").await;
    let statuses: Vec<_> = execs.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(statuses, ["InProgress", "Superseded", "InProgress"]);
    let newest = execs[0].0.clone();
    let s = env.stage("web", "Approval").await;
    assert_eq!(
        s.inbound_execution().unwrap().pipeline_execution_id(),
        newest
    );
    env.answer("web", &first, true).await.unwrap();
    env.settle();
    let s = env.stage("web", "Approval").await;
    assert_eq!(
        s.latest_execution().unwrap().pipeline_execution_id(),
        newest
    );
    let statuses: Vec<_> = env
        .executions("web")
        .await
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(statuses, ["InProgress", "Superseded", "Succeeded"]);
}

#[tokio::test]
async fn queued_mode_runs_every_execution_in_order() {
    let env = setup();
    env.create(standard("web", ExecutionMode::Queued)).await;
    env.settle();
    let first = env.token("web").await;
    let second_commit = env.commit("second");
    env.settle();
    env.commit("third");
    env.settle();
    let statuses: Vec<_> = env
        .executions("web")
        .await
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(statuses, ["InProgress", "InProgress", "InProgress"]);
    assert_eq!(
        env.stage("web", "Approval")
            .await
            .inbound_executions()
            .len(),
        2
    );
    env.answer("web", &first, true).await.unwrap();
    env.settle();
    let second = env.executions("web").await[1].0.clone();
    let s = env.stage("web", "Approval").await;
    assert_eq!(
        s.latest_execution().unwrap().pipeline_execution_id(),
        second,
        "the older queued one goes next"
    );
    let a = env.action("web", "Approval", "Approve").await;
    assert_eq!(a.summary(), Some(format!("Ship {second_commit}?").as_str()));
    let token = env.token("web").await;
    env.answer("web", &token, true).await.unwrap();
    env.settle();
    let token = env.token("web").await;
    env.answer("web", &token, true).await.unwrap();
    env.settle();
    let statuses: Vec<_> = env
        .executions("web")
        .await
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(statuses, ["Succeeded", "Succeeded", "Succeeded"]);
}

#[tokio::test]
async fn stop_and_abandon_and_stop_and_wait() {
    let env = setup();
    env.create(standard("web", ExecutionMode::Queued)).await;
    env.settle();
    let id = env.executions("web").await[0].0.clone();
    let stop = |abandon: bool| {
        env.c
            .stop_pipeline_execution()
            .pipeline_name("web")
            .pipeline_execution_id(&id)
            .abandon(abandon)
            .reason("bad build")
    };
    stop(true).send().await.unwrap();
    env.settle();
    assert_eq!(env.executions("web").await[0].1, "Stopped");
    assert_eq!(
        env.action("web", "Approval", "Approve")
            .await
            .status()
            .unwrap()
            .as_str(),
        "Abandoned"
    );
    assert_eq!(
        env.stage("web", "Approval")
            .await
            .latest_execution()
            .unwrap()
            .status()
            .as_str(),
        "Stopped"
    );
    assert_eq!(
        code(stop(true).send().await),
        "PipelineExecutionNotStoppableException"
    );
    let listed = env
        .c
        .list_pipeline_executions()
        .pipeline_name("web")
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.pipeline_execution_summaries()[0]
            .stop_trigger()
            .unwrap()
            .reason(),
        Some("bad build")
    );

    let id = env
        .c
        .start_pipeline_execution()
        .name("web")
        .send()
        .await
        .unwrap()
        .pipeline_execution_id()
        .unwrap()
        .to_string();
    env.settle();
    let token = env.token("web").await;
    let wait = || {
        env.c
            .stop_pipeline_execution()
            .pipeline_name("web")
            .pipeline_execution_id(&id)
    };
    wait().send().await.unwrap();
    env.settle();
    assert_eq!(
        env.executions("web").await[0].1,
        "Stopping",
        "waits for the running approval"
    );
    assert_eq!(code(wait().send().await), "DuplicatedStopRequestException");
    env.answer("web", &token, true).await.unwrap();
    env.settle();
    assert_eq!(env.executions("web").await[0].1, "Stopped");
    let release = env.stage("web", "Release").await;
    assert!(
        release.latest_execution().is_none(),
        "no new action starts after a stop"
    );
}

#[tokio::test]
async fn retry_failed_actions_and_all_actions() {
    let env = setup();
    // Check (Lambda, runOrder 1) then Approve (runOrder 2) in the same stage.
    let gate = stage(
        "Approval",
        vec![invoke("Check", 1), {
            let mut a = approval();
            a.run_order = Some(2);
            a
        }],
    );
    let p = declaration(
        "web",
        ExecutionMode::Superseded,
        vec![stage("Source", vec![source()]), gate],
    );
    env.create(p).await;
    env.settle();
    let id = env.executions("web").await[0].0.clone();
    let retry = |mode: StageRetryMode| {
        env.c
            .retry_stage_execution()
            .pipeline_name("web")
            .stage_name("Approval")
            .pipeline_execution_id(&id)
            .retry_mode(mode)
    };
    assert_eq!(
        code(retry(StageRetryMode::FailedActions).send().await),
        "StageNotRetryableException"
    );
    let token = env.token("web").await;
    env.answer("web", &token, false).await.unwrap();
    env.settle();
    let checks = || async {
        let d = env
            .c
            .list_action_executions()
            .pipeline_name("web")
            .send()
            .await
            .unwrap();
        d.action_execution_details()
            .iter()
            .filter(|d| d.action_name() == Some("Check"))
            .count()
    };
    assert_eq!(checks().await, 1);

    let out = retry(StageRetryMode::FailedActions).send().await.unwrap();
    assert_eq!(
        out.pipeline_execution_id(),
        Some(id.as_str()),
        "a retry keeps the execution id"
    );
    env.settle();
    assert_eq!(env.executions("web").await[0].1, "InProgress");
    let second = env.token("web").await;
    assert_ne!(second, token, "a retried approval is a new request");
    assert_eq!(
        checks().await,
        1,
        "FAILED_ACTIONS re-runs only the failed action"
    );
    let s = env.stage("web", "Approval").await;
    assert_eq!(
        s.retry_stage_metadata()
            .unwrap()
            .manual_stage_retry_attempt(),
        Some(1)
    );
    env.answer("web", &second, false).await.unwrap();
    env.settle();

    retry(StageRetryMode::AllActions).send().await.unwrap();
    env.settle();
    assert_eq!(checks().await, 2, "ALL_ACTIONS starts the stage over");
    let third = env.token("web").await;
    env.answer("web", &third, true).await.unwrap();
    env.settle();
    assert_eq!(env.executions("web").await[0].1, "Succeeded");
    assert_eq!(
        code(retry(StageRetryMode::FailedActions).send().await),
        "StageNotRetryableException"
    );

    // A later execution that reaches the stage makes the older one's retry out of date.
    let later = env
        .c
        .start_pipeline_execution()
        .name("web")
        .send()
        .await
        .unwrap();
    env.settle();
    let token = env.token("web").await;
    env.answer("web", &token, false).await.unwrap();
    env.settle();
    let newer = later.pipeline_execution_id().unwrap().to_string();
    let stale = env
        .c
        .retry_stage_execution()
        .pipeline_name("web")
        .stage_name("Approval")
        .pipeline_execution_id(&id)
        .retry_mode(StageRetryMode::FailedActions)
        .send()
        .await;
    assert_eq!(
        code(stale),
        "StageNotRetryableException",
        "the old execution succeeded there"
    );
    let ok = env
        .c
        .retry_stage_execution()
        .pipeline_name("web")
        .stage_name("Approval")
        .pipeline_execution_id(&newer)
        .retry_mode(StageRetryMode::FailedActions)
        .send()
        .await;
    assert!(ok.is_ok());
}

#[tokio::test]
async fn rollback_stage_manually_and_automatically() {
    let env = setup();
    let mut release = stage("Release", vec![approval(), invoke("Announce", 2)]);
    release.on_failure = Some(
        aws_sdk_codepipeline::types::FailureConditions::builder()
            .result(aws_sdk_codepipeline::types::Result::Rollback)
            .build(),
    );
    let p = declaration(
        "web",
        ExecutionMode::Superseded,
        vec![stage("Source", vec![source()]), release],
    );
    env.create(p).await;
    env.settle();
    env.decide("Release", true).await;
    let good = env.executions("web").await[0].0.clone();
    let first_commit = git(&env.repo(), &["rev-parse", "HEAD"])
        .unwrap()
        .trim()
        .to_string();
    env.commit("second");
    env.settle();
    env.decide("Release", true).await;
    let execs = env.executions("web").await;
    assert_eq!(execs.iter().filter(|e| e.1 == "Succeeded").count(), 2);

    let rb = |stage: &str, target: &str| {
        env.c
            .rollback_stage()
            .pipeline_name("web")
            .stage_name(stage)
            .target_pipeline_execution_id(target)
    };
    assert_eq!(
        code(rb("Source", &good).send().await),
        "UnableToRollbackStageException"
    );
    assert_eq!(
        code(rb("Nope", &good).send().await),
        "StageNotFoundException"
    );
    let unknown = "11111111-1111-1111-1111-111111111111";
    assert_eq!(
        code(rb("Release", unknown).send().await),
        "PipelineExecutionNotFoundException"
    );
    let id = rb("Release", &good)
        .send()
        .await
        .unwrap()
        .pipeline_execution_id()
        .to_string();
    env.settle();
    env.decide("Release", true).await;
    let e = env
        .c
        .get_pipeline_execution()
        .pipeline_name("web")
        .pipeline_execution_id(&id)
        .send()
        .await
        .unwrap();
    let e = e.pipeline_execution().unwrap();
    assert_eq!(e.execution_type().unwrap().as_str(), "ROLLBACK");
    assert_eq!(
        e.trigger().unwrap().trigger_type().unwrap().as_str(),
        "ManualRollback"
    );
    assert_eq!(
        e.rollback_metadata()
            .unwrap()
            .rollback_target_pipeline_execution_id(),
        Some(good.as_str())
    );
    assert_eq!(e.status().unwrap().as_str(), "Succeeded");
    assert_eq!(
        e.artifact_revisions()[0].revision_id(),
        Some(first_commit.as_str()),
        "the target's revision"
    );
    assert_eq!(
        code(rb("Release", &id).send().await),
        "UnableToRollbackStageException",
        "a rollback is no target"
    );

    // A rejected release rolls back on its own to the last execution that succeeded there.
    env.commit("third");
    env.settle();
    env.decide("Release", false).await;
    let summaries = env
        .c
        .list_pipeline_executions()
        .pipeline_name("web")
        .send()
        .await
        .unwrap();
    let newest = &summaries.pipeline_execution_summaries()[0];
    assert_eq!(newest.execution_type().unwrap().as_str(), "ROLLBACK");
    assert_eq!(
        newest.trigger().unwrap().trigger_type().unwrap().as_str(),
        "AutomatedRollback"
    );
    assert_eq!(
        summaries.pipeline_execution_summaries()[1]
            .status()
            .unwrap()
            .as_str(),
        "Failed"
    );
    assert_eq!(
        newest.status().unwrap().as_str(),
        "InProgress",
        "the rollback waits for its own approval"
    );
}

#[tokio::test]
async fn a_restart_fails_running_actions_visibly_and_retry_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        Emulator::open_with(
            dir.path(),
            Clock::manual(START),
            EngineSettings::new(dir.path().to_path_buf()),
        )
        .unwrap()
    };
    let emu = open();
    let c = Client::new(&common::sdk_config(&emu));
    let env = Env { emu, c, _dir: None };
    env.create(standard("web", ExecutionMode::Superseded)).await;
    env.settle();
    let id = env.executions("web").await[0].0.clone();
    env.token("web").await;
    drop(env);

    let emu = open();
    let c = Client::new(&common::sdk_config(&emu));
    let env = Env { emu, c, _dir: None };
    let e = env
        .c
        .get_pipeline_execution()
        .pipeline_name("web")
        .pipeline_execution_id(&id)
        .send()
        .await
        .unwrap();
    let e = e.pipeline_execution().unwrap();
    assert_eq!(e.status().unwrap().as_str(), "Failed");
    assert_eq!(
        e.status_summary(),
        Some(pipetui::emulator::services::codepipeline::RESTARTED)
    );
    let a = env.action("web", "Approval", "Approve").await;
    assert_eq!(
        a.error_details().unwrap().message(),
        Some(pipetui::emulator::services::codepipeline::RESTARTED)
    );
    env.c
        .retry_stage_execution()
        .pipeline_name("web")
        .stage_name("Approval")
        .pipeline_execution_id(&id)
        .retry_mode(StageRetryMode::FailedActions)
        .send()
        .await
        .unwrap();
    env.settle();
    let token = env.token("web").await;
    env.answer("web", &token, true).await.unwrap();
    env.settle();
    assert_eq!(
        env.executions("web").await[0],
        (id, "Succeeded".to_string())
    );
}

#[tokio::test]
async fn commits_trigger_executions_unless_the_pipeline_is_tagged_manual() {
    let env = setup();
    env.create(standard("web", ExecutionMode::Parallel)).await;
    let manual = standard("manual", ExecutionMode::Parallel);
    env.c
        .create_pipeline()
        .pipeline(manual)
        .tags(
            Tag::builder()
                .key("pipetui:trigger")
                .value("manual")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    env.settle();
    let commit = env.commit("fix the orders total");
    env.settle();
    let out = env
        .c
        .list_pipeline_executions()
        .pipeline_name("web")
        .send()
        .await
        .unwrap();
    let newest = &out.pipeline_execution_summaries()[0];
    let trigger = newest.trigger().unwrap();
    assert_eq!(trigger.trigger_type().unwrap().as_str(), "CloudWatchEvent");
    assert_eq!(trigger.trigger_detail(), Some(commit.as_str()));
    assert_eq!(
        newest.source_revisions()[0].revision_summary(),
        Some("fix the orders total")
    );
    assert_eq!(out.pipeline_execution_summaries().len(), 2);
    assert_eq!(
        env.executions("manual").await.len(),
        1,
        "only the CreatePipeline execution"
    );
    // PARALLEL: both executions wait at their own approval, tokens only via ListActionExecutions.
    let a = env.action("web", "Approval", "Approve").await;
    assert!(a.token().is_none());
    assert_eq!(
        env.executions("web")
            .await
            .iter()
            .filter(|e| e.1 == "InProgress")
            .count(),
        2
    );
}

#[tokio::test]
async fn start_with_variables_source_revision_and_idempotency_token() {
    let env = setup();
    env.create(standard("web", ExecutionMode::Parallel)).await;
    env.settle();
    let first = git(&env.repo(), &["rev-parse", "HEAD"])
        .unwrap()
        .trim()
        .to_string();
    env.commit("second");
    let start = || {
        env.c
            .start_pipeline_execution()
            .name("web")
            .client_request_token("once")
            .variables(
                PipelineVariable::builder()
                    .name("env")
                    .value("prod")
                    .build()
                    .unwrap(),
            )
            .source_revisions(
                aws_sdk_codepipeline::types::SourceRevisionOverride::builder()
                    .action_name("Source")
                    .revision_type(aws_sdk_codepipeline::types::SourceRevisionType::CommitId)
                    .revision_value(&first)
                    .build()
                    .unwrap(),
            )
    };
    let a = start()
        .send()
        .await
        .unwrap()
        .pipeline_execution_id()
        .unwrap()
        .to_string();
    let b = start()
        .send()
        .await
        .unwrap()
        .pipeline_execution_id()
        .unwrap()
        .to_string();
    assert_eq!(a, b, "the same clientRequestToken starts one execution");
    env.settle();
    let e = env
        .c
        .get_pipeline_execution()
        .pipeline_name("web")
        .pipeline_execution_id(&a)
        .send()
        .await
        .unwrap();
    let e = e.pipeline_execution().unwrap();
    assert_eq!(
        e.artifact_revisions()[0].revision_id(),
        Some(first.as_str())
    );
    assert_eq!(e.variables()[0].resolved_value(), Some("prod"));
    let undeclared = env
        .c
        .start_pipeline_execution()
        .name("web")
        .variables(
            PipelineVariable::builder()
                .name("nope")
                .value("x")
                .build()
                .unwrap(),
        )
        .send()
        .await;
    assert_eq!(code(undeclared), "ValidationException");
    let page = env
        .c
        .list_pipeline_executions()
        .pipeline_name("web")
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.pipeline_execution_summaries().len(), 1);
    let next = page.next_token().unwrap();
    let rest = env
        .c
        .list_pipeline_executions()
        .pipeline_name("web")
        .next_token(next)
        .send()
        .await
        .unwrap();
    assert!(!rest.pipeline_execution_summaries().is_empty());
    let bad = env
        .c
        .list_pipeline_executions()
        .pipeline_name("web")
        .next_token("garbage")
        .send()
        .await;
    assert_eq!(code(bad), "InvalidNextTokenException");
    let missing = env
        .c
        .get_pipeline_execution()
        .pipeline_name("web")
        .pipeline_execution_id("11111111-1111-1111-1111-111111111111")
        .send()
        .await;
    assert_eq!(code(missing), "PipelineExecutionNotFoundException");
}

#[tokio::test]
async fn unsupported_providers_fail_with_a_clear_reason() {
    let env = setup();
    let odd = action(
        "Scan",
        ActionCategory::Test,
        "Jenkins",
        &[],
        (&["SourceOutput"], &[]),
        1,
    );
    env.create(declaration(
        "web",
        ExecutionMode::Superseded,
        vec![stage("Source", vec![source()]), stage("Test", vec![odd])],
    ))
    .await;
    env.settle();
    assert_eq!(env.executions("web").await[0].1, "Failed");
    let a = env.action("web", "Test", "Scan").await;
    assert!(
        a.error_details()
            .unwrap()
            .message()
            .unwrap()
            .contains("not supported by the emulator")
    );
}
